package io.neuronmonkey.api.tensor;

import io.neuronmonkey.api.ApiStatus;

import java.util.Arrays;

/**
 * An immutable-by-contract n-dimensional array in row-major order: {@code shape} plus one bulk buffer.
 * <p>
 * For speed the backing array is shared, not copied: {@link #floats()}, {@link #ints()}, {@link #longs()} and {@link #strings()}
 * return it directly and
 * callers must not modify it. Factories take ownership of the array they are given. Dimension 0 is the batch
 * (row) dimension wherever a tensor holds a batch.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public final class Tensor {

    private final int[] shape;
    private final DType dtype;
    private final Object data;
    private final int length;

    private Tensor(int[] shape, DType dtype, Object data, int length) {
        this.shape = shape.clone();
        this.dtype = dtype;
        this.data = data;
        this.length = length;
        long expected = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            expected *= d;
        }
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
        return new Tensor(shape, DType.FLOAT32, data, data.length);
    }

    /**
     * @param data  row-major values; ownership passes to the tensor
     * @param shape dimensions, product equal to {@code data.length}
     * @return an INT32 tensor
     */
    public static Tensor ofInts(int[] data, int... shape) {
        return new Tensor(shape, DType.INT32, data, data.length);
    }

    /**
     * @param data  row-major values; ownership passes to the tensor
     * @param shape dimensions, product equal to {@code data.length}
     * @return an INT64 tensor
     * @since 0.4.0
     */
    public static Tensor ofLongs(long[] data, int... shape) {
        return new Tensor(shape, DType.INT64, data, data.length);
    }

    /**
     * @param data  row-major strings, none null; ownership passes to the tensor
     * @param shape dimensions, product equal to {@code data.length}
     * @return a STRING tensor
     * @since 0.4.0
     */
    public static Tensor ofStrings(String[] data, int... shape) {
        for (int i = 0; i < data.length; i++) {
            if (data[i] == null) {
                throw new IllegalArgumentException("string tensor element " + i + " is null");
            }
        }
        return new Tensor(shape, DType.STRING, data, data.length);
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
        return length;
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
        return (float[]) backing(DType.FLOAT32);
    }

    /**
     * @return the shared backing array of an INT32 tensor; do not modify
     * @throws IllegalStateException if the tensor is not INT32
     */
    public int[] ints() {
        return (int[]) backing(DType.INT32);
    }

    /**
     * @return the shared backing array of an INT64 tensor; do not modify
     * @throws IllegalStateException if the tensor is not INT64
     * @since 0.4.0
     */
    public long[] longs() {
        return (long[]) backing(DType.INT64);
    }

    /**
     * @return the shared backing array of a STRING tensor; do not modify
     * @throws IllegalStateException if the tensor is not STRING
     * @since 0.4.0
     */
    public String[] strings() {
        return (String[]) backing(DType.STRING);
    }

    private Object backing(DType wanted) {
        if (dtype != wanted) {
            throw new IllegalStateException("tensor is " + dtype + ", not " + wanted);
        }
        return data;
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
        Object copy = java.lang.reflect.Array.newInstance(data.getClass().getComponentType(), (to - from) * rs);
        System.arraycopy(data, from * rs, copy, 0, (to - from) * rs);
        return new Tensor(s, dtype, copy, (to - from) * rs);
    }

    /**
     * @param rows rows to keep, in the order given (repeats allowed)
     * @return a new tensor of those rows, each copied in bulk
     * @since 0.4.0
     */
    public Tensor select(int[] rows) {
        int rs = rowSize();
        int[] s = shape.clone();
        s[0] = rows.length;
        Object copy = java.lang.reflect.Array.newInstance(data.getClass().getComponentType(), rows.length * rs);
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= rows()) {
                throw new IndexOutOfBoundsException("row " + rows[i] + " of " + rows());
            }
            System.arraycopy(data, rows[i] * rs, copy, i * rs, rs);
        }
        return new Tensor(s, dtype, copy, rows.length * rs);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + " " + dtype;
    }
}
