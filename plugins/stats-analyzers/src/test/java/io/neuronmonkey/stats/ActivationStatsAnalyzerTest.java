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
        return new ActivationStatsAnalyzer.Params(reduce, 0.0, 16, 1.0, 0.02, 0.95, 0.01, 0.01);
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
    void oneOrFourMergedChunksAndReversedOrderGiveBitIdenticalExactStatistics() {
        Data d = data(600, 3, 32);
        ActivationStatsAnalyzer.Params p = params(ActivationStatsAnalyzer.Reduce.MEAN);
        AnalysisResult single = run(d, p);
        List<ActivationBatch> bs = d.batches();

        // four consecutive chunks, merged in data order as the runtime does
        List<ActivationStatsAnalyzer.Census> chunks = new ArrayList<>();
        int[] cuts = {0, 3, 9, 10, bs.size()};
        for (int i = 0; i < 4; i++) {
            var c = new ActivationStatsAnalyzer.Census(p, List.of(CONV, DENSE, GATE), CLASSES);
            bs.subList(cuts[i], cuts[i + 1]).forEach(c::accept);
            chunks.add(c);
        }
        for (int i = 1; i < 4; i++) {
            chunks.get(0).merge(chunks.get(i));
        }
        AnalysisResult merged = chunks.get(0).finish();

        List<ActivationBatch> reversed = new ArrayList<>(bs);
        Collections.reverse(reversed);
        var rev = new ActivationStatsAnalyzer.Census(p, List.of(CONV, DENSE, GATE), CLASSES);
        reversed.forEach(rev::accept);
        AnalysisResult backwards = rev.finish();

        for (AnalysisResult other : List.of(merged, backwards)) {
            assertEquals(single.arrays().keySet(), other.arrays().keySet());
            for (String name : single.arrays().keySet()) {
                assertArrayEquals(single.array(name).orElseThrow().floats(), other.array(name).orElseThrow().floats(), name);
            }
            assertEquals(single.summary(), other.summary());
        }
    }

    @Test
    void quantilesAreWithinTheRelativeAccuracyOfTheExactQuantiles() {
        Data d = data(3000, 7, 100);
        ActivationStatsAnalyzer.Params p = params(ActivationStatsAnalyzer.Reduce.MAX);
        AnalysisResult r = run(d, p);
        for (LayerInfo l : List.of(CONV, DENSE, GATE)) {
            Tensor q = r.array(arrayName(r, l.name(), "quantiles")).orElseThrow();
            assertArrayEquals(new int[]{l.neurons(), 7}, q.shape());
            List<double[]> rows = reduced(d, l, true);
            for (int c = 0; c < l.neurons(); c++) {
                float[] sorted = new float[rows.size()];
                for (int e = 0; e < rows.size(); e++) {
                    sorted[e] = (float) rows.get(e)[c];
                }
                java.util.Arrays.sort(sorted);
                for (int i = 0; i < 7; i++) {
                    // reference: the value at rank q*(n-1) of the sorted values; the sketch returns it within the
                    // relative accuracy 0.01 (float rounding of the result adds 1e-6 relative)
                    double exact = sorted[(int) Math.floor(ActivationStatsAnalyzer.QUANTILE_RANKS[i] * (sorted.length - 1))];
                    float v = q.floats()[c * 7 + i];
                    String where = l.name() + "[" + c + "] p" + ActivationStatsAnalyzer.QUANTILE_RANKS[i];
                    assertEquals(exact, v, 0.01 * Math.abs(exact) + 1e-6 * Math.abs(exact) + 1e-9, where);
                }
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> first = ((List<Map<String, Object>>) layer(r, l.name()).get("neuronStats")).get(0);
            @SuppressWarnings("unchecked")
            Map<String, Object> qm = (Map<String, Object>) first.get("quantiles");
            assertEquals(List.of("p01", "p05", "p25", "p50", "p75", "p95", "p99"), List.copyOf(qm.keySet()));
            assertEquals((double) q.floats()[3], (double) qm.get("p50"), 0.0);
        }
    }

    @Test
    void zeroAndDeadNeuronsHaveExactZeroQuantiles() {
        AnalysisResult r = run(data(200, 8, 50), params(ActivationStatsAnalyzer.Reduce.MEAN));
        Tensor q = r.array(arrayName(r, "dense", "quantiles")).orElseThrow();
        for (int i = 0; i < 7; i++) {
            assertEquals(0f, q.floats()[7 + i], 0f, "dense neuron 1 is always exactly 0");
        }
    }

    @Test
    void rarelyFiringNeuronsAreFlaggedWithTheThresholdStated() {
        // dense neuron 0 fires on 3 of 1000 examples (0.3% < 1%), neuron 1 never (dead, not rarely-firing),
        // neuron 2 on 20 of 1000 (2%: normal)
        LayerInfo l = new LayerInfo("d", "Relu", new int[]{3}, LayerInfo.Role.HIDDEN);
        float[] a = new float[1000 * 3];
        for (int e = 0; e < 1000; e++) {
            a[e * 3] = e % 333 == 5 ? 1f : 0f;
            a[e * 3 + 2] = e % 50 == 0 ? 2f : 0f;
        }
        List<Map<String, String>> meta = Collections.nCopies(1000, Map.of());
        List<String> ids = new ArrayList<>();
        for (int e = 0; e < 1000; e++) {
            ids.add("x" + e);
        }
        Batch b = new Batch(0, Tensor.ofFloats(new float[1000], 1000, 1), null, ids, meta);
        var census = new ActivationStatsAnalyzer.Census(params(ActivationStatsAnalyzer.Reduce.MEAN), List.of(l), List.of());
        census.accept(new ActivationBatch(b, Map.of("d", Tensor.ofFloats(a, 1000, 3))));
        AnalysisResult r = census.finish();
        Map<String, Object> layer = layer(r, "d");
        assertEquals(List.of(0), layer.get("rarelyFiring"));
        assertEquals(List.of(1), layer.get("dead"));
        assertEquals(1.0 / 3, (double) layer.get("rarelyFiringFraction"), 1e-12);
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> ns = (List<Map<String, Object>>) layer.get("neuronStats");
        assertEquals(List.of("rarely-firing"), ns.get(0).get("flags"));
        assertEquals(0.003, (double) ns.get(0).get("firingRate"), 1e-12);
        double[] ci = ActivationStatsAnalyzer.wilson(3, 1000);
        assertEquals(ci[0], (double) ns.get(0).get("firingRateLow"), 0.0);
        assertEquals(ci[1], (double) ns.get(0).get("firingRateHigh"), 0.0);
        @SuppressWarnings("unchecked")
        Map<String, Object> criteria = (Map<String, Object>) r.summary().get("criteria");
        assertEquals("fires on at least one example, firing rate < 0.01", criteria.get("rarelyFiring"));
        @SuppressWarnings("unchecked")
        Map<String, Object> thresholds = (Map<String, Object>) criteria.get("thresholds");
        assertEquals(0.01, thresholds.get("rarelyFiringRate"));
    }

    @Test
    void exactMomentsDoNotDependOnOrderAndMatchAHighPrecisionReference() {
        Random r = new Random(11);
        float[] v = new float[5000];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (1e4 + r.nextGaussian() * (i % 7 == 0 ? 1e-2 : 3));
            if (i % 97 == 0) {
                v[i] = -v[i] * 1e-30f; // tiny negatives and a huge range
            }
        }
        ExactMoments fwd = new ExactMoments(1);
        ExactMoments parts = new ExactMoments(1);
        ExactMoments tail = new ExactMoments(1);
        for (int i = 0; i < v.length; i++) {
            fwd.add(0, v[i]);
            (i < 1234 ? parts : tail).add(0, v[v.length - 1 - i]);
        }
        parts.merge(tail);
        assertEquals(fwd.mean(0), parts.mean(0), 0.0);
        assertEquals(fwd.variance(0), parts.variance(0), 0.0);
        java.math.BigDecimal sum = java.math.BigDecimal.ZERO;
        for (float x : v) {
            sum = sum.add(new java.math.BigDecimal(x));
        }
        java.math.BigDecimal mean = sum.divide(java.math.BigDecimal.valueOf(v.length), java.math.MathContext.DECIMAL128);
        java.math.BigDecimal ss = java.math.BigDecimal.ZERO;
        for (float x : v) {
            java.math.BigDecimal dx = new java.math.BigDecimal(x).subtract(mean);
            ss = ss.add(dx.multiply(dx));
        }
        double var = ss.divide(java.math.BigDecimal.valueOf(v.length - 1), java.math.MathContext.DECIMAL128).doubleValue();
        // exact sums rounded once: within a few ulps of the 34-digit two-pass reference
        assertEquals(mean.doubleValue(), fwd.mean(0), 4 * Math.ulp(mean.doubleValue()));
        assertEquals(var, fwd.variance(0), 4 * Math.ulp(var));
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
                () -> new ActivationStatsAnalyzer.Params(ActivationStatsAnalyzer.Reduce.MEAN, 0.0, 1, 0.0, 0.02, 0.95, 0.01, 0.01));
        assertEquals(List.of("bins", "alwaysOnRate"), e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
