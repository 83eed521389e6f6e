package io.neuronmonkey.runtime.plugin;

import com.google.inject.Injector;
import io.neuronmonkey.api.PluginException;
import org.pf4j.ExtensionFactory;

/**
 * Lets Guice build every extension PF4J finds, so extensions may take {@code @Inject} constructors. Extensions are
 * created once per runtime (the registry keeps the instance).
 */
final class GuiceExtensionFactory implements ExtensionFactory {

    private final Injector injector;

    GuiceExtensionFactory(Injector injector) {
        this.injector = injector;
    }

    @Override
    public <T> T create(Class<T> extensionClass) {
        try {
            return injector.getInstance(extensionClass);
        } catch (RuntimeException e) {
            throw new PluginException("cannot create extension " + extensionClass.getName() + ": " + e.getMessage(), e);
        }
    }
}
