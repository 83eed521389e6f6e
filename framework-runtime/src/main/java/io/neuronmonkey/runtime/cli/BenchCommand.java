package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.pipeline.Benchmark;
import io.neuronmonkey.runtime.pipeline.Environment;
import io.neuronmonkey.runtime.pipeline.PreparedExperiment;
import io.neuronmonkey.runtime.pipeline.Preparer;
import io.neuronmonkey.runtime.pipeline.RunOptions;
import io.neuronmonkey.runtime.plugin.ExtensionPoints;
import io.neuronmonkey.runtime.plugin.PluginHost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code neuronmonkey bench [MODEL...]}: plain inference (logits only) versus the fused capture of every layer with
 * the census and top-k analyzers, on in-memory synthetic data, in one process.
 */
@Command(name = "bench", description = "Benchmark: plain TensorFlow inference (logits only) vs NeuronMonkey capturing all layers "
        + "with activation-stats + top-activations fused, on the same model and data in one process.")
final class BenchCommand implements Callable<Integer> {

    @Parameters(paramLabel = "MODEL", arity = "0..*", description = "SavedModel folders (default: the demo CNN)")
    List<Path> models = new ArrayList<>();

    @Option(names = "--batch", description = "batch size (default 256)")
    int batch = 256;

    @Option(names = "--examples", description = "examples per pass (default 8192)")
    int examples = 8192;

    @Option(names = "--repeats", description = "timed repetitions per side, median reported (default 5)")
    int repeats = 5;

    @Option(names = "--threads", description = "worker threads for the fused pass (default: min(4, cores))")
    Integer threads;

    @Option(names = "--input-size", description = "size of the synthetic square images fed to the models (default 28)")
    int inputSize = 28;

    @Option(names = "--analyzers", split = ",", description = "streaming analyzers fused in (b), or 'none' to measure capture alone (default: activation-stats,top-activations)")
    List<String> analyzerNames = List.of("activation-stats", "top-activations");

    @Option(names = "--plugins", paramLabel = "DIR", description = "plugin bundles folder")
    Path plugins;

    @Override
    public Integer call() {
        if (batch < 1 || examples < batch || repeats < 1) {
            throw new ConfigException("--batch >= 1, --examples >= --batch and --repeats >= 1 are required");
        }
        if (models.isEmpty()) {
            models.add(Path.of(System.getProperty("neuronmonkey.home", "."), "experiments", "models", "shapes-cnn"));
        }
        int t = threads == null ? RunOptions.defaultThreads() : RunOptions.checkThreads(threads);
        try (PluginHost host = Launch.plugins(plugins, System.err, true)) {
            List<String> analyzers = new ArrayList<>();
            for (String name : analyzerNames) {
                if (name.equals("none")) {
                    continue;
                }
                if (host.registry().find(ExtensionPoints.ANALYZER, name).isEmpty()) {
                    throw new ConfigException(host.registry().unknownMessage(ExtensionPoints.ANALYZER, name));
                }
                analyzers.add(name);
            }
            System.out.printf(Locale.ROOT, "%-44s %8s %6s %7s %10s %10s %7s %10s%n", "model", "examples", "batch", "threads",
                    "plain ex/s", "fused ex/s", "ratio", "peak heap");
            for (Path model : models) {
                StringBuilder yaml = new StringBuilder("experiment: bench\nseed: 1\nbatchSize: " + batch + "\n"
                        + "model: {backend: tensorflow, path: '" + model.toAbsolutePath().toString().replace("'", "''") + "'}\n"
                        + "data: {probe: {source: synthetic-shapes, params: {split: decorrelated, count: " + examples
                        + ", size: " + inputSize + "}}}\nsteps:" + (analyzers.isEmpty() ? " []" : "") + "\n");
                for (String a : analyzers) {
                    yaml.append("  - {id: ").append(a).append(", analyzer: ").append(a).append(", data: probe}\n");
                }
                ExperimentConfig config = ExperimentParser.parse(Path.of("bench.yaml").toAbsolutePath(), yaml.toString());
                Environment env = new Environment(config, ProgressReporter.NONE, new AtomicBoolean());
                try (PreparedExperiment p = Preparer.prepare(config, host.registry(), env, true)) {
                    Benchmark.Result r = Benchmark.run(p, env, repeats, t);
                    String name = model.getFileName().toString();
                    System.out.printf(Locale.ROOT, "%-44s %8d %6d %7d %10.0f %10.0f %6.2fx %8.0f MB%n", name + " (" + r.layers().size() + " layers)",
                            r.examples(), r.batchSize(), r.threads(), r.examples() / r.plainSeconds(), r.examples() / r.fusedSeconds(),
                            r.ratio(), r.peakHeapMb());
                }
            }
            System.out.println("fused = every layer captured in one model run per batch, fed to: "
                    + (analyzers.isEmpty() ? "no analyzer (capture only)" : String.join(" + ", analyzers)));
        }
        return Main.OK;
    }
}
