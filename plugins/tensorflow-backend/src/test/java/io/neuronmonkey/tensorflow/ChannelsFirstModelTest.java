package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.BiasAdd;
import org.tensorflow.types.TFloat32;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model as an ONNX-to-TensorFlow converter writes a PyTorch network: the input is NCHW {@code [2, 6, 6]}, a
 * Transpose to NHWC feeds a channels-last Conv2D, a Transpose back to NCHW is followed by a bias Add of shape
 * {@code [4, 1, 1]} and a Relu ({@code relu}, {@code [4, 6, 6]}), a BiasAdd with {@code data_format NCHW}
 * ({@code shifted}), a flatten, a MatMul + BiasAdd ({@code logits}, 3) and a LogSoftmax output. Every number is
 * checked against plain loops over the NCHW tensors.
 */
class ChannelsFirstModelTest {

    private static final float TOL = 1e-5f;
    static final int C_IN = 2;
    static final int C = 4;
    static final int S = 6;
    static final int K = 3;

    @TempDir
    static Path dir;
    static Path file;
    static LoadedModel model;
    static final float[] kernel = TinyModels.random(3 * 3 * C_IN * C, 21);
    static final float[] bias = TinyModels.random(C, 22);
    static final float[] shift = TinyModels.random(C, 23);
    static final float[] dense = TinyModels.random(C * S * S * K, 24);
    static final float[] denseBias = TinyModels.random(K, 25);

    @BeforeAll
    static void load() throws Exception {
        file = dir.resolve("nchw.pb");
        write(file);
        model = new TensorFlowBackend().load(TestKit.modelContext(file, params(Map.of())));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static TensorFlowBackend.Params params(Map<String, Integer> channelAxis) {
        TensorFlowBackend.Preprocess nchw = new TensorFlowBackend.Preprocess(1, 0, null, null,
                TensorFlowBackend.Layout.NCHW, null);
        return new TensorFlowBackend.Params("serving_default", "x", "logprobs", null, 1, 0, nchw, 256, channelAxis);
    }

    static void write(Path file) throws Exception {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.of(-1, C_IN, S, S)));
            Operand<TFloat32> nhwc = tf.withName("to_nhwc").linalg.transpose(x, tf.constant(new int[] {0, 2, 3, 1}));
            Operand<TFloat32> conv = tf.withName("conv").nn.conv2d(nhwc,
                    tf.constant(Shape.of(3, 3, C_IN, C), DataBuffers.of(kernel)), List.of(1L, 1L, 1L, 1L), "SAME");
            Operand<TFloat32> nchw = tf.withName("to_nchw").linalg.transpose(conv, tf.constant(new int[] {0, 3, 1, 2}));
            Operand<TFloat32> added = tf.withName("conv_bias").math.add(nchw,
                    tf.constant(Shape.of(C, 1, 1), DataBuffers.of(bias)));
            Operand<TFloat32> relu = tf.withName("relu").nn.relu(added);
            Operand<TFloat32> shifted = tf.withName("shifted").nn.biasAdd(relu,
                    tf.constant(Shape.of(C), DataBuffers.of(shift)), BiasAdd.dataFormat("NCHW"));
            Operand<TFloat32> flat = tf.withName("flatten").reshape(shifted, tf.constant(new int[] {-1, C * S * S}));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.withName("fc").linalg.matMul(flat,
                    tf.constant(Shape.of(C * S * S, K), DataBuffers.of(dense))),
                    tf.constant(Shape.of(K), DataBuffers.of(denseBias)));
            tf.withName("logprobs").nn.logSoftmax(logits);
            Files.write(file, g.toGraphDef().toByteArray());
        }
    }

    /** The Relu output {@code [n, C, S, S]} for channels-last examples {@code [n, S, S, C_IN]}, by plain loops. */
    static float[] reluNchw(float[] x, int n) {
        float[] out = new float[n * C * S * S];
        for (int e = 0; e < n; e++) {
            for (int o = 0; o < C; o++) {
                for (int i = 0; i < S; i++) {
                    for (int j = 0; j < S; j++) {
                        double s = bias[o];
                        for (int di = 0; di < 3; di++) {
                            for (int dj = 0; dj < 3; dj++) {
                                int r = i + di - 1;
                                int c = j + dj - 1;
                                if (r < 0 || r >= S || c < 0 || c >= S) {
                                    continue;
                                }
                                for (int ch = 0; ch < C_IN; ch++) {
                                    s += x[((e * S + r) * S + c) * C_IN + ch] * kernel[((di * 3 + dj) * C_IN + ch) * C + o];
                                }
                            }
                        }
                        out[((e * C + o) * S + i) * S + j] = (float) Math.max(0, s);
                    }
                }
            }
        }
        return out;
    }

    static float[] logitsFromRelu(float[] relu, int n) {
        float[] flat = relu.clone();
        for (int i = 0; i < flat.length; i++) {
            flat[i] += shift[(i / (S * S)) % C];
        }
        return TinyModels.matmul(flat, n, C * S * S, dense, K, denseBias);
    }

    @Test
    void channelAxesComeFromTheGraphAndLayersAreDeliveredChannelsLast() {
        LayerInfo relu = model.layer("relu").orElseThrow();
        assertArrayEquals(new int[] {S, S, C}, relu.shape());
        assertEquals(0, relu.channelAxis());
        assertArrayEquals(new int[] {C, S, S}, relu.modelShape());
        assertEquals(C, relu.neurons());
        assertEquals(S * S, relu.positions());
        LayerInfo shifted = model.layer("shifted").orElseThrow();
        assertEquals(0, shifted.channelAxis());
        LayerInfo conv = model.layer("conv").orElseThrow();
        assertTrue(conv.channelsLast(), conv.toString());
        assertArrayEquals(new int[] {S, S, C}, conv.shape());
        assertTrue(model.layer("conv_bias").orElseThrow().toString().contains("channel axis 0"));
        // the converter's transpose of the NCHW input back to NHWC is channels last again
        assertTrue(model.layer("to_nhwc").orElseThrow().channelsLast());
        assertEquals(0, model.layer("to_nchw").orElseThrow().channelAxis());
    }

    @Test
    void perChannelMeansMatchAPlainLoopOverTheRawNchwOutput() {
        int n = 3;
        float[] x = TinyModels.random(n * S * S * C_IN, 31);
        Tensor relu = model.run(Tensor.ofFloats(x, n, S, S, C_IN), List.of("relu")).get("relu");
        assertArrayEquals(new int[] {n, S, S, C}, relu.shape());
        float[] raw = reluNchw(x, n);
        LayerInfo info = model.layer("relu").orElseThrow();
        // what an analyzer computes from the delivered [n, positions, neurons] tensor ...
        double[] analyzer = new double[info.neurons()];
        float[] a = relu.floats();
        for (int e = 0; e < n; e++) {
            for (int p = 0; p < info.positions(); p++) {
                for (int c = 0; c < info.neurons(); c++) {
                    analyzer[c] += a[(e * info.positions() + p) * info.neurons() + c];
                }
            }
        }
        // ... against the mean of each channel of the model's own NCHW tensor
        for (int c = 0; c < C; c++) {
            double sum = 0;
            for (int e = 0; e < n; e++) {
                for (int p = 0; p < S * S; p++) {
                    sum += raw[(e * C + c) * S * S + p];
                }
            }
            assertEquals(sum / (n * S * S), analyzer[c] / (n * S * S), 1e-5, "channel " + c);
        }
        // and element by element: delivered [e, i, j, c] is the model's [e, c, i, j]
        for (int e = 0; e < n; e++) {
            for (int c = 0; c < C; c++) {
                for (int p = 0; p < S * S; p++) {
                    assertEquals(raw[(e * C + c) * S * S + p], a[(e * S * S + p) * C + c], TOL);
                }
            }
        }
        assertArrayEquals(logitsFromRelu(raw, n), model.run(Tensor.ofFloats(x, n, S, S, C_IN), List.of("logits"))
                .get("logits").floats(), 1e-4f);
    }

    @Test
    void interventionsAndGradientsUseTheChannelAxis() {
        int n = 2;
        float[] x = TinyModels.random(n * S * S * C_IN, 32);
        Map<String, Tensor> out = model.run(Tensor.ofFloats(x, n, S, S, C_IN), List.of("relu", "logits"),
                List.of(Intervention.ablate("relu", 1)));
        float[] raw = reluNchw(x, n);
        for (int e = 0; e < n; e++) {
            for (int p = 0; p < S * S; p++) {
                raw[(e * C + 1) * S * S + p] = 0f;
            }
        }
        float[] relu = out.get("relu").floats();
        for (int i = 0; i < relu.length; i++) {
            assertEquals(i % C == 1 ? 0f : relu[i], relu[i]);
        }
        assertArrayEquals(logitsFromRelu(raw, n), out.get("logits").floats(), 1e-4f);
        // logits are linear in relu: d logit k / d relu[c, i, j] = dense[(c*S*S + i*S + j), k], delivered [i, j, c]
        int k = 2;
        Tensor grad = model.gradient(Tensor.ofFloats(x, n, S, S, C_IN), GradientTarget.neuron("logits", k), "relu");
        assertArrayEquals(new int[] {n, S, S, C}, grad.shape());
        float[] gv = grad.floats();
        for (int e = 0; e < n; e++) {
            for (int p = 0; p < S * S; p++) {
                for (int c = 0; c < C; c++) {
                    assertEquals(dense[(c * S * S + p) * K + k], gv[(e * S * S + p) * C + c], TOL);
                }
            }
        }
        // a neuron of a channels-first layer is its channel summed over positions
        Tensor dx = model.gradient(Tensor.ofFloats(x, n, S, S, C_IN), GradientTarget.neuron("shifted", 3), "x");
        assertArrayEquals(new int[] {n, S, S, C_IN}, dx.shape());
    }

    @Test
    void logSoftmaxOutputIsNotTheLogits() {
        assertEquals("logits", model.logitsLayer());
        assertEquals(LayerInfo.Role.OUTPUT, model.layer("logprobs").orElseThrow().role());
    }

    @Test
    void userOverridesReplaceAndFlowOnOrAreRefusedWithTheValidRange() {
        try (LoadedModel m = new TensorFlowBackend().load(TestKit.modelContext(file,
                params(Map.of("conv_bias", -1))))) {
            LayerInfo relu = m.layer("relu").orElseThrow();
            assertTrue(relu.channelsLast());
            assertArrayEquals(new int[] {C, S, S}, relu.shape());
            assertEquals(S, relu.neurons());
            assertEquals(0, m.layer("shifted").orElseThrow().channelAxis(), "BiasAdd NCHW still says axis 1");
        }
        ModelException e = assertThrows(ModelException.class, () -> new TensorFlowBackend().load(
                TestKit.modelContext(file, params(Map.of("rellu", 1)))));
        assertTrue(e.getMessage().contains("channelAxis names 'rellu'") && e.getMessage().contains("relu"),
                e.getMessage());
        e = assertThrows(ModelException.class, () -> new TensorFlowBackend().load(
                TestKit.modelContext(file, params(Map.of("logits", 2)))));
        assertTrue(e.getMessage().contains("channelAxis.logits is 2, but its output has rank 2"), e.getMessage());
    }

    @Test
    void dataInTheModelsOwnLayoutIsToldWhichParamTransposesIt() throws Exception {
        try (LoadedModel raw = new TensorFlowBackend().load(TestContexts.model(file, "x", "logprobs"))) {
            assertArrayEquals(new int[] {C_IN, S, S}, raw.inputShape());
            // fed in its own NCHW layout, the input's consumers still tell where its channels are
            assertTrue(raw.layer("to_nhwc").orElseThrow().channelsLast());
            assertArrayEquals(new int[] {S, S, C_IN}, raw.layer("to_nhwc").orElseThrow().shape());
            assertEquals(0, raw.layer("relu").orElseThrow().channelAxis());
            String advice = raw.inputAdvice(new int[] {S, S, C_IN}).orElseThrow();
            assertTrue(advice.contains("preprocess.layout: nchw") && advice.contains("NCHW"), advice);
            ModelException e = assertThrows(ModelException.class, () -> raw.run(
                    Tensor.ofFloats(new float[S * S * C_IN], 1, S, S, C_IN), List.of("logits")));
            assertTrue(e.getMessage().contains("preprocess.layout: nchw"), e.getMessage());
        }
    }
}
