package io.neuronmonkey.visualizers;

import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The numbers a heatmap shows: per class (row) and chosen neuron (column), the mean activation, optionally scaled.
 *
 * @param neurons      the neuron index of each column, ascending
 * @param values       {@code values[class][column]}
 * @param totalNeurons neurons in the layer (more than {@code neurons.length} when only the top ones are shown)
 */
record HeatmapMatrix(int[] neurons, double[][] values, int totalNeurons) {

    /** @return true when only the highest-variance neurons are shown */
    boolean truncated() {
        return neurons.length < totalNeurons;
    }

    /** @return the smallest finite value, or NaN when there is none */
    double min() {
        return Arrays.stream(values).flatMapToDouble(Arrays::stream).filter(Double::isFinite).min().orElse(Double.NaN);
    }

    /** @return the largest finite value, or NaN when there is none */
    double max() {
        return Arrays.stream(values).flatMapToDouble(Arrays::stream).filter(Double::isFinite).max().orElse(Double.NaN);
    }

    /**
     * @param classMean  row-major {@code [classes, neurons]} mean activations
     * @param classes    number of classes
     * @param neurons    number of neurons
     * @param normalize  {@link HeatmapVisualizer.Normalize#NEURON} scales each column to [0, 1] (a column that does
     *                   not vary becomes 0)
     * @param maxNeurons at most this many columns: the neurons with the highest variance across classes (ties go to
     *                   the lower index), shown in index order
     * @return the matrix
     */
    static HeatmapMatrix build(float[] classMean, int classes, int neurons, HeatmapVisualizer.Normalize normalize,
                               int maxNeurons) {
        if (classMean.length != (long) classes * neurons) {
            throw new IllegalArgumentException("class means hold " + classMean.length + " values, expected "
                    + classes + " classes x " + neurons + " neurons");
        }
        int[] chosen = IntStream.range(0, neurons).toArray();
        if (neurons > maxNeurons) {
            double[] variance = new double[neurons];
            for (int n = 0; n < neurons; n++) {
                double mean = 0;
                for (int c = 0; c < classes; c++) {
                    mean += classMean[c * neurons + n];
                }
                mean /= classes;
                double ss = 0;
                for (int c = 0; c < classes; c++) {
                    double d = classMean[c * neurons + n] - mean;
                    ss += d * d;
                }
                variance[n] = Double.isNaN(ss) ? Double.NEGATIVE_INFINITY : ss / classes;
            }
            chosen = IntStream.range(0, neurons).boxed()
                    .sorted(Comparator.comparingDouble((Integer n) -> -variance[n]).thenComparingInt(n -> n))
                    .limit(maxNeurons).mapToInt(Integer::intValue).sorted().toArray();
        }
        double[][] values = new double[classes][chosen.length];
        for (int j = 0; j < chosen.length; j++) {
            int n = chosen[j];
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                double v = classMean[c * neurons + n];
                values[c][j] = v;
                if (Double.isFinite(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            if (normalize == HeatmapVisualizer.Normalize.NEURON) {
                for (int c = 0; c < classes; c++) {
                    double v = values[c][j];
                    values[c][j] = !Double.isFinite(v) ? Double.NaN : hi > lo ? (v - lo) / (hi - lo) : 0;
                }
            }
        }
        return new HeatmapMatrix(chosen, values, neurons);
    }
}
