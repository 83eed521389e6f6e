package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.result.Interval;
import org.apache.commons.math3.distribution.TDistribution;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Helpers of the intervention analyzers (ablation, steering, activation patching) and neuron conductance: the rows
 * of one block of a batch replicated so that one model run evaluates several variants ({@code Intervention.forRows};
 * the replication itself is {@link TextAttribution#repeat}), arg-max and softmax over rows of logits, 95% t intervals and part ids made of layer names.
 */
final class RowBlocks {

    private RowBlocks() {
    }

    /**
     * @param block a block index
     * @param n     rows per block
     * @return the rows of that block
     */
    static int[] rows(int block, int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = block * n + i;
        }
        return r;
    }

    /**
     * @param logits {@code [rows * classes]}
     * @param row    a row
     * @param classes classes per row
     * @return the arg-max class of the row (the first of equal maxima)
     */
    static int argmax(float[] logits, int row, int classes) {
        int best = 0;
        int o = row * classes;
        for (int c = 1; c < classes; c++) {
            if (logits[o + c] > logits[o + best]) {
                best = c;
            }
        }
        return best;
    }

    /**
     * @param logits  {@code [rows * classes]}
     * @param row     a row
     * @param classes classes per row
     * @param out     receives the row's softmax probabilities ({@code classes} values)
     */
    static void softmax(float[] logits, int row, int classes, double[] out) {
        int o = row * classes;
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            max = Math.max(max, logits[o + c]);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            out[c] = Math.exp(logits[o + c] - max);
            sum += out[c];
        }
        for (int c = 0; c < classes; c++) {
            out[c] /= sum;
        }
    }

    /**
     * @param sum   sum of the values
     * @param sumSq sum of their squares
     * @param n     how many
     * @return the 95% t interval of the mean (infinite for fewer than two values; the mean itself when all are equal)
     */
    static Interval tInterval(double sum, double sumSq, long n) {
        double mean = n == 0 ? 0 : sum / n;
        if (n < 2) {
            return new Interval(Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY, 0.95, "t, 95%");
        }
        double var = Math.max(0, (sumSq - n * mean * mean) / (n - 1));
        double half = new TDistribution(null, n - 1).inverseCumulativeProbability(0.975) * Math.sqrt(var / n);
        return new Interval(mean - half, mean + half, 0.95, "Student t, 95%");
    }

    /**
     * @param where a metadata filter as bound from YAML (values may be numbers or booleans)
     * @return the same filter with string values, in order; empty for null
     */
    static Map<String, String> strings(Map<String, ?> where) {
        Map<String, String> out = new LinkedHashMap<>();
        if (where != null) {
            where.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        }
        return out;
    }

    /**
     * @param where a metadata filter
     * @return e.g. {@code watermark=on, class=!square}, or {@code all examples}
     */
    static String describe(Map<String, String> where) {
        if (where.isEmpty()) {
            return "all examples";
        }
        StringBuilder sb = new StringBuilder();
        where.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append('=').append(v));
        return sb.toString();
    }

    /**
     * @param examples a selection
     * @return its description for use inside parentheses, e.g. {@code watermark=on, class=square, at most 512}
     */
    static String selection(ExampleFilter examples) {
        String s = examples.describe();
        int at = s.indexOf(" (at most ");
        return at >= 0 && s.endsWith(")") ? s.substring(0, at) + ", at most " + s.substring(at + 10, s.length() - 1) : s;
    }

    /**
     * @param name a layer name
     * @return the name made fit for a part id ({@code [A-Za-z0-9_-]}, other characters as '_')
     */
    static String idOf(String name) {
        String s = name.replaceAll("[^A-Za-z0-9_-]", "_");
        return s.length() > 80 ? s.substring(0, 80) : s;
    }

    /**
     * @param v a number
     * @return it with 3 significant decimals, for claims
     */
    static String fmt(double v) {
        return String.format(java.util.Locale.ROOT, Math.abs(v) >= 100 ? "%.1f" : "%.3g", v);
    }
}
