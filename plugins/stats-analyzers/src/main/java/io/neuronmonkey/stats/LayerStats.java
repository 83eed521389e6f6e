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
final class LayerStats {

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
    final ExactMoments classMoments;
    final long[] classCount;
    final DoublingHistogram[] hist;
    /**
     * Magnitudes below this count as zero in the quantile sketches. Without a floor, ReLU outputs like 1e-30 stretch
     * a dense store over thousands of empty bins and every new extreme re-centres it (measured: half the time of a
     * wide layer's census); with it a store spans at most about ln(max/1e-6)/ln(1+2a) bins.
     */
    static final double SKETCH_MIN_VALUE = 1e-6;

    /**
     * Bins a sketch store allocates at a time. The stores are dense arrays that re-centre whenever a value falls
     * outside them; a wide first allocation (at 1% accuracy 1024 bins span a factor of about 1e9) means activations
     * rarely trigger that, at 8 KB per store.
     */
    static final int SKETCH_STORE_BINS = 1024;
    final DDSketch[] sketch;

    // scratch, reused across batches
    private float[] reduced = new float[0];
    private int[] rowLabels = new int[0];
    private final double[] sumScratch;

    LayerStats(int neurons, int positions, int classes, int bins, double quantileAccuracy) {
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
        classMoments = new ExactMoments(classes * neurons);
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
    }

    /**
     * @param act       activations, row-major {@code [n, positions, neurons]} (channels last)
     * @param n         examples in the batch
     * @param labels    class per example, or null
     * @param reduceMax true to reduce positions by max, false by mean
     */
    void accept(float[] act, int n, int[] labels, boolean reduceMax, double threshold, double satLow, double satHigh) {
        int rowSize = positions * neurons;
        if (reduced.length < n * neurons) {
            reduced = new float[n * neurons];
        }
        long atOrBelow = 0;
        for (int e = 0; e < n; e++) {
            int base = e * rowSize;
            int rbase = e * neurons;
            if (positions == 1) {
                for (int c = 0; c < neurons; c++) {
                    float v = act[base + c];
                    reduced[rbase + c] = v;
                    if (v <= threshold) {
                        atOrBelow++;
                    }
                }
                continue;
            }
            // tight, branch-light loops over contiguous memory, one pass each: this is the hot path of a census
            if (reduceMax) {
                for (int c = 0; c < neurons; c++) {
                    reduced[rbase + c] = Float.NEGATIVE_INFINITY;
                }
                // Math.max returns NaN when either side is NaN: a NaN at any position makes the channel NaN
                for (int p = 0; p < positions; p++) {
                    int off = base + p * neurons;
                    for (int c = 0; c < neurons; c++) {
                        float v = act[off + c];
                        reduced[rbase + c] = Math.max(reduced[rbase + c], v);
                        atOrBelow += v <= threshold ? 1 : 0;
                        positionsFired[c] += v > threshold ? 1 : 0;
                    }
                }
            } else {
                double[] acc = sumScratch;
                Arrays.fill(acc, 0);
                for (int p = 0; p < positions; p++) {
                    int off = base + p * neurons;
                    for (int c = 0; c < neurons; c++) {
                        float v = act[off + c];
                        acc[c] += v;
                        atOrBelow += v <= threshold ? 1 : 0;
                        positionsFired[c] += v > threshold ? 1 : 0;
                    }
                }
                for (int c = 0; c < neurons; c++) {
                    reduced[rbase + c] = (float) (acc[c] / positions);
                }
            }
        }
        rawValues += (long) n * rowSize;
        rawAtOrBelow += atOrBelow;
        observedPositions += (long) n * positions;
        sequences += n;
        update(reduced, n, labels, threshold, satLow, satHigh);
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
        if (perPosition) {
            for (int i = 0, end = m * neurons; i < end; i++) {
                atOrBelow += reduced[i] <= threshold ? 1 : 0;
            }
        }
        rawValues += real * neurons;
        rawAtOrBelow += atOrBelow;
        observedPositions += real;
        paddingExcluded += (long) n * positions - real;
        sequences += seqs;
        update(reduced, m, labels == null ? null : rowLabels, threshold, satLow, satHigh);
    }

    private void update(float[] r, int n, int[] labels, double threshold, double satLow, double satHigh) {
        for (int e = 0; e < n; e++) {
            int label = labels == null ? -1 : labels[e];
            if (label >= 0 && label < classes) {
                classCount[label]++;
            }
        }
        // neuron-major: each neuron's moments, histogram and sketch stay in cache while its n values stream in (the
        // values of one neuron are strided in r, but n is a batch); per neuron the order of examples is unchanged, so
        // the results are exactly those of example-major order
        for (int c = 0; c < neurons; c++) {
            DoublingHistogram h = hist[c];
            DDSketch q = sketch[c];
            double lo = min[c];
            double hi = max[c];
            long fires = 0;
            long sat = 0;
            long valid = 0;
            for (int e = 0, i = c; e < n; e++, i += neurons) {
                float v = r[i];
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
                if (labels != null) {
                    int label = labels[e];
                    if (label >= 0 && label < classes) {
                        classMoments.add(label * neurons + c, v);
                    }
                }
                h.add(v);
                q.accept(v);
            }
            seen[c] += valid;
            min[c] = lo;
            max[c] = hi;
            fired[c] += fires;
            saturated[c] += sat;
        }
        count += n;
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

    void merge(LayerStats o) {
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
