package io.neuronmonkey.dynamics;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.train.TrainerContext;
import io.neuronmonkey.attribution.TestSupport;
import io.neuronmonkey.tensorflow.ShapesCnnTrainer;
import io.neuronmonkey.tensorflow.TensorFlowBackend;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Trains the demo CNN with 8 dense1 units killed after epoch 2 and a checkpoint per epoch, then checks that the
 * dynamics analyzer finds them, and that its dead sets match a naive run of each checkpoint.
 */
class DynamicsAnalyzerTest {

    @TempDir
    static Path run;
    static Dataset probe;
    static AnalysisResult result;

    record Training(ShapesCnnTrainer.Params params, Dataset trainData, Path outputDir)
            implements TrainerContext<ShapesCnnTrainer.Params> {
        public Map<String, Dataset> evaluationData() {
            return Map.of();
        }

        public Path resolve(String p) {
            return outputDir.resolve(p);
        }

        public long seed() {
            return 7;
        }

        public ProgressReporter progress() {
            return ProgressReporter.NONE;
        }
    }

    @BeforeAll
    static void trainAndAnalyze() {
        ShapesCnnTrainer.Params p = new ShapesCnnTrainer.Params(3, 64, 0.002, 8, 16, 32,
                ShapesCnnTrainer.Architecture.CNN, List.of(512), 0, ShapesCnnTrainer.Checkpoints.EPOCH, 8, 2, 100);
        new ShapesCnnTrainer().train(new Training(p, TestSupport.shapes("train", 1200), run.resolve("model")));
        probe = TestSupport.shapes("test", 300);
        try (LoadedModel first = TestSupport.loadModel(run.resolve("model/checkpoints/epoch_01"),
                TensorFlowBackend.Params.defaults())) {
            result = new DynamicsAnalyzer().analyze(new TestSupport.Context<>("dynamics",
                    new DynamicsAnalyzer.Params(run.resolve("model/checkpoints").toString(), 5), first, probe,
                    List.of("conv2", "dense1"), 128, run.resolve("work")));
        }
    }

    /** @return the dense1 neurons that never fire on the probe data, by a plain loop over one checkpoint's run */
    private static TreeSet<Integer> naiveDead(int epoch) {
        boolean[] fired = new boolean[32];
        try (LoadedModel m = TestSupport.loadModel(run.resolve(String.format("model/checkpoints/epoch_%02d", epoch)),
                TensorFlowBackend.Params.defaults())) {
            Iterator<Batch> it = probe.batches(50);
            while (it.hasNext()) {
                Batch b = it.next();
                float[] a = m.run(b.inputs(), List.of("dense1")).get("dense1").floats();
                for (int i = 0; i < a.length; i++) {
                    fired[i % 32] |= a[i] > 0;
                }
            }
        }
        TreeSet<Integer> dead = new TreeSet<>();
        for (int j = 0; j < 32; j++) {
            if (!fired[j]) {
                dead.add(j);
            }
        }
        return dead;
    }

    @Test
    void findsTheKilledUnitsAndTheEpoch() {
        assertEquals(List.of("epoch_01", "epoch_02", "epoch_03"), result.summary().get("checkpoints"));
        NeuronTable t = result.part("dense1-dynamics", NeuronTable.class).orElseThrow();
        float[] diedAt = t.column("diedAt").orElseThrow().values().data().floats();
        TreeSet<Integer> deadBefore = naiveDead(2);
        List<Integer> killedAlive = new ArrayList<>();
        for (int u = 0; u < 8; u++) {
            if (!deadBefore.contains(u)) {
                killedAlive.add(u);
                assertEquals(3f, diedAt[u], "dense1 #" + u + " fired at epoch 2 and was killed after it");
            }
        }
        assertTrue(killedAlive.size() >= 5, "most killed units fired before the kill: " + killedAlive);
        Finding f = result.findings().stream().filter(x -> x.id().equals("dense1-died-3")).findFirst().orElseThrow();
        assertTrue(f.claim().contains("neurons died between epoch_02 and epoch_03"), f.claim());
        assertTrue(f.neurons().stream().map(n -> n.neuron()).toList().containsAll(killedAlive),
                f.neurons().toString());
        assertTrue(f.claim().startsWith(f.neurons().size() + " of 32 dense1"), f.claim());
    }

    @Test
    void deadFractionsMatchANaiveRunOfEachCheckpoint() {
        float[] curve = result.part("dense1-dead-fraction", Series.class).orElseThrow().curves().get(0).y().data()
                .floats();
        for (int epoch = 1; epoch <= 3; epoch++) {
            TreeSet<Integer> dead = naiveDead(epoch);
            assertEquals(dead.size() / 32f, curve[epoch - 1], 1e-6, "epoch " + epoch + " dead " + dead);
            if (epoch == 3) {
                assertTrue(dead.containsAll(List.of(0, 1, 2, 3, 4, 5, 6, 7)), dead.toString());
                NeuronTable t = result.part("dense1-dynamics", NeuronTable.class).orElseThrow();
                assertEquals(new ArrayList<>(dead), t.tags().get(0).neurons());
            }
        }
        assertTrue(result.part("conv2-mean-variance", Series.class).isPresent());
        assertTrue(result.part("role-change", io.neuronmonkey.api.result.Ranking.class).isPresent());
    }

    @Test
    void rejectsAMissingSeries() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class, () -> new DynamicsAnalyzer.Params("", 0));
        assertTrue(e.getMessage().contains("series") && e.getMessage().contains("top"), e.getMessage());
    }
}
