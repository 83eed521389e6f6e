package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.plugin.RefusedPlugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** A plugins folder and where it was named: the option, the variable or the property (null: the build's default). */
    record PluginsSource(Path dir, String origin) {
    }

    /** --plugins, then NEURONMONKEY_PLUGINS, then -Dneuronmonkey.plugins, then the bundles the build produced. */
    static PluginsSource pluginsSource(Path option) {
        if (option != null) {
            return new PluginsSource(option, "--plugins " + option);
        }
        String env = System.getenv("NEURONMONKEY_PLUGINS");
        if (env != null && !env.isBlank()) {
            return new PluginsSource(Path.of(env), "NEURONMONKEY_PLUGINS=" + env);
        }
        String prop = System.getProperty("neuronmonkey.plugins");
        if (prop != null && !prop.isBlank()) {
            return new PluginsSource(Path.of(prop), "-Dneuronmonkey.plugins=" + prop);
        }
        String home = System.getProperty("neuronmonkey.home", ".");
        return new PluginsSource(Path.of(home, "plugins", "target", "bundles"), null);
    }

    /**
     * @throws ConfigException when the folder named by the user does not exist or is a file; the build's default
     *                         folder missing is left to the plugin host, which says how to build it
     */
    static Path checkedPluginsDir(Path option) {
        PluginsSource s = pluginsSource(option);
        if (s.origin() != null && !Files.isDirectory(s.dir())) {
            throw new ConfigException(s.origin() + " - not a folder of plugin bundles: " + s.dir().toAbsolutePath()
                    + (Files.exists(s.dir()) ? " is a file" : " does not exist")
                    + " (give a folder holding plugin zips or unpacked plugins, e.g. plugins/target/bundles)");
        }
        return s.dir();
    }

    static PluginHost plugins(Path option, PrintStream err, boolean warn) {
        PluginHost host = PluginHost.start(checkedPluginsDir(option), systemVersion(), m -> err.println("neuronmonkey: " + m));
        if (warn) {
            for (RefusedPlugin r : host.refused()) {
                err.println("warning: plugin bundle " + r.path().getFileName() + " refused: " + r.reason());
            }
        }
        return host;
    }
}
