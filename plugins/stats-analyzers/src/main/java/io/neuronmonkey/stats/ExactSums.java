package io.neuronmonkey.stats;

import java.math.BigInteger;

/**
 * Exact sums of float values per slot, without the squares: the per-class means of the census. The sum is the same
 * wide fixed-point integer as {@link ExactMoments}'s (units of 2^-149, 32-bit digits in longs), so
 * {@link #mean} equals {@link ExactMoments#mean} for the same values bit for bit. It is built differently because a
 * class's run within a batch is short (a batch of 256 over 10 classes gives runs of about 25): instead of
 * {@link ExactMoments}'s exponent buckets, which are flushed one by one after each run, every value is shifted into
 * place and added to one of two digit windows, whose digits go into the slot after the run (carries deferred).
 * Cost per value: a shift and two additions, and ten additions per run.
 */
final class ExactSums implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    /** Digits per slot: as {@link ExactMoments#SUM_DIGITS}. */
    static final int DIGITS = ExactMoments.SUM_DIGITS;
    /**
     * Values of a run added to the scratch before it goes into the slot: each value adds below 2^32 to a digit, so a
     * scratch digit stays below 2^32 * 2^16 per copy; and the slot's digits are carried after every run.
     */
    private static final int RUN_CHUNK = 1 << 16;
    /**
     * Runs of a slot between carry propagations: a run adds below 2^48 to a digit (two copies of 2^15 values, each
     * below 2^32), and a carried digit is below 2^32, so 2^12 runs keep every digit's magnitude below 2^61.
     */
    private static final int RUNS_PER_CARRY = 1 << 12;

    final int slots;
    private final long[] sum;
    private final long[] count;
    /** per slot, runs since its digits were last carried */
    private final short[] runs;
    /** two interleaved copies (value i goes to copy i mod 2) of a run's digits */
    private final long[] scratch = new long[2 * DIGITS];

    ExactSums(int slots) {
        this.slots = slots;
        sum = new long[slots * DIGITS];
        count = new long[slots];
        runs = new short[slots];
    }

    /** @param v a finite value (callers skip NaN and infinities) */
    void add(int slot, float v) {
        float[] one = {v};
        addRun(slot, one, 0, 1);
    }

    /** Adds {@code v[from..to)}, all finite, to a slot. */
    void addRun(int slot, float[] v, int from, int to) {
        long[] s = scratch;
        for (int start = from; start < to; start += RUN_CHUNK) {
            int end = Math.min(to, start + RUN_CHUNK);
            for (int i = start; i < end; i++) {
                int bits = Float.floatToRawIntBits(v[i]);
                int exp = (bits >>> 23) & 0xFF;
                // |v| = mant * 2^pos * 2^-149 with pos = exp - 1 (subnormals: no implicit bit, pos 0), as ExactMoments
                int normal = (exp + 255) >>> 8;
                long mant = (bits & 0x7FFFFF) | (normal << 23);
                int pos = exp - normal;
                long sign = bits >> 31;
                long x = ((mant ^ sign) - sign) << (pos & 31);  // |x| < 2^55
                int d = ((i & 1) * DIGITS) + (pos >>> 5);
                s[d] += x & 0xFFFFFFFFL;                      // x = (x >> 32) * 2^32 + (x & mask), also for x < 0
                s[d + 1] += x >> 32;
            }
            int base = slot * DIGITS;
            for (int k = 0; k < DIGITS; k++) {
                sum[base + k] += s[k] + s[DIGITS + k];
                s[k] = 0;
                s[DIGITS + k] = 0;
            }
            if (++runs[slot] == RUNS_PER_CARRY) {
                runs[slot] = 0;
                carry(base);
            }
            count[slot] += end - start;
        }
    }

    private void carry(int base) {
        ExactMoments.carry(sum, base, DIGITS);
    }

    /** Adds every slot of {@code o} (same slot count) into this. */
    void merge(ExactSums o) {
        for (int slot = 0; slot < slots; slot++) {
            int base = slot * DIGITS;
            carry(base);
            o.carry(base);
            runs[slot] = 0;
            for (int i = 0; i < DIGITS; i++) {
                sum[base + i] += o.sum[base + i];
            }
            carry(base);
            count[slot] += o.count[slot];
        }
    }

    long count(int slot) {
        return count[slot];
    }

    /** @return the exact sum of the slot's values, in units of 2^-149 */
    BigInteger sumUnits(int slot) {
        BigInteger v = BigInteger.ZERO;
        int base = slot * DIGITS;
        for (int i = DIGITS - 1; i >= 0; i--) {
            v = v.shiftLeft(32).add(BigInteger.valueOf(sum[base + i]));
        }
        return v;
    }

    /** @return the mean of the slot's values; 0 when empty */
    double mean(int slot) {
        return ExactMoments.mean(sum, slot * DIGITS, DIGITS, count[slot]);
    }
}
