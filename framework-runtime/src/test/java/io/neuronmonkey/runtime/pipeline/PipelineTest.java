package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.runtime.TestBundles;
import io.neuronmonkey.runtime.TestPluginSources;
import io.neuronmonkey.runtime.cli.Main;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.plugin.ExtensionPoints;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.store.Json;
import io.neuronmonkey.runtime.store.Npy;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs small experiments through the real runtime, with a plugin bundle compiled and loaded by PF4J. */
class PipelineTest {

    @TempDir
    static Path work;
    static Path plugins;
    static Path modelFile;

    @BeforeAll
    static void setUp() throws IOException {
        plugins = work.resolve("plugins");
        TestBundles.bundle(plugins, work, TestBundles.properties("linear-test", "1.0.0"), TestPluginSources.linearPlugin());
        modelFile = Files.writeString(work.resolve("model.bin"), "weights are in the backend");
    }

    /** Closed-form reference: sum over the data of relu(W x_i + b) per hidden neuron. */
    static double[] hiddenSums(int count) {
        double[] s = new double[4];
        for (int i = 0; i < count; i++) {
            double[] x = TestPluginSources.example(i);
            for (int j = 0; j < 4; j++) {
                double a = TestPluginSources.B[j];
                for (int k = 0; k < 3; k++) {
                    a += TestPluginSources.W[j][k] * x[k];
                }
                s[j] += Math.max(0, a);
            }
        }
        return s;
    }

    static Path experiment(String name, String steps) throws IOException {
        return experiment(name, "{count: 50}", steps);
    }

    static Path experiment(String name, String dataParams, String steps) throws IOException {
        String yaml = "experiment: " + name + "\nseed: 7\nbatchSize: 8\nmodel:\n  backend: linear\n  path: model.bin\n"
                + "data:\n  rows:\n    source: table\n    params: " + dataParams + "\nsteps:\n" + steps;
        return Files.writeString(work.resolve(name + ".yaml"), yaml);
    }

    record Cli(int code, String out, String err) {
    }

    static Cli cli(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Cli(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void runWritesResultsThatMatchTheClosedFormAndProvenance() throws IOException {
        Path yaml = experiment("sums", """
                  - id: hidden-sums
                    analyzer: sum
                    layers: [hidden]
                  - id: show
                    visualizer: text
                """);
        Path out = work.resolve("out-sums");
        Cli r = cli("run", yaml.toString(), "--out", out.toString(), "--plugins", plugins.toString());
        assertEquals(0, r.code(), r.err());

        double[] expected = hiddenSums(50);
        Map<String, Object> result = Json.readMap(out.resolve("hidden-sums/result.json"));
        List<Number> sums = (List<Number>) ((Map<String, Object>) ((Map<String, Object>) result.get("summary")).get("sums")).get("hidden");
        Tensor npy = Npy.read(out.resolve("hidden-sums/hidden-sum.npy"));
        for (int j = 0; j < 4; j++) {
            assertEquals(expected[j], sums.get(j).doubleValue(), 1e-4, "neuron " + j);
            assertEquals(expected[j], npy.floats()[j], 1e-3, "npy neuron " + j);
        }
        assertEquals(50, ((Number) ((Map<String, Object>) result.get("summary")).get("examples")).intValue());

        Map<String, Object> prov = Json.readMap(out.resolve("provenance.json"));
        assertEquals("completed", prov.get("status"));
        assertEquals(7, ((Number) prov.get("seed")).intValue());
        assertEquals("0".repeat(64), ((Map<String, Object>) prov.get("model")).get("sha256"));
        assertEquals("1".repeat(64), ((Map<String, Object>) ((Map<String, Object>) prov.get("data")).get("rows")).get("sha256"));
        // the bundle that was used, with the SHA-256 of its zip's bytes
        Path zip = plugins.resolve("linear-test.zip").toAbsolutePath();
        assertEquals(List.of(Map.of("id", "linear-test", "version", "1.0.0", "state", "STARTED", "file", zip.toString(),
                "sha256", io.neuronmonkey.runtime.store.Hashing.sha256(zip))), prov.get("plugins"));
        assertTrue(prov.containsKey("startedAt") && prov.containsKey("finishedAt") && prov.containsKey("java") && prov.containsKey("os"));
        List<Map<String, Object>> resolved = (List<Map<String, Object>>) prov.get("resolvedSteps");
        assertEquals(Map.of("k", 1, "weight", 1.0, "failAfter", -1), resolved.get(0).get("params"), "defaults are recorded");

        assertEquals("hidden-sums sum\n", Files.readString(out.resolve("show/inputs.txt")));
        assertTrue(Files.readString(out.resolve("report.html")).contains("hidden-sums sum"));
        assertEquals(Files.readString(yaml), Files.readString(out.resolve("experiment.yaml")));
        try (var files = Files.list(out)) {
            assertFalse(files.anyMatch(p -> p.getFileName().toString().startsWith(".")), "no partial folders are left");
        }
    }

    @Test
    void streamingStepsOnTheSameDataShareOnePassAndSeeOnlyTheirLayers() throws Exception {
        Path yaml = experiment("fused", """
                  - id: a
                    analyzer: sum
                    layers: [hidden]
                  - id: b
                    analyzer: sum
                    layers: [logits, hidden]
                    params: {weight: 2.0}
                """);
        ExperimentConfig config = ExperimentParser.parse(yaml);
        try (PluginHost host = PluginHost.start(plugins, "0.1.0")) {
            Object backend = host.registry().require(ExtensionPoints.BACKEND, "linear").instance();
            AtomicInteger runs = (AtomicInteger) backend.getClass().getField("RUNS").get(null);
            Environment env = new Environment(config, ProgressReporter.NONE, new AtomicBoolean());
            try (PreparedExperiment p = Preparer.prepare(config, host.registry(), env, true)) {
                int before = runs.get();
                ExperimentRunner.Outcome o = ExperimentRunner.run(p, work.resolve("out-fused"), env, Provenance.of(p, host.plugins(), "0.1.0"));
                assertTrue(o.ok(), o.steps().toString());
                assertEquals(7, runs.get() - before, "50 examples in batches of 8: one model run per batch for both steps");
            }
        }
        double[] expected = hiddenSums(50);
        Tensor a = Npy.read(work.resolve("out-fused/a/hidden-sum.npy"));
        Tensor b = Npy.read(work.resolve("out-fused/b/hidden-sum.npy"));
        for (int j = 0; j < 4; j++) {
            assertEquals(expected[j], a.floats()[j], 1e-3);
            assertEquals(2 * expected[j], b.floats()[j], 2e-3);
        }
        assertTrue(Files.exists(work.resolve("out-fused/b/logits-sum.npy")));
        assertFalse(Files.exists(work.resolve("out-fused/a/logits-sum.npy")));
    }

    static Map<String, byte[]> files(Path dir) throws IOException {
        Map<String, byte[]> out = new java.util.TreeMap<>();
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.filter(p -> p.toString().endsWith(".npy")).toList()) {
                out.put(dir.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Object summary(Path resultJson) {
        return Json.readMap(resultJson).get("summary");
    }

    @Test
    void resultsAreIdenticalForOneAndFourThreads() throws IOException {
        Path yaml = experiment("threads", """
                  - id: a
                    analyzer: sum
                    layers: [hidden]
                  - id: b
                    analyzer: sum
                    layers: [logits, hidden]
                    params: {weight: 0.1}
                """);
        Path one = work.resolve("out-threads-1");
        Path four = work.resolve("out-threads-4");
        assertEquals(0, cli("run", yaml.toString(), "--out", one.toString(), "--plugins", plugins.toString(), "--threads", "1", "--no-cache").code());
        Cli r = cli("run", yaml.toString(), "--out", four.toString(), "--plugins", plugins.toString(), "--threads", "4", "--no-cache");
        assertEquals(0, r.code(), r.err());
        Map<String, byte[]> a = files(one);
        Map<String, byte[]> b = files(four);
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertTrue(java.util.Arrays.equals(a.get(k), b.get(k)), k + " differs between 1 and 4 threads");
        }
        assertEquals(summary(one.resolve("a/result.json")), summary(four.resolve("a/result.json")));
        assertEquals(summary(one.resolve("b/result.json")), summary(four.resolve("b/result.json")));
        assertEquals(4, ((Number) ((Map<?, ?>) Json.readMap(four.resolve("provenance.json")).get("execution")).get("threads")).intValue());
    }

    @Test
    void activationCacheSkipsTheModelAndACorruptEntryIsRebuiltNotUsed() throws Exception {
        Path yaml = experiment("cached", """
                  - id: a
                    analyzer: sum
                    layers: [hidden, logits]
                """);
        ExperimentConfig config = ExperimentParser.parse(yaml);
        Path cache = work.resolve("cache");
        RunOptions options = new RunOptions(2, cache, 1 << 20);
        try (PluginHost host = PluginHost.start(plugins, "0.1.0")) {
            Object backend = host.registry().require(ExtensionPoints.BACKEND, "linear").instance();
            AtomicInteger runs = (AtomicInteger) backend.getClass().getField("RUNS").get(null);
            Environment env = new Environment(config, ProgressReporter.NONE, new AtomicBoolean());
            try (PreparedExperiment p = Preparer.prepare(config, host.registry(), env, true)) {
                int[] modelRuns = new int[3];
                for (int attempt = 0; attempt < 3; attempt++) {
                    if (attempt == 2) {
                        try (var entries = Files.list(cache)) {
                            Path layerFile = entries.filter(Files::isDirectory).findFirst().orElseThrow().resolve("layer-0.f32");
                            byte[] bytes = Files.readAllBytes(layerFile);
                            bytes[17] ^= 0x40;
                            Files.write(layerFile, bytes);
                        }
                    }
                    int before = runs.get();
                    ExperimentRunner.Outcome o = ExperimentRunner.run(p, work.resolve("out-cached-" + attempt), env,
                            Provenance.of(p, host.plugins(), "0.1.0"), options);
                    assertTrue(o.ok(), o.steps().toString());
                    modelRuns[attempt] = runs.get() - before;
                }
                assertEquals(7, modelRuns[0], "first run fills the cache");
                assertEquals(0, modelRuns[1], "second run reads activations from the cache");
                assertEquals(7, modelRuns[2], "a corrupt entry is detected and rebuilt from the model");
            }
        }
        for (int attempt = 1; attempt < 3; attempt++) {
            assertEquals(files(work.resolve("out-cached-0")).keySet(), files(work.resolve("out-cached-" + attempt)).keySet());
            for (var e : files(work.resolve("out-cached-0")).entrySet()) {
                assertTrue(java.util.Arrays.equals(e.getValue(), files(work.resolve("out-cached-" + attempt)).get(e.getKey())), e.getKey());
            }
        }
        try (var entries = Files.list(cache)) {
            assertEquals(1, entries.count(), "one valid entry, no partial folders left");
        }
    }

    @Test
    void aFailedStepLeavesNoCompleteLookingOutputAndIndependentStepsStillRun() throws IOException {
        Path yaml = experiment("failing", """
                  - id: broken
                    analyzer: explode
                  - id: fine
                    analyzer: sum
                  - id: after-broken
                    visualizer: text
                    inputs: [broken]
                  - id: after-fine
                    visualizer: text
                    inputs: [fine]
                """);
        Path out = work.resolve("out-failing");
        Cli r = cli("run", yaml.toString(), "--out", out.toString(), "--plugins", plugins.toString());
        assertEquals(1, r.code(), r.err());
        assertFalse(Files.exists(out.resolve("broken")));
        assertTrue(Files.readString(out.resolve("broken.failed/error.txt")).contains("boom: the analysis failed on purpose"));
        assertTrue(Files.exists(out.resolve("fine/result.json")));
        assertFalse(Files.exists(out.resolve("after-broken")));
        assertTrue(Files.exists(out.resolve("after-fine/inputs.txt")));
        assertTrue(r.err().contains("skipped    after-broken"), r.err());
        assertTrue(r.err().contains("input step 'broken' did not complete"), r.err());
        assertEquals("failed", Json.readMap(out.resolve("provenance.json")).get("status"));
    }

    @Test
    void aStreamingStepFailingMidPassDoesNotStopTheOthersOnAnyThreadCount() throws IOException {
        Path yaml = experiment("midpass", """
                  - id: good
                    analyzer: sum
                  - id: bad
                    analyzer: sum
                    params: {failAfter: 16}
                """);
        for (String threads : new String[]{"1", "3"}) {
            Path out = work.resolve("out-midpass-" + threads);
            Cli r = cli("run", yaml.toString(), "--out", out.toString(), "--plugins", plugins.toString(), "--threads", threads, "--no-cache");
            assertEquals(1, r.code(), r.err());
            assertTrue(Files.exists(out.resolve("good/result.json")), threads);
            assertFalse(Files.exists(out.resolve("bad")), threads);
            assertTrue(Files.readString(out.resolve("bad.failed/error.txt")).contains("failing after 16 examples as asked"), threads);
            assertEquals(50, ((Number) ((Map<?, ?>) summary(out.resolve("good/result.json"))).get("examples")).intValue());
        }
    }

    @Test
    void validateReportsEveryProblemWithPositionsAndExitsTwo() throws IOException {
        Path yaml = Files.writeString(work.resolve("bad.yaml"), """
                experiment: bad
                model:
                  backend: linear
                  path: model.bin
                  scale: fast
                data:
                  rows: {source: tabel}
                  more: {source: table, params: {count: 0}}
                steps:
                  - id: a
                    analyzer: summ
                  - id: b
                    analyzer: sum
                    data: more
                    params: {k: 0, weight: -1}
                  - id: c
                    visualizer: text
                    params: {colour: red}
                """);
        Cli r = cli("validate", yaml.toString(), "--plugins", plugins.toString());
        assertEquals(2, r.code(), r.err());
        String e = r.err();
        assertTrue(e.contains("bad.yaml: 7 errors"), e);
        assertTrue(e.contains("model.scale (line 5, col 10) - must be a number, found 'fast'"), e);
        assertTrue(e.contains("data.rows.source (line 7, col 18) - unknown data source 'tabel'; did you mean 'table'? known: table"), e);
        assertTrue(e.contains("data.more.params.count (line 8, col 41) - must be >= 1, found 0"), e);
        assertTrue(e.contains("steps[0].analyzer (line 11, col 15) - unknown analyzer 'summ'; did you mean 'sum'? known: explode, sum"), e);
        assertTrue(e.contains("steps[1].params.k (line 15, col 17) - must be >= 1, found 0"), e);
        assertTrue(e.contains("steps[1].params.weight (line 15, col 28) - must be > 0, found -1.0"), e);
        assertTrue(e.contains("steps[2].params.colour (line 18, col 14) - unknown param 'colour'; this extension takes no params"), e);
    }

    @Test
    void layerTheModelDoesNotHaveIsNamedWithNearMatches() throws IOException {
        Path yaml = experiment("badlayer", """
                  - id: a
                    analyzer: sum
                    layers: [hiden, logits]
                """);
        Cli r = cli("validate", yaml.toString(), "--plugins", plugins.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("steps[0].layers[0] (line 14, col 14) - the model has no layer 'hiden'; near matches: hidden"), r.err());
    }

    @Test
    void missingModelFileAndOutputFolderProtection() throws IOException {
        Path yaml = Files.writeString(work.resolve("nomodel.yaml"), """
                experiment: nomodel
                model: {backend: linear, path: models/missing.bin}
                data: {rows: {source: table}}
                steps:
                  - {id: a, analyzer: sum}
                """);
        Cli r = cli("run", yaml.toString(), "--out", work.resolve("out-nomodel").toString(), "--plugins", plugins.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("model.path (line 2, col 32) - model not found: " + work.resolve("models/missing.bin")), r.err());
        assertFalse(Files.exists(work.resolve("out-nomodel/provenance.json")), "nothing is written for an invalid experiment");

        Path used = Files.createDirectories(work.resolve("out-used"));
        Files.writeString(used.resolve("keep.txt"), "earlier results");
        Cli again = cli("run", experiment("ok", "  - {id: a, analyzer: sum}\n").toString(), "--out", used.toString(),
                "--plugins", plugins.toString());
        assertEquals(2, again.code());
        assertTrue(again.err().contains("exists and is not empty"), again.err());
        assertEquals("earlier results", Files.readString(used.resolve("keep.txt")));
    }

    @Test
    void pluginsCommandListsPluginsAndExtensions() {
        Cli r = cli("plugins", "--plugins", plugins.toString(), "--verbose");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("linear-test") && r.out().contains("1.0.0") && r.out().contains("STARTED"), r.out());
        assertTrue(r.out().matches("(?s).*analyzers:\\n  explode .*\\n  sum .*"), r.out());
        assertTrue(r.out().contains("weight: a number (default 1.0)"), r.out());
    }

    @Test
    @SuppressWarnings("unchecked")
    void nonFiniteInputsAreCountedPerDataSetInProvenanceAndWarnedAbout() throws IOException {
        Path yaml = experiment("nan-inputs", "{count: 50, nanEvery: 7}", """
                  - {id: census, analyzer: sum, layers: [hidden]}
                  - {id: own-pass, analyzer: explode}
                """);
        Path out = work.resolve("out-nan");
        Cli r = cli("run", yaml.toString(), "--out", out.toString(), "--plugins", plugins.toString(), "--threads", "2");
        // independent count: examples 0, 7, ..., 49 carry one NaN and one +inf each
        long affected = 0;
        for (int i = 0; i < 50; i++) {
            affected += i % 7 == 0 ? 1 : 0;
        }
        assertEquals(8, affected);
        Map<String, Object> prov = Json.readMap(out.resolve("provenance.json"));
        Map<String, Object> nonFinite = (Map<String, Object>) ((Map<String, Object>) prov.get("execution")).get("nonFiniteInputs");
        assertEquals(Map.of("rows", Map.of("examples", 50, "affectedExamples", (int) affected, "nanValues", (int) affected,
                "infiniteValues", (int) affected, "firstAffectedExample", "row-0")), nonFinite);
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("warning: data set 'rows': 16 input value(s) are NaN or "
                + "infinite (8 NaN, 8 infinite) in 8 of 50 examples (first: 'row-0')")).count(), r.err());
    }

    @Test
    @SuppressWarnings("unchecked")
    void cleanInputsRecordZeroNonFiniteValues() throws IOException {
        Path yaml = experiment("clean-inputs", """
                  - {id: census, analyzer: sum, layers: [hidden]}
                """);
        Path out = work.resolve("out-clean");
        Cli r = cli("run", yaml.toString(), "--out", out.toString(), "--plugins", plugins.toString());
        assertEquals(0, r.code(), r.err());
        Map<String, Object> prov = Json.readMap(out.resolve("provenance.json"));
        assertEquals(Map.of("rows", Map.of("examples", 50, "affectedExamples", 0, "nanValues", 0, "infiniteValues", 0)),
                ((Map<String, Object>) prov.get("execution")).get("nonFiniteInputs"));
        assertFalse(r.err().contains("NaN"), r.err());
    }

    @Test
    void aPassOverNoExamplesFailsItsStepsInsteadOfReportingStatisticsOfNothing() throws IOException {
        Path yaml = experiment("empty-pass", "{empty: true, knownSize: false}", """
                  - {id: census, analyzer: sum, layers: [hidden]}
                """);
        Path out = work.resolve("out-empty");
        Cli r = cli("run", yaml.toString(), "--out", out.toString(), "--plugins", plugins.toString());
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("data set 'rows' gave no examples to census; there is nothing to compute statistics of"), r.err());
        assertFalse(Files.exists(out.resolve("census/result.json")));
        assertTrue(Files.readString(out.resolve("census.failed/error.txt")).contains("gave no examples"));

        Path known = experiment("empty-known", "{empty: true}", """
                  - {id: census, analyzer: sum, layers: [hidden]}
                """);
        Cli v = cli("validate", known.toString(), "--plugins", plugins.toString());
        assertEquals(2, v.code(), v.err());
        assertTrue(v.err().contains("data.rows (line 9, col 5) - data set 'rows' has no examples (source 'table')"), v.err());
    }
}
