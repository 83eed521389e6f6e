package io.neuronmonkey.features;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.attribution.TestSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pruning by masking on the real demo CNN. */
class PruneAnalyzerTest extends DemoCnnTest {

    private static Dataset data;

    @BeforeAll
    static void load() {
        data = TestSupport.shapes("test", 512);
    }

    private AnalysisResult run(PruneAnalyzer.Params p) {
        return new PruneAnalyzer().analyze(new TestSupport.Context<>("prune", p, model, data, List.of("dense1"), 100, dir));
    }

    @Test
    void pruningTheDeadDense1NeuronsChangesNoPrediction() {
        AnalysisResult r = run(new PruneAnalyzer.Params("dense1", "dead", 0.0, null, List.of(0.0, 0.5, 1.0), 3, 100000));
        @SuppressWarnings("unchecked")
        List<Integer> pruned = (List<Integer>) r.summary().get("pruned");
        System.out.println("dead dense1: " + pruned + ", accuracy " + r.summary().get("accuracyBefore"));
        assertFalse(pruned.isEmpty(), "the demo CNN has dead dense1 neurons on these examples");
        assertEquals(0, r.summary().get("predictionsChanged"));
        assertEquals(r.summary().get("accuracyBefore"), r.summary().get("accuracyAfter"));
        // dead means never above 0 on any example, checked by a plain loop over the raw layer output
        float[] max = new float[32];
        java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
        int correct = 0;
        int n = 0;
        for (var it = data.batches(64); it.hasNext(); ) {
            var b = it.next();
            var out = model.run(b.inputs(), List.of("dense1", "logits"));
            float[] a = out.get("dense1").floats();
            float[] l = out.get("logits").floats();
            for (int i = 0; i < b.size(); i++, n++) {
                for (int j = 0; j < 32; j++) {
                    max[j] = Math.max(max[j], a[i * 32 + j]);
                }
                int best = 0;
                for (int j = 1; j < 4; j++) {
                    best = l[i * 4 + j] > l[i * 4 + best] ? j : best;
                }
                correct += best == b.labels()[i] ? 1 : 0;
            }
        }
        for (int j = 0; j < 32; j++) {
            assertEquals(max[j] <= 0, pruned.contains(j), "neuron " + j + " max " + max[j]);
        }
        assertEquals((double) correct / n, (double) r.summary().get("accuracyBefore"), 1e-12);
        assertEquals(pruned, r.part("dense1-prune", NeuronTable.class).orElseThrow().tags().get(0).neurons());
    }

    @Test
    void theCurveStartsAtTheBaseAccuracyAndMeetsRandomWhenEverythingIsPruned() {
        AnalysisResult r = run(new PruneAnalyzer.Params("dense1", "smallest", 0.0, null, List.of(0.0, 0.25, 1.0), 4, 256));
        Series s = r.part("pruning-curve", Series.class).orElseThrow();
        float[] rule = s.curves().get(0).y().floats();
        float[] rand = s.curves().get(1).y().floats();
        double base = (double) r.summary().get("accuracyBefore");
        assertEquals(base, rule[0], 1e-6);
        assertEquals(base, rand[0], 1e-6);
        // all neurons pruned: every draw is the same set, so random equals the rule exactly
        assertEquals(rule[2], rand[2]);
        assertEquals(rand[2], s.curves().get(1).low().floats()[2]);
        assertEquals(rand[2], s.curves().get(1).high().floats()[2]);
        assertTrue(rule[1] >= rand[1] - 0.2, "smallest-first pruning is not far worse than random: " + rule[1] + " vs " + rand[1]);
    }

    @Test
    void badParamsNameTheField() {
        var e = assertThrows(RuntimeException.class, () -> new PruneAnalyzer.Params("dense1", "biggest", 0, null, List.of(2.0), 0, 1));
        assertTrue(e.getMessage().contains("rule") && e.getMessage().contains("fractions") && e.getMessage().contains("draws"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> run(new PruneAnalyzer.Params("dense1", "list", 0, List.of(40), null, 1, 10)));
        assertTrue(e2.getMessage().contains("neurons"), e2.getMessage());
    }

    @Test
    void theExportedModelOfTheDeadNeuronsIsSmallerAndPredictsAsTheMaskedModel() {
        AnalysisResult r = run(new PruneAnalyzer.Params("dense1", "dead", 0.0, null, List.of(0.0, 0.5), 1, 100000,
                "auto", 3, null));
        @SuppressWarnings("unchecked")
        List<Integer> pruned = (List<Integer>) r.summary().get("pruned");
        int k = pruned.size();
        assertTrue(k > 0);
        assertEquals(List.of("dense1"), r.summary().get("structuralLayers"));
        long before = ((Number) r.summary().get("parametersBefore")).longValue();
        long after = ((Number) r.summary().get("parametersAfter")).longValue();
        assertEquals(model.parameterCounts().values().stream().mapToLong(Long::longValue).sum(), before);
        assertEquals((long) k * (7 * 7 * 16 + 1) + k * 4L, before - after, "k kernel columns, biases and logits rows");
        assertEquals(0, r.summary().get("predictionsDifferFromMasked"));
        assertEquals(r.summary().get("accuracyBefore"), r.summary().get("accuracyPruned"), "dead neurons: nothing changes");
        Path exported = Path.of((String) r.summary().get("exported"));
        assertEquals(dir.resolve("prune" + Structural.AUTO_SUFFIX), exported);
        assertTrue(java.nio.file.Files.isRegularFile(exported.resolve("saved_model.pb")));
        io.neuronmonkey.api.result.Matrix m = r.part("structural", io.neuronmonkey.api.result.Matrix.class).orElseThrow();
        assertEquals(after, (long) m.get(1, 0));
        assertTrue(m.get(0, 2) > 0 && m.get(1, 2) > 0, "speeds are measured");
        System.out.println("structural: " + r.findings().stream().filter(f -> f.id().startsWith("structural"))
                .findFirst().orElseThrow().claim());
        // a second run never overwrites the folder the first one wrote: auto takes a new name, a path is refused
        AnalysisResult second = run(new PruneAnalyzer.Params("dense1", "dead", 0.0, null, List.of(0.0), 1, 100000,
                "auto", 1, null));
        assertEquals(dir.resolve("prune" + Structural.AUTO_SUFFIX + "-2").toString(), second.summary().get("exported"));
        var again = assertThrows(RuntimeException.class, () -> run(new PruneAnalyzer.Params("dense1", "dead", 0.0,
                null, List.of(0.0), 1, 100000, exported.toString(), 1, null)));
        assertTrue(again.getMessage().contains("nothing is overwritten"), again.getMessage());
    }

    @Test
    void theMedianOfTheRepetitions() {
        assertEquals(3.0, Structural.median(new double[] {5, 1, 3}));
        assertEquals(2.5, Structural.median(new double[] {4, 1, 3, 2}));
    }

    @Test
    void rankedPruningTakesTheUnrankedAndLowestRankedFirst() {
        AnalysisResult dead = run(new PruneAnalyzer.Params("dense1", "dead", 0.0, null, List.of(0.0), 1, 100000));
        @SuppressWarnings("unchecked")
        List<Integer> deadUnits = (List<Integer>) dead.summary().get("pruned");
        // a ranking of the live units only, best first: the dead ones are unranked, so they go first
        List<io.neuronmonkey.api.result.Ranking.Entry> entries = new java.util.ArrayList<>();
        for (int i = 0; i < 32; i++) {
            if (!deadUnits.contains(i)) {
                entries.add(new io.neuronmonkey.api.result.Ranking.Entry(new io.neuronmonkey.api.result.NeuronRef("dense1", i),
                        32 - i, null, null, null, ""));
            }
        }
        AnalysisResult ranking = AnalysisResult.builder().part(new io.neuronmonkey.api.result.Ranking("effect-ranking",
                "effect", "effect", entries, "")).build();
        double k = deadUnits.size();
        var p = new PruneAnalyzer.Params("dense1", "ranking", 0.0, null, List.of(0.0, k / 32, (k + 2) / 32), 1,
                100000, null, 5, "effect");
        AnalysisResult r = new PruneAnalyzer().analyze(new TestSupport.Context<>("prune", p, model, data,
                List.of("dense1"), 100, java.util.Map.of("effect", ranking), dir, 42));
        @SuppressWarnings("unchecked")
        List<Integer> pruned = (List<Integer>) r.summary().get("pruned");
        // the last fraction: the dead units and then the two lowest ranked, 31 and 30 (if live)
        List<Integer> expected = new java.util.ArrayList<>(deadUnits);
        for (int i = 31, added = 0; added < 2; i--) {
            if (!deadUnits.contains(i)) {
                expected.add(i);
                added++;
            }
        }
        java.util.Collections.sort(expected);
        assertEquals(expected, pruned);
        float[] curve = r.part("pruning-curve", Series.class).orElseThrow().curves().get(0).y().floats();
        assertEquals((double) r.summary().get("accuracyBefore"), curve[1], 1e-9, "the dead units alone change nothing");
        var missing = assertThrows(RuntimeException.class, () -> new PruneAnalyzer.Params("dense1", "ranking", 0.0, null,
                null, 1, 10, null, 5, null));
        assertTrue(missing.getMessage().contains("from"), missing.getMessage());
    }
}
