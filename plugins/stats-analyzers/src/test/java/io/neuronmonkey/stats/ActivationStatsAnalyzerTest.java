package io.neuronmonkey.stats;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.Tensor;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationStatsAnalyzerTest {

    static final LayerInfo CONV = new LayerInfo("block/conv", "Relu", new int[]{4, 3, 3}, LayerInfo.Role.HIDDEN);
    static final LayerInfo DENSE = new LayerInfo("dense", "Relu", new int[]{5}, LayerInfo.Role.HIDDEN);
    static final LayerInfo GATE = new LayerInfo("gate", "Sigmoid", new int[]{2}, LayerInfo.Role.HIDDEN);
    static final List<String> CLASSES = List.of("a", "b", "c");

    /** Synthetic activations with known structure: dense neuron 1 dead, neuron 2 always on; gate neuron 0 saturated. */
    record Data(List<ActivationBatch> batches, int n) {
    }

    static Data data(int n, long seed, int... batchSizes) {
        Random r = new Random(seed);
        List<ActivationBatch> out = new ArrayList<>();
        int done = 0;
        int bi = 0;
        while (done < n) {
            int b = Math.min(batchSizes[bi++ % batchSizes.length], n - done);
            float[] conv = new float[b * 36];
            for (int i = 0; i < conv.length; i++) {
                conv[i] = (float) Math.max(0, r.nextGaussian() + (i % 3) - 1);
            }
            float[] dense = new float[b * 5];
            float[] gate = new float[b * 2];
            int[] labels = new int[b];
            List<String> ids = new ArrayList<>();
            List<Map<String, String>> meta = new ArrayList<>();
            for (int e = 0; e < b; e++) {
                labels[e] = r.nextInt(3);
                for (int c = 0; c < 5; c++) {
                    double v = switch (c) {
                        case 1 -> 0.0;
                        case 2 -> 0.5 + Math.abs(r.nextGaussian());
                        case 4 -> 1e4 + r.nextGaussian() * 1e-2; // large offset, tiny spread: tests stability
                        default -> Math.max(0, r.nextGaussian() + labels[e]);
                    };
                    dense[e * 5 + c] = (float) v;
                }
                gate[e * 2] = (float) (0.999 + r.nextDouble() * 0.001);
                gate[e * 2 + 1] = (float) r.nextDouble();
                ids.add("ex-" + (done + e));
                meta.add(Map.of());
            }
            Batch batch = new Batch(done, Tensor.ofFloats(new float[b], b, 1), labels, ids, meta);
            out.add(new ActivationBatch(batch, Map.of(CONV.name(), Tensor.ofFloats(conv, b, 4, 3, 3),
                    DENSE.name(), Tensor.ofFloats(dense, b, 5), GATE.name(), Tensor.ofFloats(gate, b, 2))));
            done += b;
        }
        return new Data(out, n);
    }

    static ActivationStatsAnalyzer.Params params(ActivationStatsAnalyzer.Reduce reduce) {
        return new ActivationStatsAnalyzer.Params(reduce, 0.0, 16, 1.0, 0.02, 0.95);
    }

    static AnalysisResult run(Data d, ActivationStatsAnalyzer.Params p) {
        var census = new ActivationStatsAnalyzer.Census(p, List.of(CONV, DENSE, GATE), CLASSES);
        d.batches().forEach(census::accept);
        return census.finish();
    }

    /** Naive reference: reduced value of neuron c of example e, recomputed from the raw batch. */
    static List<double[]> reduced(Data d, LayerInfo l, boolean max) {
        List<double[]> rows = new ArrayList<>();
        for (ActivationBatch b : d.batches()) {
            float[] a = b.activation(l.name()).floats();
            for (int e = 0; e < b.size(); e++) {
                double[] row = new double[l.neurons()];
                for (int c = 0; c < l.neurons(); c++) {
                    double acc = max ? Double.NEGATIVE_INFINITY : 0;
                    for (int p = 0; p < l.positions(); p++) {
                        double v = a[(e * l.positions() + p) * l.neurons() + c];
                        acc = max ? Math.max(acc, v) : acc + v;
                    }
                    row[c] = max ? acc : acc / l.positions();
                }
                rows.add(row);
            }
        }
        return rows;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> layer(AnalysisResult r, String name) {
        return ((List<Map<String, Object>>) r.summary().get("layers")).stream()
                .filter(m -> m.get("name").equals(name)).findFirst().orElseThrow();
    }

    @SuppressWarnings("unchecked")
    static String arrayName(AnalysisResult r, String layer, String key) {
        return (String) ((Map<String, Object>) layer(r, layer).get("arrays")).get(key);
    }

    @Test
    void momentsExtremesAndFiringRatesMatchNaiveTwoPassReference() {
        Data d = data(1000, 1, 7, 64, 13);
        for (ActivationStatsAnalyzer.Reduce reduce : ActivationStatsAnalyzer.Reduce.values()) {
            AnalysisResult r = run(d, params(reduce));
            for (LayerInfo l : List.of(CONV, DENSE, GATE)) {
                List<double[]> rows = reduced(d, l, reduce == ActivationStatsAnalyzer.Reduce.MAX);
                float[] mean = r.array(arrayName(r, l.name(), "mean")).orElseThrow().floats();
                float[] std = r.array(arrayName(r, l.name(), "std")).orElseThrow().floats();
                float[] min = r.array(arrayName(r, l.name(), "min")).orElseThrow().floats();
                float[] max = r.array(arrayName(r, l.name(), "max")).orElseThrow().floats();
                float[] rate = r.array(arrayName(r, l.name(), "firingRate")).orElseThrow().floats();
                for (int c = 0; c < l.neurons(); c++) {
                    DescriptiveStatistics ref = new DescriptiveStatistics();
                    int fired = 0;
                    for (double[] row : rows) {
                        ref.addValue((float) row[c]);
                        fired += (float) row[c] > 0 ? 1 : 0;
                    }
                    String where = l.name() + "[" + c + "] " + reduce;
                    // float32 activations: relative tolerance 1e-6 on the mean, 1e-4 on the std
                    assertEquals(ref.getMean(), mean[c], 1e-6 * Math.max(1, Math.abs(ref.getMean())), where);
                    assertEquals(ref.getStandardDeviation(), std[c], 1e-4 * Math.max(1e-3, ref.getStandardDeviation()), where);
                    assertEquals((float) ref.getMin(), min[c], 0f, where);
                    assertEquals((float) ref.getMax(), max[c], 0f, where);
                    assertEquals(fired / 1000.0, rate[c], 1e-7, where);
                }
            }
        }
    }

    @Test
    void histogramsCountEveryValueInTheBinItsEdgesGive() {
        Data d = data(500, 2, 50);
        AnalysisResult r = run(d, params(ActivationStatsAnalyzer.Reduce.MEAN));
        for (LayerInfo l : List.of(CONV, DENSE)) {
            @SuppressWarnings("unchecked")
            Map<String, Object> hist = (Map<String, Object>) layer(r, l.name()).get("histogram");
            @SuppressWarnings("unchecked")
            List<Double> edges = (List<Double>) hist.get("edges");
            Tensor per = r.array(arrayName(r, l.name(), "histogram")).orElseThrow();
            int bins = per.dim(1);
            assertEquals(l.neurons(), per.dim(0));
            assertTrue(bins >= 2 && bins <= 16, "at most the requested 16 bins, found " + bins);
            assertEquals(bins + 1, edges.size());
            double w = edges.get(1) - edges.get(0);
            long start = Math.round(edges.get(0) / w);
            long[][] naive = new long[l.neurons()][bins];
            for (double[] row : reduced(d, l, false)) {
                for (int c = 0; c < l.neurons(); c++) {
                    float v = (float) row[c];
                    long bin = (long) Math.floor(v / w) - start;
                    assertTrue(bin >= 0 && bin < bins, "value " + v + " outside the edges " + edges);
                    naive[c][(int) bin]++;
                }
            }
            long pooledTotal = 0;
            for (int c = 0; c < l.neurons(); c++) {
                for (int b = 0; b < bins; b++) {
                    assertEquals(naive[c][b], (long) per.floats()[c * bins + b], l.name() + " neuron " + c + " bin " + b);
                }
            }
            @SuppressWarnings("unchecked")
            List<Number> pooled = (List<Number>) hist.get("counts");
            for (Number x : pooled) {
                pooledTotal += x.longValue();
            }
            assertEquals(500L * l.neurons(), pooledTotal);
        }
    }

    @Test
    void mergedAccumulatorsAndReversedOrderGiveTheSameResult() {
        Data d = data(600, 3, 32);
        ActivationStatsAnalyzer.Params p = params(ActivationStatsAnalyzer.Reduce.MEAN);
        AnalysisResult single = run(d, p);

        var first = new ActivationStatsAnalyzer.Census(p, List.of(CONV, DENSE, GATE), CLASSES);
        var second = new ActivationStatsAnalyzer.Census(p, List.of(CONV, DENSE, GATE), CLASSES);
        List<ActivationBatch> bs = d.batches();
        bs.subList(0, 7).forEach(first::accept);
        bs.subList(7, bs.size()).forEach(second::accept);
        first.merge(second);
        AnalysisResult merged = first.finish();

        List<ActivationBatch> reversed = new ArrayList<>(bs);
        Collections.reverse(reversed);
        var rev = new ActivationStatsAnalyzer.Census(p, List.of(CONV, DENSE, GATE), CLASSES);
        reversed.forEach(rev::accept);
        AnalysisResult backwards = rev.finish();

        for (AnalysisResult other : List.of(merged, backwards)) {
            for (String name : single.arrays().keySet()) {
                float[] a = single.array(name).orElseThrow().floats();
                float[] b = other.array(name).orElseThrow().floats();
                assertEquals(a.length, b.length);
                for (int i = 0; i < a.length; i++) {
                    assertEquals(a[i], b[i], 1e-5 * Math.max(1, Math.abs(a[i])), name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void deadAlwaysOnAndSaturatedNeuronsAreFlagged() {
        AnalysisResult r = run(data(300, 4, 100), params(ActivationStatsAnalyzer.Reduce.MEAN));
        Map<String, Object> dense = layer(r, "dense");
        assertEquals(List.of(1), dense.get("dead"));
        assertEquals(List.of(2, 4), dense.get("alwaysOn"));
        assertEquals(0.2, (double) dense.get("deadFraction"), 1e-12);
        assertEquals(List.of(), dense.get("saturated"), "Relu is unbounded: never saturated");
        Map<String, Object> gate = layer(r, "gate");
        assertEquals(List.of(0), gate.get("saturated"));
    }

    @Test
    void classMeansAreMeansOverTheExamplesOfEachClass() {
        Data d = data(400, 5, 33);
        AnalysisResult r = run(d, params(ActivationStatsAnalyzer.Reduce.MEAN));
        Tensor cm = r.array(arrayName(r, "dense", "classMean")).orElseThrow();
        assertArrayEquals(new int[]{3, 5}, cm.shape());
        double[][] sum = new double[3][5];
        int[] count = new int[3];
        for (ActivationBatch b : d.batches()) {
            float[] a = b.activation("dense").floats();
            for (int e = 0; e < b.size(); e++) {
                int k = b.batch().labels()[e];
                count[k]++;
                for (int c = 0; c < 5; c++) {
                    sum[k][c] += a[e * 5 + c];
                }
            }
        }
        for (int k = 0; k < 3; k++) {
            for (int c = 0; c < 5; c++) {
                assertEquals(sum[k][c] / count[k], cm.floats()[k * 5 + c], 1e-3 * Math.max(1, Math.abs(sum[k][c] / count[k])));
            }
        }
    }

    @Test
    void sparsityCountsRawValuesAtOrBelowThreshold() {
        Data d = data(200, 6, 50);
        AnalysisResult r = run(d, params(ActivationStatsAnalyzer.Reduce.MAX));
        long below = 0;
        long all = 0;
        for (ActivationBatch b : d.batches()) {
            for (float v : b.activation(CONV.name()).floats()) {
                below += v <= 0 ? 1 : 0;
                all++;
            }
        }
        assertEquals((double) below / all, (double) layer(r, CONV.name()).get("sparsity"), 1e-12);
    }

    @Test
    void wilsonIntervalMatchesTheClosedForm() {
        double[] none = ActivationStatsAnalyzer.wilson(0, 10);
        assertEquals(0.0, none[0], 1e-12);
        double z2 = 1.959963984540054 * 1.959963984540054;
        assertEquals(z2 / 10 / (1 + z2 / 10), none[1], 1e-12);
        double[] half = ActivationStatsAnalyzer.wilson(50, 100);
        assertEquals(1.0 - half[1], half[0], 1e-12, "symmetric around 0.5");
        assertEquals(0.4038, half[0], 1e-4);
    }

    @Test
    void invalidParamsReportEveryViolation() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new ActivationStatsAnalyzer.Params(ActivationStatsAnalyzer.Reduce.MEAN, 0.0, 1, 0.0, 0.02, 0.95));
        assertEquals(List.of("bins", "alwaysOnRate"), e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
