package io.neuronmonkey.api.train;

import io.neuronmonkey.api.ApiStatus;

/**
 * Where a {@link ModelTrainer} reports its curves while it trains (loss, accuracy, a monitor's dead fraction): the
 * runtime shows them on the live page ({@code neuronmonkey train FILE --live}); without a live page they go nowhere.
 * Reporting is cheap and never blocks training. Implementations are thread-safe.
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.1.0")
public interface TrainingMetrics {

    /** Metrics that go nowhere: what {@link TrainerContext#metrics()} gives unless the runtime listens. */
    TrainingMetrics NONE = (name, step, value) -> {
    };

    /**
     * One point of a curve.
     *
     * @param name  the curve, e.g. {@code loss} or {@code batch accuracy}; one chart per name, non-null
     * @param step  the x value: the optimizer step (or epoch) the value belongs to, increasing per name
     * @param value the y value; NaN and infinities are shown as gaps
     */
    void metric(String name, long step, double value);
}
