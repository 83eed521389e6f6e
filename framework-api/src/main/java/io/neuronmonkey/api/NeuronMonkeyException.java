package io.neuronmonkey.api;

/**
 * Root of NeuronMonkey's unchecked exceptions. Each phase has a subtype; messages say what was expected and what
 * was found.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public class NeuronMonkeyException extends RuntimeException {

    /** @param message what went wrong, non-null */
    public NeuronMonkeyException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, non-null
     * @param cause   the underlying failure, may be null
     */
    public NeuronMonkeyException(String message, Throwable cause) {
        super(message, cause);
    }
}
