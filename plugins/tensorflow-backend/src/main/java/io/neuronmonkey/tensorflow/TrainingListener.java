package io.neuronmonkey.tensorflow;

/**
 * Receives the monitored trainer's measurements while training runs (a live view subscribes here). Called on the
 * training thread; an implementation must return quickly.
 */
public interface TrainingListener {

    /**
     * One monitored step.
     *
     * @param sample the measurements of that step
     */
    void sampled(TrainingMonitor.Sample sample);

    /**
     * An epoch ended.
     *
     * @param epoch      the epoch, from 1
     * @param meanLoss   the mean training loss over the epoch
     * @param checkpoint the SavedModel saved for it, or null when checkpoints are off
     */
    default void epochEnded(int epoch, double meanLoss, java.nio.file.Path checkpoint) {
    }
}
