package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.Tensor;

/**
 * Turns one batch of a layer's activations {@code [n, positions, neurons]} (channels last) into one value per
 * example and neuron: the mean or the max over a neuron's positions, or its value at the first or the last position.
 * It also gives, per example and neuron, the position of the value ({@link #position}): the maximum (the first one in
 * row-major order when several are equal; NaN wins, as in the census) for max and mean, the first or last position
 * otherwise. Without a mask the positions are found on demand, since callers keep few of the values.
 * <p>
 * With a position mask (the real tokens of a text batch, {@code Batch.positionMask}) only the masked-in positions
 * count: max and mean over the real tokens, first and last the first and last real token; an example without a real
 * position gets NaN. Without a mask (image data) every position counts, and max and mean take the same path as they
 * always did. Scratch arrays are reused from batch to batch.
 */
final class Reducer implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /** How a neuron's positions become one value. */
    enum Mode { MEAN, MAX, FIRST, LAST }

    private final LayerInfo layer;
    private final int neurons;
    private final int positions;
    private final Mode mode;
    private final boolean max;
    private float[] values = new float[0];
    private int[] argmax = new int[0];
    private double[] sums = new double[0];
    /** the second example's sums when two are reduced at once */
    private double[] sums2 = new double[0];
    private int[] keys = new int[0];
    /** per example of the last batch: true when {@link #argmax} holds its positions, false when found on demand */
    private boolean[] eager = new boolean[0];
    /** the last batch's activations (for positions on demand) */
    private transient float[] lastAct;

    Reducer(LayerInfo layer, Mode mode) {
        this.layer = layer;
        this.neurons = layer.neurons();
        this.positions = layer.positions();
        this.mode = mode;
        this.max = mode == Mode.MAX;
    }

    /**
     * Reduces with every position counting.
     *
     * @return the reduced values {@code [n, neurons]} (valid until the next call; do not keep)
     */
    float[] reduce(Tensor t, int n) {
        return reduce(t, n, null);
    }

    /**
     * @param mask per example and position ({@code e * positions + p}) true where the position counts; null: all
     * @return the reduced values {@code [n, neurons]} (valid until the next call; do not keep)
     */
    float[] reduce(Tensor t, int n, boolean[] mask) {
        if (t.size() != (long) n * neurons * positions) {
            throw new AnalysisException("layer '" + layer.name() + "' gave " + t + " for " + n + " examples; expected "
                    + (long) positions * neurons + " values per example");
        }
        float[] act = t.floats();
        if (values.length < n * neurons) {
            values = new float[n * neurons];
            argmax = new int[n * neurons];
        }
        if (eager.length < n) {
            eager = new boolean[n];
        }
        if (positions == 1) {
            System.arraycopy(act, 0, values, 0, n * neurons);
            return values;
        }
        if (sums.length < neurons) {
            sums = new double[neurons];
        }
        if (mask != null || mode == Mode.FIRST || mode == Mode.LAST) {
            return general(act, n, mask);
        }
        // the fast path computes values only; a position is found on demand (position()), for the few values a
        // caller keeps. The max runs on the floats' order-preserving int keys, branch-free, as in the census
        // (-0.0 ranks below 0.0); an example holding a NaN is redone value by value so that NaN wins.
        lastAct = act;
        int rowSize = positions * neurons;
        if (keys.length < neurons) {
            keys = new int[neurons];
        }
        int[] k = keys;
        PositionKernels kernels = PositionKernels.INSTANCE;
        if (!max && sums2.length < neurons) {
            sums2 = new double[neurons];
        }
        for (int e = 0; e < n; e++) {
            int base = e * rowSize;
            int rb = e * neurons;
            if (max) {
                eager[e] = false;
                boolean nan = kernels.maxKeys(act, base, positions, neurons, k, null, 0f);
                for (int c = 0; c < neurons; c++) {
                    values[rb + c] = PositionKernels.unkey(k[c]);
                }
                if (nan) {
                    nanAware(act, base, rb);
                    eager[e] = true;
                }
                continue;
            }
            // two examples at a time: their sums' chains of adds are independent
            boolean pair = e + 1 < n;
            int flags = pair ? kernels.sumsPair(act, base, base + rowSize, positions, neurons, sums, sums2, true, null, 0f)
                    : kernels.sums(act, base, positions, neurons, sums, true, null, 0f) ? 1 : 0;
            for (int j = 0; j < (pair ? 2 : 1); j++) {
                int ej = e + j;
                int rj = rb + j * neurons;
                eager[ej] = false;
                if ((flags & (1 << j)) != 0) {
                    // NaN: the argmax positions now, as for max (NaN wins)
                    nanAware(act, base + j * rowSize, rj);
                    eager[ej] = true;
                }
                double[] s = j == 0 ? sums : sums2;
                for (int c = 0; c < neurons; c++) {
                    values[rj + c] = (float) (s[c] / positions);
                }
            }
            e += pair ? 1 : 0;
        }
        return values;
    }

    /**
     * @param e example row of the last batch
     * @param c neuron
     * @return the position of the last batch's value (index into the layer's positions): the argmax for max and mean
     *         (the first in row-major order of the largest order-preserving key, so -0.0 below 0.0; the first NaN
     *         when there is one), the first or last (real) position otherwise; -1 for an example without one
     */
    int position(int e, int c) {
        if (positions == 1) {
            return 0;
        }
        if (eager[e]) {
            return argmax[e * neurons + c];
        }
        int base = e * positions * neurons + c;
        float[] act = lastAct;
        int b0 = Float.floatToRawIntBits(act[base]);
        int best = b0 ^ ((b0 >> 31) & 0x7FFFFFFF);
        int at = 0;
        for (int p = 1; p < positions; p++) {
            int b = Float.floatToRawIntBits(act[base + p * neurons]);
            int key = b ^ ((b >> 31) & 0x7FFFFFFF);
            if (key > best) {
                best = key;
                at = p;
            }
        }
        return at;
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

    /** Any mode, over the positions the mask lets in (every position without one). */
    private float[] general(float[] act, int n, boolean[] mask) {
        int rowSize = positions * neurons;
        java.util.Arrays.fill(eager, 0, n, true);
        for (int e = 0; e < n; e++) {
            int base = e * rowSize;
            int rb = e * neurons;
            int mb = e * positions;
            int firstReal = -1;
            int lastReal = -1;
            int real = 0;
            for (int p = 0; p < positions; p++) {
                if (mask == null || mask[mb + p]) {
                    firstReal = firstReal < 0 ? p : firstReal;
                    lastReal = p;
                    real++;
                }
            }
            if (real == 0) {
                java.util.Arrays.fill(values, rb, rb + neurons, Float.NaN);
                java.util.Arrays.fill(argmax, rb, rb + neurons, -1);
                continue;
            }
            if (mode == Mode.FIRST || mode == Mode.LAST) {
                int at = mode == Mode.FIRST ? firstReal : lastReal;
                System.arraycopy(act, base + at * neurons, values, rb, neurons);
                java.util.Arrays.fill(argmax, rb, rb + neurons, at);
                continue;
            }
            boolean nan = false;
            int off0 = base + firstReal * neurons;
            for (int c = 0; c < neurons; c++) {
                float v = act[off0 + c];
                values[rb + c] = v;
                argmax[rb + c] = firstReal;
                sums[c] = v;
                nan |= v != v;
            }
            for (int p = firstReal + 1; p <= lastReal; p++) {
                if (mask != null && !mask[mb + p]) {
                    continue;
                }
                int off = base + p * neurons;
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
            if (nan) {
                for (int c = 0; c < neurons; c++) {
                    float best = Float.NaN;
                    int at = -1;
                    for (int p = firstReal; p <= lastReal; p++) {
                        if (mask != null && !mask[mb + p]) {
                            continue;
                        }
                        float v = act[base + p * neurons + c];
                        if (at < 0 || v > best || v != v && best == best) {
                            best = v;
                            at = p;
                        }
                    }
                    values[rb + c] = best;
                    argmax[rb + c] = at;
                }
            }
            if (!max) {
                for (int c = 0; c < neurons; c++) {
                    values[rb + c] = (float) (sums[c] / real);
                }
            }
        }
        return values;
    }

}
