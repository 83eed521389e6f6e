package io.neuronmonkey.stats;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.mapping.CubicallyInterpolatedMapping;
import com.datadoghq.sketch.ddsketch.store.UnboundedSizeDenseStore;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The census's bulk kernels against their value-by-value references: each must give exactly the same state, for
 * ReLU-like runs (many exact zeros), signed values spanning many decades, subnormals, -0.0 and values in the
 * sketch's zero band.
 */
class BulkKernelsTest {

    private static float[] values(long seed, int n) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            switch (r.nextInt(8)) {
                case 0, 1, 2 -> v[i] = 0f;
                case 3 -> v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(24) - 12));
                case 4 -> v[i] = Float.intBitsToFloat(r.nextInt(0x00800000)) * (r.nextBoolean() ? 1 : -1); // subnormal
                case 5 -> v[i] = r.nextBoolean() ? -0.0f : (float) (r.nextDouble() * 2e-6); // zero band of the sketch
                default -> v[i] = (float) Math.abs(r.nextGaussian() * 3);
            }
        }
        return v;
    }

    @Test
    void exactMomentsRunsEqualValueByValue() {
        for (long seed = 1; seed <= 20; seed++) {
            float[] v = values(seed, 40_000 + (int) seed * 997);
            ExactMoments one = new ExactMoments(3);
            ExactMoments bulk = new ExactMoments(3);
            ExactMoments also = new ExactMoments(2);
            ExactMoments alsoOne = new ExactMoments(2);
            int cut = v.length / 3;
            for (int i = 0; i < v.length; i++) {
                one.add(i < cut ? 0 : 2, v[i]);
                if (i >= cut) {
                    alsoOne.add(1, v[i]);
                }
            }
            bulk.addRun(0, v, 0, cut);
            bulk.addRun(2, v, cut, v.length, also, 1);
            for (int s = 0; s < 3; s++) {
                assertEquals(one.sumUnits(s), bulk.sumUnits(s), "sum, slot " + s + ", seed " + seed);
                assertEquals(one.squareUnits(s), bulk.squareUnits(s), "squares, slot " + s + ", seed " + seed);
                assertEquals(one.count(s), bulk.count(s));
            }
            assertEquals(alsoOne.sumUnits(1), also.sumUnits(1));
            assertEquals(alsoOne.squareUnits(1), also.squareUnits(1));
            assertEquals(alsoOne.count(1), also.count(1));
        }
    }

    @Test
    void exactMomentsRunsOfLargeValuesCarryCorrectly() {
        // long runs of the largest mantissas at one exponent: the bucket sums approach their limits
        float[] v = new float[100_000];
        java.util.Arrays.fill(v, Math.nextDown(2f));
        ExactMoments one = new ExactMoments(1);
        ExactMoments bulk = new ExactMoments(1);
        for (float x : v) {
            one.add(0, x);
        }
        bulk.addRun(0, v, 0, v.length);
        assertEquals(one.sumUnits(0), bulk.sumUnits(0));
        assertEquals(one.squareUnits(0), bulk.squareUnits(0));
    }

    /** The exact sum of floats as a BigDecimal: the independent reference of the fixed-point digits. */
    private static java.math.BigDecimal exactSum(float[] v, int from, int to) {
        java.math.BigDecimal s = java.math.BigDecimal.ZERO;
        for (int i = from; i < to; i++) {
            s = s.add(new java.math.BigDecimal(v[i]));
        }
        return s;
    }

    @Test
    void exactSumsEqualTheBigDecimalSumAndTheMomentsMean() {
        java.math.BigDecimal unit = new java.math.BigDecimal(java.math.BigInteger.ONE).divide(
                new java.math.BigDecimal(java.math.BigInteger.TWO.pow(149)));
        for (long seed = 1; seed <= 20; seed++) {
            float[] v = values(seed, 20_000 + (int) seed * 331);
            Random r = new Random(seed);
            ExactSums sums = new ExactSums(4);
            ExactMoments moments = new ExactMoments(4);
            java.math.BigDecimal[] reference = new java.math.BigDecimal[4];
            java.util.Arrays.fill(reference, java.math.BigDecimal.ZERO);
            // runs of random lengths (1 to 60, as a class's run in a batch) into random slots, some value by value
            for (int i = 0; i < v.length; ) {
                int len = Math.min(v.length - i, 1 + r.nextInt(60));
                int slot = r.nextInt(4);
                if (r.nextInt(5) == 0) {
                    for (int j = i; j < i + len; j++) {
                        sums.add(slot, v[j]);
                    }
                } else {
                    sums.addRun(slot, v, i, i + len);
                }
                moments.addRun(slot, v, i, i + len);
                reference[slot] = reference[slot].add(exactSum(v, i, i + len));
                i += len;
            }
            for (int slot = 0; slot < 4; slot++) {
                assertEquals(0, new java.math.BigDecimal(sums.sumUnits(slot)).multiply(unit).compareTo(reference[slot]),
                        "seed " + seed + " slot " + slot);
                assertEquals(moments.count(slot), sums.count(slot));
                assertEquals(Double.doubleToRawLongBits(moments.mean(slot)), Double.doubleToRawLongBits(sums.mean(slot)));
            }
            // merged halves equal the whole
            ExactSums a = new ExactSums(1);
            ExactSums b = new ExactSums(1);
            ExactSums whole = new ExactSums(1);
            a.addRun(0, v, 0, v.length / 2);
            b.addRun(0, v, v.length / 2, v.length);
            whole.addRun(0, v, 0, v.length);
            a.merge(b);
            assertEquals(whole.sumUnits(0), a.sumUnits(0));
        }
    }

    @Test
    void meansFromTheDigitsAreTheCorrectlyRoundedQuotientOfTheExactSum() {
        java.math.MathContext wide = new java.math.MathContext(80);
        for (long seed = 1; seed <= 200; seed++) {
            Random r = new Random(seed);
            int n = 1 + r.nextInt(seed < 100 ? 50 : 5_000);
            float[] v = values(seed, n);
            if (seed % 3 == 0) {
                // sums that cancel to a small remainder, and negative sums
                for (int i = 0; i + 1 < n; i += 2) {
                    v[i + 1] = -v[i] * (seed % 2 == 0 ? 1f : 1.0000001f);
                }
            } else if (seed % 5 == 0) {
                for (int i = 0; i < n; i++) {
                    v[i] = -Math.abs(v[i]) * (r.nextBoolean() ? 1e20f : 1f);
                }
            }
            ExactMoments m = new ExactMoments(1);
            ExactSums s = new ExactSums(1);
            m.addRun(0, v, 0, n);
            s.addRun(0, v, 0, n);
            double expected = exactSum(v, 0, n).divide(java.math.BigDecimal.valueOf(n), wide).doubleValue();
            if (n >= 2) {
                // the sample variance from the exact sums, in 80 digits
                java.math.BigDecimal s1 = exactSum(v, 0, n);
                java.math.BigDecimal s2 = java.math.BigDecimal.ZERO;
                for (int i = 0; i < n; i++) {
                    s2 = s2.add(new java.math.BigDecimal(v[i]).pow(2));
                }
                java.math.BigDecimal num = s2.multiply(java.math.BigDecimal.valueOf(n)).subtract(s1.pow(2));
                double var = num.signum() <= 0 ? 0 : num.divide(java.math.BigDecimal.valueOf((long) n * (n - 1)), wide)
                        .doubleValue();
                assertEquals(var, m.variance(0), 0.0, "variance, seed " + seed);
            }
            assertEquals(expected, m.mean(0), 0.0, "seed " + seed);
            assertEquals(Double.doubleToRawLongBits(m.mean(0)), Double.doubleToRawLongBits(s.mean(0)));
            assertEquals(Double.doubleToRawLongBits(m.mean(0)),
                    Double.doubleToRawLongBits(ExactMoments.mean(m.sumUnits(0), n)), "the BigInteger path");
        }
        assertEquals(0.0, new ExactMoments(1).mean(0));
    }

    @Test
    void exactSumsOfLongRunsNearTheLargestFloatCarryCorrectly() {
        float[] v = new float[200_000];
        java.util.Arrays.fill(v, Float.MAX_VALUE);
        for (int i = 0; i < v.length; i += 3) {
            v[i] = -Math.nextDown(Float.MAX_VALUE);
        }
        ExactSums sums = new ExactSums(1);
        sums.addRun(0, v, 0, v.length);
        // and as 20,000 runs of 10 (more runs than between two carries), merged into a state of the whole
        ExactSums runs = new ExactSums(1);
        for (int i = 0; i < v.length; i += 10) {
            runs.addRun(0, v, i, i + 10);
        }
        assertEquals(sums.sumUnits(0), runs.sumUnits(0));
        runs.merge(sums);
        assertEquals(sums.sumUnits(0).shiftLeft(1), runs.sumUnits(0));
        java.math.BigDecimal unit = new java.math.BigDecimal(java.math.BigInteger.ONE).divide(
                new java.math.BigDecimal(java.math.BigInteger.TWO.pow(149)));
        assertEquals(0, new java.math.BigDecimal(sums.sumUnits(0)).multiply(unit).compareTo(exactSum(v, 0, v.length)));
    }

    @Test
    void groupedMomentsEqualValueByValueInRowOrder() {
        int n = 300;
        int neurons = 70;
        float[] v = values(5, n * neurons);
        v[17 * neurons + 3] = Float.NaN;
        v[40 * neurons + 9] = Float.POSITIVE_INFINITY;
        Random r = new Random(3);
        int[] group = new int[n];
        for (int e = 0; e < n; e++) {
            group[e] = r.nextInt(4) - 1; // -1 leaves the row out
        }
        java.util.List<ExactMoments> bulk = java.util.List.of(new ExactMoments(neurons), new ExactMoments(neurons), new ExactMoments(neurons));
        java.util.List<ExactMoments> one = java.util.List.of(new ExactMoments(neurons), new ExactMoments(neurons), new ExactMoments(neurons));
        new GroupedMoments().add(v, n, neurons, group, bulk);
        for (int e = 0; e < n; e++) {
            for (int c = 0; c < neurons && group[e] >= 0; c++) {
                if (Float.isFinite(v[e * neurons + c])) {
                    one.get(group[e]).add(c, v[e * neurons + c]);
                }
            }
        }
        for (int g = 0; g < 3; g++) {
            for (int c = 0; c < neurons; c++) {
                assertEquals(one.get(g).sumUnits(c), bulk.get(g).sumUnits(c), "group " + g + " neuron " + c);
                assertEquals(one.get(g).squareUnits(c), bulk.get(g).squareUnits(c));
                assertEquals(one.get(g).count(c), bulk.get(g).count(c));
            }
        }
    }

    @Test
    void fittedHistogramEqualsValueByValue() {
        for (long seed = 1; seed <= 20; seed++) {
            float[] v = values(seed, 5_000);
            DoublingHistogram one = new DoublingHistogram(32);
            DoublingHistogram bulk = new DoublingHistogram(32);
            int[] scratch = new int[DoublingHistogram.SCRATCH_COPIES * 32];
            for (int start = 0; start < v.length; start += 256) {
                int end = Math.min(v.length, start + 256);
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                for (int i = start; i < end; i++) {
                    one.add(v[i]);
                    lo = Math.min(lo, v[i]);
                    hi = Math.max(hi, v[i]);
                }
                bulk.fit(lo);
                bulk.fit(hi);
                bulk.addFitted(v, start, end, scratch);
            }
            assertEquals(one.level(), bulk.level(), "seed " + seed);
            assertEquals(one.lo(), bulk.lo());
            assertEquals(one.hi(), bulk.hi());
            for (int i = 0; i <= one.hi() - one.lo(); i++) {
                assertEquals(one.count(i), bulk.count(i), "bin " + i + ", seed " + seed);
            }
        }
    }

    @Test
    void pendingSketchBinsEqualAcceptValueByValue() {
        for (double accuracy : new double[]{0.01, 0.05, 0.001}) {
            CubicallyInterpolatedMapping mapping = new CubicallyInterpolatedMapping(accuracy);
            SketchFeed feed = new SketchFeed(mapping, LayerStats.SKETCH_MIN_VALUE);
            for (long seed = 1; seed <= 10; seed++) {
                float[] v = values(seed, 20_000);
                DDSketch one = sketch(mapping);
                DDSketch bulk = sketch(mapping);
                PendingBins pending = new PendingBins();
                for (float x : v) {
                    one.accept(x);
                }
                for (int start = 0; start < v.length; start += 300) {
                    feed.add(pending, v, start, Math.min(v.length, start + 300));
                    if (start % 3000 == 0) {
                        pending.flush(bulk);
                    }
                }
                pending.flush(bulk);
                assertEquals(one.getCount(), bulk.getCount(), "accuracy " + accuracy + ", seed " + seed);
                double[] q = {0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1};
                assertArrayEquals(one.getValuesAtQuantiles(q), bulk.getValuesAtQuantiles(q), "accuracy " + accuracy);
                assertBinsEqual(one, bulk);
            }
        }
    }

    @Test
    void censusSketchesOfRunsPastTheSixteenBitCountsEqualAcceptValueByValue() {
        // one neuron, batches of 70,000 examples, 95% of them in one bin: more than a 16-bit count holds, so the
        // pending counts must be flushed within a batch
        CubicallyInterpolatedMapping mapping = new CubicallyInterpolatedMapping(0.01);
        LayerStats stats = new LayerStats(1, 1, 0, 32, 0.01);
        DDSketch one = sketch(mapping);
        Random r = new Random(3);
        for (int b = 0; b < 3; b++) {
            float[] v = new float[70_000];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(20) == 0 ? (float) r.nextGaussian() : 1.5f;
                one.accept(v[i]);
            }
            stats.accept(v, v.length, null, false, 0.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
        }
        stats.flushSketches();
        DDSketch bulk = stats.sketch[0];
        assertEquals(210_000.0, bulk.getCount());
        assertBinsEqual(one, bulk);
    }

    @Test
    void sketchTableIndexEqualsTheMappingAtEveryBinBoundary() {
        CubicallyInterpolatedMapping mapping = new CubicallyInterpolatedMapping(0.01);
        SketchFeed feed = new SketchFeed(mapping, LayerStats.SKETCH_MIN_VALUE);
        PendingBins pending = new PendingBins();
        // the floats on both sides of every bin boundary from the zero band to 1e30, positive and negative
        int lo = mapping.index(2e-6);
        int hi = mapping.index(1e30);
        float[] v = new float[6 * (hi - lo + 1)];
        int n = 0;
        for (int i = lo; i <= hi; i++) {
            float b = (float) mapping.lowerBound(i);
            v[n++] = b;
            v[n++] = Math.nextDown(b);
            v[n++] = Math.nextUp(b);
            v[n++] = -b;
            v[n++] = -Math.nextDown(b);
            v[n++] = -Math.nextUp(b);
        }
        DDSketch one = sketch(mapping);
        DDSketch bulk = sketch(mapping);
        for (int i = 0; i < n; i++) {
            one.accept(v[i]);
        }
        feed.add(pending, v, 0, n);
        pending.flush(bulk);
        assertBinsEqual(one, bulk);
    }

    private static DDSketch sketch(CubicallyInterpolatedMapping mapping) {
        return new DDSketch(mapping, () -> new UnboundedSizeDenseStore(LayerStats.SKETCH_STORE_BINS),
                () -> new UnboundedSizeDenseStore(LayerStats.SKETCH_STORE_BINS), LayerStats.SKETCH_MIN_VALUE);
    }

    @Test
    void extremesAndRatesEqualTheDoubleLoopWithSignedZerosAndThresholdsFloatsCannotHold() {
        // dense layer, 3 neurons; batches of odd and even sizes; thresholds between two floats and at them
        double[][] bounds = {{0.1, -0.3, 0.7}, {0.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY},
                {-0.0, 0.0, 0.0}, {1e-45, -1e-300, 1e39}};
        for (double[] b : bounds) {
            LayerStats stats = new LayerStats(3, 1, 0, 16, 0.01, false, false, false);
            double[] lo = {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
            double[] hi = {Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NEGATIVE_INFINITY};
            long[] fires = new long[3];
            long[] sat = new long[3];
            Random r = new Random(7);
            for (int batch = 0; batch < 40; batch++) {
                int n = 1 + r.nextInt(9);
                float[] act = new float[3 * n];
                for (int i = 0; i < act.length; i++) {
                    float g = (float) r.nextGaussian();
                    // neuron 0: signed zeros only (its min and max are zeros); neuron 1: zeros and positive values
                    // (min a zero); neuron 2: zeros, negative values and the bounds (max a zero until a bound is larger)
                    act[i] = switch (r.nextInt(6)) {
                        case 0 -> -0.0f;
                        case 1 -> 0.0f;
                        case 2 -> i % 3 == 2 ? Math.nextUp((float) b[r.nextInt(3)]) : 0.0f;
                        case 3 -> i % 3 == 2 ? (float) b[r.nextInt(3)] : -0.0f;
                        default -> i % 3 == 0 ? 0.0f : i % 3 == 1 ? Math.abs(g) : -Math.abs(g);
                    };
                }
                stats.accept(act, n, null, true, b[0], b[1], b[2]);
                for (int i = 0; i < act.length; i++) {
                    int c = i % 3;
                    float v = act[i];
                    if (!Float.isFinite(v)) {
                        continue; // the census counts infinities apart and leaves them out of every statistic
                    }
                    lo[c] = Math.min(lo[c], v);
                    hi[c] = Math.max(hi[c], v);
                    fires[c] += v > b[0] ? 1 : 0;
                    sat[c] += v <= b[1] || v >= b[2] ? 1 : 0;
                }
            }
            for (int c = 0; c < 3; c++) {
                // bit-equal: -0.0 and 0.0 are told apart, as Math.min/max do
                assertEquals(Double.doubleToRawLongBits(lo[c]), Double.doubleToRawLongBits(stats.min[c]), "min of " + c);
                assertEquals(Double.doubleToRawLongBits(hi[c]), Double.doubleToRawLongBits(stats.max[c]), "max of " + c);
                assertEquals(fires[c], stats.fired[c], "fires of " + c);
                assertEquals(sat[c], stats.saturated[c], "saturated of " + c);
            }
        }
    }

    private static void assertBinsEqual(DDSketch a, DDSketch b) {
        assertEquals(bins(a.getPositiveValueStore()), bins(b.getPositiveValueStore()), "positive bins");
        assertEquals(bins(a.getNegativeValueStore()), bins(b.getNegativeValueStore()), "negative bins");
        assertEquals(a.getCount() - a.getPositiveValueStore().getTotalCount() - a.getNegativeValueStore().getTotalCount(),
                b.getCount() - b.getPositiveValueStore().getTotalCount() - b.getNegativeValueStore().getTotalCount(), "zero count");
    }

    private static java.util.Map<Integer, Double> bins(com.datadoghq.sketch.ddsketch.store.Store s) {
        java.util.Map<Integer, Double> m = new java.util.TreeMap<>();
        s.forEach((index, count) -> m.put(index, count));
        return m;
    }
}
