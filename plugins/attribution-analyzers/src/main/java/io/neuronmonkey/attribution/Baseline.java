package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;

/**
 * A reference input that integrated gradients walks from, as written in YAML ({@code baselines:}):
 * <ul>
 *   <li>{@code zero}: every value 0;</li>
 *   <li>{@code constant:V}: every value V;</li>
 *   <li>{@code blur:SIGMA}: the input blurred by a Gaussian of SIGMA pixels (separable kernel over height and width,
 *       edges replicated, channels apart);</li>
 *   <li>{@code mean}: the mean input of the selected examples (one extra pass);</li>
 *   <li>{@code noise:N}: N uniform-noise inputs in the example's own range [min, max], seeded per example id, so an
 *       example gets the same noise in whichever batch it comes.</li>
 * </ul>
 *
 * @param kind  which form
 * @param value V, SIGMA or N
 */
record Baseline(Kind kind, double value) {

    /** The forms of a baseline. */
    enum Kind {
        ZERO, CONSTANT, BLUR, MEAN, NOISE
    }

    /** The forms a baseline may take, for messages. */
    static final String FORMS = "zero, constant:V, blur:SIGMA (pixels, > 0), mean, noise:N (1..1000)";

    /**
     * @param spec a baseline as written in YAML
     * @return the baseline, or empty when it is none of {@link #FORMS}
     */
    static Optional<Baseline> parse(String spec) {
        if (spec == null) {
            return Optional.empty();
        }
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("zero")) {
            return Optional.of(new Baseline(Kind.ZERO, 0));
        }
        if (s.equals("mean")) {
            return Optional.of(new Baseline(Kind.MEAN, 0));
        }
        int colon = s.indexOf(':');
        if (colon < 0) {
            return Optional.empty();
        }
        String head = s.substring(0, colon);
        double v;
        try {
            v = Double.parseDouble(s.substring(colon + 1).trim());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return switch (head) {
            case "constant" -> Double.isFinite(v) ? Optional.of(new Baseline(Kind.CONSTANT, v)) : Optional.empty();
            case "blur" -> v > 0 && v <= 1000 ? Optional.of(new Baseline(Kind.BLUR, v)) : Optional.empty();
            case "noise" -> v >= 1 && v <= 1000 && v == Math.rint(v) ? Optional.of(new Baseline(Kind.NOISE, v)) : Optional.empty();
            default -> Optional.empty();
        };
    }

    /** @return how many reference inputs it stands for (N for noise, else 1) */
    int count() {
        return kind == Kind.NOISE ? (int) value : 1;
    }

    @Override
    public String toString() {
        return switch (kind) {
            case ZERO -> "zero";
            case MEAN -> "mean";
            case CONSTANT -> "constant:" + value;
            case BLUR -> "blur:" + value;
            case NOISE -> "noise:" + (int) value;
        };
    }

    /**
     * The reference inputs of a batch for several baselines, in order (a noise baseline gives N of them).
     *
     * @param baselines the baselines
     * @param batch     the examples
     * @param mean      the selected examples' mean input (one row), needed for {@code mean}; else may be null
     * @param seed      the run's seed
     * @return per reference, {@code [n * rowSize]} values
     */
    static List<float[]> inputs(List<Baseline> baselines, Batch batch, float[] mean, long seed) {
        List<float[]> out = new ArrayList<>();
        for (Baseline b : baselines) {
            for (int k = 0; k < b.count(); k++) {
                out.add(b.input(batch, mean, seed, k));
            }
        }
        return out;
    }

    private float[] input(Batch batch, float[] mean, long seed, int k) {
        float[] x = batch.inputs().floats();
        int n = batch.size();
        int rs = batch.inputs().rowSize();
        float[] out = new float[n * rs];
        switch (kind) {
            case ZERO -> {
            }
            case CONSTANT -> java.util.Arrays.fill(out, (float) value);
            case MEAN -> {
                for (int r = 0; r < n; r++) {
                    System.arraycopy(mean, 0, out, r * rs, rs);
                }
            }
            case NOISE -> {
                for (int r = 0; r < n; r++) {
                    float lo = Float.POSITIVE_INFINITY;
                    float hi = Float.NEGATIVE_INFINITY;
                    for (int i = r * rs; i < (r + 1) * rs; i++) {
                        lo = Math.min(lo, x[i]);
                        hi = Math.max(hi, x[i]);
                    }
                    Random random = new Random(seed * 0x9E3779B97F4A7C15L + batch.ids().get(r).hashCode() * 31L + k);
                    for (int i = r * rs; i < (r + 1) * rs; i++) {
                        out[i] = lo + (hi - lo) * random.nextFloat();
                    }
                }
            }
            case BLUR -> blur(x, out, batch.inputs().shape(), value);
        }
        return out;
    }

    /** Gaussian blur of every example over height and width (axes 1 and 2), channels apart, edges replicated. */
    static void blur(float[] x, float[] out, int[] shape, double sigma) {
        if (shape.length < 3 || shape.length > 4) {
            throw new AnalysisException("baseline blur:" + sigma + " needs image inputs [n, height, width(, channels)],"
                    + " found shape " + java.util.Arrays.toString(shape) + "; use zero, constant:V, mean or noise:N");
        }
        int n = shape[0];
        int h = shape[1];
        int w = shape[2];
        int c = shape.length == 4 ? shape[3] : 1;
        int radius = (int) Math.ceil(3 * sigma);
        float[] kernel = new float[2 * radius + 1];
        double total = 0;
        for (int i = -radius; i <= radius; i++) {
            total += kernel[i + radius] = (float) Math.exp(-i * i / (2 * sigma * sigma));
        }
        for (int i = 0; i < kernel.length; i++) {
            kernel[i] /= (float) total;
        }
        float[] tmp = new float[h * w * c];
        for (int e = 0; e < n; e++) {
            int base = e * h * w * c;
            for (int r = 0; r < h; r++) {
                for (int col = 0; col < w; col++) {
                    for (int ch = 0; ch < c; ch++) {
                        float s = 0;
                        for (int d = -radius; d <= radius; d++) {
                            int cc = Math.min(w - 1, Math.max(0, col + d));
                            s += kernel[d + radius] * x[base + (r * w + cc) * c + ch];
                        }
                        tmp[(r * w + col) * c + ch] = s;
                    }
                }
            }
            for (int r = 0; r < h; r++) {
                for (int col = 0; col < w; col++) {
                    for (int ch = 0; ch < c; ch++) {
                        float s = 0;
                        for (int d = -radius; d <= radius; d++) {
                            int rr = Math.min(h - 1, Math.max(0, r + d));
                            s += kernel[d + radius] * tmp[(rr * w + col) * c + ch];
                        }
                        out[base + (r * w + col) * c + ch] = s;
                    }
                }
            }
        }
    }
}
