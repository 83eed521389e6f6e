package io.neuronmonkey.api;

/** Thrown when an analysis step failed. */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public class AnalysisException extends NeuronMonkeyException {

    /** @param message what went wrong, non-null */
    public AnalysisException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, non-null
     * @param cause   the underlying failure, may be null
     */
    public AnalysisException(String message, Throwable cause) {
        super(message, cause);
    }
}
