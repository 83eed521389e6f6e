package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.plugin.RefusedPlugin;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
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

    /** --plugins, then NEURONMONKEY_PLUGINS, then -Dneuronmonkey.plugins, then the bundles the build produced. */
    static Path pluginsDir(Path option) {
        if (option != null) {
            return option;
        }
        String env = System.getenv("NEURONMONKEY_PLUGINS");
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        String prop = System.getProperty("neuronmonkey.plugins");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        String home = System.getProperty("neuronmonkey.home", ".");
        return Path.of(home, "plugins", "target", "bundles");
    }

    static PluginHost plugins(Path option, PrintStream err, boolean warn) {
        PluginHost host = PluginHost.start(pluginsDir(option), systemVersion(), m -> err.println("neuronmonkey: " + m));
        if (warn) {
            for (RefusedPlugin r : host.refused()) {
                err.println("warning: plugin bundle " + r.path().getFileName() + " refused: " + r.reason());
            }
        }
        return host;
    }
}
