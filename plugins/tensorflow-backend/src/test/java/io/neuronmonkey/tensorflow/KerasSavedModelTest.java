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
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.types.TFloat32;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A Keras-layout SavedModel (layers inside nested function calls) generated at test time, loaded by the backend. */
class KerasSavedModelTest {

    @TempDir
    static Path dir;
    static KerasStyleModels keras = new KerasStyleModels();
    static LoadedModel model;

    @BeforeAll
    static void export() throws Exception {
        keras.export(dir.resolve("keras"));
        model = new TensorFlowBackend().load(TestContexts.model(dir.resolve("keras")));
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void inliningExposesTheKerasLayersWithShapesAndPaths() {
        assertEquals(List.of(
                new LayerInfo("input_1", "Placeholder", new int[] {8, 8, 2}, LayerInfo.Role.INPUT,
                        "serving_default_input_1"),
                new LayerInfo("conv2d", "Relu", new int[] {8, 8, 4}, LayerInfo.Role.HIDDEN, "sequential/conv2d/Relu"),
                new LayerInfo("batch_normalization", "FusedBatchNormV3", new int[] {8, 8, 4}, LayerInfo.Role.HIDDEN,
                        "sequential/batch_normalization/FusedBatchNormV3"),
                new LayerInfo("max_pooling2d", "MaxPool", new int[] {4, 4, 4}, LayerInfo.Role.HIDDEN,
                        "sequential/max_pooling2d/MaxPool"),
                new LayerInfo("dense", "Relu", new int[] {5}, LayerInfo.Role.HIDDEN, "sequential/dense/Relu"),
                new LayerInfo("dense_1/BiasAdd", "BiasAdd", new int[] {3}, LayerInfo.Role.LOGITS,
                        "sequential/dense_1/BiasAdd"),
                new LayerInfo("dense_1", "Softmax", new int[] {3}, LayerInfo.Role.OUTPUT,
                        "sequential/dense_1/Softmax")), model.layers());
        assertEquals("dense_1/BiasAdd", model.logitsLayer(), model.layers().stream().map(LayerInfo::path).toList().toString());
        assertArrayEquals(new int[] {8, 8, 2}, model.inputShape());
        assertTrue(model.description().endsWith("input input_1 [8,8,2] -> dense_1 [3] (2 function calls inlined)"),
                model.description());
    }

    @Test
    void outputsEqualTheOriginalSignatureForBothSignatures() {
        int n = 5;
        float[] x = TinyModels.random(n * 128, 31);
        float[] original = originalSignature(x, n, "serving_default_input_1", "StatefulPartitionedCall");
        float[] ours = model.run(Tensor.ofFloats(x, n, 8, 8, 2), List.of("dense_1")).get("dense_1").floats();
        assertEquals(0.0, maxAbsDiff(original, ours), 1e-6);
        try (LoadedModel serve = new TensorFlowBackend().load(TestKit.modelContext(dir.resolve("keras"),
                new TensorFlowBackend.Params("serve", null, null, null, 1, 0)))) {
            float[] viaServe = serve.run(Tensor.ofFloats(x, n, 8, 8, 2), List.of("dense_1")).get("dense_1").floats();
            assertEquals(0.0, maxAbsDiff(originalSignature(x, n, "serve_input_1", "StatefulPartitionedCall_1"),
                    viaServe), 1e-6);
        }
    }

    @Test
    void everyOpInsideTheFunctionsIsFetchableByItsKerasPath() {
        int n = 2;
        float[] x = TinyModels.random(n * 128, 32);
        Map<String, Tensor> out = model.run(Tensor.ofFloats(x, n, 8, 8, 2),
                List.of("sequential/conv2d/Conv2D", "conv2d", "sequential/dense_1/Softmax"));
        float[] conv = out.get("sequential/conv2d/Conv2D").floats();
        float[] bias = keras.values.get("conv2d/bias");
        float[] relu = new float[conv.length];
        for (int i = 0; i < conv.length; i++) {
            relu[i] = Math.max(0f, conv[i] + bias[i % 4]);
        }
        assertArrayEquals(relu, out.get("conv2d").floats(), 1e-6f);
        assertArrayEquals(new int[] {n, 8, 8, 4}, out.get("sequential/conv2d/Conv2D").shape());
        assertArrayEquals(new int[] {n, 3}, out.get("sequential/dense_1/Softmax").shape());
        // the same ops are listed as capturable under their Keras paths, and validate as layer names
        List<String> capturable = model.capturable().stream().map(LayerInfo::name).toList();
        assertTrue(capturable.containsAll(List.of("sequential/conv2d/Conv2D", "sequential/conv2d/BiasAdd",
                "sequential/dense/MatMul", "conv2d", "dense_1")), capturable.toString());
        assertTrue(capturable.indexOf("sequential/conv2d/Conv2D") < capturable.indexOf("conv2d"), "graph order");
        assertArrayEquals(new int[] {8, 8, 4}, model.layer("sequential/conv2d/Conv2D").orElseThrow().shape());
        assertEquals(5, model.layer("sequential/dense/MatMul").orElseThrow().neurons());
    }

    @Test
    void interventionOnAnInternalLayerMatchesARecomputationOfTheLayersAfterIt() {
        int n = 3;
        Tensor x = Tensor.ofFloats(TinyModels.random(n * 128, 33), n, 8, 8, 2);
        float[] before = model.run(x, List.of("dense")).get("dense").floats();
        List<Intervention> ivs = List.of(Intervention.ablate("dense", 1, 3).forRows(0),
                Intervention.scale("dense", 2f, 0).forRows(1), Intervention.add("dense", 0.5f, 4).forRows(1));
        Map<String, Tensor> out = model.run(x, List.of("dense", "dense_1/BiasAdd", "dense_1"), ivs);
        float[] expected = before.clone();
        expected[1] = 0f;
        expected[3] = 0f;
        expected[5] *= 2f;
        expected[5 + 4] += 0.5f;
        assertArrayEquals(expected, out.get("dense").floats());
        float[] logits = TinyModels.matmul(expected, n, 5, keras.values.get("dense_1/kernel"), 3,
                keras.values.get("dense_1/bias"));
        assertArrayEquals(logits, out.get("dense_1/BiasAdd").floats(), 1e-5f);
        assertArrayEquals(TinyModels.softmax(logits, n), out.get("dense_1").floats(), 1e-6f);
        // the row without interventions is bit for bit the plain run
        float[] plain = model.run(x, List.of("dense_1")).get("dense_1").floats();
        assertArrayEquals(java.util.Arrays.copyOfRange(plain, 6, 9),
                java.util.Arrays.copyOfRange(out.get("dense_1").floats(), 6, 9));
        assertNotEquals(plain[0], out.get("dense_1").floats()[0]);
    }

    @Test
    void inputGradientMatchesCentralDifferences() {
        int n = 2;
        float[] x = TinyModels.random(n * 128, 34);
        GradientTarget target = GradientTarget.perRow("dense_1/BiasAdd", new int[] {2, 0});
        Tensor g = model.gradient(Tensor.ofFloats(x, n, 8, 8, 2), target, "input_1");
        assertArrayEquals(new int[] {n, 8, 8, 2}, g.shape());
        int[] coords = {0, 17, 40, 63, 64, 99, 127};
        float h = 1e-2f;
        // every perturbation is one row of a single batch
        float[] probes = new float[2 * n * coords.length * 128];
        int row = 0;
        for (int r = 0; r < n; r++) {
            for (int c : coords) {
                for (int sign = -1; sign <= 1; sign += 2) {
                    System.arraycopy(x, r * 128, probes, row * 128, 128);
                    probes[row * 128 + c] += sign * h;
                    row++;
                }
            }
        }
        float[] logits = model.run(Tensor.ofFloats(probes, row, 8, 8, 2), List.of("dense_1/BiasAdd"))
                .get("dense_1/BiasAdd").floats();
        row = 0;
        for (int r = 0; r < n; r++) {
            int k = r == 0 ? 2 : 0;
            for (int c : coords) {
                double fd = (logits[(row + 1) * 3 + k] - logits[row * 3 + k]) / (2.0 * h);
                assertEquals(fd, g.floats()[r * 128 + c], 5e-3, "row " + r + " coordinate " + c);
                row += 2;
            }
        }
    }

    @Test
    void layerGradientsMatchDifferencesOfChannelInterventions() {
        int n = 2;
        Tensor x = Tensor.ofFloats(TinyModels.random(n * 128, 35), n, 8, 8, 2);
        GradientTarget target = GradientTarget.neuron("dense_1/BiasAdd", 1);
        for (String layer : List.of("max_pooling2d", "dense")) {
            Tensor g = model.gradient(x, target, layer);
            LayerInfo info = model.layer(layer).orElseThrow();
            float h = 1e-2f;
            for (int c = 0; c < info.neurons(); c++) {
                float plus = model.run(x, List.of("dense_1/BiasAdd"), List.of(Intervention.add(layer, h, c)))
                        .get("dense_1/BiasAdd").floats()[1];
                float minus = model.run(x, List.of("dense_1/BiasAdd"), List.of(Intervention.add(layer, -h, c)))
                        .get("dense_1/BiasAdd").floats()[1];
                // adding h to channel c of row 0 moves the target by h * (sum of that channel's gradient)
                double channelGradient = 0;
                for (int p = 0; p < info.positions(); p++) {
                    channelGradient += g.floats()[p * info.neurons() + c];
                }
                assertEquals((plus - minus) / (2.0 * h), channelGradient, 5e-3, layer + " channel " + c);
            }
        }
    }

    @Test
    void predictedTargetUsesEachRowsArgMax() {
        int n = 4;
        Tensor x = Tensor.ofFloats(TinyModels.random(n * 128, 36), n, 8, 8, 2);
        float[] logits = model.run(x, List.of("dense_1/BiasAdd")).get("dense_1/BiasAdd").floats();
        int[] argMax = new int[n];
        for (int r = 0; r < n; r++) {
            for (int k = 1; k < 3; k++) {
                if (logits[r * 3 + k] > logits[r * 3 + argMax[r]]) {
                    argMax[r] = k;
                }
            }
        }
        Tensor predicted = model.gradient(x, GradientTarget.predicted("dense_1/BiasAdd"), "conv2d");
        Tensor perRow = model.gradient(x, GradientTarget.perRow("dense_1/BiasAdd", argMax), "conv2d");
        assertArrayEquals(perRow.floats(), predicted.floats());
        assertTrue(model.supportsGradients() && model.supportsInterventions());
    }

    @Test
    void gradientWithoutAPathIsRefused() {
        Tensor x = Tensor.ofFloats(new float[128], 1, 8, 8, 2);
        ModelException e = assertThrows(ModelException.class,
                () -> model.gradient(x, GradientTarget.neuron("conv2d", 0), "dense"));
        assertTrue(e.getMessage().contains("cannot differentiate 'conv2d' with respect to 'dense': it does not depend"
                + " on it"), e.getMessage());
    }

    private float[] originalSignature(float[] x, int n, String input, String output) {
        try (SavedModelBundle b = SavedModelBundle.load(dir.resolve("keras").toString(), "serve");
             TFloat32 in = TfTensors.floats(x, n, 8, 8, 2);
             Result r = b.session().runner().feed(input, in).fetch(output).run()) {
            return TfTensors.toTensor(r.get(0), "original").floats();
        }
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }
}
