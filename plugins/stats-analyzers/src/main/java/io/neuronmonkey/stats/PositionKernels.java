package io.neuronmonkey.stats;

/**
 * The per-example reductions over a spatial layer's positions that the census and top-k run on every batch, with
 * channels last ({@code act[base + p * neurons + c]}): per channel the max of the floats' order-preserving integer
 * keys (the same order as {@code Math.max} apart from NaN: -0.0 below 0.0), or the double sum of the values in
 * position order, optionally with the count of values above a float bound, and whether any value was NaN.
 * <p>
 * Two implementations give the same bits: plain loops ({@link #SCALAR}) and the Vector API ({@code
 * jdk.incubator.vector}, lanes across channels, so each channel's sum is still added in position order), used when
 * the JVM was started with {@code --add-modules jdk.incubator.vector} (the launcher does) and the system property
 * {@code neuronmonkey.vector} is not {@code false}.
 */
abstract class PositionKernels {

    /** The order-preserving key of negative infinity: every float's key is at least this, NaN's aside. */
    static final int NEGATIVE_INFINITY_KEY = Float.floatToRawIntBits(Float.NEGATIVE_INFINITY) ^ 0x7FFFFFFF;

    /** Plain loops. */
    static final PositionKernels SCALAR = new Scalar();

    /** The kernels this JVM runs: the vector ones when the incubator module is present and allowed. */
    static final PositionKernels INSTANCE = choose();

    private static PositionKernels choose() {
        if ("false".equalsIgnoreCase(System.getProperty("neuronmonkey.vector"))
                || ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
            return SCALAR;
        }
        try {
            // loaded by name: without the module its class would not link
            return (PositionKernels) Class.forName("io.neuronmonkey.stats.VectorPositionKernels")
                    .getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            return SCALAR;
        }
    }

    /** @return a name for what runs: {@code vector} or {@code scalar} */
    abstract String name();

    /**
     * Per channel {@code key[c]} = the max over positions of the order-preserving key
     * {@code bits ^ ((bits >> 31) & 0x7FFFFFFF)}; with {@code fired} non-null, {@code fired[c]} also grows by the
     * values {@code > firesAbove}.
     *
     * @return true when a value was NaN
     */
    abstract boolean maxKeys(float[] act, int base, int positions, int neurons, int[] key, int[] fired, float firesAbove);

    /**
     * Per channel {@code acc[c]} = the double sum of the values in position order, from 0.0 ({@code fromFirst}
     * false) or from the first value ({@code fromFirst} true: the sign of a zero sum follows the values); with
     * {@code fired} non-null, {@code fired[c]} also grows by the values {@code > firesAbove}.
     *
     * @return true when a value was NaN
     */
    abstract boolean sums(float[] act, int base, int positions, int neurons, double[] acc, boolean fromFirst,
                          int[] fired, float firesAbove);

    /**
     * {@link #sums} for two examples at once (rows from {@code baseA} and {@code baseB}, sums into {@code accA} and
     * {@code accB}, both counted into {@code fired}): the same bits as two calls; the vector kernels interleave the
     * two examples' additions, whose chains are independent, instead of waiting on each add.
     *
     * @return bit 0 set when example A had a NaN, bit 1 when example B had one
     */
    int sumsPair(float[] act, int baseA, int baseB, int positions, int neurons, double[] accA, double[] accB,
                 boolean fromFirst, int[] fired, float firesAbove) {
        boolean a = sums(act, baseA, positions, neurons, accA, fromFirst, fired, firesAbove);
        boolean b = sums(act, baseB, positions, neurons, accB, fromFirst, fired, firesAbove);
        return (a ? 1 : 0) | (b ? 2 : 0);
    }

    /**
     * A neuron's run {@code v[from..to)}: its extremes merged into {@code ext = {lo, hi}} (as {@code Math.min} and
     * {@code Math.max}: -0.0 below 0.0), and {@code counts = {values > fires0, values <= low0 or >= high0}}.
     *
     * @return false (and {@code ext}, {@code counts} unspecified) when a value is NaN or infinite
     */
    abstract boolean extremes(float[] v, int from, int to, float[] ext, float fires0, float low0, float high0,
                              int[] counts);

    /** @return the order-preserving key of a float's bits */
    static int key(int bits) {
        return bits ^ ((bits >> 31) & 0x7FFFFFFF);
    }

    /** @return the float of a key */
    static float unkey(int key) {
        return Float.intBitsToFloat(key ^ ((key >> 31) & 0x7FFFFFFF));
    }

    /** Plain loops; also the vector kernels' tails (the channels past the last full vector). */
    static final class Scalar extends PositionKernels {

        @Override
        String name() {
            return "scalar";
        }

        @Override
        boolean maxKeys(float[] act, int base, int positions, int neurons, int[] key, int[] fired, float firesAbove) {
            return maxKeys(act, base, positions, neurons, 0, key, fired, firesAbove);
        }

        @Override
        boolean extremes(float[] col, int from, int to, float[] ext, float fires0, float low0, float high0,
                         int[] counts) {
            // two independent chains of conditional moves (Math.min/max on doubles serialize on their NaN and signed-
            // zero handling); NaN and the infinities are caught by the exponent, signed zeros are settled after
            float lo = ext[0];
            float hi = ext[1];
            float lo2 = lo;
            float hi2 = hi;
            int fires = 0;
            int sat = 0;
            int topExp = 0;
            int negZero = 0;
            int posZero = 0;
            int i = from;
            for (; i + 1 < to; i += 2) {
                float v = col[i];
                float w = col[i + 1];
                int bv = Float.floatToRawIntBits(v);
                int bw = Float.floatToRawIntBits(w);
                topExp = Math.max(topExp, Math.max(bv & 0x7F800000, bw & 0x7F800000));
                negZero |= (bv == 0x80000000 ? 1 : 0) | (bw == 0x80000000 ? 1 : 0);
                posZero |= (bv == 0 ? 1 : 0) | (bw == 0 ? 1 : 0);
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
                lo2 = w < lo2 ? w : lo2;
                hi2 = w > hi2 ? w : hi2;
                fires += (v > fires0 ? 1 : 0) + (w > fires0 ? 1 : 0);
                sat += (v <= low0 | v >= high0 ? 1 : 0) + (w <= low0 | w >= high0 ? 1 : 0);
            }
            if (i < to) {
                float v = col[i];
                int bv = Float.floatToRawIntBits(v);
                topExp = Math.max(topExp, bv & 0x7F800000);
                negZero |= bv == 0x80000000 ? 1 : 0;
                posZero |= bv == 0 ? 1 : 0;
                lo = v < lo ? v : lo;
                hi = v > hi ? v : hi;
                fires += v > fires0 ? 1 : 0;
                sat += v <= low0 | v >= high0 ? 1 : 0;
            }
            if (topExp == 0x7F800000) {
                return false;
            }
            lo = lo2 < lo ? lo2 : lo;
            hi = hi2 > hi ? hi2 : hi;
            // as Math.min / Math.max: -0.0 is below 0.0
            if (lo == 0 && negZero != 0) {
                lo = -0.0f;
            }
            if (hi == 0 && posZero != 0) {
                hi = 0.0f;
            }
            ext[0] = lo;
            ext[1] = hi;
            counts[0] = fires;
            counts[1] = sat;
            return true;
        }

        @Override
        boolean sums(float[] act, int base, int positions, int neurons, double[] acc, boolean fromFirst, int[] fired,
                     float firesAbove) {
            return sums(act, base, positions, neurons, 0, acc, fromFirst, fired, firesAbove);
        }

        /** As {@link PositionKernels#maxKeys} for channels {@code [c0, neurons)}. */
        static boolean maxKeys(float[] act, int base, int positions, int neurons, int c0, int[] key, int[] fired,
                               float firesAbove) {
            boolean nan = false;
            java.util.Arrays.fill(key, c0, neurons, NEGATIVE_INFINITY_KEY);
            for (int p = 0; p < positions; p++) {
                int off = base + p * neurons;
                if (fired == null) {
                    for (int c = c0; c < neurons; c++) {
                        float v = act[off + c];
                        key[c] = Math.max(key[c], key(Float.floatToRawIntBits(v)));
                        nan |= v != v;
                    }
                } else {
                    for (int c = c0; c < neurons; c++) {
                        float v = act[off + c];
                        key[c] = Math.max(key[c], key(Float.floatToRawIntBits(v)));
                        fired[c] += v > firesAbove ? 1 : 0;
                        nan |= v != v;
                    }
                }
            }
            return nan;
        }

        /** As {@link PositionKernels#sums} for channels {@code [c0, neurons)}. */
        static boolean sums(float[] act, int base, int positions, int neurons, int c0, double[] acc, boolean fromFirst,
                            int[] fired, float firesAbove) {
            boolean nan = false;
            int p0 = 0;
            if (fromFirst) {
                for (int c = c0; c < neurons; c++) {
                    float v = act[base + c];
                    acc[c] = v;
                    if (fired != null) {
                        fired[c] += v > firesAbove ? 1 : 0;
                    }
                    nan |= v != v;
                }
                p0 = 1;
            } else {
                java.util.Arrays.fill(acc, c0, neurons, 0.0);
            }
            for (int p = p0; p < positions; p++) {
                int off = base + p * neurons;
                if (fired == null) {
                    for (int c = c0; c < neurons; c++) {
                        float v = act[off + c];
                        acc[c] += v;
                        nan |= v != v;
                    }
                } else {
                    for (int c = c0; c < neurons; c++) {
                        float v = act[off + c];
                        acc[c] += v;
                        fired[c] += v > firesAbove ? 1 : 0;
                        nan |= v != v;
                    }
                }
            }
            return nan;
        }
    }
}
