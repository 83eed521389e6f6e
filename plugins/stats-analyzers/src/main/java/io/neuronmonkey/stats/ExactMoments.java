package io.neuronmonkey.stats;

import java.math.BigInteger;

/**
 * Exact sums of float values and of their squares, per slot, so that means and variances do not depend on the order
 * in which values arrive or on how the data was split and merged: every float is an integer times 2^-149 and every
 * square an integer times 2^-298, so both sums are kept as wide fixed-point integers (32-bit digits held in longs,
 * carries deferred) and nothing is rounded until {@link #mean} / {@link #variance}. This is what makes the census and
 * the breakdown bit-identical for 1 and 4 threads. Cost per value: a few shifts and four long additions.
 */
final class ExactMoments implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /**
     * Digits of the value sum: positions 0..253 plus a run's sum of mantissas (below 2^38, added as two 32-bit halves,
     * the upper at position + 32) and the carry into the top digit; a run of values near Float.MAX_VALUE reaches
     * digit 9.
     */
    static final int SUM_DIGITS = 10;
    /** Digits of the square sum: positions 0..506, plus 48 bits of squared mantissa. */
    static final int SQ_DIGITS = 18;
    private static final int SUM_SCALE = 149;
    private static final int SQ_SCALE = 298;
    /** Carries are propagated before a digit can overflow: each add moves at most 2^34 into one digit. */
    private static final long NORMALIZE_EVERY = 1L << 27;

    final int slots;
    private final long[] sum;
    private final long[] sq;
    private final long[] count;
    /** per slot, runs added since the last carry propagation */
    private final int[] runs;

    ExactMoments(int slots) {
        this.slots = slots;
        sum = new long[slots * SUM_DIGITS];
        sq = new long[slots * SQ_DIGITS];
        count = new long[slots];
        runs = new int[slots];
    }

    /** @param v a finite value (callers skip NaN and infinities) */
    void add(int slot, float v) {
        int bits = Float.floatToRawIntBits(v);
        int exp = (bits >>> 23) & 0xFF;
        long mant = bits & 0x7FFFFF;
        if (exp != 0) {
            mant |= 0x800000;
        } else {
            exp = 1;
        }
        // |v| = mant * 2^(exp - 150) = mant * 2^(exp - 1) * 2^-149
        int pos = exp - 1;
        addAt(sum, slot * SUM_DIGITS, bits < 0 ? -mant : mant, pos);
        long m2 = mant * mant;  // < 2^48, the square is mant^2 * 2^(2 exp - 2) * 2^-298
        int sbase = slot * SQ_DIGITS;
        addAt(sq, sbase, m2 & 0xFFFFFF, 2 * pos);
        addAt(sq, sbase, m2 >>> 24, 2 * pos + 24);
        if (++count[slot] % NORMALIZE_EVERY == 0) {
            normalize(slot);
        }
    }

    /** Values a run adds per exponent bucket before it is flushed: 2^15 squared 24-bit mantissas stay below 2^63. */
    private static final int RUN_CHUNK = 1 << 15;
    /** Runs of a slot between carry propagations; see {@link #afterRun}. */
    private static final int RUNS_PER_NORMALIZE = 1 << 20;
    /**
     * Per exponent position (0..253), in four interleaved copies (value i goes to copy i mod 4, so consecutive values
     * of one exponent do not wait on each other's read-modify-write): the signed sum of mantissas and the sum of
     * squared mantissas of a run.
     */
    private final long[] runSum = new long[4 * 256];
    private final long[] runSq = new long[4 * 256];

    /**
     * Adds {@code v[from..to)} (all finite) to a slot: the same exact sums as {@link #add} value by value, at a
     * fraction of the cost. Values are bucketed by their exponent (one add of the signed mantissa and one of its
     * square per value, no shifts, no carries) and each non-empty bucket is added into the wide digits once per run.
     */
    void addRun(int slot, float[] v, int from, int to) {
        addRun(slot, v, from, to, null, -1);
    }

    /**
     * As {@link #addRun(int, float[], int, int)}, and the same values also into slot {@code alsoSlot} of
     * {@code also} (for example the class slot and the all-examples slot) from one pass over the values.
     *
     * @param also     a second accumulator, or null
     * @param alsoSlot its slot
     */
    void addRun(int slot, float[] v, int from, int to, ExactMoments also, int alsoSlot) {
        for (int start = from; start < to; start += RUN_CHUNK) {
            int end = Math.min(to, start + RUN_CHUNK);
            long[] rs = runSum;
            long[] rq = runSq;
            int lo = 255;
            int hi = 0;
            for (int i = start; i < end; i++) {
                int bits = Float.floatToRawIntBits(v[i]);
                int exp = (bits >>> 23) & 0xFF;
                // branch-free (zeros and signs are data-dependent and would mispredict): normal = 1 unless exp is 0;
                // |v| = mant * 2^pos * 2^-149 with pos = exp - 1 (subnormals: no implicit bit, pos 0)
                int normal = (exp + 255) >>> 8;
                long mant = (bits & 0x7FFFFF) | (normal << 23);
                int pos = exp - normal;
                long sign = bits >> 31;
                int b = ((i & 3) << 8) | pos;
                rs[b] += (mant ^ sign) - sign;
                rq[b] += mant * mant;
                // zeros add nothing and stay out of the range to flush: nz = (mant | -mant) >>> 63 is 1 iff mant != 0
                int nz = (int) ((mant | -mant) >>> 63);
                lo = Math.min(lo, pos + (1 - nz) * 255);
                hi = Math.max(hi, pos * nz);
            }
            for (int pos = lo; pos <= hi; pos++) {
                // four copies of at most 2^13 values each: their sums stay below 2^63 (squares) and 2^38 (values)
                long m = rs[pos] + rs[256 + pos] + rs[512 + pos] + rs[768 + pos];
                long q = rq[pos] + rq[256 + pos] + rq[512 + pos] + rq[768 + pos];
                rs[pos] = rs[256 + pos] = rs[512 + pos] = rs[768 + pos] = 0;
                rq[pos] = rq[256 + pos] = rq[512 + pos] = rq[768 + pos] = 0;
                if (m != 0 || q != 0) {
                    bucketInto(slot, pos, m, q);
                    if (also != null) {
                        also.bucketInto(alsoSlot, pos, m, q);
                    }
                }
            }
            count[slot] += end - start;
            afterRun(slot);
            if (also != null) {
                also.count[alsoSlot] += end - start;
                also.afterRun(alsoSlot);
            }
        }
    }

    /**
     * Carries are propagated every {@link #RUNS_PER_NORMALIZE} runs of a slot: a run moves less than 2^38 into any
     * digit (at most 32 exponent positions share a digit, each adding below 2^33), so 2^20 runs stay below 2^58,
     * and with the 2^27 single adds {@link #add} allows between carries (2^61) a digit stays below 2^63.
     */
    private void afterRun(int slot) {
        if (++runs[slot] == RUNS_PER_NORMALIZE) {
            runs[slot] = 0;
            normalize(slot);
        }
    }

    /** Adds a bucket: {@code m} units of 2^(pos-149) to the sum and {@code q} units of 2^(2 pos-298) to the squares. */
    private void bucketInto(int slot, int pos, long m, long q) {
        int sbase = slot * SUM_DIGITS;
        int qbase = slot * SQ_DIGITS;
        addAt(sum, sbase, m & 0xFFFFFFFFL, pos);
        addAt(sum, sbase, m >> 32, pos + 32);
        addAt(sq, qbase, q & 0xFFFFFFFFL, 2 * pos);
        addAt(sq, qbase, q >>> 32, 2 * pos + 32);
    }

    private static void addAt(long[] acc, int base, long m, int pos) {
        long x = m << (pos & 31);           // |x| < 2^56
        int d = base + (pos >>> 5);
        acc[d] += x & 0xFFFFFFFFL;           // x = (x >> 32) * 2^32 + (x & mask), also for negative x
        acc[d + 1] += x >> 32;
    }

    private void normalize(int slot) {
        carry(sum, slot * SUM_DIGITS, SUM_DIGITS);
        carry(sq, slot * SQ_DIGITS, SQ_DIGITS);
    }

    /** Propagates carries so that every digit but the top one is in [0, 2^32); the value does not change. */
    static void carry(long[] acc, int base, int digits) {
        for (int i = 0; i < digits - 1; i++) {
            long c = acc[base + i] >> 32;
            acc[base + i] -= c << 32;
            acc[base + i + 1] += c;
        }
    }

    /** Adds every slot of {@code o} (same slot count) into this. */
    void merge(ExactMoments o) {
        for (int s = 0; s < slots; s++) {
            mergeSlot(s, o, s);
        }
    }

    /** Adds slot {@code from} of {@code o} into slot {@code to} of this. */
    void mergeSlot(int to, ExactMoments o, int from) {
        normalize(to);
        o.normalize(from);
        for (int i = 0; i < SUM_DIGITS; i++) {
            sum[to * SUM_DIGITS + i] += o.sum[from * SUM_DIGITS + i];
        }
        for (int i = 0; i < SQ_DIGITS; i++) {
            sq[to * SQ_DIGITS + i] += o.sq[from * SQ_DIGITS + i];
        }
        count[to] += o.count[from];
        normalize(to);
    }

    long count(int slot) {
        return count[slot];
    }

    /** @return the exact sum of slot's values, in units of 2^-149 */
    BigInteger sumUnits(int slot) {
        return value(sum, slot * SUM_DIGITS, SUM_DIGITS);
    }

    /** @return the exact sum of slot's squares, in units of 2^-298 */
    BigInteger squareUnits(int slot) {
        return value(sq, slot * SQ_DIGITS, SQ_DIGITS);
    }

    private static BigInteger value(long[] acc, int base, int digits) {
        BigInteger v = BigInteger.ZERO;
        for (int i = digits - 1; i >= 0; i--) {
            v = v.shiftLeft(32).add(BigInteger.valueOf(acc[base + i]));
        }
        return v;
    }

    /** @return the mean of the slot's values; 0 when empty */
    double mean(int slot) {
        return mean(sum, slot * SUM_DIGITS, SUM_DIGITS, count[slot]);
    }

    /**
     * The mean of an exact sum held as 32-bit digits in longs (not necessarily carried), without BigInteger: the
     * digits are carried into a copy, made a magnitude, summed in double-double arithmetic from the top (every term
     * is exact and none cancels, so the pair holds the sum to about 2^-104 relative) and divided with an exact FMA
     * remainder. A deterministic function of the exact sum and the count, so the mean is the same for every order
     * and split of the values; it is the correctly rounded quotient except within about 2^-100 of a rounding tie.
     *
     * @param acc    digits, units of 2^-149: {@code acc[base + i]} weighs 2^(32 i)
     * @param base   the first digit
     * @param digits how many
     * @param n      the count
     * @return the mean; 0 when n is 0
     */
    static double mean(long[] acc, int base, int digits, long n) {
        if (n == 0) {
            return 0;
        }
        long[] d = new long[digits + 1];  // one more digit takes the top digit's carry and the sign
        System.arraycopy(acc, base, d, 0, digits);
        carry(d, 0, digits + 1);
        boolean negative = d[digits] < 0;
        if (negative) {
            // the two's complement over the digits: invert every digit, add one, carry again
            long carry = 1;
            for (int i = 0; i <= digits; i++) {
                long x = (~d[i] & 0xFFFFFFFFL) + carry;
                carry = x >>> 32;
                d[i] = x & 0xFFFFFFFFL;
            }
        }
        return quotient(d, digits + 1, negative, n);
    }

    /**
     * @param d        a magnitude's digits, each in [0, 2^32), {@code d[i]} weighs 2^(32 i) units of 2^-149
     * @param negative the sign
     * @return {@code ±(magnitude / n) * 2^-149}
     */
    private static double quotient(long[] d, int digits, boolean negative, long n) {
        double[] x = doubleDouble(d, digits);
        divide(x, n);
        double mean = x[0] + x[1];
        return Math.scalb(negative ? -mean : mean, -SUM_SCALE);
    }

    /**
     * @param d      a magnitude's digits, each in [0, 2^32), {@code d[i]} weighs 2^(32 i)
     * @param digits how many
     * @return {@code {hi, lo}}: their sum in double-double, to about 2^-104 relative (every term is exact and none
     *         cancels)
     */
    private static double[] doubleDouble(long[] d, int digits) {
        double hi = 0;
        double lo = 0;
        for (int i = digits - 1; i >= 0; i--) {
            if (d[i] == 0) {
                continue;
            }
            double term = Math.scalb((double) d[i], 32 * i);  // exact: 32 bits, and 32 i stays below 1023
            double s = hi + term;                              // Knuth's two-sum: s + e == hi + term exactly
            double bb = s - hi;
            double e = (hi - (s - bb)) + (term - bb);
            hi = s;
            lo += e;
        }
        double sumHi = hi + lo;
        return new double[]{sumHi, lo - (sumHi - hi)};
    }

    /** Divides the double-double {@code x} by {@code n} in place, with the remainder from an exact FMA. */
    private static void divide(double[] x, long n) {
        double nd = n;                                         // exact: counts stay far below 2^53
        double q = x[0] / nd;
        double r = Math.fma(-q, nd, x[0]) + x[1];
        double q2 = r / nd;
        double s = q + q2;
        x[0] = s;
        x[1] = q2 - (s - q);
    }

    /** @return the sample variance (n - 1 denominator) of the slot's values; 0 below two values */
    double variance(int slot) {
        return variance(sumUnits(slot), squareUnits(slot), count[slot]);
    }

    /**
     * Mean from an exact sum (units of 2^-149); the same function of the exact inputs as
     * {@link #mean(long[], int, int, long)}, so a mean from merged BigInteger sums equals the accumulator's.
     */
    static double mean(BigInteger sumUnits, long n) {
        if (n == 0) {
            return 0;
        }
        long[] d = digitsOf(sumUnits.abs());
        return quotient(d, d.length, sumUnits.signum() < 0, n);
    }

    /** @return the 32-bit digits of a non-negative integer, lowest first (at least one) */
    private static long[] digitsOf(BigInteger m) {
        int digits = Math.max(1, (m.bitLength() + 31) / 32);
        long[] d = new long[digits];
        for (int i = 0; i < digits; i++) {
            d[i] = m.shiftRight(32 * i).longValue() & 0xFFFFFFFFL;
        }
        return d;
    }

    /**
     * Sample variance from exact sums: the numerator n S2 - S1^2 exactly (integers), then divided by n and by n - 1 in
     * double-double arithmetic (as {@link #mean}); a deterministic function of the exact sums.
     */
    static double variance(BigInteger sumUnits, BigInteger squareUnits, long n) {
        if (n < 2) {
            return 0;
        }
        BigInteger num = squareUnits.multiply(BigInteger.valueOf(n)).subtract(sumUnits.multiply(sumUnits));
        if (num.signum() <= 0) {
            return 0;
        }
        long[] d = digitsOf(num);
        double[] x = doubleDouble(d, d.length);
        divide(x, n);
        divide(x, n - 1);
        // finite: the numerator stays below 2^700 units (squares of floats below 2^256 are below 2^554 units)
        double v = x[0] + x[1];
        return Math.scalb(v, -SQ_SCALE);
    }
}
