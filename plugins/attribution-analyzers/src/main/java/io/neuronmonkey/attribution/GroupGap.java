package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.tensor.Tensor;
import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.random.MersenneTwister;
import org.apache.commons.math3.random.RandomGenerator;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Does an ablation shrink the gap between groups? For the values of one metadata key, the share of examples
 * predicted as a class before and after the ablation, and for each pair of values (ordered by their share before,
 * highest first) the gap {@code share(first) - share(second)} before, after, and its change, with stratified
 * bootstrap 95% intervals: each group's examples are resampled with replacement (group sizes kept), which only needs
 * per group the counts of the four (before, after) prediction outcomes, so memory does not grow with the examples.
 * Writes the matrix {@code ablation-gap-<key>} and one finding per pair.
 */
final class GroupGap {

    /** Bootstrap resamples. */
    static final int RESAMPLES = 2000;

    /**
     * One group's predictions, with and without the ablation.
     *
     * @param n      examples
     * @param before predicted as the class without ablation
     * @param after  predicted as the class with the ablation
     * @param both   predicted as the class both times
     */
    record Counts(long n, long before, long after, long both) {

        double shareBefore() {
            return (double) before / n;
        }

        double shareAfter() {
            return (double) after / n;
        }
    }

    private GroupGap() {
    }

    /**
     * @param r        the result
     * @param key      the metadata key
     * @param values   its values
     * @param counts   per value its counts under the ablation
     * @param random   per value the share after each random set of the same size (may be empty arrays)
     * @param share    what is shared, e.g. {@code share predicted 'toxic'}
     * @param ablation what was ablated, for the claim
     * @param seed     the run's seed
     */
    static void report(AnalysisResult.Builder r, String key, List<String> values, Counts[] counts, double[][] random,
                       String share, String ablation, long seed) {
        Integer[] order = new Integer[values.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -counts[i].shareBefore()).thenComparing(i -> values.get(i)));
        List<int[]> pairs = new ArrayList<>();
        for (int i = 0; i < order.length; i++) {
            for (int j = i + 1; j < order.length; j++) {
                pairs.add(new int[] {order[i], order[j]});
            }
        }
        if (pairs.isEmpty()) {
            return;
        }
        double[][] boot = bootstrap(counts, seed);
        List<String> cols = List.of("share first", "share second", "gap", "gap low", "gap high", "share first ablated",
                "share second ablated", "gap ablated", "gap ablated low", "gap ablated high", "change", "change low",
                "change high", "gap random");
        float[] v = new float[pairs.size() * cols.size()];
        List<String> labels = new ArrayList<>();
        String id = "ablation-gap-" + RowBlocks.idOf(key);
        for (int k = 0; k < pairs.size(); k++) {
            int a = pairs.get(k)[0];
            int b = pairs.get(k)[1];
            String label = values.get(a) + " - " + values.get(b);
            labels.add(label);
            double gap = counts[a].shareBefore() - counts[b].shareBefore();
            double after = counts[a].shareAfter() - counts[b].shareAfter();
            Interval gapCi = percentile(boot, a, b, 0);
            Interval afterCi = percentile(boot, a, b, 1);
            Interval changeCi = percentile(boot, a, b, 2);
            double randomGap = randomGap(random[a], random[b]);
            double[] row = {counts[a].shareBefore(), counts[b].shareBefore(), gap, gapCi.low(), gapCi.high(),
                    counts[a].shareAfter(), counts[b].shareAfter(), after, afterCi.low(), afterCi.high(), after - gap,
                    changeCi.low(), changeCi.high(), randomGap};
            for (int c = 0; c < row.length; c++) {
                v[k * cols.size() + c] = (float) row[c];
            }
            boolean clear = changeCi.low() > 0 || changeCi.high() < 0;
            String verb = Math.abs(after) < Math.abs(gap) ? "shrinks" : Math.abs(after) > Math.abs(gap) ? "grows" : "keeps";
            String claim = "ablating " + ablation + " " + verb + " the gap in " + share + " between " + key + "="
                    + values.get(a) + " and " + key + "=" + values.get(b) + " from " + RowBlocks.fmt(gap) + " "
                    + range(gapCi) + " to " + RowBlocks.fmt(after) + " " + range(afterCi) + " (change "
                    + RowBlocks.fmt(after - gap) + " " + range(changeCi) + ", stratified bootstrap 95%, "
                    + counts[a].n() + " and " + counts[b].n() + " examples)"
                    + (Double.isNaN(randomGap) ? "" : "; random sets of the same size leave it at " + RowBlocks.fmt(randomGap));
            r.finding(new Finding(id + "-" + (k + 1), clear ? Finding.Severity.NOTABLE : Finding.Severity.INFO, claim,
                    new Finding.Strength("change of the gap in " + share, after - gap, changeCi, null), List.of(), List.of(id)));
        }
        r.part(new Matrix(id, "gap in " + share + " between values of " + key + ", before and after ablation",
                Matrix.Axis.of("pair", labels), Matrix.Axis.of("measure", cols),
                NdArray.of(Tensor.ofFloats(v, pairs.size(), cols.size()), "pair", "measure"), "share", null,
                "per pair of " + key + " values (first: the higher share before ablation): the " + share + " of each"
                        + " without and with " + ablation + ", the gap first minus second and its change, each with a"
                        + " stratified bootstrap 95% interval (" + RESAMPLES + " resamples of every group's examples);"
                        + " gap random: the mean gap over random sets of the same size (NaN without any)"));
    }

    private static String range(Interval ci) {
        return "[" + RowBlocks.fmt(ci.low()) + ", " + RowBlocks.fmt(ci.high()) + "]";
    }

    private static double randomGap(double[] a, double[] b) {
        if (a.length == 0 || a.length != b.length) {
            return Double.NaN;
        }
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] - b[i];
        }
        return s / a.length;
    }

    /** @return per resample and group {@code [before share, after share]}, flattened {@code [resample][group * 2 + k]} */
    private static double[][] bootstrap(Counts[] counts, long seed) {
        RandomGenerator rng = new MersenneTwister(seed);
        double[][] out = new double[RESAMPLES][counts.length * 2];
        for (int s = 0; s < RESAMPLES; s++) {
            for (int g = 0; g < counts.length; g++) {
                Counts c = counts[g];
                long[] cells = {c.both(), c.before() - c.both(), c.after() - c.both(), c.n() - c.before() - c.after() + c.both()};
                long[] drawn = multinomial(rng, c.n(), cells);
                out[s][g * 2] = (double) (drawn[0] + drawn[1]) / c.n();
                out[s][g * 2 + 1] = (double) (drawn[0] + drawn[2]) / c.n();
            }
        }
        return out;
    }

    /** A multinomial draw of n items over cells with the given counts, by successive binomials. */
    private static long[] multinomial(RandomGenerator rng, long n, long[] cells) {
        long[] out = new long[cells.length];
        long left = n;
        long mass = n;
        for (int i = 0; i < cells.length - 1 && left > 0; i++) {
            if (cells[i] == 0) {
                mass -= cells[i];
                continue;
            }
            double p = Math.min(1, (double) cells[i] / mass);
            out[i] = p >= 1 ? left : new BinomialDistribution(rng, (int) left, p).sample();
            left -= out[i];
            mass -= cells[i];
        }
        out[cells.length - 1] += left;
        return out;
    }

    /** @return the 95% percentile interval of the gap ({@code what} 0: before, 1: after, 2: change) between groups */
    private static Interval percentile(double[][] boot, int a, int b, int what) {
        double[] v = new double[boot.length];
        for (int s = 0; s < boot.length; s++) {
            double before = boot[s][a * 2] - boot[s][b * 2];
            double after = boot[s][a * 2 + 1] - boot[s][b * 2 + 1];
            v[s] = what == 0 ? before : what == 1 ? after : after - before;
        }
        Arrays.sort(v);
        return new Interval(v[(int) Math.floor(0.025 * (v.length - 1))], v[(int) Math.ceil(0.975 * (v.length - 1))], 0.95,
                "stratified bootstrap, " + RESAMPLES + " resamples");
    }
}
