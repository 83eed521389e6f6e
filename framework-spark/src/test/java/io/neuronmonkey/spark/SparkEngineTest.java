package io.neuronmonkey.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.runtime.cli.Main;
import io.neuronmonkey.runtime.engine.EngineSpec;
import io.neuronmonkey.runtime.engine.ExperimentSource;
import io.neuronmonkey.runtime.engine.PassEngine;
import io.neuronmonkey.runtime.engine.PassJob;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The quickstart's streaming steps on Spark {@code local[2]} against the same experiment on the local engine: every
 * array byte for byte and every result.json equal but for the step's seconds. One Spark context serves the class.
 */
class SparkEngineTest {

    static final Path ROOT = Path.of(System.getProperty("neuronmonkey.home", "..")).toAbsolutePath().normalize();
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> STREAMING = List.of("census", "top-examples", "watermark-hunt", "evaluate");

    @TempDir
    static Path work;

    static JavaSparkContext spark;

    @BeforeAll
    static void startSpark() {
        spark = new JavaSparkContext(new SparkConf().setMaster("local[2]").setAppName("SparkEngineTest")
                .set("spark.ui.enabled", "false"));
    }

    @AfterAll
    static void stopSpark() {
        spark.stop();
    }

    /**
     * The quickstart with 1000 examples (4 batches of 256: three partitions split them 1 + 1 + 2, the last batch short)
     * and its streaming steps only; the visualizers read results and do not depend on the engine.
     */
    static Path quickstart(String engine) throws IOException {
        String text = Files.readString(ROOT.resolve("experiments/quickstart.yaml"));
        text = text.substring(0, text.indexOf("  - id: histograms"))
                .replaceAll("count: \\d+", "count: 1000")
                .replaceAll("path: (models/\\S+)", "path: " + ROOT.resolve("experiments") + "/$1");
        return Files.writeString(work.resolve("quickstart-" + engine + ".yaml"), text + engine);
    }

    record Cli(int code, String err) {
    }

    static Cli cli(String... args) {
        PrintStream before = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            return new Cli(Main.execute(args), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(before);
        }
    }

    @Test
    void theQuickstartOnSparkGivesTheLocalRunsArraysByteForByte() throws IOException {
        Path local = work.resolve("local");
        Path onSpark = work.resolve("spark");
        Cli l = cli("run", quickstart("").toString(), "--out", local.toString(), "--no-cache");
        assertEquals(0, l.code(), l.err());
        // the experiment asks for 3 partitions; the command line picks the master and keeps that option
        Cli s = cli("run", quickstart("engine: {type: spark, partitions: 3}\n").toString(), "--out", onSpark.toString(),
                "--no-cache", "--engine", "spark:local[2]");
        assertEquals(0, s.code(), s.err());

        for (String step : STREAMING) {
            List<String> files = files(local.resolve(step));
            assertEquals(files, files(onSpark.resolve(step)), step);
            assertTrue(files.stream().filter(f -> f.endsWith(".npy")).count() >= 1, step + " wrote arrays: " + files);
            for (String f : files) {
                if (f.equals("result.json")) {
                    assertEquals(withoutSeconds(local.resolve(step).resolve(f)), withoutSeconds(onSpark.resolve(step).resolve(f)),
                            step + "/result.json");
                } else {
                    assertArrayEquals(Files.readAllBytes(local.resolve(step).resolve(f)),
                            Files.readAllBytes(onSpark.resolve(step).resolve(f)), step + "/" + f);
                }
            }
        }
        JsonNode census = JSON.readTree(onSpark.resolve("census/result.json").toFile());
        assertEquals(1000, census.get("summary").get("examples").asInt());

        JsonNode engine = JSON.readTree(onSpark.resolve("provenance.json").toFile()).get("execution").get("engine");
        assertEquals("spark", engine.get("engine").asText());
        assertEquals("local[2]", engine.get("master").asText());
        assertEquals(3, engine.get("partitions").asInt());
        JsonNode localEngine = JSON.readTree(local.resolve("provenance.json").toFile()).get("execution").get("engine");
        assertEquals("local", localEngine.get("engine").asText());
        // both runs of the class share one executor-side load of the experiment (one JVM, one fingerprint per file)
        assertEquals(1, ExecutorSide.loads());
    }

    @Test
    void aPassTheActivationCacheHoldsIsReadFromItAsInALocalRun() throws IOException {
        Path cache = work.resolve("cache");
        Path local = work.resolve("cached-local");
        Path onSpark = work.resolve("cached-spark");
        Cli l = cli("run", quickstart("").toString(), "--out", local.toString(), "--cache-dir", cache.toString());
        assertEquals(0, l.code(), l.err());
        Cli s = cli("run", quickstart("").toString(), "--out", onSpark.toString(), "--cache-dir", cache.toString(),
                "--engine", "spark:local[2]");
        assertEquals(0, s.code(), s.err());
        JsonNode notes = JSON.readTree(onSpark.resolve("provenance.json").toFile()).get("execution").get("notes");
        assertTrue(notes.toString().contains("read from cache"), notes.toString());
        assertTrue(!notes.toString().contains("on Spark"), notes.toString());
        for (String f : files(local.resolve("census"))) {
            if (f.endsWith(".npy")) {
                assertArrayEquals(Files.readAllBytes(local.resolve("census").resolve(f)),
                        Files.readAllBytes(onSpark.resolve("census").resolve(f)), f);
            }
        }
    }

    @Test
    void partitionsAreContiguousRangesOfWholeBatchesInDataOrder() {
        List<long[]> r = SparkEngine.ranges(1000, 256, 3);
        assertEquals(3, r.size());
        assertArrayEquals(new long[]{0, 0, 256}, r.get(0));
        assertArrayEquals(new long[]{1, 256, 512}, r.get(1));
        assertArrayEquals(new long[]{2, 512, 1000}, r.get(2));
        // never more partitions than batches; an unknown size is one open range
        assertEquals(4, SparkEngine.ranges(1000, 256, 64).size());
        assertArrayEquals(new long[]{0, 0, Long.MAX_VALUE}, SparkEngine.ranges(-1, 256, 8).get(0));
        long covered = 0;
        for (long[] p : SparkEngine.ranges(100_003, 100, 7)) {
            assertEquals(covered, p[1]);
            assertEquals(0, p[1] % 100);
            covered = p[2];
        }
        assertEquals(100_003, covered);
    }

    /** An accumulator with no Serializable: the engine refuses it before any task runs, naming step and analyzer. */
    static final class Unserializable implements StreamingAnalyzer.Accumulator {
        public void accept(ActivationBatch batch) {
        }

        public void merge(StreamingAnalyzer.Accumulator other) {
        }

        public AnalysisResult finish() {
            return null;
        }
    }

    @Test
    void aNonSerializableAccumulatorIsRefusedUpFrontNamingStepAndAnalyzer() {
        try (SparkEngine engine = new SparkEngine(EngineSpec.ofOption("spark:local[2]", null),
                new ExperimentSource("/nowhere/x.yaml", "experiment: x", List.of(), "0.1.0"))) {
            PassEngine.Outcome o = engine.run(new PassJob("probe", List.of("mine"), Map.of("mine", "my-analyzer"), 256, 1000,
                    Map.of("mine", new Unserializable()), ProgressReporter.NONE, () -> false));
            RuntimeException e = o.failures().get("mine");
            assertTrue(e instanceof ConfigException, String.valueOf(e));
            assertTrue(e.getMessage().contains("step 'mine' (analyzer 'my-analyzer')"), e.getMessage());
            assertTrue(e.getMessage().contains("not java.io.Serializable"), e.getMessage());
            assertEquals(0, o.partitions());
        }
    }

    /** Serializable, so it passes the engine's check; its pass never starts. */
    static final class Empty implements StreamingAnalyzer.Accumulator, java.io.Serializable {
        private static final long serialVersionUID = 1L;

        public void accept(ActivationBatch batch) {
        }

        public void merge(StreamingAnalyzer.Accumulator other) {
        }

        public AnalysisResult finish() {
            return null;
        }
    }

    @Test
    void anExperimentMissingOnTheExecutorsFailsThePassSayingWhatMustBeThere() {
        try (SparkEngine engine = new SparkEngine(EngineSpec.ofOption("spark:local[2]", null),
                new ExperimentSource(work.resolve("missing.yaml").toString(), "experiment: missing\nsteps: []\n",
                        List.of(work.resolve("no-bundles").toString()), "0.1.0"))) {
            RuntimeException e = assertThrows(RuntimeException.class, () -> engine.run(new PassJob("probe", List.of("s"),
                    Map.of("s", "a"), 256, 512, Map.of("s", new Empty()), ProgressReporter.NONE, () -> false)));
            assertTrue(e.getMessage().contains("the Spark job of the pass over 'probe' failed"), e.getMessage());
            assertTrue(e.getMessage().contains("must exist on every executor at the same paths"), e.getMessage());
        }
    }

    @Test
    void aBadMasterOrEngineIsAClearError() throws IOException {
        ConfigException bad = assertThrows(ConfigException.class, () -> EngineSpec.ofOption("spark:locl[2]", null));
        assertTrue(bad.getMessage().contains("'locl[2]' is not a Spark master URL; valid: local, local[N]"), bad.getMessage());
        assertThrows(ConfigException.class, () -> EngineSpec.ofOption("flink", null));
        assertThrows(ConfigException.class, () -> EngineSpec.ofOption("spark:", null));
        assertThrows(ConfigException.class, () -> EngineSpec.ofConfig(Map.of("type", "spark", "threadsPerTask", 0)));

        Cli c = cli("run", quickstart("").toString(), "--out", work.resolve("bad-master").toString(), "--engine", "spark:local[two]");
        assertNotEquals(0, c.code());
        assertTrue(c.err().contains("'local[two]' is not a Spark master URL"), c.err());

        // an unknown key under engine: is rejected by validation, with the valid keys
        Cli k = cli("validate", quickstart("engine: {type: spark, masters: local}\n").toString());
        assertNotEquals(0, k.code());
        assertTrue(k.err().contains("masters"), k.err());
        Cli v = cli("validate", quickstart("engine: {type: spark, partitions: 0}\n").toString());
        assertNotEquals(0, v.code());
        assertTrue(v.err().contains("engine.partitions must be between 1 and 100000, found 0"), v.err());
        Cli ok = cli("validate", quickstart("engine: {type: spark, master: \"local[2]\", threadsPerTask: 1}\n").toString());
        assertEquals(0, ok.code(), ok.err());
    }

    @Test
    void threadsPerTaskAndTheJavacppCacheReachTheExecutors() {
        EngineSpec spec = EngineSpec.ofConfig(Map.of("type", "spark", "master", "spark://head:7077", "threadsPerTask", 2,
                "javacppCache", "/scratch/javacpp"));
        SparkConf conf = SparkEngine.conf(spec, new ExperimentSource("/x/e.yaml", "experiment: e", List.of(), "0.1.0"));
        assertEquals("spark://head:7077", conf.get("spark.master"));
        assertEquals("2", conf.get("spark.executorEnv.TF_NUM_INTRAOP_THREADS"));
        assertEquals("-Dorg.bytedeco.javacpp.cachedir=/scratch/javacpp", conf.get("spark.executor.extraJavaOptions"));
        assertEquals("neuronmonkey e.yaml", conf.get("spark.app.name"));
    }

    @Test
    void underSparkSubmitARunWithoutEngineRunsOnSpark() {
        assertArrayEquals(new String[]{"run", "x.yaml", "--engine", "spark"},
                SparkMain.arguments(new String[]{"run", "x.yaml"}, "yarn"));
        assertArrayEquals(new String[]{"run", "x.yaml", "--engine", "local"},
                SparkMain.arguments(new String[]{"run", "x.yaml", "--engine", "local"}, "yarn"));
        assertArrayEquals(new String[]{"run", "x.yaml"}, SparkMain.arguments(new String[]{"run", "x.yaml"}, null));
    }

    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(new TreeSet<>(s.map(p -> p.getFileName().toString()).toList()));
        }
    }

    static JsonNode withoutSeconds(Path resultJson) throws IOException {
        ObjectNode n = (ObjectNode) JSON.readTree(resultJson.toFile());
        n.remove("seconds");
        return n;
    }
}
