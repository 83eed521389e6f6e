package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.DataType;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Gradients of the tiny models against closed forms: for the MLP, {@code d logit_k / d x_i = sum_j W1[i, j]
 * [h_j > 0] W2[j, k]} and {@code d logit_k / d hidden_j = W2[j, k]}; float32 TensorFlow vs. double Java sums of at
 * most 12 terms, tolerance 1e-5.
 */
class GradientsTest {

    private static final float TOL = 1e-5f;

    @TempDir
    static Path dir;
    static TinyModels models = new TinyModels();
    static LoadedModel mlp;

    @BeforeAll
    static void load() throws Exception {
        models.exportMlp(dir.resolve("mlp"));
        mlp = new TensorFlowBackend().load(TestContexts.model(dir.resolve("mlp")));
    }

    @AfterAll
    static void close() {
        mlp.close();
    }

    /** d (sum_k w[r][k] logit_k) / d x for each row, from the known weights. */
    private static float[] logitGradient(float[] x, int n, float[][] w) {
        float[][] keep = new float[n][];
        for (int r = 0; r < n; r++) {
            keep[r] = new float[] {1, 1, 1};
        }
        return logitGradient(x, n, w, keep);
    }

    /** The same with hidden unit j of row r multiplied by m[r][j] (0 = ablated): the path through it scales by m. */
    private static float[] logitGradient(float[] x, int n, float[][] w, float[][] m) {
        float[] pre = TinyModels.matmul(x, n, 4, models.w1, 3, models.b1);
        float[] g = new float[n * 4];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < 4; i++) {
                double s = 0;
                for (int j = 0; j < 3; j++) {
                    if (pre[r * 3 + j] > 0) {
                        for (int k = 0; k < 2; k++) {
                            s += models.w1[i * 3 + j] * m[r][j] * models.w2[j * 2 + k] * w[r][k];
                        }
                    }
                }
                g[r * 4 + i] = (float) s;
            }
        }
        return g;
    }

    @Test
    void gradientsUnderInterventionsAreThoseOfTheChangedModel() {
        int n = 4;
        float[] x = TinyModels.random(n * 4, 33);
        Tensor in = Tensor.ofFloats(x, n, 4);
        float[][] w = new float[n][];
        float[][] m = new float[n][];
        for (int r = 0; r < n; r++) {
            w[r] = new float[] {1, -1};
            m[r] = new float[] {1, 1, 1};
        }
        // row 1: hidden unit 0 ablated; row 2: unit 2 scaled by 3; rows 0 and 3 untouched
        m[1][0] = 0;
        m[2][2] = 3;
        List<io.neuronmonkey.api.model.Intervention> changes = List.of(
                io.neuronmonkey.api.model.Intervention.ablate("hidden", 0).forRows(1),
                io.neuronmonkey.api.model.Intervention.scale("hidden", 3f, 2).forRows(2));
        GradientTarget target = GradientTarget.weighted("logits", new float[] {1, -1});
        assertArrayEquals(logitGradient(x, n, w, m), mlp.gradient(in, target, "x", changes).floats(), TOL);
        assertArrayEquals(mlp.gradient(in, target, "x").floats(), mlp.gradient(in, target, "x", List.of()).floats(), 0f,
                "no intervention: the plain gradient, exactly");
    }

    @Test
    void logitGradientsMatchTheClosedFormForEveryTargetMode() {
        int n = 5;
        float[] x = TinyModels.random(n * 4, 21);
        Tensor in = Tensor.ofFloats(x, n, 4);
        float[][] one = new float[n][];
        float[][] weighted = new float[n][];
        float[][] perRow = new float[n][];
        float[][] predicted = new float[n][];
        float[] logits = models.mlpLogits(x, n);
        for (int r = 0; r < n; r++) {
            one[r] = new float[] {0, 1};
            weighted[r] = new float[] {0.5f, -2f};
            perRow[r] = r % 2 == 0 ? new float[] {1, 0} : new float[] {0, 1};
            predicted[r] = logits[2 * r] >= logits[2 * r + 1] ? new float[] {1, 0} : new float[] {0, 1};
        }
        assertArrayEquals(logitGradient(x, n, one), mlp.gradient(in, GradientTarget.neuron("logits", 1), "x")
                .floats(), TOL);
        assertArrayEquals(logitGradient(x, n, weighted), mlp.gradient(in,
                GradientTarget.weighted("logits", new float[] {0.5f, -2f}), "x").floats(), TOL);
        assertArrayEquals(logitGradient(x, n, perRow), mlp.gradient(in,
                GradientTarget.perRow("logits", new int[] {0, 1, 0, 1, 0}), "x").floats(), TOL);
        assertArrayEquals(logitGradient(x, n, predicted), mlp.gradient(in, GradientTarget.predicted("logits"), "x")
                .floats(), TOL);
    }

    @Test
    void gradientWithRespectToAHiddenLayerIsTheOutgoingWeight() {
        int n = 3;
        Tensor g = mlp.gradient(Tensor.ofFloats(TinyModels.random(n * 4, 22), n, 4),
                GradientTarget.neuron("logits", 0), "hidden");
        assertArrayEquals(new int[] {n, 3}, g.shape());
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(models.w2[j * 2], g.floats()[r * 3 + j], TOL);
            }
        }
    }

    @Test
    void probabilityGradientFollowsTheSoftmaxJacobian() {
        int n = 2;
        float[] x = TinyModels.random(n * 4, 23);
        float[] p = TinyModels.softmax(models.mlpLogits(x, n), n);
        // d p_1 / d logits = p_1 (e_1 - p)
        float[][] w = new float[n][];
        for (int r = 0; r < n; r++) {
            w[r] = new float[] {-p[2 * r + 1] * p[2 * r], p[2 * r + 1] * (1 - p[2 * r + 1])};
        }
        assertArrayEquals(logitGradient(x, n, w), mlp.gradient(Tensor.ofFloats(x, n, 4),
                GradientTarget.neuron("probs", 1), "x").floats(), TOL);
    }

    @Test
    void chunkedBatchesGiveTheSameGradientsAsOneRun() {
        int n = 7;
        Tensor in = Tensor.ofFloats(TinyModels.random(n * 4, 24), n, 4);
        try (LoadedModel small = new TensorFlowBackend().load(TestKit.modelContext(dir.resolve("mlp"),
                new TensorFlowBackend.Params("serving_default", null, null, null, 1, 0, null, 2)))) {
            GradientTarget t = GradientTarget.predicted("logits");
            assertArrayEquals(mlp.gradient(in, t, "x").floats(), small.gradient(in, t, "x").floats());
            assertArrayEquals(mlp.run(in, List.of("hidden")).get("hidden").floats(),
                    small.run(in, List.of("hidden")).get("hidden").floats());
        }
    }

    @Test
    void fixedBatchModelsArePaddedAndSplit() throws Exception {
        Path file = dir.resolve("mlp-batch3.pb");
        models.writeMlp(file, 3, DataType.DT_FLOAT);
        int n = 7;
        float[] x = TinyModels.random(n * 4, 25);
        try (LoadedModel fixed = new TensorFlowBackend().load(TestContexts.model(file, "x", "probs"))) {
            assertArrayEquals(new int[] {4}, fixed.inputShape());
            Tensor logits = fixed.run(Tensor.ofFloats(x, n, 4), List.of("logits")).get("logits");
            assertArrayEquals(new int[] {n, 2}, logits.shape());
            assertArrayEquals(models.mlpLogits(x, n), logits.floats(), TOL);
            float[][] w = new float[n][];
            for (int r = 0; r < n; r++) {
                w[r] = new float[] {1, 0};
            }
            assertArrayEquals(logitGradient(x, n, w), fixed.gradient(Tensor.ofFloats(x, n, 4),
                    GradientTarget.neuron("logits", 0), "x").floats(), TOL);
        }
    }

    @Test
    void sparseSoftmaxCrossEntropyIsDifferentiatedWithTheRegisteredGradient() throws Exception {
        Path file = dir.resolve("loss.pb");
        models.writeSparseLoss(file);
        float[] x = TinyModels.random(2 * 3, 26);
        try (LoadedModel loss = new TensorFlowBackend().load(TestKit.modelContext(file,
                new TensorFlowBackend.Params("serving_default", "x", "loss", "logits", 1, 0)))) {
            Tensor g = loss.gradient(Tensor.ofFloats(x, 2, 3), GradientTarget.neuron("loss", 0), "x");
            // d loss_r / d x_r = W2 (softmax(x_r W2) - onehot(label_r)), labels [0, 1]
            float[] z = TinyModels.matmul(x, 2, 3, models.w2, 2, new float[2]);
            float[] p = TinyModels.softmax(z, 2);
            for (int r = 0; r < 2; r++) {
                for (int i = 0; i < 3; i++) {
                    double s = 0;
                    for (int k = 0; k < 2; k++) {
                        s += models.w2[i * 2 + k] * (p[2 * r + k] - (k == r ? 1 : 0));
                    }
                    assertEquals(s, g.floats()[r * 3 + i], TOL);
                }
            }
        }
    }

    @Test
    void dilatedConvolutionGradientsAreRefusedNamingTheOp() throws Exception {
        Path file = dir.resolve("dilated.pb");
        models.writeDilatedCnn(file);
        try (LoadedModel cnn = new TensorFlowBackend().load(TestContexts.model(file, "x", "probs"))) {
            Tensor in = Tensor.ofFloats(TinyModels.random(50, 27), 1, 5, 5, 2);
            assertEquals(2, cnn.run(in, List.of("logits")).get("logits").size());
            ModelException e = assertThrows(ModelException.class,
                    () -> cnn.gradient(in, GradientTarget.neuron("logits", 0), "x"));
            assertTrue(e.getMessage().contains("cannot differentiate 'logits' with respect to 'x': the path runs"
                    + " through op 'conv_conv' (Conv2D with dilations [1, 2, 2, 1])"), e.getMessage());
            // after the dilated convolution, gradients are fine
            assertArrayEquals(new int[] {1, 2, 2, 3},
                    cnn.gradient(in, GradientTarget.neuron("logits", 0), "pool").shape());
        }
    }

    @Test
    void unknownTargetLayerIsReported() {
        ModelException e = assertThrows(ModelException.class, () -> mlp.gradient(Tensor.ofFloats(new float[4], 1, 4),
                GradientTarget.neuron("logit", 0), "x"));
        assertTrue(e.getMessage().contains("unknown layer 'logit'"), e.getMessage());
    }
}
