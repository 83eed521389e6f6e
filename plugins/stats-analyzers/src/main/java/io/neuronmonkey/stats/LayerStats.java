package io.neuronmonkey.stats;

import com.datadoghq.sketch.ddsketch.DDSketch;
import com.datadoghq.sketch.ddsketch.mapping.CubicallyInterpolatedMapping;
import com.datadoghq.sketch.ddsketch.store.UnboundedSizeDenseStore;

import java.util.Arrays;

/**
 * Running statistics of one layer's neurons over the examples seen so far: exact sums and sums of squares
 * ({@link ExactMoments}, so means and standard deviations are the same whatever the order and split of the data),
 * extremes, firing and saturation counts, per-class sums, a {@link DoublingHistogram} and a DDSketch quantile sketch
 * per neuron (relative-accuracy bins; merging adds bin counts, so it is deterministic and split-independent).
 * Memory depends on the neuron count only (the sketches grow with the log of the value range, not with n).
 * <p>
 * An observation is one example reduced over its positions, or with {@link ActivationStatsAnalyzer.Reduce#TOKEN}
 * one position (a token of a text batch). A position mask (the real tokens of a text batch) keeps padding out of
 * every statistic; without one every position counts.
 */
final class LayerStats implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    final int neurons;
    final int positions;
    final int classes;
    /** Observations: examples, or positions (tokens) with reduce token. */
    long count;
    /** Examples that gave an observation (an example of only padding gives none). */
    long sequences;
    /** (example, position) values that entered, padding excluded. */
    long observedPositions;
    /** Padding positions left out. */
    long paddingExcluded;
    /** True once a batch came with a position mask for this layer (its positions are tokens). */
    boolean masked;
    long nonFinite;
    long rawValues;
    long rawAtOrBelow;
    final ExactMoments moments;
    final double[] min;
    final double[] max;
    final long[] seen;
    final long[] fired;
    /** Per neuron, the (example, position) values above the threshold; spatial layers only (equal to fired otherwise). */
    final long[] positionsFired;
    final long[] saturated;
    /** per (class, neuron) slot {@code k * neurons + c}: the exact sums of the class means */
    final ExactSums classMoments;
    final long[] classCount;
    final DoublingHistogram[] hist;
    /**
     * Magnitudes below this count as zero in the quantile sketches. Without a floor, ReLU outputs like 1e-30 stretch
     * a dense store over thousands of empty bins and every new extreme re-centres it (measured: half the time of a
     * wide layer's census); with it a store spans at most about ln(max/1e-6)/ln(1+2a) bins.
     */
    static final double SKETCH_MIN_VALUE = 1e-6;

    /**
     * Bins a sketch store allocates at a time. The stores are dense arrays that widen when a bin falls outside them;
     * values reach them only through {@link PendingBins#flush}, which adds a window's two ends first, so a store
     * widens at most twice a flush and a small increment costs nothing. (When values went in one by one, 1024 bins
     * kept re-centring rare, at 8 KB a store and a neuron: most of a wide layer's census state, copied by every young
     * collection.)
     */
    static final int SKETCH_STORE_BINS = 128;
    /** not Serializable itself: written as each sketch's own encoding (see {@link #writeObject}) */
    transient DDSketch[] sketch;
    /** which optional statistics are kept (the others cost nothing) */
    final boolean quantiles;
    final boolean histogram;
    final boolean classMeans;

    // scratch, reused across batches
    private float[] reduced = new float[0];
    private int[] rowLabels = new int[0];
    private final double[] sumScratch;
    private final int[] firedScratch;
    private final int[] keyScratch;
    /** a run's extremes and counts ({@link PositionKernels#extremes}) */
    private final float[] extremesScratch = new float[2];
    private final int[] countsScratch = new int[2];
    /** the second example's sums when two are reduced at once */
    private double[] sumScratch2 = new double[0];
    /** a block of the batch's reduced values, neuron-major: neuron c's values at {@code (c - c0) * n ..} */
    private float[] columns = new float[0];
    /** scratch of {@link DoublingHistogram#addFitted} */
    private transient int[] histScratch;
    /** the batch's rows ordered by class */
    private int[] order = new int[0];
    private final int[] groupStart;
    private final int[] groupClass;
    /** not serialized: a deserialized state is only merged and read, never fed */
    private transient SketchFeed feed;
    /** per neuron, sketch counts not yet in {@link #sketch}: read the sketches only after {@link #flushSketches()} */
    private final PendingBins[] pendingBins;

    LayerStats(int neurons, int positions, int classes, int bins, double quantileAccuracy) {
        this(neurons, positions, classes, bins, quantileAccuracy, true, true, true);
    }

    /**
     * @param quantiles  keep the quantile sketches
     * @param histogram  keep the histograms
     * @param classMeans keep the per-class moments
     */
    LayerStats(int neurons, int positions, int classes, int bins, double quantileAccuracy, boolean quantiles,
               boolean histogram, boolean classMeans) {
        this.quantiles = quantiles;
        this.histogram = histogram;
        this.classMeans = classMeans;
        this.neurons = neurons;
        this.positions = positions;
        this.classes = classes;
        moments = new ExactMoments(neurons);
        min = new double[neurons];
        max = new double[neurons];
        Arrays.fill(min, Double.POSITIVE_INFINITY);
        Arrays.fill(max, Double.NEGATIVE_INFINITY);
        seen = new long[neurons];
        fired = new long[neurons];
        positionsFired = new long[neurons];
        saturated = new long[neurons];
        classMoments = new ExactSums(classMeans ? classes * neurons : 0);
        classCount = new long[classes];
        hist = new DoublingHistogram[neurons];
        sketch = new DDSketch[neurons];
        CubicallyInterpolatedMapping mapping = new CubicallyInterpolatedMapping(quantileAccuracy);
        for (int i = 0; i < neurons; i++) {
            hist[i] = new DoublingHistogram(bins);
            sketch[i] = new DDSketch(mapping, () -> new UnboundedSizeDenseStore(SKETCH_STORE_BINS),
                    () -> new UnboundedSizeDenseStore(SKETCH_STORE_BINS), SKETCH_MIN_VALUE);
        }
        sumScratch = new double[neurons];
        firedScratch = new int[neurons];
        keyScratch = new int[neurons];
        groupStart = new int[classes + 2];
        groupClass = new int[classes + 1];
        feed = new SketchFeed(mapping, SKETCH_MIN_VALUE);
        histScratch = new int[DoublingHistogram.SCRATCH_COPIES * bins];
        pendingBins = new PendingBins[neurons];
        for (int i = 0; i < neurons; i++) {
            pendingBins[i] = new PendingBins();
        }
    }

    /**
     * @param act       activations, row-major {@code [n, positions, neurons]} (channels last)
     * @param n         examples in the batch
     * @param labels    class per example, or null
     * @param reduceMax true to reduce positions by max, false by mean
     */
    void accept(float[] act, int n, int[] labels, boolean reduceMax, double threshold, double satLow, double satHigh) {
        int rowSize = positions * neurons;
        rawValues += (long) n * rowSize;
        observedPositions += (long) n * positions;
        sequences += n;
        if (positions == 1) {
            // the values are their own reduction; update counts those at or below the threshold on its way
            rawAtOrBelow += update(act, n, labels, threshold, satLow, satHigh);
            return;
        }
        if (reduced.length < n * neurons) {
            reduced = new float[n * neurons];
        }
        rawAtOrBelow += reducePositions(act, n, reduceMax, threshold);
        update(reduced, n, labels, threshold, satLow, satHigh);
    }

    /**
     * Max or mean over every position of each example, and per channel the positions above the threshold, by
     * {@link PositionKernels} (vector lanes where the JVM has them): the max runs on the floats' order-preserving
     * integer keys (the same result as {@code Math.max}, -0.0 below 0.0, without its NaN branches), the mean is the
     * double sum in position order (two examples at a time), the firing counts go to an int scratch array; a NaN is
     * detected on the way and its example redone value by value, so that NaN wins the max as before.
     *
     * @return the values at or below the threshold (NaN is neither above nor at or below)
     */
    private long reducePositions(float[] act, int n, boolean reduceMax, double threshold) {
        int rowSize = positions * neurons;
        int[] fired = firedScratch;
        int[] key = keyScratch;
        double[] acc = sumScratch;
        Arrays.fill(fired, 0);
        long nans = 0;
        float firesAbove = floatAtOrBelow(threshold);
        PositionKernels kernels = PositionKernels.INSTANCE;
        if (!reduceMax && sumScratch2.length < neurons) {
            sumScratch2 = new double[neurons];
        }
        double[] acc2 = sumScratch2;
        for (int e = 0; e < n; e++) {
            int base = e * rowSize;
            int rbase = e * neurons;
            if (reduceMax) {
                boolean nan = kernels.maxKeys(act, base, positions, neurons, key, fired, firesAbove);
                for (int c = 0; c < neurons; c++) {
                    reduced[rbase + c] = PositionKernels.unkey(key[c]);
                }
                if (nan) {
                    nans += redoWithNaN(act, base, rbase, true);
                }
                continue;
            }
            // two examples at a time: their sums' chains of adds are independent
            boolean pair = e + 1 < n;
            if (pair) {
                kernels.sumsPair(act, base, base + rowSize, positions, neurons, acc, acc2, false, fired, firesAbove);
            } else {
                kernels.sums(act, base, positions, neurons, acc, false, fired, firesAbove);
            }
            for (int k = 0; k < (pair ? 2 : 1); k++) {
                double[] sums = k == 0 ? acc : acc2;
                int rb = rbase + k * neurons;
                boolean nan = false;
                for (int c = 0; c < neurons; c++) {
                    double m = sums[c] / positions;
                    reduced[rb + c] = (float) m;
                    nan |= m != m;
                }
                if (nan) {
                    nans += redoWithNaN(act, base + k * rowSize, rb, false);
                }
            }
            e += pair ? 1 : 0;
        }
        long above = 0;
        for (int c = 0; c < neurons; c++) {
            positionsFired[c] += fired[c];
            above += fired[c];
        }
        return (long) n * rowSize - above - nans;
    }

    /**
     * The rare example with a NaN (or, for the mean, infinities of both signs): its max redone with {@code Math.max}
     * (NaN at any position makes the channel NaN), and its NaN values counted.
     */
    private long redoWithNaN(float[] act, int base, int rbase, boolean reduceMax) {
        long nans = 0;
        for (int i = base, end = base + positions * neurons; i < end; i++) {
            nans += act[i] != act[i] ? 1 : 0;
        }
        if (reduceMax) {
            for (int c = 0; c < neurons; c++) {
                float m = Float.NEGATIVE_INFINITY;
                for (int p = 0; p < positions; p++) {
                    m = Math.max(m, act[base + p * neurons + c]);
                }
                reduced[rbase + c] = m;
            }
        }
        return nans;
    }

    /**
     * Any reduction, over the positions a mask lets in. Max and mean without a mask take {@link #accept(float[], int,
     * int[], boolean, double, double, double)} (the image path, unchanged).
     *
     * @param act    activations, row-major {@code [n, positions, neurons]} (channels last)
     * @param n      examples in the batch
     * @param labels class per example, or null
     * @param reduce how positions become observations
     * @param mask   per example and position true for a real token; null: every position counts
     */
    void accept(float[] act, int n, int[] labels, ActivationStatsAnalyzer.Reduce reduce, boolean[] mask, double threshold,
                double satLow, double satHigh) {
        boolean perPosition = reduce == ActivationStatsAnalyzer.Reduce.TOKEN;
        if (mask == null && (positions == 1 || reduce == ActivationStatsAnalyzer.Reduce.MAX
                || reduce == ActivationStatsAnalyzer.Reduce.MEAN)) {
            accept(act, n, labels, reduce == ActivationStatsAnalyzer.Reduce.MAX, threshold, satLow, satHigh);
            return;
        }
        masked |= mask != null;
        int rows = perPosition ? n * positions : n;
        if (reduced.length < rows * neurons) {
            reduced = new float[rows * neurons];
        }
        if (labels != null && rowLabels.length < rows) {
            rowLabels = new int[rows];
        }
        int rowSize = positions * neurons;
        long atOrBelow = 0;
        long real = 0;
        int m = 0;
        int seqs = 0;
        for (int e = 0; e < n; e++) {
            int base = e * rowSize;
            int mb = e * positions;
            int first = -1;
            int last = -1;
            int count = 0;
            for (int p = 0; p < positions; p++) {
                if (mask == null || mask[mb + p]) {
                    first = first < 0 ? p : first;
                    last = p;
                    count++;
                }
            }
            if (count == 0) {
                continue;
            }
            seqs++;
            real += count;
            if (perPosition) {
                // every real position is an observation: copy runs of consecutive real positions in bulk
                int p = first;
                while (p <= last) {
                    if (mask != null && !mask[mb + p]) {
                        p++;
                        continue;
                    }
                    int q = p;
                    while (q + 1 <= last && (mask == null || mask[mb + q + 1])) {
                        q++;
                    }
                    int len = q - p + 1;
                    System.arraycopy(act, base + p * neurons, reduced, m * neurons, len * neurons);
                    if (labels != null) {
                        java.util.Arrays.fill(rowLabels, m, m + len, labels[e]);
                    }
                    m += len;
                    p = q + 1;
                }
                continue;
            }
            int rbase = m * neurons;
            double[] acc = sumScratch;
            boolean max = reduce == ActivationStatsAnalyzer.Reduce.MAX;
            if (max) {
                Arrays.fill(reduced, rbase, rbase + neurons, Float.NEGATIVE_INFINITY);
            } else {
                Arrays.fill(acc, 0);
            }
            for (int p = first; p <= last; p++) {
                if (mask != null && !mask[mb + p]) {
                    continue;
                }
                int off = base + p * neurons;
                for (int c = 0; c < neurons; c++) {
                    float v = act[off + c];
                    if (max) {
                        reduced[rbase + c] = Math.max(reduced[rbase + c], v);
                    } else {
                        acc[c] += v;
                    }
                    atOrBelow += v <= threshold ? 1 : 0;
                    positionsFired[c] += v > threshold ? 1 : 0;
                }
            }
            switch (reduce) {
                case MEAN -> {
                    for (int c = 0; c < neurons; c++) {
                        reduced[rbase + c] = (float) (acc[c] / count);
                    }
                }
                case FIRST -> System.arraycopy(act, base + first * neurons, reduced, rbase, neurons);
                case LAST -> System.arraycopy(act, base + last * neurons, reduced, rbase, neurons);
                default -> {
                }
            }
            if (labels != null) {
                rowLabels[m] = labels[e];
            }
            m++;
        }
        rawValues += real * neurons;
        observedPositions += real;
        paddingExcluded += (long) n * positions - real;
        sequences += seqs;
        long reducedAtOrBelow = update(reduced, m, labels == null ? null : rowLabels, threshold, satLow, satHigh);
        // per position, the observations are the raw values themselves
        rawAtOrBelow += perPosition ? reducedAtOrBelow : atOrBelow;
    }

    /** @return how many of the values {@code r} are at or below the threshold (NaN is neither above nor at or below) */
    private long update(float[] r, int n, int[] labels, double threshold, double satLow, double satHigh) {
        for (int e = 0; e < n; e++) {
            int label = labels == null ? -1 : labels[e];
            if (label >= 0 && label < classes) {
                classCount[label]++;
            }
        }
        if (n == 0) {
            return 0;
        }
        // rows grouped by class (stable), then transposed to neuron-major: each neuron's values of the batch are one
        // contiguous run, and each class's values a contiguous sub-run. Every statistic here is independent of the
        // order of the values, so the results are exactly those of the per-value loop.
        int groups = orderByClass(n, classMeans ? labels : null);
        // neurons in blocks whose transposed values (about 32 KB) stay in cache while every statistic reads them
        int block = Math.max(8, Math.min(neurons, (8192 / n + 7) & ~7));
        long atOrBelow = 0;
        for (int c0 = 0; c0 < neurons; c0 += block) {
            int c1 = Math.min(neurons, c0 + block);
            transpose(r, n, c0, c1);
            atOrBelow += updateBlock(r, n, labels, threshold, satLow, satHigh, groups, c0, c1);
        }
        count += n;
        return atOrBelow;
    }

    /**
     * The statistics of neurons {@code [c0, c1)}, whose values {@link #transpose} put in {@link #columns}.
     *
     * @return how many of their values are at or below the threshold
     */
    private long updateBlock(float[] r, int n, int[] labels, double threshold, double satLow, double satHigh,
                             int groups, int c0, int c1) {
        long atOrBelow = 0;
        // float bounds equivalent to the double ones for every float value: v > t iff v > floatAtOrBelow(t), and so on
        float fires0 = floatAtOrBelow(threshold);
        float low0 = floatAtOrBelow(satLow);
        float high0 = floatAtOrAbove(satHigh);
        PositionKernels kernels = PositionKernels.INSTANCE;
        float[] ext = extremesScratch;
        int[] counts = countsScratch;
        for (int c = c0; c < c1; c++) {
            int off = (c - c0) * n;
            float[] col = columns;
            ext[0] = (float) min[c];
            ext[1] = (float) max[c];
            if (!kernels.extremes(col, off, off + n, ext, fires0, low0, high0, counts)) {
                // NaN or an infinity: this neuron's batch value by value
                atOrBelow += updateNeuron(c, r, n, labels, threshold, satLow, satHigh);
                continue;
            }
            float lo = ext[0];
            float hi = ext[1];
            int fires = counts[0];
            int sat = counts[1];
            atOrBelow += n - fires;
            min[c] = lo;
            max[c] = hi;
            fired[c] += fires;
            saturated[c] += sat;
            seen[c] += n;
            // the whole run into the neuron's moments (one flush of its exponent buckets), then each class's sub-run
            // into its class sums
            moments.addRun(c, col, off, off + n);
            for (int g = 0; g < groups && classMeans; g++) {
                int k = groupClass[g];
                if (k >= 0) {
                    classMoments.addRun(k * neurons + c, col, off + groupStart[g], off + groupStart[g + 1]);
                }
            }
            if (histogram) {
                DoublingHistogram h = hist[c];
                h.fit(lo);
                h.fit(hi);
                h.addFitted(col, off, off + n, histScratch);
            }
            if (quantiles) {
                PendingBins pb = pendingBins[c];
                for (int from = off, to = off + n; from < to; from += PendingBins.MAX_RUN) {
                    feed.add(pb, col, from, Math.min(to, from + PendingBins.MAX_RUN));
                    if (pb.full()) {
                        pb.flush(sketch[c]);
                    }
                }
            }
        }
        return atOrBelow;
    }

    /**
     * Orders the batch's rows by class into {@link #order}, stable, with the rows without a class last.
     *
     * @return the number of groups; group g holds rows {@code groupStart[g] .. groupStart[g+1]} of class
     *         {@code groupClass[g]} (-1: no class)
     */
    private int orderByClass(int n, int[] labels) {
        if (order.length < n) {
            order = new int[n];
        }
        if (labels == null) {
            for (int e = 0; e < n; e++) {
                order[e] = e;
            }
            groupStart[0] = 0;
            groupStart[1] = n;
            groupClass[0] = -1;
            return 1;
        }
        int[] sizes = new int[classes + 1];
        for (int e = 0; e < n; e++) {
            int label = labels[e];
            sizes[label >= 0 && label < classes ? label : classes]++;
        }
        int[] next = new int[classes + 1];
        int groups = 0;
        int at = 0;
        for (int k = 0; k <= classes; k++) {
            next[k] = at;
            if (sizes[k] > 0) {
                groupStart[groups] = at;
                groupClass[groups] = k < classes ? k : -1;
                groups++;
            }
            at += sizes[k];
        }
        groupStart[groups] = n;
        for (int e = 0; e < n; e++) {
            int label = labels[e];
            order[next[label >= 0 && label < classes ? label : classes]++] = e;
        }
        return groups;
    }

    /** @return the largest float at or below {@code t}: for every float v, {@code v > t} iff {@code v > result} */
    static float floatAtOrBelow(double t) {
        float f = (float) t;
        return f > t ? Math.nextDown(f) : f;
    }

    /** @return the smallest float at or above {@code t}: for every float v, {@code v >= t} iff {@code v >= result} */
    static float floatAtOrAbove(double t) {
        float f = (float) t;
        return f < t ? Math.nextUp(f) : f;
    }

    /** {@code columns[(c - c0) * n + j] = r[order[j] * neurons + c]} for the neurons {@code [c0, c1)}. */
    private void transpose(float[] r, int n, int c0, int c1) {
        if (columns.length < n * (c1 - c0)) {
            columns = new float[n * (c1 - c0)];
        }
        float[] col = columns;
        int[] ord = order;
        for (int j = 0; j < n; j++) {
            int src = ord[j] * neurons;
            for (int c = c0; c < c1; c++) {
                col[(c - c0) * n + j] = r[src + c];
            }
        }
    }

    /**
     * One neuron value by value, in row order: the path of a batch that holds a NaN or an infinity for it.
     *
     * @return how many of its values are at or below the threshold
     */
    private long updateNeuron(int c, float[] r, int n, int[] labels, double threshold, double satLow, double satHigh) {
        DoublingHistogram h = hist[c];
        DDSketch q = sketch[c];
        double lo = min[c];
        double hi = max[c];
        long fires = 0;
        long sat = 0;
        long valid = 0;
        long atOrBelow = 0;
        for (int e = 0, i = c; e < n; e++, i += neurons) {
            float v = r[i];
            atOrBelow += v <= threshold ? 1 : 0;
            if (!Float.isFinite(v)) {
                nonFinite++;
                continue;
            }
            valid++;
            moments.add(c, v);
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
            fires += v > threshold ? 1 : 0;
            sat += v <= satLow || v >= satHigh ? 1 : 0;
            if (labels != null && classMeans) {
                int label = labels[e];
                if (label >= 0 && label < classes) {
                    classMoments.add(label * neurons + c, v);
                }
            }
            if (histogram) {
                h.add(v);
            }
            if (quantiles) {
                q.accept(v);
            }
        }
        seen[c] += valid;
        min[c] = lo;
        max[c] = hi;
        fired[c] += fires;
        saturated[c] += sat;
        return atOrBelow;
    }

    double mean(int c) {
        return moments.mean(c);
    }

    /**
     * @param c    neuron
     * @param ddof 1 for the sample standard deviation (n - 1 denominator), 0 for the population one (n)
     * @return the standard deviation of the neuron's finite values; 0 below two values
     */
    double std(int c, int ddof) {
        long n = seen[c];
        double var = moments.variance(c);
        return Math.sqrt(ddof == 1 || n < 2 ? var : var * (n - 1) / n);
    }

    /** @return the mean of neuron c over the examples of class k, NaN when the class has no finite value */
    double classMean(int k, int c) {
        int slot = k * neurons + c;
        return classMoments.count(slot) == 0 ? Double.NaN : classMoments.mean(slot);
    }

    /** Hands every pending bin count to the sketches: call before reading or merging {@link #sketch}. */
    void flushSketches() {
        for (int c = 0; c < neurons; c++) {
            pendingBins[c].flush(sketch[c]);
        }
    }

    /** Java serialization: the pending bins are flushed, then each sketch is written in its own lossless encoding. */
    private void writeObject(java.io.ObjectOutputStream out) throws java.io.IOException {
        flushSketches();
        out.defaultWriteObject();
        for (DDSketch s : sketch) {
            com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput bytes =
                    com.datadoghq.sketch.ddsketch.encoding.GrowingByteArrayOutput.withDefaultInitialCapacity();
            s.encode(bytes, false);
            byte[] b = bytes.trimmedCopy();
            out.writeInt(b.length);
            out.write(b);
        }
    }

    private void readObject(java.io.ObjectInputStream in) throws java.io.IOException, ClassNotFoundException {
        in.defaultReadObject();
        sketch = new DDSketch[neurons];
        for (int i = 0; i < neurons; i++) {
            byte[] b = new byte[in.readInt()];
            in.readFully(b);
            sketch[i] = DDSketch.decode(com.datadoghq.sketch.ddsketch.encoding.ByteArrayInput.wrap(b),
                    () -> new UnboundedSizeDenseStore(SKETCH_STORE_BINS));
        }
    }

    void merge(LayerStats o) {
        flushSketches();
        o.flushSketches();
        moments.merge(o.moments);
        classMoments.merge(o.classMoments);
        for (int c = 0; c < neurons; c++) {
            seen[c] += o.seen[c];
            min[c] = Math.min(min[c], o.min[c]);
            max[c] = Math.max(max[c], o.max[c]);
            fired[c] += o.fired[c];
            positionsFired[c] += o.positionsFired[c];
            saturated[c] += o.saturated[c];
            hist[c].merge(o.hist[c]);
            sketch[c].mergeWith(o.sketch[c]);
        }
        for (int k = 0; k < classes; k++) {
            classCount[k] += o.classCount[k];
        }
        count += o.count;
        sequences += o.sequences;
        observedPositions += o.observedPositions;
        paddingExcluded += o.paddingExcluded;
        masked |= o.masked;
        nonFinite += o.nonFinite;
        rawValues += o.rawValues;
        rawAtOrBelow += o.rawAtOrBelow;
    }
}
