package io.neuronmonkey.runtime.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.config.ParamsSchema;
import io.neuronmonkey.runtime.engine.EngineSpec;
import io.neuronmonkey.runtime.plugin.ExtensionPoints;
import io.neuronmonkey.runtime.plugin.ExtensionRegistry;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.plugin.RegisteredExtension;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code neuronmonkey schema}: the JSON Schema of experiment YAML for the loaded plugins. Each step's, data set's,
 * model's and trainer's params are checked against the params record of the extension it names (an {@code if/then}
 * per extension), so an editor with the YAML language server completes and checks every param.
 */
@Command(name = "schema", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Print the JSON Schema of experiment YAML for the loaded plugins (every extension's params).",
                "  neuronmonkey schema > neuronmonkey.schema.json",
                "then start an experiment file with: # yaml-language-server: $schema=neuronmonkey.schema.json"})
final class SchemaCommand implements Callable<Integer> {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    @Option(names = "--plugins", paramLabel = "DIR", description = "plugin bundles folder")
    Path plugins;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "write the schema to FILE instead of standard output")
    Path out;

    @Override
    public Integer call() {
        String text;
        try (PluginHost host = Launch.plugins(plugins, System.err, true)) {
            text = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(schema(host.registry())) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (out == null) {
            System.out.print(text);
        } else {
            try {
                Files.writeString(out, text, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + out + ": " + e.getMessage(), e);
            }
            System.err.println("wrote " + out + "; start an experiment file with: # yaml-language-server: $schema=" + out);
        }
        return Main.OK;
    }

    /** The experiment schema for every extension the registry holds. */
    static ObjectNode schema(ExtensionRegistry registry) {
        ObjectNode root = JSON.objectNode();
        root.put("$schema", "http://json-schema.org/draft-07/schema#");
        root.put("title", "NeuronMonkey experiment");
        root.put("description", "An experiment: a model, named data sets and steps (analyzers and visualizers), or a trainer. "
                + "Made by 'neuronmonkey schema' for NeuronMonkey " + Launch.version() + " and its loaded plugins.");
        root.put("type", "object");
        ObjectNode props = root.putObject("properties");
        props.set("experiment", string("the experiment's name"));
        props.set("description", string("what the experiment is for"));
        props.set("seed", JSON.objectNode().put("type", "integer").put("description", "every random choice derives from it (default 0)"));
        props.set("batchSize", JSON.objectNode().put("type", "integer").put("minimum", 1)
                .put("maximum", ExperimentParser.MAX_BATCH_SIZE).put("description", "examples per model run (default 256)"));

        Map<String, ObjectNode> modelKeys = new LinkedHashMap<>();
        modelKeys.put("backend", names(registry, ExtensionPoints.BACKEND, "the model backend"));
        modelKeys.put("path", string("the model folder or file, relative to the experiment file"));
        props.set("model", selected(registry, ExtensionPoints.BACKEND, "backend", null, modelKeys,
                "the model: its backend, its path and the backend's params"));

        Map<String, ObjectNode> dataKeys = new LinkedHashMap<>();
        dataKeys.put("source", names(registry, ExtensionPoints.DATA_SOURCE, "the data source"));
        ObjectNode dataSet = selected(registry, ExtensionPoints.DATA_SOURCE, "source", "params", dataKeys,
                "a data set: its source and the source's params");
        ObjectNode data = props.putObject("data");
        data.put("type", "object").put("description", "data sets by name");
        data.putObject("propertyNames").put("pattern", "^[A-Za-z0-9][A-Za-z0-9._-]*$").put("maxLength", ExperimentParser.MAX_ID_LENGTH);
        data.set("additionalProperties", dataSet);

        ObjectNode step = JSON.objectNode();
        step.put("type", "object").put("description", "one analyzer or visualizer step");
        ObjectNode sp = step.putObject("properties");
        sp.set("id", JSON.objectNode().put("type", "string").put("pattern", "^[A-Za-z0-9][A-Za-z0-9._-]*$")
                .put("description", "the step id, also its output folder name; unique"));
        sp.set("analyzer", names(registry, ExtensionPoints.ANALYZER, "the analyzer"));
        sp.set("visualizer", names(registry, ExtensionPoints.VISUALIZER, "the visualizer"));
        sp.set("data", string("the name of the data set the step reads"));
        sp.set("layers", strings("the model layers the step looks at"));
        sp.set("inputs", strings("ids of earlier steps whose results the step reads"));
        sp.set("description", string("what the step is for"));
        sp.set("params", JSON.objectNode().put("type", "object").put("description", "the extension's params"));
        step.putArray("required").add("id");
        step.put("additionalProperties", false);
        ArrayNode one = step.putArray("oneOf");
        one.addObject().putArray("required").add("analyzer");
        one.addObject().putArray("required").add("visualizer");
        ArrayNode conditions = step.putArray("allOf");
        for (ExtensionPoints point : new ExtensionPoints[]{ExtensionPoints.ANALYZER, ExtensionPoints.VISUALIZER}) {
            String key = point == ExtensionPoints.ANALYZER ? "analyzer" : "visualizer";
            for (RegisteredExtension<?> e : registry.all(point).values()) {
                conditions.add(when(key, e, JSON.objectNode().set("properties",
                        JSON.objectNode().set("params", ParamsSchema.of(e.paramsType(), Map.of())))));
            }
        }
        ObjectNode steps = props.putObject("steps");
        steps.put("type", "array").put("description", "the steps, run in order (streaming analyzers share one pass)");
        steps.set("items", step);

        Map<String, ObjectNode> trainerKeys = new LinkedHashMap<>();
        trainerKeys.put("type", names(registry, ExtensionPoints.TRAINER, "the trainer"));
        trainerKeys.put("output", string("where the trained model goes, relative to the experiment file"));
        props.set("trainer", selected(registry, ExtensionPoints.TRAINER, "type", "params", trainerKeys,
                "training instead of steps: the trainer, its output folder and its params"));

        ObjectNode engine = props.putObject("engine");
        engine.put("type", "object").put("description", "where the passes run: local (default) or an Apache Spark master; --engine wins");
        ObjectNode ep = engine.putObject("properties");
        ObjectNode engineType = ep.putObject("type").put("description", "local or spark");
        EngineSpec.TYPES.forEach(engineType.putArray("enum")::add);
        ep.set("master", string("the Spark master URL: local[N], local[*], spark://HOST:PORT, yarn, k8s://URL (default: spark-submit's, else local[*])"));
        ep.set("partitions", JSON.objectNode().put("type", "integer").put("minimum", 1).put("maximum", 100000)
                .put("description", "partitions a pass is split into (default: the master's default parallelism)"));
        ep.set("threadsPerTask", JSON.objectNode().put("type", "integer").put("minimum", 1).put("maximum", 256)
                .put("description", "TensorFlow intra-op threads of each executor (default: TensorFlow's)"));
        ep.set("javacppCache", string("the JavaCPP cache folder on executors (org.bytedeco.javacpp.cachedir)"));
        engine.putArray("required").add("type");
        engine.put("additionalProperties", false);

        root.putArray("required").add("experiment");
        root.put("additionalProperties", false);
        return root;
    }

    /**
     * A mapping whose {@code key} names an extension of {@code point}; that extension's params are the mapping's
     * {@code paramsKey} (or, when null, the mapping's own other keys, as under {@code model:}).
     */
    private static ObjectNode selected(ExtensionRegistry registry, ExtensionPoints point, String key, String paramsKey,
                                       Map<String, ObjectNode> keys, String description) {
        ObjectNode s = JSON.objectNode();
        s.put("type", "object").put("description", description);
        ObjectNode props = s.putObject("properties");
        keys.forEach(props::set);
        s.putArray("required").add(key);
        ArrayNode all = s.putArray("allOf");
        if (paramsKey != null) {
            props.set(paramsKey, JSON.objectNode().put("type", "object").put("description", "the extension's params"));
            s.put("additionalProperties", false);
            for (RegisteredExtension<?> e : registry.all(point).values()) {
                all.add(when(key, e, JSON.objectNode().set("properties",
                        JSON.objectNode().set(paramsKey, ParamsSchema.of(e.paramsType(), Map.of())))));
            }
        } else {
            for (RegisteredExtension<?> e : registry.all(point).values()) {
                all.add(when(key, e, ParamsSchema.of(e.paramsType(), keys)));
            }
        }
        return s;
    }

    private static ObjectNode when(String key, RegisteredExtension<?> e, ObjectNode then) {
        ObjectNode c = JSON.objectNode();
        ObjectNode cond = c.putObject("if");
        cond.putObject("properties").putObject(key).put("const", e.name());
        cond.putArray("required").add(key);
        c.set("then", then);
        return c;
    }

    private static ObjectNode names(ExtensionRegistry registry, ExtensionPoints point, String what) {
        ObjectNode s = JSON.objectNode().put("type", "string").put("description", what + " (a loaded " + point.word() + ")");
        ArrayNode values = s.putArray("enum");
        ArrayNode described = JSON.arrayNode();
        for (RegisteredExtension<?> e : registry.all(point).values()) {
            values.add(e.name());
            described.add(e.name() + ": " + e.description());
        }
        s.set("enumDescriptions", described);
        return s;
    }

    private static ObjectNode string(String description) {
        return JSON.objectNode().put("type", "string").put("description", description);
    }

    private static ObjectNode strings(String description) {
        ObjectNode s = JSON.objectNode().put("type", "array").put("description", description);
        s.putObject("items").put("type", "string");
        return s;
    }
}
