package io.neuronmonkey.runtime.engine;

import io.neuronmonkey.runtime.store.Hashing;

import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What an executor needs to load the same experiment as the driver: the experiment file's path (relative model and
 * data paths resolve against its folder, which must exist on every executor) and text, the plugin bundle folders
 * (also on every executor) and the framework version the bundles are checked against.
 *
 * @param file          the experiment file, absolute
 * @param text          the experiment as the driver read it
 * @param pluginRoots   the folders of plugin bundles, absolute, in reading order
 * @param systemVersion the framework version plugins declare compatibility with
 */
public record ExperimentSource(String file, String text, List<String> pluginRoots, String systemVersion) implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Copies the folder list. */
    public ExperimentSource {
        pluginRoots = List.copyOf(pluginRoots);
    }

    /** @return a SHA-256 hex digest of everything here: executors keep one loaded experiment per fingerprint */
    public String fingerprint() {
        String all = file + '\u0000' + text + '\u0000' + String.join("\u0000", pluginRoots) + '\u0000' + systemVersion;
        return Hashing.sha256(all.getBytes(StandardCharsets.UTF_8));
    }
}
