package io.neuronmonkey.runtime.plugin;

/**
 * One extension as the runtime knows it: its stable name, the plugin it came from, its instance and the params record
 * type read from its generic signature.
 */
public record RegisteredExtension<T>(ExtensionPoints point, String name, String description, String pluginId,
                                     String pluginVersion, T instance, Class<? extends Record> paramsType) {
}
