package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.htmlunit.WebClient;
import org.htmlunit.html.DomElement;
import org.htmlunit.html.HtmlPage;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
    static RunFolder folder;
    static JsonNode census;

    static final String[] LAYERS = {"conv1", "pool1", "conv2", "pool2", "dense1", "logits", "probabilities"};
    static final int[] NEURONS = {8, 8, 16, 16, 32, 4, 4};

    @BeforeAll
    static void runQuickstart() throws Exception {
        out = work.resolve("quickstart-run");
        run = Launcher.run(work, "run", Launcher.ROOT.resolve("experiments/quickstart.yaml").toString(), "--out", out.toString(),
                "--threads", "4");
        folder = new RunFolder(out);
        census = folder.result("census");
    }

    @Test
    void quickstartSucceedsAndWritesEveryDocumentedFile() {
        assertEquals(0, run.code(), run.all());
        for (String f : List.of("provenance.json", "experiment.yaml", "report.html", "index.json", "census/result.json",
                "census/conv1-stats.mean.npy", "top-examples/conv2-top.inputs.npy", "watermark-hunt/result.json",
                "histograms/census-dense1-histogram.png", "top-grids/top-examples-conv2-top.png", "report/artifacts.json",
                "evaluate/result.json", "evaluate/predictions.npy")) {
            assertTrue(Files.isRegularFile(out.resolve(f)), f + " missing; " + run.all());
        }
        assertTrue(run.out().trim().endsWith(out.toString()), run.out());
        // the console ends with what was found, most important first
        int findings = run.err().indexOf("\nfindings:\n");
        assertTrue(findings > 0, run.err());
        assertTrue(run.err().startsWith("  notable: conv2 #4 tracks watermark", findings + "\nfindings:\n".length()),
                run.err().substring(findings));
    }

    @Test
    void everyResultAndTheIndexMatchTheShippedSchemas() throws IOException {
        folder.assertValidAgainstSchemas();
    }

    @Test
    void censusCoversEveryRequestedLayerWithConsistentCounts() throws IOException {
        JsonNode s = census.get("summary");
        assertEquals(4000, s.get("examples").asInt());
        assertEquals(List.of("circle", "square", "triangle", "cross"),
                new ObjectMapper().convertValue(s.get("classNames"), List.class));
        assertEquals(LAYERS.length, s.get("layers").size());
        for (int i = 0; i < LAYERS.length; i++) {
            assertEquals(LAYERS[i], s.get("layers").get(i).get("name").asText());
            JsonNode table = folder.part("census", LAYERS[i] + "-stats");
            assertEquals(NEURONS[i], table.get("neurons").asInt());
            float[] hist = folder.array("census", folder.part("census", LAYERS[i] + "-histogram").get("values"));
            double total = 0;
            for (float c : hist) {
                total += c;
            }
            assertEquals(4000.0 * NEURONS[i], total, "every (example, neuron) value is in the histograms of " + LAYERS[i]);
            float[] rate = folder.column("census", LAYERS[i] + "-stats", "firingRate");
            for (int d : folder.tag("census", LAYERS[i] + "-stats", "dead")) {
                assertEquals(0f, rate[d], "dead neuron " + d + " of " + LAYERS[i] + " never fires");
            }
            // quantiles and the mean lie within [min, max]
            float[] min = folder.column("census", LAYERS[i] + "-stats", "min");
            float[] max = folder.column("census", LAYERS[i] + "-stats", "max");
            for (String q : List.of("mean", "p01", "p50", "p99")) {
                float[] v = folder.column("census", LAYERS[i] + "-stats", q);
                for (int n = 0; n < v.length; n++) {
                    assertTrue(v[n] >= min[n] - 1e-6 && v[n] <= max[n] + 1e-6, LAYERS[i] + " #" + n + " " + q + " " + v[n]
                            + " outside [" + min[n] + ", " + max[n] + "]");
                }
            }
        }
        float[] mean = folder.column("census", "probabilities-stats", "mean");
        float sum = 0;
        for (float m : mean) {
            sum += m;
        }
        assertEquals(1.0, sum, 1e-4, "softmax outputs average to a distribution");
        assertEquals("Softmax", s.get("layers").get(6).get("opType").asText());
    }

    @Test
    void demoModelLearnedTheShapesAndThePlantedWatermarkShortcutShows() throws IOException {
        // mean predicted probability of the true class, per class, on the decorrelated split
        JsonNode m = folder.part("census", "probabilities-class-mean");
        assertEquals("class", m.get("rows").get("name").asText());
        assertEquals(List.of("class", "neuron"), new ObjectMapper().convertValue(m.get("values").get("dims"), List.class));
        float[] cm = folder.array("census", m.get("values"));
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
    void reportIsSelfContainedAndEmbedsEveryPicture() throws IOException {
        String html = Files.readString(out.resolve("report.html"), StandardCharsets.UTF_8);
        Matcher external = Pattern.compile("(src|href)\\s*=\\s*[\"']?\\s*(https?:|//)|url\\(\\s*['\"]?(https?:|//)").matcher(html);
        assertFalse(external.find(), "no external references: " + (external.find(0) ? html.substring(external.start(),
                Math.min(html.length(), external.start() + 80)) : ""));
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
        assertTrue(images >= 20, "7 histograms + 7 heatmaps + 3 top-k grids + 3 effect-size charts, and example rows: " + images);
        int dead = folder.tag("census", "dense1-stats", "dead").size();
        int part = html.indexOf("id=\"part-census--dense1-stats\"");
        assertTrue(part > 0 && html.indexOf("dead: " + dead, part) > part, "dense1's " + dead + " dead neurons are counted");
    }

    @Test
    void reportOpensOnTheWatermarkFindingAndItsScriptsRun() throws IOException {
        JsonNode first = folder.part("watermark-hunt", "watermark-ranking").get("entries").get(0);
        String neuron = first.get("layer").asText() + " #" + first.get("neuron").asInt();
        try (WebClient wc = new WebClient()) {
            HtmlPage page = folder.report(wc);
            DomElement findings = page.getElementsByTagName("section").get(0);
            assertEquals("findings", findings.getId());
            DomElement lead = null;
            for (DomElement e : findings.getHtmlElementDescendants()) {
                if (e.getAttribute("class").startsWith("finding ")) {
                    lead = e;
                    break;
                }
            }
            assertTrue(lead != null, findings.asNormalizedText());
            String text = lead.asNormalizedText();
            assertTrue(text.contains(neuron) && text.contains("watermark") && text.contains("Cohen's d"),
                    "the first finding is the watermark neuron " + neuron + ": " + text);
            assertTrue(lead.asXml().contains("data:image/png"), "with its top examples inline");
        }
    }

    @Test
    void plantedWatermarkNeuronRanksFirstAndItsTopExamplesCarryTheWatermark() throws IOException {
        JsonNode ranking = folder.part("watermark-hunt", "watermark-ranking");
        JsonNode first = ranking.get("entries").get(0);
        String layer = first.get("layer").asText();
        int neuron = first.get("neuron").asInt();
        assertEquals("conv2", layer, "a convolutional neuron sees the 3x3 patch: " + first);
        assertEquals(4, neuron, "the planted watermark neuron of the demo model: " + first);
        assertTrue(first.get("score").asDouble() > 2.0, "a large standardized difference: " + first);
        assertTrue(first.get("q").asDouble() < 1e-6, "and not by chance: " + first);
        JsonNode ci = first.get("interval");
        assertTrue(ci.get("low").asDouble() < first.get("score").asDouble() && ci.get("high").asDouble() > first.get("score").asDouble(), ci.toString());
        // with the watermark independent of the label in this split, no class effect explains it: its top examples
        // carry the watermark far more often than the 50% base rate
        JsonNode tops = folder.part("top-examples", layer + "-top");
        for (JsonNode n : tops.get("neurons")) {
            if (n.get("neuron").asInt() == neuron) {
                int on = 0;
                for (JsonNode e : n.get("examples")) {
                    on += e.get("metadata").get("watermark").asText().equals("on") ? 1 : 0;
                }
                assertTrue(on >= n.get("examples").size() - 1, on + " of " + n.get("examples").size() + " top examples of "
                        + layer + " #" + neuron + " carry the watermark");
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
        for (String step : List.of("census", "top-examples", "watermark-hunt", "evaluate")) {
            JsonNode a = json.readTree(out.resolve(step + "/result.json").toFile());
            JsonNode b = json.readTree(single.resolve(step + "/result.json").toFile());
            for (String key : List.of("summary", "parts", "findings", "arrays")) {
                assertEquals(a.get(key), b.get(key), step + " " + key);
            }
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
        // no step evaluates the labelled data: the pass says its accuracy anyway, the count evaluate made above
        JsonNode eval = folder.result("evaluate").get("summary");
        String line = String.format(java.util.Locale.ROOT, "accuracy on 'probe': %.4f (%d of 4000), labels vs argmax of 'logits'",
                eval.get("correct").asInt() / 4000.0, eval.get("correct").asInt());
        assertEquals(1, r.err().lines().filter(l -> l.equals(line)).count(), line + " once in: " + r.err());
        assertTrue(run.err().lines().noneMatch(l -> l.startsWith("accuracy on '")), "the quickstart has an evaluate step: " + run.err());
        JsonNode notes = new ObjectMapper().readTree(diffOut.resolve("provenance.json").toFile()).get("execution").get("notes");
        assertTrue(notes.toString().contains(line), "provenance records the line: " + notes);
        RunFolder diff = new RunFolder(diffOut);
        for (String layer : List.of("conv1", "dense1")) {
            for (float shift : diff.column("diff", layer + "-shift", "shift")) {
                assertEquals(0.0, shift, 0.0, layer);
            }
        }
        for (JsonNode e : diff.part("diff", "shift-ranking").get("entries")) {
            assertEquals(0.0, e.get("score").asDouble(), 0.0, e.toString());
        }
    }

    @Test
    void evaluateCountsTheDemoModelsPredictionsOnTheDecorrelatedSplit() throws IOException {
        JsonNode s = folder.result("evaluate").get("summary");
        assertEquals(4000, s.get("examples").asInt());
        int correct = s.get("correct").asInt();
        double accuracy = correct / 4000.0;
        assertEquals(accuracy, s.get("accuracy").asDouble(), 0.0);
        // what was measured (3835 of 4000 for the demo model) lies within its own Wilson interval, below the 0.995 of
        // the held-out split: here the watermark no longer follows the label
        JsonNode ci = s.get("accuracyInterval");
        assertTrue(ci.get("low").asDouble() < accuracy && accuracy < ci.get("high").asDouble(), ci.toString());
        assertTrue(accuracy > 0.93 && ci.get("high").asDouble() < 0.995, "accuracy " + accuracy + ", " + ci);

        // the confusion matrix, recounted from the prediction and label arrays with the independent .npy reader
        JsonNode confusion = folder.part("evaluate", "confusion");
        assertEquals("int32", confusion.get("values").get("dtype").asText());
        assertEquals(List.of("circle", "square", "triangle", "cross"),
                new ObjectMapper().convertValue(confusion.get("rows").get("labels"), List.class));
        float[] cm = folder.array("evaluate", confusion.get("values"));
        JsonNode arrays = folder.result("evaluate").get("arrays");
        float[] predicted = folder.array("evaluate", arrays.get("predictions"));
        float[] labels = folder.array("evaluate", arrays.get("labels"));
        assertEquals(4000, predicted.length);
        float[] recount = new float[16];
        int diagonal = 0;
        for (int e = 0; e < 4000; e++) {
            recount[(int) labels[e] * 4 + (int) predicted[e]]++;
            diagonal += labels[e] == predicted[e] ? 1 : 0;
        }
        assertArrayEquals(recount, cm);
        assertEquals(correct, diagonal);
        // squares carry the watermark in training: off it, they are the class mistaken most
        float[] recall = new float[4];
        float[] perClass = folder.array("evaluate", folder.part("evaluate", "per-class").get("values"));
        for (int k = 0; k < 4; k++) {
            recall[k] = perClass[k * 4 + 1];
            assertEquals(cm[k * 4 + k] / 1000f, recall[k], 1e-6, "recall of class " + k);
        }
        for (int k : new int[]{0, 2, 3}) {
            assertTrue(recall[1] < recall[k], "square " + recall[1] + " vs class " + k + " " + recall[k]);
        }
        // and accuracy depends on the watermark: a notable finding, after the watermark neuron's in the report
        JsonNode differs = null;
        for (JsonNode f : folder.result("evaluate").get("findings")) {
            if (f.get("id").asText().equals("watermark-accuracy-differs")) {
                differs = f;
            }
        }
        assertTrue(differs != null && differs.get("severity").asText().equals("notable"), String.valueOf(differs));
        assertTrue(differs.get("claim").asText().contains("differs with watermark: on 0.9"), differs.toString());
        assertTrue(differs.get("strength").get("value").asDouble() > 0, "with the watermark the model is right more often");

        String html = Files.readString(out.resolve("report.html"), StandardCharsets.UTF_8);
        int part = html.indexOf("id=\"part-evaluate--confusion\"");
        assertTrue(part > 0, "the report has the confusion matrix");
        assertTrue(html.indexOf(">" + (int) cm[5] + "<", part) > part, "with its counts, e.g. the " + (int) cm[5] + " squares");
        assertTrue(html.indexOf("accuracy " + String.format(java.util.Locale.ROOT, "%.4f", accuracy)) > 0);
    }

    @Test
    void pythonSnippetOfTheResultsDocLoadsThisRun() throws Exception {
        Assumptions.assumeTrue(pythonWithNumpy(), "python3 with numpy is not on this machine");
        String doc = Files.readString(Launcher.ROOT.resolve("docs/results.md"));
        Matcher m = Pattern.compile("```python\n(.*?)```", Pattern.DOTALL).matcher(doc);
        assertTrue(m.find(), "docs/results.md has a Python snippet");
        String snippet = m.group(1).replace("runs/quickstart/20261202-101500", out.toString());
        Path script = Files.writeString(work.resolve("snippet.py"), snippet);
        Process p = new ProcessBuilder("python3", script.toString()).redirectErrorStream(true).start();
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), printed);
        assertTrue(printed.contains("conv2 mean per neuron:"), printed);
        assertTrue(printed.contains("conv2 4 4.83"), "the watermark ranking's first entry: " + printed);
    }

    static boolean pythonWithNumpy() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    @Test
    void provenanceRecordsHashesVersionsAndSteps() throws IOException {
        JsonNode p = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals("completed", p.get("status").asText());
        assertEquals(42, p.get("seed").asInt());
        assertTrue(p.get("model").get("sha256").asText().matches("[0-9a-f]{64}"));
        assertTrue(p.get("data").get("probe").get("sha256").asText().matches("[0-9a-f]{64}"));
        java.util.Set<String> plugins = new java.util.HashSet<>();
        p.get("plugins").forEach(x -> plugins.add(x.get("id").asText()));
        assertTrue(plugins.containsAll(List.of("tensorflow-backend", "datasets", "stats-analyzers", "report-visualizers")),
                "the plugins whose extensions the quickstart uses are recorded: " + plugins);
        assertEquals(9, p.get("steps").size());
        assertEquals(4, p.get("execution").get("threads").asInt());
        assertTrue(p.get("java").get("version").asText().length() > 0);
    }
}
