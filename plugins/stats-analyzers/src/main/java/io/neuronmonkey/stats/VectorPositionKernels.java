package io.neuronmonkey.stats;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link PositionKernels} on the Vector API, eight channels a vector, each lane doing its channel's scalar operations:
 * the max of the order-preserving keys and the NaN test (the largest magnitude bits above infinity's) in int lanes;
 * the counts above a bound with the scalar loop's float compare (NaN never counts), counted in float lanes (exact below
 * 2^24 positions; more take the scalar loop); the double sums with the scalar loop's adds in position order, four
 * double lanes a half vector. The channels past the last full vector take the scalar loop. Each kernel is a small
 * method of its own so that the compiler inlines the whole API into it (vectors that cross a call are boxed).
 * Loaded by name only when {@code jdk.incubator.vector} is in the boot layer.
 */
final class VectorPositionKernels extends PositionKernels {

    /** eight channels a vector */
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_256;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_256;
    /** half a vector of floats widens to four doubles */
    private static final VectorSpecies<Float> H = FloatVector.SPECIES_128;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_256;
    private static final int LANES = 8;
    private static final int MAGNITUDE = 0x7FFFFFFF;
    private static final int INFINITY_BITS = 0x7F800000;
    /** counts kept in float lanes are exact below 2^24 */
    private static final int MAX_POSITIONS = 1 << 24;

    @Override
    String name() {
        return "vector";
    }

    @Override
    boolean maxKeys(float[] act, int base, int positions, int neurons, int[] key, int[] fired, float firesAbove) {
        if (positions >= MAX_POSITIONS) {
            return SCALAR.maxKeys(act, base, positions, neurons, key, fired, firesAbove);
        }
        int bound = neurons - neurons % LANES;
        boolean nan = false;
        for (int c = 0; c < bound; c += LANES) {
            nan |= fired == null ? maxChunk(act, base + c, positions, neurons, key, c)
                    : maxFiredChunk(act, base + c, positions, neurons, key, fired, c, firesAbove);
        }
        if (bound < neurons) {
            nan |= Scalar.maxKeys(act, base, positions, neurons, bound, key, fired, firesAbove);
        }
        return nan;
    }

    @Override
    boolean sums(float[] act, int base, int positions, int neurons, double[] acc, boolean fromFirst, int[] fired,
                 float firesAbove) {
        if (positions >= MAX_POSITIONS) {
            return SCALAR.sums(act, base, positions, neurons, acc, fromFirst, fired, firesAbove);
        }
        int bound = neurons - neurons % LANES;
        boolean nan = false;
        for (int c = 0; c < bound; c += LANES) {
            sumChunk(act, base + c, positions, neurons, acc, c, fromFirst);
            nan |= fired == null ? nanChunk(act, base + c, positions, neurons)
                    : countChunk(act, base + c, positions, neurons, fired, c, firesAbove);
        }
        if (bound < neurons) {
            nan |= Scalar.sums(act, base, positions, neurons, bound, acc, fromFirst, fired, firesAbove);
        }
        return nan;
    }

    @Override
    int sumsPair(float[] act, int baseA, int baseB, int positions, int neurons, double[] accA, double[] accB,
                 boolean fromFirst, int[] fired, float firesAbove) {
        if (positions >= MAX_POSITIONS) {
            return super.sumsPair(act, baseA, baseB, positions, neurons, accA, accB, fromFirst, fired, firesAbove);
        }
        int bound = neurons - neurons % LANES;
        boolean nanA = false;
        boolean nanB = false;
        for (int c = 0; c < bound; c += LANES) {
            sumChunkPair(act, baseA + c, baseB + c, positions, neurons, accA, accB, c, fromFirst);
            nanA |= fired == null ? nanChunk(act, baseA + c, positions, neurons)
                    : countChunk(act, baseA + c, positions, neurons, fired, c, firesAbove);
            nanB |= fired == null ? nanChunk(act, baseB + c, positions, neurons)
                    : countChunk(act, baseB + c, positions, neurons, fired, c, firesAbove);
        }
        if (bound < neurons) {
            nanA |= Scalar.sums(act, baseA, positions, neurons, bound, accA, fromFirst, fired, firesAbove);
            nanB |= Scalar.sums(act, baseB, positions, neurons, bound, accB, fromFirst, fired, firesAbove);
        }
        return (nanA ? 1 : 0) | (nanB ? 2 : 0);
    }

    /** {@link #sumChunk} for two examples, their four chains of adds interleaved. */
    private static void sumChunkPair(float[] act, int offA, int offB, int positions, int neurons, double[] accA,
                                     double[] accB, int c, boolean fromFirst) {
        DoubleVector loA = DoubleVector.zero(D);
        DoubleVector hiA = DoubleVector.zero(D);
        DoubleVector loB = DoubleVector.zero(D);
        DoubleVector hiB = DoubleVector.zero(D);
        for (int p = 0, a = offA, b = offB; p < positions; p++, a += neurons, b += neurons) {
            loA = loA.add((DoubleVector) FloatVector.fromArray(H, act, a).convertShape(VectorOperators.F2D, D, 0));
            hiA = hiA.add((DoubleVector) FloatVector.fromArray(H, act, a + 4).convertShape(VectorOperators.F2D, D, 0));
            loB = loB.add((DoubleVector) FloatVector.fromArray(H, act, b).convertShape(VectorOperators.F2D, D, 0));
            hiB = hiB.add((DoubleVector) FloatVector.fromArray(H, act, b + 4).convertShape(VectorOperators.F2D, D, 0));
        }
        for (int j = 0; j < 4; j++) {
            accA[c + j] = loA.lane(j);
            accA[c + 4 + j] = hiA.lane(j);
            accB[c + j] = loB.lane(j);
            accB[c + 4 + j] = hiB.lane(j);
        }
        if (fromFirst) {
            negativeZeros(act, offA, positions, neurons, accA, c);
            negativeZeros(act, offB, positions, neurons, accB, c);
        }
    }

    @Override
    boolean extremes(float[] v, int from, int to, float[] ext, float fires0, float low0, float high0, int[] counts) {
        if (to - from >= MAX_POSITIONS) {
            return SCALAR.extremes(v, from, to, ext, fires0, low0, high0, counts);
        }
        int end = from + (to - from) / LANES * LANES;
        FloatVector lo = FloatVector.broadcast(F, ext[0]);
        FloatVector hi = FloatVector.broadcast(F, ext[1]);
        IntVector exp = IntVector.zero(I);
        FloatVector fires = FloatVector.zero(F);
        FloatVector sat = FloatVector.zero(F);
        FloatVector zero = FloatVector.zero(F);
        for (int i = from; i < end; i += LANES) {
            FloatVector x = FloatVector.fromArray(F, v, i);
            // lanewise MIN and MAX are Math.min and Math.max (-0.0 below 0.0); NaN and infinities are refused below
            lo = lo.min(x);
            hi = hi.max(x);
            exp = exp.max(x.reinterpretAsInts().lanewise(VectorOperators.AND, INFINITY_BITS));
            fires = fires.add(zero.blend(1f, x.compare(VectorOperators.GT, fires0)));
            sat = sat.add(zero.blend(1f, x.compare(VectorOperators.LE, low0).or(x.compare(VectorOperators.GE, high0))));
        }
        if (exp.compare(VectorOperators.EQ, INFINITY_BITS).anyTrue()) {
            return false;
        }
        float l = lo.reduceLanes(VectorOperators.MIN);
        float h = hi.reduceLanes(VectorOperators.MAX);
        int f = 0;
        int s = 0;
        for (int j = 0; j < LANES; j++) {
            f += (int) fires.lane(j);
            s += (int) sat.lane(j);
        }
        for (int i = end; i < to; i++) {
            float x = v[i];
            if ((Float.floatToRawIntBits(x) & INFINITY_BITS) == INFINITY_BITS) {
                return false;
            }
            l = Math.min(l, x);
            h = Math.max(h, x);
            f += x > fires0 ? 1 : 0;
            s += x <= low0 || x >= high0 ? 1 : 0;
        }
        ext[0] = l;
        ext[1] = h;
        counts[0] = f;
        counts[1] = s;
        return true;
    }

    /** @return the order-preserving keys of eight floats' bits */
    private static IntVector keys(IntVector bits) {
        return bits.lanewise(VectorOperators.XOR,
                bits.lanewise(VectorOperators.ASHR, 31).lanewise(VectorOperators.AND, MAGNITUDE));
    }

    /** Eight channels from {@code off}: max keys into {@code key[c..c+8)}; @return true on a NaN. */
    private static boolean maxChunk(float[] act, int off, int positions, int neurons, int[] key, int c) {
        IntVector k = IntVector.broadcast(I, NEGATIVE_INFINITY_KEY);
        IntVector mag = IntVector.zero(I);
        for (int p = 0; p < positions; p++, off += neurons) {
            IntVector bits = FloatVector.fromArray(F, act, off).reinterpretAsInts();
            k = k.max(keys(bits));
            mag = mag.max(bits.lanewise(VectorOperators.AND, MAGNITUDE));
        }
        k.intoArray(key, c);
        return mag.compare(VectorOperators.GT, INFINITY_BITS).anyTrue();
    }

    /** As {@link #maxChunk}, and the values above {@code firesAbove} counted as in {@link #countChunk}. */
    private static boolean maxFiredChunk(float[] act, int off, int positions, int neurons, int[] key, int[] fired,
                                         int c, float firesAbove) {
        IntVector k = IntVector.broadcast(I, NEGATIVE_INFINITY_KEY);
        IntVector mag = IntVector.zero(I);
        FloatVector f = FloatVector.zero(F);
        FloatVector zero = FloatVector.zero(F);
        for (int p = 0; p < positions; p++, off += neurons) {
            FloatVector v = FloatVector.fromArray(F, act, off);
            IntVector bits = v.reinterpretAsInts();
            k = k.max(keys(bits));
            mag = mag.max(bits.lanewise(VectorOperators.AND, MAGNITUDE));
            f = f.add(zero.blend(1f, v.compare(VectorOperators.GT, firesAbove)));
        }
        k.intoArray(key, c);
        for (int j = 0; j < LANES; j++) {
            fired[c + j] += (int) f.lane(j);
        }
        return mag.compare(VectorOperators.GT, INFINITY_BITS).anyTrue();
    }

    /**
     * Eight channels' double sums from {@code off}, in position order from 0.0: each half widened to four doubles and
     * added, the lanes read out once at the end (from the first value: see {@link #negativeZeros}).
     */
    private static void sumChunk(float[] act, int off, int positions, int neurons, double[] acc, int c,
                                 boolean fromFirst) {
        DoubleVector lo = DoubleVector.zero(D);
        DoubleVector hi = DoubleVector.zero(D);
        for (int p = 0, o = off; p < positions; p++, o += neurons) {
            lo = lo.add((DoubleVector) FloatVector.fromArray(H, act, o).convertShape(VectorOperators.F2D, D, 0));
            hi = hi.add((DoubleVector) FloatVector.fromArray(H, act, o + 4).convertShape(VectorOperators.F2D, D, 0));
        }
        for (int j = 0; j < 4; j++) {
            acc[c + j] = lo.lane(j);
            acc[c + 4 + j] = hi.lane(j);
        }
        if (fromFirst) {
            negativeZeros(act, off, positions, neurons, acc, c);
        }
    }

    /**
     * Sums from 0.0 differ from sums from the first value only while every value so far is -0.0 (0.0 + -0.0 is 0.0,
     * -0.0 + -0.0 is -0.0; any other value gives both the same partial sum): a channel summed to +0.0 whose values
     * are all -0.0 sums to -0.0 from its first value. Checked per lane, stopping at the first other value.
     */
    private static void negativeZeros(float[] act, int off, int positions, int neurons, double[] acc, int c) {
        for (int j = 0; j < LANES; j++) {
            if (Double.doubleToRawLongBits(acc[c + j]) != 0L) {
                continue;
            }
            boolean all = true;
            for (int p = 0, o = off + j; p < positions && all; p++, o += neurons) {
                all = Float.floatToRawIntBits(act[o]) == 0x80000000;
            }
            if (all) {
                acc[c + j] = -0.0;
            }
        }
    }

    /** @return true when one of eight channels' values from {@code off} is NaN */
    private static boolean nanChunk(float[] act, int off, int positions, int neurons) {
        IntVector mag = IntVector.zero(I);
        for (int p = 0; p < positions; p++, off += neurons) {
            mag = mag.max(FloatVector.fromArray(F, act, off).reinterpretAsInts().lanewise(VectorOperators.AND, MAGNITUDE));
        }
        return mag.compare(VectorOperators.GT, INFINITY_BITS).anyTrue();
    }

    /**
     * Eight channels' values {@code > firesAbove} counted into {@code fired[c..c+8)} (a float compare, so NaN never
     * counts, as in the scalar loop), in float lanes: exact below 2^24 positions.
     *
     * @return true on a NaN
     */
    private static boolean countChunk(float[] act, int off, int positions, int neurons, int[] fired, int c,
                                      float firesAbove) {
        IntVector mag = IntVector.zero(I);
        FloatVector f = FloatVector.zero(F);
        FloatVector zero = FloatVector.zero(F);
        for (int p = 0; p < positions; p++, off += neurons) {
            FloatVector v = FloatVector.fromArray(F, act, off);
            mag = mag.max(v.reinterpretAsInts().lanewise(VectorOperators.AND, MAGNITUDE));
            f = f.add(zero.blend(1f, v.compare(VectorOperators.GT, firesAbove)));
        }
        for (int j = 0; j < LANES; j++) {
            fired[c + j] += (int) f.lane(j);
        }
        return mag.compare(VectorOperators.GT, INFINITY_BITS).anyTrue();
    }
}
