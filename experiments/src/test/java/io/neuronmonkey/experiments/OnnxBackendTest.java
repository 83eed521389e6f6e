package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import io.neuronmonkey.onnx.OnnxBuilder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The second backend end to end: the committed demo CNN (a TensorFlow SavedModel) exported to an equivalent ONNX file
 * as a PyTorch export would write it (NCHW, OIHW kernels, a channels-first flatten), then the same census through both
 * backends on the same synthetic shapes, and the quickstart-style steps (census, top-k, breakdown, evaluate,
 * occlusion, ablation, activation patching) with {@code backend: onnx}, through the real launcher.
 */
class OnnxBackendTest {

    static final String[] LAYERS = {"conv1", "pool1", "conv2", "pool2", "dense1", "logits", "probabilities"};

    @TempDir
    static Path work;
    static Path onnx;
    static Launcher.Result tfCensus;
    static Launcher.Result onnxCensus;
    static Launcher.Result story;

    @BeforeAll
    static void exportAndRun() throws Exception {
        onnx = exportDemoCnn(Launcher.ROOT.resolve("experiments/models/shapes-cnn"), work.resolve("shapes-cnn.onnx"));
        Files.copy(onnx, Path.of("/tmp/shapes-cnn.onnx"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        tfCensus = Launcher.run(work, "run", write("census-tf.yaml", census("tensorflow",
                Launcher.ROOT.resolve("experiments/models/shapes-cnn"))).toString(), "--out",
                work.resolve("census-tf").toString(), "--no-cache");
        onnxCensus = Launcher.run(work, "run", write("census-onnx.yaml", census("onnx", onnx)).toString(), "--out",
                work.resolve("census-onnx").toString(), "--no-cache");
        story = Launcher.run(work, "run", write("story-onnx.yaml", story(onnx)).toString(), "--out",
                work.resolve("story-onnx").toString(), "--no-cache");
    }

    static Path write(String name, String yaml) throws IOException {
        return Files.writeString(work.resolve(name), yaml, StandardCharsets.UTF_8);
    }

    static String census(String backend, Path model) {
        return """
                experiment: census-%s
                seed: 42
                batchSize: 256
                model:
                  backend: %s
                  path: %s
                data:
                  probe:
                    source: synthetic-shapes
                    params: {split: decorrelated, count: 1000}
                steps:
                  - id: census
                    analyzer: activation-stats
                    data: probe
                    layers: [conv1, pool1, conv2, pool2, dense1, logits, probabilities]
                    params: {reduce: mean, threshold: 0.0, bins: 32}
                """.formatted(backend, backend, model);
    }

    /** The quickstart's streaming steps and the watermark story's gradient-free ones, as the shipped files write them. */
    static String story(Path model) {
        return """
                experiment: onnx-story
                seed: 42
                batchSize: 256
                model:
                  backend: onnx
                  path: %s
                data:
                  probe:
                    source: synthetic-shapes
                    params: {split: decorrelated, count: 2000}
                  clean:
                    source: synthetic-shapes
                    params: {split: test, count: 400, watermark: off}
                  watermarked:
                    source: synthetic-shapes
                    params: {split: test, count: 400, watermark: on}
                steps:
                  - id: census
                    analyzer: activation-stats
                    data: probe
                    layers: [conv1, pool1, conv2, pool2, dense1, logits, probabilities]
                    params: {reduce: mean, threshold: 0.0, bins: 32}
                  - id: top-examples
                    analyzer: top-activations
                    data: probe
                    layers: [conv1, conv2, dense1]
                    params: {k: 8, reduce: max}
                  - id: watermark-hunt
                    analyzer: activation-breakdown
                    data: probe
                    layers: [conv1, conv2, dense1, logits]
                    params: {keys: [class, watermark, texture], reduce: max}
                  - id: evaluate
                    analyzer: evaluate
                    data: probe
                    layers: [logits]
                  - id: square-occlusion
                    analyzer: occlusion
                    data: probe
                    params: {target: "class:square", where: {class: square, watermark: "on"}, limit: 32, patch: 3,
                             stride: 3, roi: [24, 24, 26, 26], keep: 8}
                  - id: watermark-ablation
                    analyzer: ablation
                    data: probe
                    inputs: [watermark-hunt]
                    params: {layer: conv2, ranking: watermark-hunt/watermark-ranking, top: 2, watchClass: square,
                             where: {class: square, watermark: "on"}, limit: 512}
                  - id: watermark-patching
                    analyzer: activation-patching
                    data: clean
                    layers: [conv2]
                    params: {source: watermarked, target: "class:square", where: {class: square}, limit: 200}
                  - id: report
                    visualizer: html-report
                """.formatted(model);
    }

    @org.junit.jupiter.api.AfterAll
    static void keep() throws Exception {
        for (String d : List.of("census-tf", "census-onnx", "story-onnx")) {
            new ProcessBuilder("cp", "-r", work.resolve(d).toString(), "/tmp/keep-" + d).start().waitFor();
        }
        Files.writeString(Path.of("/tmp/keep-story.txt"), story.all());
    }

    @Test
    void bothBackendsGiveTheSameCensusWithinOneInAHundredThousand() throws IOException {
        assertEquals(0, tfCensus.code(), tfCensus.all());
        assertEquals(0, onnxCensus.code(), onnxCensus.all());
        RunFolder tf = new RunFolder(work.resolve("census-tf"));
        RunFolder ox = new RunFolder(work.resolve("census-onnx"));
        int compared = 0;
        // every array of the census: per-neuron statistics, quantiles, histograms, class means
        List<Path> arrays;
        try (var files = Files.list(tf.dir().resolve("census"))) {
            arrays = files.filter(p -> p.toString().endsWith(".npy")).sorted().toList();
        }
        for (Path file : arrays) {
            float[] a = RunFolder.npy(file);
            float[] b = RunFolder.npy(ox.dir().resolve("census").resolve(file.getFileName()));
            assertEquals(a.length, b.length, file.getFileName().toString());
            for (int i = 0; i < a.length; i++) {
                double scale = Math.max(1.0, Math.abs(a[i]));
                assertTrue(Math.abs(a[i] - b[i]) <= 1e-5 * scale || Float.isNaN(a[i]) && Float.isNaN(b[i]),
                        file.getFileName() + " [" + i + "]: tensorflow " + a[i] + ", onnx " + b[i]);
                compared++;
            }
        }
        for (String layer : LAYERS) {
            assertTrue(Files.isRegularFile(ox.dir().resolve("census").resolve(layer + "-stats.mean.npy")), layer);
        }
        assertTrue(compared > 3000, "compared " + compared + " values");
        JsonNode summary = ox.result("census").get("summary");
        assertEquals(1000, summary.get("examples").asInt());
    }

    @Test
    void quickstartStepsRunOnTheOnnxModel() throws IOException {
        assertEquals(0, story.code(), story.all());
        RunFolder f = new RunFolder(work.resolve("story-onnx"));
        f.assertValidAgainstSchemas();
        for (String file : List.of("census/result.json", "top-examples/conv2-top.inputs.npy", "watermark-hunt/result.json",
                "evaluate/result.json", "square-occlusion/result.json", "watermark-ablation/result.json",
                "watermark-patching/result.json", "report.html")) {
            assertTrue(Files.isRegularFile(work.resolve("story-onnx").resolve(file)), file + " missing; " + story.all());
        }
        // the planted shortcut shows through the second backend as through the first
        assertTrue(story.err().contains("conv2 #4 tracks watermark"), story.err());
        String provenance = Files.readString(work.resolve("story-onnx/provenance.json"));
        assertTrue(provenance.contains("onnx-backend"), provenance);
    }

    @Test
    void inspectListsTheOnnxLayers() throws Exception {
        Launcher.Result r = Launcher.run(work, "inspect", "--backend", "onnx", "--model", onnx.toString());
        assertEquals(0, r.code(), r.all());
        for (String layer : LAYERS) {
            assertTrue(r.out().contains(layer), layer + " in " + r.out());
        }
        assertTrue(r.out().contains("[28, 28, 8]") && r.out().contains("[8, 28, 28] channel axis 1"), r.out());
    }

    /**
     * Reads the SavedModel's variables with TensorFlow Java and writes the same network as ONNX (opset 17): NCHW
     * input, Conv with OIHW kernels and pads 1 (SAME for 3x3), MaxPool 2, Flatten (channels first, so the first dense
     * layer's rows are reordered from TensorFlow's HWC order to CHW), Gemm, Relu, Softmax.
     *
     * @return the written file
     */
    static Path exportDemoCnn(Path savedModel, Path file) throws IOException {
        Map<String, float[]> w = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (SavedModelBundle b = SavedModelBundle.load(savedModel.toString(), "serve")) {
            for (String v : List.of("conv1_w", "conv1_b", "conv2_w", "conv2_b", "dense1_w", "dense1_b", "logits_w",
                    "logits_b")) {
                try (Result r = b.session().runner().fetch(v).run()) {
                    Tensor t = r.get(0);
                    float[] values = new float[Math.toIntExact(t.shape().size())];
                    t.asRawTensor().data().asFloats().read(values);
                    w.put(v, values);
                    shapes.put(v, t.shape().asArray());
                }
            }
        }
        long[] k1 = shapes.get("conv1_w");
        long[] k2 = shapes.get("conv2_w");
        long[] d1 = shapes.get("dense1_w");
        long[] lw = shapes.get("logits_w");
        int c2 = (int) k2[3];
        int side = (int) Math.round(Math.sqrt(d1[0] / (double) c2));
        return new OnnxBuilder(17).input("images", -1L, k1[2], 28, 28)
                .floats("conv1.weight", oihw(w.get("conv1_w"), k1), k1[3], k1[2], k1[0], k1[1])
                .floats("conv1.bias", w.get("conv1_b"), k1[3])
                .floats("conv2.weight", oihw(w.get("conv2_w"), k2), k2[3], k2[2], k2[0], k2[1])
                .floats("conv2.bias", w.get("conv2_b"), k2[3])
                .floats("dense1.weight", chwRows(w.get("dense1_w"), side, side, c2, (int) d1[1]), d1[0], d1[1])
                .floats("dense1.bias", w.get("dense1_b"), d1[1])
                .floats("logits.weight", w.get("logits_w"), lw[0], lw[1])
                .floats("logits.bias", w.get("logits_b"), lw[1])
                .node("Conv", new String[] {"images", "conv1.weight", "conv1.bias"}, "conv1_bias",
                        "kernel_shape", new long[] {3, 3}, "pads", new long[] {1, 1, 1, 1})
                .node("Relu", "conv1_bias", "conv1")
                .node("MaxPool", "conv1", "pool1", "kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})
                .node("Conv", new String[] {"pool1", "conv2.weight", "conv2.bias"}, "conv2_bias",
                        "kernel_shape", new long[] {3, 3}, "pads", new long[] {1, 1, 1, 1})
                .node("Relu", "conv2_bias", "conv2")
                .node("MaxPool", "conv2", "pool2", "kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})
                .node("Flatten", "pool2", "flatten", "axis", 1L)
                .node("Gemm", new String[] {"flatten", "dense1.weight", "dense1.bias"}, "dense1_bias")
                .node("Relu", "dense1_bias", "dense1")
                .node("Gemm", new String[] {"dense1", "logits.weight", "logits.bias"}, "logits")
                .node("Softmax", "logits", "probabilities", "axis", 1L)
                .output("probabilities")
                .write(file);
    }

    /** TensorFlow's {@code [kh, kw, in, out]} kernel as ONNX's {@code [out, in, kh, kw]}. */
    static float[] oihw(float[] hwio, long[] s) {
        int kh = (int) s[0];
        int kw = (int) s[1];
        int in = (int) s[2];
        int out = (int) s[3];
        float[] o = new float[hwio.length];
        for (int y = 0; y < kh; y++) {
            for (int x = 0; x < kw; x++) {
                for (int i = 0; i < in; i++) {
                    for (int c = 0; c < out; c++) {
                        o[((c * in + i) * kh + y) * kw + x] = hwio[((y * kw + x) * in + i) * out + c];
                    }
                }
            }
        }
        return o;
    }

    /** Dense rows in the order an NHWC flatten gives ({@code (h * W + w) * C + c}) moved to NCHW's ({@code c * H * W + h * W + w}). */
    static float[] chwRows(float[] hwcRows, int h, int w, int c, int units) {
        float[] o = new float[hwcRows.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int k = 0; k < c; k++) {
                    System.arraycopy(hwcRows, ((y * w + x) * c + k) * units, o, ((k * h + y) * w + x) * units, units);
                }
            }
        }
        return o;
    }
}
