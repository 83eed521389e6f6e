package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.train.TrainingMetrics;

import java.util.List;

/**
 * What the runtime tells an observer of a run (the live page) besides progress: steps that end, every batch of a
 * fused pass, training curves. Every method has a no-op default; {@link #NONE} listens to nothing. Implementations
 * must be cheap and must not throw: a listener that fails never fails the run.
 */
public interface RunListener extends TrainingMetrics {

    /** A listener that does nothing. */
    RunListener NONE = new RunListener() {
    };

    /** Sees every batch of one fused pass, in data order, on one thread at a time. */
    interface PassWatcher {
        /** @param batch the batch with the activations of the layers the watcher was given */
        void accept(ActivationBatch batch);

        /** The pass ended (completed, failed or cancelled). */
        void finished();
    }

    /**
     * A fused pass starts.
     *
     * @param data   the data set's name
     * @param layers the layers the pass captures
     * @return a watcher fed every batch of the pass, or null for none
     */
    default PassWatcher passStarted(String data, List<LayerInfo> layers) {
        return null;
    }

    /** Steps start: one, or the streaming steps that share a fused pass. */
    default void stepsStarting(List<String> ids) {
    }

    /** A step ended (completed, failed, skipped, interrupted, not-run or reused). */
    default void stepEnded(ExperimentRunner.StepStatus status) {
    }

    @Override
    default void metric(String name, long step, double value) {
    }
}
