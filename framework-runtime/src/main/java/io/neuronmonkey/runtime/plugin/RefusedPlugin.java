package io.neuronmonkey.runtime.plugin;

import java.nio.file.Path;

/** A bundle that was not loaded, and why. */
public record RefusedPlugin(Path path, String reason) {
}
