package io.neuronmonkey.runtime.pipeline;

import java.nio.file.Path;

/**
 * How a run executes, not what it computes: results are the same for any of these settings.
 *
 * @param threads  model/data worker threads for fused passes (1 = everything on the calling thread)
 * @param cacheDir where activations of fused passes are cached (null = no cache)
 * @param cacheMaxBytes largest pass that is written to the cache
 */
public record RunOptions(int threads, Path cacheDir, long cacheMaxBytes) {

    public static RunOptions sequential() {
        return new RunOptions(1, null, 0);
    }

    public static int defaultThreads() {
        return Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
    }
}
