package io.neuronmonkey.stats;

import com.datadoghq.sketch.ddsketch.mapping.CubicallyInterpolatedMapping;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * JMH microbenchmarks of the census and top-k kernels, in ns per activation value: one batch of 256 examples of a
 * 1024-neuron dense layer (ReLU-like: half exact zeros) and of a 14x14x16 conv layer. Run with
 * {@code ./mvnw -pl plugins/stats-analyzers test -Dbench=true -Dtest=KernelBenchmarksTest}; never part of a build's
 * pass or fail.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class KernelBenchmarks {

    static final int N = 256;
    static final int DENSE = 1024;
    static final int POSITIONS = 196;
    static final int CHANNELS = 16;
    static final int DENSE_VALUES = N * DENSE;
    static final int CONV_VALUES = N * POSITIONS * CHANNELS;

    @Param({"true"})
    public boolean relu;

    /** classes of the labels (the demo data has 10) */
    @Param({"10"})
    public int classes;

    /** the census's optional statistics: all, none, or all but one (noQuantiles, noHistogram, noClassMeans) */
    @Param({"all", "none", "noQuantiles", "noHistogram", "noClassMeans"})
    public String extras;

    float[] dense;
    float[] conv;
    int[] labels;
    LayerStats denseStats;
    LayerStats convStats;
    ExactMoments moments;
    SketchFeed feed;
    PendingBins[] bins;
    BoundedHeaps heaps;

    @Setup
    public void setUp() {
        Random r = new Random(1);
        dense = new float[DENSE_VALUES];
        conv = new float[CONV_VALUES];
        for (float[] a : new float[][]{dense, conv}) {
            for (int i = 0; i < a.length; i++) {
                float g = (float) r.nextGaussian();
                a[i] = relu ? Math.max(0, g) * 2 : g;
            }
        }
        labels = new int[N];
        for (int i = 0; i < N; i++) {
            labels[i] = r.nextInt(classes);
        }
        boolean q = extras.equals("all") || extras.equals("noHistogram") || extras.equals("noClassMeans");
        boolean h = extras.equals("all") || extras.equals("noQuantiles") || extras.equals("noClassMeans");
        boolean m = extras.equals("all") || extras.equals("noQuantiles") || extras.equals("noHistogram");
        denseStats = new LayerStats(DENSE, 1, classes, 32, 0.01, q, h, m);
        convStats = new LayerStats(CHANNELS, POSITIONS, classes, 32, 0.01, q, h, m);
        moments = new ExactMoments(DENSE);
        CubicallyInterpolatedMapping mapping = new CubicallyInterpolatedMapping(0.01);
        feed = new SketchFeed(mapping, LayerStats.SKETCH_MIN_VALUE);
        bins = new PendingBins[DENSE];
        for (int c = 0; c < DENSE; c++) {
            bins[c] = new PendingBins();
        }
        heaps = new BoundedHeaps(DENSE, 16, true);
    }

    /** The whole census of a dense batch: moments, class moments, extremes, rates, histogram, sketch bins. */
    @Benchmark
    @OperationsPerInvocation(DENSE_VALUES)
    public long censusDense() {
        denseStats.accept(dense, N, labels, false, 0.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
        return denseStats.count;
    }

    /** The census of a conv batch with max over positions. */
    @Benchmark
    @OperationsPerInvocation(CONV_VALUES)
    public long censusConvMax() {
        convStats.accept(conv, N, labels, true, 0.0, Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY);
        return convStats.count;
    }

    /** Exact sums and squares of runs of 256 values. */
    @Benchmark
    @OperationsPerInvocation(DENSE_VALUES)
    public long exactMomentRuns() {
        for (int c = 0; c < DENSE; c++) {
            moments.addRun(c, dense, c * N, c * N + N);
        }
        return moments.count(0);
    }

    /** Sketch bin indices and counts of runs of 256 values. */
    @Benchmark
    @OperationsPerInvocation(DENSE_VALUES)
    public PendingBins sketchBins() {
        for (int c = 0; c < DENSE; c++) {
            feed.add(bins[c], dense, c * N, c * N + N);
        }
        return bins[0];
    }

    /** Top-16 admission of a batch once the heaps are full: one comparison per value against the bars. */
    @Benchmark
    @OperationsPerInvocation(DENSE_VALUES)
    public int topKBars() {
        float[] bar = heaps.bars();
        int admitted = 0;
        for (int e = 0; e < N; e++) {
            int row = e * DENSE;
            for (int c = 0; c < DENSE; c++) {
                float x = dense[row + c];
                if (x >= bar[c]) {
                    int slot = heaps.claim(c, x, e, -1);
                    if (slot >= 0) {
                        heaps.settle(c, slot);
                        admitted++;
                    }
                }
            }
        }
        return admitted;
    }
}
