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
    private final RunListener listener;

    public Environment(ExperimentConfig config, ProgressReporter progress, AtomicBoolean cancelled) {
        this(config, progress, cancelled, RunListener.NONE);
    }

    /** @param listener told of step ends, pass batches and training curves (the live page); never null */
    public Environment(ExperimentConfig config, ProgressReporter progress, AtomicBoolean cancelled, RunListener listener) {
        this.config = config;
        this.progress = progress;
        this.cancelled = cancelled;
        this.listener = listener;
    }

    Environment(Environment other) {
        this(other.config, other.progress, other.cancelled, other.listener);
    }

    /** @return the run's observer; {@link RunListener#NONE} when nobody listens */
    public RunListener listener() {
        return listener;
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
