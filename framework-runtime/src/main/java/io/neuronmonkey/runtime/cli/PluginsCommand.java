package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.plugin.ExtensionPoints;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.plugin.PluginInfo;
import io.neuronmonkey.runtime.plugin.RefusedPlugin;
import io.neuronmonkey.runtime.plugin.RegisteredExtension;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code neuronmonkey plugins}: loaded plugins and their extensions by point and name. */
@Command(name = "plugins", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "List loaded plugins (id, version, state) and their extensions by point and name.")
final class PluginsCommand implements Callable<Integer> {

    @Option(names = "--plugins", paramLabel = "DIR", description = "plugin bundles folder")
    Path plugins;

    @Option(names = {"-v", "--verbose"}, description = "also list every extension's params")
    boolean verbose;

    @Override
    public Integer call() {
        PrintStream out = System.out;
        try (PluginHost host = Launch.plugins(plugins, System.err, false)) {
            out.println("plugins from " + host.root().toAbsolutePath() + ":");
            for (PluginInfo p : host.plugins()) {
                out.printf(Locale.ROOT, "  %-22s %-16s %-8s %s%n", p.id(), p.version(), p.state(),
                        p.description() == null ? "" : p.description());
            }
            for (ExtensionPoints point : ExtensionPoints.values()) {
                out.println(point.word() + "s:");
                if (host.registry().all(point).isEmpty()) {
                    out.println("  (none)");
                }
                for (RegisteredExtension<?> e : host.registry().all(point).values()) {
                    out.printf(Locale.ROOT, "  %-22s %-22s %s%n", e.name(), "[" + e.pluginId() + "]", e.description());
                    if (verbose) {
                        for (String line : ParamsBinder.describe(e.paramsType())) {
                            out.println("      " + line);
                        }
                    }
                }
            }
            if (!host.refused().isEmpty()) {
                out.println("refused:");
                for (RefusedPlugin r : host.refused()) {
                    out.println("  " + r.path().getFileName() + ": " + r.reason());
                }
            }
        }
        return Main.OK;
    }
}
