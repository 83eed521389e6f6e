package io.neuronmonkey.stats;

import java.util.Arrays;

/**
 * Running statistics of one layer's neurons over the examples seen so far: moments (merged batch by batch with
 * Chan's formula, exact two-pass within a batch), extremes, firing and saturation counts, per-class sums and a
 * {@link DoublingHistogram} per neuron. Memory depends on the neuron count only.
 */
final class LayerStats {

    final int neurons;
    final int positions;
    final int classes;
    long count;
    long nonFinite;
    long rawValues;
    long rawAtOrBelow;
    final double[] mean;
    final double[] m2;
    final double[] min;
    final double[] max;
    final long[] seen;
    final long[] fired;
    final long[] saturated;
    final double[][] classSum;
    final long[] classCount;
    final DoublingHistogram[] hist;

    // scratch, reused across batches
    private float[] reduced = new float[0];
    private final double[] batchMean;
    private final double[] sumScratch;

    LayerStats(int neurons, int positions, int classes, int bins) {
        this.neurons = neurons;
        this.positions = positions;
        this.classes = classes;
        mean = new double[neurons];
        m2 = new double[neurons];
        min = new double[neurons];
        max = new double[neurons];
        Arrays.fill(min, Double.POSITIVE_INFINITY);
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        seen = new long[neurons];
        fired = new long[neurons];
        saturated = new long[neurons];
        classSum = new double[classes][neurons];
        classCount = new long[classes];
        hist = new DoublingHistogram[neurons];
        for (int i = 0; i < neurons; i++) {
            hist[i] = new DoublingHistogram(bins);
        }
        batchMean = new double[neurons];
        sumScratch = new double[neurons];
    }

    /**
     * @param act       activations, row-major {@code [n, positions, neurons]} (channels last)
     * @param n         examples in the batch
     * @param labels    class per example, or null
     * @param reduceMax true to reduce positions by max, false by mean
     */
    void accept(float[] act, int n, int[] labels, boolean reduceMax, double threshold, double satLow, double satHigh) {
        int rowSize = positions * neurons;
        if (reduced.length < n * neurons) {
            reduced = new float[n * neurons];
        }
        long atOrBelow = 0;
        for (int e = 0; e < n; e++) {
            int base = e * rowSize;
            int rbase = e * neurons;
            if (positions == 1) {
                for (int c = 0; c < neurons; c++) {
                    float v = act[base + c];
                    reduced[rbase + c] = v;
                    if (v <= threshold) {
                        atOrBelow++;
                    }
                }
                continue;
            }
            for (int c = 0; c < neurons; c++) {
                reduced[rbase + c] = reduceMax ? Float.NEGATIVE_INFINITY : 0f;
            }
            double[] acc = sumScratch;
            if (!reduceMax) {
                Arrays.fill(acc, 0);
            }
            for (int p = 0; p < positions; p++) {
                int off = base + p * neurons;
                for (int c = 0; c < neurons; c++) {
                    float v = act[off + c];
                    if (v <= threshold) {
                        atOrBelow++;
                    }
                    if (reduceMax) {
                        if (v > reduced[rbase + c] || Float.isNaN(v)) {
                            reduced[rbase + c] = v;
                        }
                    } else {
                        acc[c] += v;
                    }
                }
            }
            if (!reduceMax) {
                for (int c = 0; c < neurons; c++) {
                    reduced[rbase + c] = (float) (acc[c] / positions);
                }
            }
        }
        rawValues += (long) n * rowSize;
        rawAtOrBelow += atOrBelow;
        update(reduced, n, labels, threshold, satLow, satHigh);
    }

    private void update(float[] r, int n, int[] labels, double threshold, double satLow, double satHigh) {
        // exact batch moments (two-pass), then Chan et al.'s merge into the running moments
        Arrays.fill(batchMean, 0);
        int[] valid = new int[neurons];
        for (int e = 0; e < n; e++) {
            int b = e * neurons;
            for (int c = 0; c < neurons; c++) {
                float v = r[b + c];
                if (Float.isFinite(v)) {
                    batchMean[c] += v;
                    valid[c]++;
                }
            }
        }
        for (int c = 0; c < neurons; c++) {
            batchMean[c] = valid[c] == 0 ? 0 : batchMean[c] / valid[c];
        }
        double[] batchM2 = new double[neurons];
        for (int e = 0; e < n; e++) {
            int b = e * neurons;
            int label = labels == null ? -1 : labels[e];
            boolean labelled = label >= 0 && label < classes;
            if (labelled) {
                classCount[label]++;
            }
            for (int c = 0; c < neurons; c++) {
                float v = r[b + c];
                if (!Float.isFinite(v)) {
                    nonFinite++;
                    continue;
                }
                double d = v - batchMean[c];
                batchM2[c] += d * d;
                if (v < min[c]) {
                    min[c] = v;
                }
                if (v > max[c]) {
                    max[c] = v;
                }
                if (v > threshold) {
                    fired[c]++;
                }
                if (v <= satLow || v >= satHigh) {
                    saturated[c]++;
                }
                if (labelled) {
                    classSum[label][c] += v;
                }
                hist[c].add(v);
            }
        }
        for (int c = 0; c < neurons; c++) {
            combine(c, valid[c], batchMean[c], batchM2[c]);
        }
        count += n;
    }

    private void combine(int c, long nb, double meanB, double m2B) {
        long na = seen[c];
        if (nb == 0) {
            return;
        }
        seen[c] = na + nb;
        if (na == 0) {
            mean[c] = meanB;
            m2[c] = m2B;
            return;
        }
        double delta = meanB - mean[c];
        long nab = na + nb;
        mean[c] += delta * nb / nab;
        m2[c] += m2B + delta * delta * ((double) na * nb / nab);
    }

    void merge(LayerStats o) {
        for (int c = 0; c < neurons; c++) {
            combine(c, o.seen[c], o.mean[c], o.m2[c]);
            min[c] = Math.min(min[c], o.min[c]);
            max[c] = Math.max(max[c], o.max[c]);
            fired[c] += o.fired[c];
            saturated[c] += o.saturated[c];
            hist[c].merge(o.hist[c]);
        }
        for (int k = 0; k < classes; k++) {
            classCount[k] += o.classCount[k];
            for (int c = 0; c < neurons; c++) {
                classSum[k][c] += o.classSum[k][c];
            }
        }
        count += o.count;
        nonFinite += o.nonFinite;
        rawValues += o.rawValues;
        rawAtOrBelow += o.rawAtOrBelow;
    }
}
