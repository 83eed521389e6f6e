package io.neuronmonkey.api;

/** Thrown when a plugin bundle could not be loaded or its extensions conflict. */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public class PluginException extends NeuronMonkeyException {

    /** @param message what went wrong, non-null */
    public PluginException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, non-null
     * @param cause   the underlying failure, may be null
     */
    public PluginException(String message, Throwable cause) {
        super(message, cause);
    }
}
