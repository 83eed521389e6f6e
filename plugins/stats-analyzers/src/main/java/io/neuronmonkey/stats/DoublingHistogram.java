package io.neuronmonkey.stats;

import java.util.Arrays;

/**
 * A streaming histogram with at most {@code bins} bins whose width is a power of two ({@code 2^(level+BASE_EXP)}),
 * aligned to multiples of the width. When a value falls outside the span, the width doubles (adjacent bins merge).
 * The final level is the smallest one whose span over all values fits in {@code bins}, so the result does not
 * depend on the order of the values or on how they were split and merged: exact and deterministic in one pass.
 */
final class DoublingHistogram implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    static final int BASE_EXP = -20;

    private final int bins;
    private int level;
    private double inverseWidth = 1.0 / width(0);
    private long lo;
    private long hi;
    private long[] counts;
    private boolean empty = true;

    DoublingHistogram(int bins) {
        this.bins = bins;
        this.counts = new long[bins];
    }

    static double width(int level) {
        return Math.scalb(1.0, level + BASE_EXP);
    }

    int level() {
        return level;
    }

    long lo() {
        return lo;
    }

    long hi() {
        return hi;
    }

    boolean isEmpty() {
        return empty;
    }

    /** Count of the bin with absolute index {@code lo + offset} at {@link #level()}. */
    long count(int offset) {
        return counts[offset];
    }

    void add(double x) {
        fit(x);
        counts[(int) (index(x) - lo)]++;
    }

    /**
     * Widens the span to hold {@code x} as {@link #add} would, without counting it. After fitting a batch's minimum
     * and maximum, {@link #addFitted} takes its values with no range checks; the state is exactly the one adding the
     * values one by one gives, since the final level and span depend only on the values' extremes.
     */
    void fit(double x) {
        long idx = index(x);
        if (empty) {
            empty = false;
            lo = idx;
            hi = idx;
            return;
        }
        while (idx < lo && hi - idx + 1 > bins || idx > hi && idx - lo + 1 > bins) {
            coarsen();
            idx = index(x);
        }
        if (idx < lo) {
            shiftLow(idx);
        } else if (idx > hi) {
            hi = idx;
        }
    }

    /** Interleaved copies of the counts in {@link #addFitted}'s scratch. */
    static final int SCRATCH_COPIES = 4;

    /**
     * Counts {@code v[from..to)}, all finite and within the span {@link #fit} made room for. Value i is counted in
     * copy {@code i mod 4} of an int scratch, so that a run of equal values (a ReLU's zeros) does not wait on one
     * counter's read-modify-write; the copies are added into the counts after the run.
     *
     * @param scratch at least {@code 4 * bins} ints, all zero (left zero)
     */
    void addFitted(float[] v, int from, int to, int[] scratch) {
        double inv = inverseWidth;
        long base = lo;
        int b = bins;
        for (int start = from; start < to; start += Integer.MAX_VALUE / 2) {
            int end = (int) Math.min(to, (long) start + Integer.MAX_VALUE / 2);
            for (int i = start; i < end; i++) {
                double scaled = v[i] * inv;
                long idx = (long) scaled;
                idx = scaled < idx ? idx - 1 : idx;
                scratch[(i & 3) * b + (int) (idx - base)]++;
            }
            long[] c = counts;
            for (int k = 0; k < b; k++) {
                c[k] += (long) scratch[k] + scratch[b + k] + scratch[2 * b + k] + scratch[3 * b + k];
                scratch[k] = 0;
                scratch[b + k] = 0;
                scratch[2 * b + k] = 0;
                scratch[3 * b + k] = 0;
            }
        }
    }

    /**
     * floor(x / width) at the current level, coarsening first while |x| would not fit in the index range. The width
     * is a power of two, so multiplying by its exact inverse equals the division; truncation is corrected to floor
     * for negative fractions. This is the per-value hot path of a census.
     */
    private long index(double x) {
        double scaled = x * inverseWidth;
        while (Math.abs(scaled) > 0x1p50) {
            coarsen();
            scaled = x * inverseWidth;
        }
        long idx = (long) scaled;
        return scaled < idx ? idx - 1 : idx;
    }

    private void shiftLow(long newLo) {
        int shift = (int) (lo - newLo);
        System.arraycopy(counts, 0, counts, shift, (int) (hi - lo + 1));
        Arrays.fill(counts, 0, shift, 0);
        lo = newLo;
    }

    /** Doubles the width: absolute bin i becomes floor(i / 2). */
    private void coarsen() {
        long nlo = lo >> 1;
        long nhi = hi >> 1;
        long[] n = new long[bins];
        for (long i = lo; i <= hi; i++) {
            n[(int) ((i >> 1) - nlo)] += counts[(int) (i - lo)];
        }
        counts = n;
        lo = nlo;
        hi = nhi;
        level++;
        inverseWidth = 1.0 / width(level);
    }

    /** Brings this histogram to at least {@code target} level. */
    void coarsenTo(int target) {
        while (level < target) {
            coarsen();
        }
    }

    void merge(DoublingHistogram o) {
        if (o.empty) {
            return;
        }
        if (empty) {
            level = o.level;
            inverseWidth = o.inverseWidth;
            lo = o.lo;
            hi = o.hi;
            counts = o.counts.clone();
            empty = false;
            return;
        }
        DoublingHistogram other = o.copy();
        int target = Math.max(level, other.level);
        coarsenTo(target);
        other.coarsenTo(target);
        while (Math.max(hi, other.hi) - Math.min(lo, other.lo) + 1 > bins) {
            coarsen();
            other.coarsen();
        }
        long nlo = Math.min(lo, other.lo);
        if (nlo < lo) {
            shiftLow(nlo);
        }
        hi = Math.max(hi, other.hi);
        for (long i = other.lo; i <= other.hi; i++) {
            counts[(int) (i - lo)] += other.counts[(int) (i - other.lo)];
        }
    }

    DoublingHistogram copy() {
        DoublingHistogram c = new DoublingHistogram(bins);
        c.level = level;
        c.inverseWidth = inverseWidth;
        c.lo = lo;
        c.hi = hi;
        c.counts = counts.clone();
        c.empty = empty;
        return c;
    }
}
