package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Trains the demo CNN on a trivially separable task and loads the result through the backend. */
class ShapesCnnTrainerTest {

    private static final int SIDE = 12;

    /** Class 0: the left half is bright; class 1: the right half. Noise in [0, 0.3) everywhere. */
    static TestContexts.MemoryDataset halves(int count, long seed) {
        Random r = new Random(seed);
        float[] x = new float[count * SIDE * SIDE];
        int[] y = new int[count];
        for (int e = 0; e < count; e++) {
            y[e] = r.nextInt(2);
            for (int i = 0; i < SIDE; i++) {
                for (int j = 0; j < SIDE; j++) {
                    boolean bright = (j < SIDE / 2) == (y[e] == 0);
                    x[(e * SIDE + i) * SIDE + j] = (bright ? 0.6f : 0f) + 0.3f * r.nextFloat();
                }
            }
        }
        return new TestContexts.MemoryDataset(x, y, new int[] {SIDE, SIDE, 1}, List.of("left", "right"));
    }

    @Test
    void learnsBrightHalvesAndExportsALoadableModel(@TempDir Path out) {
        List<String> events = new ArrayList<>();
        ShapesCnnTrainer.Params params = new ShapesCnnTrainer.Params(2, 16, 0.01, 4, 8, 16,
                ShapesCnnTrainer.Architecture.CNN, List.of(512, 512));
        TestContexts.Trainer ctx = new TestContexts.Trainer(params, halves(200, 1),
                Map.of("test", halves(100, 2)), out, events);

        AnalysisResult result = new ShapesCnnTrainer().train(ctx);

        @SuppressWarnings("unchecked")
        Map<String, Object> accuracy = (Map<String, Object>) result.summary().get("accuracy");
        assertTrue(((Double) accuracy.get("train")) > 0.9, "accuracy " + accuracy);
        assertTrue(((Double) accuracy.get("test")) > 0.9, "accuracy " + accuracy);
        assertEquals(2, ((List<?>) result.summary().get("lossPerEpoch")).size());
        assertArrayEquals(new int[] {2}, result.array("loss").orElseThrow().shape());
        assertEquals("start 26", events.get(0));
        assertEquals(27, events.size());
        assertTrue(Files.isRegularFile(out.resolve("saved_model.pb")));

        try (LoadedModel model = new TensorFlowBackend().load(TestContexts.model(out))) {
            assertEquals(List.of("images", "conv1", "pool1", "conv2", "pool2", "dense1", "logits", "probabilities"),
                    model.layers().stream().map(LayerInfo::name).toList());
            assertEquals(List.of(
                    new LayerInfo("images", "Placeholder", new int[] {12, 12, 1}, LayerInfo.Role.INPUT),
                    new LayerInfo("conv1", "Relu", new int[] {12, 12, 4}, LayerInfo.Role.HIDDEN),
                    new LayerInfo("pool1", "MaxPoolV2", new int[] {6, 6, 4}, LayerInfo.Role.HIDDEN),
                    new LayerInfo("conv2", "Relu", new int[] {6, 6, 8}, LayerInfo.Role.HIDDEN),
                    new LayerInfo("pool2", "MaxPoolV2", new int[] {3, 3, 8}, LayerInfo.Role.HIDDEN),
                    new LayerInfo("dense1", "Relu", new int[] {16}, LayerInfo.Role.HIDDEN),
                    new LayerInfo("logits", "BiasAdd", new int[] {2}, LayerInfo.Role.LOGITS),
                    new LayerInfo("probabilities", "Softmax", new int[] {2}, LayerInfo.Role.OUTPUT)),
                    model.layers());
            // the exported model reproduces the reported test accuracy
            TestContexts.MemoryDataset test = halves(100, 2);
            float[] logits = model.run(Tensor.ofFloats(test.inputs().clone(), 100, SIDE, SIDE, 1), List.of("logits"))
                    .get("logits").floats();
            int correct = 0;
            for (int e = 0; e < 100; e++) {
                correct += (logits[2 * e + 1] > logits[2 * e] ? 1 : 0) == test.labels()[e] ? 1 : 0;
            }
            assertEquals((Double) accuracy.get("test"), correct / 100.0, 1e-9);
        }
    }

    @Test
    void mlpArchitectureLearnsAndExportsItsDenseLayers(@TempDir Path out) {
        ShapesCnnTrainer.Params params = new ShapesCnnTrainer.Params(3, 16, 0.005, 4, 8, 16,
                ShapesCnnTrainer.Architecture.MLP, List.of(32, 24));
        TestContexts.Trainer ctx = new TestContexts.Trainer(params, halves(200, 1), Map.of("test", halves(100, 2)), out,
                new ArrayList<>());

        AnalysisResult result = new ShapesCnnTrainer().train(ctx);

        @SuppressWarnings("unchecked")
        Map<String, Object> accuracy = (Map<String, Object>) result.summary().get("accuracy");
        assertTrue(((Double) accuracy.get("test")) > 0.9, "accuracy " + accuracy);
        // 144*32 + 32 + 32*24 + 24 + 24*2 + 2 parameters
        assertEquals(144L * 32 + 32 + 32 * 24 + 24 + 24 * 2 + 2, ((Number) result.summary().get("parameters")).longValue());
        try (LoadedModel model = new TensorFlowBackend().load(TestContexts.model(out))) {
            assertEquals(List.of(
                    new LayerInfo("images", "Placeholder", new int[] {12, 12, 1}, LayerInfo.Role.INPUT),
                    new LayerInfo("dense1", "Relu", new int[] {32}, LayerInfo.Role.HIDDEN),
                    new LayerInfo("dense2", "Relu", new int[] {24}, LayerInfo.Role.HIDDEN),
                    new LayerInfo("logits", "BiasAdd", new int[] {2}, LayerInfo.Role.LOGITS),
                    new LayerInfo("probabilities", "Softmax", new int[] {2}, LayerInfo.Role.OUTPUT)),
                    model.layers());
        }
    }

    @Test
    void sameSeedTrainsBitIdenticalWeightsTwice(@TempDir Path out) throws Exception {
        ShapesCnnTrainer.Params params = new ShapesCnnTrainer.Params(1, 32, 0.01, 8, 16, 32,
                ShapesCnnTrainer.Architecture.CNN, List.of(512, 512));
        Map<String, float[]> first = trainedVariables(params, out.resolve("a"));
        Map<String, float[]> second = trainedVariables(params, out.resolve("b"));
        assertEquals(first.keySet(), second.keySet());
        for (String name : first.keySet()) {
            float[] a = first.get(name);
            float[] b = second.get(name);
            assertEquals(a.length, b.length, name);
            for (int i = 0; i < a.length; i++) {
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]),
                        name + "[" + i + "]: " + a[i] + " vs " + b[i]);
            }
        }
    }

    /** Trains with the test context's seed and reads every variable back from the exported SavedModel. */
    private static Map<String, float[]> trainedVariables(ShapesCnnTrainer.Params params, Path out) {
        TestContexts.Trainer ctx = new TestContexts.Trainer(params, halves(256, 3), Map.of(), out, new ArrayList<>());
        new ShapesCnnTrainer().train(ctx);
        List<String> names = List.of("conv1_w", "conv1_b", "conv2_w", "conv2_b", "dense1_w", "dense1_b", "logits_w",
                "logits_b");
        Map<String, float[]> values = new java.util.LinkedHashMap<>();
        try (org.tensorflow.SavedModelBundle bundle = org.tensorflow.SavedModelBundle.load(out.toString(), "serve")) {
            org.tensorflow.Session.Runner runner = bundle.session().runner();
            names.forEach(runner::fetch);
            try (org.tensorflow.Result r = runner.run()) {
                for (int i = 0; i < names.size(); i++) {
                    values.put(names.get(i), TfTensors.toTensor(r.get(i), names.get(i)).floats());
                }
            }
        }
        return values;
    }

    @Test
    void paramsRejectEveryInvalidValueAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new ShapesCnnTrainer.Params(0, 0, -1, 8, 0, 32, ShapesCnnTrainer.Architecture.MLP, List.of(64, 0)));
        assertEquals(List.of("epochs", "batchSize", "learningRate", "conv2Channels", "hiddenUnits"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
