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

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Parameter randomization: which tensors belong to which layer (the tiny MLP, the demo CNN, a Keras-style SavedModel,
 * a frozen graph), and views whose outputs and gradients match Java loops run with the drawn weights.
 */
class ParameterRandomizationTest {

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

    /** The drawn tensor of the given size (the MLP's four parameter tensors all differ in size). */
    private static float[] drawnOfSize(LoadedModel view, int size) {
        List<float[]> of = ((RandomizedModel) view).drawn().values().stream().filter(v -> v.length == size).toList();
        assertEquals(1, of.size(), "one drawn tensor of " + size + " values");
        return of.get(0);
    }

    @Test
    void theMlpsLayersOwnTheirWeightsAndBiases() {
        assertEquals(Map.of("hidden", 4L * 3 + 3, "logits", 3L * 2 + 2), mlp.parameterCounts());
        assertEquals(List.of("hidden", "logits"), List.copyOf(mlp.parameterCounts().keySet()));
    }

    @Test
    void randomizingTheLogitsLeavesTheHiddenLayerAndTheParentAsTheyWere() {
        int n = 5;
        Tensor x = Tensor.ofFloats(TinyModels.random(n * 4, 71), n, 4);
        Map<String, Tensor> before = mlp.run(x, List.of("hidden", "logits"));
        try (LoadedModel view = mlp.randomized(List.of("logits"), 1)) {
            Map<String, Tensor> out = view.run(x, List.of("hidden", "logits"));
            assertArrayEquals(before.get("hidden").floats(), out.get("hidden").floats(), 0f);
            assertFalse(Arrays.equals(before.get("logits").floats(), out.get("logits").floats()));
            float[] w2 = drawnOfSize(view, 6);
            float[] b2 = drawnOfSize(view, 2);
            assertArrayEquals(TinyModels.matmul(models.mlpHidden(x.floats(), n), n, 3, w2, 2, b2),
                    out.get("logits").floats(), TOL);
            assertTrue(view.description().endsWith("(randomized: logits; seed 1)"), view.description());
            assertNotEquals(mlp.fingerprint(), view.fingerprint());
            assertEquals(mlp.layers(), view.layers());
            assertEquals(mlp.capturable(), view.capturable());
            assertEquals(mlp.logitsLayer(), view.logitsLayer());
            assertArrayEquals(mlp.inputShape(), view.inputShape());
            assertEquals(mlp.supportsGradients(), view.supportsGradients());
        }
        Map<String, Tensor> after = mlp.run(x, List.of("hidden", "logits"));
        assertArrayEquals(before.get("logits").floats(), after.get("logits").floats(), 0f);
        assertArrayEquals(models.mlpLogits(x.floats(), n), after.get("logits").floats(), TOL);
    }

    @Test
    void randomizingBothLayersMatchesAForwardLoopWithTheDrawnWeightsAndSeedsRepeat() {
        int n = 4;
        Tensor x = Tensor.ofFloats(TinyModels.random(n * 4, 72), n, 4);
        Map<String, Tensor> original = mlp.run(x, List.of("hidden", "logits"));
        try (LoadedModel view = mlp.randomized(List.of("hidden", "logits"), 7);
             LoadedModel same = mlp.randomized(List.of("logits", "hidden"), 7);
             LoadedModel other = mlp.randomized(List.of("hidden", "logits"), 8)) {
            Map<String, Tensor> out = view.run(x, List.of("hidden", "logits"));
            float[] w1 = drawnOfSize(view, 12);
            float[] b1 = drawnOfSize(view, 3);
            float[] hidden = TinyModels.relu(TinyModels.matmul(x.floats(), n, 4, w1, 3, b1));
            assertArrayEquals(hidden, out.get("hidden").floats(), TOL);
            assertArrayEquals(TinyModels.matmul(hidden, n, 3, drawnOfSize(view, 6), 2, drawnOfSize(view, 2)),
                    out.get("logits").floats(), TOL);
            assertFalse(Arrays.equals(original.get("hidden").floats(), out.get("hidden").floats()));
            assertFalse(Arrays.equals(original.get("logits").floats(), out.get("logits").floats()));
            assertArrayEquals(out.get("logits").floats(), same.run(x, List.of("logits")).get("logits").floats(), 0f);
            assertFalse(Arrays.equals(out.get("logits").floats(), other.run(x, List.of("logits")).get("logits").floats()));

            // interventions work through the view: hidden unit 2 ablated
            float[] ablated = hidden.clone();
            for (int r = 0; r < n; r++) {
                ablated[r * 3 + 2] = 0f;
            }
            assertArrayEquals(TinyModels.matmul(ablated, n, 3, drawnOfSize(view, 6), 2, drawnOfSize(view, 2)),
                    view.run(x, List.of("logits"), List.of(Intervention.ablate("hidden", 2))).get("logits").floats(),
                    TOL);
        }
    }

    @Test
    void theViewsGradientIsTheGradientOfTheDrawnWeights() {
        int n = 3;
        float[] xs = TinyModels.random(n * 4, 73);
        Tensor x = Tensor.ofFloats(xs, n, 4);
        try (LoadedModel view = mlp.randomized(List.of("hidden", "logits"), 11)) {
            float[] w1 = drawnOfSize(view, 12);
            float[] pre = TinyModels.matmul(xs, n, 4, w1, 3, drawnOfSize(view, 3));
            float[] w2 = drawnOfSize(view, 6);
            int k = 1;
            for (boolean ablated : new boolean[] {false, true}) {
                float[] expected = new float[n * 4];
                for (int r = 0; r < n; r++) {
                    for (int i = 0; i < 4; i++) {
                        for (int j = 0; j < 3; j++) {
                            if (pre[r * 3 + j] > 0 && !(ablated && j == 0)) {
                                expected[r * 4 + i] += w2[j * 2 + k] * w1[i * 3 + j];
                            }
                        }
                    }
                }
                List<Intervention> ivs = ablated ? List.of(Intervention.ablate("hidden", 0)) : List.of();
                assertArrayEquals(expected, view.gradient(x, GradientTarget.neuron("logits", k), "x", ivs).floats(),
                        TOL, "ablated " + ablated);
            }
        }
    }

    @Test
    void layersWithoutParametersAndClosedViewsAreRefused() {
        ModelException e = assertThrows(ModelException.class, () -> mlp.randomized(List.of("probs"), 1));
        assertTrue(e.getMessage().contains("'probs'") && e.getMessage().contains("no parameters of its own")
                && e.getMessage().contains("layers with parameters: hidden (2 tensors), logits (2 tensors)"),
                e.getMessage());
        e = assertThrows(ModelException.class, () -> mlp.randomized(List.of("hiden"), 1));
        assertTrue(e.getMessage().contains("no such layer") && e.getMessage().contains("hidden (2 tensors)"),
                e.getMessage());
        LoadedModel view = mlp.randomized(List.of("logits"), 3);
        view.close();
        Tensor x = Tensor.ofFloats(new float[4], 1, 4);
        e = assertThrows(ModelException.class, () -> view.run(x, List.of("logits")));
        assertTrue(e.getMessage().contains("is closed"), e.getMessage());
        assertArrayEquals(models.mlpLogits(new float[4], 1), mlp.run(x, List.of("logits")).get("logits").floats(), TOL);
    }

    @Test
    void theDemoCnnCountsItsKernelsAndBiases() {
        Path demo = Path.of("../../experiments/models/shapes-cnn");
        assertTrue(Files.isDirectory(demo), demo.toAbsolutePath().toString());
        try (LoadedModel cnn = new TensorFlowBackend().load(TestContexts.model(demo))) {
            assertEquals(List.of("conv1", "conv2", "dense1", "logits"), List.copyOf(cnn.parameterCounts().keySet()));
            assertEquals(Map.of("conv1", 80L, "conv2", 1168L, "dense1", 25120L, "logits", 132L),
                    cnn.parameterCounts());
        }
    }

    @Test
    void aKerasStyleModelCountsEveryVariableOfItsLayers() throws Exception {
        KerasStyleModels keras = new KerasStyleModels();
        keras.export(dir.resolve("keras"));
        try (LoadedModel model = new TensorFlowBackend().load(TestContexts.model(dir.resolve("keras")))) {
            assertEquals(Map.of("conv2d", 3L * 3 * 2 * 4 + 4, "batch_normalization", 16L, "dense", 64L * 5 + 5,
                    "dense_1/BiasAdd", 5L * 3 + 3), model.parameterCounts());
            int n = 2;
            Tensor x = Tensor.ofFloats(TinyModels.random(n * 128, 74), n, 8, 8, 2);
            Map<String, Tensor> before = model.run(x, List.of("max_pooling2d", "dense_1/BiasAdd"));
            try (LoadedModel view = model.randomized(List.of("dense"), 5)) {
                Map<String, Tensor> out = view.run(x, List.of("max_pooling2d", "dense_1/BiasAdd"));
                assertArrayEquals(before.get("max_pooling2d").floats(), out.get("max_pooling2d").floats(), 0f);
                assertFalse(Arrays.equals(before.get("dense_1/BiasAdd").floats(), out.get("dense_1/BiasAdd").floats()));
            }
        }
    }

    @Test
    void aFrozenGraphsConstantsAreItsParametersAndDrawsKeepTheirSpread() throws Exception {
        Path file = dir.resolve("nchw.pb");
        ChannelsFirstModelTest.write(file);
        try (LoadedModel model = new TensorFlowBackend().load(TestKit.modelContext(file,
                ChannelsFirstModelTest.params(Map.of())))) {
            int c = ChannelsFirstModelTest.C;
            int s = ChannelsFirstModelTest.S;
            int k = ChannelsFirstModelTest.K;
            // conv: the kernel; relu: the [C, 1, 1] bias added channels first; shifted: the BiasAdd's; logits: both
            assertEquals(Map.of("conv", 3L * 3 * ChannelsFirstModelTest.C_IN * c, "relu", (long) c, "shifted", (long) c,
                    "logits", (long) c * s * s * k + k), model.parameterCounts());
            double std = Parameters.std(ChannelsFirstModelTest.dense);
            for (long seed = 1; seed <= 5; seed++) {
                try (LoadedModel view = model.randomized(List.of("logits"), seed)) {
                    float[] drawn = drawnOfSize(view, c * s * s * k);
                    // 432 normal draws: the sample deviation is within 25% of the original's (about 7 standard errors)
                    assertEquals(1.0, Parameters.std(drawn) / std, 0.25, "seed " + seed);
                    float[] flat = model.run(Tensor.ofFloats(new float[2 * s * s * ChannelsFirstModelTest.C_IN], 2, s, s,
                            ChannelsFirstModelTest.C_IN), List.of("flatten")).get("flatten").floats();
                    assertArrayEquals(TinyModels.matmul(flat, 2, c * s * s, drawn, k, drawnOfSize(view, k)),
                            view.run(Tensor.ofFloats(new float[2 * s * s * ChannelsFirstModelTest.C_IN], 2, s, s,
                                    ChannelsFirstModelTest.C_IN), List.of("logits")).get("logits").floats(), 1e-4f);
                }
            }
        }
    }
}
