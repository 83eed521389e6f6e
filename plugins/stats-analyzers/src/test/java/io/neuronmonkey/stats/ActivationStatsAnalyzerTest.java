package io.neuronmonkey.stats;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.tensor.Tensor;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
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

    static NeuronTable stats(AnalysisResult r, String layer) {
        return r.part(Ids.sanitize(layer) + "-stats", NeuronTable.class).orElseThrow();
    }

    static NeuronTable.Column column(AnalysisResult r, String layer, String name) {
        return stats(r, layer).column(name).orElseThrow();
    }

    static float[] values(AnalysisResult r, String layer, String name) {
        return column(r, layer, name).values().floats();
    }

    static List<Integer> tag(AnalysisResult r, String layer, String name) {
        return stats(r, layer).tags().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow().neurons();
    }

    @Test
    void momentsExtremesAndFiringRatesMatchNaiveTwoPassReference() {
        Data d = data(1000, 1, 7, 64, 13);
        for (ActivationStatsAnalyzer.Reduce reduce : List.of(ActivationStatsAnalyzer.Reduce.MEAN, ActivationStatsAnalyzer.Reduce.MAX)) {
            AnalysisResult r = run(d, params(reduce));
            for (LayerInfo l : List.of(CONV, DENSE, GATE)) {
                List<double[]> rows = reduced(d, l, reduce == ActivationStatsAnalyzer.Reduce.MAX);
                NeuronTable t = stats(r, l.name());
                assertEquals(l.name() + ": neuron statistics", t.title());
                assertEquals(l.name(), t.layer());
                assertEquals(l.neurons(), t.neurons());
                float[] mean = values(r, l.name(), "mean");
                float[] std = values(r, l.name(), "std");
                float[] min = values(r, l.name(), "min");
                float[] max = values(r, l.name(), "max");
                float[] rate = values(r, l.name(), "firingRate");
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
            Matrix per = r.part(Ids.sanitize(l.name()) + "-histogram", Matrix.class).orElseThrow();
            assertEquals("neuron", per.rows().name());
            assertEquals(l.neurons(), per.rows().size());
            assertEquals("bin", per.cols().name());
            assertEquals(List.of("neuron", "bin"), per.values().dims());
            assertEquals("examples", per.unit());
            assertEquals(l.name(), per.layer());
            double[] edges = per.cols().edges();
            int bins = per.cols().size();
            assertTrue(bins >= 2 && bins <= 16, "at most the requested 16 bins, found " + bins);
            assertEquals(bins + 1, edges.length);
            for (int b = 0; b < bins; b++) {
                String label = per.cols().labels().get(b);
                assertTrue(label.startsWith("[") && label.endsWith(")"), label);
                String[] ab = label.substring(1, label.length() - 1).split(", ");
                assertEquals(edges[b], Double.parseDouble(ab[0]), 0.0, label);
                assertEquals(edges[b + 1], Double.parseDouble(ab[1]), 0.0, label);
            }
            double w = edges[1] - edges[0];
            long start = Math.round(edges[0] / w);
            long[][] naive = new long[l.neurons()][bins];
            for (double[] row : reduced(d, l, false)) {
                for (int c = 0; c < l.neurons(); c++) {
                    float v = (float) row[c];
                    long bin = (long) Math.floor(v / w) - start;
                    assertTrue(bin >= 0 && bin < bins, "value " + v + " outside the edges " + Arrays.toString(edges));
                    naive[c][(int) bin]++;
                }
            }
            long pooledTotal = 0;
            for (int c = 0; c < l.neurons(); c++) {
                for (int b = 0; b < bins; b++) {
                    assertEquals(naive[c][b], (long) per.get(c, b), l.name() + " neuron " + c + " bin " + b);
                    pooledTotal += (long) per.get(c, b);
                }
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

        assertTrue(single.arrays().isEmpty(), "everything is in typed parts");
        assertEquals(9, single.parts().size(), "stats, histogram and class means of three layers");
        for (AnalysisResult other : List.of(merged, backwards)) {
            ResultTrees.assertSameResult(single, other);
        }
    }

    @Test
    void quantilesAreWithinTheRelativeAccuracyOfTheExactQuantiles() {
        Data d = data(3000, 7, 100);
        ActivationStatsAnalyzer.Params p = params(ActivationStatsAnalyzer.Reduce.MAX);
        AnalysisResult r = run(d, p);
        for (LayerInfo l : List.of(CONV, DENSE, GATE)) {
            NeuronTable t = stats(r, l.name());
            List<String> expected = new ArrayList<>(List.of("mean", "std", "min", "max", "firingRate"));
            if (l.positions() > 1) {
                expected.add("positionFiringRate");
            }
            expected.addAll(List.of("p01", "p05", "p25", "p50", "p75", "p95", "p99"));
            assertEquals(expected, t.columns().stream().map(NeuronTable.Column::name).toList());
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
                    float v = values(r, l.name(), ActivationStatsAnalyzer.QUANTILE_NAMES.get(i))[c];
                    String where = l.name() + "[" + c + "] p" + ActivationStatsAnalyzer.QUANTILE_RANKS[i];
                    assertEquals(exact, v, 0.01 * Math.abs(exact) + 1e-6 * Math.abs(exact) + 1e-9, where);
                }
            }
            for (NeuronTable.Column c : t.columns()) {
                String unit = switch (c.name()) {
                    case "firingRate", "positionFiringRate" -> "fraction";
                    default -> "activation";
                };
                assertEquals(unit, c.unit(), c.name());
                assertEquals(c.name().equals("firingRate"), c.hasInterval(), c.name());
            }
            assertTrue(column(r, l.name(), "std").description().contains("n - 1"), "the std convention is stated");
        }
    }

    @Test
    void zeroAndDeadNeuronsHaveExactZeroQuantiles() {
        AnalysisResult r = run(data(200, 8, 50), params(ActivationStatsAnalyzer.Reduce.MEAN));
        for (String q : ActivationStatsAnalyzer.QUANTILE_NAMES) {
            assertEquals(0f, values(r, "dense", q)[1], 0f, "dense neuron 1 is always exactly 0");
        }
    }

    @Test
    void aChannelAboveZeroSomewhereOnEveryImageIsNotAlwaysOnWhileOneThatCoversTheMapIs() {
        // [2, 2, 2] map: channel 0 is 1 at position 0 only (every image fires, a quarter of the map), channel 1 is 1 at
        // every position of every image
        LayerInfo l = new LayerInfo("c", "Relu", new int[]{2, 2, 2}, LayerInfo.Role.HIDDEN);
        int n = 40;
        float[] a = new float[n * 8];
        List<String> ids = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            a[e * 8] = 1;
            for (int pos = 0; pos < 4; pos++) {
                a[e * 8 + pos * 2 + 1] = 1 + e;
            }
            ids.add("x" + e);
        }
        Batch b = new Batch(0, Tensor.ofFloats(new float[n], n, 1), null, ids, Collections.nCopies(n, Map.of()));
        var census = new ActivationStatsAnalyzer.Census(params(ActivationStatsAnalyzer.Reduce.MAX), List.of(l), List.of());
        census.accept(new ActivationBatch(b, Map.of("c", Tensor.ofFloats(a, n, 2, 2, 2))));
        AnalysisResult r = census.finish();
        assertArrayEquals(new float[]{1, 1}, values(r, "c", "firingRate"), "both fire on every image");
        assertArrayEquals(new float[]{0.25f, 1}, values(r, "c", "positionFiringRate"));
        assertEquals(List.of(1), tag(r, "c", "always-on"), "only the channel that covers the whole map");
    }

    @Test
    void standardDeviationFollowsTheChosenConvention() {
        // one neuron with the values 1, 2, 3, 4: sample variance 5/3, population variance 5/4
        LayerInfo l = new LayerInfo("s", "Relu", new int[]{1}, LayerInfo.Role.HIDDEN);
        float[] a = {1, 2, 3, 4};
        Batch b = new Batch(0, Tensor.ofFloats(new float[4], 4, 1), null, List.of("a", "b", "c", "d"), Collections.nCopies(4, Map.of()));
        for (int ddof : new int[]{0, 1}) {
            var census = new ActivationStatsAnalyzer.Census(new ActivationStatsAnalyzer.Params(ActivationStatsAnalyzer.Reduce.MEAN,
                    0.0, 32, 1.0, 0.02, 0.95, 0.01, 0.01, ddof, false), List.of(l), List.of());
            census.accept(new ActivationBatch(b, Map.of("s", Tensor.ofFloats(a, 4, 1))));
            AnalysisResult r = census.finish();
            assertEquals((float) Math.sqrt(ddof == 1 ? 5.0 / 3 : 5.0 / 4), values(r, "s", "std")[0], 1e-7f, "ddof " + ddof);
            assertTrue(column(r, "s", "std").description().contains("ddof " + ddof), column(r, "s", "std").description());
        }
        assertThrows(io.neuronmonkey.api.InvalidParamsException.class, () -> new ActivationStatsAnalyzer.Params(
                ActivationStatsAnalyzer.Reduce.MEAN, 0.0, 32, 1.0, 0.02, 0.95, 0.01, 0.01, 2, false));
    }

    @Test
    void quantilesLieWithinMinAndMaxEvenWhereTheSketchOvershoots() {
        // neuron 0 is the constant 0.9 (the sketch alone answers within 1% of it, above or below), neuron 1 takes
        // the values 1..1000 (its p99 bucket lies above the exact maximum unless clamped)
        LayerInfo l = new LayerInfo("q", "Relu", new int[]{2}, LayerInfo.Role.HIDDEN);
        int n = 1000;
        float[] a = new float[n * 2];
        List<String> ids = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            a[e * 2] = 0.9f;
            a[e * 2 + 1] = e + 1;
            ids.add("x" + e);
        }
        Batch b = new Batch(0, Tensor.ofFloats(new float[n], n, 1), null, ids, Collections.nCopies(n, Map.of()));
        var census = new ActivationStatsAnalyzer.Census(params(ActivationStatsAnalyzer.Reduce.MEAN), List.of(l), List.of());
        census.accept(new ActivationBatch(b, Map.of("q", Tensor.ofFloats(a, n, 2))));
        AnalysisResult r = census.finish();
        float[] min = column(r, "q", "min").values().floats();
        float[] max = column(r, "q", "max").values().floats();
        for (String q : List.of("p01", "p05", "p25", "p50", "p75", "p95", "p99")) {
            float[] v = column(r, "q", q).values().floats();
            for (int c = 0; c < 2; c++) {
                assertTrue(v[c] >= min[c] && v[c] <= max[c], q + " of neuron " + c + ": " + v[c] + " outside [" + min[c]
                        + ", " + max[c] + "]");
            }
            assertEquals(0.9f, v[0], 0.9f * 0.01f, "within the sketch's relative accuracy");
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
        assertEquals(List.of(0), tag(r, "d", "rarely-firing"));
        assertEquals(List.of(1), tag(r, "d", "dead"));
        assertEquals(List.of(), tag(r, "d", "always-on"));
        assertEquals(List.of(), tag(r, "d", "saturated"));
        assertEquals(1.0 / 3, (double) layer.get("rarelyFiringFraction"), 1e-12);
        NeuronTable.Column rate = column(r, "d", "firingRate");
        assertEquals((float) 0.003, rate.values().floats()[0], 0f);
        double[] ci = ActivationStatsAnalyzer.wilson(3, 1000);
        assertEquals((float) ci[0], rate.low().floats()[0], 0f);
        assertEquals((float) ci[1], rate.high().floats()[0], 0f);
        NeuronTable.Tag rarely = stats(r, "d").tags().get(1);
        assertEquals("rarely-firing", rarely.name());
        assertEquals("fires on at least one example, firing rate < 0.01", rarely.description());
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
        assertEquals(List.of(1), tag(r, "dense", "dead"));
        assertEquals(List.of(2, 4), tag(r, "dense", "always-on"));
        assertEquals(0.2, (double) dense.get("deadFraction"), 1e-12);
        assertEquals(0.4, (double) dense.get("alwaysOnFraction"), 1e-12);
        assertEquals(List.of(), tag(r, "dense", "saturated"), "Relu is unbounded: never saturated");
        assertEquals(List.of(0), tag(r, "gate", "saturated"));
        assertEquals(0.5, (double) layer(r, "gate").get("saturatedFraction"), 1e-12);
        assertEquals(List.of("dead", "rarely-firing", "always-on", "saturated"),
                stats(r, "gate").tags().stream().map(NeuronTable.Tag::name).toList(), "every tag, even when empty");
    }

    @Test
    void classMeansAreMeansOverTheExamplesOfEachClass() {
        Data d = data(400, 5, 33);
        AnalysisResult r = run(d, params(ActivationStatsAnalyzer.Reduce.MEAN));
        Matrix cm = r.part("dense-class-mean", Matrix.class).orElseThrow();
        assertEquals(Matrix.Axis.of("class", CLASSES).labels(), cm.rows().labels());
        assertEquals("class", cm.rows().name());
        assertEquals("neuron", cm.cols().name());
        assertEquals(List.of("class", "neuron"), cm.values().dims());
        assertEquals("mean activation", cm.unit());
        assertEquals("dense", cm.layer());
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
                assertEquals(sum[k][c] / count[k], cm.get(k, c), 1e-3 * Math.max(1, Math.abs(sum[k][c] / count[k])));
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
        long denseBelow = 0;
        long denseAll = 0;
        for (ActivationBatch b : d.batches()) {
            for (float v : b.activation(DENSE.name()).floats()) {
                denseBelow += v <= 0 ? 1 : 0;
                denseAll++;
            }
        }
        assertEquals((double) denseBelow / denseAll, (double) layer(r, DENSE.name()).get("sparsity"), 1e-12);
    }

    @Test
    void denseSparsityCountsInfinitiesAndLeavesNaNOut() {
        // neuron 0 takes the value-by-value path (NaN, -inf, +inf); neuron 1 the bulk path, with -0.0 and 0.0
        LayerInfo relu = new LayerInfo("relu", "Relu", new int[]{2}, LayerInfo.Role.HIDDEN);
        int n = 9;
        float[] v = {Float.NaN, 0f, Float.NEGATIVE_INFINITY, -0.0f, Float.POSITIVE_INFINITY, 1f, -2f, 2f, 0f, -1f,
                3f, 0f, Float.NaN, 4f, 0.5f, 0f, -1f, 5f};
        long below = 0;
        for (float x : v) {
            below += x <= 0 ? 1 : 0;
        }
        Batch b = new Batch(0, Tensor.ofFloats(new float[n], n, 1), null, Collections.nCopies(n, "x"),
                Collections.nCopies(n, Map.of()));
        var census = new ActivationStatsAnalyzer.Census(params(ActivationStatsAnalyzer.Reduce.MEAN), List.of(relu),
                List.of());
        census.accept(new ActivationBatch(b, Map.of("relu", Tensor.ofFloats(v, n, 2))));
        AnalysisResult r = census.finish();
        assertEquals(9, below);
        assertEquals(below / 18.0, (double) layer(r, "relu").get("sparsity"), 1e-12);
    }

    @Test
    void aFewDeadRectifierNeuronsAreInformationAndSaturatedBoundedNeuronsNotable() {
        AnalysisResult r = run(data(300, 4, 100), params(ActivationStatsAnalyzer.Reduce.MEAN));
        assertEquals(List.of("gate-saturated", "dense-dead"), r.findings().stream().map(Finding::id).toList(),
                "always-on neurons (dense 2, 4) are no finding; notable before information");
        Finding dead = r.findings().get(1);
        assertEquals(Finding.Severity.INFO, dead.severity(), "1 of 5 dead is ordinary");
        assertEquals("1 of 5 neurons of dense never fire on 300 examples (dead)", dead.claim());
        assertEquals(List.of(new NeuronRef("dense", 1)), dead.neurons());
        assertEquals(List.of("dense-stats"), dead.evidence());
        assertEquals("dead fraction", dead.strength().measure());
        assertEquals(0.2, dead.strength().value(), 1e-12);
        Finding sat = r.findings().get(0);
        assertEquals(Finding.Severity.NOTABLE, sat.severity());
        assertEquals(List.of(new NeuronRef("gate", 0)), sat.neurons());
        assertEquals(List.of("gate-stats"), sat.evidence());
        assertEquals(0.5, sat.strength().value(), 1e-12);
        assertTrue(sat.claim().startsWith("1 of 2 neurons of gate (Sigmoid) are saturated"), sat.claim());
    }

    @Test
    void findingsFollowTheOpTypeSoftmaxAndNonRectifiersGiveNone() {
        // probs: Softmax, both neurons at a bound on every example (saturated tag, no finding);
        // tanh: neuron 0 never above 0 (dead tag, but not a rectifier: no finding);
        // leaky: LeakyRelu, neuron 1 never above 0 (warning); relu: neuron 0 NaN on 3 of 10 examples (warning)
        LayerInfo probs = new LayerInfo("probs", "Softmax", new int[]{2}, LayerInfo.Role.OUTPUT);
        LayerInfo tanh = new LayerInfo("tanh", "Tanh", new int[]{2}, LayerInfo.Role.HIDDEN);
        LayerInfo leaky = new LayerInfo("leaky", "LeakyRelu", new int[]{2}, LayerInfo.Role.HIDDEN);
        LayerInfo relu = new LayerInfo("relu", "Relu", new int[]{2}, LayerInfo.Role.HIDDEN);
        int n = 10;
        float[] p = new float[n * 2];
        float[] t = new float[n * 2];
        float[] lr = new float[n * 2];
        float[] rl = new float[n * 2];
        for (int e = 0; e < n; e++) {
            p[e * 2] = 0.999f;
            p[e * 2 + 1] = 0.001f;
            t[e * 2] = -0.5f;
            t[e * 2 + 1] = 0.1f * e;
            lr[e * 2] = 1 + e;
            lr[e * 2 + 1] = -0.01f * e;
            rl[e * 2] = e < 3 ? Float.NaN : e;
            rl[e * 2 + 1] = e;
        }
        List<String> ids = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            ids.add("x" + e);
        }
        Batch b = new Batch(0, Tensor.ofFloats(new float[n], n, 1), null, ids, Collections.nCopies(n, Map.of()));
        var census = new ActivationStatsAnalyzer.Census(params(ActivationStatsAnalyzer.Reduce.MEAN),
                List.of(probs, tanh, leaky, relu), List.of());
        census.accept(new ActivationBatch(b, Map.of("probs", Tensor.ofFloats(p, n, 2), "tanh", Tensor.ofFloats(t, n, 2),
                "leaky", Tensor.ofFloats(lr, n, 2), "relu", Tensor.ofFloats(rl, n, 2))));
        AnalysisResult r = census.finish();
        assertEquals(List.of(), tag(r, "probs", "saturated"), "probability outputs get no tags");
        assertEquals(List.of(), tag(r, "probs", "always-on"));
        assertEquals(List.of(), tag(r, "tanh", "dead"), "a tanh below 0 is negative, not dead");
        assertEquals(List.of(1), tag(r, "leaky", "dead"));
        var all = new ActivationStatsAnalyzer.Census(new ActivationStatsAnalyzer.Params(ActivationStatsAnalyzer.Reduce.MEAN,
                0.0, 32, 1.0, 0.02, 0.95, 0.01, 0.01, 1, true), List.of(probs, tanh, leaky, relu), List.of());
        all.accept(new ActivationBatch(b, Map.of("probs", Tensor.ofFloats(p, n, 2), "tanh", Tensor.ofFloats(t, n, 2),
                "leaky", Tensor.ofFloats(lr, n, 2), "relu", Tensor.ofFloats(rl, n, 2))));
        AnalysisResult flagged = all.finish();
        assertEquals(List.of(0), tag(flagged, "tanh", "dead"), "flagAllOps tags every op but probability outputs");
        assertEquals(List.of(), tag(flagged, "probs", "always-on"));
        assertEquals(List.of("leaky-dead", "relu-non-finite"), r.findings().stream().map(Finding::id).toList());
        Finding nonFinite = r.findings().get(1);
        assertEquals(Finding.Severity.WARNING, nonFinite.severity());
        assertTrue(nonFinite.claim().startsWith("relu produced 3 non-finite values (NaN or infinite) on 10 examples"),
                nonFinite.claim());
        assertEquals(3L, layer(r, "relu").get("nonFiniteValues"));
        // the NaN values are skipped: mean of 3..9
        assertEquals(6f, values(r, "relu", "mean")[0], 0f);
        assertTrue(r.part("probs-class-mean", Matrix.class).isEmpty(), "no classes, no class means");
    }

    @Test
    void summaryKeepsRunFactsAndPerLayerFractionsOnly() {
        AnalysisResult r = run(data(100, 9, 50), params(ActivationStatsAnalyzer.Reduce.MAX));
        assertEquals(List.of("analyzer", "reduce", "threshold", "examples", "classNames", "criteria", "quantileSketch", "layers"),
                List.copyOf(r.summary().keySet()));
        assertEquals(List.of("name", "opType", "shape", "neurons", "spatial", "deadFraction", "rarelyFiringFraction",
                        "alwaysOnFraction", "saturatedFraction", "sparsity", "meanFiringRate", "nonFiniteValues"),
                List.copyOf(layer(r, CONV.name()).keySet()));
        assertEquals(100L, r.summary().get("examples"));
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

    @Test
    void extrasSwitchedOffLeaveTheCoreStatisticsUnchanged() {
        Data d = data(700, 11, 64, 100, 37);
        AnalysisResult all = run(d, params(ActivationStatsAnalyzer.Reduce.MAX));
        AnalysisResult none = run(d, new ActivationStatsAnalyzer.Params(ActivationStatsAnalyzer.Reduce.MAX, 0.0, 16, 1.0, 0.02,
                0.95, 0.01, 0.01, 1, false, List.of()));
        for (LayerInfo l : List.of(CONV, DENSE, GATE)) {
            for (String col : List.of("mean", "std", "min", "max", "firingRate")) {
                assertArrayEquals(values(all, l.name(), col), values(none, l.name(), col), l.name() + " " + col);
            }
            assertTrue(none.part(Ids.sanitize(l.name()) + "-histogram", Matrix.class).isEmpty(), "no histogram asked");
            assertTrue(none.part(Ids.sanitize(l.name()) + "-class-mean", Matrix.class).isEmpty(), "no class means asked");
            assertTrue(all.part(Ids.sanitize(l.name()) + "-class-mean", Matrix.class).isPresent());
            assertTrue(stats(all, l.name()).columns().stream().anyMatch(c -> c.name().equals("p50")), "quantiles by default");
            assertTrue(stats(none, l.name()).columns().stream().noneMatch(c -> c.name().matches("p[0-9]+")),
                    "no quantile columns: " + stats(none, l.name()).columns().stream().map(NeuronTable.Column::name).toList());
        }
        assertThrows(io.neuronmonkey.api.InvalidParamsException.class, () -> new ActivationStatsAnalyzer.Params(
                ActivationStatsAnalyzer.Reduce.MEAN, 0.0, 32, 1.0, 0.02, 0.95, 0.01, 0.01, 1, false, List.of("median")));
    }
}
