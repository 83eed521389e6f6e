package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Arrays;

/**
 * A change to one layer's neurons during a run: {@code x' = x * scale + shift} per neuron, with neurons not named
 * left exactly as they were. For spatial layers a neuron is a channel (all its positions change). Restricted to some
 * rows with {@link #forRows}, several interventions can be evaluated in one batch (e.g. ablating a different neuron
 * in each row).
 *
 * @param layer   the layer whose output is changed
 * @param kind    what the change is
 * @param neurons the neurons (channels) changed; empty means every neuron of the layer
 * @param value   the set value, scale factor or added delta (ignored for {@link Kind#ABLATE} and vector shifts)
 * @param vector  for {@link Kind#ADD} with a steering vector: one delta per neuron of the layer; otherwise null
 * @param rows    the batch rows affected; null means every row
 * @param patch   for {@link Kind#PATCH}: the replacement values, shaped {@code [rows, layer shape...]} channels last
 *                as {@link LoadedModel#run} delivers the layer (one row per affected row, in order); otherwise null
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.1.0")
public record Intervention(String layer, Kind kind, int[] neurons, float value, float[] vector, int[] rows,
                           Tensor patch) {

    /** What the change is. */
    public enum Kind {
        /** Set to zero: scale 0, shift 0. */
        ABLATE,
        /** Set to {@code value}: scale 0, shift value. */
        SET,
        /** Multiply by {@code value}: scale value, shift 0. */
        SCALE,
        /** Add {@code value} (or the {@code vector}'s entry): scale 1, shift delta. */
        ADD,
        /**
         * Replace every position of the given neurons by the values of {@link #patch()} (activation patching: the
         * activation of another input spliced in); scale 0, shift the patch, per position.
         *
         * @since 0.3.0
         */
        PATCH
    }

    /** Defensive copies. */
    public Intervention {
        if (layer == null || layer.isBlank()) {
            throw new IllegalArgumentException("an intervention needs a layer name");
        }
        neurons = neurons == null ? new int[0] : neurons.clone();
        vector = vector == null ? null : vector.clone();
        rows = rows == null ? null : rows.clone();
        if ((kind == Kind.PATCH) != (patch != null)) {
            throw new IllegalArgumentException(kind == Kind.PATCH ? "a patch intervention needs its values"
                    : "only a patch intervention carries values, not " + kind);
        }
        if (patch != null && rows != null && patch.rows() != rows.length) {
            throw new IllegalArgumentException("patch of '" + layer + "' has " + patch.rows() + " rows for "
                    + rows.length + " batch rows");
        }
    }

    /** The change without patch values ({@link Kind#ABLATE}, {@link Kind#SET}, {@link Kind#SCALE}, {@link Kind#ADD}). */
    public Intervention(String layer, Kind kind, int[] neurons, float value, float[] vector, int[] rows) {
        this(layer, kind, neurons, value, vector, rows, null);
    }

    /** @return zero the given neurons (all if none given) */
    public static Intervention ablate(String layer, int... neurons) {
        return new Intervention(layer, Kind.ABLATE, neurons, 0f, null, null);
    }

    /** @return set the given neurons to {@code value} */
    public static Intervention set(String layer, float value, int... neurons) {
        return new Intervention(layer, Kind.SET, neurons, value, null, null);
    }

    /** @return multiply the given neurons by {@code factor} */
    public static Intervention scale(String layer, float factor, int... neurons) {
        return new Intervention(layer, Kind.SCALE, neurons, factor, null, null);
    }

    /** @return add {@code delta} to the given neurons */
    public static Intervention add(String layer, float delta, int... neurons) {
        return new Intervention(layer, Kind.ADD, neurons, delta, null, null);
    }

    /** @return add a steering vector, one delta per neuron of the layer */
    public static Intervention steer(String layer, float[] vector) {
        return new Intervention(layer, Kind.ADD, new int[0], 0f, vector, null);
    }

    /**
     * Activation patching: the given neurons (every neuron if none given) take, at every position, the values of
     * {@code values} (typically the same layer captured on other inputs).
     *
     * @param layer   the layer
     * @param values  {@code [n, layer shape...]} channels last, one row per batch row (or per row of
     *                {@link #forRows})
     * @param neurons the neurons replaced; none means all
     * @return the patch
     * @since 0.3.0
     */
    public static Intervention patch(String layer, Tensor values, int... neurons) {
        return new Intervention(layer, Kind.PATCH, neurons, 0f, null, null, values);
    }

    /**
     * @param batchRows rows of the batch this intervention applies to
     * @return a copy restricted to those rows
     */
    public Intervention forRows(int... batchRows) {
        return new Intervention(layer, kind, neurons, value, vector, batchRows, patch);
    }

    @Override
    public int[] neurons() {
        return neurons.clone();
    }

    @Override
    public float[] vector() {
        return vector == null ? null : vector.clone();
    }

    @Override
    public int[] rows() {
        return rows == null ? null : rows.clone();
    }

    /**
     * Fills the per-row, per-neuron scale and shift this intervention implies ({@code x * scale + shift}).
     *
     * @param scale   [rows * neurons], updated in place (start from all ones)
     * @param shift   [rows * neurons], updated in place (start from all zeros)
     * @param n       rows in the batch
     * @param neuronsInLayer neurons of the layer
     */
    public void applyTo(float[] scale, float[] shift, int n, int neuronsInLayer) {
        if (kind == Kind.PATCH) {
            throw new IllegalStateException("a patch changes single positions; use applyToPositions");
        }
        applyToPositions(scale, shift, n, 1, neuronsInLayer);
    }

    /**
     * Fills the per-row, per-position, per-neuron scale and shift this intervention implies, channels last: index
     * {@code (row * positions + position) * neurons + neuron}. Every kind works here, {@link Kind#PATCH} included.
     *
     * @param scale          [n * positions * neurons], updated in place (start from all ones)
     * @param shift          [n * positions * neurons], updated in place (start from all zeros)
     * @param n              rows in the batch
     * @param positions      positions per row (the product of the layer's axes but the last; 1 for a vector)
     * @param neuronsInLayer neurons of the layer
     * @since 0.3.0
     */
    public void applyToPositions(float[] scale, float[] shift, int n, int positions, int neuronsInLayer) {
        int[] targets = neurons.length == 0 ? range(neuronsInLayer) : neurons;
        int[] rs = rows == null ? range(n) : rows;
        float[] values = null;
        if (patch != null) {
            if (patch.rows() != rs.length || patch.rowSize() != positions * neuronsInLayer) {
                throw new IllegalArgumentException("patch of '" + layer + "' is " + Arrays.toString(patch.shape())
                        + ", expected " + rs.length + " rows of " + positions * neuronsInLayer + " values");
            }
            values = patch.floats();
        }
        for (int k = 0; k < rs.length; k++) {
            int r = rs[k];
            if (r < 0 || r >= n) {
                throw new IllegalArgumentException("intervention row " + r + " outside the batch of " + n);
            }
            for (int p = 0; p < positions; p++) {
                int base = (r * positions + p) * neuronsInLayer;
                for (int c : targets) {
                    if (c < 0 || c >= neuronsInLayer) {
                        throw new IllegalArgumentException("neuron " + c + " is outside layer '" + layer + "' (0.."
                                + (neuronsInLayer - 1) + ")");
                    }
                    int i = base + c;
                    switch (kind) {
                        case ABLATE -> {
                            scale[i] = 0f;
                            shift[i] = 0f;
                        }
                        case SET -> {
                            scale[i] = 0f;
                            shift[i] = value;
                        }
                        case SCALE -> {
                            scale[i] *= value;
                            shift[i] *= value;
                        }
                        case ADD -> shift[i] += vector != null ? vector[c] : value;
                        case PATCH -> {
                            scale[i] = 0f;
                            shift[i] = values[(k * positions + p) * neuronsInLayer + c];
                        }
                    }
                }
            }
        }
    }

    private static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Intervention i && i.layer.equals(layer) && i.kind == kind && Arrays.equals(i.neurons, neurons)
                && Float.compare(i.value, value) == 0 && Arrays.equals(i.vector, vector) && Arrays.equals(i.rows, rows)
                && java.util.Objects.equals(i.patch, patch);
    }

    @Override
    public int hashCode() {
        return layer.hashCode() * 31 + kind.hashCode();
    }

    @Override
    public String toString() {
        return "Intervention[" + kind + " " + layer + " neurons=" + Arrays.toString(neurons) + " value=" + value
                + (rows == null ? "" : " rows=" + Arrays.toString(rows)) + "]";
    }
}
