package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.engine.EngineSpec;
import io.neuronmonkey.runtime.engine.Engines;
import io.neuronmonkey.runtime.engine.ExperimentSource;
import io.neuronmonkey.runtime.engine.PassEngine;
import io.neuronmonkey.runtime.pipeline.Environment;
import io.neuronmonkey.runtime.pipeline.ExperimentRunner;
import io.neuronmonkey.runtime.pipeline.PreparedExperiment;
import io.neuronmonkey.runtime.pipeline.Preparer;
import io.neuronmonkey.runtime.pipeline.Provenance;
import io.neuronmonkey.runtime.pipeline.RunOptions;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.plugin.PluginPins;
import io.neuronmonkey.runtime.store.Json;
import io.neuronmonkey.runtime.store.RunFolder;
import io.neuronmonkey.runtime.store.RunIndex;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;

/**
 * {@code neuronmonkey run FILE [--out DIR]} and {@code neuronmonkey run [FILE] --resume DIR}. An interruption (SIGINT,
 * SIGTERM) stops the run at its next batch; the run then records its state before the process ends.
 */
@Command(name = "run", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Run an experiment: validate it, load the model once, run every step, write results and report.html.")
final class RunCommand implements Callable<Integer> {

    /** How long an interrupted run may take to stop and record its state before the process ends anyway. */
    static final long STOP_GRACE_SECONDS = 20;

    @Parameters(index = "0", arity = "0..1", paramLabel = "FILE",
            description = "the experiment YAML (with --resume: optional, default the experiment as it was run)")
    Path file;

    @Option(names = "--resume", paramLabel = "DIR",
            description = "continue the interrupted or failed run in DIR: steps that completed with the same config are kept, the others run")
    Path resume;

    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: runs/<experiment>/<timestamp>/)")
    Path out;

    @Option(names = "--plugins", paramLabel = "DIR", description = "a folder of plugin bundles read in addition to the built-in ones and the user plugins folder ($NEURONMONKEY_PLUGINS or ~/.neuronmonkey/plugins)")
    Path plugins;

    @Option(names = "--threads", paramLabel = "N", description = "worker threads for model runs and data loading, 1 to 4 x cores (at most 64; default: min(4, cores)); results do not depend on it")
    Integer threads;

    @Option(names = "--no-cache", description = "do not read or write the activation cache")
    boolean noCache;

    @Option(names = "--cache-dir", paramLabel = "DIR", description = "activation cache folder (default: $NEURONMONKEY_CACHE or ~/.cache/neuronmonkey/activations)")
    Path cacheDir;

    @Option(names = "--live", arity = "0..1", fallbackValue = "0", paramLabel = "PORT",
            description = "serve a live page of the run on 127.0.0.1 (PORT, default: any free port); its address, with its token, is printed")
    Integer live;

    @Option(names = "--keep", description = "with --live: keep the live page's server after the run until the process is stopped (default: it closes "
            + LiveView.GRACE_MILLIS / 1000 + " s after the end)")
    boolean keep;

    @Option(names = "--engine", paramLabel = "ENGINE",
            description = "where the passes run: local (default), spark (master local[*], or spark-submit's) or spark:MASTER "
                    + "(e.g. spark:local[2], spark:spark://host:7077); wins over the experiment's engine:")
    String engine;

    @Spec
    CommandSpec spec;

    /** The engine: {@code --engine} over the experiment's {@code engine:} section. */
    EngineSpec engineOf(ExperimentConfig config) {
        Object section = config.plain() instanceof Map<?, ?> m ? m.get("engine") : null;
        EngineSpec fromConfig = EngineSpec.ofConfig(section);
        return engine == null ? fromConfig : EngineSpec.ofOption(engine, fromConfig);
    }

    /** @return the started distributed engine, or null for the local one */
    static PassEngine openEngine(EngineSpec spec, ExperimentConfig config, PluginHost host) {
        if (!spec.distributed()) {
            return null;
        }
        return Engines.open(spec, new ExperimentSource(config.file().toAbsolutePath().toString(), config.text(),
                host.roots().stream().map(Path::toString).toList(), Launch.systemVersion()));
    }

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
        if (resume != null && out != null) {
            throw new ConfigException("--resume DIR continues the run in DIR and takes no --out");
        }
        if (file == null && resume == null) {
            throw new ConfigException("missing FILE: 'neuronmonkey run FILE [--out DIR]', or 'neuronmonkey run [FILE] --resume DIR'");
        }
        Map<String, Object> previous = resume == null ? null : previousRun(resume);
        ExperimentConfig config = file != null ? ExperimentParser.read(file) : experimentOf(resume, previous);
        if (config.name() == null) {
            config.requireValid();
        }
        EngineSpec engineSpec = engineOf(config);
        if (out != null) {
            checkOutDir(out);
        }
        try (LiveView view = LiveView.open(live, keep, "run", config.name(), err);
             PluginHost host = Launch.plugins(plugins, err, true)) {
            PluginPins.check(config, host);
            Environment env = new Environment(config, LiveView.progress(view, ConsoleProgress.forConsole()), new AtomicBoolean(),
                    LiveView.listener(view));
            err.println("experiment '" + config.name() + "': validating and loading ...");
            try (PreparedExperiment prepared = Preparer.prepare(config, host.registry(), env, true);
                 RunFolder claim = resume != null ? RunFolder.claim(resume, RunFolder.Mode.RESUME)
                         : out != null ? RunFolder.claim(out, RunFolder.Mode.NEW) : claimDefault(config.name());
                 PassEngine passEngine = openEngine(engineSpec, config, host)) {
                RunOptions runOptions = options.withEngine(passEngine);
                Path outDir = claim.dir();
                if (view != null) {
                    view.steps(prepared.steps().stream().map(s -> Map.entry(s.id(), s.extension().name())).toList());
                    view.runDir(outDir);
                }
                claim.recovered().forEach(r -> err.println("note: " + outDir + ": " + r));
                Provenance provenance = Provenance.of(prepared, host.plugins(), Launch.version());
                ExperimentRunner runner;
                if (resume != null) {
                    previous = previousRun(outDir);
                    checkResumable(outDir, previous, provenance);
                    runner = ExperimentRunner.resume(prepared, outDir, env, provenance, runOptions, previous);
                } else {
                    runner = ExperimentRunner.create(prepared, outDir, env, provenance, runOptions);
                }
                return runWithInterruptHandling(runner, outDir, err, outcome -> {
                    int code = report(outcome, err, t0);
                    if (view != null) {
                        boolean hasReport = Files.isRegularFile(outcome.outDir().resolve(RunFolder.REPORT));
                        view.ended(outcome.problem() == null ? outcome.status() : "failed", hasReport ? RunFolder.REPORT : null,
                                outcome.problem() == null ? "results: " + outcome.outDir().toAbsolutePath() : outcome.problem());
                    }
                    return code;
                });
            }
        }
    }

    /**
     * Runs with a shutdown hook that turns SIGINT / SIGTERM into a recorded interruption instead of a silent stop;
     * the hook holds the process until the run has recorded its end and {@code report} has printed it.
     */
    private static int runWithInterruptHandling(ExperimentRunner runner, Path outDir, PrintStream err,
                                                ToIntFunction<ExperimentRunner.Outcome> report) {
        CountDownLatch done = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            if (done.getCount() == 0) {
                return;
            }
            err.println();
            err.println("neuronmonkey: interrupted; stopping the run and recording its state in " + outDir.resolve(RunFolder.PROVENANCE) + " ...");
            runner.interrupt("interrupted by a signal (SIGINT or SIGTERM)");
            try {
                if (!done.await(STOP_GRACE_SECONDS, TimeUnit.SECONDS)) {
                    runner.recordInterruptedNow();
                    err.println("neuronmonkey: the step under way did not stop within " + STOP_GRACE_SECONDS + " s; state recorded without it");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "neuronmonkey-interrupt");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            return report.applyAsInt(runner.run());
        } finally {
            System.out.flush();
            err.flush();
            done.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it returns now that the run has recorded its end
            }
        }
    }

    /** Findings printed at the end of a run; the rest are counted. */
    static final int MAX_FINDINGS = 6;

    private static int report(ExperimentRunner.Outcome outcome, PrintStream err, long t0) {
        err.println();
        for (ExperimentRunner.StepStatus s : outcome.steps()) {
            err.printf(Locale.ROOT, "  %-10s %-24s %7.2fs%s%n", s.reused() ? "reused" : s.state(), s.id(), s.seconds(),
                    s.error() == null ? "" : "  " + s.error());
        }
        List<String> findings = RunIndex.findings(outcome.outDir());
        if (!findings.isEmpty()) {
            err.println();
            err.println("findings:");
            findings.stream().limit(MAX_FINDINGS).forEach(f -> err.println("  " + f));
            if (findings.size() > MAX_FINDINGS) {
                err.println("  and " + (findings.size() - MAX_FINDINGS) + " more (index.json, report.html)");
            }
        }
        Path report = outcome.outDir().resolve(RunFolder.REPORT);
        err.printf(Locale.ROOT, "results: %s%s (%.1fs)%n", outcome.outDir(),
                Files.exists(report) ? System.lineSeparator() + "report:  " + report : "", (System.nanoTime() - t0) / 1e9);
        System.out.println(outcome.outDir());
        if (outcome.problem() != null) {
            err.println("error: " + outcome.problem());
        }
        if (outcome.interrupted()) {
            long completed = outcome.steps().stream().filter(ExperimentRunner.StepStatus::ok).count();
            err.println("interrupted: " + completed + " of " + outcome.steps().size() + " steps completed; the state is in "
                    + outcome.outDir().resolve(RunFolder.PROVENANCE) + "; continue with: neuronmonkey run --resume " + outcome.outDir());
            return Main.FAILED;
        }
        if (!outcome.ok()) {
            long failed = outcome.steps().stream().filter(s -> !s.ok()).count();
            if (failed > 0) {
                err.println("error: " + failed + " step(s) did not complete"
                        + "; after fixing the cause: neuronmonkey run --resume " + outcome.outDir());
            }
            return Main.FAILED;
        }
        return Main.OK;
    }

    /** The provenance.json of the run in DIR, checked to be one that can be continued. */
    static Map<String, Object> previousRun(Path dir) {
        Path prov = dir.resolve(RunFolder.PROVENANCE);
        if (!Files.isDirectory(dir)) {
            throw new ConfigException("--resume " + dir.toAbsolutePath() + " is not a run folder: " + (Files.exists(dir) ? "it is a file" : "it does not exist"));
        }
        Map<String, Object> m;
        try {
            m = Json.readMap(prov);
        } catch (RuntimeException e) {
            throw new ConfigException("--resume " + dir.toAbsolutePath() + " is not a run folder: it has no readable " + RunFolder.PROVENANCE
                    + " (a run folder is what 'neuronmonkey run' writes; pass the folder it printed)");
        }
        if (!(m.get("status") instanceof String) || !(m.get("resolvedSteps") instanceof List<?>) || !Files.isRegularFile(dir.resolve(RunFolder.EXPERIMENT))) {
            throw new ConfigException("--resume " + dir.toAbsolutePath() + " is not a run folder: its " + RunFolder.PROVENANCE
                    + " has no status and steps, or " + RunFolder.EXPERIMENT + " is missing");
        }
        if ("completed".equals(m.get("status"))) {
            throw new ConfigException("the run in " + dir.toAbsolutePath() + " completed; there is nothing to resume (run again with another --out)");
        }
        return m;
    }

    /** The experiment as it was run: the copy in the run folder, its relative paths resolved where the original file was. */
    static ExperimentConfig experimentOf(Path dir, Map<String, Object> previous) {
        Path copy = dir.resolve(RunFolder.EXPERIMENT);
        Path original = previous.get("configFile") instanceof String f ? Path.of(f) : copy;
        try {
            return ExperimentParser.read(original, Files.readString(copy, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new ConfigException("cannot read " + copy + ": " + e.getMessage());
        }
    }

    private static void checkResumable(Path dir, Map<String, Object> previous, Provenance provenance) {
        List<String> diff = provenance.modelOrDataDifferences(previous);
        if (!diff.isEmpty()) {
            throw new ConfigException("cannot resume the run in " + dir + ": the experiment differs from it in model or data ("
                    + String.join("; ", diff) + "); a resumed run keeps the model and data it started with: run the changed"
                    + " experiment into a new --out");
        }
    }

    /** runs/&lt;experiment&gt;/&lt;timestamp&gt;, with -2, -3, ... when a run started in the same second holds that one. */
    static RunFolder claimDefault(String experiment) {
        String ts = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path base = Path.of("runs", experiment, ts);
        for (int i = 1; ; i++) {
            Path p = i == 1 ? base : Path.of(base + "-" + i);
            if (Files.exists(p) && i < 1000) {
                continue;
            }
            try {
                return RunFolder.claim(p, RunFolder.Mode.NEW);
            } catch (ConfigException e) {
                if (i >= 1000) {
                    throw e;
                }
            }
        }
    }

    /**
     * An early look, before plugins start and the model loads, so a folder in use fails fast; the claim taken after
     * validation is what decides, and its refusal (with the state of a run found there) is the message.
     */
    static void checkOutDir(Path outDir) {
        boolean used;
        if (Files.isDirectory(outDir)) {
            try (Stream<Path> s = Files.list(outDir)) {
                used = s.anyMatch(p -> !p.getFileName().toString().equals(RunFolder.LOCK));
            } catch (IOException e) {
                throw new ConfigException("cannot read output folder " + outDir + ": " + e.getMessage());
            }
        } else {
            used = Files.exists(outDir);
        }
        if (used) {
            RunFolder.claim(outDir, RunFolder.Mode.NEW).close();
        }
    }
}
