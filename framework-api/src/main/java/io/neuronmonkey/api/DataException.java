package io.neuronmonkey.api;

/** Thrown when a data source could not be opened or read. */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public class DataException extends NeuronMonkeyException {

    /** @param message what went wrong, non-null */
    public DataException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, non-null
     * @param cause   the underlying failure, may be null
     */
    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
