package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.NeuronMonkeyException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.config.Problems;
import io.neuronmonkey.runtime.pipeline.Environment;
import io.neuronmonkey.runtime.pipeline.PreparedExperiment;
import io.neuronmonkey.runtime.pipeline.Preparer;
import io.neuronmonkey.runtime.plugin.PluginHost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code neuronmonkey inspect FILE} or {@code inspect [--backend NAME] --model PATH [-P key=value]...}: the model's
 * layers. A model given by arguments is checked like an experiment's, and its problems name those arguments.
 */
@Command(name = "inspect", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "List a model's layers: name, op type, output shape, neuron count, role.",
        footer = {"", "Examples:", "  neuronmonkey inspect experiments/quickstart.yaml",
                "  neuronmonkey inspect --model experiments/models/shapes-cnn -P signature=serving_default"})
final class InspectCommand implements Callable<Integer> {

    static final String DEFAULT_BACKEND = "tensorflow";

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE", description = "an experiment YAML whose model to inspect")
    Path file;

    @Option(names = "--backend", paramLabel = "NAME", description = "model backend for --model (default: " + DEFAULT_BACKEND + ")")
    String backend;

    @Option(names = "--model", paramLabel = "PATH", description = "a model to inspect without an experiment file")
    String model;

    @Option(names = {"-P", "--param"}, paramLabel = "KEY=VALUE",
            description = "backend param for --model, a YAML value: -P signature=serve, -P preprocess={scale: 0.5} (repeatable)")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--plugins", paramLabel = "DIR", description = "a folder of plugin bundles read in addition to the built-in and user ones")
    Path plugins;

    @Option(names = "--all", description = "list every capturable op output, not only the layers")
    boolean all;

    @Override
    public Integer call() {
        if (file != null && (model != null || backend != null || !params.isEmpty())) {
            throw new ConfigException("give an experiment FILE (" + file + ") or --model PATH, not both: FILE declares its model, backend and params");
        }
        if (file == null && model == null) {
            throw new ConfigException((backend != null || !params.isEmpty() ? (backend != null ? "--backend" : "-P") + " needs --model PATH; " : "")
                    + "missing what to inspect: 'neuronmonkey inspect FILE' or 'neuronmonkey inspect --model PATH [--backend NAME] [-P key=value]'");
        }
        ArgumentExperiment arguments = null;
        ExperimentConfig config;
        if (file != null) {
            config = ExperimentParser.parse(file);
            if (config.model().isEmpty()) {
                throw new ConfigException(file + ": has no 'model:' section to inspect (inspect lists the layers of an experiment's model)");
            }
        } else {
            arguments = new ArgumentExperiment("inspect").model(backend == null ? DEFAULT_BACKEND : backend,
                    backend == null ? "the default backend '" + DEFAULT_BACKEND + "' (--backend NAME)" : "--backend " + backend,
                    model, "--model " + model, params);
            config = arguments.config();
        }
        try (PluginHost host = Launch.plugins(plugins, System.err, true)) {
            Environment env = new Environment(config, ProgressReporter.NONE, new AtomicBoolean());
            ArgumentExperiment args = arguments;
            try (LoadedModel m = args == null ? load(config, host, env) : args.translate(() -> load(config, host, env))) {
                print(m, System.out, all);
            }
        }
        return Main.OK;
    }

    /** The model, checked as validate checks it; a model that does not load is a problem of the model section. */
    private static LoadedModel load(ExperimentConfig config, PluginHost host, Environment env) {
        PreparedExperiment prepared = Preparer.prepare(config, host.registry(), env, false);
        try {
            return Preparer.loadModel(prepared, env);
        } catch (ConfigException e) {
            throw e;
        } catch (NeuronMonkeyException e) {
            Problems problems = new Problems();
            problems.add("model", config.model().orElseThrow().node(), e.getMessage());
            problems.throwIfAny(config.file());
            throw e;
        }
    }

    static void print(LoadedModel m, PrintStream out) {
        print(m, out, false);
    }

    static void print(LoadedModel m, PrintStream out, boolean all) {
        out.println(m.description());
        out.println("input shape " + Arrays.toString(m.inputShape()) + ", logits layer '" + m.logitsLayer() + "'");
        java.util.List<io.neuronmonkey.api.model.ModelInput> inputs = m.inputs();
        if (inputs.size() > 1 || inputs.stream().anyMatch(i -> i.dtype() != io.neuronmonkey.api.tensor.DType.FLOAT32)) {
            // the primary takes the data's inputs, each other input the data's features of its name
            out.println("inputs " + inputs.stream().map(Object::toString).collect(java.util.stream.Collectors.joining(", ")));
        }
        java.util.List<LayerInfo> listed = all ? m.capturable() : m.layers();
        int w = Math.max(12, listed.stream().mapToInt(l -> l.name().length()).max().orElse(0) + 2);
        boolean paths = listed.stream().anyMatch(l -> !l.path().equals(l.name()));
        boolean firsts = listed.stream().anyMatch(l -> !l.channelsLast());
        out.printf(Locale.ROOT, "%-" + (w + 2) + "s %-22s %-16s %8s  %-8s%s%s%n", "layer", "op", "shape", "neurons", "role",
                firsts ? "  model layout" : "", paths ? "  graph path" : "");
        String scope = "";
        for (LayerInfo l : listed) {
            // nested models (Keras: sequential/conv2d/Relu) show as a tree: one line per enclosing scope
            String s = scope(l);
            if (!s.equals(scope)) {
                if (!s.isEmpty()) {
                    out.println(s + "/");
                }
                scope = s;
            }
            String indent = scope.isEmpty() ? "" : "  ";
            String layout = l.channelsLast() ? "" : Arrays.toString(l.modelShape()) + " channel axis " + (l.channelAxis() + 1);
            out.printf(Locale.ROOT, "%-" + (w + 2) + "s %-22s %-16s %8d  %-8s%s%s%n", indent + l.name(), l.opType(),
                    Arrays.toString(l.shape()), l.neurons(), l.role().name().toLowerCase(Locale.ROOT),
                    firsts ? String.format(Locale.ROOT, "  %-28s", layout) : "", paths ? "  " + l.path() : "");
        }
        out.println("(a neuron is one index of the last axis, delivered channels last; the other axes are its positions,"
                + " reduced by the analyzers" + (firsts ? "; model layout: the model's own shape, channel axis counted"
                + " with the batch as 0 (override with model param channelAxis)" : "") + ")");
        if (!all && m.capturable().size() > m.layers().size()) {
            out.println("(" + (m.capturable().size() - m.layers().size()) + " more op outputs can be captured: inspect --all)");
        }
    }

    /** The scope that encloses a layer: its op path up to where the layer's own name starts ("" when at the top). */
    static String scope(LayerInfo l) {
        int at = l.path().lastIndexOf(l.name() + "/");
        if (at < 0 && l.path().endsWith("/" + l.name())) {
            at = l.path().length() - l.name().length();
        }
        return at > 0 ? l.path().substring(0, at - 1) : "";
    }

}
