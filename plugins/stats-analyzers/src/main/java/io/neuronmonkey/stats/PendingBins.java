package io.neuronmonkey.stats;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.store.Store;

/**
 * One neuron's sketch counts not yet handed to its DDSketch: per bin index of each side (positive and negative
 * values) a 16-bit count in a window that grows as needed, and the count of values in the zero band. Adding to an
 * array slot costs a nanosecond; the sketch's store costs tens per call, so bins are handed over only when the sketch
 * is read or merged ({@link #flush}), or before a count could overflow ({@link #full()}), each non-empty bin once
 * with its count. The counts are 16-bit so that a wide layer's windows touch half the cache lines of int counts (a
 * batch's increments to thousands of neurons' windows miss the cache). Bin counts are integers held in
 * doubles by the sketch, so the result is exactly that of adding the values one by one, in any order.
 */
final class PendingBins implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /** The most values one call may add: callers split longer runs (see {@link #full()}). */
    static final int MAX_RUN = 1 << 15;
    /** Counts are flushed once the values pending pass this, so that the next run cannot take a count past 65535. */
    private static final long FLUSH_AT = 65535 - MAX_RUN;

    private char[] positive = new char[0];
    private int positiveBase;
    private char[] negative = new char[0];
    private int negativeBase;
    private long zeros;
    private long pending;

    /** Counts the run's bin indices of one side; {@code idx[0..n)}. */
    void addPositive(int[] idx, int n) {
        positive = add(positive, positiveBase, idx, n, true);
    }

    /** As {@link #addPositive} for negative values (indices of their magnitudes). */
    void addNegative(int[] idx, int n) {
        negative = add(negative, negativeBase, idx, n, false);
    }

    void addZeros(long n) {
        zeros += n;
        pending += n;
    }

    /** @return true when the counts must be flushed before more are added */
    boolean full() {
        return pending > FLUSH_AT;
    }

    private char[] add(char[] counts, int base, int[] idx, int n, boolean pos) {
        if (n == 0) {
            return counts;
        }
        int lo = Integer.MAX_VALUE;
        int hi = Integer.MIN_VALUE;
        for (int i = 0; i < n; i++) {
            lo = Math.min(lo, idx[i]);
            hi = Math.max(hi, idx[i]);
        }
        if (counts.length == 0 || lo < base || hi >= base + counts.length) {
            int nlo = counts.length == 0 ? lo : Math.min(lo, base);
            int nhi = counts.length == 0 ? hi : Math.max(hi, base + counts.length - 1);
            // room on both sides, so that a slowly widening range does not regrow every batch
            int size = nhi - nlo + 1;
            int margin = Math.max(16, size / 2);
            char[] grown = new char[size + 2 * margin];
            int nbase = nlo - margin;
            if (counts.length > 0) {
                System.arraycopy(counts, 0, grown, base - nbase, counts.length);
            }
            counts = grown;
            base = nbase;
            if (pos) {
                positiveBase = base;
            } else {
                negativeBase = base;
            }
        }
        for (int i = 0; i < n; i++) {
            counts[idx[i] - base]++;
        }
        pending += n;
        return counts;
    }

    /** Hands every pending count to the sketch and clears them. */
    void flush(DDSketch sketch) {
        flush(sketch.getPositiveValueStore(), positive, positiveBase);
        flush(sketch.getNegativeValueStore(), negative, negativeBase);
        if (zeros > 0) {
            sketch.accept(0.0, zeros);
            zeros = 0;
        }
        pending = 0;
    }

    private static void flush(Store store, char[] counts, int base) {
        int first = 0;
        int last = counts.length - 1;
        while (first <= last && counts[first] == 0) {
            first++;
        }
        while (last > first && counts[last] == 0) {
            last--;
        }
        if (first > last) {
            return;
        }
        // the two ends first: a dense store then widens its range at most twice, not at every new bin (re-centring
        // copies its array); the counts are integers, so the order does not change the state
        store.add(base + first, counts[first]);
        counts[first] = 0;
        if (last > first) {
            store.add(base + last, counts[last]);
            counts[last] = 0;
        }
        for (int j = first + 1; j < last; j++) {
            if (counts[j] != 0) {
                store.add(base + j, counts[j]);
                counts[j] = 0;
            }
        }
    }
}
