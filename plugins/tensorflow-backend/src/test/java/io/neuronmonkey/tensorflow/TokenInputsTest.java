package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static io.neuronmonkey.tensorflow.TokenModels.C;
import static io.neuronmonkey.tensorflow.TokenModels.D;
import static io.neuronmonkey.tensorflow.TokenModels.T;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Models with token-id inputs and an attention mask: the inputs the backend lists, the layers it captures (float and
 * integer) against naive Java loops over the same weights, INT32 data widened for an INT64 input, refusals naming both
 * sides, fixed-batch models padded and split, and gradients with respect to the embedding in closed form.
 */
class TokenInputsTest {

    private static final float TOL = 1e-5f;
    private static final int N = 4;
    /** Token ids and masks of four examples: right padding with id 0, one example without padding. */
    private static final int[] IDS = {2, 5, 1, 0, 0, 2, 3, 3, 6, 4, 2, 6, 0, 0, 0, 2, 1, 4, 5, 0};
    private static final int[] MASK = {1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0};

    @TempDir
    static Path dir;
    static final TokenModels MODELS = new TokenModels();
    static LoadedModel narrow;
    static LoadedModel wide;

    @BeforeAll
    static void load() throws Exception {
        MODELS.export(dir.resolve("int32"), false, -1);
        MODELS.export(dir.resolve("int64"), true, -1);
        narrow = new TensorFlowBackend().load(TestContexts.model(dir.resolve("int32")));
        wide = new TensorFlowBackend().load(TestContexts.model(dir.resolve("int64")));
    }

    @AfterAll
    static void close() {
        narrow.close();
        wide.close();
    }

    private static ModelInputs batch() {
        return new ModelInputs(Tensor.ofInts(IDS, N, T), Map.of("attention_mask", Tensor.ofInts(MASK, N, T)));
    }

    @Test
    void listsBothInputsWithTheIdsPrimary() {
        assertEquals(List.of(new ModelInput("input_ids", DType.INT32, new int[] {T}, true),
                new ModelInput("attention_mask", DType.INT32, new int[] {T}, false)), narrow.inputs());
        assertEquals(List.of(new ModelInput("input_ids", DType.INT64, new int[] {T}, true),
                new ModelInput("attention_mask", DType.INT32, new int[] {T}, false)), wide.inputs());
        LayerInfo embedding = narrow.layer("embedding").orElseThrow();
        assertEquals(LayerInfo.Role.HIDDEN, embedding.role());
        assertArrayEquals(new int[] {T, D}, embedding.shape());
        assertTrue(narrow.layers().stream().anyMatch(l -> l.name().equals("embedding")), narrow.layers().toString());
        assertEquals("logits", narrow.logitsLayer());
        assertTrue(narrow.description().contains("+ attention_mask"), narrow.description());
    }

    @Test
    void capturedLayersEqualJavaLoops() {
        for (LoadedModel m : List.of(narrow, wide)) {
            Map<String, Tensor> out = m.run(batch(), List.of("embedding", "pooled", "logits", "probabilities"),
                    List.of());
            assertArrayEquals(new int[] {N, T, D}, out.get("embedding").shape());
            assertArrayEquals(MODELS.embedding(IDS, N), out.get("embedding").floats(), TOL);
            assertArrayEquals(MODELS.pooled(IDS, MASK, N), out.get("pooled").floats(), TOL);
            float[] logits = MODELS.logits(IDS, MASK, N);
            assertArrayEquals(logits, out.get("logits").floats(), TOL);
            float[] probs = out.get("probabilities").floats();
            for (int e = 0; e < N; e++) {
                double z = Math.exp(logits[e * C]) + Math.exp(logits[e * C + 1]);
                assertEquals(Math.exp(logits[e * C]) / z, probs[e * C], 1e-5, "example " + e);
            }
        }
    }

    @Test
    void integerInputsAreCapturedAsTheyWereFed() {
        Map<String, Tensor> narrowOut = narrow.run(batch(), List.of("input_ids", "attention_mask"), List.of());
        assertEquals(DType.INT32, narrowOut.get("input_ids").dtype());
        assertArrayEquals(IDS, narrowOut.get("input_ids").ints());
        assertArrayEquals(MASK, narrowOut.get("attention_mask").ints());
        Tensor widened = wide.run(batch(), List.of("input_ids"), List.of()).get("input_ids");
        assertEquals(DType.INT64, widened.dtype());
        assertArrayEquals(new int[] {N, T}, widened.shape());
        for (int i = 0; i < IDS.length; i++) {
            assertEquals(IDS[i], widened.longs()[i]);
        }
    }

    @Test
    void int64DataFeedTheInt64InputToo() {
        long[] ids = new long[IDS.length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = IDS[i];
        }
        ModelInputs longs = new ModelInputs(Tensor.ofLongs(ids, N, T), Map.of("attention_mask",
                Tensor.ofInts(MASK, N, T)));
        assertArrayEquals(MODELS.logits(IDS, MASK, N), wide.run(longs, List.of("logits"), List.of()).get("logits")
                .floats(), TOL);
        ModelException e = assertThrows(ModelException.class, () -> narrow.run(longs, List.of("logits"), List.of()));
        assertTrue(e.getMessage().contains("input 'input_ids' takes INT32 [n, 5]")
                && e.getMessage().contains("INT64 [4, 5]") && e.getMessage().contains("not narrowed"), e.getMessage());
    }

    @Test
    void chunksSplitEveryInputConsistently() throws Exception {
        try (LoadedModel m = new TensorFlowBackend().load(TestKit.modelContext(dir.resolve("int32"),
                new TensorFlowBackend.Params("serving_default", null, null, null, 1, 0, null, 3)))) {
            assertArrayEquals(MODELS.logits(IDS, MASK, N), m.run(batch(), List.of("logits"), List.of())
                    .get("logits").floats(), TOL);
        }
    }

    @Test
    void missingAndMistypedInputsNameBothSides() {
        ModelException missing = assertThrows(ModelException.class, () -> narrow.run(new ModelInputs(
                Tensor.ofInts(IDS, N, T), Map.of("token_type_ids", Tensor.ofInts(MASK, N, T))), List.of("logits"),
                List.of()));
        assertTrue(missing.getMessage().contains("input 'attention_mask' (INT32 [n, 5]) has no match in the data")
                && missing.getMessage().contains("named tensors [token_type_ids INT32 [4, 5]]")
                && missing.getMessage().contains("inputNames"), missing.getMessage());
        ModelException alone = assertThrows(ModelException.class, () -> narrow.run(Tensor.ofInts(IDS, N, T),
                List.of("logits")));
        assertTrue(alone.getMessage().contains("'attention_mask'") && alone.getMessage().contains("no named tensors"),
                alone.getMessage());
        float[] floats = new float[IDS.length];
        ModelException typed = assertThrows(ModelException.class, () -> narrow.run(new ModelInputs(
                Tensor.ofInts(IDS, N, T), Map.of("attention_mask", Tensor.ofFloats(floats, N, T))), List.of("logits"),
                List.of()));
        assertTrue(typed.getMessage().contains("input 'attention_mask' takes INT32 [n, 5] per batch, but the data's"
                + " 'attention_mask' is FLOAT32 [4, 5]"), typed.getMessage());
        ModelException shaped = assertThrows(ModelException.class, () -> narrow.run(new ModelInputs(
                Tensor.ofInts(new int[N * 3], N, 3), Map.of("attention_mask", Tensor.ofInts(MASK, N, T))),
                List.of("logits"), List.of()));
        assertTrue(shaped.getMessage().contains("input 'input_ids' takes INT32 [n, 5] per batch, but the data's"
                + " primary tensor is INT32 [4, 3]"), shaped.getMessage());
    }

    @Test
    void renamedInputsAreFedByTheirDataName() throws Exception {
        try (LoadedModel m = new TensorFlowBackend().load(TestKit.modelContext(dir.resolve("int32"),
                new TensorFlowBackend.Params("serving_default", null, null, null, 1, 0, null, 256, null, "input_ids",
                        Map.of("attention_mask", "mask"))))) {
            ModelInputs renamed = new ModelInputs(Tensor.ofInts(IDS, N, T), Map.of("mask", Tensor.ofInts(MASK, N, T)));
            assertArrayEquals(MODELS.logits(IDS, MASK, N), m.run(renamed, List.of("logits"), List.of()).get("logits")
                    .floats(), TOL);
        }
        ModelException e = assertThrows(ModelException.class, () -> new TensorFlowBackend().load(TestKit.modelContext(
                dir.resolve("int32"), new TensorFlowBackend.Params("serving_default", null, null, null, 1, 0, null,
                        256, null, null, Map.of("segments", "token_type_ids")))));
        assertTrue(e.getMessage().contains("inputNames names model input 'segments'")
                && e.getMessage().contains("attention_mask"), e.getMessage());
    }

    @Test
    void fixedBatchModelsArePaddedAndSplitForEveryInput() throws Exception {
        MODELS.export(dir.resolve("batch1"), true, 1);
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(dir.resolve("batch1")))) {
            Map<String, Tensor> all = m.run(batch(), List.of("embedding", "logits"), List.of());
            for (int e = 0; e < N; e++) {
                int[] row = {e};
                Map<String, Tensor> one = m.run(batch().select(row), List.of("embedding", "logits"), List.of());
                assertArrayEquals(one.get("logits").floats(), all.get("logits").rows(e, e + 1).floats(), 0f);
                assertArrayEquals(one.get("embedding").floats(), all.get("embedding").rows(e, e + 1).floats(), 0f);
            }
            assertArrayEquals(MODELS.logits(IDS, MASK, N), all.get("logits").floats(), TOL);
        }
    }

    @Test
    void gradientWithRespectToTheEmbeddingIsTheClosedForm() {
        for (LoadedModel m : List.of(narrow, wide)) {
            Tensor g = m.gradient(batch(), GradientTarget.neuron("logits", 1), "embedding", List.of());
            assertArrayEquals(new int[] {N, T, D}, g.shape());
            assertArrayEquals(MODELS.logitGradient(MASK, N, 1), g.floats(), TOL);
        }
        ModelException e = assertThrows(ModelException.class, () -> narrow.gradient(batch(),
                GradientTarget.neuron("logits", 0), "input_ids", List.of()));
        assertTrue(e.getMessage().contains("cannot take a gradient with respect to 'input_ids'")
                && e.getMessage().contains("DT_INT32") && e.getMessage().contains("embedding"), e.getMessage());
    }

    @Test
    void embeddingGradientMatchesFiniteDifferencesOfAPatch() {
        Tensor g = narrow.gradient(batch(), GradientTarget.neuron("logits", 0), "embedding", List.of());
        float[] embedding = narrow.run(batch(), List.of("embedding"), List.of()).get("embedding").floats();
        float[] base = narrow.run(batch(), List.of("logits"), List.of()).get("logits").floats();
        float eps = 0.01f;
        for (int cell : new int[] {(0 * T + 1) * D + 2, (2 * T + 3) * D, (3 * T + 2) * D + 1}) {
            float[] patched = embedding.clone();
            patched[cell] += eps;
            float[] moved = narrow.run(batch(), List.of("logits"), List.of(io.neuronmonkey.api.model.Intervention
                    .patch("embedding", Tensor.ofFloats(patched, N, T, D)))).get("logits").floats();
            int e = cell / (T * D);
            assertEquals((moved[e * C] - base[e * C]) / eps, g.floats()[cell], 2e-3, "cell " + cell);
        }
    }

    @Test
    void frozenGraphsTakeTheirPlaceholdersAsInputs() throws Exception {
        Path file = dir.resolve("frozen.pb");
        MODELS.writeFrozen(file);
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(file))) {
            assertEquals(List.of(new ModelInput("input_ids", DType.INT32, new int[] {T}, true),
                    new ModelInput("attention_mask", DType.INT32, new int[] {T}, false)), m.inputs());
            assertArrayEquals(MODELS.logits(IDS, MASK, N), m.run(batch(), List.of("logits"), List.of())
                    .get("logits").floats(), TOL);
        }
    }

    @Test
    void namedIdentitiesAreLayersThatTakeInterventions() {
        assertTrue(narrow.layers().stream().anyMatch(l -> l.name().equals("pooled") && l.opType().equals("Identity")),
                narrow.layers().toString());
        float[] pooled = MODELS.pooled(IDS, MASK, N);
        for (int e = 0; e < N; e++) {
            pooled[e * D + 1] = 0f;
        }
        assertArrayEquals(MODELS.head(pooled, N), narrow.run(batch(), List.of("logits"), List.of(
                io.neuronmonkey.api.model.Intervention.ablate("pooled", 1))).get("logits").floats(), TOL);
    }

    @Test
    void preprocessingAndConflictingParamsAreRefused() {
        ModelException scaled = assertThrows(ModelException.class, () -> new TensorFlowBackend().load(
                TestKit.modelContext(dir.resolve("int32"), new TensorFlowBackend.Params("serving_default", null, null,
                        null, 2.0, 0, null, 256))));
        assertTrue(scaled.getMessage().contains("input 'input_ids' is DT_INT32")
                && scaled.getMessage().contains("apply only to a float input"), scaled.getMessage());
        io.neuronmonkey.api.InvalidParamsException both = assertThrows(io.neuronmonkey.api.InvalidParamsException.class,
                () -> new TensorFlowBackend.Params("serving_default", "x", null, null, 1, 0, null, 256, null,
                        "input_ids", Map.of("attention_mask", " ")));
        assertEquals(List.of("primaryInput", "inputNames.attention_mask"), both.violations().stream()
                .map(io.neuronmonkey.api.InvalidParamsException.Violation::field).toList());
    }
}
