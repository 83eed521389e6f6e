package io.neuronmonkey.experiments;

import io.neuronmonkey.runtime.TestBundles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/** Third-party plugin bundles built as the Maven build builds them: javac (with PF4J's index), a jar in lib/, a zip. */
final class Bundles {

    private Bundles() {
    }

    /** An analyzer named {@code name}; {@code failing} makes its constructor throw. */
    static String analyzer(String pkg, String cls, String name, boolean failing) {
        return """
                package PKG;

                import io.neuronmonkey.api.*;
                import io.neuronmonkey.api.analysis.*;
                import org.pf4j.Extension;

                @Extension
                @ExtensionName("NAME")
                public class CLS implements Analyzer<NoParams> {
                    public CLS() {
                        if (FAILING) {
                            throw new IllegalStateException("licence file not found");
                        }
                    }

                    public AnalysisResult analyze(AnalyzerContext<NoParams> ctx) {
                        return AnalysisResult.builder().put("name", "NAME").build();
                    }
                }
                """.replace("PKG", pkg).replace("CLS", cls).replace("NAME", name).replace("FAILING", Boolean.toString(failing));
    }

    static String properties(String id, String extra) {
        return "plugin.id=" + id + "\nplugin.version=1.0.0\nplugin.provider=someone\nplugin.description=third-party " + id
                + "\nplugin.license=Apache-2.0\n" + extra;
    }

    /** @param sources class name to source; compiled and packed by the runtime's test helper, as the build does */
    static Path zip(Path dir, Path work, String id, String properties, Map<String, String> sources) throws IOException {
        return TestBundles.bundle(dir, work, properties, sources);
    }

    /** A zip of the given entries, whatever their names. */
    static Path rawZip(Path file, Map<String, String> entries) throws IOException {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, String> e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue().getBytes(StandardCharsets.UTF_8));
                z.closeEntry();
            }
        }
        return file;
    }
}
