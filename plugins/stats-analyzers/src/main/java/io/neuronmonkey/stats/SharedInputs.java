package io.neuronmonkey.stats;

import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * The input rows of the examples some heap keeps, one copy per example however many neurons (of however many
 * layers) keep it, with a reference count per example. A neuron's heap fills with whatever comes first, so early in a
 * pass nearly every value is a winner: copying the input per kept entry cost more than the census itself on a wide
 * layer (a 784-value row for each of thousands of neurons and batches). Here a row is copied the first time any
 * entry keeps its example and released when the last entry holding it is evicted; freed rows are reused.
 * Rows are shared and read-only for their holders.
 */
final class SharedInputs implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    private static final class Row implements java.io.Serializable {

        private static final long serialVersionUID = 1L;
        final float[] data;
        int refs;

        Row(float[] data) {
            this.data = data;
        }
    }

    private final Map<Long, Row> rows = new HashMap<>();
    private final ArrayDeque<float[]> free = new ArrayDeque<>();

    /**
     * @param example the example's index in the data set
     * @param inputs  the batch's inputs
     * @param row     the example's row in the batch
     * @return the shared copy of the example's input row, its count raised by one
     */
    float[] retain(long example, Tensor inputs, int row) {
        Row r = rows.get(example);
        if (r == null) {
            int rs = inputs.rowSize();
            float[] data = free.isEmpty() || free.peek().length != rs ? new float[rs] : free.pop();
            System.arraycopy(inputs.floats(), row * rs, data, 0, rs);
            r = new Row(data);
            rows.put(example, r);
        }
        r.refs++;
        return r.data;
    }

    /** Lowers an example's count; the row is freed at zero. No-op for an example that holds nothing ({@code < 0}). */
    void release(long example) {
        if (example < 0) {
            return;
        }
        Row r = rows.get(example);
        if (r != null && --r.refs == 0) {
            rows.remove(example);
            if (free.size() < 64) {
                free.push(r.data);
            }
        }
    }

    /** Forgets every row: the caller re-registers what its heaps hold after a merge. */
    void clear() {
        rows.clear();
        free.clear();
    }

    /** Registers a row an entry holds (after a merge, rows may come from another store). */
    void hold(long example, float[] data) {
        Row r = rows.computeIfAbsent(example, e -> new Row(data));
        r.refs++;
    }

    /** @return the number of distinct examples whose input is held */
    int size() {
        return rows.size();
    }
}
