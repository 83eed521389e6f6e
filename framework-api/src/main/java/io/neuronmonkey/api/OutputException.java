package io.neuronmonkey.api;

/** Thrown when results could not be written. */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public class OutputException extends NeuronMonkeyException {

    /** @param message what went wrong, non-null */
    public OutputException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, non-null
     * @param cause   the underlying failure, may be null
     */
    public OutputException(String message, Throwable cause) {
        super(message, cause);
    }
}
