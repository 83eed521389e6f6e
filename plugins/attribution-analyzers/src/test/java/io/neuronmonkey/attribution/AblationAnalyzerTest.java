package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AblationAnalyzerTest {

    @TempDir
    Path tmp;

    static AblationAnalyzer.Params params(List<Integer> neurons, String ranking, int top, AblationAnalyzer.Mode mode,
                                          int randomSets, Map<String, String> where, long limit, int internalBatch) {
        return new AblationAnalyzer.Params("conv2", neurons, ranking, top, mode, randomSets, "predicted", "square", where,
                limit, List.of("watermark"), internalBatch);
    }

    /** share predicted square, accuracy and mean change of the unablated prediction's logit, by a plain loop. */
    static double[] manual(LoadedModel m, Dataset d, Map<String, String> where, long limit, List<Intervention> ivs) {
        long n = 0;
        long square = 0;
        long correct = 0;
        double change = 0;
        for (Iterator<Batch> it = new ExampleFilter(d, where, limit, "t").batches(50); it.hasNext(); ) {
            Batch b = it.next();
            float[] base = m.run(b.inputs(), List.of("logits")).get("logits").floats();
            float[] out = m.run(b.inputs(), List.of("logits"), ivs).get("logits").floats();
            for (int r = 0; r < b.size(); r++) {
                int p0 = RowBlocks.argmax(base, r, 4);
                int p1 = RowBlocks.argmax(out, r, 4);
                n++;
                square += p1 == 1 ? 1 : 0;
                correct += p1 == b.labels()[r] ? 1 : 0;
                change += out[r * 4 + p0] - base[r * 4 + p0];
            }
        }
        return new double[] {(double) square / n, (double) correct / n, change / n};
    }

    @Test
    void equalsAManualRecomputationOneSetAtATime() {
        Map<String, String> where = Map.of("watermark", "on");
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 160)) {
            AnalysisResult r = run(m, d, params(List.of(4, 6, 10), null, 8, AblationAnalyzer.Mode.ZERO, 3, where, 60, 4096));
            Series share = r.part("ablation-curve", Series.class).orElseThrow();
            Series accuracy = r.part("ablation-curve-accuracy", Series.class).orElseThrow();
            Series target = r.part("ablation-curve-target", Series.class).orElseThrow();
            float[] x = share.curves().get(0).x().floats();
            assertArrayEquals(new float[] {0, 1, 2, 3}, x);
            int[][] sets = {{}, {4}, {4, 6}, {4, 6, 10}};
            for (int i = 0; i < sets.length; i++) {
                double[] want = manual(m, d, where, 60, sets[i].length == 0 ? List.of() : List.of(Intervention.ablate("conv2", sets[i])));
                assertEquals(want[0], share.curves().get(0).y().get(i), 1e-6, "share, set " + i);
                assertEquals(want[1], accuracy.curves().get(0).y().get(i), 1e-6, "accuracy, set " + i);
                assertEquals(want[2], target.curves().get(0).y().get(i), 1e-4, "target change, set " + i);
            }
            // the random curve: the mean of the same seeded sets, recomputed one at a time
            List<int[]> random = NeuronSets.random(16, 2, 3, 42);
            double sum = 0;
            double min = Double.POSITIVE_INFINITY;
            for (int[] set : random) {
                double v = manual(m, d, where, 60, List.of(Intervention.ablate("conv2", set)))[0];
                sum += v;
                min = Math.min(min, v);
            }
            Series.Curve rc = share.curves().get(1);
            assertEquals(sum / 3, rc.y().get(2), 1e-6);
            assertEquals(min, rc.low().get(2), 1e-6);
            // each neuron alone
            Ranking alone = r.part("ablation-effect", Ranking.class).orElseThrow();
            assertEquals(3, alone.entries().size());
            double base = manual(m, d, where, 60, List.of())[0];
            for (Ranking.Entry e : alone.entries()) {
                double want = manual(m, d, where, 60, List.of(Intervention.ablate("conv2", e.neuron().neuron())))[0] - base;
                assertEquals(want, e.score(), 1e-6, e.neuron().toString());
            }
            Matrix byKey = r.part("ablation-by-watermark", Matrix.class).orElseThrow();
            assertEquals(List.of("on"), byKey.rows().labels());
            assertEquals(60, byKey.get(0, 0));
            assertTrue(r.part("ablation-by-class", Matrix.class).isPresent());

            // per-row batching of many variants equals one set per run
            AnalysisResult single = run(m, d, params(List.of(4, 6, 10), null, 8, AblationAnalyzer.Mode.ZERO, 3, where, 60, 1));
            for (String id : List.of("ablation-curve", "ablation-curve-accuracy", "ablation-curve-target")) {
                Series a = r.part(id, Series.class).orElseThrow();
                Series b = single.part(id, Series.class).orElseThrow();
                for (int c = 0; c < a.curves().size(); c++) {
                    for (int i = 0; i < a.curves().get(c).y().size(); i++) {
                        assertEquals(a.curves().get(c).y().get(i), b.curves().get(c).y().get(i), 1e-4, id + " curve " + c + " point " + i);
                    }
                }
            }
        }
    }

    @Test
    void meanModeSetsTheNeuronsToTheirMeanOverTheData() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 120)) {
            // per-channel mean over examples and positions, by a naive loop
            double[] mean = new double[16];
            long n = 0;
            for (Iterator<Batch> it = d.batches(64); it.hasNext(); ) {
                Batch b = it.next();
                Tensor t = m.run(b.inputs(), List.of("conv2")).get("conv2");
                float[] v = t.floats();
                int positions = t.rowSize() / 16;
                for (int i = 0; i < v.length; i++) {
                    mean[i % 16] += v[i] / (double) positions;
                }
                n += b.size();
            }
            List<Intervention> ivs = new ArrayList<>();
            for (int j : new int[] {4, 6}) {
                ivs.add(Intervention.set("conv2", (float) (mean[j] / n), j));
            }
            AnalysisResult r = run(m, d, params(List.of(4, 6), null, 8, AblationAnalyzer.Mode.MEAN, 0, Map.of(), 100, 4096));
            double want = manual(m, d, Map.of(), 100, ivs)[2];
            assertEquals(want, r.part("ablation-curve-target", Series.class).orElseThrow().curves().get(0).y().get(2), 1e-3);
            assertEquals(1, r.part("ablation-curve", Series.class).orElseThrow().curves().size(), "no random curve without random sets");
        }
    }

    @Test
    void randomSetsAreSeededAndDistinct() {
        List<int[]> a = NeuronSets.random(16, 4, 10, 42);
        List<int[]> b = NeuronSets.random(16, 4, 10, 42);
        List<int[]> c = NeuronSets.random(16, 4, 10, 43);
        boolean differs = false;
        for (int i = 0; i < 10; i++) {
            assertArrayEquals(a.get(i), b.get(i));
            assertEquals(4, java.util.Arrays.stream(a.get(i)).distinct().filter(j -> j >= 0 && j < 16).count());
            differs |= !java.util.Arrays.equals(a.get(i), c.get(i));
        }
        assertTrue(differs, "another seed draws other sets");
        assertEquals(List.of(1, 2, 4, 8, 13), NeuronSets.doublingSizes(13));
        assertEquals(List.of(1), NeuronSets.doublingSizes(1));
    }

    @Test
    void readsARankingInputAndSaysWhatIsWrong() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 40)) {
            AnalysisResult ranking = AnalysisResult.builder().part(new Ranking("conductance-ranking", "t", "mean conductance",
                    List.of(Ranking.Entry.of(new io.neuronmonkey.api.result.NeuronRef("dense1", 3), 9),
                            Ranking.Entry.of(new io.neuronmonkey.api.result.NeuronRef("conv2", 6), 5),
                            Ranking.Entry.of(new io.neuronmonkey.api.result.NeuronRef("conv2", 4), 4),
                            Ranking.Entry.of(new io.neuronmonkey.api.result.NeuronRef("conv2", 1), 3)), "")).build();
            AnalysisResult none = AnalysisResult.builder().part(new Series("curve", "t", "x", "y",
                    List.of(Series.Curve.of("c", new float[] {0}, new float[] {0})), "")).build();
            Map<String, AnalysisResult> inputs = new java.util.LinkedHashMap<>();
            inputs.put("nc", ranking);
            inputs.put("other", none);
            AnalysisResult r = new AblationAnalyzer().analyze(new TestSupport.Context<>("ab",
                    params(null, "nc/conductance-ranking", 2, AblationAnalyzer.Mode.ZERO, 2, Map.of(), 40, 4096), m, d,
                    List.of(), 64, tmp).withInputs(inputs));
            assertEquals(List.of(6, 4), r.summary().get("neurons"));
            assertTrue(r.findings().get(0).claim().contains("ranking 'nc/conductance-ranking'"), r.findings().get(0).claim());

            AnalysisException e = assertThrows(AnalysisException.class, () -> new AblationAnalyzer().analyze(new TestSupport.Context<>("ab",
                    params(null, "other", 2, AblationAnalyzer.Mode.ZERO, 2, Map.of(), 40, 4096), m, d, List.of(), 64, tmp).withInputs(inputs)));
            assertTrue(e.getMessage().contains("'other'") && e.getMessage().contains("curve (series)"), e.getMessage());
            e = assertThrows(AnalysisException.class, () -> new AblationAnalyzer().analyze(new TestSupport.Context<>("ab",
                    params(null, "missing", 2, AblationAnalyzer.Mode.ZERO, 2, Map.of(), 40, 4096), m, d, List.of(), 64, tmp).withInputs(inputs)));
            assertTrue(e.getMessage().contains("'missing'") && e.getMessage().contains("inputs"), e.getMessage());
            e = assertThrows(AnalysisException.class, () -> run(m, d,
                    params(List.of(4, 99), null, 2, AblationAnalyzer.Mode.ZERO, 2, Map.of(), 40, 4096)));
            assertTrue(e.getMessage().contains("0..15"), e.getMessage());
        }
        assertThrows(RuntimeException.class, () -> params(List.of(4), "nc", 2, AblationAnalyzer.Mode.ZERO, 2, Map.of(), 40, 4096));
        assertThrows(RuntimeException.class, () -> params(null, null, 2, AblationAnalyzer.Mode.ZERO, 2, Map.of(), 40, 4096));
        assertThrows(RuntimeException.class, () -> params(List.of(4, 4), null, 2, AblationAnalyzer.Mode.ZERO, 2, Map.of(), 40, 4096));
        assertFalse(params(List.of(4), null, 2, AblationAnalyzer.Mode.ZERO, 2, Map.of(), 40, 4096).neurons().isEmpty());
    }

    private AnalysisResult run(LoadedModel m, Dataset d, AblationAnalyzer.Params p) {
        return new AblationAnalyzer().analyze(new TestSupport.Context<>("ab", p, m, d, List.of(), 64, tmp));
    }
}
