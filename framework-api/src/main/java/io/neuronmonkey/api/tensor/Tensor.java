package io.neuronmonkey.api.tensor;

import io.neuronmonkey.api.ApiStatus;

import java.util.Arrays;

/**
 * An immutable-by-contract n-dimensional array in row-major order: {@code shape} plus one bulk buffer.
 * <p>
 * For speed the backing array is shared, not copied: {@link #floats()} and {@link #ints()} return it directly and
 * callers must not modify it. Factories take ownership of the array they are given. Dimension 0 is the batch
 * (row) dimension wherever a tensor holds a batch.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public final class Tensor {

    private final int[] shape;
    private final DType dtype;
    private final float[] floats;
    private final int[] ints;

    private Tensor(int[] shape, DType dtype, float[] floats, int[] ints) {
        this.shape = shape.clone();
        this.dtype = dtype;
        this.floats = floats;
        this.ints = ints;
        long expected = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            expected *= d;
        }
        int length = floats != null ? floats.length : ints.length;
        if (expected != length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " needs " + expected
                    + " elements, buffer has " + length);
        }
    }

    /**
     * @param data  row-major values; ownership passes to the tensor
     * @param shape dimensions, product equal to {@code data.length}
     * @return a FLOAT32 tensor
     */
    public static Tensor ofFloats(float[] data, int... shape) {
        return new Tensor(shape, DType.FLOAT32, data, null);
    }

    /**
     * @param data  row-major values; ownership passes to the tensor
     * @param shape dimensions, product equal to {@code data.length}
     * @return an INT32 tensor
     */
    public static Tensor ofInts(int[] data, int... shape) {
        return new Tensor(shape, DType.INT32, null, data);
    }

    /** @return the element type */
    public DType dtype() {
        return dtype;
    }

    /** @return a copy of the dimensions */
    public int[] shape() {
        return shape.clone();
    }

    /** @return number of dimensions */
    public int rank() {
        return shape.length;
    }

    /**
     * @param axis 0-based axis
     * @return the size of that dimension
     */
    public int dim(int axis) {
        return shape[axis];
    }

    /** @return total number of elements */
    public int size() {
        return floats != null ? floats.length : ints.length;
    }

    /** @return the number of rows (dimension 0); 1 for a scalar */
    public int rows() {
        return shape.length == 0 ? 1 : shape[0];
    }

    /** @return elements per row: the product of all dimensions after the first */
    public int rowSize() {
        int rows = rows();
        return rows == 0 ? 0 : size() / rows;
    }

    /**
     * @return the shared backing array of a FLOAT32 tensor; do not modify
     * @throws IllegalStateException if the tensor is not FLOAT32
     */
    public float[] floats() {
        if (floats == null) {
            throw new IllegalStateException("tensor is " + dtype + ", not FLOAT32");
        }
        return floats;
    }

    /**
     * @return the shared backing array of an INT32 tensor; do not modify
     * @throws IllegalStateException if the tensor is not INT32
     */
    public int[] ints() {
        if (ints == null) {
            throw new IllegalStateException("tensor is " + dtype + ", not INT32");
        }
        return ints;
    }

    /**
     * @param from first row, inclusive
     * @param to   last row, exclusive
     * @return a new tensor holding a copy of rows {@code [from, to)}
     */
    public Tensor rows(int from, int to) {
        if (from < 0 || to > rows() || from > to) {
            throw new IndexOutOfBoundsException("rows [" + from + ", " + to + ") of " + rows());
        }
        int[] s = shape.clone();
        s[0] = to - from;
        int rs = rowSize();
        if (floats != null) {
            return new Tensor(s, dtype, Arrays.copyOfRange(floats, from * rs, to * rs), null);
        }
        return new Tensor(s, dtype, null, Arrays.copyOfRange(ints, from * rs, to * rs));
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + " " + dtype;
    }
}
