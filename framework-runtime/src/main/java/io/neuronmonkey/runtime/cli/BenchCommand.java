package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.Suggestions;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.config.Problems;
import io.neuronmonkey.runtime.config.Yaml;
import io.neuronmonkey.runtime.pipeline.Benchmark;
import io.neuronmonkey.runtime.pipeline.Environment;
import io.neuronmonkey.runtime.pipeline.PreparedExperiment;
import io.neuronmonkey.runtime.pipeline.Preparer;
import io.neuronmonkey.runtime.pipeline.RunOptions;
import io.neuronmonkey.runtime.plugin.ExtensionPoints;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.plugin.RegisteredExtension;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code neuronmonkey bench [FILE.yaml | MODEL]...}: plain inference (logits only) versus the fused capture of every
 * layer with the census and top-k analyzers, in one process on the same in-memory data. An experiment file brings
 * its model as it declares it (backend, params, preprocessing) and one of its data sets; a model path gets
 * synthetic images. Problems in a file name its lines; problems in the arguments name the arguments.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Benchmark: plain inference (logits only) vs NeuronMonkey capturing every layer with the "
                + "analyzers fused (default activation-stats + top-activations), on the same model and in-memory data in one process.",
                "Each argument is an experiment file (.yaml or .yml: its model as it declares it, and its first data set or --data NAME) "
                        + "or a model path (fed synthetic images; default: the demo CNN)."},
        footer = {"", "Examples:", "  neuronmonkey bench", "  neuronmonkey bench experiments/quickstart.yaml --data probe",
                "  neuronmonkey bench experiments/models/shapes-cnn --analyzers none"})
final class BenchCommand implements Callable<Integer> {

    static final int DEFAULT_BATCH = 256;
    static final int DEFAULT_EXAMPLES = 8192;
    static final int MAX_REPEATS = 1000;

    @Parameters(paramLabel = "FILE.yaml|MODEL", arity = "0..*",
            description = "experiment files or model paths (default: the demo CNN)")
    List<String> targets = new ArrayList<>();

    @Option(names = "--data", paramLabel = "NAME", description = "the data set of the experiment files to time (default: the first one declared)")
    String data;

    @Option(names = "--batch", paramLabel = "N", description = "examples per model run, 1 to " + ExperimentParser.MAX_BATCH_SIZE
            + " (default: the experiment's batchSize, or " + DEFAULT_BATCH + ")")
    Integer batch;

    @Option(names = "--examples", paramLabel = "N", description = "examples per pass, held in memory (default " + DEFAULT_EXAMPLES
            + "; of an experiment's data set, at most that many)")
    Integer examples;

    @Option(names = "--repeats", paramLabel = "N", description = "timed repetitions per side, median reported, 1 to " + MAX_REPEATS + " (default 5)")
    int repeats = 5;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads for the fused pass, 1 to 4 x cores (at most 64; default: min(4, cores))")
    Integer threads;

    @Option(names = "--input-size", paramLabel = "N", description = "side of the synthetic square images fed to model paths (default 28)")
    Integer inputSize;

    @Option(names = "--backend", paramLabel = "NAME", description = "model backend for model paths (default: " + InspectCommand.DEFAULT_BACKEND + ")")
    String backend;

    @Option(names = {"-P", "--param"}, paramLabel = "KEY=VALUE", description = "backend param for model paths, a YAML value (repeatable)")
    Map<String, String> params = new LinkedHashMap<>();

    @Option(names = "--analyzers", paramLabel = "NAME", split = ",", splitSynopsisLabel = ",",
            description = "streaming analyzers fused in (b), or 'none' to time capture alone (default: activation-stats,top-activations)")
    List<String> analyzerNames = List.of("activation-stats", "top-activations");

    @Option(names = "--plugins", paramLabel = "DIR", description = "a folder of plugin bundles read in addition to the built-in and user ones")
    Path plugins;

    @Option(names = "--each", description = "also price every analyzer alone (and each optional statistic of activation-stats): "
            + "its time above capture only, in ns per activation value")
    boolean each;

    /** The optional statistics of activation-stats that --each prices, each switched off in turn. */
    private static final List<String> CENSUS_EXTRAS = List.of("quantiles", "histogram", "classMeans");

    /** One row of the table: the model, the data it is fed and where a problem with either is reported. */
    private record Subject(String label, PreparedExperiment prepared, LoadedModel model, Dataset dataset, long maxExamples, int batchSize) {
    }

    @Override
    public Integer call() {
        checkOptions();
        int t = threads == null ? RunOptions.defaultThreads() : RunOptions.checkThreads(threads);
        boolean demo = targets.isEmpty();
        if (demo) {
            targets.add(Path.of(System.getProperty("neuronmonkey.home", "."), "experiments", "models", "shapes-cnn").toString());
        }
        // every file is read and every argument checked before the first model loads
        List<ExperimentConfig> configs = new ArrayList<>();
        List<ArgumentExperiment> arguments = new ArrayList<>();
        for (String target : targets) {
            ArgumentExperiment a = isExperimentFile(target) ? null : modelArguments(target, demo ? "the demo model " + target : "MODEL " + target);
            arguments.add(a);
            configs.add(a == null ? experiment(path(target)) : a.config());
        }
        try (PluginHost host = Launch.plugins(plugins, System.err, true)) {
            List<String> analyzers = analyzers(host);
            for (int i = 0; i < targets.size(); i++) {
                ExperimentConfig config = configs.get(i);
                Environment env = new Environment(config, ProgressReporter.NONE, new AtomicBoolean());
                Subject s = arguments.get(i) == null ? fromExperiment(config, host, env)
                        : fromModel(arguments.get(i), config, targets.get(i), host, env);
                try (PreparedExperiment prepared = s.prepared()) {
                    if (i == 0) {
                        System.out.printf(Locale.ROOT, "%-44s %8s %6s %7s %10s %10s %7s %9s %10s%n", "model", "examples", "batch", "threads",
                                "plain ex/s", "fused ex/s", "ratio", "cpu ratio", "peak heap");
                    }
                    List<Benchmark.Probe> probes = probes(analyzers, host, s.model());
                    Benchmark.Result r = Benchmark.run(s.model(), s.dataset(), s.batchSize(), s.maxExamples(), probes, env, repeats, t);
                    System.out.printf(Locale.ROOT, "%-44s %8d %6d %7d %10.0f %10.0f %6.2fx %8.2fx %8.0f MB%n", s.label() + " (" + r.layers().size() + " layers)",
                            r.examples(), r.batchSize(), r.threads(), r.examples() / r.plainSeconds(), r.examples() / r.fusedSeconds(),
                            r.ratio(), r.cpuRatio(), r.peakHeapMb());
                    if (each && !analyzers.isEmpty()) {
                        priceEach(analyzers, host, s, env, t);
                    }
                }
            }
            System.out.println("cpu ratio = the process's CPU time (every thread) of fused over plain: the cost on a busy machine");
            System.out.println("fused = every layer captured in one model run per batch, fed to: "
                    + (analyzers.isEmpty() ? "no analyzer (capture only)" : String.join(" + ", analyzers)));
        }
        return Main.OK;
    }

    private static Path path(String target) {
        try {
            return Path.of(target);
        } catch (InvalidPathException e) {
            throw new ConfigException("FILE " + target + " - not a valid path: " + e.getMessage());
        }
    }

    static boolean isExperimentFile(String target) {
        String lower = target.toLowerCase(Locale.ROOT);
        return lower.endsWith(".yaml") || lower.endsWith(".yml");
    }

    /** Every option problem at once, each naming its option and the valid range. */
    private void checkOptions() {
        List<String> problems = new ArrayList<>();
        if (batch != null && (batch < 1 || batch > ExperimentParser.MAX_BATCH_SIZE)) {
            problems.add("--batch must be between 1 and " + ExperimentParser.MAX_BATCH_SIZE + ", found " + batch);
        }
        if (examples != null && examples < 1) {
            problems.add("--examples must be at least 1, found " + examples);
        }
        if (repeats < 1 || repeats > MAX_REPEATS) {
            problems.add("--repeats must be between 1 and " + MAX_REPEATS + ", found " + repeats);
        }
        boolean files = targets.stream().anyMatch(BenchCommand::isExperimentFile);
        boolean models = targets.isEmpty() || !targets.stream().allMatch(BenchCommand::isExperimentFile);
        if (data != null && !files) {
            problems.add("--data " + data + " chooses a data set of an experiment FILE.yaml; model paths are fed synthetic images (--input-size, --examples)");
        }
        if (!models) {
            if (inputSize != null) {
                problems.add("--input-size applies to model paths; an experiment's data set has the shape it declares");
            }
            if (backend != null || !params.isEmpty()) {
                problems.add((backend != null ? "--backend" : "-P") + " applies to model paths; an experiment file declares its backend and params under model:");
            }
        }
        if (analyzerNames.contains("none") && analyzerNames.size() > 1) {
            problems.add("--analyzers " + String.join(",", analyzerNames) + " - 'none' times capture alone and goes alone");
        } else if (analyzerNames.stream().distinct().count() < analyzerNames.size()) {
            problems.add("--analyzers " + String.join(",", analyzerNames) + " - lists an analyzer twice; list each once");
        }
        if (problems.size() == 1) {
            throw new ConfigException(problems.get(0));
        }
        if (!problems.isEmpty()) {
            throw new ConfigException("neuronmonkey bench: " + problems.size() + " errors in the arguments" + System.lineSeparator() + "  "
                    + String.join(System.lineSeparator() + "  ", problems));
        }
    }

    /** An experiment file, structurally checked, with a model and the data set to time. */
    private ExperimentConfig experiment(Path file) {
        ExperimentConfig config = ExperimentParser.parse(file);
        if (config.model().isEmpty()) {
            throw new ConfigException(file + ": has no 'model:' section; bench times an experiment's model (or give a model path)");
        }
        if (config.data().isEmpty()) {
            throw new ConfigException(file + ": has no data sets; bench feeds the model one of them (add 'data:', or give a model path)");
        }
        if (data != null && !config.data().containsKey(data)) {
            List<String> names = dataNames(config);
            List<String> near = Suggestions.near(data, names, 3);
            throw new ConfigException("--data " + data + " - " + file + " has no data set '" + data + "'"
                    + (near.isEmpty() ? "" : " (did you mean '" + near.get(0) + "'?)") + "; its data sets: " + String.join(", ", names));
        }
        return config;
    }

    /** The data set names in the order the file declares them. */
    private static List<String> dataNames(ExperimentConfig config) {
        return config.data().values().stream()
                .sorted(Comparator.comparingInt((ExperimentConfig.DataSpec d) -> d.node() == null ? Integer.MAX_VALUE
                        : d.node().getStartMark().map(m -> m.getIndex()).orElse(Integer.MAX_VALUE)))
                .map(ExperimentConfig.DataSpec::name).toList();
    }

    /** The experiment prepared as run prepares it (every problem named with its line and column in the file). */
    private Subject fromExperiment(ExperimentConfig config, PluginHost host, Environment env) {
        String name = data != null ? data : dataNames(config).get(0);
        PreparedExperiment p = Preparer.prepare(config, host.registry(), env, true);
        try {
            PreparedExperiment.DataEntry d = p.data().get(name);
            checkShape(p.model(), d.dataset(), config, d.spec());
            long size = d.dataset().info().size();
            long max = examples != null ? examples : size > 0 ? Math.min(size, DEFAULT_EXAMPLES) : DEFAULT_EXAMPLES;
            return new Subject(config.file().getFileName() + " [" + name + "]", p, p.model(), d.dataset(), max,
                    batch != null ? batch : config.batchSize());
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    private static void checkShape(LoadedModel model, Dataset dataset, ExperimentConfig config, ExperimentConfig.DataSpec spec) {
        int[] example = dataset.info().exampleShape();
        if (!Arrays.equals(example, model.inputShape())) {
            Problems problems = new Problems();
            problems.add(spec.path(), spec.node(), "data set '" + spec.name() + "' has examples shaped " + Arrays.toString(example)
                    + " but the model expects " + Arrays.toString(model.inputShape()) + "; bench feeds it to the model");
            problems.throwIfAny(config.file());
        }
    }

    /** A model path as an experiment of arguments: the model, and synthetic images sized by --input-size. */
    private ArgumentExperiment modelArguments(String target, String argument) {
        int size = inputSize == null ? 28 : inputSize;
        int count = examples == null ? DEFAULT_EXAMPLES : examples;
        int b = batch == null ? DEFAULT_BATCH : batch;
        Map<String, Object> dataParams = new LinkedHashMap<>();
        dataParams.put("split", "decorrelated");
        dataParams.put("count", count);
        dataParams.put("size", size);
        return new ArgumentExperiment("bench")
                .set("seed", 1, "the bench's seed")
                .set("batchSize", b, "--batch " + b)
                .model(backend == null ? InspectCommand.DEFAULT_BACKEND : backend,
                        backend == null ? "the default backend '" + InspectCommand.DEFAULT_BACKEND + "' (--backend NAME)" : "--backend " + backend,
                        target, argument, params)
                .data("probe", "synthetic-shapes", dataParams, Map.of("count", "--examples " + count, "size", "--input-size " + size),
                        "the synthetic images fed to model paths (data source 'synthetic-shapes', --input-size " + size
                                + ", --examples " + count + ")");
    }

    private Subject fromModel(ArgumentExperiment arguments, ExperimentConfig config, String target, PluginHost host, Environment env) {
        String argument = arguments.argument("model");
        PreparedExperiment p = arguments.translate(() -> Preparer.prepare(config, host.registry(), env, true));
        try {
            Dataset d = p.data().get("probe").dataset();
            if (!Arrays.equals(d.info().exampleShape(), p.model().inputShape())) {
                throw new ConfigException(argument + " - the model expects inputs shaped " + Arrays.toString(p.model().inputShape())
                        + "; the synthetic images are " + Arrays.toString(d.info().exampleShape())
                        + " (--input-size sets their side; for other inputs give an experiment file with its data)");
            }
            Path name = Path.of(target).getFileName();
            return new Subject(name == null ? target : name.toString(), p, p.model(), d, Long.MAX_VALUE, config.batchSize());
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
    }

    /** The analyzers named by --analyzers: known and streaming. */
    private List<String> analyzers(PluginHost host) {
        List<String> out = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (String name : analyzerNames) {
            if (name.equals("none")) {
                continue;
            }
            var ext = host.registry().find(ExtensionPoints.ANALYZER, name);
            if (ext.isEmpty()) {
                problems.add("--analyzers " + name + " - " + host.registry().unknownMessage(ExtensionPoints.ANALYZER, name));
            } else if (!(ext.get().instance() instanceof StreamingAnalyzer<?>)) {
                problems.add("--analyzers " + name + " - analyzer '" + name + "' runs its own passes over the model; bench fuses streaming analyzers: "
                        + String.join(", ", streaming(host)));
            } else {
                out.add(name);
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.size() == 1 ? problems.get(0) : "neuronmonkey bench: " + problems.size()
                    + " errors in the arguments" + System.lineSeparator() + "  " + String.join(System.lineSeparator() + "  ", problems));
        }
        return out;
    }

    private static List<String> streaming(PluginHost host) {
        return host.registry().all(ExtensionPoints.ANALYZER).values().stream()
                .filter(e -> e.instance() instanceof StreamingAnalyzer<?>).map(RegisteredExtension::name).sorted().toList();
    }

    /**
     * Prints, per analyzer alone and per optional census statistic, the time above capture only in ns per activation
     * value (the values of every layer the analyzer reads, per example). All in one process on the same data.
     */
    private void priceEach(List<String> analyzers, PluginHost host, Subject s, Environment env, int t) {
        Benchmark.Result capture = Benchmark.run(s.model(), s.dataset(), s.batchSize(), s.maxExamples(), List.of(), env, repeats, t);
        List<LayerInfo> layers = s.model().layers().stream().filter(l -> l.role() != LayerInfo.Role.INPUT).toList();
        long values = layers.stream().mapToLong(l -> (long) l.neurons() * l.positions()).sum();
        System.out.printf(Locale.ROOT, "  %-42s %10.0f ex/s, %d activation values per example%n", "capture only",
                capture.examples() / capture.fusedSeconds(), values);
        for (String name : analyzers) {
            List<Benchmark.Probe> probes = probes(List.of(name), host, s.model());
            price(name + " alone", probes, capture, values, s, env, t);
            if (name.equals("activation-stats")) {
                for (String extra : CENSUS_EXTRAS) {
                    List<String> rest = CENSUS_EXTRAS.stream().filter(x -> !x.equals(extra)).toList();
                    List<Benchmark.Probe> without = probes(List.of(name), host, s.model(), "{extras: " + rest + "}");
                    price(name + " without " + extra, without, capture, values, s, env, t);
                }
            }
        }
    }

    private void price(String label, List<Benchmark.Probe> probes, Benchmark.Result capture, long values, Subject s,
                       Environment env, int t) {
        Benchmark.Result r = Benchmark.run(s.model(), s.dataset(), s.batchSize(), s.maxExamples(), probes, env, repeats, t);
        double ns = (r.fusedSeconds() - capture.fusedSeconds()) * 1e9 / ((double) r.examples() * values);
        double cpuNs = (r.fusedCpuSeconds() - capture.fusedCpuSeconds()) * 1e9 / ((double) r.examples() * values);
        System.out.printf(Locale.ROOT, "  %-42s %10.0f ex/s %6.2fx plain  %7.2f ns per value above capture (%.2f ns CPU)%n", label,
                r.examples() / r.fusedSeconds(), r.ratio(), ns, cpuNs);
    }

    /** Each analyzer with its default params over every layer but the input. */
    private static List<Benchmark.Probe> probes(List<String> analyzers, PluginHost host, LoadedModel model) {
        return probes(analyzers, host, model, null);
    }

    /** As {@link #probes(List, PluginHost, LoadedModel)}, with params given as a YAML mapping (null: the defaults). */
    private static List<Benchmark.Probe> probes(List<String> analyzers, PluginHost host, LoadedModel model, String yamlParams) {
        List<LayerInfo> layers = model.layers().stream().filter(l -> l.role() != LayerInfo.Role.INPUT).toList();
        List<Benchmark.Probe> out = new ArrayList<>();
        for (String name : analyzers) {
            RegisteredExtension<?> ext = host.registry().require(ExtensionPoints.ANALYZER, name);
            Problems problems = new Problems();
            org.snakeyaml.engine.v2.nodes.Node node = yamlParams == null ? null : Yaml.compose(yamlParams, "--each").orElse(null);
            Record params = ParamsBinder.bind(ext.paramsType(), node, "--analyzers " + name, problems).orElse(null);
            if (!problems.isEmpty() || params == null) {
                throw new ConfigException("--analyzers " + name + " - its default params do not bind: "
                        + problems.list().stream().map(Object::toString).toList());
            }
            out.add(new Benchmark.Probe(name, (StreamingAnalyzer<?>) ext.instance(), params, layers));
        }
        return out;
    }
}
