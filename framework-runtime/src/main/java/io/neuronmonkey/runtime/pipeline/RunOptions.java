package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.runtime.engine.PassEngine;

import java.nio.file.Path;

/**
 * How a run executes, not what it computes: results are the same for any of these settings.
 *
 * @param threads  model/data worker threads for fused passes (1 = everything on the calling thread)
 * @param cacheDir where activations of fused passes are cached (null = no cache)
 * @param cacheMaxBytes largest pass that is written to the cache
 * @param engine   where fused passes run instead of the local thread pool (a Spark engine), or null for here
 */
public record RunOptions(int threads, Path cacheDir, long cacheMaxBytes, PassEngine engine) {

    /** Options of a local run: every pass in this JVM. */
    public RunOptions(int threads, Path cacheDir, long cacheMaxBytes) {
        this(threads, cacheDir, cacheMaxBytes, null);
    }

    /** @return these options with fused passes run by {@code engine} (null: here) */
    public RunOptions withEngine(PassEngine engine) {
        return new RunOptions(threads, cacheDir, cacheMaxBytes, engine);
    }

    public static RunOptions sequential() {
        return new RunOptions(1, null, 0);
    }

    /** Most worker threads a run may ask for: 4 per core, and never more than 64. */
    public static int maxThreads() {
        return Math.min(64, 4 * Runtime.getRuntime().availableProcessors());
    }

    /**
     * @param requested the thread count asked for (--threads)
     * @return it, when between 1 and {@link #maxThreads()}
     * @throws ConfigException naming the valid range otherwise: more threads than that only add memory (every
     *                         thread keeps batches in flight) without speed, and a very large count exhausts the JVM
     */
    public static int checkThreads(int requested) {
        int max = maxThreads();
        if (requested < 1 || requested > max) {
            throw new ConfigException("--threads must be between 1 and " + max + " (4 per core on this machine's "
                    + Runtime.getRuntime().availableProcessors() + " cores, at most 64), found " + requested);
        }
        return requested;
    }

    public static int defaultThreads() {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }
}
