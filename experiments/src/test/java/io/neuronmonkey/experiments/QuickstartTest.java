package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped quickstart, run exactly as the README says, through the launcher on the module path with the four
 * plugin bundles the build produced. Asserts on the numbers written, including the planted ground truth.
 */
class QuickstartTest {

    @TempDir
    static Path work;
    static Path out;
    static Launcher.Result run;
    static JsonNode census;

    @BeforeAll
    static void runQuickstart() throws Exception {
        out = work.resolve("quickstart-run");
        run = Launcher.run(work, "run", Launcher.ROOT.resolve("experiments/quickstart.yaml").toString(), "--out", out.toString(),
                "--threads", "4");
        census = new ObjectMapper().readTree(out.resolve("census/result.json").toFile());
    }

    @Test
    void quickstartSucceedsAndWritesEveryDocumentedFile() {
        assertEquals(0, run.code(), run.all());
        for (String f : List.of("provenance.json", "experiment.yaml", "report.html", "census/result.json",
                "census/conv1-mean.npy", "top-examples/conv2-top-inputs.npy", "watermark-hunt/result.json",
                "histograms/census-dense1.png", "top-grids/top-examples-conv2-top.png", "report/artifacts.json")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing; " + run.all());
        }
        assertTrue(run.out().trim().endsWith(out.toString()), run.out());
    }

    @Test
    void censusCoversEveryRequestedLayerWithConsistentCounts() throws IOException {
        JsonNode s = census.get("summary");
        assertEquals(4000, s.get("examples").asInt());
        assertEquals(List.of("circle", "square", "triangle", "cross"),
                new ObjectMapper().convertValue(s.get("classNames"), List.class));
        String[] expected = {"conv1", "pool1", "conv2", "pool2", "dense1", "logits", "probabilities"};
        int[] neurons = {8, 8, 16, 16, 32, 4, 4};
        assertEquals(expected.length, s.get("layers").size());
        for (int i = 0; i < expected.length; i++) {
            JsonNode l = s.get("layers").get(i);
            assertEquals(expected[i], l.get("name").asText());
            assertEquals(neurons[i], l.get("neurons").asInt());
            long total = 0;
            for (JsonNode c : l.get("histogram").get("counts")) {
                total += c.asLong();
            }
            assertEquals(4000L * neurons[i], total, "every (example, neuron) value is in the pooled histogram of " + expected[i]);
            float[] rate = npy(out.resolve("census/" + l.get("arrays").get("firingRate").asText() + ".npy"));
            for (JsonNode d : l.get("dead")) {
                assertEquals(0f, rate[d.asInt()], "dead neuron " + d + " of " + expected[i] + " never fires");
            }
        }
        JsonNode probs = s.get("layers").get(6);
        float[] mean = npy(out.resolve("census/probabilities-mean.npy"));
        float sum = 0;
        for (float m : mean) {
            sum += m;
        }
        assertEquals(1.0, sum, 1e-4, "softmax outputs average to a distribution");
        assertEquals("Softmax", probs.get("opType").asText());
    }

    @Test
    void demoModelLearnedTheShapesAndThePlantedWatermarkShortcutShows() throws IOException {
        // mean predicted probability of the true class, per class, on the decorrelated split
        float[] cm = npy(out.resolve("census/probabilities-class-mean.npy"));
        double[] own = new double[4];
        for (int k = 0; k < 4; k++) {
            own[k] = cm[k * 4 + k];
            assertTrue(own[k] > 0.6, "class " + k + " is recognised: " + own[k]);
        }
        // squares carry the watermark in training; where it is independent of the label they are recognised worst
        for (int k : new int[]{0, 2, 3}) {
            assertTrue(own[1] < own[k], "square (shortcut class) " + own[1] + " vs class " + k + " " + own[k]);
        }
    }

    @Test
    void reportIsSelfContainedAndShowsRealNumbers() throws IOException {
        String html = Files.readString(out.resolve("report.html"), StandardCharsets.UTF_8);
        assertFalse(html.contains("http://") || html.contains("https://"), "no external references");
        for (String layer : List.of("conv1", "pool2", "dense1", "probabilities")) {
            assertTrue(html.contains(layer), layer);
        }
        Matcher m = Pattern.compile("data:image/png;base64,([A-Za-z0-9+/=]+)").matcher(html);
        int images = 0;
        while (m.find()) {
            byte[] png = Base64.getDecoder().decode(m.group(1));
            assertEquals((byte) 0x89, png[0]);
            images++;
        }
        assertEquals(20, images, "7 histograms + 7 heatmaps + 3 top-k grids + 3 effect-size charts embedded");
        JsonNode dense = census.get("summary").get("layers").get(4);
        String deadPct = String.format(java.util.Locale.ROOT, "%.1f%%", 100 * dense.get("deadFraction").asDouble());
        assertTrue(html.contains(deadPct), "dense1 dead percentage " + deadPct + " is in the report");
    }

    @Test
    void plantedWatermarkNeuronRanksFirstAndItsTopExamplesCarryTheWatermark() throws IOException {
        JsonNode breakdown = new ObjectMapper().readTree(out.resolve("watermark-hunt/result.json").toFile()).get("summary");
        JsonNode watermark = null;
        for (JsonNode k : breakdown.get("overall")) {
            if (k.get("key").asText().equals("watermark")) {
                watermark = k;
            }
        }
        assertTrue(watermark != null, breakdown.toString());
        assertEquals("on vs off", watermark.get("contrast").asText());
        JsonNode first = watermark.get("ranking").get(0);
        String layer = first.get("layer").asText();
        int neuron = first.get("neuron").asInt();
        assertTrue(layer.startsWith("conv"), "a convolutional neuron sees the 3x3 patch: " + first);
        assertTrue(first.get("effectSize").asDouble() > 2.0, "a large standardized difference: " + first);
        // with the watermark independent of the label in this split, no class effect explains it: its top examples
        // carry the watermark far more often than the 50% base rate
        JsonNode top = new ObjectMapper().readTree(out.resolve("top-examples/result.json").toFile()).get("summary");
        for (JsonNode l : top.get("layers")) {
            if (l.get("name").asText().equals(layer)) {
                int on = 0;
                JsonNode kept = l.get("neuronStats").get(neuron).get("top");
                for (JsonNode e : kept) {
                    on += e.get("metadata").get("watermark").asText().equals("on") ? 1 : 0;
                }
                assertTrue(on >= kept.size() - 1, on + " of " + kept.size() + " top examples of " + layer + " #" + neuron + " carry the watermark");
            }
        }
    }

    @Test
    void resultsAreIdenticalForOneAndFourThreads() throws Exception {
        Path single = work.resolve("quickstart-one-thread");
        Launcher.Result r = Launcher.run(work, "run", Launcher.ROOT.resolve("experiments/quickstart.yaml").toString(),
                "--out", single.toString(), "--threads", "1", "--no-cache");
        assertEquals(0, r.code(), r.all());
        ObjectMapper json = new ObjectMapper();
        for (String step : List.of("census", "top-examples", "watermark-hunt")) {
            assertEquals(json.readTree(out.resolve(step + "/result.json").toFile()).get("summary"),
                    json.readTree(single.resolve(step + "/result.json").toFile()).get("summary"), step);
            try (var files = Files.list(out.resolve(step))) {
                for (Path f : files.filter(p -> p.toString().endsWith(".npy")).toList()) {
                    assertTrue(java.util.Arrays.equals(Files.readAllBytes(f), Files.readAllBytes(single.resolve(step).resolve(f.getFileName()))),
                            step + "/" + f.getFileName() + " differs between 4 threads and 1");
                }
            }
        }
    }

    @Test
    void censusDiffAgainstThisRunAsBaselineFindsNoShift() throws Exception {
        // the same model, data and census settings as the quickstart, compared with the quickstart's census on disk
        Path yaml = Files.writeString(work.resolve("self-diff.yaml"), """
                experiment: self-diff
                seed: 42
                model: {backend: tensorflow, path: MODEL}
                data: {probe: {source: synthetic-shapes, params: {split: decorrelated, count: 4000}}}
                steps:
                  - {id: census, analyzer: activation-stats, layers: [conv1, dense1], params: {reduce: mean, bins: 32}}
                  - {id: diff, analyzer: census-diff, inputs: [census], params: {baseline: BASELINE}}
                """.replace("MODEL", Launcher.ROOT.resolve("experiments/models/shapes-cnn").toString())
                .replace("BASELINE", out.resolve("census").toString()));
        Path diffOut = work.resolve("self-diff-run");
        Launcher.Result r = Launcher.run(work, "run", yaml.toString(), "--out", diffOut.toString());
        assertEquals(0, r.code(), r.all());
        JsonNode layers = new ObjectMapper().readTree(diffOut.resolve("diff/result.json").toFile()).get("summary").get("layers");
        assertEquals(2, layers.size(), "conv1 and dense1 are in both censuses");
        for (JsonNode l : layers) {
            for (JsonNode n : l.get("top")) {
                assertEquals(0.0, n.get("shift").asDouble(), 0.0, l.get("name") + ": " + n);
            }
            assertEquals(0, l.get("changedClass").size());
        }
    }

    @Test
    void provenanceRecordsHashesVersionsAndSteps() throws IOException {
        JsonNode p = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals("completed", p.get("status").asText());
        assertEquals(42, p.get("seed").asInt());
        assertTrue(p.get("model").get("sha256").asText().matches("[0-9a-f]{64}"));
        assertTrue(p.get("data").get("probe").get("sha256").asText().matches("[0-9a-f]{64}"));
        assertEquals(4, p.get("plugins").size());
        assertEquals(8, p.get("steps").size());
        assertEquals(4, p.get("execution").get("threads").asInt());
        assertTrue(p.get("java").get("version").asText().length() > 0);
    }

    static float[] npy(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        String header = new String(b, 10, headerLen, StandardCharsets.US_ASCII);
        assertTrue(header.contains("'descr': '<f4'"), header);
        ByteBuffer data = ByteBuffer.wrap(b, 10 + headerLen, b.length - 10 - headerLen).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[(b.length - 10 - headerLen) / 4];
        data.asFloatBuffer().get(f);
        return f;
    }

    @Test
    void npyFilesAreReadableByTheIndependentReader() throws IOException {
        float[] mean = npy(out.resolve("census/dense1-mean.npy"));
        JsonNode stats = census.get("summary").get("layers").get(4).get("neuronStats");
        assertEquals(32, mean.length);
        for (int i = 0; i < 32; i++) {
            assertEquals(stats.get(i).get("mean").asDouble(), mean[i], 1e-6);
        }
    }
}
