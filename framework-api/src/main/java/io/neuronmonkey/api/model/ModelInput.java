package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.tensor.DType;

import java.util.Arrays;
import java.util.Objects;

/**
 * One input the model takes.
 *
 * @param name  the name data are matched by (for TensorFlow the signature's input key, e.g. {@code input_ids})
 * @param dtype the element type the model is fed
 * @param shape the shape of one example without the batch dimension; -1 for a dimension of any size
 * @param primary true for the input fed the batch's primary tensor (exactly one input of a model)
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.4.0")
public record ModelInput(String name, DType dtype, int[] shape, boolean primary) {

    /**
     * Defensive copy.
     *
     * @param name  the name data are matched by
     * @param dtype the element type the model is fed
     * @param shape the shape of one example without the batch dimension
     * @param primary true for the input fed the batch's primary tensor
     */
    public ModelInput {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        shape = shape.clone();
    }

    /** @return the shape, a copy */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ModelInput m && m.name.equals(name) && m.dtype == dtype && Arrays.equals(m.shape, shape)
                && m.primary == primary;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape) + (primary ? " (primary)" : "");
    }
}
