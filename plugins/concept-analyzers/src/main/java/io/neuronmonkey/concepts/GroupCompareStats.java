package io.neuronmonkey.concepts;

import java.util.Arrays;
import java.util.Random;

/**
 * Per-neuron two-sample statistics of one layer's activations between groups of examples, all neurons at once:
 * Cohen's d and the rank-biserial correlation with percentile bootstrap intervals, and a permutation p-value for d.
 * <p>
 * With two groups there is one contrast, group 0 against group 1; with more, one contrast per group, the group
 * against all the others. Cohen's d is {@code (meanA - meanB) / pooled sd} (pooled with {@code n - 1} weights; 0 when
 * both groups are constant and equal, infinite when they are constant and differ). The rank-biserial correlation is
 * {@code 2 U_A / (nA nB) - 1}, where {@code U_A} counts the pairs whose A value is larger, ties counting one half;
 * it lies in [-1, 1] and has the sign of d for a shift.
 * <p>
 * The bootstrap resamples within every group (group sizes kept), drawing each replicate's indices once for all
 * neurons and contrasts. The permutation test shuffles the group labels, again once per permutation for all neurons
 * and contrasts, and counts permutations whose |d| is at least the observed one:
 * {@code p = (1 + count) / (1 + permutations)}, so the smallest p is {@code 1 / (permutations + 1)}. The same seed
 * gives the same replicates and permutations for every layer.
 */
final class GroupCompareStats {

    /** Relative slack when a permuted |d| is compared with the observed one, so that equal statistics count. */
    private static final double TIE = 1e-12;

    private final int contrasts;
    final double[][] d;
    final double[][] dLow;
    final double[][] dHigh;
    final double[][] rb;
    final double[][] rbLow;
    final double[][] rbHigh;
    final double[][] p;

    private GroupCompareStats(int contrasts, int neurons) {
        this.contrasts = contrasts;
        d = new double[contrasts][neurons];
        dLow = new double[contrasts][neurons];
        dHigh = new double[contrasts][neurons];
        rb = new double[contrasts][neurons];
        rbLow = new double[contrasts][neurons];
        rbHigh = new double[contrasts][neurons];
        p = new double[contrasts][neurons];
    }

    /** @return the number of contrasts: 1 for two groups, else one per group */
    int contrasts() {
        return contrasts;
    }

    /**
     * @param groups the number of groups, >= 2
     * @return the number of contrasts
     */
    static int contrasts(int groups) {
        return groups == 2 ? 1 : groups;
    }

    /**
     * Computes every statistic.
     *
     * @param x            row-major {@code [examples, neurons]} values
     * @param neurons      neurons per example
     * @param group        per example its group, {@code 0..groups-1}; every group has at least 2 examples
     * @param groups       the number of groups, >= 2
     * @param bootstrap    bootstrap replicates, >= 0 (0: intervals are the point estimates)
     * @param permutations label permutations, >= 0 (0: p = 1)
     * @param level        interval coverage, e.g. 0.95
     * @param seed         seed of the replicates and permutations
     * @return the statistics
     */
    static GroupCompareStats compute(float[] x, int neurons, int[] group, int groups, int bootstrap, int permutations,
                                     double level, long seed) {
        int n = group.length;
        int k = contrasts(groups);
        int[] size = new int[groups];
        for (int g : group) {
            size[g]++;
        }
        for (int g = 0; g < groups; g++) {
            if (size[g] < 2) {
                throw new IllegalArgumentException("group " + g + " has " + size[g] + " example(s); each needs at least 2");
            }
        }
        float[] c = centered(x, n, neurons);
        GroupCompareStats s = new GroupCompareStats(k, neurons);
        int[] ones = new int[n];
        Arrays.fill(ones, 1);
        double[][] sums = new double[groups][neurons];
        double[][] squares = new double[groups][neurons];
        moments(c, neurons, group, ones, sums, squares);
        for (int t = 0; t < k; t++) {
            cohen(sums, squares, size, t, groups, s.d[t]);
        }
        int[][] order = sortedOrders(c, n, neurons);
        boolean[][] inA = membership(group, groups);
        for (int t = 0; t < k; t++) {
            rankBiserial(c, neurons, order, inA[t], ones, s.rb[t]);
        }
        intervals(s, c, neurons, group, groups, size, order, inA, bootstrap, level, new Random(seed));
        pValues(s, c, neurons, group, groups, size, permutations, new Random(seed ^ 0x5DEECE66DL));
        return s;
    }

    /** @return per neuron the values minus the neuron's mean, so that sums of squares do not cancel */
    private static float[] centered(float[] x, int n, int neurons) {
        double[] mean = new double[neurons];
        for (int i = 0; i < n; i++) {
            int o = i * neurons;
            for (int j = 0; j < neurons; j++) {
                mean[j] += x[o + j];
            }
        }
        for (int j = 0; j < neurons; j++) {
            mean[j] /= n;
        }
        float[] c = new float[n * neurons];
        for (int i = 0; i < n; i++) {
            int o = i * neurons;
            for (int j = 0; j < neurons; j++) {
                c[o + j] = (float) (x[o + j] - mean[j]);
            }
        }
        return c;
    }

    /** Weighted per-group sums and sums of squares of every neuron (weights: multiplicities). */
    private static void moments(float[] c, int neurons, int[] group, int[] weight, double[][] sums, double[][] squares) {
        for (double[] a : sums) {
            Arrays.fill(a, 0);
        }
        for (double[] a : squares) {
            Arrays.fill(a, 0);
        }
        for (int i = 0; i < group.length; i++) {
            int w = weight[i];
            if (w == 0) {
                continue;
            }
            double[] s = sums[group[i]];
            double[] q = squares[group[i]];
            int o = i * neurons;
            for (int j = 0; j < neurons; j++) {
                double v = c[o + j];
                s[j] += w * v;
                q[j] += w * v * v;
            }
        }
    }

    /** Cohen's d of contrast {@code t} from per-group moments; writes one value per neuron into {@code out}. */
    private static void cohen(double[][] sums, double[][] squares, int[] size, int t, int groups, double[] out) {
        int neurons = out.length;
        for (int j = 0; j < neurons; j++) {
            double sa;
            double qa;
            double na;
            double sb = 0;
            double qb = 0;
            double nb = 0;
            if (groups == 2) {
                sa = sums[0][j];
                qa = squares[0][j];
                na = size[0];
                sb = sums[1][j];
                qb = squares[1][j];
                nb = size[1];
            } else {
                sa = sums[t][j];
                qa = squares[t][j];
                na = size[t];
                for (int g = 0; g < groups; g++) {
                    if (g != t) {
                        sb += sums[g][j];
                        qb += squares[g][j];
                        nb += size[g];
                    }
                }
            }
            out[j] = d(sa, qa, na, sb, qb, nb);
        }
    }

    /** Cohen's d from sums and sums of squares of two samples. */
    static double d(double sa, double qa, double na, double sb, double qb, double nb) {
        double ma = sa / na;
        double mb = sb / nb;
        double ssa = Math.max(0, qa - sa * ma);
        double ssb = Math.max(0, qb - sb * mb);
        double pooled = (ssa + ssb) / (na + nb - 2);
        double diff = ma - mb;
        if (!(pooled > 1e-30 * Math.max(1, diff * diff))) {
            return Math.abs(diff) < 1e-12 ? 0 : diff > 0 ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        }
        return diff / Math.sqrt(pooled);
    }

    /**
     * @return per neuron the example indices in ascending order of its value (one primitive sort per neuron of keys
     *         that hold the value's order-preserving bits above the index)
     */
    private static int[][] sortedOrders(float[] c, int n, int neurons) {
        int[][] order = new int[neurons][n];
        long[] keys = new long[n];
        for (int j = 0; j < neurons; j++) {
            for (int i = 0; i < n; i++) {
                int bits = Float.floatToIntBits(c[i * neurons + j]);
                bits ^= (bits >> 31) & 0x7fffffff;
                keys[i] = ((long) bits << 32) | i;
            }
            Arrays.sort(keys);
            for (int i = 0; i < n; i++) {
                order[j][i] = (int) keys[i];
            }
        }
        return order;
    }

    /** @return per contrast whether each example is on its A side */
    private static boolean[][] membership(int[] group, int groups) {
        int k = contrasts(groups);
        boolean[][] inA = new boolean[k][group.length];
        for (int t = 0; t < k; t++) {
            for (int i = 0; i < group.length; i++) {
                inA[t][i] = group[i] == t;
            }
        }
        return inA;
    }

    /**
     * Weighted rank-biserial correlation of every neuron: walks each neuron's sorted values once, block of ties by
     * block, counting the A weight above the B weight seen so far (ties count one half).
     */
    private static void rankBiserial(float[] c, int neurons, int[][] order, boolean[] inA, int[] weight, double[] out) {
        for (int j = 0; j < neurons; j++) {
            int[] o = order[j];
            double u = 0;
            double bBelow = 0;
            double totalA = 0;
            int i = 0;
            while (i < o.length) {
                float v = c[o[i] * neurons + j];
                double wa = 0;
                double wb = 0;
                while (i < o.length && c[o[i] * neurons + j] == v) {
                    int e = o[i];
                    if (inA[e]) {
                        wa += weight[e];
                    } else {
                        wb += weight[e];
                    }
                    i++;
                }
                u += wa * bBelow + 0.5 * wa * wb;
                bBelow += wb;
                totalA += wa;
            }
            out[j] = 2 * u / (totalA * bBelow) - 1;
        }
    }

    /** Percentile bootstrap intervals of d and the rank-biserial correlation, resampling within groups. */
    private static void intervals(GroupCompareStats s, float[] c, int neurons, int[] group, int groups, int[] size,
                                  int[][] order, boolean[][] inA, int bootstrap, double level, Random random) {
        int k = s.contrasts;
        if (bootstrap == 0) {
            for (int t = 0; t < k; t++) {
                s.dLow[t] = s.d[t].clone();
                s.dHigh[t] = s.d[t].clone();
                s.rbLow[t] = s.rb[t].clone();
                s.rbHigh[t] = s.rb[t].clone();
            }
            return;
        }
        int[][] members = new int[groups][];
        int[] fill = new int[groups];
        for (int g = 0; g < groups; g++) {
            members[g] = new int[size[g]];
        }
        for (int i = 0; i < group.length; i++) {
            members[group[i]][fill[group[i]]++] = i;
        }
        float[][][] dRep = new float[k][neurons][bootstrap];
        float[][][] rbRep = new float[k][neurons][bootstrap];
        int[] weight = new int[group.length];
        double[][] sums = new double[groups][neurons];
        double[][] squares = new double[groups][neurons];
        double[] dOut = new double[neurons];
        double[] rbOut = new double[neurons];
        for (int b = 0; b < bootstrap; b++) {
            Arrays.fill(weight, 0);
            for (int g = 0; g < groups; g++) {
                int[] m = members[g];
                for (int r = 0; r < m.length; r++) {
                    weight[m[random.nextInt(m.length)]]++;
                }
            }
            moments(c, neurons, group, weight, sums, squares);
            for (int t = 0; t < k; t++) {
                cohen(sums, squares, size, t, groups, dOut);
                rankBiserial(c, neurons, order, inA[t], weight, rbOut);
                for (int j = 0; j < neurons; j++) {
                    dRep[t][j][b] = (float) dOut[j];
                    rbRep[t][j][b] = (float) rbOut[j];
                }
            }
        }
        double lo = (1 - level) / 2;
        double hi = 1 - lo;
        for (int t = 0; t < k; t++) {
            for (int j = 0; j < neurons; j++) {
                Arrays.sort(dRep[t][j]);
                Arrays.sort(rbRep[t][j]);
                s.dLow[t][j] = quantile(dRep[t][j], lo);
                s.dHigh[t][j] = quantile(dRep[t][j], hi);
                s.rbLow[t][j] = quantile(rbRep[t][j], lo);
                s.rbHigh[t][j] = quantile(rbRep[t][j], hi);
            }
        }
    }

    /**
     * @param sorted ascending values
     * @param q      a probability
     * @return the linearly interpolated quantile (positions {@code q (n - 1)}); between an infinite and another
     *         value, the nearer of the two
     */
    static double quantile(float[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int i = (int) Math.floor(pos);
        int j = Math.min(i + 1, sorted.length - 1);
        double f = pos - i;
        double a = sorted[i];
        double b = sorted[j];
        if (a == b || f == 0) {
            return a;
        }
        if (Double.isInfinite(a) || Double.isInfinite(b)) {
            return f < 0.5 ? a : b;
        }
        return a + f * (b - a);
    }

    /** Permutation p-values of |d|: shuffles the group labels, all neurons and contrasts per permutation. */
    private static void pValues(GroupCompareStats s, float[] c, int neurons, int[] group, int groups, int[] size,
                                int permutations, Random random) {
        int k = s.contrasts;
        long[][] count = new long[k][neurons];
        int[] shuffled = group.clone();
        int[] ones = new int[group.length];
        Arrays.fill(ones, 1);
        double[][] sums = new double[groups][neurons];
        double[][] squares = new double[groups][neurons];
        double[] out = new double[neurons];
        for (int b = 0; b < permutations; b++) {
            for (int i = shuffled.length - 1; i > 0; i--) {
                int r = random.nextInt(i + 1);
                int tmp = shuffled[i];
                shuffled[i] = shuffled[r];
                shuffled[r] = tmp;
            }
            moments(c, neurons, shuffled, ones, sums, squares);
            for (int t = 0; t < k; t++) {
                cohen(sums, squares, size, t, groups, out);
                for (int j = 0; j < neurons; j++) {
                    double obs = Math.abs(s.d[t][j]);
                    if (Math.abs(out[j]) >= obs * (1 - TIE)) {
                        count[t][j]++;
                    }
                }
            }
        }
        for (int t = 0; t < k; t++) {
            for (int j = 0; j < neurons; j++) {
                s.p[t][j] = (1.0 + count[t][j]) / (1.0 + permutations);
            }
        }
    }
}
