package io.neuronmonkey.text;

/**
 * Steele, Lea and Flood's SplitMix64: a generator fixed by its published algorithm, so the synthetic corpus stays
 * identical across Java versions.
 */
final class SplitMix64 {

    private static final long GOLDEN = 0x9E3779B97F4A7C15L;

    private long state;

    SplitMix64(long seed) {
        this.state = seed;
    }

    /**
     * @param z any value
     * @return a well-mixed 64-bit hash of it (SplitMix64's finaliser)
     */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * @param key   a stream key
     * @param index an index within that stream
     * @return a seed for the {@code index}-th independent generator of stream {@code key}
     */
    static long seedFor(long key, long index) {
        return mix(key + mix(index * GOLDEN + 1));
    }

    /** @return the next 64 random bits */
    long nextLong() {
        state += GOLDEN;
        return mix(state);
    }

    /** @return uniform in [0, 1) with 53 random bits */
    double nextDouble() {
        return (nextLong() >>> 11) * 0x1.0p-53;
    }

    /**
     * @param p a probability
     * @return true with probability {@code p}
     */
    boolean chance(double p) {
        return nextDouble() < p;
    }

    /**
     * @param bound exclusive upper bound, >= 1
     * @return uniform in [0, bound) (Lemire's multiply-shift, bias below 2^-32)
     */
    int nextInt(int bound) {
        return (int) (((nextLong() >>> 32) * bound) >>> 32);
    }

    /**
     * @param options the choices, non-empty
     * @param <T>     their type
     * @return one of them, uniformly
     */
    <T> T pick(java.util.List<T> options) {
        return options.get(nextInt(options.size()));
    }
}
