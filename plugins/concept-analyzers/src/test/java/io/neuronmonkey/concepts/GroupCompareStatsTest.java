package io.neuronmonkey.concepts;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroupCompareStatsTest {

    /** Cohen's d by the textbook: two means, two n-1 variances, pooled. */
    static double naiveD(double[] a, double[] b) {
        double ma = Arrays.stream(a).average().orElseThrow();
        double mb = Arrays.stream(b).average().orElseThrow();
        double va = 0;
        for (double v : a) {
            va += (v - ma) * (v - ma);
        }
        double vb = 0;
        for (double v : b) {
            vb += (v - mb) * (v - mb);
        }
        double pooled = (va + vb) / (a.length + b.length - 2);
        return (ma - mb) / Math.sqrt(pooled);
    }

    /** Rank-biserial over all pairs: (#a>b - #a<b) / (nA nB). */
    static double naiveRankBiserial(double[] a, double[] b) {
        double s = 0;
        for (double x : a) {
            for (double y : b) {
                s += x > y ? 1 : x < y ? -1 : 0;
            }
        }
        return s / (a.length * b.length);
    }

    @Test
    void dAndRankBiserialMatchNaiveLoopsWithTies() {
        Random r = new Random(3);
        int n = 23;
        int neurons = 5;
        float[] x = new float[n * neurons];
        int[] group = new int[n];
        for (int i = 0; i < n; i++) {
            group[i] = i % 3 == 0 ? 0 : 1;
            for (int j = 0; j < neurons; j++) {
                // integer values: many ties; neuron j shifted in group 0 by j/2
                x[i * neurons + j] = (float) Math.round(r.nextGaussian() * 2 + (group[i] == 0 ? j * 0.5 : 0));
            }
        }
        GroupCompareStats s = GroupCompareStats.compute(x, neurons, group, 2, 0, 1, 0.95, 1);
        for (int j = 0; j < neurons; j++) {
            double[][] ab = split(x, neurons, group, j, 0);
            assertEquals(naiveD(ab[0], ab[1]), s.d[0][j], 1e-5, "d of neuron " + j);
            assertEquals(naiveRankBiserial(ab[0], ab[1]), s.rb[0][j], 1e-12, "rank-biserial of neuron " + j);
        }
    }

    @Test
    void moreThanTwoGroupsCompareEachWithTheRest() {
        Random r = new Random(5);
        int n = 30;
        int neurons = 3;
        float[] x = new float[n * neurons];
        int[] group = new int[n];
        for (int i = 0; i < n; i++) {
            group[i] = i % 3;
            for (int j = 0; j < neurons; j++) {
                x[i * neurons + j] = (float) (r.nextGaussian() + group[i] * j);
            }
        }
        GroupCompareStats s = GroupCompareStats.compute(x, neurons, group, 3, 0, 1, 0.95, 1);
        assertEquals(3, s.contrasts());
        for (int t = 0; t < 3; t++) {
            for (int j = 0; j < neurons; j++) {
                double[][] ab = split(x, neurons, group, j, t);
                assertEquals(naiveD(ab[0], ab[1]), s.d[t][j], 1e-5);
                assertEquals(naiveRankBiserial(ab[0], ab[1]), s.rb[t][j], 1e-12);
            }
        }
    }

    @Test
    void permutationPIsSmallForAPlantedEffectAndUniformishWithout() {
        Random r = new Random(11);
        int n = 60;
        int neurons = 41;
        float[] x = new float[n * neurons];
        int[] group = new int[n];
        for (int i = 0; i < n; i++) {
            group[i] = i < n / 2 ? 0 : 1;
            for (int j = 0; j < neurons; j++) {
                x[i * neurons + j] = (float) (r.nextGaussian() + (j == 0 && group[i] == 0 ? 2.0 : 0));
            }
        }
        int b = 999;
        GroupCompareStats s = GroupCompareStats.compute(x, neurons, group, 2, 200, b, 0.95, 7);
        // neuron 0: d about 2 with 30 per group, a t of about 7.7: no permutation reaches it
        assertEquals(1.0 / (b + 1), s.p[0][0], 1e-12);
        assertTrue(s.dLow[0][0] < s.d[0][0] && s.d[0][0] < s.dHigh[0][0]);
        assertTrue(s.dLow[0][0] > 1, "interval of a planted d of 2 stays away from 0: " + s.dLow[0][0]);
        // 40 null neurons: p roughly uniform; mean 0.5 with sd 0.29/sqrt(40) = 0.046, allow 4 sd
        double mean = 0;
        int small = 0;
        for (int j = 1; j < neurons; j++) {
            mean += s.p[0][j];
            small += s.p[0][j] < 0.01 ? 1 : 0;
            assertTrue(s.p[0][j] >= 1.0 / (b + 1) && s.p[0][j] <= 1);
        }
        mean /= neurons - 1;
        assertEquals(0.5, mean, 0.19);
        assertTrue(small <= 3, "null neurons with p < 0.01: " + small);
    }

    @Test
    void permutationPAgreesWithTheTTestOnNormalData() {
        // an independent reference: for normal data, the permutation p of |d| is close to the two-sided t-test's p
        Random r = new Random(17);
        int n = 80;
        float[] x = new float[n];
        int[] group = new int[n];
        for (int i = 0; i < n; i++) {
            group[i] = i % 2;
            x[i] = (float) (r.nextGaussian() + (group[i] == 0 ? 0.45 : 0));
        }
        GroupCompareStats s = GroupCompareStats.compute(x, 1, group, 2, 0, 20000, 0.95, 3);
        double[][] ab = split(x, 1, group, 0, 0);
        double t = new org.apache.commons.math3.stat.inference.TTest().homoscedasticTTest(ab[0], ab[1]);
        assertEquals(t, s.p[0][0], 0.01 + 0.1 * t, "permutation p " + s.p[0][0] + " vs t-test p " + t);
    }

    @Test
    void bootstrapIntervalsCoverTheTruthAndAreSeeded() {
        Random r = new Random(23);
        int n = 200;
        float[] x = new float[n];
        int[] group = new int[n];
        for (int i = 0; i < n; i++) {
            group[i] = i % 2;
            x[i] = (float) (r.nextGaussian() + (group[i] == 0 ? 1 : 0));
        }
        GroupCompareStats a = GroupCompareStats.compute(x, 1, group, 2, 500, 10, 0.95, 9);
        GroupCompareStats b = GroupCompareStats.compute(x, 1, group, 2, 500, 10, 0.95, 9);
        assertEquals(a.dLow[0][0], b.dLow[0][0], 0);
        assertEquals(a.rbHigh[0][0], b.rbHigh[0][0], 0);
        // the sampling sd of d at n = 100 per group is about sqrt(2/100 + 1/400) = 0.15: a 95% interval is about 0.6 wide
        double width = a.dHigh[0][0] - a.dLow[0][0];
        assertTrue(width > 0.4 && width < 0.8, "interval width " + width);
        assertTrue(a.dLow[0][0] < 1 && 1 < a.dHigh[0][0], "covers d = 1: [" + a.dLow[0][0] + ", " + a.dHigh[0][0] + "]");
        assertTrue(a.rbLow[0][0] < a.rb[0][0] && a.rb[0][0] < a.rbHigh[0][0]);
    }

    @Test
    void constantGroupsGiveZeroOrInfiniteD() {
        float[] x = {1, 1, 1, 2, 2, 2, 5, 5, 5, 5, 5, 5};
        int[] group = {0, 0, 0, 1, 1, 1};
        float[] two = new float[12];
        for (int i = 0; i < 6; i++) {
            two[i * 2] = x[i];
            two[i * 2 + 1] = 5;
        }
        GroupCompareStats s = GroupCompareStats.compute(two, 2, group, 2, 20, 20, 0.95, 1);
        assertEquals(Double.NEGATIVE_INFINITY, s.d[0][0]);
        assertEquals(-1, s.rb[0][0], 0);
        assertEquals(0, s.d[0][1], 0);
        assertEquals(0, s.rb[0][1], 0);
        assertEquals(1, s.p[0][1], 0);
    }

    private static double[][] split(float[] x, int neurons, int[] group, int j, int contrast) {
        double[] a = java.util.stream.IntStream.range(0, group.length).filter(i -> group[i] == contrast)
                .mapToDouble(i -> x[i * neurons + j]).toArray();
        double[] b = java.util.stream.IntStream.range(0, group.length).filter(i -> group[i] != contrast)
                .mapToDouble(i -> x[i * neurons + j]).toArray();
        return new double[][] {a, b};
    }
}
