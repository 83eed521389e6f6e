package io.neuronmonkey.datasets;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.DataSource;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Seeded synthetic grayscale shapes with planted ground truth, generated lazily and deterministically.
 * <p>
 * Examples are FLOAT32 {@code [size, size, 1]} in [0, 1]; labels index {@code circle, square, triangle, cross}.
 * Each example is a pure function of (seed, split, index), so batch size and pass do not matter. Every example's
 * metadata holds: {@code shape} (the class name), {@code texture} (solid, striped, dotted), {@code position} (quadrant
 * of the centre: top-left, top-right, bottom-left, bottom-right), {@code x} and {@code y} (centre in pixels from the
 * top-left corner, pixel i spanning [i, i+1)), {@code scale} (radius in pixels), {@code intensity} (0.5..1) and
 * {@code watermark} (on or off: the 3x3 patch of 1.0 at rows and columns {@code size-4..size-2}, which no shape
 * ever overlaps) and {@code tag} (a or b with probability 1/2 each, from a random stream of its own: independent
 * of the image, the label and every other field, a null control for group and concept tests). Ids are
 * {@code <split>-<index>}.
 * <p>
 * {@code watermark: on} or {@code off} forces the patch on every example and changes nothing else: the same params
 * otherwise give the same shapes, labels and ids, so two data sets that differ only there are pairs of the same
 * images with and without the watermark (for activation patching and counterfactual tests).
 */
@Extension
@ExtensionName(value = "synthetic-shapes",
        description = "Seeded grayscale shapes with planted texture, position and a watermark correlated with one class")
public class SyntheticShapesSource implements DataSource<SyntheticShapesSource.Params> {

    /** Bumped whenever the same params would generate different content. */
    static final int GENERATOR_VERSION = 2;

    /** Which examples to draw; each split draws its own examples. */
    public enum Split {
        /** Training examples; the watermark follows {@code watermarkClass}. */
        TRAIN,
        /** Held-out examples from the training distribution. */
        TEST,
        /** The watermark is on for half of the examples, independent of the label. */
        DECORRELATED;

        /** @return the lower-case name used in ids */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Whether examples carry the watermark. */
    public enum Watermark {
        /** As the split and rates decide. */
        AUTO,
        /** On every example. */
        ON,
        /** On no example. */
        OFF
    }

    /**
     * Params of {@code synthetic-shapes}.
     *
     * @param split          train, test or decorrelated
     * @param count          number of examples
     * @param size           image side in pixels
     * @param watermarkClass class whose examples mostly carry the watermark (train and test)
     * @param watermarkRate  P(watermark | watermarkClass) in train and test
     * @param leakRate       P(watermark | any other class) in train and test
     * @param noise          background noise amplitude
     * @param seed           generator seed; null: the experiment's seed
     */
    public record Params(
            @Param(defaultValue = "train", description = "train, test (same distribution, other examples) or "
                    + "decorrelated (watermark on for half the examples, independent of the label)") Split split,
            @Param(defaultValue = "4000", description = "number of examples, >= 1") int count,
            @Param(defaultValue = "28", description = "image side in pixels, 16..128") int size,
            @Param(defaultValue = "square", description = "class correlated with the watermark: circle, square, "
                    + "triangle or cross") String watermarkClass,
            @Param(defaultValue = "0.95", description = "probability of the watermark on watermarkClass examples "
                    + "(train, test), 0..1") double watermarkRate,
            @Param(defaultValue = "0.05", description = "probability of the watermark on other examples "
                    + "(train, test), 0..1") double leakRate,
            @Param(defaultValue = "0.05", description = "background noise amplitude (uniform in [0, noise)), 0..0.5")
            double noise,
            @Param(description = "generator seed; defaults to the experiment's seed") Long seed,
            @Param(defaultValue = "auto", description = "auto (as split and rates decide), on or off: force the watermark "
                    + "on every example, keeping the same shapes, labels and ids") Watermark watermark) {

        /** Validates every field at once. */
        public Params {
            Violations.check()
                    .require(split != null, "split", "must be one of train, test, decorrelated, found null")
                    .require(count >= 1, "count", "must be >= 1, found " + count)
                    .require(size >= 16 && size <= 128, "size", "must be in 16..128, found " + size)
                    .require(watermarkClass != null && ShapeGenerator.CLASSES.contains(watermarkClass),
                            "watermarkClass", "must be one of " + String.join(", ", ShapeGenerator.CLASSES)
                                    + ", found '" + watermarkClass + "'")
                    .require(watermarkRate >= 0 && watermarkRate <= 1, "watermarkRate",
                            "must be in [0, 1], found " + watermarkRate)
                    .require(leakRate >= 0 && leakRate <= 1, "leakRate", "must be in [0, 1], found " + leakRate)
                    .require(noise >= 0 && noise <= 0.5, "noise", "must be in [0, 0.5], found " + noise)
                    .require(watermark != null, "watermark", "must be one of auto, on, off, found null")
                    .throwIfAny();
        }

        /** The params with the watermark as the split and rates decide. */
        public Params(Split split, int count, int size, String watermarkClass, double watermarkRate, double leakRate,
                      double noise, Long seed) {
            this(split, count, size, watermarkClass, watermarkRate, leakRate, noise, seed, Watermark.AUTO);
        }

        /**
         * @param split which examples
         * @param count how many
         * @param seed  generator seed, or null for the experiment's
         * @return params with every other field at its default
         */
        public static Params of(Split split, int count, Long seed) {
            return new Params(split, count, 28, "square", 0.95, 0.05, 0.05, seed);
        }
    }

    /** Public no-arg constructor for PF4J. */
    public SyntheticShapesSource() {
    }

    @Override
    public Dataset open(DataContext<Params> ctx) {
        Params p = ctx.params();
        long seed = p.seed() != null ? p.seed() : ctx.seed();
        return new Shapes(p, seed);
    }

    /** The opened generator: holds only its params; examples are drawn when a batch is asked for. */
    private static final class Shapes implements Dataset {

        private final Params params;
        private final long seed;
        private final ShapeGenerator generator;
        private final DatasetInfo info;

        Shapes(Params params, long seed) {
            this.params = params;
            this.seed = seed;
            this.generator = new ShapeGenerator(params.size(), params.split().id(), seed,
                    ShapeGenerator.CLASSES.indexOf(params.watermarkClass()), params.watermarkRate(),
                    params.leakRate(), params.split() == Split.DECORRELATED, params.noise(),
                    params.watermark() == Watermark.AUTO ? null : params.watermark() == Watermark.ON);
            this.info = new DatasetInfo(params.count(), new int[] {params.size(), params.size(), 1},
                    ShapeGenerator.CLASSES, ShapeGenerator.METADATA_KEYS);
        }

        @Override
        public DatasetInfo info() {
            return info;
        }

        @Override
        public Iterator<Batch> batches(int batchSize) {
            int size = params.size();
            int pixels = size * size;
            String prefix = params.split().id() + "-";
            return new BatchCursor(params.count(), batchSize) {
                @Override
                Batch read(long offset, int n) {
                    float[] images = new float[n * pixels];
                    int[] labels = new int[n];
                    List<Map<String, String>> metadata = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        ShapeGenerator.Example e = generator.generate(offset + i, images, i * pixels);
                        labels[i] = e.label();
                        metadata.add(e.metadata(size));
                    }
                    return new Batch(offset, Tensor.ofFloats(images, n, size, size, 1), labels,
                            new ExampleIds(prefix, offset, n), metadata);
                }
            };
        }

        @Override
        public String fingerprint() {
            Params p = params;
            String canonical = "synthetic-shapes\nversion=" + GENERATOR_VERSION
                    + "\nsplit=" + p.split().id()
                    + "\ncount=" + p.count()
                    + "\nsize=" + p.size()
                    + "\nwatermarkClass=" + p.watermarkClass()
                    + "\nwatermarkRate=" + Double.toString(p.watermarkRate())
                    + "\nleakRate=" + Double.toString(p.leakRate())
                    + "\nnoise=" + Double.toString(p.noise())
                    + "\nseed=" + seed + "\n"
                    + (p.watermark() == Watermark.AUTO ? "" : "watermark=" + p.watermark().name() + "\n");
            return DataFiles.sha256Of(canonical);
        }
    }
}
