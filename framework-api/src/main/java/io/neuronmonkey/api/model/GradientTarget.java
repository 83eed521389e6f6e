package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;

import java.util.Arrays;

/**
 * What to differentiate: a weighted sum of one layer's neurons, chosen per batch (the backend feeds the selection as
 * a mask, so the gradient graph is built once per target layer and reused). For spatial layers a neuron is a
 * channel and its value is the sum over positions.
 * <ul>
 *   <li>{@link #neuron}, {@link #neurons}, {@link #weighted}: the same selection for every row;</li>
 *   <li>{@link #perRow}: one neuron per row (e.g. the logit of each example's label);</li>
 *   <li>{@link #predicted}: the row's largest neuron of the layer (e.g. the predicted class's logit);</li>
 *   <li>{@link #atPosition}, {@link #perRowAtPositions}: a neuron's value at one position of a spatial layer
 *   (one unit of a channel) instead of its sum over positions.</li>
 * </ul>
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.1.0")
public final class GradientTarget {

    /** How the selection is given. */
    public enum Mode {
        /** {@link GradientTarget#weights(int)} apply to every row. */
        FIXED,
        /** {@link #indexPerRow()} picks one neuron per row. */
        PER_ROW,
        /** The arg-max neuron of each row, found by the backend. */
        PREDICTED
    }

    private final String layer;
    private final Mode mode;
    private final float[] weights;
    private final int[] indexPerRow;
    private final int[] positions;

    private GradientTarget(String layer, Mode mode, float[] weights, int[] indexPerRow) {
        this(layer, mode, weights, indexPerRow, null);
    }

    private GradientTarget(String layer, Mode mode, float[] weights, int[] indexPerRow, int[] positions) {
        if (layer == null || layer.isBlank()) {
            throw new IllegalArgumentException("a gradient target needs a layer name");
        }
        if (positions != null && Arrays.stream(positions).anyMatch(p -> p < 0)) {
            throw new IllegalArgumentException("positions of a gradient target on '" + layer + "' must be >= 0, found "
                    + Arrays.toString(positions));
        }
        this.layer = layer;
        this.mode = mode;
        this.weights = weights;
        this.indexPerRow = indexPerRow;
        this.positions = positions;
    }

    /**
     * @param layer    the target layer
     * @param neuron   neuron (channel) index, >= 0
     * @param position the position, row-major over the layer's positions (for a {@code [h, w, c]} layer
     *                 {@code row * w + col}), >= 0
     * @return the target "value of that neuron at that position"
     * @since 0.5.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.5.0")
    public static GradientTarget atPosition(String layer, int neuron, int position) {
        return new GradientTarget(layer, Mode.FIXED, null, new int[] {neuron}, new int[] {position});
    }

    /**
     * @param layer          the target layer
     * @param indexPerRow    one neuron index per row of the batch
     * @param positionPerRow one position per row, row-major over the layer's positions
     * @return the target "that row's neuron at that row's position"
     * @since 0.5.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.5.0")
    public static GradientTarget perRowAtPositions(String layer, int[] indexPerRow, int[] positionPerRow) {
        if (indexPerRow.length != positionPerRow.length) {
            throw new IllegalArgumentException("target on '" + layer + "' has " + indexPerRow.length + " neurons and "
                    + positionPerRow.length + " positions; give one of each per row");
        }
        return new GradientTarget(layer, Mode.PER_ROW, null, indexPerRow.clone(), positionPerRow.clone());
    }

    /**
     * @return true when the target is a neuron's value at one position ({@link #atPosition},
     *         {@link #perRowAtPositions}) rather than its sum over positions
     * @since 0.5.0
     */
    public boolean atPositions() {
        return positions != null;
    }

    /**
     * @param rows the batch's rows
     * @return for a target {@linkplain #atPositions() at positions}, the position of each row (a copy)
     * @since 0.5.0
     */
    public int[] positionPerRow(int rows) {
        if (positions == null) {
            throw new IllegalStateException("this target sums over positions: " + this);
        }
        if (mode == Mode.FIXED) {
            int[] out = new int[rows];
            Arrays.fill(out, positions[0]);
            return out;
        }
        if (positions.length != rows) {
            throw new IllegalArgumentException("target on '" + layer + "' names " + positions.length
                    + " positions, one per row, for a batch of " + rows);
        }
        return positions.clone();
    }

    /**
     * @param layer  the target layer
     * @param neuron neuron (channel) index, >= 0
     * @return the target "value of that neuron"
     */
    public static GradientTarget neuron(String layer, int neuron) {
        return new GradientTarget(layer, Mode.FIXED, null, new int[]{neuron});
    }

    /**
     * @param layer   the target layer
     * @param neurons neuron indices whose values are summed
     * @return the target "sum of those neurons"
     */
    public static GradientTarget neurons(String layer, int... neurons) {
        return new GradientTarget(layer, Mode.FIXED, null, neurons.clone());
    }

    /**
     * @param layer   the target layer
     * @param weights one weight per neuron of the layer
     * @return the target "weighted sum of the layer's neurons"
     */
    public static GradientTarget weighted(String layer, float[] weights) {
        return new GradientTarget(layer, Mode.FIXED, weights.clone(), null);
    }

    /**
     * @param layer       the target layer
     * @param indexPerRow one neuron index per row of the batch
     * @return the target "that row's neuron"
     */
    public static GradientTarget perRow(String layer, int[] indexPerRow) {
        return new GradientTarget(layer, Mode.PER_ROW, null, indexPerRow.clone());
    }

    /**
     * @param layer the target layer (typically the logits)
     * @return the target "the row's largest neuron"
     */
    public static GradientTarget predicted(String layer) {
        return new GradientTarget(layer, Mode.PREDICTED, null, null);
    }

    /** @return the target layer's name */
    public String layer() {
        return layer;
    }

    /** @return how the selection is given */
    public Mode mode() {
        return mode;
    }

    /**
     * @param neurons the layer's neuron count
     * @return for {@link Mode#FIXED}, the weight of every neuron (a copy)
     */
    public float[] weights(int neurons) {
        if (mode != Mode.FIXED) {
            throw new IllegalStateException("weights are fixed only in mode FIXED, this target is " + mode);
        }
        if (weights != null) {
            if (weights.length != neurons) {
                throw new IllegalArgumentException("target on '" + layer + "' has " + weights.length + " weights, the layer has "
                        + neurons + " neurons");
            }
            return weights.clone();
        }
        float[] w = new float[neurons];
        for (int i : indexPerRow) {
            if (i < 0 || i >= neurons) {
                throw new IllegalArgumentException("neuron " + i + " is outside layer '" + layer + "' (0.." + (neurons - 1) + ")");
            }
            w[i] += 1f;
        }
        return w;
    }

    /** @return for {@link Mode#PER_ROW}, the neuron of each row (a copy) */
    public int[] indexPerRow() {
        if (mode != Mode.PER_ROW) {
            throw new IllegalStateException("indices per row exist only in mode PER_ROW, this target is " + mode);
        }
        return indexPerRow.clone();
    }

    @Override
    public String toString() {
        return "GradientTarget[" + layer + ", " + mode
                + (weights != null ? ", weights=" + Arrays.toString(weights) : indexPerRow != null ? ", indices=" + Arrays.toString(indexPerRow) : "")
                + (positions != null ? ", positions=" + Arrays.toString(positions) : "") + "]";
    }
}
