package io.neuronmonkey.stats;

import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.Arrays;

/**
 * The input rows of the examples some heap keeps, one copy per example however many neurons (of however many
 * layers) keep it, with a reference count per row. A neuron's heap fills with whatever comes first, so early in a
 * pass nearly every value is a winner: copying the input per kept entry cost more than the census itself on a wide
 * layer (a 784-value row for each of thousands of neurons and batches). Here a row is copied the first time any
 * entry keeps its example and released when the last entry holding it is evicted; freed rows are reused.
 * <p>
 * Entries hold their {@link Row} itself, so releasing is a decrement; within a batch the rows copied so far are found
 * by the example's row in the batch (an example occurs in one batch only), so no lookup by example index is needed.
 * Rows are shared and read-only for their holders.
 */
final class SharedInputs implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /** One example's input row and the number of entries holding it. */
    static final class Row implements java.io.Serializable {

        private static final long serialVersionUID = 1L;
        final float[] data;
        int refs;

        Row(float[] data) {
            this.data = data;
        }
    }

    private final ArrayDeque<float[]> free = new ArrayDeque<>();
    /** the rows copied from the current batch, by row in the batch (not state: null after deserialization) */
    private transient Row[] batchRows;
    private transient Tensor batchInputs;
    private int live;

    /** Starts a batch: rows are looked up by their row in {@code inputs} until the next call. */
    void batch(Tensor inputs, int rows) {
        if (batchRows == null || batchRows.length < rows) {
            batchRows = new Row[rows];
        } else {
            Arrays.fill(batchRows, 0, rows, null);
        }
        batchInputs = inputs;
    }

    /**
     * @param row the example's row in the current {@link #batch}
     * @return the shared copy of the example's input row, its count raised by one
     */
    Row retain(int row) {
        Row r = batchRows[row];
        // a row released to zero in this batch gave its buffer back (maybe reused already): copy it again
        if (r == null || r.refs == 0) {
            int rs = batchInputs.rowSize();
            float[] data = free.isEmpty() || free.peek().length != rs ? new float[rs] : free.pop();
            System.arraycopy(batchInputs.floats(), row * rs, data, 0, rs);
            r = new Row(data);
            batchRows[row] = r;
            live++;
        }
        r.refs++;
        return r;
    }

    /** Lowers a row's count; the row is freed at zero. No-op for null (an entry that holds no row). */
    void release(Row r) {
        if (r != null && --r.refs == 0) {
            live--;
            if (free.size() < 64) {
                free.push(r.data);
            }
        }
    }

    /**
     * Counts the holders again from scratch (after a merge, the heaps hold rows of two stores and some entries of
     * each were dropped): {@code holders} is called twice, once to clear every held row's count and once to count.
     */
    void recount(java.util.function.Consumer<java.util.function.Consumer<Row>> holders) {
        holders.accept(r -> r.refs = 0);
        live = 0;
        holders.accept(r -> {
            if (r.refs++ == 0) {
                live++;
            }
        });
        free.clear();
        batchInputs = null;
        batchRows = null;
    }

    /** @return the number of distinct examples whose input is held */
    int size() {
        return live;
    }
}
