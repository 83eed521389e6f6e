package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;

import java.io.Serializable;
import java.util.Arrays;

/**
 * One activation-producing layer (or any other capturable tensor) of a model.
 *
 * <p><b>What a neuron is.</b> One rule for every rank: a neuron is one index along the layer's channel axis, and
 * every other axis (the batch excluded) is a position of it. Activations are always delivered channels last, so
 * {@link #neurons()} is the last entry of {@link #shape()} and {@link #positions()} the product of the others:
 * {@code [H, W, C]} is {@code C} neurons of {@code H*W} positions, {@code [T, D]} is {@code D} neurons of {@code T}
 * positions, {@code [28, 28, 1]} is 1 neuron of 784 positions, {@code [28, 28]} is 28 neurons of 28 positions,
 * {@code [784]} is 784 neurons of one position, and a scalar per example ({@code []}) is 1 neuron. To treat every
 * element as a neuron, capture a flattened layer.
 *
 * <p><b>Channel axis.</b> A model may compute a layer channels first (a PyTorch or ONNX origin graph in NCHW): then
 * {@link #channelAxis()} says where the channels sit in the model's own tensor ({@link #modelShape()}), while
 * {@link #shape()} and the delivered activations are transposed to channels last, so analyzers keep one convention
 * and spatial positions stay rows and columns.
 *
 * @param name        the name used in YAML {@code layers:} lists, non-null
 * @param opType      the backend's operation type (for TensorFlow, e.g. {@code Relu}, {@code MatMul}), non-null
 * @param shape       output shape without the batch dimension, channels last ({@code [H, W, C]} for spatial layers)
 * @param role        what the layer is to the model
 * @param path        where the layer lives in the backend's graph (e.g. the op path {@code sequential/conv2d_1/Relu} of
 *                    a Keras layer named {@code conv2d_1}); equal to {@code name} when there is no distinction
 * @param channelAxis the channel axis of the model's own output, batch excluded: {@code shape.length - 1} when the
 *                    model computes the layer channels last, {@code 0} for a channels-first {@code [C, H, W]};
 *                    {@code -1} exactly when the shape is a scalar ({@code []})
 * @serial exclude (serializable only to travel between the engine's processes; not a stable format)
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record LayerInfo(String name, String opType, int[] shape, Role role, String path, int channelAxis) implements Serializable {

    /** What a layer is to the model. */
    public enum Role {
        /** The model input. */
        INPUT,
        /** An internal layer. */
        HIDDEN,
        /** The pre-softmax output. */
        LOGITS,
        /** A model output other than logits (for example probabilities or log-probabilities). */
        OUTPUT
    }

    /**
     * Defensive copy of the shape; a null path becomes the name; checks the channel axis.
     *
     * @param name the name used in YAML {@code layers:} lists, non-null
     * @param opType the backend's operation type (for TensorFlow, e.g. {@code Relu}, {@code MatMul}), non-null
     * @param shape output shape without the batch dimension, channels last ({@code [H, W, C]} for spatial layers)
     * @param role what the layer is to the model
     * @param path where the layer lives in the backend's graph (e.g. the op path {@code sequential/conv2d_1/Relu} of
     *            a Keras layer named {@code conv2d_1}); equal to {@code name} when there is no distinction
     * @param channelAxis the channel axis of the model's own output, batch excluded: {@code shape.length - 1} when the
     *                   model computes the layer channels last, {@code 0} for a channels-first {@code [C, H, W]};
     *                   {@code -1} exactly when the shape is a scalar ({@code []})
     */
    public LayerInfo {
        shape = shape.clone();
        path = path == null ? name : path;
        if (shape.length == 0 ? channelAxis != -1 : channelAxis < 0 || channelAxis >= shape.length) {
            throw new IllegalArgumentException("layer '" + name + "' of shape " + Arrays.toString(shape)
                    + " cannot have channel axis " + channelAxis + "; valid: "
                    + (shape.length == 0 ? "-1 (a scalar has none)" : "0.." + (shape.length - 1)));
        }
    }

    /**
     * A layer the model computes channels last.
     *
     * @param name   layer name
     * @param opType op type
     * @param shape  output shape without the batch dimension
     * @param role   what the layer is to the model
     * @param path   the op path in the backend's graph, or null for the name
     */
    public LayerInfo(String name, String opType, int[] shape, Role role, String path) {
        this(name, opType, shape, role, path, shape.length - 1);
    }

    /**
     * A channels-last layer whose graph path is its name.
     *
     * @param name   layer name
     * @param opType op type
     * @param shape  output shape without the batch dimension
     * @param role   what the layer is to the model
     */
    public LayerInfo(String name, String opType, int[] shape, Role role) {
        this(name, opType, shape, role, name);
    }

    /** @return the shape, a copy (the record keeps its own) */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** @return true for layers with spatial positions ({@code [H, W, C]}): each channel is one neuron */
    public boolean spatial() {
        return shape.length == 3;
    }

    /** @return the number of neurons: the size of the (delivered, last) channel axis; 1 for a scalar */
    public int neurons() {
        return shape.length == 0 ? 1 : shape[shape.length - 1];
    }

    /** @return positions per neuron: the product of every axis but the channel axis ({@code H*W} for {@code [H, W, C]}) */
    public int positions() {
        int n = 1;
        for (int i = 0; i < shape.length - 1; i++) {
            n *= shape[i];
        }
        return n;
    }

    /** @return true when the model computes this layer channels last (so {@link #modelShape()} equals the shape) */
    public boolean channelsLast() {
        return channelAxis == shape.length - 1;
    }

    /** @return the output shape as the model computes it (batch excluded): the channels moved to {@link #channelAxis()} */
    public int[] modelShape() {
        if (channelsLast()) {
            return shape.clone();
        }
        int[] out = new int[shape.length];
        int c = shape[shape.length - 1];
        for (int i = 0, j = 0; i < out.length; i++) {
            out[i] = i == channelAxis ? c : shape[j++];
        }
        return out;
    }

    /**
     * @param channelAxis the channel axis of the model's output
     * @param shape       the delivered (channels-last) shape
     * @return a copy with that channel axis and shape
     */
    public LayerInfo withChannels(int channelAxis, int[] shape) {
        return new LayerInfo(name, opType, shape, role, path, channelAxis);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerInfo l && l.name.equals(name) && l.opType.equals(opType)
                && Arrays.equals(l.shape, shape) && l.role == role && l.path.equals(path)
                && l.channelAxis == channelAxis;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + opType + " " + Arrays.toString(shape) + " " + role
                + (channelsLast() ? "" : " (model " + Arrays.toString(modelShape()) + ", channel axis " + channelAxis + ")");
    }
}
