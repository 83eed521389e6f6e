package io.neuronmonkey.api;

/**
 * Reports the progress of a long task; the runtime shows it as a progress bar on a terminal and as periodic lines
 * otherwise. Implementations are thread-safe.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface ProgressReporter {

    /** A reporter that shows nothing. */
    ProgressReporter NONE = new ProgressReporter() {
        @Override
        public void start(String task, long total) {
        }

        @Override
        public void advance(long done) {
        }
    };

    /**
     * Begins a task.
     *
     * @param task  short description, non-null
     * @param total number of units (examples, batches), or -1 when unknown
     */
    void start(String task, long total);

    /** @param done units finished since the last call, >= 0 */
    void advance(long done);

    /** Ends the current task; the default does nothing. */
    default void finish() {
    }
}
