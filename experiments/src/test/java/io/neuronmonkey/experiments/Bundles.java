package io.neuronmonkey.experiments;

import io.neuronmonkey.api.analysis.Analyzer;
import org.pf4j.ExtensionPoint;

import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
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
                + "\n" + extra;
    }

    /** @param sources class name to source */
    static Path zip(Path dir, Path work, String id, String properties, Map<String, String> sources) throws IOException {
        Path src = Files.createDirectories(work.resolve(id + "-src"));
        Path classes = Files.createDirectories(work.resolve(id + "-classes"));
        List<String> args = new ArrayList<>(List.of("--release", "17", "-proc:full", "-d", classes.toString(), "-classpath",
                jarOf(Analyzer.class) + java.io.File.pathSeparator + jarOf(ExtensionPoint.class)));
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path f = src.resolve(e.getKey().replace('.', '/') + ".java");
            Files.createDirectories(f.getParent());
            Files.writeString(f, e.getValue());
            args.add(f.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, null, err, args.toArray(String[]::new));
        if (rc != 0 && err.toString().contains("invalid flag: -proc:full")) {
            args.remove("-proc:full");
            err.reset();
            rc = javac.run(null, null, err, args.toArray(String[]::new));
        }
        if (rc != 0) {
            throw new IllegalStateException("javac failed for " + id + ":\n" + err);
        }
        ByteArrayOutputStream jar = new ByteArrayOutputStream();
        try (JarOutputStream j = new JarOutputStream(jar); Stream<Path> walk = Files.walk(classes)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                j.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                j.write(Files.readAllBytes(p));
                j.closeEntry();
            }
        }
        Path zip = Files.createDirectories(dir).resolve(id + ".zip");
        try (OutputStream out = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(out)) {
            z.putNextEntry(new ZipEntry("plugin.properties"));
            z.write(properties.getBytes(StandardCharsets.UTF_8));
            z.closeEntry();
            z.putNextEntry(new ZipEntry("lib/" + id + ".jar"));
            z.write(jar.toByteArray());
            z.closeEntry();
        }
        return zip;
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

    private static String jarOf(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
