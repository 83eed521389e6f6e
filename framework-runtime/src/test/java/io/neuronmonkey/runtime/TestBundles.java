package io.neuronmonkey.runtime;

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

/**
 * Builds real PF4J plugin bundles in a temporary folder, the way the Maven build does: Java sources compiled with
 * javac (PF4J's annotation processor writes the extension index), packed as lib/&lt;id&gt;.jar next to a
 * plugin.properties in a zip.
 */
public final class TestBundles {

    private TestBundles() {
    }

    public static Path bundle(Path pluginsDir, Path work, String properties, Map<String, String> sources) throws IOException {
        String id = properties.lines().filter(l -> l.startsWith("plugin.id=")).map(l -> l.substring(10)).findFirst().orElse("unnamed");
        Path src = Files.createDirectories(work.resolve(id + "-src"));
        Path classes = Files.createDirectories(work.resolve(id + "-classes"));
        List<String> files = new ArrayList<>();
        for (Map.Entry<String, String> e : sources.entrySet()) {
            Path f = src.resolve(e.getKey().replace('.', '/') + ".java");
            Files.createDirectories(f.getParent());
            Files.writeString(f, e.getValue());
            files.add(f.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        List<String> args = new ArrayList<>(List.of("--release", "17", "-proc:full", "-d", classes.toString(), "-classpath",
                jarOf(Analyzer.class) + java.io.File.pathSeparator + jarOf(ExtensionPoint.class)));
        args.addAll(files);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, null, err, args.toArray(String[]::new));
        if (rc != 0 && err.toString().contains("invalid flag: -proc:full")) {
            args.remove("-proc:full");
            err.reset();
            rc = javac.run(null, null, err, args.toArray(String[]::new));
        }
        if (rc != 0) {
            throw new IllegalStateException("javac failed for test plugin " + id + ":\n" + err);
        }
        ByteArrayOutputStream jar = new ByteArrayOutputStream();
        try (JarOutputStream j = new JarOutputStream(jar); Stream<Path> walk = Files.walk(classes)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                j.putNextEntry(new JarEntry(classes.relativize(p).toString().replace('\\', '/')));
                j.write(Files.readAllBytes(p));
                j.closeEntry();
            }
        }
        Files.createDirectories(pluginsDir);
        Path zip = pluginsDir.resolve(id + ".zip");
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

    public static String properties(String id, String version) {
        return "plugin.id=" + id + "\nplugin.version=" + version + "\nplugin.provider=tests\nplugin.description=test plugin " + id
                + "\nplugin.license=Apache-2.0\n";
    }

    static String jarOf(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
