package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each in-graph preprocessing step against a plain Java loop: the model is {@code y = Identity(x)}, so capturing
 * {@code y} shows exactly what the model receives.
 */
class PreprocessingOpsTest {

    private static final float TOL = 1e-5f;

    @TempDir
    Path dir;

    /** A frozen graph {@code y = Identity(x)} with {@code x} of shape {@code [-1, dims...]}. */
    private Path identity(long... dims) throws Exception {
        Path file = dir.resolve("identity-" + dims.length + "-" + dims[dims.length - 1] + ".pb");
        long[] shape = new long[dims.length + 1];
        shape[0] = -1;
        System.arraycopy(dims, 0, shape, 1, dims.length);
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(shape)));
            tf.withName("y").identity(x);
            Files.write(file, g.toGraphDef().toByteArray());
        }
        return file;
    }

    private static TensorFlowBackend.Preprocess pre(List<Integer> fedShape, boolean gray, List<Integer> resize,
                                                    List<Integer> crop, boolean standardize, Integer l2Axis,
                                                    TensorFlowBackend.MeanStdFile stats) {
        return new TensorFlowBackend.Preprocess(1, 0, null, null, null, null, fedShape, gray, resize, crop,
                standardize, l2Axis, stats);
    }

    private static float[] run(Path model, TensorFlowBackend.Preprocess pre, float[] x, int... shape) {
        try (LoadedModel m = new TensorFlowBackend().load(TestKit.modelContext(model,
                new TensorFlowBackend.Params("serving_default", null, null, null, 1, 0, pre, 256)))) {
            return m.run(Tensor.ofFloats(x, shape), List.of("y")).get("y").floats();
        }
    }

    @Test
    void grayscaleIsRepeatedIntoThreeChannels() throws Exception {
        float[] x = TinyModels.random(2 * 3 * 4, 1);
        float[] y = run(identity(3, 4, 3), pre(null, true, null, null, false, null, null), x, 2, 3, 4, 1);
        for (int p = 0; p < 2 * 3 * 4; p++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(x[p], y[p * 3 + c]);
            }
        }
    }

    @Test
    void bilinearResizeWithHalfPixelCentersThenCenterCrop() throws Exception {
        int n = 2;
        int h = 5;
        int w = 7;
        int ch = 2;
        float[] x = TinyModels.random(n * h * w * ch, 2);
        // resize 5x7 -> 8x6, then crop the centered 4x3
        float[] y = run(identity(4, 3, ch), pre(List.of(h, w, ch), false, List.of(8, 6), List.of(4, 3), false, null,
                null), x, n, h, w, ch);
        float[] resized = bilinear(x, n, h, w, ch, 8, 6);
        int top = (8 - 4) / 2;
        int left = (6 - 3) / 2;
        for (int e = 0; e < n; e++) {
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 3; j++) {
                    for (int c = 0; c < ch; c++) {
                        assertEquals(resized[((e * 8 + top + i) * 6 + left + j) * ch + c], y[((e * 4 + i) * 3 + j) * ch + c],
                                TOL);
                    }
                }
            }
        }
    }

    /** tf.image.resize bilinear (half-pixel centers) by a plain loop. */
    static float[] bilinear(float[] x, int n, int h, int w, int ch, int oh, int ow) {
        float[] out = new float[n * oh * ow * ch];
        for (int e = 0; e < n; e++) {
            for (int i = 0; i < oh; i++) {
                double sy = (i + 0.5) * h / oh - 0.5;
                int y0 = (int) Math.floor(sy);
                double fy = sy - y0;
                int ya = Math.max(0, Math.min(h - 1, y0));
                int yb = Math.max(0, Math.min(h - 1, y0 + 1));
                for (int j = 0; j < ow; j++) {
                    double sx = (j + 0.5) * w / ow - 0.5;
                    int x0 = (int) Math.floor(sx);
                    double fx = sx - x0;
                    int xa = Math.max(0, Math.min(w - 1, x0));
                    int xb = Math.max(0, Math.min(w - 1, x0 + 1));
                    for (int c = 0; c < ch; c++) {
                        double top = x[((e * h + ya) * w + xa) * ch + c] * (1 - fx) + x[((e * h + ya) * w + xb) * ch + c] * fx;
                        double bottom = x[((e * h + yb) * w + xa) * ch + c] * (1 - fx) + x[((e * h + yb) * w + xb) * ch + c] * fx;
                        out[((e * oh + i) * ow + j) * ch + c] = (float) (top * (1 - fy) + bottom * fy);
                    }
                }
            }
        }
        return out;
    }

    @Test
    void perImageStandardizationAsTensorFlowDefinesIt() throws Exception {
        int n = 3;
        int d = 4 * 4 * 3;
        float[] x = TinyModels.random(n * d, 3);
        for (int i = 0; i < d; i++) {
            x[2 * d + i] = 0.25f; // a constant image: stddev 0, divided by 1/sqrt(N) instead
        }
        float[] y = run(identity(4, 4, 3), pre(null, false, null, null, true, null, null), x, n, 4, 4, 3);
        for (int e = 0; e < n; e++) {
            double mean = 0;
            for (int i = 0; i < d; i++) {
                mean += x[e * d + i];
            }
            mean /= d;
            double var = 0;
            for (int i = 0; i < d; i++) {
                var += (x[e * d + i] - mean) * (x[e * d + i] - mean);
            }
            double adjusted = Math.max(Math.sqrt(var / d), 1 / Math.sqrt(d));
            for (int i = 0; i < d; i++) {
                assertEquals((x[e * d + i] - mean) / adjusted, y[e * d + i], 1e-4, "example " + e);
            }
        }
    }

    @Test
    void l2NormalizationAlongAnAxisAsKerasNormalize() throws Exception {
        // MNIST-style [28, 28] examples normalized with tf.keras.utils.normalize(x, axis=1): each column over its rows
        int n = 2;
        int rows = 5;
        int cols = 4;
        float[] x = TinyModels.random(n * rows * cols, 4);
        for (int r = 0; r < rows; r++) {
            x[(rows + r) * cols + 2] = 0f; // a zero column stays zero
        }
        float[] y = run(identity(rows, cols), pre(null, false, null, null, false, 1, null), x, n, rows, cols);
        for (int e = 0; e < n; e++) {
            for (int c = 0; c < cols; c++) {
                double sq = 0;
                for (int r = 0; r < rows; r++) {
                    sq += x[(e * rows + r) * cols + c] * x[(e * rows + r) * cols + c];
                }
                double norm = sq == 0 ? 1 : Math.sqrt(sq);
                for (int r = 0; r < rows; r++) {
                    assertEquals(x[(e * rows + r) * cols + c] / norm, y[(e * rows + r) * cols + c], TOL);
                }
            }
        }
        float[] last = run(identity(rows, cols), pre(null, false, null, null, false, -1, null), x, n, rows, cols);
        double sq = 0;
        for (int c = 0; c < cols; c++) {
            sq += x[c] * x[c];
        }
        assertEquals(x[1] / Math.sqrt(sq), last[1], TOL);
    }

    @Test
    void meanAndVarianceFromAJsonFileAndStdFromAnNpyFile() throws Exception {
        Path json = dir.resolve("scaling.json");
        Files.writeString(json, "{\"mean\": [[0.5, -1.0, 2.0]], \"var\": [4.0, 0.25, 1.0], \"note\": \"x\"}");
        int n = 2;
        float[] x = TinyModels.random(n * 2 * 2 * 3, 5);
        float[] y = run(identity(2, 2, 3), pre(null, false, null, null, false, null,
                new TensorFlowBackend.MeanStdFile("scaling.json", TensorFlowBackend.Spread.VAR, null, null, 0)),
                x, n, 2, 2, 3);
        double[] mean = {0.5, -1.0, 2.0};
        double[] std = {2.0, 0.5, 1.0};
        for (int i = 0; i < x.length; i++) {
            assertEquals((x[i] - mean[i % 3]) / std[i % 3], y[i], TOL);
        }
        Path npy = dir.resolve("stats.npy");
        writeNpy(npy, new float[] {0.5f, -1f, 2f, 2f, 0.5f, 1f}, 2, 3);
        float[] z = run(identity(2, 2, 3), pre(null, false, null, null, false, null,
                new TensorFlowBackend.MeanStdFile("stats.npy", TensorFlowBackend.Spread.STD, null, null, 0)),
                x, n, 2, 2, 3);
        assertArrayEquals(y, z, TOL);
        ModelException e = assertThrows(ModelException.class, () -> run(identity(2, 2, 3), pre(null, false, null,
                null, false, null, new TensorFlowBackend.MeanStdFile("scaling.json", TensorFlowBackend.Spread.STD,
                        null, null, 0)), x, n, 2, 2, 3));
        assertTrue(e.getMessage().contains("no key 'std'; its keys: mean, var, note"), e.getMessage());
    }

    static void writeNpy(Path file, float[] values, int... shape) throws Exception {
        StringBuilder dims = new StringBuilder();
        for (int d : shape) {
            dims.append(d).append(", ");
        }
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + dims.toString().strip() + "), }";
        int pad = 16 - (10 + header.length() + 1) % 16;
        header = header + " ".repeat(pad % 16) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length())
                .put(header.getBytes(StandardCharsets.ISO_8859_1));
        b.asFloatBuffer().put(values);
        Files.write(file, b.array());
    }

    @Test
    void fedShapeReshapesAndTheOldReshapeKeyStillWorks() throws Exception {
        Path flat = identity(12);
        float[] x = TinyModels.random(2 * 12, 6);
        assertArrayEquals(x, run(flat, pre(List.of(2, 2, 3), false, null, null, false, null, null), x, 2, 2, 2, 3));
        TensorFlowBackend.Preprocess old = new TensorFlowBackend.Preprocess(1, 0, null, null, null, List.of(2, 2, 3));
        assertArrayEquals(x, run(flat, old, x, 2, 2, 2, 3));
        InvalidParamsException both = assertThrows(InvalidParamsException.class, () -> new TensorFlowBackend.Preprocess(
                1, 0, null, null, null, List.of(12), List.of(12), false, null, null, false, 0, null));
        assertEquals(List.of("reshape", "l2NormalizeAxis"),
                both.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }

    @Test
    void shapeMismatchesNameTheParamThatFixesThem() throws Exception {
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(identity(12), "x", "y"))) {
            assertEquals("the element counts agree: set model param preprocess.fedShape: [2, 2, 3]",
                    m.inputAdvice(new int[] {2, 2, 3}).orElseThrow());
        }
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(identity(8, 8, 3), "x", "y"))) {
            assertTrue(m.inputAdvice(new int[] {8, 8, 1}).orElseThrow().contains("preprocess.grayscaleToRgb: true"));
            assertTrue(m.inputAdvice(new int[] {32, 32, 3}).orElseThrow().contains(
                    "preprocess.fedShape: [32, 32, 3] and preprocess.resize: [8, 8]"));
            assertTrue(m.inputAdvice(new int[] {5}).isEmpty());
        }
        ModelException e = assertThrows(ModelException.class, () -> run(identity(4, 3, 2), pre(List.of(5, 7, 2),
                false, List.of(8, 6), null, false, null, null), new float[70], 1, 5, 7, 2));
        assertTrue(e.getMessage().contains("fix model param preprocess.resize / centerCrop"), e.getMessage());
        e = assertThrows(ModelException.class, () -> run(identity(4, 3, 2), pre(null, false, List.of(4, 3), null,
                false, null, null), new float[24], 1, 4, 3, 2));
        assertTrue(e.getMessage().contains("preprocess.resize needs preprocess.fedShape"), e.getMessage());
    }

    @Test
    void capturableOpsIncludePreActivationsWithTheirOwnValues() throws Exception {
        Path file = dir.resolve("mlp.pb");
        TinyModels models = new TinyModels();
        models.writeMlp(file, -1, org.tensorflow.proto.DataType.DT_FLOAT);
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(file))) {
            assertEquals(List.of("x", "hidden", "logits", "probs"), m.layers().stream().map(l -> l.name()).toList());
            List<String> all = m.capturable().stream().map(l -> l.name()).toList();
            assertEquals(List.of("x", "MatMul", "BiasAdd", "hidden", "MatMul_1", "logits", "probs"), all);
            assertEquals(3, m.layer("BiasAdd").orElseThrow().neurons());
            float[] x = TinyModels.random(2 * 4, 7);
            Map<String, Tensor> out = m.run(Tensor.ofFloats(x, 2, 4), List.of("BiasAdd", "MatMul:0"));
            assertArrayEquals(TinyModels.matmul(x, 2, 4, models.w1, 3, models.b1), out.get("BiasAdd").floats(), TOL);
            assertArrayEquals(TinyModels.matmul(x, 2, 4, models.w1, 3, new float[3]), out.get("MatMul:0").floats(),
                    TOL);
        }
    }

    @Test
    void frozenGraphsWithSeveralCandidatesListThemAsYamlLines() throws Exception {
        Path file = dir.resolve("two.pb");
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> a = tf.withName("images").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.of(-1, 3)));
            Placeholder<TFloat32> b = tf.withName("keep_prob").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.scalar()));
            tf.withName("probs").nn.softmax(tf.math.mul(a, b));
            tf.withName("aux").math.neg(a);
            Files.write(file, g.toGraphDef().toByteArray());
        }
        ModelException e = assertThrows(ModelException.class, () -> new TensorFlowBackend().load(
                TestContexts.model(file)));
        assertTrue(e.getMessage().contains("\n  input: images    # one of: images, keep_prob"), e.getMessage());
        e = assertThrows(ModelException.class, () -> new TensorFlowBackend().load(
                TestContexts.model(file, "images", null)));
        assertTrue(e.getMessage().contains("\n  output: probs    # one of: probs, aux"), e.getMessage());
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(file, "images", "aux"))) {
            assertEquals("aux", m.logitsLayer());
        }
    }
}
