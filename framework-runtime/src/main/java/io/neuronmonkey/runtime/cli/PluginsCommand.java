package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.plugin.BundleDescriptor;
import io.neuronmonkey.runtime.plugin.BundleFiles;
import io.neuronmonkey.runtime.plugin.ExtensionPoints;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.plugin.PluginInfo;
import io.neuronmonkey.runtime.plugin.PluginStore;
import io.neuronmonkey.runtime.plugin.RefusedPlugin;
import io.neuronmonkey.runtime.plugin.RegisteredExtension;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/**
 * {@code neuronmonkey plugins [list|install|remove|info|verify]}: the loaded plugins and their extensions, and the
 * user plugins folder ({@code $NEURONMONKEY_PLUGINS} or {@code ~/.neuronmonkey/plugins}), read in addition to the
 * bundles NeuronMonkey ships. Without a subcommand it lists, as {@code plugins list}.
 */
@Command(name = "plugins", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "List loaded plugins (id, version, state) and their extensions by point and name; install, remove, "
                + "inspect and verify the bundles of the user plugins folder ($NEURONMONKEY_PLUGINS or ~/.neuronmonkey/plugins).",
        subcommands = {PluginsCommand.ListCommand.class, PluginsCommand.InstallCommand.class, PluginsCommand.RemoveCommand.class,
                PluginsCommand.InfoCommand.class, PluginsCommand.VerifyCommand.class})
final class PluginsCommand implements Callable<Integer> {

    @Option(names = "--plugins", paramLabel = "DIR", description = "a folder of plugin bundles read in addition to the built-in and user ones")
    Path plugins;

    @Option(names = {"-v", "--verbose"}, description = "also list every extension's params")
    boolean verbose;

    @Override
    public Integer call() {
        return list(plugins, verbose);
    }

    static int list(Path plugins, boolean verbose) {
        PrintStream out = System.out;
        try (PluginHost host = Launch.plugins(plugins, System.err, false)) {
            out.println("plugins from " + String.join(", ", host.roots().stream().map(Path::toString).toList()) + ":");
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

    /** {@code plugins list}: the same as {@code plugins} alone. */
    @Command(name = "list", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "List loaded plugins, their extensions by point and name, and refused bundles.")
    static final class ListCommand implements Callable<Integer> {
        @Option(names = "--plugins", paramLabel = "DIR", description = "a folder of plugin bundles read in addition to the built-in and user ones")
        Path plugins;

        @Option(names = {"-v", "--verbose"}, description = "also list every extension's params")
        boolean verbose;

        @Override
        public Integer call() {
            return list(plugins, verbose);
        }
    }

    /** {@code plugins install FILE|DIR [--force]}. */
    @Command(name = "install", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Install a bundle zip (or a bundle folder holding plugin.properties) into the user plugins folder, "
                    + "after checking it; its SHA-256 is written beside it.")
    static final class InstallCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "FILE|DIR", description = "a bundle zip, or a folder with plugin.properties and lib/*.jar")
        Path source;

        @Option(names = "--force", description = "replace a bundle of the same id installed earlier (another version or other content)")
        boolean force;

        @Override
        public Integer call() {
            PrintStream out = System.out;
            PluginStore store = Launch.store(null);
            PluginStore.Installed r = store.install(source, force, m -> System.err.println("neuronmonkey: " + m));
            BundleDescriptor d = r.descriptor();
            if (r.unchanged()) {
                out.println("plugin '" + d.id() + "' " + d.version() + " is already installed as " + r.file() + " (SHA-256 "
                        + r.sha256() + "); nothing changed");
                return Main.OK;
            }
            out.println("installed plugin '" + d.id() + "' " + d.version() + " into " + r.file());
            out.println("  sha256 " + r.sha256() + " (written to " + BundleFiles.checksumFile(r.file()).getFileName() + ")");
            for (PluginStore.Bundle b : r.replaced()) {
                out.println("  replaced " + b.file().getFileName() + " (version " + b.descriptor().version()
                        + ", installed earlier by neuronmonkey)");
            }
            try (PluginHost host = Launch.plugins(null, System.err, false)) {
                host.refusedReason(d.id()).ifPresent(why -> System.err.println("warning: plugin '" + d.id()
                        + "' is installed but does not load: " + why));
            }
            return Main.OK;
        }
    }

    /** {@code plugins remove ID}. */
    @Command(name = "remove", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Remove a bundle installed with 'plugins install': its zip, its .sha256 and its unpacked folder.")
    static final class RemoveCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ID", description = "the plugin id")
        String id;

        @Override
        public Integer call() {
            for (Path p : Launch.store(null).remove(id)) {
                System.out.println("removed plugin '" + id + "': " + p + ", its " + BundleFiles.checksumFile(p).getFileName()
                        + " and its unpacked folder");
            }
            return Main.OK;
        }
    }

    /** {@code plugins info ID}. */
    @Command(name = "info", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "One plugin's descriptor, bundle file, SHA-256 (computed and recorded), state and extensions.")
    static final class InfoCommand implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "ID", description = "the plugin id")
        String id;

        @Option(names = "--plugins", paramLabel = "DIR", description = "a folder of plugin bundles read in addition to the built-in and user ones")
        Path plugins;

        @Override
        public Integer call() {
            PrintStream out = System.out;
            try (PluginHost host = Launch.plugins(plugins, System.err, false)) {
                Optional<PluginInfo> found = host.plugins().stream().filter(p -> p.id().equals(id)).findFirst();
                if (found.isEmpty()) {
                    Optional<String> refused = host.refusedReason(id);
                    if (refused.isPresent()) {
                        out.println("plugin '" + id + "' was refused: " + refused.get());
                        return Main.OK;
                    }
                    throw new ConfigException("no plugin '" + id + "' is loaded (loaded: "
                            + String.join(", ", host.plugins().stream().map(PluginInfo::id).toList()) + ")");
                }
                PluginInfo p = found.get();
                BundleDescriptor d = host.descriptor(id).orElseThrow();
                field(out, "plugin", p.id());
                field(out, "version", p.version());
                field(out, "state", p.state());
                field(out, "provider", d.provider());
                field(out, "description", d.description());
                field(out, "license", d.license());
                field(out, "requires", d.requires());
                field(out, "dependencies", d.dependencies().isEmpty() ? "(none)" : String.join(", ", d.dependencies()));
                field(out, "file", p.file().toString());
                field(out, "sha256", p.sha256());
                if (Files.isRegularFile(p.file()) && p.file().getFileName().toString().endsWith(".zip")) {
                    Optional<String> recorded = BundleFiles.recorded(p.file());
                    field(out, "recorded", recorded.map(s -> s + (s.equals(p.sha256()) ? " (matches)" : " (DOES NOT MATCH)")
                            + " in " + BundleFiles.checksumFile(p.file()).getFileName()).orElse("(no .sha256 beside the bundle)"));
                }
                field(out, "from", origin(p.file()));
                out.println("extensions:");
                for (ExtensionPoints point : ExtensionPoints.values()) {
                    for (RegisteredExtension<?> e : host.registry().all(point).values()) {
                        if (e.pluginId().equals(id)) {
                            out.printf(Locale.ROOT, "  %-12s %-22s %s%n", point.word(), e.name(), e.description());
                        }
                    }
                }
            }
            return Main.OK;
        }

        private String origin(Path file) {
            Path parent = file.toAbsolutePath().normalize().getParent();
            if (parent.equals(Launch.userPluginsDir().toAbsolutePath().normalize())) {
                boolean mine = Launch.store(null).installed().stream()
                        .anyMatch(b -> b.file().equals(file.toAbsolutePath().normalize()) && b.installedByNeuronMonkey());
                return "the user plugins folder" + (mine ? ", installed with 'neuronmonkey plugins install'" : ", copied in by hand");
            }
            if (parent.equals(Launch.builtInPluginsDir().toAbsolutePath().normalize())) {
                return "the bundles NeuronMonkey builds (plugins/target/bundles)";
            }
            return "--plugins " + parent;
        }

        private static void field(PrintStream out, String name, String value) {
            out.printf(Locale.ROOT, "%-14s %s%n", name, value == null || value.isBlank() ? "(none)" : value);
        }
    }

    /** {@code plugins verify}. */
    @Command(name = "verify", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
            description = "Check every bundle zip against its .sha256 and its unpacked copy against the zip; exit 1 when one does not match.")
    static final class VerifyCommand implements Callable<Integer> {
        @Option(names = "--plugins", paramLabel = "DIR", description = "a folder of plugin bundles checked in addition to the built-in and user ones")
        Path plugins;

        @Override
        public Integer call() {
            List<PluginStore.Verification> checks = Launch.store(plugins).verify();
            long failed = checks.stream().filter(c -> !c.ok()).count();
            for (PluginStore.Verification c : checks) {
                System.out.println((c.ok() ? "  ok      " : "  FAILED  ") + c.file() + ": " + c.detail());
            }
            System.out.println(checks.size() + " bundle" + (checks.size() == 1 ? "" : "s") + " checked, " + failed + " failed");
            return failed == 0 ? Main.OK : Main.FAILED;
        }
    }
}
