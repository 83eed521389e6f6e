package io.neuronmonkey.api;

/** The params record of an extension that takes no parameters; any key given in YAML is reported as unknown. */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record NoParams() {
}
