package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.Tensor;

/**
 * Turns one batch of a layer's activations {@code [n, positions, neurons]} (channels last) into one value per
 * example and neuron: the mean or the max over a conv channel's positions. It also records, per example and neuron,
 * the position of the maximum (the first one in row-major order when several are equal; NaN wins, as in the census).
 * Scratch arrays are reused from batch to batch.
 */
final class Reducer {

    private final LayerInfo layer;
    private final int neurons;
    private final int positions;
    private final boolean max;
    private float[] values = new float[0];
    private int[] argmax = new int[0];
    private double[] sums = new double[0];

    Reducer(LayerInfo layer, boolean max) {
        this.layer = layer;
        this.neurons = layer.neurons();
        this.positions = layer.positions();
        this.max = max;
    }

    /**
     * @return the reduced values {@code [n, neurons]} (valid until the next call; do not keep)
     */
    float[] reduce(Tensor t, int n) {
        if (t.size() != (long) n * neurons * positions) {
            throw new AnalysisException("layer '" + layer.name() + "' gave " + t + " for " + n + " examples; expected "
                    + (long) positions * neurons + " values per example");
        }
        float[] act = t.floats();
        if (values.length < n * neurons) {
            values = new float[n * neurons];
            argmax = new int[n * neurons];
        }
        if (positions == 1) {
            System.arraycopy(act, 0, values, 0, n * neurons);
            return values;
        }
        if (sums.length < neurons) {
            sums = new double[neurons];
        }
        int rowSize = positions * neurons;
        for (int e = 0; e < n; e++) {
            int base = e * rowSize;
            int rb = e * neurons;
            boolean nan = false;
            for (int c = 0; c < neurons; c++) {
                float v = act[base + c];
                values[rb + c] = v;
                argmax[rb + c] = 0;
                sums[c] = v;
                nan |= v != v;
            }
            for (int p = 1; p < positions; p++) {
                int off = base + p * neurons;
                // branch-free updates (conditional moves): which position wins is data-dependent and mispredicts
                if (max) {
                    for (int c = 0; c < neurons; c++) {
                        float v = act[off + c];
                        float best = values[rb + c];
                        boolean gt = v > best;
                        values[rb + c] = gt ? v : best;
                        argmax[rb + c] = gt ? p : argmax[rb + c];
                        nan |= v != v;
                    }
                } else {
                    for (int c = 0; c < neurons; c++) {
                        float v = act[off + c];
                        sums[c] += v;
                        float best = values[rb + c];
                        boolean gt = v > best;
                        values[rb + c] = gt ? v : best;
                        argmax[rb + c] = gt ? p : argmax[rb + c];
                        nan |= v != v;
                    }
                }
            }
            if (nan) {
                nanAware(act, base, rb);
            }
            if (!max) {
                for (int c = 0; c < neurons; c++) {
                    values[rb + c] = (float) (sums[c] / positions);
                }
            }
        }
        return values;
    }

    /** The rare slow path: redo an example's max so that NaN wins (the first NaN position), as in the census. */
    private void nanAware(float[] act, int base, int rb) {
        for (int c = 0; c < neurons; c++) {
            float best = act[base + c];
            int at = 0;
            for (int p = 1; p < positions; p++) {
                float v = act[base + p * neurons + c];
                if (v > best || v != v && best == best) {
                    best = v;
                    at = p;
                }
            }
            values[rb + c] = best;
            argmax[rb + c] = at;
        }
    }

    /** @return per example and neuron the argmax position (index into the layer's H*W positions) of the last batch */
    int[] argmax() {
        return argmax;
    }
}
