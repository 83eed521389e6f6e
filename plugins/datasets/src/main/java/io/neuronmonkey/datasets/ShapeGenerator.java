package io.neuronmonkey.datasets;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Draws one synthetic example from its own generator, seeded from (seed, split, index) alone, so an example does not
 * depend on the batch size or on which examples were drawn before it.
 * <p>
 * An image is {@code size x size} grayscale in [0, 1]: uniform background noise in [0, noise), one shape (label)
 * with a texture, centre, radius and intensity, drawn with 4x4 supersampled coverage, and, when on, a 3x3 watermark
 * patch of value 1 at rows and columns {@code size-4 .. size-2}. Shapes are placed so that they never touch the
 * patch's rows and columns together (the patch area only ever holds noise or the watermark).
 */
final class ShapeGenerator {

    /** Class names, indexed by label. */
    static final List<String> CLASSES = List.of("circle", "square", "triangle", "cross");
    /** Texture names. */
    static final List<String> TEXTURES = List.of("solid", "striped", "dotted");
    /** Metadata keys of every example, in order. */
    static final List<String> METADATA_KEYS =
            List.of("shape", "texture", "position", "x", "y", "scale", "intensity", "watermark", "tag");
    /** Side of the watermark patch, in pixels. */
    static final int PATCH = 3;

    /** Radius range at size 28, in pixels; scaled by size / 28. */
    private static final double MIN_RADIUS = 6.0;
    private static final double MAX_RADIUS = 9.0;
    /** Brightness of the "off" parts of striped and dotted textures, relative to the intensity. */
    private static final float DIM = 0.3f;
    private static final int SUPERSAMPLE = 4;
    private static final int PLACEMENT_TRIES = 64;

    /** Everything drawn for one example except its noise. */
    record Example(int label, int texture, double x, double y, double radius, double intensity, boolean watermark,
                   String tag) {

        /**
         * @param size image side in pixels
         * @return the example's metadata, keys in {@link #METADATA_KEYS} order
         */
        Map<String, String> metadata(int size) {
            Map<String, String> m = new LinkedHashMap<>();
            m.put("shape", CLASSES.get(label));
            m.put("texture", TEXTURES.get(texture));
            m.put("position", (y < size / 2.0 ? "top" : "bottom") + "-" + (x < size / 2.0 ? "left" : "right"));
            m.put("x", String.format(Locale.ROOT, "%.2f", x));
            m.put("y", String.format(Locale.ROOT, "%.2f", y));
            m.put("scale", String.format(Locale.ROOT, "%.2f", radius));
            m.put("intensity", String.format(Locale.ROOT, "%.3f", intensity));
            m.put("watermark", watermark ? "on" : "off");
            m.put("tag", tag);
            return Collections.unmodifiableMap(m);
        }
    }

    private final int size;
    private final int watermarkClass;
    private final double watermarkRate;
    private final double leakRate;
    private final boolean decorrelated;
    private final float noise;
    private final Boolean forced;
    private final long exampleKey;
    private final long labelKey;
    /** Key of the null-control tag's own random stream: drawing it changes nothing else. */
    private final long tagKey;

    /**
     * @param size           image side, >= 16
     * @param split          split name; splits draw different examples
     * @param seed           the resolved seed
     * @param watermarkClass label whose examples carry the watermark at {@code watermarkRate}
     * @param watermarkRate  P(watermark | label = watermarkClass), unless decorrelated
     * @param leakRate       P(watermark | other label), unless decorrelated
     * @param decorrelated   true: P(watermark) = 0.5 whatever the label
     * @param noise          background noise amplitude, in [0, 1)
     * @param forced         the watermark on (true) or off (false) for every example, or null as the rates decide;
     *                       the random draws are the same either way, so only the patch changes
     */
    ShapeGenerator(int size, String split, long seed, int watermarkClass, double watermarkRate, double leakRate,
                   boolean decorrelated, double noise, Boolean forced) {
        this.forced = forced;
        this.size = size;
        this.watermarkClass = watermarkClass;
        this.watermarkRate = watermarkRate;
        this.leakRate = leakRate;
        this.decorrelated = decorrelated;
        this.noise = (float) noise;
        this.exampleKey = SplitMix64.mix(seed ^ SplitMix64.mix(split.hashCode()));
        this.labelKey = SplitMix64.mix(exampleKey ^ 0x5851F42D4C957F2DL);
        this.tagKey = SplitMix64.mix(exampleKey ^ 0x2545F4914F6CDD1DL);
    }

    /**
     * Labels come in blocks of four consecutive examples holding each class once, in a per-block random order:
     * classes stay balanced (exactly, for counts divisible by 4) without a periodic order.
     *
     * @param index example index, >= 0
     * @return its label
     */
    int label(long index) {
        SplitMix64 rng = new SplitMix64(SplitMix64.seedFor(labelKey, index >>> 2));
        int[] perm = {0, 1, 2, 3};
        for (int i = perm.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm[(int) (index & 3)];
    }

    /**
     * Draws example {@code index} and renders it.
     *
     * @param index example index, >= 0
     * @param out   destination; receives {@code size * size} values from {@code off}, row-major
     * @param off   offset into {@code out}
     * @return what was drawn
     */
    Example generate(long index, float[] out, int off) {
        int label = label(index);
        SplitMix64 rng = new SplitMix64(SplitMix64.seedFor(exampleKey, index));
        double p = decorrelated ? 0.5 : label == watermarkClass ? watermarkRate : leakRate;
        boolean drawn = rng.nextDouble() < p;
        boolean watermark = forced != null ? forced : drawn;
        int texture = rng.nextInt(TEXTURES.size());
        double r = rng.uniform(MIN_RADIUS, MAX_RADIUS) * size / 28.0;
        double lo = r + 1;
        double hi = size - 1 - r;
        double clear = size - PATCH - 1; // the patch starts at this row and column
        double x = 0;
        double y = 0;
        boolean placed = false;
        for (int t = 0; t < PLACEMENT_TRIES && !placed; t++) {
            x = rng.uniform(lo, hi);
            y = rng.uniform(lo, hi);
            placed = x + r <= clear || y + r <= clear;
        }
        if (!placed) { // practically never: keep x, move y clear of the patch rows
            y = Math.min(y, clear - r);
        }
        double intensity = rng.uniform(0.5, 1.0);
        for (int i = 0, n = size * size; i < n; i++) {
            out[off + i] = noise * rng.nextFloat();
        }
        drawShape(label, texture, x, y, r, (float) intensity, out, off);
        if (watermark) {
            int start = size - PATCH - 1;
            for (int row = start; row < start + PATCH; row++) {
                int base = off + row * size + start;
                for (int col = 0; col < PATCH; col++) {
                    out[base + col] = 1f;
                }
            }
        }
        String tag = new SplitMix64(SplitMix64.seedFor(tagKey, index)).nextDouble() < 0.5 ? "a" : "b";
        return new Example(label, texture, x, y, r, intensity, watermark, tag);
    }

    private void drawShape(int label, int texture, double cx, double cy, double r, float intensity, float[] out,
                           int off) {
        int x0 = Math.max(0, (int) Math.floor(cx - r));
        int x1 = Math.min(size - 1, (int) Math.ceil(cx + r));
        int y0 = Math.max(0, (int) Math.floor(cy - r));
        int y1 = Math.min(size - 1, (int) Math.ceil(cy + r));
        double step = 1.0 / SUPERSAMPLE;
        float samples = SUPERSAMPLE * SUPERSAMPLE;
        for (int py = y0; py <= y1; py++) {
            for (int px = x0; px <= x1; px++) {
                int hits = 0;
                for (int sj = 0; sj < SUPERSAMPLE; sj++) {
                    double dy = py + (sj + 0.5) * step - cy;
                    for (int si = 0; si < SUPERSAMPLE; si++) {
                        double dx = px + (si + 0.5) * step - cx;
                        if (inside(label, dx, dy, r)) {
                            hits++;
                        }
                    }
                }
                if (hits > 0) {
                    float cover = hits / samples;
                    float value = intensity * textureLevel(texture, px, py);
                    int i = off + py * size + px;
                    out[i] += cover * (value - out[i]);
                }
            }
        }
    }

    /** Silhouettes within the circle of radius r around the centre; offsets in pixels, y down. */
    private static boolean inside(int label, double dx, double dy, double r) {
        switch (label) {
            case 0: // circle
                return dx * dx + dy * dy <= r * r;
            case 1: { // square
                double h = 0.8 * r;
                return Math.abs(dx) <= h && Math.abs(dy) <= h;
            }
            case 2: { // triangle, apex up
                double top = -r;
                double base = 0.75 * r;
                return dy >= top && dy <= base && Math.abs(dx) <= 0.95 * r * (dy - top) / (base - top);
            }
            case 3: { // cross (plus sign)
                double arm = 0.95 * r;
                double w = 0.28 * r;
                double ax = Math.abs(dx);
                double ay = Math.abs(dy);
                return ax <= arm && ay <= w || ay <= arm && ax <= w;
            }
            default:
                throw new IllegalArgumentException("label " + label);
        }
    }

    private static float textureLevel(int texture, int px, int py) {
        switch (texture) {
            case 0:
                return 1f;
            case 1: // diagonal stripes, period 4 px
                return (px + py) % 4 < 2 ? 1f : DIM;
            case 2: // 2x2 dots on a 3 px grid
                return px % 3 != 2 && py % 3 != 2 ? 1f : DIM;
            default:
                throw new IllegalArgumentException("texture " + texture);
        }
    }
}
