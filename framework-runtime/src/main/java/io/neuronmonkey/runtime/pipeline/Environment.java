package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.RunEnvironment;
import io.neuronmonkey.runtime.config.ExperimentConfig;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;

/** The run-wide part of every context: path resolution against the experiment file, seed, progress, cancellation. */
public class Environment implements RunEnvironment {

    private final ExperimentConfig config;
    private final ProgressReporter progress;
    private final AtomicBoolean cancelled;

    public Environment(ExperimentConfig config, ProgressReporter progress, AtomicBoolean cancelled) {
        this.config = config;
        this.progress = progress;
        this.cancelled = cancelled;
    }

    Environment(Environment other) {
        this(other.config, other.progress, other.cancelled);
    }

    ExperimentConfig config() {
        return config;
    }

    @Override
    public Path resolve(String path) {
        return config.resolve(path);
    }

    @Override
    public long seed() {
        return config.seed();
    }

    @Override
    public ProgressReporter progress() {
        return progress;
    }

    @Override
    public boolean cancelled() {
        return cancelled.get();
    }

    /** Asks every step to stop at its next check; the run then records itself as interrupted. */
    public void cancel() {
        cancelled.set(true);
    }
}
