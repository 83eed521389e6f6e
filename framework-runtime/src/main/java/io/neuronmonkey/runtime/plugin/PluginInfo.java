package io.neuronmonkey.runtime.plugin;

import java.nio.file.Path;

/** A loaded plugin as {@code neuronmonkey plugins} shows it. */
public record PluginInfo(String id, String version, String state, String description, Path path) {
}
