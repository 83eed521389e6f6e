package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loads tiny models with known weights through the backend and checks layers and activations against Java loops. */
class TensorFlowBackendTest {

    /** Float32 activations vs. double-accumulated naive loops over O(20) terms. */
    private static final float TOL = 1e-5f;

    @TempDir
    static Path dir;
    static TinyModels models = new TinyModels();
    static Path mlpDir;
    static Path cnnFile;
    static LoadedModel mlp;
    static LoadedModel cnn;

    @BeforeAll
    static void buildModels() throws Exception {
        mlpDir = dir.resolve("mlp");
        models.exportMlp(mlpDir);
        cnnFile = dir.resolve("cnn.pb");
        models.writeCnn(cnnFile);
        mlp = new TensorFlowBackend().load(TestContexts.model(mlpDir));
        cnn = new TensorFlowBackend().load(TestContexts.model(cnnFile, "x", "probs"));
    }

    @AfterAll
    static void closeModels() {
        mlp.close();
        cnn.close();
    }

    @Test
    void savedModelListsActivationLayersWithRoles() {
        assertEquals(List.of(
                new LayerInfo("x", "Placeholder", new int[] {4}, LayerInfo.Role.INPUT),
                new LayerInfo("hidden", "Relu", new int[] {3}, LayerInfo.Role.HIDDEN),
                new LayerInfo("logits", "BiasAdd", new int[] {2}, LayerInfo.Role.LOGITS),
                new LayerInfo("probs", "Softmax", new int[] {2}, LayerInfo.Role.OUTPUT)), mlp.layers());
        assertArrayEquals(new int[] {4}, mlp.inputShape());
        assertEquals("logits", mlp.logitsLayer());
        assertEquals("SavedModel " + mlpDir.toAbsolutePath().normalize()
                + " signature serving_default: input x [4] -> probs [2]", mlp.description());
    }

    @Test
    void frozenGraphListsConvPoolLogitsAndOutput() {
        assertEquals(List.of(
                new LayerInfo("x", "Placeholder", new int[] {5, 5, 2}, LayerInfo.Role.INPUT),
                new LayerInfo("conv", "Relu", new int[] {5, 5, 3}, LayerInfo.Role.HIDDEN),
                new LayerInfo("pool", "MaxPoolV2", new int[] {2, 2, 3}, LayerInfo.Role.HIDDEN),
                new LayerInfo("logits", "BiasAdd", new int[] {2}, LayerInfo.Role.LOGITS),
                new LayerInfo("probs", "Softmax", new int[] {2}, LayerInfo.Role.OUTPUT)), cnn.layers());
        assertEquals("logits", cnn.logitsLayer());
    }

    @Test
    void mlpActivationsMatchNaiveLoop() {
        int n = 6;
        float[] x = TinyModels.random(n * 4, 11);
        Map<String, Tensor> out = mlp.run(Tensor.ofFloats(x, n, 4), List.of("hidden", "logits", "probs", "x"));
        assertEquals(List.of("hidden", "logits", "probs", "x"), List.copyOf(out.keySet()));
        assertClose(models.mlpHidden(x, n), out.get("hidden"), n, 3);
        float[] logits = models.mlpLogits(x, n);
        assertClose(logits, out.get("logits"), n, 2);
        assertClose(TinyModels.softmax(logits, n), out.get("probs"), n, 2);
        assertClose(x, out.get("x"), n, 4);
    }

    @Test
    void cnnActivationsMatchNaiveLoop() {
        int n = 3;
        float[] x = TinyModels.random(n * 5 * 5 * 2, 12);
        Map<String, Tensor> out = cnn.run(Tensor.ofFloats(x, n, 5, 5, 2), List.of("conv", "pool", "logits", "probs"));
        assertClose(models.cnnConv(x, n), out.get("conv"), n, 5, 5, 3);
        assertClose(models.cnnPool(x, n), out.get("pool"), n, 2, 2, 3);
        float[] logits = models.cnnLogits(x, n);
        assertClose(logits, out.get("logits"), n, 2);
        assertClose(TinyModels.softmax(logits, n), out.get("probs"), n, 2);
    }

    @Test
    void multiLayerFetchEqualsSingleFetches() {
        int n = 4;
        Tensor in = Tensor.ofFloats(TinyModels.random(n * 50, 13), n, 5, 5, 2);
        List<String> names = cnn.layers().stream().map(LayerInfo::name).toList();
        Map<String, Tensor> all = cnn.run(in, names);
        for (String name : names) {
            Tensor single = cnn.run(in, List.of(name)).get(name);
            assertArrayEquals(single.shape(), all.get(name).shape(), name);
            assertArrayEquals(single.floats(), all.get(name).floats(), name);
        }
    }

    @Test
    void opsOutsideTheLayerListCanStillBeRun() {
        int n = 2;
        float[] x = TinyModels.random(n * 4, 14);
        Tensor preActivation = mlp.run(Tensor.ofFloats(x, n, 4), List.of("fc1_bias")).get("fc1_bias");
        assertClose(TinyModels.matmul(x, n, 4, models.w1, 3, models.b1), preActivation, n, 3);
        Tensor viaIndex = mlp.run(Tensor.ofFloats(x, n, 4), List.of("fc1_bias:0")).get("fc1_bias:0");
        assertArrayEquals(preActivation.floats(), viaIndex.floats());
    }

    @Test
    void preprocessingScalesAndShiftsTheInput() {
        int n = 3;
        float[] x = TinyModels.random(n * 4, 15);
        float[] transformed = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            transformed[i] = x[i] * 0.5f - 0.25f;
        }
        try (LoadedModel scaled = new TensorFlowBackend().load(TestKit.modelContext(mlpDir,
                new TensorFlowBackend.Params("serving_default", null, null, null, 0.5, -0.25)))) {
            Map<String, Tensor> out = scaled.run(Tensor.ofFloats(x.clone(), n, 4),
                    List.of("x", "neuronmonkey/preprocess/shift", "logits"));
            // the input layer is what the caller feeds (gradients w.r.t. it are in the caller's units)
            assertArrayEquals(x, out.get("x").floats());
            assertClose(transformed, out.get("neuronmonkey/preprocess/shift"), n, 4);
            assertClose(models.mlpLogits(transformed, n), out.get("logits"), n, 2);
        }
    }

    @Test
    void runIsSafeFromSeveralThreads() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                long seed = 100 + t;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < 10; i++) {
                        float[] x = TinyModels.random(2 * 50, seed * 31 + i);
                        Tensor logits = cnn.run(Tensor.ofFloats(x, 2, 5, 5, 2), List.of("logits")).get("logits");
                        assertClose(models.cnnLogits(x, 2), logits, 2, 2);
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void fingerprintIsAStableSha256OfTheFiles() throws Exception {
        assertTrue(mlp.fingerprint().matches("[0-9a-f]{64}"), mlp.fingerprint());
        assertEquals(mlp.fingerprint(), ModelFiles.sha256(mlpDir));
        assertNotEquals(mlp.fingerprint(), cnn.fingerprint());
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        assertEquals(java.util.HexFormat.of().formatHex(md.digest(Files.readAllBytes(cnnFile))), cnn.fingerprint());
    }

    @Test
    void outputParamOverridesTheSignatureAndAnOutputWithoutSoftmaxIsTheLogits() {
        try (LoadedModel model = new TensorFlowBackend().load(TestContexts.model(mlpDir, null, "logits"))) {
            assertEquals(List.of("x INPUT", "hidden HIDDEN", "logits LOGITS"),
                    model.layers().stream().map(l -> l.name() + " " + l.role()).toList());
            assertEquals("logits", model.logitsLayer());
        }
    }

    @Test
    void runningAClosedModelFails() {
        LoadedModel model = new TensorFlowBackend().load(TestContexts.model(mlpDir));
        model.close();
        model.close();
        ModelException e = assertThrows(ModelException.class,
                () -> model.run(Tensor.ofFloats(new float[4], 1, 4), List.of("logits")));
        assertTrue(e.getMessage().contains("is closed"), e.getMessage());
    }

    @Test
    void missingPathIsReported() {
        Path missing = dir.resolve("nope");
        ModelException e = assertThrows(ModelException.class,
                () -> new TensorFlowBackend().load(TestContexts.model(missing)));
        assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("does not exist"),
                e.getMessage());
    }

    @Test
    void corruptGraphDefIsReportedWithItsPath() throws Exception {
        Path bad = dir.resolve("bad.pb");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5, 6, 7});
        ModelException e = assertThrows(ModelException.class,
                () -> new TensorFlowBackend().load(TestContexts.model(bad, "x", "probs")));
        assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
    }

    @Test
    void unknownSignatureListsTheAvailableOnes() {
        ModelException e = assertThrows(ModelException.class, () -> new TensorFlowBackend().load(
                TestKit.modelContext(mlpDir, new TensorFlowBackend.Params("predict", null, null, null, 1, 0))));
        assertTrue(e.getMessage().contains("no signature 'predict'")
                && e.getMessage().contains("available: serving_default"), e.getMessage());
    }

    @Test
    void frozenGraphWithOneFloatPlaceholderAndOneSinkNeedsNoNames() {
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(cnnFile))) {
            assertEquals("x", m.layers().get(0).name());
            assertEquals("logits", m.logitsLayer());
            assertEquals("probs", m.layers().get(m.layers().size() - 1).name());
            float[] x = TinyModels.random(50, 9);
            assertArrayEquals(models.cnnLogits(x, 1), m.run(Tensor.ofFloats(x, 1, 5, 5, 2), List.of("logits"))
                    .get("logits").floats(), TOL);
        }
    }

    @Test
    void unknownLayerNamesNearMatches() {
        ModelException e = assertThrows(ModelException.class,
                () -> cnn.run(Tensor.ofFloats(new float[50], 1, 5, 5, 2), List.of("logit")));
        assertTrue(e.getMessage().contains("unknown layer 'logit'") && e.getMessage().contains("did you mean logits"),
                e.getMessage());
        e = assertThrows(ModelException.class,
                () -> cnn.run(Tensor.ofFloats(new float[50], 1, 5, 5, 2), List.of("pool2")));
        assertTrue(e.getMessage().contains("did you mean pool?"), e.getMessage());
    }

    @Test
    void inputShapeMismatchNamesExpectedAndFound() {
        ModelException e = assertThrows(ModelException.class,
                () -> cnn.run(Tensor.ofFloats(new float[40], 1, 5, 4, 2), List.of("logits")));
        assertTrue(e.getMessage().contains("[n, 5, 5, 2], found FLOAT32 [1, 5, 4, 2]"), e.getMessage());
    }

    @Test
    void paramsRejectEveryInvalidValueAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new TensorFlowBackend.Params(" ", "", null, null, 0, Double.NaN));
        assertEquals(List.of("signature", "input", "scale", "shift"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }

    private static void assertClose(float[] expected, Tensor actual, int... shape) {
        assertArrayEquals(shape, actual.shape());
        assertArrayEquals(expected, actual.floats(), TOL);
    }
}
