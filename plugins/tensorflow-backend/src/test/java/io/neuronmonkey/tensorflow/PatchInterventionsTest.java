package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Activation patching: the patched layer takes the given values at every position of the patched channels, checked
 * against the tiny CNN's Java forward and backward loops, on a channels-first graph and on a fixed-batch model.
 */
class PatchInterventionsTest {

    private static final float TOL = 1e-5f;
    private static final int[] ALL = {0, 1, 2};

    @TempDir
    static Path dir;
    static TinyModels models = new TinyModels();
    static LoadedModel cnn;

    @BeforeAll
    static void load() throws Exception {
        Path file = dir.resolve("cnn.pb");
        models.writeCnn(file);
        cnn = new TensorFlowBackend().load(TestContexts.model(file, "x", "probs"));
    }

    @AfterAll
    static void close() {
        cnn.close();
    }

    /** conv of {@code a} with the given channels replaced, at every position, by those of {@code b}. */
    private static float[] replaced(float[] a, float[] b, int... channels) {
        float[] out = a.clone();
        for (int p = 0; p < out.length / 3; p++) {
            for (int c : channels) {
                out[p * 3 + c] = b[p * 3 + c];
            }
        }
        return out;
    }

    @Test
    void patchingEveryChannelWithTheActivationsOfOtherInputsGivesTheirLogits() {
        int n = 4;
        float[] a = TinyModels.random(n * 50, 51);
        float[] b = TinyModels.random(n * 50, 52);
        Map<String, Tensor> onB = cnn.run(Tensor.ofFloats(b, n, 5, 5, 2), List.of("conv", "logits"));
        Map<String, Tensor> patched = cnn.run(Tensor.ofFloats(a, n, 5, 5, 2), List.of("conv", "logits"),
                List.of(Intervention.patch("conv", onB.get("conv"))));
        assertArrayEquals(onB.get("conv").floats(), patched.get("conv").floats(), 0f);
        assertArrayEquals(onB.get("logits").floats(), patched.get("logits").floats(), 1e-6f);
    }

    @Test
    void patchingSomeChannelsMatchesAForwardLoopWithThoseChannelsReplacedAndComposesInOrder() {
        int n = 3;
        float[] a = TinyModels.random(n * 50, 53);
        float[] b = TinyModels.random(n * 50, 54);
        Tensor convB = Tensor.ofFloats(models.cnnConv(b, n), n, 5, 5, 3);
        Map<String, Tensor> out = cnn.run(Tensor.ofFloats(a, n, 5, 5, 2), List.of("conv", "logits"),
                List.of(Intervention.patch("conv", convB, 0, 2)));
        float[] conv = replaced(models.cnnConv(a, n), convB.floats(), 0, 2);
        assertArrayEquals(conv, out.get("conv").floats(), TOL);
        assertArrayEquals(models.cnnLogitsFromConv(conv, n), out.get("logits").floats(), 1e-4f);

        // a patch then a shift of every channel: the patched channels are shifted too; the other way round not
        Map<String, Tensor> thenAdd = cnn.run(Tensor.ofFloats(a, n, 5, 5, 2), List.of("conv"),
                List.of(Intervention.patch("conv", convB, 1), Intervention.add("conv", 0.5f)));
        Map<String, Tensor> addThen = cnn.run(Tensor.ofFloats(a, n, 5, 5, 2), List.of("conv"),
                List.of(Intervention.add("conv", 0.5f), Intervention.patch("conv", convB, 1)));
        float[] plain = models.cnnConv(a, n);
        float[] patchedOne = replaced(plain, convB.floats(), 1);
        float[] expectThenAdd = patchedOne.clone();
        float[] expectAddThen = patchedOne.clone();
        for (int i = 0; i < plain.length; i++) {
            expectThenAdd[i] += 0.5f;
            if (i % 3 != 1) {
                expectAddThen[i] += 0.5f;
            }
        }
        assertArrayEquals(expectThenAdd, thenAdd.get("conv").floats(), TOL);
        assertArrayEquals(expectAddThen, addThen.get("conv").floats(), TOL);
    }

    @Test
    void forRowsPatchesOnlyTheListedRowsWithOnePatchRowEach() {
        int n = 4;
        float[] a = TinyModels.random(n * 50, 55);
        float[] b = TinyModels.random(2 * 50, 56);
        Tensor convB = Tensor.ofFloats(models.cnnConv(b, 2), 2, 5, 5, 3);
        Tensor in = Tensor.ofFloats(a, n, 5, 5, 2);
        Map<String, Tensor> plain = cnn.run(in, List.of("conv", "logits"));
        Map<String, Tensor> out = cnn.run(in, List.of("conv", "logits"),
                List.of(Intervention.patch("conv", convB, 2).forRows(3, 1)));
        float[] conv = plain.get("conv").floats();
        float[] pb = convB.floats();
        int row = 75;
        for (int p = 0; p < 25; p++) {
            conv[3 * row + p * 3 + 2] = pb[p * 3 + 2];         // batch row 3 takes patch row 0
            conv[row + p * 3 + 2] = pb[row + p * 3 + 2];       // batch row 1 takes patch row 1
        }
        assertArrayEquals(conv, out.get("conv").floats(), 0f);
        float[] logits = out.get("logits").floats();
        float[] before = plain.get("logits").floats();
        for (int r : new int[] {0, 2}) {
            assertArrayEquals(Arrays.copyOfRange(before, 2 * r, 2 * r + 2), Arrays.copyOfRange(logits, 2 * r, 2 * r + 2),
                    0f, "row " + r + " is not patched");
        }
        assertArrayEquals(models.cnnLogitsFromConv(conv, n), logits, 1e-4f);
    }

    @Test
    void aChannelsFirstLayerIsPatchedWithChannelsLastValues() throws Exception {
        Path file = dir.resolve("nchw.pb");
        ChannelsFirstModelTest.write(file);
        int n = 2;
        int s = ChannelsFirstModelTest.S;
        int c = ChannelsFirstModelTest.C;
        int cin = ChannelsFirstModelTest.C_IN;
        float[] a = TinyModels.random(n * s * s * cin, 57);
        float[] b = TinyModels.random(n * s * s * cin, 58);
        try (LoadedModel model = new TensorFlowBackend().load(TestKit.modelContext(file,
                ChannelsFirstModelTest.params(Map.of())))) {
            Tensor reluB = model.run(Tensor.ofFloats(b, n, s, s, cin), List.of("relu")).get("relu");
            assertArrayEquals(new int[] {n, s, s, c}, reluB.shape());
            Map<String, Tensor> out = model.run(Tensor.ofFloats(a, n, s, s, cin), List.of("relu", "logits"),
                    List.of(Intervention.patch("relu", reluB, 1, 3)));
            float[] rawA = ChannelsFirstModelTest.reluNchw(a, n);
            float[] rawB = ChannelsFirstModelTest.reluNchw(b, n);
            for (int e = 0; e < n; e++) {
                for (int ch : new int[] {1, 3}) {
                    for (int p = 0; p < s * s; p++) {
                        int i = (e * c + ch) * s * s + p;
                        rawA[i] = rawB[i];
                    }
                }
            }
            assertArrayEquals(ChannelsFirstModelTest.logitsFromRelu(rawA, n), out.get("logits").floats(), 1e-4f);
            float[] relu = out.get("relu").floats();
            for (int e = 0; e < n; e++) {
                for (int p = 0; p < s * s; p++) {
                    for (int ch = 0; ch < c; ch++) {
                        assertEquals(rawA[(e * c + ch) * s * s + p], relu[(e * s * s + p) * c + ch], TOL);
                    }
                }
            }
        }
    }

    @Test
    void theGradientUnderAPatchMatchesABackwardLoopThroughTheUnpatchedChannels() {
        int n = 3;
        int k = 1;
        float[] a = TinyModels.random(n * 50, 59);
        float[] b = TinyModels.random(n * 50, 60);
        Tensor convB = Tensor.ofFloats(models.cnnConv(b, n), n, 5, 5, 3);
        Tensor in = Tensor.ofFloats(a, n, 5, 5, 2);
        Tensor grad = cnn.gradient(in, GradientTarget.neuron("logits", k), "x",
                List.of(Intervention.patch("conv", convB, 1)));
        float[] conv = replaced(models.cnnConv(a, n), convB.floats(), 1);
        assertArrayEquals(inputGradient(a, conv, n, k, 1), grad.floats(), TOL);
        // every channel patched: the logits no longer depend on the input
        Tensor none = cnn.gradient(in, GradientTarget.neuron("logits", k), "x",
                List.of(Intervention.patch("conv", convB, ALL)));
        assertArrayEquals(new float[n * 50], none.floats(), 0f);
    }

    /**
     * d logit k / d x of the tiny CNN whose (changed) conv activation is {@code conv}, with the channels in
     * {@code patched} constant: through each pooling window's maximum, the ReLU where it is active, and the kernel.
     */
    private static float[] inputGradient(float[] x, float[] conv, int n, int k, int... patched) {
        float[] gx = new float[x.length];
        for (int e = 0; e < n; e++) {
            float[] g = new float[75];
            for (int pi = 0; pi < 2; pi++) {
                for (int pj = 0; pj < 2; pj++) {
                    for (int o = 0; o < 3; o++) {
                        int best = -1;
                        float m = Float.NEGATIVE_INFINITY;
                        for (int di = 0; di < 2; di++) {
                            for (int dj = 0; dj < 2; dj++) {
                                int i = ((2 * pi + di) * 5 + 2 * pj + dj) * 3 + o;
                                if (conv[e * 75 + i] > m) {
                                    m = conv[e * 75 + i];
                                    best = i;
                                }
                            }
                        }
                        int finalO = o;
                        boolean constant = Arrays.stream(patched).anyMatch(p -> p == finalO);
                        if (!constant && m > 0) {
                            g[best] += models.dense[((pi * 2 + pj) * 3 + o) * 2 + k];
                        }
                    }
                }
            }
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 5; j++) {
                    for (int o = 0; o < 3; o++) {
                        float go = g[(i * 5 + j) * 3 + o];
                        for (int di = 0; go != 0 && di < 3; di++) {
                            for (int dj = 0; dj < 3; dj++) {
                                int r = i + di - 1;
                                int c = j + dj - 1;
                                if (r < 0 || r >= 5 || c < 0 || c >= 5) {
                                    continue;
                                }
                                for (int ch = 0; ch < 2; ch++) {
                                    gx[((e * 5 + r) * 5 + c) * 2 + ch] += go * models.kernel[((di * 3 + dj) * 2 + ch) * 3 + o];
                                }
                            }
                        }
                    }
                }
            }
        }
        return gx;
    }

    @Test
    void fixedBatchModelsArePaddedUnderAPatchInRunsAndGradients() throws Exception {
        Path file = dir.resolve("mlp-batch4.pb");
        models.writeMlp(file, 4, DataType.DT_FLOAT);
        int n = 6;
        float[] x = TinyModels.random(n * 4, 61);
        float[] hidden = TinyModels.random(n * 3, 62);
        try (LoadedModel fixed = new TensorFlowBackend().load(TestContexts.model(file, "x", "probs"))) {
            Tensor in = Tensor.ofFloats(x, n, 4);
            List<Intervention> patch = List.of(Intervention.patch("hidden", Tensor.ofFloats(hidden, n, 3), 0, 2));
            float[] h = models.mlpHidden(x, n);
            for (int r = 0; r < n; r++) {
                h[r * 3] = hidden[r * 3];
                h[r * 3 + 2] = hidden[r * 3 + 2];
            }
            assertArrayEquals(TinyModels.matmul(h, n, 3, models.w2, 2, models.b2),
                    fixed.run(in, List.of("logits"), patch).get("logits").floats(), TOL);
            // only hidden unit 1 still depends on x: d logit 0 / d x_i = w2[1, 0] * w1[i, 1] where it is active
            float[] pre = TinyModels.matmul(x, n, 4, models.w1, 3, models.b1);
            float[] expected = new float[n * 4];
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < 4; i++) {
                    expected[r * 4 + i] = pre[r * 3 + 1] > 0 ? models.w2[2] * models.w1[i * 3 + 1] : 0f;
                }
            }
            assertArrayEquals(expected, fixed.gradient(in, GradientTarget.neuron("logits", 0), "x", patch).floats(),
                    TOL);
        }
    }

    @Test
    void aPatchOfTheWrongShapeNamesTheExpectedOne() {
        Tensor in = Tensor.ofFloats(new float[2 * 50], 2, 5, 5, 2);
        ModelException e = assertThrows(ModelException.class, () -> cnn.run(in, List.of("logits"),
                List.of(Intervention.patch("conv", Tensor.ofFloats(new float[2 * 75], 2, 3, 5, 5)))));
        assertTrue(e.getMessage().contains("patch of 'conv' must be FLOAT32 [2, 5, 5, 3]"), e.getMessage());
        assertTrue(e.getMessage().contains("found FLOAT32 [2, 3, 5, 5]"), e.getMessage());
        e = assertThrows(ModelException.class, () -> cnn.run(in, List.of("logits"),
                List.of(Intervention.patch("conv", Tensor.ofFloats(new float[3 * 75], 3, 5, 5, 3)))));
        assertTrue(e.getMessage().contains("[2, 5, 5, 3]") && e.getMessage().contains("one row per batch row"),
                e.getMessage());
    }
}
