package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An array with one name per dimension, e.g. {@code ["neuron"]} or {@code ["neuron", "rank", "height", "width",
 * "channel"]}. Written as one {@code .npy} file; the names travel in {@code result.json} and {@code index.json}.
 *
 * @param data the values, non-null
 * @param dims one name per dimension of {@code data}, each {@code [a-z][a-zA-Z0-9_]*}
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public record NdArray(Tensor data, List<String> dims) {

    /**
     * Checks that there is one well-formed name per dimension.
     *
     * @param data the values, non-null
     * @param dims one name per dimension of {@code data}, each {@code [a-z][a-zA-Z0-9_]*}
     */
    public NdArray {
        Objects.requireNonNull(data, "data");
        dims = List.copyOf(dims);
        if (dims.size() != data.rank()) {
            throw new IllegalArgumentException("array of shape " + Arrays.toString(data.shape()) + " needs "
                    + data.rank() + " dimension names, found " + dims);
        }
        for (String d : dims) {
            if (!d.matches("[a-z][a-zA-Z0-9_]*")) {
                throw new IllegalArgumentException("dimension name '" + d + "' must match [a-z][a-zA-Z0-9_]*");
            }
        }
    }

    /**
     * @param data the values
     * @param dims one name per dimension
     * @return the named array
     */
    public static NdArray of(Tensor data, String... dims) {
        return new NdArray(data, List.of(dims));
    }

    /**
     * @param values one value per neuron; ownership passes to the array
     * @return a {@code ["neuron"]} array
     */
    public static NdArray perNeuron(float[] values) {
        return of(Tensor.ofFloats(values, values.length), "neuron");
    }

    /** @return the values as floats (FLOAT32 arrays only) */
    public float[] floats() {
        return data.floats();
    }

    /** @return the number of elements */
    public int size() {
        return data.size();
    }

    /**
     * @param i a flat (row-major) index
     * @return the element as a double, whatever the dtype
     */
    public double get(int i) {
        return switch (data.dtype()) {
            case FLOAT32 -> data.floats()[i];
            case INT32 -> data.ints()[i];
            case INT64 -> data.longs()[i];
            case STRING -> throw new IllegalStateException("a result array of strings has no numeric elements");
        };
    }
}
