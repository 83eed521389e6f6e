package io.neuronmonkey.concepts;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Benjamini-Hochberg false-discovery control: q-values for a family of p-values. Rejecting every hypothesis with
 * {@code q <= alpha} keeps the expected share of false discoveries at or below {@code alpha} for independent or
 * positively dependent tests.
 */
final class Fdr {

    private Fdr() {
    }

    /**
     * Benjamini-Hochberg adjusted p-values: {@code q(i) = min over j >= i of p(j) m / j} in ascending order of p,
     * capped at 1.
     *
     * @param p p-values in [0, 1], any order
     * @return one q-value per p-value, same order
     * @throws IllegalArgumentException when a p-value is NaN or outside [0, 1]
     */
    static double[] qValues(double[] p) {
        int m = p.length;
        for (double v : p) {
            if (!(v >= 0 && v <= 1)) {
                throw new IllegalArgumentException("p-values must lie in [0, 1], found " + v);
            }
        }
        Integer[] order = IntStream.range(0, m).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparingDouble(i -> p[i]));
        double[] q = new double[m];
        double running = 1;
        for (int k = m - 1; k >= 0; k--) {
            int i = order[k];
            running = Math.min(running, p[i] * m / (k + 1));
            q[i] = running;
        }
        return q;
    }

    /**
     * @param q     q-values
     * @param alpha the false-discovery rate
     * @return how many are at or below {@code alpha}
     */
    static int discoveries(double[] q, double alpha) {
        int n = 0;
        for (double v : q) {
            if (v <= alpha) {
                n++;
            }
        }
        return n;
    }
}
