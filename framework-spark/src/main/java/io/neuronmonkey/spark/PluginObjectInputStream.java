package io.neuronmonkey.spark;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.ObjectInputStream;
import java.io.ObjectStreamClass;

/**
 * Reads objects whose classes belong to a plugin: classes are resolved with the plugin's class loader first (an
 * accumulator of a PF4J plugin is not visible from the engine's own loader), then the default way.
 */
final class PluginObjectInputStream extends ObjectInputStream {

    private final ClassLoader loader;

    PluginObjectInputStream(InputStream in, ClassLoader loader) throws IOException {
        super(in);
        this.loader = loader;
    }

    /**
     * @param bytes  one serialized object
     * @param loader the class loader of the plugin that owns its classes
     * @return the object
     */
    static Object read(byte[] bytes, ClassLoader loader) throws IOException, ClassNotFoundException {
        try (PluginObjectInputStream in = new PluginObjectInputStream(new ByteArrayInputStream(bytes), loader)) {
            return in.readObject();
        }
    }

    @Override
    protected Class<?> resolveClass(ObjectStreamClass desc) throws IOException, ClassNotFoundException {
        try {
            return Class.forName(desc.getName(), false, loader);
        } catch (ClassNotFoundException e) {
            return super.resolveClass(desc);
        }
    }
}
