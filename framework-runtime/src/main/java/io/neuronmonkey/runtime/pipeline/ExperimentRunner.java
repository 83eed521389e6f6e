package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.NeuronMonkeyException;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.RunSummary;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.api.visual.Visualizer;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.engine.PassEngine;
import io.neuronmonkey.runtime.engine.PassJob;
import io.neuronmonkey.runtime.store.AtomicFiles;
import io.neuronmonkey.runtime.store.Json;
import io.neuronmonkey.runtime.store.ResultCodec;
import io.neuronmonkey.runtime.store.RunFolder;
import io.neuronmonkey.runtime.store.RunIndex;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * Runs a prepared experiment into an output folder. Streaming analyzers that read the same data share ONE pass of
 * the model (the union of their layers captured in one run per batch, each fed only its own layers). Each step
 * writes into a hidden partial folder that is moved into place only when the step succeeded; a failed step leaves
 * {@code <id>.failed/error.txt} instead, and the steps that depend on it are skipped while independent ones run.
 * <p>
 * The run's state on disk tells the truth however it ends: provenance.json is rewritten as each step ends; when
 * the run is cancelled (a signal) the step under way stops at its next batch, is recorded as interrupted and the
 * remaining steps as not run; write failures (a full disk) fail the step they hit, never the record of the others;
 * and partial folders are removed before the end is recorded. Continuing a run ({@link #resume}) reuses every step
 * whose config hash ({@link Provenance#stepHashes}) and completed output are unchanged.
 */
public final class ExperimentRunner {

    /** How one step ended: completed, failed, skipped (an input did not complete), interrupted or not-run. */
    public record StepStatus(String id, String state, double seconds, String error, boolean reused) {
        public StepStatus(String id, String state, double seconds, String error) {
            this(id, state, seconds, error, false);
        }

        public boolean ok() {
            return state.equals("completed");
        }
    }

    /**
     * How the run ended.
     *
     * @param status  completed, failed or interrupted (as provenance.json says)
     * @param problem why the run's end could not be recorded, or null
     */
    public record Outcome(Path outDir, List<StepStatus> steps, String status, String problem) {
        public Outcome(Path outDir, List<StepStatus> steps) {
            this(outDir, steps, steps.stream().allMatch(StepStatus::ok) ? "completed" : "failed", null);
        }

        public boolean ok() {
            return "completed".equals(status) && problem == null;
        }

        public boolean interrupted() {
            return "interrupted".equals(status);
        }
    }

    private final PreparedExperiment exp;
    private final Path out;
    private final Environment env;
    private final Provenance provenance;
    private final Map<String, StepOutput> outputs = new LinkedHashMap<>();
    private final Map<String, StepStatus> statuses = new LinkedHashMap<>();
    private final Set<String> running = new LinkedHashSet<>();
    private final RunOptions options;
    private final List<String> passNotes = new ArrayList<>();
    private final Map<String, Object> previous;
    private volatile String stopReason;
    private boolean ended;
    private final Map<String, InputCheck> inputChecks = new LinkedHashMap<>();
    private final Set<String> warned = new java.util.HashSet<>();
    /** Data sets whose accuracy line a pass has printed (see {@link PassAccuracy}). */
    private final Set<String> accuracyShown = new java.util.HashSet<>();

    private ExperimentRunner(PreparedExperiment exp, Path out, Environment env, Provenance provenance, RunOptions options,
                             Map<String, Object> previous) {
        this.exp = exp;
        this.out = out;
        this.env = env;
        this.provenance = provenance;
        this.options = options;
        this.previous = previous;
    }

    public static Outcome run(PreparedExperiment exp, Path out, Environment env, Provenance provenance) {
        return run(exp, out, env, provenance, RunOptions.sequential());
    }

    public static Outcome run(PreparedExperiment exp, Path out, Environment env, Provenance provenance, RunOptions options) {
        return create(exp, out, env, provenance, options).run();
    }

    /** A runner to start with {@link #run()}, for callers that may interrupt it from another thread. */
    public static ExperimentRunner create(PreparedExperiment exp, Path out, Environment env, Provenance provenance, RunOptions options) {
        return new ExperimentRunner(exp, out, env, provenance, options, null);
    }

    /**
     * A runner that continues the run recorded in {@code previous} (its provenance.json) in the same folder: steps
     * that completed there with the same config hash are reused, the others run.
     */
    public static ExperimentRunner resume(PreparedExperiment exp, Path out, Environment env, Provenance provenance, RunOptions options,
                                          Map<String, Object> previous) {
        provenance.continues(previous);
        return new ExperimentRunner(exp, out, env, provenance, options, previous);
    }

    /** Stops the run at the next check of every step; {@code reason} goes into provenance.json. */
    public void interrupt(String reason) {
        stopReason = reason;
        env.cancel();
    }

    public Outcome run() {
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new OutputException("cannot create output folder " + out + ": " + e.getMessage(), e);
        }
        AtomicFiles.write(out.resolve(RunFolder.EXPERIMENT), exp.config().text().getBytes(StandardCharsets.UTF_8));
        provenance.writeStarted(out);
        List<PreparedExperiment.StepEntry> steps = exp.steps();
        try {
            for (PreparedExperiment.StepEntry step : steps) {
                if (known(step.id())) {
                    continue;
                }
                if (env.cancelled()) {
                    record(new StepStatus(step.id(), "not-run", 0, "the run was interrupted before this step"));
                    continue;
                }
                if (reuse(step)) {
                    continue;
                }
                Optional<String> blocked = step.spec().inputs().stream().filter(i -> !status(i).ok()).findFirst();
                if (blocked.isPresent()) {
                    record(new StepStatus(step.id(), "skipped", 0, "input step '" + blocked.get() + "' did not complete"));
                    continue;
                }
                if (step.extension().instance() instanceof StreamingAnalyzer<?> && step.spec().inputs().isEmpty()) {
                    List<PreparedExperiment.StepEntry> group = new ArrayList<>();
                    for (PreparedExperiment.StepEntry other : steps) {
                        if (!known(other.id()) && other.extension().instance() instanceof StreamingAnalyzer<?>
                                && other.spec().inputs().isEmpty() && step.data().equals(other.data()) && !reuse(other)) {
                            group.add(other);
                        }
                    }
                    starting(group);
                    runFused(group);
                } else if (step.spec().kind() == ExperimentConfig.Kind.ANALYZER) {
                    starting(List.of(step));
                    runAnalyzer(step);
                } else {
                    starting(List.of(step));
                    runVisualizer(step);
                }
            }
        } catch (RuntimeException e) {
            // a fault of the runner itself: the steps it did not get to are recorded as such, not lost
            passNotes.add("the run stopped early: " + e);
            for (PreparedExperiment.StepEntry step : steps) {
                if (!known(step.id())) {
                    record(new StepStatus(step.id(), running.contains(step.id()) ? "failed" : "not-run", 0,
                            running.contains(step.id()) ? e.toString() : "the run stopped before this step"));
                }
            }
        }
        return end();
    }

    /** Called by the thread that handles an interruption when the run does not stop in time: records what is known now. */
    public synchronized void recordInterruptedNow() {
        if (ended) {
            return;
        }
        for (PreparedExperiment.StepEntry step : exp.steps()) {
            if (!statuses.containsKey(step.id())) {
                statuses.put(step.id(), running.contains(step.id())
                        ? new StepStatus(step.id(), "interrupted", 0, "the step did not stop in time and was abandoned")
                        : new StepStatus(step.id(), "not-run", 0, "the run was interrupted before this step"));
            }
        }
        end();
    }

    /** The statuses so far, in the experiment's step order. */
    private synchronized List<StepStatus> ordered() {
        List<StepStatus> list = new ArrayList<>();
        for (PreparedExperiment.StepEntry s : exp.steps()) {
            if (statuses.containsKey(s.id())) {
                list.add(statuses.get(s.id()));
            }
        }
        return list;
    }

    private synchronized Outcome end() {
        List<StepStatus> list = ordered();
        String status = env.cancelled() ? "interrupted" : list.stream().allMatch(StepStatus::ok) ? "completed" : "failed";
        if (ended) {
            return new Outcome(out, list, status, null);
        }
        ended = true;
        try {
            RunFolder.removeLeftovers(out);
        } catch (RuntimeException e) {
            passNotes.add("partial output could not all be removed: " + e.getMessage());
        }
        String reason = status.equals("interrupted") ? (stopReason != null ? stopReason : "the run was cancelled") : null;
        Map<String, Object> nonFinite = new LinkedHashMap<>();
        inputChecks.forEach((name, check) -> nonFinite.put(name, check.summary()));
        provenance.nonFiniteInputs(nonFinite);
        String problem = null;
        try {
            provenance.writeFinished(out, list, options, passNotes, status, reason);
        } catch (RuntimeException e) {
            problem = "the run's end could not be recorded in " + RunFolder.PROVENANCE + ": " + e.getMessage();
        }
        try {
            RunIndex.write(out, exp.config().name(), list.stream().map(st -> new RunIndex.Step(st.id(), st.state())).toList());
        } catch (RuntimeException e) {
            problem = (problem == null ? "" : problem + "; ") + RunFolder.INDEX + " could not be written: " + e.getMessage();
        }
        return new Outcome(out, list, status, problem);
    }

    private synchronized boolean known(String id) {
        return statuses.containsKey(id);
    }

    private synchronized StepStatus status(String id) {
        return statuses.get(id);
    }

    private synchronized void starting(List<PreparedExperiment.StepEntry> group) {
        group.forEach(s -> running.add(s.id()));
        env.listener().stepsStarting(group.stream().map(PreparedExperiment.StepEntry::id).toList());
    }

    /** Records a step's end and rewrites provenance.json with the steps so far (a failed write costs nothing else). */
    private synchronized void record(StepStatus status) {
        if (ended) {
            return;
        }
        running.remove(status.id());
        statuses.put(status.id(), status);
        env.listener().stepEnded(status);
        try {
            provenance.writeProgress(out, ordered());
        } catch (RuntimeException e) {
            // the end is recorded again; the step's own status is what matters here
        }
    }

    /** On resume: a step that completed before with the same config hash, whose output is intact, is not run again. */
    @SuppressWarnings("unchecked")
    private boolean reuse(PreparedExperiment.StepEntry s) {
        if (previous == null) {
            return false;
        }
        Map<String, Object> before = find(previous.get("resolvedSteps"), s.id());
        Map<String, Object> ended = find(previous.get("steps"), s.id());
        if (before == null || ended == null || !"completed".equals(ended.get("state"))
                || !provenance.stepHash(s.id()).equals(before.get("configSha256"))) {
            return false;
        }
        Path dir = out.resolve(s.id());
        StepOutput output;
        try {
            if (s.spec().kind() == ExperimentConfig.Kind.ANALYZER) {
                output = new StepOutput(s.id(), s.spec().kind().key(), s.extension().name(), s.data(),
                        Optional.of(ResultCodec.read(dir)), List.of());
            } else {
                List<Artifact> artifacts = new ArrayList<>();
                for (Map<String, Object> a : (List<Map<String, Object>>) Json.readMap(dir.resolve("artifacts.json")).get("artifacts")) {
                    String file = String.valueOf(a.get("file"));
                    if (!Files.isRegularFile(out.resolve(file))) {
                        return false;
                    }
                    artifacts.add(new Artifact(s.id(), file, String.valueOf(a.get("title")), String.valueOf(a.get("mediaType"))));
                }
                output = new StepOutput(s.id(), s.spec().kind().key(), s.extension().name(), s.data(), Optional.empty(), artifacts);
            }
        } catch (RuntimeException e) {
            return false;
        }
        outputs.put(s.id(), output);
        double seconds = ended.get("seconds") instanceof Number n ? n.doubleValue() : 0;
        record(new StepStatus(s.id(), "completed", seconds, null, true));
        return true;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> find(Object list, String id) {
        if (list instanceof List<?> l) {
            for (Object o : l) {
                if (o instanceof Map<?, ?> m && id.equals(m.get("id"))) {
                    return (Map<String, Object>) m;
                }
            }
        }
        return null;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void runFused(List<PreparedExperiment.StepEntry> group) {
        InputCheck check = inputCheck(group.get(0).data());
        Dataset data = check.dataset();
        long t0 = System.nanoTime();
        Map<String, StreamingAnalyzer.Accumulator> live = new LinkedHashMap<>();
        Map<String, PreparedExperiment.StepEntry> byId = new HashMap<>();
        Set<String> union = new LinkedHashSet<>();
        List<FusedPass.Consumer> consumers = new ArrayList<>();
        for (PreparedExperiment.StepEntry s : group) {
            byId.put(s.id(), s);
            try {
                StreamingAnalyzer analyzer = (StreamingAnalyzer) s.extension().instance();
                StreamingAnalyzer.Accumulator acc = analyzer.start(analysisContext(s, data));
                live.put(s.id(), acc);
                List<String> layers = s.layers().stream().map(LayerInfo::name).toList();
                union.addAll(layers);
                consumers.add(new FusedPass.Consumer() {
                    public String id() {
                        return s.id();
                    }

                    public List<String> layers() {
                        return layers;
                    }

                    public void accept(ActivationBatch batch) {
                        acc.accept(batch);
                    }
                });
            } catch (RuntimeException e) {
                fail(s, e, t0);
            }
        }
        if (live.isEmpty()) {
            return;
        }
        String dataName = group.get(0).data();
        PassAccuracy accuracy = accuracyShown.contains(dataName) ? null
                : PassAccuracy.of(exp, dataName, !data.info().classNames().isEmpty()).orElse(null);
        if (accuracy != null) {
            union.addAll(accuracy.layers());
        }
        List<String> fetch = List.copyOf(union);
        if (options.engine() != null && !ActivationCache.plan(options, exp, dataName, fetch).hit()) {
            // a pass the cache holds is read here, as in a local run; any other goes to the engine
            runOnEngine(dataName, data, live, byId, t0);
            return;
        }
        env.progress().start("one pass over the examples of '" + group.get(0).data() + "' for " + String.join(", ", live.keySet()),
                data.info().size());
        ActivationCache.Writer writer = null;
        boolean accuracyCounted = false;
        LivePassConsumer watcher = LivePassConsumer.of(env.listener(), dataName, exp, fetch);
        try {
            ActivationCache.Plan cache = ActivationCache.plan(options, exp, group.get(0).data(), fetch);
            FusedPass.Activations source = (b, i) -> exp.model().run(b.modelInputs(), fetch, List.of());
            List<FusedPass.Consumer> all = new ArrayList<>(consumers);
            if (accuracy != null) {
                all.add(accuracy);
            }
            if (watcher != null) {
                all.add(watcher);
            }
            if (cache.hit()) {
                source = cache.reader();
                passNotes.add("activations of pass over '" + group.get(0).data() + "' read from cache " + cache.key());
            } else if (cache.writable()) {
                try {
                    writer = cache.writer();
                    all.add(writer);
                } catch (RuntimeException e) {
                    passNotes.add("activation cache not written: " + e.getMessage());
                }
            }
            int before = check.passCount();
            List<FusedPass.Failure> failures = FusedPass.run(data, exp.config().batchSize(), source, all, options.threads(),
                    env.progress(), env::cancelled);
            requireExamples(check, before, String.join(", ", live.keySet()));
            accuracyCounted = accuracy != null && failures.stream().noneMatch(f -> f.id().equals(accuracy.id()));
            for (FusedPass.Failure f : failures) {
                if (accuracy != null && f.id().equals(accuracy.id()) || f.id().equals(LivePassConsumer.ID)) {
                    continue;
                }
                if (writer != null && f.id().equals(writer.id())) {
                    passNotes.add("activation cache not written: " + f.error().getMessage());
                    writer.abandon();
                    writer = null;
                    continue;
                }
                fail(byId.get(f.id()), f.error(), t0);
                live.remove(f.id());
            }
            if (writer != null) {
                writer.commit();
                writer = null;
            }
        } catch (RuntimeException e) {
            for (String id : live.keySet()) {
                fail(byId.get(id), e, t0);
            }
            live.clear();
        } finally {
            if (writer != null) {
                writer.abandon();
            }
            env.progress().finish();
            if (watcher != null) {
                watcher.finished();
            }
            warnNonFinite(check);
        }
        if (accuracyCounted) {
            accuracy.line().ifPresent(line -> {
                accuracyShown.add(dataName);
                passNotes.add(line);
                System.err.println(line);
            });
        }
        for (Map.Entry<String, StreamingAnalyzer.Accumulator> e : live.entrySet()) {
            PreparedExperiment.StepEntry s = byId.get(e.getKey());
            try {
                AnalysisResult r = e.getValue().finish();
                complete(s, r, List.of(), t0);
            } catch (RuntimeException ex) {
                fail(s, ex, t0);
            }
        }
    }

    /**
     * The fused pass on a distributed engine: the engine merges its partitions' states into {@code live} in data
     * order. The engine does not write the activation cache, nor print the console accuracy line.
     */
    private void runOnEngine(String dataName, Dataset data, Map<String, StreamingAnalyzer.Accumulator> live,
                             Map<String, PreparedExperiment.StepEntry> byId, long t0) {
        Map<String, String> analyzers = new LinkedHashMap<>();
        live.keySet().forEach(id -> analyzers.put(id, byId.get(id).extension().name()));
        env.progress().start("one pass over the examples of '" + dataName + "' for " + String.join(", ", live.keySet())
                + " on " + options.engine().describe().get("engine"), data.info().size());
        try {
            PassEngine.Outcome o = options.engine().run(new PassJob(dataName, List.copyOf(live.keySet()), analyzers,
                    exp.config().batchSize(), data.info().size(), live, env.progress(), env::cancelled));
            passNotes.addAll(o.notes());
            if (options.cacheDir() != null) {
                passNotes.add("activation cache not written for the pass over '" + dataName + "': the "
                        + options.engine().describe().get("engine") + " engine reads a cached pass but does not write one");
            }
            o.failures().forEach((id, e) -> {
                fail(byId.get(id), e, t0);
                live.remove(id);
            });
            if (o.examples() == 0 && !live.isEmpty()) {
                throw new AnalysisException("data set '" + dataName + "' gave no examples to " + String.join(", ", live.keySet())
                        + "; there is nothing to compute statistics of (is the file or generator empty?)");
            }
        } catch (RuntimeException e) {
            for (String id : live.keySet()) {
                fail(byId.get(id), e, t0);
            }
            live.clear();
        } finally {
            env.progress().finish();
        }
        for (Map.Entry<String, StreamingAnalyzer.Accumulator> e : live.entrySet()) {
            PreparedExperiment.StepEntry s = byId.get(e.getKey());
            try {
                complete(s, e.getValue().finish(), List.of(), t0);
            } catch (RuntimeException ex) {
                fail(s, ex, t0);
            }
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void runAnalyzer(PreparedExperiment.StepEntry s) {
        long t0 = System.nanoTime();
        InputCheck check = s.data() == null ? null : inputCheck(s.data());
        Dataset data = check == null ? null : check.dataset();
        // a whole-run analyzer reads what it chooses (a filtered subset, several passes): it reports its own progress
        env.progress().start("step '" + s.id() + "'" + (data == null ? "" : " over the examples of '" + s.data() + "'"), -1);
        try {
            int before = check == null ? 0 : check.passCount();
            AnalysisResult r = ((Analyzer) s.extension().instance()).analyze(analysisContext(s, data));
            if (env.cancelled()) {
                // an analyzer that stops at ctx.cancelled() returns what it had: not a result to keep
                throw new NeuronMonkeyException("the analyzer returned after the run was cancelled");
            }
            if (check != null && check.passCount() > before) {
                requireExamples(check, before, s.id());
            }
            complete(s, r, List.of(), t0);
        } catch (RuntimeException e) {
            fail(s, e, t0);
        } finally {
            env.progress().finish();
            if (check != null) {
                warnNonFinite(check);
            }
        }
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void runVisualizer(PreparedExperiment.StepEntry s) {
        long t0 = System.nanoTime();
        Path partial = partialDir(s.id());
        List<StepOutput> inputs = new ArrayList<>();
        if (s.spec().inputs().isEmpty()) {
            inputs.addAll(outputs.values());
        } else {
            s.spec().inputs().forEach(i -> inputs.add(outputs.get(i)));
        }
        VisualizerContextImpl ctx = new VisualizerContextImpl(env, s.id(), s.params(), inputs, runSummary(s.id()), out, partial);
        try {
            ((Visualizer) s.extension().instance()).render(ctx);
            complete(s, null, ctx.artifacts(), t0);
        } catch (RuntimeException e) {
            fail(s, e, t0);
        }
    }

    private InputCheck inputCheck(String dataName) {
        return inputChecks.computeIfAbsent(dataName, n -> new InputCheck(n, exp.data().get(n).dataset()));
    }

    /** A pass that read no example would give statistics of nothing (means of 0.0): the steps fail instead. */
    private static void requireExamples(InputCheck check, int before, String steps) {
        List<InputCheck.Pass> passes = check.passesSince(before);
        if (!passes.isEmpty() && passes.stream().allMatch(p -> p.examples == 0)) {
            throw new AnalysisException("data set '" + check.name() + "' gave no examples to " + steps
                    + "; there is nothing to compute statistics of (is the file or generator empty?)");
        }
    }

    /** Says once per data set, on the console, that its inputs hold NaN or infinite values. */
    private void warnNonFinite(InputCheck check) {
        InputCheck.Pass p = check.widest();
        if (p != null && p.nonFinite() > 0 && warned.add(check.name())) {
            System.err.println(check.warning(p));
        }
    }

    private Contexts.Analysis<?> analysisContext(PreparedExperiment.StepEntry s, Dataset data) {
        Map<String, AnalysisResult> inputs = new LinkedHashMap<>();
        for (String i : s.spec().inputs()) {
            outputs.get(i).result().ifPresent(r -> inputs.put(i, r));
        }
        Path work = out.resolve(RunFolder.WORK).resolve(s.id());
        return new Contexts.Analysis<>(env, s.id(), s.params(), exp.model(), data, s.data(), s.layers(),
                exp.config().batchSize(), inputs, work, List.copyOf(exp.data().keySet()), n -> inputCheck(n).dataset())
                .models(exp.backend() == null ? null
                        : path -> Preparer.load(exp.backend(), new Contexts.Model<>(env, path, exp.modelParams())));
    }

    private Path partialDir(String id) {
        guard(id);
        Path p = out.resolve("." + id + ".partial");
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new OutputException("cannot create " + p + ": " + e.getMessage(), e);
        }
        return p;
    }

    private void complete(PreparedExperiment.StepEntry s, AnalysisResult result, List<Artifact> artifacts, long t0) {
        double seconds = (System.nanoTime() - t0) / 1e9;
        Path partial = partialDir(s.id());
        try {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("step", s.id());
            json.put(s.spec().kind().key(), s.extension().name());
            json.put("plugin", s.extension().pluginId() + "@" + s.extension().pluginVersion());
            json.put("data", s.data());
            json.put("layers", s.layers().stream().map(LayerInfo::name).toList());
            json.put("seconds", seconds);
            if (result != null) {
                ResultCodec.write(result, partial, json);
            } else {
                json.put("artifacts", artifacts.stream().map(a -> Map.of("file", a.file(), "title", a.title(), "mediaType", a.mediaType())).toList());
                Json.write(partial.resolve("artifacts.json"), json);
            }
            install(s.id(), partial);
            outputs.put(s.id(), new StepOutput(s.id(), s.spec().kind().key(), s.extension().name(), s.data(),
                    Optional.ofNullable(result), artifacts));
            record(new StepStatus(s.id(), "completed", seconds, null));
        } catch (IOException | RuntimeException e) {
            fail(s, e, t0);
        }
    }

    /**
     * Moves a completed step folder into place. An earlier output of the same step (a resumed run whose step
     * changed) is swapped out by renames and removed only after; a folder the runtime did not write is never replaced.
     */
    private void install(String id, Path partial) throws IOException {
        Path target = out.resolve(id);
        if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
            boolean ours = Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)
                    && (Files.isRegularFile(target.resolve("result.json")) || Files.isRegularFile(target.resolve("artifacts.json")));
            if (!ours) {
                throw new OutputException("cannot put step '" + id + "' in place: " + target
                        + " exists and is not a step folder this runtime wrote; it is left as it is");
            }
            Path aside = out.resolve("." + id + ".replaced-" + UUID.randomUUID());
            AtomicFiles.move(target, aside);
            AtomicFiles.move(partial, target);
            AtomicFiles.deleteTree(aside);
        } else {
            AtomicFiles.move(partial, target);
        }
        AtomicFiles.deleteTree(out.resolve(id + RunFolder.FAILED_SUFFIX));
    }

    /** Validation reserves these ids; this keeps a step from writing over the runtime's files however it got here. */
    private static void guard(String id) {
        RunFolder.reservedName(id).ifPresent(m -> {
            throw new OutputException(m);
        });
    }

    /**
     * A step that failed leaves {@code <id>.failed/error.txt}; one stopped by an interruption leaves nothing. Where
     * even the error cannot be written (a full disk), its partial folder goes and the status still records why.
     */
    private void fail(PreparedExperiment.StepEntry s, Exception e, long t0) {
        double seconds = (System.nanoTime() - t0) / 1e9;
        String message = e instanceof NeuronMonkeyException ? e.getMessage() : e.toString();
        Path partial = out.resolve("." + s.id() + ".partial");
        if (env.cancelled()) {
            deleteQuietly(partial);
            record(new StepStatus(s.id(), "interrupted", seconds, "stopped by the interruption: " + message));
            return;
        }
        if (RunFolder.reservedName(s.id()).isPresent()) {
            record(new StepStatus(s.id(), "failed", seconds, message));
            return;
        }
        Path failed = out.resolve(s.id() + RunFolder.FAILED_SUFFIX);
        try {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            deleteQuietly(partial);
            AtomicFiles.deleteTree(failed);
            Files.createDirectories(partial);
            Files.writeString(partial.resolve("error.txt"), "step '" + s.id() + "' failed: " + message + "\n\n" + trace);
            AtomicFiles.move(partial, failed);
        } catch (IOException | RuntimeException ex) {
            deleteQuietly(partial);
            message += " (its error.txt could not be written either: " + ex.getMessage() + ")";
        }
        record(new StepStatus(s.id(), "failed", seconds, message));
    }

    private static void deleteQuietly(Path p) {
        try {
            AtomicFiles.deleteTree(p);
        } catch (RuntimeException ignored) {
            // leftovers by name: the end of the run, or the next claim of the folder, removes them
        }
    }

    private RunSummary runSummary(String current) {
        Map<String, DatasetInfo> data = new LinkedHashMap<>();
        exp.data().forEach((k, v) -> {
            if (v.dataset() != null) {
                data.put(k, v.dataset().info());
            }
        });
        return new RunSummary(exp.config().name(), exp.config().text(),
                exp.model() == null ? "" : exp.model().description(),
                exp.model() == null ? List.of() : exp.model().layers(), data, provenance.asMap(), stepStates(current),
                runFindings());
    }

    /** What the runtime itself knows is wrong with the run so far: data sets whose inputs hold NaN or infinities. */
    private List<Finding> runFindings() {
        List<Finding> out = new ArrayList<>();
        for (InputCheck check : inputChecks.values()) {
            InputCheck.Pass p = check.widest();
            if (p != null && p.nonFinite() > 0) {
                String id = "non-finite-inputs-" + check.name().replaceAll("[^A-Za-z0-9_-]", "_");
                out.add(new Finding(id.length() > 120 ? id.substring(0, 120) : id, Finding.Severity.WARNING,
                        "data set '" + check.name() + "' has " + p.nonFinite() + " NaN or infinite input values ("
                                + p.nanValues + " NaN, " + p.infiniteValues + " infinite) in " + p.affectedExamples + " of "
                                + p.examples + " examples, first '" + p.firstAffected + "': statistics computed from them "
                                + "are not meaningful",
                        new Finding.Strength("fraction of examples affected",
                                p.examples == 0 ? 0 : (double) p.affectedExamples / p.examples, null, null),
                        List.of(), List.of()));
            }
        }
        return out;
    }

    private List<RunSummary.StepState> stepStates(String current) {
        List<RunSummary.StepState> list = new ArrayList<>();
        for (PreparedExperiment.StepEntry step : exp.steps()) {
            StepStatus st = status(step.id());
            String state = st != null ? st.state() : step.id().equals(current) ? "running" : "pending";
            list.add(new RunSummary.StepState(step.id(), step.extension().name(), state, st == null ? 0 : st.seconds(),
                    st == null ? null : st.error()));
        }
        return list;
    }
}
