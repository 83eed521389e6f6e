package io.neuronmonkey.runtime.plugin;

import java.nio.file.Path;

/**
 * A loaded plugin as {@code neuronmonkey plugins} shows it and provenance records it.
 *
 * @param path   where PF4J loaded it from (a zip's unpacked folder, a jar or a folder)
 * @param file   the bundle file itself: the zip for an unpacked folder, else the jar or folder
 * @param sha256 the SHA-256 of {@code file} (of a folder: of its file list with each file's hash, see {@link BundleFiles})
 */
public record PluginInfo(String id, String version, String state, String description, Path path, Path file, String sha256) {
}
