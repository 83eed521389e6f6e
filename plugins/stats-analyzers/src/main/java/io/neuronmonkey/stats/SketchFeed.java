package io.neuronmonkey.stats;

import com.datadoghq.sketch.ddsketch.mapping.IndexMapping;

/**
 * Turns runs of values into DDSketch bin counts ({@link PendingBins}), with exactly the bins
 * {@code DDSketch.accept(double)} gives value by value: a value's bin index is the sketch mapping's, looked up in a
 * table built from the mapping (two array reads and no branch instead of a logarithm and a data-dependent branch),
 * values within the sketch's zero band count as zeros. One instance per thread; scratch is reused.
 */
final class SketchFeed {

    /** One table per mapping (they are immutable and shared; a mapping is a value object). */
    private static final java.util.Map<TableKey, int[][]> TABLES = new java.util.concurrent.ConcurrentHashMap<>();

    private record TableKey(IndexMapping mapping, int minBits) {
    }

    private final IndexMapping mapping;
    /** per cell of float magnitudes: the bin index at the cell's start */
    private final int[] tableBase;
    /** per cell: the first magnitude bits of the next bin, or Integer.MAX_VALUE */
    private final int[] tableNext;
    /** magnitudes (float bits) up to this are in the sketch's zero band */
    private final int minBits;
    private final double minIndexed;
    private int[] positive = new int[0];
    private int[] negative = new int[0];

    /**
     * @param mapping      the sketches' index mapping
     * @param minIndexedAt the smallest magnitude the sketches index (their constructor's argument); smaller ones count
     *                     as zero
     */
    SketchFeed(IndexMapping mapping, double minIndexedAt) {
        this.mapping = mapping;
        this.minIndexed = Math.max(minIndexedAt, mapping.minIndexableValue());
        // the largest float not above minIndexed: floats up to it go to the zero band, as accept(double) sends them
        float f = (float) minIndexed;
        if (f > minIndexed) {
            f = Math.nextDown(f);
        }
        this.minBits = Float.floatToRawIntBits(f);
        int[][] t = TABLES.computeIfAbsent(new TableKey(mapping, minBits), k -> table(k.mapping(), k.minBits()));
        this.tableBase = t == null ? null : t[0];
        this.tableNext = t == null ? null : t[1];
    }

    /**
     * The mapping's index of a positive float from a table: the cell of a float is its top 15 magnitude bits
     * (exponent and 7 mantissa bits, a relative width of 2^-7), and a cell that holds a bin boundary records the
     * first float of the next bin. The table is built from the mapping itself (it is monotone in the value), so the
     * index equals {@code mapping.index(x)} for every float above the zero band; null when a cell spans more than
     * two bins (accuracies finer than about 0.4%: then the mapping is called per value).
     */
    private static int[][] table(IndexMapping mapping, int minBits) {
        int cells = 1 << 15;
        int[] base = new int[cells];
        int[] next = new int[cells];
        for (int cell = 0; cell < cells - 256; cell++) {
            int first = cell << 16;
            int last = first | 0xFFFF;
            float lo = Float.intBitsToFloat(first);
            float hi = Float.intBitsToFloat(last);
            if (last <= minBits || !Float.isFinite(hi)) {
                // zero band (its values never read the table) or not finite
                base[cell] = 0;
                next[cell] = Integer.MAX_VALUE;
                continue;
            }
            if (first <= minBits) {
                first = minBits + 1;
                lo = Float.intBitsToFloat(first);
            }
            int a = mapping.index(lo);
            int b = mapping.index(hi);
            if (b - a > 1) {
                return null;
            }
            base[cell] = a;
            if (a == b) {
                next[cell] = Integer.MAX_VALUE;
                continue;
            }
            // the first float bits in the cell whose index is b
            int l = first;
            int h = last;
            while (l < h) {
                int m = (l + h) >>> 1;
                if (mapping.index(Float.intBitsToFloat(m)) >= b) {
                    h = m;
                } else {
                    l = m + 1;
                }
            }
            next[cell] = l;
        }
        return new int[][]{base, next};
    }

    /**
     * Adds {@code v[from..to)}, all finite, to a neuron's pending bins (flushed into its sketch by the caller when
     * the sketch is read or merged, or when {@link PendingBins#full()}).
     */
    void add(PendingBins bins, float[] v, int from, int to) {
        int len = to - from;
        if (positive.length < len + 1) {
            positive = new int[len + 1];
            negative = new int[len + 1];
        }
        int np = 0;
        int nn = 0;
        long zeros = 0;
        int[] pos = positive;
        int[] neg = negative;
        int[] base = tableBase;
        int[] next = tableNext;
        for (int i = from; i < to; i++) {
            // branch-free: which side a value falls on is data-dependent (a ReLU's zeros) and would mispredict, so
            // every value gets an index written to both sides, and only its own side's count advances
            int bits = Float.floatToRawIntBits(v[i]);
            int mag = bits & 0x7FFFFFFF;
            int indexed = mag > minBits ? 1 : 0;
            int isNeg = (bits >>> 31) & indexed;
            int isPos = indexed - isNeg;
            int idx;
            if (base != null) {
                int cell = mag >>> 16;
                idx = base[cell] + (mag >= next[cell] ? 1 : 0);
            } else {
                idx = mapping.index(indexed == 1 ? Float.intBitsToFloat(mag) : 1.0);
            }
            pos[np] = idx;
            neg[nn] = idx;
            np += isPos;
            nn += isNeg;
            zeros += 1 - isPos - isNeg;
        }
        bins.addPositive(pos, np);
        bins.addNegative(neg, nn);
        bins.addZeros(zeros);
    }

}
