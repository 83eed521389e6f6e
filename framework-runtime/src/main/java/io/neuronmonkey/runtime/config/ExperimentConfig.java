package io.neuronmonkey.runtime.config;

import org.snakeyaml.engine.v2.nodes.Node;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An experiment file as written, structurally checked but not yet resolved against plugins: names are strings and
 * params are still YAML nodes (so later problems can point at their line and column). {@code problems} holds what
 * the structural check found (see {@link ExperimentParser#read}); the parts it concerns are left out or defaulted,
 * and the preparation reports them together with its own.
 */
public record ExperimentConfig(Path file, String text, String name, long seed, int batchSize,
                               Optional<ModelSpec> model, Map<String, DataSpec> data, List<StepSpec> steps,
                               Optional<TrainerSpec> trainer, List<PluginPin> plugins, Object plain,
                               List<ConfigProblem> problems) {

    public ExperimentConfig {
        plugins = List.copyOf(plugins);
        problems = List.copyOf(problems);
    }

    /** @throws ConfigValidationException listing the structural problems, if any */
    public ExperimentConfig requireValid() {
        if (!problems.isEmpty()) {
            throw new ConfigValidationException(file, problems);
        }
        return this;
    }

    /** The {@code model:} section; {@code node} holds the backend params (every key but backend and path). */
    public record ModelSpec(String backend, Node backendNode, String path, Node pathNode, Node node) {
    }

    /** One entry of {@code data:}. */
    public record DataSpec(String name, String source, Node sourceNode, Node paramsNode, Node node) {
        public String path() {
            return "data." + name;
        }
    }

    /** Analyzer or visualizer step. */
    public enum Kind {
        ANALYZER, VISUALIZER;

        public String key() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** One entry of {@code steps:}. {@code layers} is empty when the step names none. */
    public record StepSpec(int index, String id, Kind kind, String extension, Node extensionNode,
                           String data, Node dataNode, List<String> layers, List<Node> layerNodes,
                           Node paramsNode, List<String> inputs, List<Node> inputNodes, Node node) {
        public String path() {
            return "steps[" + index + "]";
        }
    }

    /**
     * One entry of {@code plugins:}: a bundle the experiment needs, by id, optionally a version range its version
     * must be in and the SHA-256 its bundle file must have.
     *
     * @param version a version range ({@code ^1.2}, {@code >=1.0.0 & <2.0.0}, {@code 1.2.3}), or null for any
     * @param sha256  64 lowercase hex digits, or null for any
     */
    public record PluginPin(int index, String id, String version, String sha256, Node node, Node versionNode, Node sha256Node) {
        public String path() {
            return "plugins[" + index + "]";
        }
    }

    /** The {@code trainer:} section of a training file. */
    public record TrainerSpec(String type, Node typeNode, String output, Node outputNode, Node paramsNode) {
    }

    /** Resolves a path as written in the file against the file's folder. */
    public Path resolve(String path) {
        Path p = Path.of(path);
        if (p.isAbsolute()) {
            return p.normalize();
        }
        Path dir = file.toAbsolutePath().getParent();
        return dir.resolve(p).normalize();
    }
}
