package io.neuronmonkey.api;

/** Thrown when the experiment configuration is invalid (YAML syntax, unknown names, bad params, missing files). */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public class ConfigException extends NeuronMonkeyException {

    /** @param message what went wrong, non-null */
    public ConfigException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong, non-null
     * @param cause   the underlying failure, may be null
     */
    public ConfigException(String message, Throwable cause) {
        super(message, cause);
    }
}
