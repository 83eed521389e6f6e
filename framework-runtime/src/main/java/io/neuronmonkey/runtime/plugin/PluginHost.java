package io.neuronmonkey.runtime.plugin;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import io.neuronmonkey.api.PluginException;
import org.pf4j.BasePluginRepository;
import org.pf4j.CompoundPluginRepository;
import org.pf4j.DefaultPluginManager;
import org.pf4j.ExtensionFactory;
import org.pf4j.JarPluginRepository;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginRepository;
import org.pf4j.PluginRuntimeException;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Starts PF4J over a plugins directory, builds every extension through Guice and registers it by point and name.
 * Bundles with a missing or bad descriptor field are refused with the field named; the others still load.
 */
public final class PluginHost implements AutoCloseable {

    private static final Pattern PLUGIN_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern SEMVER = Pattern.compile("\\d+\\.\\d+\\.\\d+([-+][0-9A-Za-z.+-]+)?");

    private final Manager manager;
    private final ExtensionRegistry registry;
    private final Path root;

    private PluginHost(Path root, Manager manager, ExtensionRegistry registry) {
        this.root = root;
        this.manager = manager;
        this.registry = registry;
    }

    /**
     * @param pluginsDir    a directory holding plugin bundles (zip, jar or expanded folders)
     * @param systemVersion the framework version bundles declare compatibility with ({@code plugin.requires})
     */
    public static PluginHost start(Path pluginsDir, String systemVersion) {
        return start(pluginsDir, systemVersion, m -> System.err.println("neuronmonkey: " + m));
    }

    /**
     * @param notice told when start-up waits for another process that is unpacking the same bundles
     */
    public static PluginHost start(Path pluginsDir, String systemVersion, Consumer<String> notice) {
        if (!Files.isDirectory(pluginsDir)) {
            throw new PluginException("plugins directory not found: " + pluginsDir.toAbsolutePath()
                    + " (build the plugins with ./mvnw package, or point --plugins / NEURONMONKEY_PLUGINS at a folder of bundles)");
        }
        BundleUnpacker.unpack(pluginsDir, notice);
        Injector injector = Guice.createInjector(Stage.DEVELOPMENT);
        Manager manager = new Manager(pluginsDir.toAbsolutePath(), injector);
        manager.setSystemVersion(systemVersion);
        manager.loadPlugins();
        manager.startPlugins();
        ExtensionRegistry registry = new ExtensionRegistry();
        for (PluginWrapper w : manager.getPlugins()) {
            if (w.getPluginState() != PluginState.STARTED) {
                manager.refused.add(new RefusedPlugin(w.getPluginPath(), "plugin '" + w.getPluginId() + "' is " + w.getPluginState()
                        + (w.getFailedException() != null ? ": " + w.getFailedException().getMessage() : "")));
                continue;
            }
            String version = w.getDescriptor().getVersion();
            for (ExtensionPoints point : ExtensionPoints.values()) {
                List<?> extensions;
                try {
                    extensions = manager.getExtensions(point.type(), w.getPluginId());
                } catch (RuntimeException e) {
                    manager.refused.add(new RefusedPlugin(w.getPluginPath(), "plugin '" + w.getPluginId()
                            + "': its " + point.word() + " extensions could not be created: " + e.getMessage()));
                    continue;
                }
                for (Object ext : extensions) {
                    registry.add(point, ext, w.getPluginId(), version);
                }
            }
        }
        return new PluginHost(pluginsDir, manager, registry);
    }

    public ExtensionRegistry registry() {
        return registry;
    }

    public Path root() {
        return root;
    }

    /** Loaded plugins, sorted by id. */
    public List<PluginInfo> plugins() {
        return manager.getPlugins().stream()
                .map(w -> new PluginInfo(w.getPluginId(), w.getDescriptor().getVersion(), w.getPluginState().toString(),
                        w.getDescriptor().getPluginDescription(), w.getPluginPath()))
                .sorted(Comparator.comparing(PluginInfo::id))
                .toList();
    }

    /** Bundles that were not loaded, with the reason, and extensions that were skipped. */
    public List<RefusedPlugin> refused() {
        List<RefusedPlugin> all = new ArrayList<>(manager.refused);
        for (String p : registry.problems()) {
            all.add(new RefusedPlugin(root, p));
        }
        return Collections.unmodifiableList(all);
    }

    @Override
    public void close() {
        manager.stopPlugins();
    }

    /** PF4J's default manager with Guice-built extensions and descriptor checks that name the bad field. */
    private static final class Manager extends DefaultPluginManager {
        private final Injector injector;
        private final List<RefusedPlugin> refused = new ArrayList<>();

        Manager(Path root, Injector injector) {
            super(root);
            this.injector = injector;
        }

        @Override
        protected ExtensionFactory createExtensionFactory() {
            // called from the super constructor, before this.injector is set: defer the lookup
            return new ExtensionFactory() {
                @Override
                public <T> T create(Class<T> extensionClass) {
                    return new GuiceExtensionFactory(injector).create(extensionClass);
                }
            };
        }

        /** Zips are expanded beforehand by {@link BundleUnpacker} (locked, renamed into place); PF4J's in-place expansion must not run. */
        @Override
        protected PluginRepository createPluginRepository() {
            return new CompoundPluginRepository()
                    .add(new JarPluginRepository(getPluginsRoots()))
                    .add(new BasePluginRepository(getPluginsRoots(), f -> f.isDirectory() && !f.getName().startsWith(".")));
        }

        @Override
        protected PluginWrapper loadPluginFromPath(Path pluginPath) {
            try {
                return super.loadPluginFromPath(pluginPath);
            } catch (PluginRuntimeException e) {
                refused.add(new RefusedPlugin(pluginPath, describe(e)));
                throw e;
            } catch (RuntimeException e) {
                refused.add(new RefusedPlugin(pluginPath, describe(e)));
                throw new PluginRuntimeException(e, "cannot load plugin {}", pluginPath);
            }
        }

        private static String describe(RuntimeException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            return m.contains("descriptor") || m.contains("Field") ? m : "bad plugin bundle: " + m;
        }

        @Override
        protected void validatePluginDescriptor(PluginDescriptor d) {
            List<String> bad = new ArrayList<>();
            if (d.getPluginId() == null || d.getPluginId().isBlank()) {
                bad.add("field 'plugin.id' is missing or empty");
            } else if (!PLUGIN_ID.matcher(d.getPluginId()).matches()) {
                bad.add("field 'plugin.id' must be letters, digits, '.', '_' or '-', found '" + d.getPluginId() + "'");
            }
            if (d.getVersion() == null || d.getVersion().isBlank()) {
                bad.add("field 'plugin.version' is missing or empty");
            } else if (!SEMVER.matcher(d.getVersion()).matches()) {
                bad.add("field 'plugin.version' must be a semantic version like 1.2.0, found '" + d.getVersion() + "'");
            }
            if (!bad.isEmpty()) {
                throw new PluginRuntimeException("invalid plugin descriptor (plugin.properties or MANIFEST.MF): "
                        + String.join("; ", bad));
            }
            super.validatePluginDescriptor(d);
        }
    }
}
