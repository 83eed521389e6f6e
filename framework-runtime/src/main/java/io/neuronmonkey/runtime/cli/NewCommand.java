package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.NeuronMonkeyException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import javax.lang.model.SourceVersion;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code neuronmonkey new KIND NAME}: a standalone plugin project (the example extension with its params record, a
 * unit test on the test kit, a sample experiment, a README, the Maven wrapper) whose {@code mvn package} makes a
 * bundle the runtime loads. It writes only new files into a new or empty folder, and makes sure the API, the test kit
 * and the plugin parent POM of this NeuronMonkey are in the local Maven repository.
 */
@Command(name = "new", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Create a plugin project: 'new analyzer|visualizer|data-source NAME [--dir DIR]'; then "
                + "'./mvnw package' in it builds the bundle.")
final class NewCommand implements Callable<Integer> {

    /** An extension name: lower-case letters and digits in dash-separated words, starting with a letter. */
    static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*(-[a-z0-9]+)*");

    /** The modules a plugin project builds against, as {@code -pl} names them. */
    static final String MODULES = ".,framework-api,framework-testkit,plugin-parent";

    /** What can be made, with the class name suffix of each. */
    enum Kind {
        ANALYZER("analyzer", "Analyzer", "a streaming analyzer: mean activation and fraction active per neuron of every layer"),
        VISUALIZER("visualizer", "Visualizer", "a visualizer: every neuron table of its input steps as CSV"),
        DATA_SOURCE("data-source", "Source", "a data source: noise images with a bright blob, metadata 'quadrant'");

        final String word;
        final String suffix;
        final String description;

        Kind(String word, String suffix, String description) {
            this.word = word;
            this.suffix = suffix;
            this.description = description;
        }

        static Kind of(String word) {
            for (Kind k : values()) {
                if (k.word.equals(word)) {
                    return k;
                }
            }
            throw new ConfigException("unknown kind '" + word + "'; valid: analyzer, visualizer, data-source");
        }
    }

    @Parameters(index = "0", paramLabel = "KIND", description = "analyzer, visualizer or data-source")
    String kind;

    @Parameters(index = "1", paramLabel = "NAME", description = "the extension name: lower-case letters, digits and dashes, e.g. mean-activation")
    String name;

    @Option(names = "--dir", paramLabel = "DIR", description = "where to create the project (new or empty); default ./NAME")
    Path dir;

    @Option(names = "--no-install", description = "do not install the API and plugin parent POM into the local Maven repository")
    boolean noInstall;

    @Override
    public Integer call() {
        Kind k = Kind.of(kind);
        checkName(name);
        Path target = (dir == null ? Path.of(name) : dir).toAbsolutePath().normalize();
        Path home = Path.of(System.getProperty("neuronmonkey.home", ".")).toAbsolutePath().normalize();
        checkEmpty(target);

        Map<String, String> vars = new LinkedHashMap<>();
        String cls = className(name, k.suffix);
        String pkg = packageName(name);
        vars.put("name", name);
        vars.put("Class", cls);
        vars.put("package", pkg);
        vars.put("packagePath", pkg.replace('.', '/'));
        vars.put("kind", k.word);
        vars.put("description", k.description);
        vars.put("version", Launch.version());
        vars.put("home", home.toString());

        Map<String, String> files = new LinkedHashMap<>();
        files.put("pom.xml", "common/pom.xml.tmpl");
        files.put(".gitignore", "common/gitignore.tmpl");
        files.put("README.md", "common/README.md.tmpl");
        files.put("experiment.yaml", k.word + "/experiment.yaml.tmpl");
        files.put("src/main/java/" + vars.get("packagePath") + "/" + cls + ".java", k.word + "/Main.java.tmpl");
        files.put("src/test/java/" + vars.get("packagePath") + "/" + cls + "Test.java", k.word + "/MainTest.java.tmpl");

        PrintStream out = System.out;
        List<Path> written = new ArrayList<>();
        try {
            Files.createDirectories(target);
            for (Map.Entry<String, String> f : files.entrySet()) {
                written.add(write(target.resolve(f.getKey()), fill(template(f.getValue()), vars).getBytes(StandardCharsets.UTF_8)));
            }
            Path mvnw = home.resolve("mvnw");
            Path wrapper = home.resolve(".mvn/wrapper/maven-wrapper.properties");
            if (Files.isRegularFile(mvnw) && Files.isRegularFile(wrapper)) {
                written.add(write(target.resolve("mvnw"), Files.readAllBytes(mvnw)));
                target.resolve("mvnw").toFile().setExecutable(true);
                written.add(write(target.resolve(".mvn/wrapper/maven-wrapper.properties"), Files.readAllBytes(wrapper)));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the project into " + target + ": " + e.getMessage(), e);
        }
        out.println("created " + k.word + " '" + name + "' in " + target + ":");
        written.forEach(p -> out.println("  " + target.relativize(p)));
        if (!noInstall) {
            ensureInstalled(home, out);
        }
        out.println("next: cd " + target + " && ./mvnw package && " + home.resolve("neuronmonkey")
                + " run experiment.yaml --plugins target/plugins --out runs/" + name);
        return Main.OK;
    }

    static void checkName(String name) {
        if (!NAME.matcher(name).matches() || name.length() > 64) {
            throw new ConfigException("invalid NAME '" + name + "': an extension name is 1..64 lower-case letters, digits "
                    + "and single dashes, starting with a letter and not ending with a dash (e.g. mean-activation)");
        }
    }

    /** Refuses a file, or a folder that holds anything: nothing the tool did not write is ever overwritten. */
    static void checkEmpty(Path target) {
        if (Files.exists(target) && !Files.isDirectory(target)) {
            throw new ConfigException(target + " is a file; give a new or empty folder with --dir");
        }
        if (Files.isDirectory(target)) {
            try (Stream<Path> s = Files.list(target)) {
                List<String> there = s.map(p -> p.getFileName().toString()).sorted().limit(5).toList();
                if (!there.isEmpty()) {
                    throw new ConfigException("folder " + target + " is not empty (it holds " + String.join(", ", there)
                            + (there.size() == 5 ? ", ..." : "") + "); give a new or empty folder with --dir");
                }
            } catch (IOException e) {
                throw new ConfigException("cannot read folder " + target + ": " + e.getMessage());
            }
        }
    }

    /** {@code mean-activation} and {@code Analyzer}: {@code MeanActivationAnalyzer} (no suffix twice). */
    static String className(String name, String suffix) {
        StringBuilder s = new StringBuilder();
        for (String w : name.split("-")) {
            s.append(Character.toUpperCase(w.charAt(0))).append(w.substring(1));
        }
        if (!s.toString().endsWith(suffix)) {
            s.append(suffix);
        }
        return Character.isDigit(s.charAt(0)) ? "X" + s : s.toString();
    }

    /** {@code mean-activation}: {@code org.example.meanactivation} (a Java keyword gets a {@code plugin} suffix). */
    static String packageName(String name) {
        String last = name.replace("-", "");
        return "org.example." + (SourceVersion.isKeyword(last) ? last + "plugin" : last);
    }

    private static String template(String resource) throws IOException {
        try (InputStream in = NewCommand.class.getResourceAsStream("/io/neuronmonkey/runtime/template/" + resource)) {
            if (in == null) {
                throw new NeuronMonkeyException("this runtime is missing its project template " + resource + "; rebuild it");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    static String fill(String text, Map<String, String> vars) {
        String out = text;
        for (Map.Entry<String, String> v : vars.entrySet()) {
            out = out.replace("{{" + v.getKey() + "}}", v.getValue());
        }
        return out;
    }

    private static Path write(Path file, byte[] bytes) throws IOException {
        Files.createDirectories(file.getParent());
        try {
            Files.write(file, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            throw new ConfigException(file + " exists; not overwritten (give a new or empty folder with --dir)");
        }
        return file;
    }

    /**
     * Installs the parent POMs, the API and the test kit from {@code home} into the local Maven repository when one
     * is missing or older than its sources there.
     */
    static void ensureInstalled(Path home, PrintStream out) {
        String version = Launch.version();
        Path repo = localRepository();
        String stale = staleArtifact(home, repo, version);
        if (stale == null) {
            out.println("the API, test kit and plugin parent " + version + " are in " + repo);
            return;
        }
        Path mvnw = home.resolve("mvnw");
        String command = "./mvnw -B -q install -DskipTests -Dmaven.javadoc.skip=true -pl " + MODULES;
        if (!Files.isRegularFile(mvnw) || !Files.isRegularFile(home.resolve("plugin-parent/pom.xml"))) {
            out.println("warning: " + stale + ", and " + home + " holds no sources to install it from; the project "
                    + "builds once io.neuronmonkey:neuronmonkey-plugin-parent:" + version + " is in " + repo);
            return;
        }
        out.println(stale + "; installing it: (cd " + home + " && " + command + ")");
        try {
            Process p = new ProcessBuilder(List.of("bash", mvnw.toString(), "-B", "-q", "install", "-DskipTests",
                    "-Dmaven.javadoc.skip=true", "-pl", MODULES)).directory(home.toFile()).inheritIO().start();
            int code = p.waitFor();
            if (code != 0) {
                throw new NeuronMonkeyException("installing the API and plugin parent failed (exit " + code + "); run "
                        + "(cd " + home + " && " + command + ") to see why");
            }
        } catch (IOException e) {
            throw new NeuronMonkeyException("cannot run " + mvnw + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NeuronMonkeyException("interrupted while installing the API and plugin parent", e);
        }
    }

    static Path localRepository() {
        String configured = System.getProperty("maven.repo.local");
        return configured != null && !configured.isBlank() ? Path.of(configured)
                : Path.of(System.getProperty("user.home"), ".m2", "repository");
    }

    /** @return what is missing or older than its sources, or null when all is installed and current */
    static String staleArtifact(Path home, Path repo, String version) {
        Map<String, List<Path>> artifacts = new LinkedHashMap<>();
        artifacts.put("neuronmonkey-parent/" + version + "/neuronmonkey-parent-" + version + ".pom", List.of(home.resolve("pom.xml")));
        artifacts.put("neuronmonkey-plugin-parent/" + version + "/neuronmonkey-plugin-parent-" + version + ".pom",
                List.of(home.resolve("plugin-parent/pom.xml")));
        artifacts.put("framework-api/" + version + "/framework-api-" + version + ".jar",
                List.of(home.resolve("framework-api/pom.xml"), home.resolve("framework-api/src/main")));
        artifacts.put("framework-testkit/" + version + "/framework-testkit-" + version + ".jar",
                List.of(home.resolve("framework-testkit/pom.xml"), home.resolve("framework-testkit/src/main")));
        for (Map.Entry<String, List<Path>> a : artifacts.entrySet()) {
            Path installed = repo.resolve("io/neuronmonkey").resolve(a.getKey());
            String label = "io.neuronmonkey:" + a.getKey().substring(0, a.getKey().indexOf('/')) + ":" + version;
            if (!Files.isRegularFile(installed)) {
                return label + " is not in the local Maven repository " + repo;
            }
            try {
                FileTime at = Files.getLastModifiedTime(installed);
                for (Path source : a.getValue()) {
                    if (newest(source).compareTo(at) > 0) {
                        return label + " in " + repo + " is older than its sources in " + home;
                    }
                }
            } catch (IOException e) {
                return label + " cannot be checked (" + e.getMessage() + ")";
            }
        }
        return null;
    }

    private static FileTime newest(Path source) throws IOException {
        if (!Files.exists(source)) {
            return FileTime.fromMillis(0);
        }
        try (Stream<Path> s = Files.walk(source)) {
            return s.filter(Files::isRegularFile).map(p -> {
                try {
                    return Files.getLastModifiedTime(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).max(FileTime::compareTo).orElse(FileTime.fromMillis(0));
        }
    }
}
