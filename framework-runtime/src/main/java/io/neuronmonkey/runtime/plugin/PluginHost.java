package io.neuronmonkey.runtime.plugin;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Stage;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.NeuronMonkeyException;
import io.neuronmonkey.api.PluginException;
import org.pf4j.DefaultPluginManager;
import org.pf4j.DependencyResolver;
import org.pf4j.ExtensionFactory;
import org.pf4j.Plugin;
import org.pf4j.PluginDependency;
import org.pf4j.PluginDescriptor;
import org.pf4j.PluginFactory;
import org.pf4j.PluginRepository;
import org.pf4j.PluginRuntimeException;
import org.pf4j.PluginState;
import org.pf4j.PluginWrapper;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * Starts PF4J over a plugins directory, builds every extension through Guice and registers it by point and name.
 * One bad bundle never takes the others down: a bundle that cannot be a plugin (unreadable or empty zip, no or a bad
 * descriptor, a missing dependency, a {@code plugin.requires} this version does not meet, a {@code plugin.class}
 * that fails) or that declares a name another bundle already provides is refused with a one-line reason; an
 * extension that cannot be created is skipped while its siblings load.
 */
public final class PluginHost implements AutoCloseable {

    private static final String SHIPPED = "NeuronMonkey";

    private final Manager manager;
    private final ExtensionRegistry registry;
    private final List<Path> roots;

    private PluginHost(List<Path> roots, Manager manager, ExtensionRegistry registry) {
        this.roots = roots;
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
        return start(List.of(pluginsDir), systemVersion, notice);
    }

    /**
     * Loads the bundles of several folders together, as one set: a plugin id may be used once across all of them
     * (a later folder's bundle with an id already loaded is refused), and extension names are shared by all.
     *
     * @param pluginsDirs folders of bundles, in the order they are read; the same folder named twice is read once
     */
    public static PluginHost start(List<Path> pluginsDirs, String systemVersion, Consumer<String> notice) {
        if (pluginsDirs.isEmpty()) {
            throw new PluginException("no plugins folder to read bundles from (build the plugins with ./mvnw package, "
                    + "install some with 'neuronmonkey plugins install', or pass --plugins DIR)");
        }
        List<Path> roots = new ArrayList<>();
        for (Path dir : pluginsDirs) {
            if (!Files.isDirectory(dir)) {
                throw new PluginException("plugins directory not found: " + dir.toAbsolutePath()
                        + " (build the plugins with ./mvnw package, or point --plugins / NEURONMONKEY_PLUGINS at a folder of bundles)");
            }
            Path abs = dir.toAbsolutePath().normalize();
            if (roots.stream().noneMatch(r -> same(r, abs))) {
                roots.add(abs);
            }
        }
        for (Path dir : roots) {
            BundleUnpacker.unpack(dir, notice);
        }
        Injector injector = Guice.createInjector(Stage.DEVELOPMENT);
        Manager manager = new Manager(roots, injector);
        manager.setSystemVersion(systemVersion);
        manager.loadPlugins();
        manager.startPlugins();
        ExtensionRegistry registry = new ExtensionRegistry();
        Set<String> refusedIds = new HashSet<>(manager.refusedIds);
        List<PluginWrapper> order = new ArrayList<>(manager.getPlugins());
        // names belong to the first bundle that declares them: the bundles NeuronMonkey ships, then the others by id
        order.sort(Comparator.comparing((PluginWrapper w) -> SHIPPED.equals(w.getDescriptor().getProvider()) ? 0 : 1)
                .thenComparing(PluginWrapper::getPluginId));
        for (PluginWrapper w : order) {
            String id = w.getPluginId();
            String reason = null;
            if (w.getPluginState() != PluginState.STARTED) {
                reason = manager.whyNotStarted(w);
            } else {
                for (PluginDependency d : w.getDescriptor().getDependencies()) {
                    if (refusedIds.contains(d.getPluginId())) {
                        reason = "plugin '" + id + "' needs plugin '" + d.getPluginId() + "', which was refused";
                        break;
                    }
                }
            }
            List<Candidate> candidates = new ArrayList<>();
            if (reason == null) {
                candidates = extensions(manager, w, registry);
                reason = clash(candidates, registry, id);
            }
            if (reason != null) {
                manager.refused.add(new RefusedPlugin(w.getPluginPath(), reason));
                refusedIds.add(id);
                manager.unload(id);
                continue;
            }
            for (Candidate c : candidates) {
                registry.add(c.point(), c.instance(), id, w.getDescriptor().getVersion());
            }
        }
        return new PluginHost(List.copyOf(roots), manager, registry);
    }

    private static boolean same(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (java.io.IOException e) {
            return a.equals(b);
        }
    }

    /** An extension built from a plugin, not yet registered. */
    private record Candidate(ExtensionPoints point, String name, Object instance) {
    }

    /**
     * Builds each extension of a plugin on its own, so that one that cannot be loaded or created (its constructor
     * throws) is skipped with its reason while its siblings are still registered.
     */
    private static List<Candidate> extensions(Manager manager, PluginWrapper w, ExtensionRegistry registry) {
        List<Candidate> out = new ArrayList<>();
        String id = w.getPluginId();
        for (String className : new TreeSet<>(manager.getExtensionClassNames(id))) {
            Class<?> cls;
            try {
                cls = w.getPluginClassLoader().loadClass(className);
            } catch (ClassNotFoundException | LinkageError e) {
                registry.problem("plugin '" + id + "': extension " + className + " could not be loaded: " + oneLine(e));
                continue;
            }
            ExtensionPoints point = null;
            for (ExtensionPoints p : ExtensionPoints.values()) {
                if (p.type().isAssignableFrom(cls)) {
                    point = p;
                    break;
                }
            }
            if (point == null) {
                registry.problem("plugin '" + id + "': extension " + className + " implements none of the extension points ("
                        + String.join(", ", Arrays.stream(ExtensionPoints.values()).map(p -> p.type().getSimpleName()).toList())
                        + "); it was not registered");
                continue;
            }
            String problem = ExtensionRegistry.nameProblem(cls, id);
            if (problem != null) {
                registry.problem(problem);
                continue;
            }
            String name = cls.getAnnotation(ExtensionName.class).value();
            try {
                out.add(new Candidate(point, name, manager.getExtensionFactory().create(cls)));
            } catch (RuntimeException | LinkageError e) {
                registry.problem("plugin '" + id + "': " + point.word() + " '" + name + "' (" + className
                        + ") could not be created, so it was not registered: " + oneLine(e));
            }
        }
        return out;
    }

    /** Why a bundle's extensions cannot be registered: a name another bundle (or the bundle itself) already uses. */
    private static String clash(List<Candidate> candidates, ExtensionRegistry registry, String id) {
        Set<String> own = new HashSet<>();
        for (Candidate c : candidates) {
            if (!own.add(c.point() + "/" + c.name())) {
                return "plugin '" + id + "' declares two " + c.point().word() + "s named '" + c.name()
                        + "'; the bundle was not loaded";
            }
            Optional<RegisteredExtension<?>> taken = registry.find(c.point(), c.name());
            if (taken.isPresent()) {
                return "plugin '" + id + "' declares " + c.point().word() + " '" + c.name() + "', which plugin '"
                        + taken.get().pluginId() + "' already provides; the bundle was not loaded (rename its extension, or "
                        + "remove one of the two bundles)";
            }
        }
        return null;
    }

    /** The innermost cause as one line: its type and the first line of its message. */
    static String oneLine(Throwable e) {
        Throwable c = e;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        String m = c.getMessage() == null ? "" : c.getMessage().strip().lines().findFirst().orElse("");
        if (c instanceof NeuronMonkeyException || c instanceof PluginRuntimeException) {
            return m;
        }
        return c.getClass().getSimpleName() + (m.isEmpty() ? "" : ": " + m);
    }

    public ExtensionRegistry registry() {
        return registry;
    }

    /** The folders the bundles were read from, in order. */
    public List<Path> roots() {
        return roots;
    }

    /**
     * Loaded plugins, sorted by id, each with the bundle file it came from and that file's SHA-256.
     *
     * @throws PluginException when a bundle file cannot be read to be hashed
     */
    public List<PluginInfo> plugins() {
        List<PluginInfo> out = new ArrayList<>();
        for (PluginWrapper w : manager.getPlugins()) {
            Path file = BundleFiles.file(w.getPluginPath());
            out.add(new PluginInfo(w.getPluginId(), w.getDescriptor().getVersion(), w.getPluginState().toString(),
                    w.getDescriptor().getPluginDescription(), w.getPluginPath(), file, BundleFiles.sha256(file)));
        }
        out.sort(Comparator.comparing(PluginInfo::id));
        return out;
    }

    /** The descriptor of a loaded plugin. */
    public Optional<BundleDescriptor> descriptor(String pluginId) {
        PluginWrapper w = manager.getPlugin(pluginId);
        return w == null ? Optional.empty() : Optional.of(BundleDescriptor.of(w.getDescriptor()));
    }

    /** Why the bundle with this plugin id was refused, when one was. */
    public Optional<String> refusedReason(String pluginId) {
        for (RefusedPlugin r : manager.refused) {
            if (BundleDescriptor.readAny(r.path()).map(d -> pluginId.equals(d.id())).orElse(false)) {
                return Optional.of(r.reason());
            }
        }
        return Optional.empty();
    }

    /** Bundles that were not loaded, with the reason, and extensions that were skipped. */
    public List<RefusedPlugin> refused() {
        List<RefusedPlugin> all = new ArrayList<>(manager.refused);
        for (String p : registry.problems()) {
            all.add(new RefusedPlugin(roots.get(0), p));
        }
        return Collections.unmodifiableList(all);
    }

    @Override
    public void close() {
        manager.stopPlugins();
    }

    /**
     * PF4J's default manager with Guice-built extensions, descriptor checks that name the bad field, zips checked
     * before they are unpacked, and a one-line reason for every bundle that is not loaded (a missing or wrong-version
     * plugin dependency, a {@code plugin.requires} this version does not meet, a {@code plugin.class} that is not in
     * the bundle), while the other bundles still load.
     */
    private static final class Manager extends DefaultPluginManager {
        private final Injector injector;
        private final List<RefusedPlugin> refused = new ArrayList<>();
        private final Set<String> refusedIds = new HashSet<>();

        Manager(List<Path> roots, Injector injector) {
            super(roots);
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

        @Override
        protected PluginRepository createPluginRepository() {
            // called from the super constructor too: the callback reads the list when bundles are listed
            return new BundleRepository(getPluginsRoots(), this::refuse);
        }

        private void refuse(RefusedPlugin r) {
            refused.add(r);
        }

        @Override
        protected PluginFactory createPluginFactory() {
            return new ClearPluginFactory();
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

        private String describe(RuntimeException e) {
            String m = e.getMessage() == null ? e.toString() : e.getMessage();
            if (m.startsWith("No PluginDescriptorFinder")) {
                return "no plugin.properties (or META-INF/MANIFEST.MF with Plugin-Id) in this folder: not a plugin bundle";
            }
            if (m.startsWith("There is an already loaded plugin")) {
                java.util.regex.Matcher id = java.util.regex.Pattern.compile("with the same id \\((.*?)\\)").matcher(m);
                PluginWrapper first = id.find() ? getPlugin(id.group(1)) : null;
                return first == null ? "another bundle already has this bundle's plugin.id; two bundles cannot share an id"
                        : "plugin id '" + first.getPluginId() + "' is already used by " + BundleFiles.file(first.getPluginPath())
                        + ", which was loaded first; two bundles cannot share an id (remove one, or give this one another plugin.id)";
            }
            m = m.replaceAll("\\s*\\R\\s*", " ").strip();
            return m.contains("descriptor") || m.contains("Field") ? m : "bad plugin bundle: " + m;
        }

        @Override
        protected void validatePluginDescriptor(PluginDescriptor d) {
            List<String> bad = BundleDescriptor.of(d).problems();
            if (!bad.isEmpty()) {
                throw new PluginRuntimeException("invalid plugin descriptor (plugin.properties or MANIFEST.MF): "
                        + String.join("; ", bad));
            }
            super.validatePluginDescriptor(d);
        }

        /**
         * Refuses, with the reason, every plugin whose required plugin dependencies are missing or of a version it
         * does not accept (and, in turn, the plugins that need those), before PF4J resolves the rest.
         */
        @Override
        protected void resolvePlugins() {
            boolean changed = true;
            while (changed) {
                changed = false;
                for (PluginWrapper w : new ArrayList<>(getPlugins())) {
                    String reason = dependencyProblem(w);
                    if (reason != null) {
                        refused.add(new RefusedPlugin(w.getPluginPath(), reason));
                        refusedIds.add(w.getPluginId());
                        unloadPlugin(w.getPluginId(), false, false);
                        changed = true;
                    }
                }
            }
            try {
                super.resolvePlugins();
            } catch (DependencyResolver.CyclicDependencyException e) {
                for (PluginWrapper w : new ArrayList<>(getPlugins())) {
                    if (!w.getDescriptor().getDependencies().isEmpty()) {
                        refused.add(new RefusedPlugin(w.getPluginPath(), "plugin '" + w.getPluginId()
                                + "': its plugin.dependencies form a cycle with other bundles"));
                        refusedIds.add(w.getPluginId());
                        unloadPlugin(w.getPluginId(), false, false);
                    }
                }
                super.resolvePlugins();
            }
        }

        private String dependencyProblem(PluginWrapper w) {
            for (PluginDependency d : w.getDescriptor().getDependencies()) {
                if (d.isOptional()) {
                    continue;
                }
                PluginWrapper dep = getPlugin(d.getPluginId());
                String id = "plugin '" + w.getPluginId() + "' needs plugin '" + d.getPluginId() + "'";
                if (dep == null) {
                    return id + (refusedIds.contains(d.getPluginId()) ? ", which was refused"
                            : " (plugin.dependencies), which is not in the plugins folder");
                }
                String wanted = d.getPluginVersionSupport();
                if (wanted != null && !wanted.isBlank() && !"*".equals(wanted)
                        && !getVersionManager().checkVersionConstraint(dep.getDescriptor().getVersion(), wanted)) {
                    return id + " version " + wanted + " (plugin.dependencies), but the plugins folder has "
                            + dep.getDescriptor().getVersion();
                }
            }
            return null;
        }

        /** Why a loaded plugin did not reach STARTED, in one line. */
        String whyNotStarted(PluginWrapper w) {
            String id = "plugin '" + w.getPluginId() + "'";
            if (w.getPluginState() == PluginState.DISABLED) {
                if (!isPluginValid(w)) {
                    return id + " requires NeuronMonkey " + w.getDescriptor().getRequires() + " (plugin.requires); this is "
                            + getSystemVersion() + ", so it was not loaded";
                }
                return id + " is disabled (disabled.txt or enabled.txt in the plugins folder)";
            }
            if (w.getFailedException() != null) {
                return id + " did not start: " + oneLine(w.getFailedException());
            }
            return id + " did not start (state " + w.getPluginState() + ")";
        }

        void unload(String pluginId) {
            unloadPlugin(pluginId, false, false);
        }
    }

    /** Creates the {@code plugin.class} of a bundle, or says in one line why it cannot. */
    private static final class ClearPluginFactory implements PluginFactory {
        @Override
        public Plugin create(PluginWrapper w) {
            String name = w.getDescriptor().getPluginClass();
            Class<?> cls;
            try {
                cls = w.getPluginClassLoader().loadClass(name);
            } catch (ClassNotFoundException | LinkageError e) {
                throw new PluginException("its plugin.class '" + name + "' is not in the bundle's lib/*.jar ("
                        + oneLine(e) + "); name an existing class, or leave plugin.class out");
            }
            if (!Plugin.class.isAssignableFrom(cls) || Modifier.isAbstract(cls.getModifiers())) {
                throw new PluginException("its plugin.class '" + name + "' is not a concrete subclass of org.pf4j.Plugin");
            }
            try {
                try {
                    return (Plugin) cls.getConstructor(PluginWrapper.class).newInstance(w);
                } catch (NoSuchMethodException e) {
                    return (Plugin) cls.getConstructor().newInstance();
                }
            } catch (InvocationTargetException e) {
                throw new PluginException("its plugin.class '" + name + "' could not be created: " + oneLine(e.getCause()));
            } catch (ReflectiveOperationException e) {
                throw new PluginException("its plugin.class '" + name + "' has no public constructor taking a PluginWrapper "
                        + "or nothing");
            }
        }
    }
}
