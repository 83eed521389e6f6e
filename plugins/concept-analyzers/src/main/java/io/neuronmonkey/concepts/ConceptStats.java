package io.neuronmonkey.concepts;

import org.apache.commons.math3.stat.descriptive.moment.Mean;
import org.apache.commons.math3.stat.descriptive.moment.Variance;
import org.apache.commons.math3.stat.inference.TTest;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The test of one concept against its random counterparts: two samples of TCAV scores (concept-vs-random CAVs and
 * random-vs-random CAVs), compared by a two-sided Welch t test and a two-sided permutation test of the difference of
 * means, with the difference's percentile bootstrap interval and Cohen's d; and Benjamini-Hochberg q-values over a
 * family of tests.
 */
final class ConceptStats {

    private ConceptStats() {
    }

    /**
     * One comparison.
     *
     * @param concept     mean of the concept sample
     * @param random      mean of the random sample
     * @param difference  {@code concept - random}
     * @param low         lower bound of the 95% percentile bootstrap interval of the difference
     * @param high        upper bound of it
     * @param cohensD     the difference over the pooled standard deviation (0 when both samples are constant and equal;
     *                    infinite when they are constant and differ)
     * @param welchP      two-sided Welch t-test p-value, NaN when both samples have no variance
     * @param permutationP two-sided permutation p-value {@code (1 + #{|d*| >= |d|}) / (1 + permutations)}
     */
    record Comparison(double concept, double random, double difference, double low, double high, double cohensD,
                      double welchP, double permutationP) {
    }

    /**
     * @param a            the concept sample, at least 2 values
     * @param b            the random sample, at least 2 values
     * @param permutations relabellings of the pooled values, >= 1
     * @param bootstrap    bootstrap resamples, >= 1
     * @param seed         seed of both resampling streams
     * @return the comparison
     */
    static Comparison compare(double[] a, double[] b, int permutations, int bootstrap, long seed) {
        double ma = new Mean().evaluate(a);
        double mb = new Mean().evaluate(b);
        double va = new Variance().evaluate(a);
        double vb = new Variance().evaluate(b);
        double diff = ma - mb;
        double welch = va == 0 && vb == 0 ? Double.NaN : new TTest().tTest(a, b);
        double pooled = Math.sqrt(((a.length - 1) * va + (b.length - 1) * vb) / (a.length + b.length - 2));
        double d = pooled > 0 ? diff / pooled : diff == 0 ? 0 : Math.copySign(Double.POSITIVE_INFINITY, diff);
        double perm = permutationP(a, b, permutations, new SplittableRandom(seed));
        double[] iv = bootstrap(a, b, bootstrap, new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L));
        return new Comparison(ma, mb, diff, iv[0], iv[1], d, welch, perm);
    }

    /**
     * Two-sided permutation test of the difference of means: the pooled values are shuffled and split into groups of
     * the original sizes.
     *
     * @param a            one sample
     * @param b            the other
     * @param permutations shuffles
     * @param rnd          the random stream
     * @return {@code (1 + #{|d*| >= |d|}) / (1 + permutations)}, with a relative tolerance of 1e-12 on ties
     */
    static double permutationP(double[] a, double[] b, int permutations, SplittableRandom rnd) {
        int n = a.length + b.length;
        double[] pool = new double[n];
        System.arraycopy(a, 0, pool, 0, a.length);
        System.arraycopy(b, 0, pool, a.length, b.length);
        double total = 0;
        for (double v : pool) {
            total += v;
        }
        double observed = Math.abs(meanDiff(sum(a), total, a.length, b.length));
        double tolerance = 1e-12 * Math.max(1, observed);
        long atLeast = 0;
        for (int k = 0; k < permutations; k++) {
            // partial Fisher-Yates: the first a.length slots become a random subset of the pool
            double sa = 0;
            for (int i = 0; i < a.length; i++) {
                int j = i + rnd.nextInt(n - i);
                double t = pool[i];
                pool[i] = pool[j];
                pool[j] = t;
                sa += pool[i];
            }
            if (Math.abs(meanDiff(sa, total, a.length, b.length)) >= observed - tolerance) {
                atLeast++;
            }
        }
        return (1.0 + atLeast) / (1.0 + permutations);
    }

    private static double meanDiff(double sumA, double total, int na, int nb) {
        return sumA / na - (total - sumA) / nb;
    }

    private static double sum(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }

    /** @return the 2.5% and 97.5% percentiles of the difference of means over resamples of each sample */
    private static double[] bootstrap(double[] a, double[] b, int resamples, SplittableRandom rnd) {
        double[] diffs = new double[resamples];
        for (int k = 0; k < resamples; k++) {
            double sa = 0;
            for (int i = 0; i < a.length; i++) {
                sa += a[rnd.nextInt(a.length)];
            }
            double sb = 0;
            for (int i = 0; i < b.length; i++) {
                sb += b[rnd.nextInt(b.length)];
            }
            diffs[k] = sa / a.length - sb / b.length;
        }
        Arrays.sort(diffs);
        return new double[]{percentile(diffs, 0.025), percentile(diffs, 0.975)};
    }

    /** @return the linearly interpolated percentile of sorted values */
    static double percentile(double[] sorted, double p) {
        double at = p * (sorted.length - 1);
        int lo = (int) Math.floor(at);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (at - lo) * (sorted[hi] - sorted[lo]);
    }
}
