package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;

import java.util.Arrays;

/**
 * One activation-producing layer of a model.
 *
 * @param name   the name used in YAML {@code layers:} lists, non-null
 * @param opType the backend's operation type (for TensorFlow, e.g. {@code Relu}, {@code MatMul}), non-null
 * @param shape  output shape without the batch dimension; channels last for spatial layers ({@code [H, W, C]})
 * @param role   what the layer is to the model
 * @param path   where the layer lives in the backend's graph (e.g. the op path {@code sequential/conv2d_1/Relu} of a
 *               Keras layer named {@code conv2d_1}); equal to {@code name} when there is no distinction
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record LayerInfo(String name, String opType, int[] shape, Role role, String path) {

    /** What a layer is to the model. */
    public enum Role {
        /** The model input. */
        INPUT,
        /** An internal layer. */
        HIDDEN,
        /** The pre-softmax output. */
        LOGITS,
        /** A model output other than logits (for example probabilities). */
        OUTPUT
    }

    /** Defensive copy of the shape; a null path becomes the name. */
    public LayerInfo {
        shape = shape.clone();
        path = path == null ? name : path;
    }

    /**
     * A layer whose graph path is its name.
     *
     * @param name   layer name
     * @param opType op type
     * @param shape  output shape without the batch dimension
     * @param role   what the layer is to the model
     */
    public LayerInfo(String name, String opType, int[] shape, Role role) {
        this(name, opType, shape, role, name);
    }

    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** @return true for layers with spatial positions ({@code [H, W, C]}): each channel is one neuron */
    public boolean spatial() {
        return shape.length == 3;
    }

    /** @return the number of neurons: channels for spatial layers, otherwise the product of the dimensions */
    public int neurons() {
        if (spatial()) {
            return shape[2];
        }
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    /** @return positions per neuron: {@code H*W} for spatial layers, 1 otherwise */
    public int positions() {
        return spatial() ? shape[0] * shape[1] : 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerInfo l && l.name.equals(name) && l.opType.equals(opType)
                && Arrays.equals(l.shape, shape) && l.role == role && l.path.equals(path);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + opType + " " + Arrays.toString(shape) + " " + role;
    }
}
