package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.PluginException;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.plugin.PluginStore;
import io.neuronmonkey.runtime.plugin.RefusedPlugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** Where the plugins are and what version this is; shared by the commands. */
final class Launch {

    private Launch() {
    }

    static String version() {
        try (InputStream in = Launch.class.getResourceAsStream("/io/neuronmonkey/runtime/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "0.0.0-dev");
        } catch (IOException e) {
            return "0.0.0-dev";
        }
    }

    /** The version plugins declare compatibility with (plugin.requires): the release part only. */
    static String systemVersion() {
        return version().replaceAll("[-+].*$", "");
    }

    /** The bundles the build produced: {@code plugins/target/bundles} under the installation. */
    static Path builtInPluginsDir() {
        return Path.of(System.getProperty("neuronmonkey.home", "."), "plugins", "target", "bundles");
    }

    /**
     * The user plugins folder, where {@code plugins install} puts bundles: {@code $NEURONMONKEY_PLUGINS}, else
     * {@code -Dneuronmonkey.plugins}, else {@code ~/.neuronmonkey/plugins}.
     */
    static Path userPluginsDir() {
        String env = System.getenv("NEURONMONKEY_PLUGINS");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String prop = System.getProperty("neuronmonkey.plugins");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        return Path.of(System.getProperty("user.home"), ".neuronmonkey", "plugins");
    }

    /**
     * Every folder bundles are read from, in order: the built-in bundles and the user plugins folder where they
     * exist, then the folder {@code --plugins} adds.
     *
     * @throws ConfigException when the {@code --plugins} folder does not exist or is a file
     */
    static List<Path> pluginRoots(Path option) {
        List<Path> roots = new ArrayList<>();
        for (Path p : List.of(builtInPluginsDir(), userPluginsDir())) {
            if (Files.isDirectory(p)) {
                roots.add(p);
            }
        }
        if (option != null) {
            if (!Files.isDirectory(option)) {
                throw new ConfigException("--plugins " + option + " - not a folder of plugin bundles: " + option.toAbsolutePath()
                        + (Files.exists(option) ? " is a file" : " does not exist")
                        + " (give a folder holding plugin zips or unpacked plugins, e.g. plugins/target/bundles)");
            }
            roots.add(option);
        }
        if (roots.isEmpty()) {
            throw new PluginException("no plugin bundles: " + builtInPluginsDir().toAbsolutePath() + " does not exist (build the "
                    + "plugins with ./mvnw package), nor does the user plugins folder " + userPluginsDir().toAbsolutePath()
                    + " (install bundles with 'neuronmonkey plugins install FILE', or pass --plugins DIR)");
        }
        return roots;
    }

    /** The user plugins folder with the other folders read beside it. */
    static PluginStore store(Path option) {
        List<Path> others = new ArrayList<>();
        if (Files.isDirectory(builtInPluginsDir())) {
            others.add(builtInPluginsDir());
        }
        if (option != null) {
            pluginRoots(option);
            others.add(option);
        }
        return new PluginStore(userPluginsDir(), others, systemVersion());
    }

    static PluginHost plugins(Path option, PrintStream err, boolean warn) {
        PluginHost host = PluginHost.start(pluginRoots(option), systemVersion(), m -> err.println("neuronmonkey: " + m));
        if (warn) {
            for (RefusedPlugin r : host.refused()) {
                err.println("warning: plugin bundle " + r.path().getFileName() + " refused: " + r.reason());
            }
        }
        return host;
    }
}
