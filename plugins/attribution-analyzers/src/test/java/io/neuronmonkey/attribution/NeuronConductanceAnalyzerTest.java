package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.tensorflow.TensorFlowBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NeuronConductanceAnalyzerTest {

    @TempDir
    Path tmp;

    private static NeuronConductanceAnalyzer.Params params(String target, int steps, int internalBatch) {
        return new NeuronConductanceAnalyzer.Params(target, NeuronConductanceAnalyzer.Baseline.ZERO, steps, internalBatch,
                Map.of(), 1000, 10);
    }

    @Test
    void equalsTheClosedFormOnAModelWithKnownWeights() throws Exception {
        KnownWeights w = new KnownWeights();
        w.export(tmp.resolve("mlp"));
        int count = 40;
        try (LoadedModel m = TestSupport.loadModel(tmp.resolve("mlp"), TensorFlowBackend.Params.defaults());
             Dataset d = KnownWeights.data(count, 7)) {
            // F is linear in the hidden layer: conductance_j = W2[j, c] (h_j(x) - relu(b1_j)) for any number of steps
            float[] h0 = w.hidden(new float[KnownWeights.IN], 0);
            double[][] expected = new double[KnownWeights.OUT][KnownWeights.HIDDEN];
            double[][] byPredicted = new double[KnownWeights.OUT][KnownWeights.HIDDEN];
            int[] predictedCount = new int[KnownWeights.OUT];
            for (Iterator<Batch> it = d.batches(count); it.hasNext(); ) {
                Batch b = it.next();
                for (int r = 0; r < b.size(); r++) {
                    float[] h = w.hidden(b.inputs().floats(), r * KnownWeights.IN);
                    double[] logits = new double[KnownWeights.OUT];
                    for (int c = 0; c < KnownWeights.OUT; c++) {
                        logits[c] = w.b2[c];
                        for (int j = 0; j < KnownWeights.HIDDEN; j++) {
                            logits[c] += h[j] * w.w2[j * KnownWeights.OUT + c];
                            expected[c][j] += w.w2[j * KnownWeights.OUT + c] * (h[j] - h0[j]) / count;
                        }
                    }
                    int best = 0;
                    for (int c = 1; c < KnownWeights.OUT; c++) {
                        best = logits[c] > logits[best] ? c : best;
                    }
                    predictedCount[best]++;
                    for (int j = 0; j < KnownWeights.HIDDEN; j++) {
                        byPredicted[best][j] += w.w2[j * KnownWeights.OUT + best] * (h[j] - h0[j]);
                    }
                }
            }
            for (int steps : new int[] {1, 3}) {
                for (int c = 0; c < KnownWeights.OUT; c++) {
                    AnalysisResult r = run(m, d, params("class:" + c, steps, 7));
                    NeuronTable t = r.part("hidden-conductance", NeuronTable.class).orElseThrow();
                    for (int j = 0; j < KnownWeights.HIDDEN; j++) {
                        assertEquals(expected[c][j], t.column("mean").orElseThrow().values().get(j), 1e-4,
                                "class " + c + " hidden " + j + " steps " + steps);
                    }
                    assertTrue(completeness(r, "hidden") < 1e-4, "completeness " + completeness(r, "hidden"));
                }
            }
            AnalysisResult r = run(m, d, params("predicted", 2, 64));
            Matrix byClass = r.part("hidden-conductance-by-class", Matrix.class).orElseThrow();
            for (int c = 0; c < KnownWeights.OUT; c++) {
                for (int j = 0; j < KnownWeights.HIDDEN; j++) {
                    double want = predictedCount[c] == 0 ? Double.NaN : byPredicted[c][j] / predictedCount[c];
                    assertEquals(want, byClass.get(c, j), 1e-4, "predicted class " + c + " hidden " + j);
                }
            }
            Ranking ranking = r.part("conductance-ranking", Ranking.class).orElseThrow();
            for (int i = 1; i < ranking.entries().size(); i++) {
                assertTrue(ranking.entries().get(i - 1).score() >= ranking.entries().get(i).score());
            }
            assertTrue(r.findings().stream().anyMatch(f -> f.id().equals("top-neuron")));
        }
    }

    @Test
    void holdsCompletenessOnTheDemoCnnAndWarnsWhenStepsAreTooFew() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 24)) {
            AnalysisResult r = run(m, d, params("class:square", 64, 512), List.of("conv2", "dense1"));
            assertTrue(completeness(r, "conv2") < 0.01, "conv2 completeness " + completeness(r, "conv2"));
            assertTrue(completeness(r, "dense1") < 0.01, "dense1 completeness " + completeness(r, "dense1"));
            assertTrue(r.findings().stream().noneMatch(f -> f.severity() == io.neuronmonkey.api.result.Finding.Severity.WARNING));
            System.out.println("conductance demo: " + r.summary().get("completeness") + "; top "
                    + r.part("conductance-ranking", Ranking.class).orElseThrow().entries().subList(0, 5));
            // one step is a single gradient at the input: far from complete on a ReLU CNN
            String input = m.layers().stream().filter(l -> l.role() == io.neuronmonkey.api.model.LayerInfo.Role.INPUT).findFirst()
                    .orElseThrow().name();
            AnalysisResult coarse = run(m, d, params("class:square", 1, 512), List.of(input, "conv1"));
            System.out.println("conductance demo, 1 step: " + completeness(coarse, input) + " " + completeness(coarse, "conv1"));
            assertTrue(completeness(coarse, input) > 2 * NeuronConductanceAnalyzer.COMPLETENESS_LIMIT, "1 step " + completeness(coarse, input));
            assertTrue(coarse.findings().stream().anyMatch(f -> f.severity() == io.neuronmonkey.api.result.Finding.Severity.WARNING
                    && f.claim().contains("raise 'steps'")));
            // chunking never changes the answer
            AnalysisResult small = run(m, d, params("class:square", 64, 100), List.of("conv2", "dense1"));
            float[] a = r.part("conv2-conductance", NeuronTable.class).orElseThrow().column("mean").orElseThrow().values().floats();
            float[] b = small.part("conv2-conductance", NeuronTable.class).orElseThrow().column("mean").orElseThrow().values().floats();
            for (int j = 0; j < a.length; j++) {
                assertEquals(a[j], b[j], 1e-4 * (1 + Math.abs(a[j])));
            }
        }
    }

    @Test
    void refusesBadParams() {
        assertThrows(RuntimeException.class, () -> params("logit", 8, 8));
        assertThrows(RuntimeException.class, () -> params("predicted", 0, 8));
        assertThrows(RuntimeException.class, () -> params("predicted", 8, 0));
    }

    static double completeness(AnalysisResult r, String layer) {
        Map<?, ?> c = (Map<?, ?>) ((Map<?, ?>) r.summary().get("completeness")).get(layer);
        return ((Number) c.get("meanRelativeError")).doubleValue();
    }

    private AnalysisResult run(LoadedModel m, Dataset d, NeuronConductanceAnalyzer.Params p) {
        return run(m, d, p, List.of("hidden"));
    }

    private AnalysisResult run(LoadedModel m, Dataset d, NeuronConductanceAnalyzer.Params p, List<String> layers) {
        return new NeuronConductanceAnalyzer().analyze(new TestSupport.Context<>("nc", p, m, d, layers, 64, tmp));
    }
}
