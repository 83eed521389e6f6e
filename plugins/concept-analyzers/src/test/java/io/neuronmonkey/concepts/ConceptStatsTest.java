package io.neuronmonkey.concepts;

import org.junit.jupiter.api.Test;

import java.util.Random;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConceptStatsTest {

    /** BH against its definition: q_i = min over p_j >= p_i of p_j m / #{l : p_l <= p_j}, capped at 1. */
    @Test
    void benjaminiHochbergMatchesItsDefinition() {
        Random rnd = new Random(3);
        for (int trial = 0; trial < 50; trial++) {
            int m = 1 + rnd.nextInt(30);
            double[] p = new double[m];
            for (int i = 0; i < m; i++) {
                p[i] = rnd.nextInt(4) == 0 ? 0.01 * rnd.nextInt(3) : rnd.nextDouble();
            }
            double[] q = Fdr.qValues(p);
            for (int i = 0; i < m; i++) {
                double naive = 1;
                for (int j = 0; j < m; j++) {
                    if (p[j] >= p[i]) {
                        int rank = 0;
                        for (double v : p) {
                            rank += v <= p[j] ? 1 : 0;
                        }
                        naive = Math.min(naive, p[j] * m / rank);
                    }
                }
                assertEquals(naive, q[i], 1e-12);
            }
        }
    }

    /** The Monte Carlo permutation p against the exact one, enumerating every split of 5 + 5 values. */
    @Test
    void permutationPApproachesTheExactSplitEnumeration() {
        double[] a = {0.9, 0.8, 0.75, 0.6, 0.95};
        double[] b = {0.5, 0.7, 0.4, 0.65, 0.55};
        double[] all = {0.9, 0.8, 0.75, 0.6, 0.95, 0.5, 0.7, 0.4, 0.65, 0.55};
        double observed = Math.abs(mean(a) - mean(b));
        int atLeast = 0;
        int splits = 0;
        for (int mask = 0; mask < 1 << 10; mask++) {
            if (Integer.bitCount(mask) != 5) {
                continue;
            }
            double sa = 0;
            double sb = 0;
            for (int i = 0; i < 10; i++) {
                if ((mask & 1 << i) != 0) {
                    sa += all[i];
                } else {
                    sb += all[i];
                }
            }
            splits++;
            atLeast += Math.abs(sa / 5 - sb / 5) >= observed - 1e-12 ? 1 : 0;
        }
        double exact = (double) atLeast / splits;
        double mc = ConceptStats.permutationP(a, b, 200_000, new SplittableRandom(1));
        assertEquals(exact, mc, 0.004, "exact " + exact);
    }

    @Test
    void comparisonHasClosedFormEffectSizesAndABootstrapIntervalAroundTheDifference() {
        double[] a = {1, 2, 3, 4};
        double[] b = {0, 0, 1, 3};
        ConceptStats.Comparison c = ConceptStats.compare(a, b, 1000, 4000, 5);
        assertEquals(2.5, c.concept(), 1e-12);
        assertEquals(1.0, c.random(), 1e-12);
        assertEquals(1.5, c.difference(), 1e-12);
        // pooled sd: variances 5/3 and 2, equal sizes
        assertEquals(1.5 / Math.sqrt((5.0 / 3 + 2) / 2), c.cohensD(), 1e-12);
        assertTrue(c.low() < 1.5 && c.high() > 1.5 && c.low() >= -1.0 && c.high() <= 4, c.toString());
        // Welch t = 1.5 / sqrt(5/12 + 2/4) with Welch-Satterthwaite df, computed by hand: t 1.5667, df 5.93
        double se2 = 5.0 / 12 + 0.5;
        double df = se2 * se2 / ((5.0 / 12) * (5.0 / 12) / 3 + 0.5 * 0.5 / 3);
        double p = 2 * (1 - new org.apache.commons.math3.distribution.TDistribution(df).cumulativeProbability(1.5 / Math.sqrt(se2)));
        assertEquals(p, c.welchP(), 1e-9);

        ConceptStats.Comparison constant = ConceptStats.compare(new double[]{1, 1, 1}, new double[]{0, 0, 0}, 1000, 1000, 5);
        assertEquals(1, constant.low(), 0);
        assertEquals(1, constant.high(), 0);
        assertTrue(Double.isNaN(constant.welchP()));
        assertEquals(Double.POSITIVE_INFINITY, constant.cohensD());
        // 3 + 3 values: one split in C(6,3)/2 = 10 is as extreme either way, so p is near 0.1
        assertEquals(0.1, constant.permutationP(), 0.03);
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }
}
