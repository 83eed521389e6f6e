package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.pipeline.Environment;
import io.neuronmonkey.runtime.pipeline.ExperimentRunner;
import io.neuronmonkey.runtime.pipeline.PreparedExperiment;
import io.neuronmonkey.runtime.pipeline.Preparer;
import io.neuronmonkey.runtime.pipeline.Provenance;
import io.neuronmonkey.runtime.pipeline.RunOptions;
import io.neuronmonkey.runtime.plugin.PluginHost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

/** {@code neuronmonkey run FILE [--out DIR]}. */
@Command(name = "run", description = "Run an experiment: validate it, load the model once, run every step, write results and report.html.")
final class RunCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "the experiment YAML")
    Path file;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: runs/<experiment>/<timestamp>/)")
    Path out;

    @Option(names = "--plugins", paramLabel = "DIR", description = "plugin bundles folder (default: $NEURONMONKEY_PLUGINS or the built bundles)")
    Path plugins;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads for model runs and data loading, 1 to 4 x cores (at most 64; default: min(4, cores)); results do not depend on it")
    Integer threads;

    @Option(names = "--no-cache", description = "do not read or write the activation cache")
    boolean noCache;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "activation cache folder (default: $NEURONMONKEY_CACHE or ~/.cache/neuronmonkey/activations)")
    Path cacheDir;

    @Spec
    CommandSpec spec;

    RunOptions options() {
        int t = threads == null ? RunOptions.defaultThreads() : RunOptions.checkThreads(threads);
        Path cache = null;
        if (!noCache) {
            String env = System.getenv("NEURONMONKEY_CACHE");
            cache = cacheDir != null ? cacheDir
                    : env != null && !env.isBlank() ? Path.of(env)
                    : Path.of(System.getProperty("user.home"), ".cache", "neuronmonkey", "activations");
        }
        return new RunOptions(t, cache == null ? null : cache.toAbsolutePath(), 2L << 30);
    }

    @Override
    public Integer call() {
        PrintStream err = System.err;
        long t0 = System.nanoTime();
        RunOptions options = options();
        ExperimentConfig config = ExperimentParser.read(file);
        if (config.name() == null) {
            config.requireValid();
        }
        Path outDir = out != null ? out : defaultOut(config.name());
        checkOutDir(outDir);
        try (PluginHost host = Launch.plugins(plugins, err, true)) {
            AtomicBoolean cancelled = new AtomicBoolean();
            Environment env = new Environment(config, ConsoleProgress.forConsole(), cancelled);
            err.println("experiment '" + config.name() + "': validating and loading ...");
            try (PreparedExperiment prepared = Preparer.prepare(config, host.registry(), env, true)) {
                Provenance provenance = Provenance.of(prepared, host.plugins(), Launch.version());
                ExperimentRunner.Outcome outcome = ExperimentRunner.run(prepared, outDir.toAbsolutePath(), env, provenance, options);
                err.println();
                for (ExperimentRunner.StepStatus s : outcome.steps()) {
                    err.printf(Locale.ROOT, "  %-10s %-24s %7.2fs%s%n", s.state(), s.id(), s.seconds(),
                            s.error() == null ? "" : "  " + s.error());
                }
                Path report = outcome.outDir().resolve("report.html");
                err.printf(Locale.ROOT, "results: %s%s (%.1fs)%n", outcome.outDir(),
                        Files.exists(report) ? System.lineSeparator() + "report:  " + report : "", (System.nanoTime() - t0) / 1e9);
                System.out.println(outcome.outDir());
                if (!outcome.ok()) {
                    err.println("error: " + outcome.steps().stream().filter(s -> !s.ok()).count() + " step(s) did not complete");
                    return Main.FAILED;
                }
                return Main.OK;
            }
        }
    }

    static Path defaultOut(String experiment) {
        String ts = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path base = Path.of("runs", experiment, ts);
        Path p = base;
        for (int i = 2; Files.exists(p); i++) {
            p = Path.of(base + "-" + i);
        }
        return p;
    }

    static void checkOutDir(Path outDir) {
        if (Files.isDirectory(outDir)) {
            try (Stream<Path> s = Files.list(outDir)) {
                if (s.findAny().isPresent()) {
                    throw new ConfigException("output folder " + outDir.toAbsolutePath()
                            + " exists and is not empty; results are never written over: choose another --out or remove it");
                }
            } catch (IOException e) {
                throw new ConfigException("cannot read output folder " + outDir + ": " + e.getMessage());
            }
        } else if (Files.exists(outDir)) {
            throw new ConfigException("--out " + outDir + " is a file, not a folder");
        }
    }
}
