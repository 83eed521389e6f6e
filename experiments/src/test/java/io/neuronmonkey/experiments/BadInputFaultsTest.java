package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronmonkey.runtime.cli.InProcessCli;
import io.neuronmonkey.runtime.TestBundles;
import io.neuronmonkey.runtime.TestPluginSources;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input and faults against the CLI, one row each: the files it is given, the command, the exit code, what the
 * message must say, and what must (and must not) be on disk afterwards. Rows that need the TensorFlow backend run
 * through the real launcher; the others run the same CLI in this JVM over the other three shipped bundles, which is
 * quicker and gives the same exit codes and messages.
 */
class BadInputFaultsTest {

    @TempDir
    static Path work;
    /** The shipped bundles but the TensorFlow backend (so that no native library is loaded in this JVM). */
    static Path bundles;

    @BeforeAll
    static void copyBundles() throws IOException {
        bundles = copyBundles(Files.createDirectories(work.resolve("bundles")));
    }

    static Path copyBundles(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(Launcher.ROOT.resolve("plugins/target/bundles"))) {
            for (Path zip : s.filter(p -> p.toString().endsWith(".zip") && !p.getFileName().toString().startsWith("tensorflow")).toList()) {
                Files.copy(zip, dir.resolve(zip.getFileName()));
            }
        }
        return dir;
    }

    interface Setup {
        void prepare(Path dir) throws IOException;
    }

    interface Check {
        void check(Path dir, String out, String err) throws IOException;
    }

    /** One row of the table; build with {@link #row}. */
    static final class Row {
        final String item;
        final String name;
        final List<Setup> setup = new ArrayList<>();
        String[] args = {};
        boolean launcher;
        String pluginsDir;
        int exit;
        final List<String> says = new ArrayList<>();
        final List<String> keeps = new ArrayList<>();
        final List<String> lacks = new ArrayList<>();
        Check then = (d, o, e) -> { };

        Row(String item, String name) {
            this.item = item;
            this.name = name;
        }

        Row file(String path, String text) {
            return bytes(path, text.getBytes(StandardCharsets.UTF_8));
        }

        Row bytes(String path, byte[] content) {
            setup.add(d -> {
                Files.createDirectories(d.resolve(path).getParent());
                Files.write(d.resolve(path), content);
            });
            return this;
        }

        Row with(Setup s) {
            setup.add(s);
            return this;
        }

        /** Arguments; {@code @x} is the path x in the row's folder. */
        Row args(String... a) {
            args = a;
            return this;
        }

        Row launcher() {
            launcher = true;
            return this;
        }

        /** The row's own plugins folder (under its folder), holding the three bundles and whatever setup adds. */
        Row plugins(String dir) {
            pluginsDir = dir;
            setup.add(0, d -> copyBundles(Files.createDirectories(d.resolve(dir))));
            return this;
        }

        Row exit(int code) {
            exit = code;
            return this;
        }

        Row says(String... fragments) {
            says.addAll(List.of(fragments));
            return this;
        }

        Row keeps(String... paths) {
            keeps.addAll(List.of(paths));
            return this;
        }

        Row lacks(String... paths) {
            lacks.addAll(List.of(paths));
            return this;
        }

        Row then(Check c) {
            then = c;
            return this;
        }

        @Override
        public String toString() {
            return "#" + item + " " + name;
        }
    }

    static Row row(String item, String name) {
        return new Row(item, name);
    }

    static final String MODEL = Launcher.ROOT.resolve("experiments/models/shapes-cnn").toString();

    /** 25 levels of 2 aliases each: 50 aliases (under the alias limit), 2^25 leaves once expanded, 813 bytes. */
    static String aliasBomb() {
        StringBuilder sb = new StringBuilder("experiment: bomb\nsteps: []\nx0: &a0 [lol]\n");
        for (int i = 1; i <= 25; i++) {
            sb.append('x').append(i).append(": &a").append(i).append(" [*a").append(i - 1).append(", *a").append(i - 1).append("]\n");
        }
        return sb.toString();
    }

    static String nanCsv(int rows) {
        StringBuilder sb = new StringBuilder();
        for (int c = 0; c < 784; c++) {
            sb.append(c == 0 ? "" : ",").append("p").append(c);
        }
        sb.append('\n');
        for (int r = 0; r < rows; r++) {
            sb.append(String.join(",", java.util.Collections.nCopies(784, "nan"))).append('\n');
        }
        return sb.toString();
    }

    static byte[] gzip(byte[] data) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(b)) {
            gz.write(data);
        }
        return b.toByteArray();
    }

    static byte[] idxImages(int n) {
        byte[] b = new byte[16 + n * 784];
        b[2] = 0x08;
        b[3] = 3;
        b[7] = (byte) n;
        b[11] = 28;
        b[15] = 28;
        return b;
    }

    static final String CENSUS = "steps:\n  - {id: census, analyzer: activation-stats, layers: [conv1]}\n";

    static Stream<Row> rows() throws IOException {
        String bomb = aliasBomb();
        assertTrue(bomb.length() < 820, "the campaign's 813-byte shape: " + bomb.length());
        byte[] cutGz = gzip(idxImages(5));
        cutGz = Arrays.copyOf(cutGz, cutGz.length - 12);
        return Stream.of(
                // 4: YAML bombs and size
                row("4", "alias bomb under the alias limit (validate)").file("bomb.yaml", bomb).args("validate", "@bomb.yaml")
                        .exit(2).says("bomb.yaml: YAML document too large at line 21, col ", "more than 1,000,000 values"),
                row("4", "alias bomb given to run writes nothing").file("bomb.yaml", bomb).args("run", "@bomb.yaml", "--out", "@out")
                        .exit(2).says("YAML document too large at line 21").lacks("out"),
                row("4", "document over 2 MiB").file("big.yaml", "experiment: big\nsteps: []\n#" + "x".repeat(2_200_000) + "\n")
                        .args("validate", "@big.yaml").exit(2).says("bytes; experiment files are read up to 2,097,152 bytes (2 MiB)"),
                // 5: nesting and threads
                row("5", "100,000 nested [").file("deep.yaml", "experiment: deep\nsteps: " + "[".repeat(100_000) + "\n")
                        .args("validate", "@deep.yaml").exit(2).says("deep.yaml: YAML nesting too deep at line 2, col 71"),
                row("5", "--threads 100000").file("ok.yaml", "experiment: ok\nsteps: []\n")
                        .args("run", "@ok.yaml", "--threads", "100000", "--out", "@out").exit(2)
                        .says("--threads must be between 1 and " + Math.min(64, 4 * Runtime.getRuntime().availableProcessors()))
                        .lacks("out"),
                row("5", "--threads 0").file("ok.yaml", "experiment: ok\nsteps: []\n").args("run", "@ok.yaml", "--threads", "0")
                        .exit(2).says("--threads must be between 1 and "),
                // 6: integers never truncated
                row("6", "batchSize 4294967297").file("b.yaml", "experiment: b\nbatchSize: 4294967297\nsteps: []\n")
                        .args("validate", "@b.yaml").exit(2)
                        .says("batchSize (line 2, col 12) - must be an integer between 1 and 65536, found 4294967297"),
                row("6", "batchSize 2147483648").file("b.yaml", "experiment: b\nbatchSize: 2147483648\nsteps: []\n")
                        .args("validate", "@b.yaml").exit(2)
                        .says("batchSize (line 2, col 12) - must be an integer between 1 and 65536, found 2147483648"),
                row("6", "int param past 2^31").file("p.yaml", "experiment: p\ndata:\n  d: {source: synthetic-shapes, params: {count: 4294967297}}\nsteps: []\n")
                        .args("validate", "@p.yaml").exit(2)
                        .says("data.d.params.count (line 3, col 49) - must be an integer between -2147483648 and 2147483647, found 4294967297"),
                row("6", "seed past 2^63").file("s.yaml", "experiment: s\nseed: 9223372036854775808\nsteps: []\n")
                        .args("validate", "@s.yaml").exit(2)
                        .says("seed (line 2, col 7) - must be an integer between -9223372036854775808 and 9223372036854775807"),
                // 7, 8, 9: one bad bundle never takes the others down
                row("7", "third-party analyzer named activation-stats").plugins("plugins")
                        .with(d -> Bundles.zip(d.resolve("plugins"), d, "acme-stats", Bundles.properties("acme-stats", ""),
                                Map.of("acme.Stats", Bundles.analyzer("acme", "Stats", "activation-stats", false),
                                        "acme.Other", Bundles.analyzer("acme", "Other", "acme-other", false))))
                        .args("plugins", "--plugins", "@plugins").exit(0)
                        .says("acme-stats: plugin 'acme-stats' declares analyzer 'activation-stats', which plugin 'stats-analyzers' "
                                + "already provides; the bundle was not loaded", "activation-stats       [stats-analyzers]")
                        .then((d, out, err) -> assertFalse(out.contains("acme-other"), "nothing of the refused bundle: " + out)),
                row("7", "validate still works beside the clashing bundle").plugins("plugins")
                        .with(d -> Bundles.zip(d.resolve("plugins"), d, "acme-stats", Bundles.properties("acme-stats", ""),
                                Map.of("acme.Stats", Bundles.analyzer("acme", "Stats", "activation-stats", false))))
                        .file("ok.yaml", "experiment: ok\ndata: {d: {source: synthetic-shapes, params: {count: 8}}}\nsteps: []\n")
                        .args("validate", "@ok.yaml", "--plugins", "@plugins").exit(0)
                        .says("warning: plugin bundle acme-stats refused: plugin 'acme-stats' declares analyzer 'activation-stats'",
                                "ok.yaml: valid (0 steps, 1 data sets)"),
                row("8", "missing plugin dependency").plugins("plugins")
                        .with(d -> Bundles.zip(d.resolve("plugins"), d, "needy", Bundles.properties("needy", "plugin.dependencies=ghost\n"),
                                Map.of("needy.A", Bundles.analyzer("needy", "A", "needy", false))))
                        .args("plugins", "--plugins", "@plugins").exit(0)
                        .says("plugin 'needy' needs plugin 'ghost' (plugin.dependencies), which is not in the plugins folder",
                                "stats-analyzers"),
                row("8", "requires excludes this version").plugins("plugins")
                        .with(d -> Bundles.zip(d.resolve("plugins"), d, "future", Bundles.properties("future", "plugin.requires=>=9.0.0\n"),
                                Map.of("future.A", Bundles.analyzer("future", "A", "future", false))))
                        .args("plugins", "--plugins", "@plugins").exit(0)
                        .says("plugin 'future' requires NeuronMonkey >=9.0.0 (plugin.requires); this is 0.1.0, so it was not loaded"),
                row("8", "plugin.class not in the bundle").plugins("plugins")
                        .with(d -> Bundles.zip(d.resolve("plugins"), d, "classy", Bundles.properties("classy", "plugin.class=com.acme.Gone\n"),
                                Map.of("classy.A", Bundles.analyzer("classy", "A", "classy", false))))
                        .args("plugins", "--plugins", "@plugins").exit(0)
                        .says("plugin 'classy' did not start: its plugin.class 'com.acme.Gone' is not in the bundle's lib/*.jar")
                        .then((d, out, err) -> assertFalse(out.contains("NullPointer") || err.contains("NullPointer"), out + err)),
                row("8", "extension throwing in its constructor keeps its sibling").plugins("plugins")
                        .with(d -> Bundles.zip(d.resolve("plugins"), d, "half", Bundles.properties("half", ""),
                                Map.of("half.Bad", Bundles.analyzer("half", "Bad", "half-bad", true),
                                        "half.Good", Bundles.analyzer("half", "Good", "half-good", false))))
                        .args("plugins", "--plugins", "@plugins").exit(0)
                        .says("plugin 'half': analyzer 'half-bad' (half.Bad) could not be created, so it was not registered: "
                                + "IllegalStateException: licence file not found", "half-good              [half]"),
                row("9", "corrupt, empty and descriptor-less zips").plugins("plugins")
                        .bytes("plugins/corrupt.zip", "PK but not really".getBytes(StandardCharsets.UTF_8))
                        .bytes("plugins/zero.zip", new byte[0])
                        .with(d -> Bundles.rawZip(d.resolve("plugins/empty.zip"), Map.of()))
                        .with(d -> Bundles.rawZip(d.resolve("plugins/nodesc.zip"), Map.of("lib/x.txt", "x")))
                        .args("plugins", "--plugins", "@plugins").exit(0)
                        .says("corrupt.zip: not a readable zip file (", "zero.zip: empty file (0 bytes), not a plugin bundle",
                                "empty.zip: empty zip: it holds no files", "nodesc.zip: no plugin.properties at the top of the zip",
                                "activation-stats"),
                // 10: duplicate layers
                row("10", "layers: [conv1, conv1]").file("dup.yaml", "experiment: dup\nsteps:\n  - id: census\n    analyzer: activation-stats\n"
                                + "    layers: [conv1, conv1]\n")
                        .args("validate", "@dup.yaml").exit(2)
                        .says("steps[0].layers[1] (line 5, col 21) - layer 'conv1' is listed twice (first at layers[0]); list each layer once"),
                // 11: non-finite inputs
                row("11", "NaN CSV cell").file("d.csv", "a,b,c\n1,2,3\n4,NaN,6\n")
                        .file("nan.yaml", "experiment: nan\ndata: {d: {source: csv, params: {file: d.csv}}}\nsteps: []\n")
                        .args("validate", "@nan.yaml").exit(2).says("non-finite value 'NaN' in ", "d.csv line 3, column 'b'",
                                "set params.allowNonFinite: true"),
                row("11", "all-NaN inputs counted in provenance").launcher().file("nan.csv", nanCsv(4))
                        .file("nan.yaml", "experiment: nan\nmodel: {backend: tensorflow, path: " + MODEL + "}\n"
                                + "data: {d: {source: csv, params: {file: nan.csv, shape: [28, 28, 1], allowNonFinite: true}}}\n" + CENSUS
                                + "  - {id: report, visualizer: html-report}\n")
                        .args("run", "@nan.yaml", "--out", "@out", "--no-cache").exit(0)
                        .says("warning: data set 'd': 3136 input value(s) are NaN or infinite (3136 NaN, 0 infinite) in 4 of 4 examples")
                        .keeps("out/provenance.json", "out/census/result.json")
                        .then((d, out, err) -> {
                            JsonNode p = new ObjectMapper().readTree(d.resolve("out/provenance.json").toFile());
                            JsonNode n = p.get("execution").get("nonFiniteInputs").get("d");
                            assertEquals(4, n.get("examples").asInt());
                            assertEquals(4, n.get("affectedExamples").asInt());
                            assertEquals(4 * 784, n.get("nanValues").asInt());
                            assertEquals(0, n.get("infiniteValues").asInt());
                            assertEquals("row-0", n.get("firstAffectedExample").asText());
                            // and the report opens with it, before anything computed from those inputs
                            String html = Files.readString(d.resolve("out/report.html"));
                            int findings = html.indexOf("id=\"findings\"");
                            int first = html.indexOf("class=\"finding ", findings);
                            assertTrue(findings > 0 && first > findings, "the report has findings");
                            assertTrue(html.startsWith("class=\"finding warning", first), html.substring(first, first + 200));
                            assertTrue(html.indexOf("data set &#x27;d&#x27; has 3136 NaN or infinite input values", first) > first,
                                    html.substring(first, first + 400));
                        }),
                // 12: nothing to compute statistics of
                row("12", "CSV with a header and no rows").file("e.csv", "a,b,c\n")
                        .file("e.yaml", "experiment: e\ndata: {d: {source: csv, params: {file: e.csv}}}\nsteps: []\n")
                        .args("validate", "@e.yaml").exit(2)
                        .says("data.d (line 2, col 11) - data set 'd' has no examples (source 'csv')"),
                // 16: validation keeps its promise
                row("16", "SavedModel without variables/").launcher()
                        .with(d -> Files.copy(Path.of(MODEL, "saved_model.pb"), Files.createDirectories(d.resolve("novars")).resolve("saved_model.pb")))
                        .file("nv.yaml", "experiment: nv\nmodel: {backend: tensorflow, path: novars}\n"
                                + "data: {d: {source: synthetic-shapes, params: {count: 8}}}\n" + CENSUS)
                        .args("validate", "@nv.yaml").exit(2).says("but has no variables/ folder: its weights are missing"),
                row("16", "truncated .gz").bytes("cut-images.gz", cutGz)
                        .file("gz.yaml", "experiment: gz\ndata: {d: {source: idx, params: {images: cut-images.gz}}}\nsteps: []\n")
                        .args("validate", "@gz.yaml").exit(2).says("truncated gzip file ", "cut-images.gz: the compressed stream ends early")
                        .then((d, out, err) -> assertFalse(err.contains("Stream closed"), err)),
                row("16", "300-character step id").file("id.yaml", "experiment: id\nsteps:\n  - {id: " + "s".repeat(300) + ", visualizer: html-report}\n")
                        .args("validate", "@id.yaml").exit(2)
                        .says("steps[0].id (line 3, col 10) - must be at most 100 characters (it names a folder), found 300 characters"),
                row("16", "structural and param errors in one round")
                        .file("two.yaml", "experiment: two\nseeed: 1\ndata: {d: {source: synthetic-shapes, params: {count: 0}}}\n"
                                + "steps:\n  - {id: h, visualizer: histogram}\n  - {id: h, visualizer: html-report}\n")
                        .args("validate", "@two.yaml").exit(2)
                        .says("3 errors", "seeed (line 2, col 1) - unknown top-level key 'seeed'",
                                "steps[1].id (line 6, col 10) - duplicate step id 'h'",
                                "data.d.params.count (line 3, col 54) - must be >= 1, found 0"),
                row("16", "non-UTF-8 YAML").bytes("latin1.yaml", "experiment: caf\u00e9\nsteps: []\n".getBytes(StandardCharsets.ISO_8859_1))
                        .args("validate", "@latin1.yaml").exit(2)
                        .says("latin1.yaml: not UTF-8 text: byte 0xE9 at offset 15 (line 1, col 16) is not valid UTF-8; "
                                + "experiment files must be saved as UTF-8"),
                // bench: an experiment file brings its model and data; a model path gets synthetic images
                row("bench", "experiment file, its first data set, the default analyzers").plugins("plugins")
                        .with(d -> Files.copy(linearBundle(), d.resolve("plugins/linear-test.zip"))).file("model.bin", "w")
                        .file("e.yaml", "experiment: e\nbatchSize: 8\nmodel: {backend: linear, path: model.bin, scale: 0.5}\n"
                                + "data:\n  rows: {source: table, params: {count: 40}}\n  few: {source: table, params: {count: 3}}\nsteps: []\n")
                        .args("bench", "@e.yaml", "--repeats", "1", "--plugins", "@plugins").exit(0)
                        .says("e.yaml [rows] (2 layers)", "fed to: activation-stats + top-activations")
                        .then((d, out, err) -> assertTrue(out.matches("(?s).*e\\.yaml \\[rows] \\(2 layers\\)\\s+40\\s+8\\s.*"), out)),
                row("bench", "model path fed synthetic images of another shape").plugins("plugins")
                        .with(d -> Files.copy(linearBundle(), d.resolve("plugins/linear-test.zip"))).file("model.bin", "w")
                        .args("bench", "--backend", "linear", "@model.bin", "--plugins", "@plugins").exit(2)
                        .says("MODEL ", "model.bin - the model expects inputs shaped [3]; the synthetic images are [28, 28, 1] "
                                + "(--input-size sets their side; for other inputs give an experiment file with its data)"),
                // behaviour that already worked, kept working
                row("keep", "path traversal through the experiment name").file("t.yaml", "experiment: ../../etc\nsteps: []\n")
                        .args("run", "@t.yaml").exit(2).says("experiment (line 1, col 13) - must be letters, digits, '.', '_' or '-' "
                                + "(it names a folder), found '../../etc'").lacks("../etc"),
                row("keep", "path traversal through a step id").file("t.yaml", "experiment: t\nsteps:\n  - {id: ../../x, visualizer: html-report}\n")
                        .args("validate", "@t.yaml").exit(2).says("steps[0].id (line 3, col 10) - must be letters, digits"),
                row("keep", "zip-slip entry in a plugin zip").plugins("plugins")
                        .with(d -> Bundles.rawZip(d.resolve("plugins/slip.zip"), new java.util.TreeMap<>(Map.of(
                                "plugin.properties", "plugin.id=slip\nplugin.version=1.0.0\n", "../../escaped.txt", "owned"))))
                        .args("plugins", "--plugins", "@plugins").exit(0)
                        .says("slip.zip: the zip entry '../../escaped.txt' would be written outside the bundle's folder")
                        .lacks("escaped.txt", "plugins/slip"),
                row("keep", "plugins install refuses a zip-slip bundle before copying anything").plugins("plugins")
                        .with(d -> Bundles.rawZip(d.resolve("slip.zip"), new java.util.TreeMap<>(Map.of(
                                "plugin.properties", Bundles.properties("slip", ""), "../../escaped.txt", "owned"))))
                        .args("plugins", "install", "@slip.zip").exit(2)
                        .says("refused: the zip entry '../../escaped.txt' would be written outside the bundle's folder",
                                "; nothing was installed")
                        .lacks("escaped.txt"),
                row("8", "descriptor without a license").plugins("plugins")
                        .with(d -> Bundles.zip(d.resolve("plugins"), d, "unlicensed",
                                Bundles.properties("unlicensed", "").replace("plugin.license=Apache-2.0\n", ""),
                                Map.of("unlicensed.A", Bundles.analyzer("unlicensed", "A", "unlicensed", false))))
                        .args("plugins", "--plugins", "@plugins").exit(0)
                        .says("unlicensed: invalid plugin descriptor (plugin.properties or MANIFEST.MF): field 'plugin.license' is "
                                + "missing or empty (an SPDX id such as Apache-2.0)", "stats-analyzers"),
                row("keep", "!!java tags are inert").file("tag.yaml", "experiment: tag\nseed: !!javax.script.ScriptEngineManager "
                                + "[!!java.net.URLClassLoader [[!!java.net.URL [\"file:///nowhere\"]]]]\nsteps: []\n")
                        .args("validate", "@tag.yaml").exit(2).says("seed (line 2, col 7) - must be an integer between"),
                row("keep", "corrupt npy").bytes("x.npy", "not numpy".getBytes(StandardCharsets.UTF_8))
                        .file("n.yaml", "experiment: n\ndata: {d: {source: npy, params: {inputs: x.npy}}}\nsteps: []\n")
                        .args("validate", "@n.yaml").exit(2).says("not an NPY file (it does not start with \\x93NUMPY)"),
                row("keep", "ragged csv").file("r.csv", "a,b,c\n1,2,3\n4,5\n")
                        .file("r.yaml", "experiment: r\ndata: {d: {source: csv, params: {file: r.csv}}}\nsteps: []\n")
                        .args("validate", "@r.yaml").exit(2).says("r.csv line 3 has 2 cells; expected 3 like the header"),
                row("keep", "corrupt idx").bytes("i.idx", "P5 not idx".getBytes(StandardCharsets.UTF_8))
                        .file("i.yaml", "experiment: i\ndata: {d: {source: idx, params: {images: i.idx}}}\nsteps: []\n")
                        .args("validate", "@i.yaml").exit(2).says("not an IDX file: "),
                row("keep", "non-empty --out is refused and left as it was").file("ok.yaml", "experiment: ok\nsteps: []\n")
                        .file("out/mine.txt", "my notes")
                        .args("run", "@ok.yaml", "--out", "@out").exit(2).says("exists and is not empty; results are never written over")
                        .keeps("out/mine.txt").lacks("out/provenance.json")
                        .then((d, out, err) -> assertEquals("my notes", Files.readString(d.resolve("out/mine.txt")))),
                row("keep", "unknown extension names list the valid ones")
                        .file("u.yaml", "experiment: u\ndata: {d: {source: synthetic-shape}}\nsteps:\n  - {id: a, analyzer: activation-stat}\n")
                        .args("validate", "@u.yaml").exit(2)
                        .says("data.d.source (line 2, col 20) - unknown data source 'synthetic-shape'; did you mean 'synthetic-shapes' or 'synthetic-text'? "
                                        + "known: csv, idx, image-folder, npy, npz, synthetic-shapes, synthetic-text, text-csv, text-jsonl, text-lines",
                                "steps[0].analyzer (line 4, col 23) - unknown analyzer 'activation-stat'; did you mean 'activation-stats'?"));
    }

    private static Path linear;

    /** The runtime's pure-Java test plugin (backend "linear", source "table"), built once. */
    static synchronized Path linearBundle() throws IOException {
        if (linear == null) {
            Path dir = Files.createDirectories(work.resolve("linear-build"));
            linear = TestBundles.bundle(dir.resolve("out"), dir, TestBundles.properties("linear-test", "1.0.0"),
                    TestPluginSources.linearPlugin());
        }
        return linear;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void badInputGetsAClearErrorTheRightExitCodeAndLeavesTheDiskAsItWas(Row row) throws Exception {
        Path dir = Files.createDirectories(work.resolve("row-" + Integer.toHexString(row.toString().hashCode())));
        for (Setup s : row.setup) {
            s.prepare(dir);
        }
        List<String> args = new ArrayList<>();
        for (String a : row.args) {
            args.add(a.startsWith("@") ? dir.resolve(a.substring(1)).toString() : a);
        }
        if (!row.launcher && row.pluginsDir == null && List.of("run", "validate", "plugins").contains(args.get(0))) {
            args.add("--plugins");
            args.add(bundles.toString());
        }
        Launcher.Result r = row.launcher ? Launcher.run(dir, args.toArray(String[]::new)) : inProcess(args);
        String all = r.out() + r.err();
        assertEquals(row.exit, r.code(), row + ":\n" + all);
        for (String s : row.says) {
            assertTrue(all.contains(s), row + ": expected '" + s + "' in:\n" + all);
        }
        assertFalse(all.contains("internal error") || all.contains("Exception in thread") || all.contains("\tat "),
                row + ": no stack trace:\n" + all);
        for (String k : row.keeps) {
            assertTrue(Files.exists(dir.resolve(k)), row + ": " + k + " must exist");
        }
        for (String l : row.lacks) {
            assertFalse(Files.exists(dir.resolve(l).normalize()), row + ": " + l + " must not exist");
        }
        row.then.check(dir, r.out(), r.err());
    }

    /** The CLI in this JVM, as the launcher runs it. */
    static Launcher.Result inProcess(List<String> args) {
        InProcessCli.Result r = InProcessCli.run(args);
        return new Launcher.Result(r.code(), r.out(), r.err());
    }

}
