package io.neuronmonkey.stats;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The position kernels, plain and vector, against naive loops written from their definitions: the max in the total
 * order of {@link Float#compare} (-0.0 below 0.0) for channels without NaN, sums added in position order, firing
 * counts compared with the double threshold, and NaN detection; both implementations give the same bits everywhere.
 */
class PositionKernelsTest {

    private static final float[] SPECIAL = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE, -Float.MAX_VALUE, 1f, -1f, 0.5f};

    @Test
    void theTestsRunTheVectorKernels() {
        // surefire starts the JVM with --add-modules jdk.incubator.vector, as the launcher does
        assertEquals("vector", PositionKernels.INSTANCE.name());
    }

    @Test
    void bothKernelsMatchNaiveLoops() {
        Random rnd = new Random(42);
        int[] channelCounts = {1, 3, 4, 5, 7, 8, 12, 13, 16, 17, 24, 37, 64};
        int[] positionCounts = {1, 2, 9, 26};
        double[] thresholds = {0.0, 0.25, -1e-40, 1e300, Double.NaN, 0.1};
        int checked = 0;
        for (int neurons : channelCounts) {
            for (int positions : positionCounts) {
                for (int trial = 0; trial < 6; trial++) {
                    int pad = rnd.nextInt(5);
                    float[] act = new float[pad + positions * neurons + 3];
                    int mode = trial % 3;
                    for (int i = 0; i < act.length; i++) {
                        act[i] = switch (mode) {
                            case 0 -> (float) rnd.nextGaussian();
                            case 1 -> rnd.nextInt(4) == 0 ? SPECIAL[rnd.nextInt(SPECIAL.length)]
                                    : Math.max(0f, (float) rnd.nextGaussian());
                            default -> rnd.nextInt(3) == 0 ? -0f : rnd.nextInt(50) == 0 ? Float.NaN
                                    : (float) (rnd.nextGaussian() * 1e-39);
                        };
                    }
                    double t = thresholds[rnd.nextInt(thresholds.length)];
                    check(act, pad, positions, neurons, t);
                    checked++;
                }
            }
        }
        assertEquals(channelCounts.length * positionCounts.length * 6, checked);
    }

    @Test
    void extremesMatchMathMinMaxAndNaiveCounts() {
        Random rnd = new Random(7);
        int checked = 0;
        for (int len : new int[]{1, 2, 7, 8, 9, 16, 31, 256, 1000}) {
            for (int trial = 0; trial < 40; trial++) {
                int from = rnd.nextInt(4);
                float[] v = new float[from + len + 2];
                int mode = trial % 4;
                for (int i = 0; i < v.length; i++) {
                    v[i] = switch (mode) {
                        case 0 -> (float) rnd.nextGaussian();
                        case 1 -> rnd.nextBoolean() ? -0f : rnd.nextBoolean() ? 0f : Math.max(0f, (float) rnd.nextGaussian());
                        case 2 -> rnd.nextInt(len + 1) == 0 ? SPECIAL[rnd.nextInt(SPECIAL.length)] : (float) rnd.nextGaussian();
                        default -> rnd.nextBoolean() ? -0f : 0f;
                    };
                }
                double t = rnd.nextBoolean() ? 0.0 : rnd.nextGaussian();
                double satLow = -1e-3 * rnd.nextInt(3);
                double satHigh = 0.5 + rnd.nextInt(2);
                float start0 = rnd.nextBoolean() ? Float.POSITIVE_INFINITY : (float) rnd.nextGaussian();
                float start1 = rnd.nextBoolean() ? Float.NEGATIVE_INFINITY : (float) rnd.nextGaussian();
                float lo = start0;
                float hi = start1;
                int fires = 0;
                int sat = 0;
                boolean finite = true;
                for (int i = from; i < from + len; i++) {
                    finite &= Float.isFinite(v[i]);
                    lo = Math.min(lo, v[i]);
                    hi = Math.max(hi, v[i]);
                    fires += (double) v[i] > t ? 1 : 0;
                    sat += (double) v[i] <= satLow || (double) v[i] >= satHigh ? 1 : 0;
                }
                for (PositionKernels k : new PositionKernels[]{PositionKernels.SCALAR, PositionKernels.INSTANCE}) {
                    float[] ext = {start0, start1};
                    int[] counts = new int[2];
                    boolean ok = k.extremes(v, from, from + len, ext, LayerStats.floatAtOrBelow(t),
                            LayerStats.floatAtOrBelow(satLow), LayerStats.floatAtOrAbove(satHigh), counts);
                    assertEquals(finite, ok, k.name() + " finite");
                    if (ok) {
                        assertEquals(Float.floatToRawIntBits(lo), Float.floatToRawIntBits(ext[0]), k.name() + " min");
                        assertEquals(Float.floatToRawIntBits(hi), Float.floatToRawIntBits(ext[1]), k.name() + " max");
                        assertEquals(fires, counts[0], k.name() + " fires");
                        assertEquals(sat, counts[1], k.name() + " saturated");
                    }
                }
                checked++;
            }
        }
        assertEquals(9 * 40, checked);
    }

    private static void check(float[] act, int base, int positions, int neurons, double t) {
        // the naive definitions
        int[] refMaxIndex = new int[neurons];
        boolean[] channelNaN = new boolean[neurons];
        double[] refSum = new double[neurons];
        double[] refSumFromFirst = new double[neurons];
        int[] refFired = new int[neurons];
        boolean refNaN = false;
        for (int c = 0; c < neurons; c++) {
            float best = Float.NEGATIVE_INFINITY;
            double sum = 0.0;
            double sumFirst = act[base + c];
            for (int p = 0; p < positions; p++) {
                float v = act[base + p * neurons + c];
                if (Float.isNaN(v)) {
                    channelNaN[c] = true;
                    refNaN = true;
                } else if (Float.compare(v, best) > 0) {
                    best = v;
                }
                sum += v;
                if (p > 0) {
                    sumFirst += v;
                }
                refFired[c] += (double) v > t ? 1 : 0;
            }
            refMaxIndex[c] = Float.floatToRawIntBits(best);
            refSum[c] = sum;
            refSumFromFirst[c] = sumFirst;
        }
        float firesAbove = LayerStats.floatAtOrBelow(t);
        int[][] keys = new int[2][];
        for (PositionKernels k : new PositionKernels[]{PositionKernels.SCALAR, PositionKernels.INSTANCE}) {
            for (boolean withFired : new boolean[]{false, true}) {
                int[] key = new int[neurons];
                int[] fired = withFired ? new int[neurons] : null;
                boolean nan = k.maxKeys(act, base, positions, neurons, key, fired, firesAbove);
                assertEquals(refNaN, nan, k.name() + " max: NaN seen");
                for (int c = 0; c < neurons; c++) {
                    if (!channelNaN[c]) {
                        assertEquals(refMaxIndex[c], Float.floatToRawIntBits(PositionKernels.unkey(key[c])),
                                k.name() + " max of channel " + c + " of " + neurons);
                    }
                }
                if (withFired) {
                    assertArrayEquals(refFired, fired, k.name() + " max: fired, threshold " + t);
                }
                keys[k == PositionKernels.SCALAR ? 0 : 1] = key;
                for (boolean fromFirst : new boolean[]{false, true}) {
                    double[] acc = new double[neurons];
                    int[] f2 = withFired ? new int[neurons] : null;
                    boolean nan2 = k.sums(act, base, positions, neurons, acc, fromFirst, f2, firesAbove);
                    assertEquals(refNaN, nan2, k.name() + " sums: NaN seen");
                    double[] ref = fromFirst ? refSumFromFirst : refSum;
                    for (int c = 0; c < neurons; c++) {
                        assertEquals(Double.doubleToLongBits(ref[c]), Double.doubleToLongBits(acc[c]),
                                k.name() + " sum of channel " + c + " of " + neurons + ", fromFirst " + fromFirst);
                    }
                    if (withFired) {
                        assertArrayEquals(refFired, f2, k.name() + " sums: fired, threshold " + t);
                    }
                    // two examples at once (here the same row twice): each sum as alone, the counts of both
                    double[] accA = new double[neurons];
                    double[] accB = new double[neurons];
                    int[] f3 = withFired ? new int[neurons] : null;
                    int flags = k.sumsPair(act, base, base, positions, neurons, accA, accB, fromFirst, f3, firesAbove);
                    assertEquals(refNaN ? 3 : 0, flags, k.name() + " pair: NaN flags");
                    for (int c = 0; c < neurons; c++) {
                        assertEquals(Double.doubleToLongBits(ref[c]), Double.doubleToLongBits(accA[c]), k.name() + " pair A");
                        assertEquals(Double.doubleToLongBits(ref[c]), Double.doubleToLongBits(accB[c]), k.name() + " pair B");
                        if (withFired) {
                            assertEquals(2 * refFired[c], f3[c], k.name() + " pair: fired");
                        }
                    }
                }
            }
        }
        // NaN channels included: the two implementations agree bit for bit
        assertArrayEquals(keys[0], keys[1], "scalar and vector keys");
    }
}
