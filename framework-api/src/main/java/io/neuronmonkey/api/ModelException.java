package io.neuronmonkey.api;

/** Thrown when a model could not be loaded, inspected or run. */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public class ModelException extends NeuronMonkeyException {

    /** @param message what went wrong, non-null */
    public ModelException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, non-null
     * @param cause   the underlying failure, may be null
     */
    public ModelException(String message, Throwable cause) {
        super(message, cause);
    }
}
