package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.types.TFloat32;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The monitored trainer: in-graph statistics against naive loops, per-epoch checkpoints, neurons killed on purpose. */
class ShapesCnnMonitorTest {

    private static final int SIDE = 12;

    private static ShapesCnnTrainer.Params params(int epochs, int batch, int every,
                                                  ShapesCnnTrainer.Checkpoints checkpoints, int kill) {
        return new ShapesCnnTrainer.Params(epochs, batch, 0.002, 4, 8, 16, ShapesCnnTrainer.Architecture.CNN,
                List.of(512, 512), every, checkpoints, kill, 1, 100);
    }

    /**
     * With one full batch, the first monitored step sees the initial weights and every example: its layer statistics
     * match a naive loop over the forward pass, and the logits bias gradient matches its closed form, mean(softmax -
     * onehot).
     */
    @Test
    void firstSampleMatchesNaiveStatisticsOfTheInitialNetwork(@TempDir Path out) {
        int n = 96;
        TestContexts.MemoryDataset data = ShapesCnnTrainerTest.halves(n, 3);
        ShapesCnnTrainer.Params p = params(1, n, 1, ShapesCnnTrainer.Checkpoints.NONE, 0);
        TestContexts.Trainer ctx = new TestContexts.Trainer(p, data, Map.of(), out, new ArrayList<>());
        List<TrainingMonitor.Sample> samples = new ArrayList<>();
        new ShapesCnnTrainer(List.of(samples::add)).train(ctx);
        assertEquals(1, samples.size());
        TrainingMonitor.Sample s = samples.get(0);

        CnnGraph.Spec spec = new CnnGraph.Spec(SIDE, SIDE, 1, true, 4, 8, List.of(16), 2);
        float[][] initial = spec.initialWeights(ctx.random("trainer"));
        try (Graph g = new Graph()) {
            new CnnGraph(g, spec, initial);
            try (Session session = new Session(g);
                 TFloat32 x = TfTensors.floats(data.inputs(), n, SIDE, SIDE, 1)) {
                session.initialize();
                String[] layers = {"conv1", "conv2", "dense1"};
                Session.Runner run = session.runner().feed("images", x);
                for (String l : layers) {
                    run.fetch(l);
                }
                run.fetch("probabilities");
                try (Result r = run.run()) {
                    for (int i = 0; i < layers.length; i++) {
                        float[] a = TfTensors.toTensor(r.get(i), layers[i]).floats();
                        int c = (int) r.get(i).shape().get(r.get(i).shape().numDimensions() - 1);
                        double sum = 0;
                        for (float v : a) {
                            sum += v;
                        }
                        double mean = sum / a.length;
                        double var = 0;
                        for (float v : a) {
                            var += (v - mean) * (v - mean);
                        }
                        var /= a.length;
                        int dead = 0;
                        for (int ch = 0; ch < c; ch++) {
                            boolean fired = false;
                            for (int j = ch; j < a.length; j += c) {
                                fired |= a[j] > 0;
                            }
                            dead += fired ? 0 : 1;
                        }
                        assertEquals(mean, s.layerMean()[i], 1e-4 * Math.max(1, Math.abs(mean)), layers[i]);
                        assertEquals(var, s.layerVariance()[i], 1e-3 * Math.max(1e-3, var), layers[i]);
                        assertEquals((double) dead / c, s.deadFraction()[i], 1e-12, layers[i]);
                    }
                    float[] prob = TfTensors.toTensor(r.get(3), "probabilities").floats();
                    double[] grad = new double[2];
                    for (int e = 0; e < n; e++) {
                        for (int k = 0; k < 2; k++) {
                            grad[k] += (prob[e * 2 + k] - (data.labels()[e] == k ? 1 : 0)) / (double) n;
                        }
                    }
                    int logitsBias = spec.variableNames().indexOf("logits_b");
                    assertEquals(Math.hypot(grad[0], grad[1]), s.gradientNorm()[logitsBias], 1e-5);
                }
            }
        }
    }

    /**
     * Killing the first 4 dense1 units after epoch 1: checkpoint epoch_01 has them firing, epoch_02 and epoch_03
     * have them silent on every example (checked through the backend), and the monitor flags their gradients as
     * vanished from epoch 2 on.
     */
    @Test
    void killedUnitsStayDeadInLaterCheckpointsAndTheMonitorFlagsThem(@TempDir Path out) throws Exception {
        TestContexts.MemoryDataset data = ShapesCnnTrainerTest.halves(320, 1);
        ShapesCnnTrainer.Params p = params(3, 32, 5, ShapesCnnTrainer.Checkpoints.EPOCH, 4);
        AnalysisResult result = new ShapesCnnTrainer().train(
                new TestContexts.Trainer(p, data, Map.of(), out, new ArrayList<>()));

        assertEquals(List.of("checkpoints/epoch_01", "checkpoints/epoch_02", "checkpoints/epoch_03"),
                result.summary().get("checkpoints"));
        for (int epoch = 1; epoch <= 3; epoch++) {
            Path dir = out.resolve(String.format("checkpoints/epoch_%02d", epoch));
            try (LoadedModel model = new TensorFlowBackend().load(TestContexts.model(dir))) {
                float[] a = model.run(Tensor.ofFloats(data.inputs().clone(), 320, SIDE, SIDE, 1), List.of("dense1"))
                        .get("dense1").floats();
                int firingKilled = 0;
                for (int u = 0; u < 4; u++) {
                    for (int e = 0; e < 320; e++) {
                        if (a[e * 16 + u] > 0) {
                            firingKilled++;
                            break;
                        }
                    }
                }
                if (epoch == 1) {
                    assertTrue(firingKilled > 0, "before the kill some of units 0..3 fire");
                } else {
                    assertEquals(0, firingKilled, "epoch " + epoch + ": killed units must stay silent");
                }
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> monitor = (Map<String, Object>) result.summary().get("monitor");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> stuck = (List<Map<String, Object>>) monitor.get("stuckUnits");
        for (String variable : List.of("dense1_w", "dense1_b")) {
            Map<String, Object> v = stuck.stream().filter(f -> f.get("variable").equals(variable)).findFirst()
                    .orElseThrow(() -> new AssertionError(stuck));
            List<?> units = (List<?>) v.get("units");
            for (int u = 0; u < 4; u++) {
                int at = units.indexOf(u);
                assertTrue(at >= 0, variable + " unit " + u + " flagged: " + v);
                // the first sample after the kill: epoch 2 starts at step 11, the first monitored one is step 15
                assertEquals(2, ((List<?>) v.get("sinceEpoch")).get(at), v.toString());
                assertEquals(15L, ((List<?>) v.get("sinceStep")).get(at), v.toString());
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Map<String, Object>> layers = (Map<String, Map<String, Object>>) monitor.get("layers");
        assertTrue((Double) layers.get("dense1").get("lastDeadFraction") >= 4 / 16.0, layers.toString());
        assertEquals(2, result.parts(Series.class).size());
        Path events = out.resolve((String) monitor.get("eventFile"));
        List<org.tensorflow.proto.Event> records = TfEventsWriterTest.read(events);
        // version record, then per sample: loss, 3 layers x 4, 8 variables x 2
        assertEquals(1 + (long) (Integer) monitor.get("samples") * (1 + 12 + 16), records.size());
        assertTrue(Files.isRegularFile(out.resolve("saved_model.pb")));
    }

    @Test
    void rejectsAKillWithoutALaterEpoch() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new ShapesCnnTrainer.Params(2, 16, 0.01, 4, 8, 16, ShapesCnnTrainer.Architecture.CNN,
                        List.of(512), -1, ShapesCnnTrainer.Checkpoints.EPOCH, 20, 2, 0));
        for (String field : List.of("monitorEvery", "killUnits", "killAfterEpoch", "killBias")) {
            assertTrue(e.getMessage().contains(field), e.getMessage());
        }
    }
}
