package io.neuronmonkey.runtime.plugin;

import io.neuronmonkey.runtime.config.ConfigValidationException;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.Problems;
import org.pf4j.DefaultVersionManager;

import java.util.List;
import java.util.Optional;

/**
 * Checks an experiment's {@code plugins:} pins against the loaded bundles, before any work: each pinned plugin must
 * be loaded, its version in the pinned range (by its release part: {@code 0.1.0-SNAPSHOT} is in {@code ^0.1}) and its
 * bundle file's SHA-256 the pinned one.
 */
public final class PluginPins {

    private PluginPins() {
    }

    /**
     * @throws ConfigValidationException naming each pin that is not met, at its line and column
     */
    public static void check(ExperimentConfig config, PluginHost host) {
        if (config.plugins().isEmpty()) {
            return;
        }
        List<PluginInfo> loaded = host.plugins();
        Problems problems = new Problems();
        for (ExperimentConfig.PluginPin pin : config.plugins()) {
            Optional<PluginInfo> found = loaded.stream().filter(p -> p.id().equals(pin.id())).findFirst();
            if (found.isEmpty()) {
                String refused = host.refusedReason(pin.id()).orElse(null);
                problems.add(pin.path() + ".id", pin.node(), refused != null
                        ? "plugin '" + pin.id() + "' is pinned, but its bundle was refused: " + refused
                        : "plugin '" + pin.id() + "' is pinned, but no loaded bundle has that id (loaded: "
                        + String.join(", ", loaded.stream().map(PluginInfo::id).toList())
                        + "); install it with 'neuronmonkey plugins install FILE'");
                continue;
            }
            PluginInfo p = found.get();
            // as for plugin.requires, a pre-release or build tag (0.1.0-SNAPSHOT) is compared by its release part
            String release = p.version().replaceAll("[-+].*$", "");
            if (pin.version() != null && !new DefaultVersionManager().checkVersionConstraint(release, pin.version())) {
                problems.add(pin.path() + ".version", pin.versionNode(), "plugin '" + p.id() + "' is version " + p.version()
                        + " (" + p.file() + "), outside the pinned range " + pin.version());
            }
            if (pin.sha256() != null && !pin.sha256().equals(p.sha256())) {
                problems.add(pin.path() + ".sha256", pin.sha256Node(), "plugin '" + p.id() + "': its bundle " + p.file()
                        + " has SHA-256 " + p.sha256() + ", but the experiment pins " + pin.sha256()
                        + "; it is not the bundle the experiment was written for");
            }
        }
        problems.throwIfAny(config.file());
    }
}
