package io.neuronmonkey.stats;

import io.neuronmonkey.api.data.Tokens;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * For each neuron of a layer, the best {@code k} (value, example) pairs seen so far, exactly: a bounded binary heap
 * per neuron in flat primitive arrays whose root is the worst kept entry. "Best" is the largest value for a top heap
 * and the smallest for a bottom heap; equal values are ordered by example index, earlier first, then (for several
 * entries of one example, the tokens of a text) by position, earlier first. That order is total,
 * so the kept set is the same whatever the order of the examples and however heaps were merged (the union of heaps
 * followed by the same selection). Each kept entry carries a {@link Kept} payload (id, label, metadata, input copy)
 * whose input buffer is reused when the entry is evicted.
 */
final class BoundedHeaps implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /** What is remembered about a kept example besides its value. */
    static final class Kept implements java.io.Serializable {

        private static final long serialVersionUID = 1L;
        /** the example's id; null until {@link #resolveId} once the batch is done */
        String id;
        /** the batch's ids and the example's row in them, until {@link #resolveId} (ids are made on demand) */
        transient List<String> idSource;
        int idRow;
        int label;
        Map<String, String> metadata;
        /** the example's input row, shared with every other entry that keeps the example (read-only); null: none */
        SharedInputs.Row input;
        /** the example's tokens, by reference (text only; null otherwise) */
        Tokens tokens;
        /** the neuron's values at the window's positions (text only), the first {@link #windowLength} entries */
        float[] window;
        /** the sequence position of the window's first token */
        int windowFirst;
        /** the number of tokens in the window; 0 when there is none */
        int windowLength;

        /** Looks the id up in the batch's ids, once; the entry then no longer refers to the batch. */
        void resolveId() {
            if (idSource != null) {
                id = idSource.get(idRow);
                idSource = null;
            }
        }
    }

    /** One kept entry, for output. */
    record Entry(float value, long example, int position, Kept kept) {
    }

    private final int neurons;
    private final int k;
    private final boolean largest;
    private final float[] values;
    private final long[] examples;
    private final int[] positions;
    private final Kept[] kept;
    private final int[] size;
    /**
     * Per neuron, the value a candidate must reach to be looked at: the root's value once the heap is full (minus or
     * plus infinity before). A candidate strictly worse can never enter, so the per-value test is one comparison
     * against a flat array; heap work is only for the rare candidates at or past the bar.
     */
    private final float[] bar;

    BoundedHeaps(int neurons, int k, boolean largest) {
        this.neurons = neurons;
        this.k = k;
        this.largest = largest;
        values = new float[neurons * k];
        examples = new long[neurons * k];
        positions = new int[neurons * k];
        kept = new Kept[neurons * k];
        size = new int[neurons];
        bar = new float[neurons];
        java.util.Arrays.fill(bar, largest ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY);
    }

    /**
     * @return true when {@code value} may enter neuron's heap (at or past its bar); false means {@link #claim} would
     *         refuse it
     */
    boolean admits(int neuron, float value) {
        return largest ? value >= bar[neuron] : value <= bar[neuron];
    }

    /** The bars of all neurons ({@link #admits}), for callers that test many values in a loop; do not write. */
    float[] bars() {
        return bar;
    }

    int k() {
        return k;
    }

    private boolean better(float v1, long e1, int p1, float v2, long e2, int p2) {
        if (v1 == v2) {
            return e1 < e2 || e1 == e2 && p1 < p2;
        }
        return largest ? v1 > v2 : v1 < v2;
    }

    /**
     * Makes room for (value, example) in neuron's heap if it belongs there and writes it to a slot, not yet in heap
     * order: the caller fills {@link #payload} of that slot, then calls {@link #settle}.
     *
     * @param value a value that is not NaN
     * @return the slot (an index into the flat arrays), or -1 when the pair is not among the best k
     */
    int claim(int neuron, float value, long example, int position) {
        int base = neuron * k;
        int s = size[neuron];
        int slot;
        if (s < k) {
            slot = base + s;
            size[neuron] = s + 1;
            if (kept[slot] == null) {
                kept[slot] = new Kept();
            }
        } else if (better(value, example, position, values[base], examples[base], positions[base])) {
            slot = base;
        } else {
            return -1;
        }
        values[slot] = value;
        examples[slot] = example;
        positions[slot] = position;
        return slot;
    }

    /**
     * Sets the position of a claimed slot before {@link #settle}: for callers that claim with a placeholder because
     * the candidate's example differs from every kept one's, so that its position cannot decide a tie.
     */
    void position(int slot, int position) {
        positions[slot] = position;
    }

    /** @return the payload of a claimed slot, to be overwritten by the caller */
    Kept payload(int slot) {
        return kept[slot];
    }

    /** Restores heap order after {@link #claim}: a new entry sifts up, a replaced root sifts down. */
    void settle(int neuron, int slot) {
        int base = neuron * k;
        int i = slot - base;
        int n = size[neuron];
        while (i > 0) {
            int parent = (i - 1) / 2;
            if (!better(values[base + parent], examples[base + parent], positions[base + parent], values[base + i], examples[base + i],
                    positions[base + i])) {
                break;
            }
            swap(base + parent, base + i);
            i = parent;
        }
        while (true) {
            int l = 2 * i + 1;
            if (l >= n) {
                break;
            }
            int worst = l;
            int r = l + 1;
            if (r < n && better(values[base + l], examples[base + l], positions[base + l], values[base + r], examples[base + r],
                    positions[base + r])) {
                worst = r;
            }
            if (!better(values[base + i], examples[base + i], positions[base + i], values[base + worst], examples[base + worst],
                    positions[base + worst])) {
                break;
            }
            swap(base + i, base + worst);
            i = worst;
        }
        updateBar(neuron);
    }

    private void updateBar(int neuron) {
        if (size[neuron] == k) {
            bar[neuron] = values[neuron * k];
        }
    }

    private void swap(int a, int b) {
        float v = values[a];
        values[a] = values[b];
        values[b] = v;
        long e = examples[a];
        examples[a] = examples[b];
        examples[b] = e;
        int p = positions[a];
        positions[a] = positions[b];
        positions[b] = p;
        Kept x = kept[a];
        kept[a] = kept[b];
        kept[b] = x;
    }

    /** Offers every entry of {@code other} (same shape and direction); the payloads are taken over, not copied. */
    void merge(BoundedHeaps other) {
        for (int c = 0; c < neurons; c++) {
            int ob = c * other.k;
            for (int j = 0; j < other.size[c]; j++) {
                int slot = claim(c, other.values[ob + j], other.examples[ob + j], other.positions[ob + j]);
                if (slot >= 0) {
                    kept[slot] = other.kept[ob + j];
                    settle(c, slot);
                }
            }
        }
    }

    /** Calls {@code action} with the payload of every kept entry (holding an input row). */
    void forEachKept(java.util.function.Consumer<Kept> action) {
        for (int c = 0; c < neurons; c++) {
            for (int j = 0; j < size[c]; j++) {
                Kept x = kept[c * k + j];
                if (x.input != null) {
                    action.accept(x);
                }
            }
        }
    }

    /** @return neuron's kept entries, best first */
    List<Entry> sorted(int neuron) {
        int base = neuron * k;
        List<Entry> out = new ArrayList<>(size[neuron]);
        for (int j = 0; j < size[neuron]; j++) {
            out.add(new Entry(values[base + j], examples[base + j], positions[base + j], kept[base + j]));
        }
        out.sort((a, b) -> a.value() == b.value() ? a.example() != b.example() ? Long.compare(a.example(), b.example())
                : Integer.compare(a.position(), b.position()) : largest ? Float.compare(b.value(), a.value()) : Float.compare(a.value(), b.value()));
        return out;
    }
}
