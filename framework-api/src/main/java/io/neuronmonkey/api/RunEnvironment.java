package io.neuronmonkey.api;

import java.nio.file.Path;
import java.util.Random;

/**
 * What every context offers: where relative paths resolve, the run's seed, progress and cancellation.
 * Implemented by the runtime; plugins never implement it.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface RunEnvironment {

    /**
     * @param path a path as written in YAML, non-null
     * @return the path resolved against the experiment file's folder (absolute paths stay as they are)
     */
    Path resolve(String path);

    /** @return the experiment's seed; every random choice derives from it */
    long seed();

    /**
     * @param salt distinguishes independent streams (for example the step id)
     * @return a new generator seeded deterministically from {@link #seed()} and {@code salt}
     */
    default Random random(String salt) {
        return new Random(seed() * 0x9E3779B97F4A7C15L + salt.hashCode());
    }

    /** @return where progress goes; never null */
    ProgressReporter progress();

    /** @return true once the user or a failure asked the run to stop; long loops check it between batches */
    default boolean cancelled() {
        return false;
    }
}
