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
    static Path textOnnx;
    static Launcher.Result tfText;
    static Launcher.Result onnxText;

    @BeforeAll
    static void exportAndRun() throws Exception {
        onnx = exportDemoCnn(Launcher.ROOT.resolve("experiments/models/shapes-cnn"), work.resolve("shapes-cnn.onnx"));
        tfCensus = Launcher.run(work, "run", write("census-tf.yaml", census("tensorflow",
                Launcher.ROOT.resolve("experiments/models/shapes-cnn"))).toString(), "--out",
                work.resolve("census-tf").toString(), "--no-cache");
        onnxCensus = Launcher.run(work, "run", write("census-onnx.yaml", census("onnx", onnx)).toString(), "--out",
                work.resolve("census-onnx").toString(), "--no-cache");
        story = Launcher.run(work, "run", write("story-onnx.yaml", story(onnx)).toString(), "--out",
                work.resolve("story-onnx").toString(), "--no-cache");
        Path textModel = Launcher.ROOT.resolve("experiments/models/text-toxic");
        textOnnx = exportTextModel(textModel, work.resolve("text-toxic.onnx"));
        tfText = Launcher.run(work, "run", write("text-tf.yaml", textCensus("tensorflow", textModel)).toString(),
                "--out", work.resolve("text-tf").toString(), "--no-cache");
        onnxText = Launcher.run(work, "run", write("text-onnx.yaml", textCensus("onnx", textOnnx)).toString(),
                "--out", work.resolve("text-onnx").toString(), "--no-cache");
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

    static String textCensus(String backend, Path model) {
        return """
                experiment: text-census-%s
                seed: 42
                batchSize: 128
                model:
                  backend: %s
                  path: %s
                data:
                  probe:
                    source: synthetic-text
                    params: {split: decorrelated, count: 600}
                steps:
                  - id: census
                    analyzer: activation-stats
                    data: probe
                    layers: [embedding, block1/attention, block1/mlp, block1/residual, pooled, logits, probabilities]
                    params: {reduce: mean, threshold: 0.0, bins: 32}
                  - id: evaluate
                    analyzer: evaluate
                    data: probe
                    layers: [logits]
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

    @Test
    void bothBackendsGiveTheSameCensusWithinOneInAHundredThousand() throws IOException {
        assertEquals(0, tfCensus.code(), tfCensus.all());
        assertEquals(0, onnxCensus.code(), onnxCensus.all());
        RunFolder ox = new RunFolder(work.resolve("census-onnx"));
        assertTrue(sameArrays(new RunFolder(work.resolve("census-tf")), ox, "census") > 3000);
        for (String layer : LAYERS) {
            assertTrue(Files.isRegularFile(ox.dir().resolve("census").resolve(layer + "-stats.mean.npy")), layer);
        }
        assertEquals(1000, ox.result("census").get("summary").get("examples").asInt());
    }

    @Test
    void theTextModelTakesTokenIdsAndMaskAndGivesTheSameCensusAndAccuracy() throws IOException {
        assertEquals(0, tfText.code(), tfText.all());
        assertEquals(0, onnxText.code(), onnxText.all());
        RunFolder tf = new RunFolder(work.resolve("text-tf"));
        RunFolder ox = new RunFolder(work.resolve("text-onnx"));
        assertTrue(sameArrays(tf, ox, "census") > 1000);
        assertTrue(sameArrays(tf, ox, "evaluate") > 0);
        JsonNode summary = ox.result("census").get("summary");
        assertEquals(600, summary.get("examples").asInt());
        List<String> listed = new java.util.ArrayList<>();
        summary.get("layers").forEach(l -> listed.add(l.get("name").asText()));
        assertEquals(List.of("embedding", "block1/attention", "block1/mlp", "block1/residual", "pooled", "logits",
                "probabilities"), listed);
    }

    /**
     * Every {@code .npy} array a step of the first run wrote equals the second run's within 1e-5 (relative above 1).
     *
     * @return how many values were compared
     */
    static int sameArrays(RunFolder first, RunFolder second, String step) throws IOException {
        int compared = 0;
        List<Path> arrays;
        try (var files = Files.list(first.dir().resolve(step))) {
            arrays = files.filter(p -> p.toString().endsWith(".npy")).sorted().toList();
        }
        assertTrue(!arrays.isEmpty(), step + " wrote no arrays");
        for (Path file : arrays) {
            float[] a = RunFolder.npy(file);
            float[] b = RunFolder.npy(second.dir().resolve(step).resolve(file.getFileName()));
            assertEquals(a.length, b.length, file.getFileName().toString());
            for (int i = 0; i < a.length; i++) {
                double scale = Math.max(1.0, Math.abs(a[i]));
                assertTrue(Math.abs(a[i] - b[i]) <= 1e-5 * scale || Float.isNaN(a[i]) && Float.isNaN(b[i]),
                        step + " " + file.getFileName() + " [" + i + "]: tensorflow " + a[i] + ", onnx " + b[i]);
                compared++;
            }
        }
        return compared;
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

    /**
     * The demo text model as an export from PyTorch or Hugging Face would have it: int64 {@code input_ids} and
     * {@code attention_mask}, Gather embeddings, LayerNormalization (opset 17), Einsum projections with the
     * SavedModel's weights as they are, Softmax attention over the unmasked keys, ReduceSum pooling over the real
     * tokens; values named as the TensorFlow backend lists the layers.
     *
     * @return the written file
     */
    static Path exportTextModel(Path savedModel, Path file) throws IOException {
        Map<String, float[]> w = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        List<String> names = new java.util.ArrayList<>(List.of("token_table", "position_table", "embedding_gamma",
                "embedding_beta"));
        for (String v : List.of("query_w", "query_b", "key_w", "key_b", "value_w", "value_b", "output_w", "output_b",
                "norm1_gamma", "norm1_beta", "mlp_w", "mlp_b", "mlp_out_w", "mlp_out_b", "norm2_gamma", "norm2_beta")) {
            names.add("block1/" + v);
        }
        names.addAll(List.of("logits_w", "logits_b"));
        try (SavedModelBundle b = SavedModelBundle.load(savedModel.toString(), "serve")) {
            for (String v : names) {
                try (Result r = b.session().runner().fetch(v).run()) {
                    Tensor t = r.get(0);
                    float[] values = new float[Math.toIntExact(t.shape().size())];
                    t.asRawTensor().data().asFloats().read(values);
                    w.put(v, values);
                    shapes.put(v, t.shape().asArray());
                }
            }
        }
        long length = shapes.get("position_table")[0];
        long[] qw = shapes.get("block1/query_w");
        double scale = 1 / Math.sqrt(qw[2]);
        int int64 = io.neuronmonkey.onnx.proto.Onnx.TensorProto.DataType.INT64_VALUE;
        OnnxBuilder g = new OnnxBuilder(17).input("input_ids", int64, -1, length).input("attention_mask", int64, -1, length);
        for (String v : names) {
            g.floats(v, w.get(v), shapes.get(v));
        }
        String s = "block1/";
        return g.floats("one", new float[] {1f}, 1).floats("masked_value", new float[] {-1e9f}, 1)
                .floats("scale", new float[] {(float) scale}, 1)
                .longs("key_bias_shape", new long[] {-1, 1, 1, length}, 4).longs("last_axis", new long[] {-1}, 1)
                .longs("token_axis", new long[] {1}, 1)
                .node("Cast", "attention_mask", "mask_float", "to", 1L)
                .node("Gather", new String[] {"token_table", "input_ids"}, "token_embedding", "axis", 0L)
                .node("Add", new String[] {"token_embedding", "position_table"}, "embedding")
                .node("LayerNormalization", new String[] {"embedding", "embedding_gamma", "embedding_beta"},
                        "embedding_norm", "axis", -1L, "epsilon", 1e-5f)
                .node("Sub", new String[] {"one", "mask_float"}, "key_padding")
                .node("Mul", new String[] {"key_padding", "masked_value"}, "key_bias_scaled")
                .node("Reshape", new String[] {"key_bias_scaled", "key_bias_shape"}, "key_bias")
                .node("Einsum", new String[] {"embedding_norm", s + "query_w"}, s + "query_projection",
                        "equation", "btd,dhk->bthk")
                .node("Add", new String[] {s + "query_projection", s + "query_b"}, s + "query")
                .node("Einsum", new String[] {"embedding_norm", s + "key_w"}, s + "key_projection",
                        "equation", "btd,dhk->bthk")
                .node("Add", new String[] {s + "key_projection", s + "key_b"}, s + "key")
                .node("Einsum", new String[] {"embedding_norm", s + "value_w"}, s + "value_projection",
                        "equation", "btd,dhk->bthk")
                .node("Add", new String[] {s + "value_projection", s + "value_b"}, s + "value")
                .node("Einsum", new String[] {s + "query", s + "key"}, s + "scores_raw", "equation", "bqhk,bthk->bhqt")
                .node("Mul", new String[] {s + "scores_raw", "scale"}, s + "scores")
                .node("Add", new String[] {s + "scores", "key_bias"}, s + "scores_masked")
                .node("Softmax", s + "scores_masked", s + "attention_weights", "axis", -1L)
                .node("Einsum", new String[] {s + "attention_weights", s + "value"}, s + "context",
                        "equation", "bhqt,bthk->bqhk")
                .node("Einsum", new String[] {s + "context", s + "output_w"}, s + "attention_projection",
                        "equation", "bqhk,hkd->bqd")
                .node("Add", new String[] {s + "attention_projection", s + "output_b"}, s + "attention")
                .node("Add", new String[] {"embedding_norm", s + "attention"}, s + "attention_sum")
                .node("LayerNormalization", new String[] {s + "attention_sum", s + "norm1_gamma", s + "norm1_beta"},
                        s + "norm1", "axis", -1L, "epsilon", 1e-5f)
                .node("MatMul", new String[] {s + "norm1", s + "mlp_w"}, s + "mlp_projection")
                .node("Add", new String[] {s + "mlp_projection", s + "mlp_b"}, s + "mlp_pre")
                .node("Relu", s + "mlp_pre", s + "mlp")
                .node("MatMul", new String[] {s + "mlp", s + "mlp_out_w"}, s + "mlp_out_projection")
                .node("Add", new String[] {s + "mlp_out_projection", s + "mlp_out_b"}, s + "mlp_out")
                .node("Add", new String[] {s + "norm1", s + "mlp_out"}, s + "mlp_sum")
                .node("LayerNormalization", new String[] {s + "mlp_sum", s + "norm2_gamma", s + "norm2_beta"},
                        s + "residual", "axis", -1L, "epsilon", 1e-5f)
                .node("Unsqueeze", new String[] {"mask_float", "last_axis"}, "pool_mask")
                .node("Mul", new String[] {s + "residual", "pool_mask"}, "pool_weighted")
                .node("ReduceSum", new String[] {"pool_weighted", "token_axis"}, "pool_sum", "keepdims", 0L)
                .node("ReduceSum", new String[] {"mask_float", "token_axis"}, "pool_count", "keepdims", 1L)
                .node("Div", new String[] {"pool_sum", "pool_count"}, "pooled")
                .node("Gemm", new String[] {"pooled", "logits_w", "logits_b"}, "logits")
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
