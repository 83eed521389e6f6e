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
import io.neuronmonkey.runtime.store.AtomicFiles;
import io.neuronmonkey.runtime.store.Json;
import io.neuronmonkey.runtime.store.ResultCodec;
import io.neuronmonkey.runtime.store.RunIndex;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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

/**
 * Runs a prepared experiment into an output folder. Streaming analyzers that read the same data share ONE pass of
 * the model (the union of their layers captured in one run per batch, each fed only its own layers). Each step
 * writes into a hidden partial folder that is moved into place only when the step succeeded; a failed step leaves
 * {@code <id>.failed/error.txt} instead, and the steps that depend on it are skipped while independent ones run.
 */
public final class ExperimentRunner {

    /** How one step ended. */
    public record StepStatus(String id, String state, double seconds, String error) {
        public boolean ok() {
            return state.equals("completed");
        }
    }

    /** How the run ended. */
    public record Outcome(Path outDir, List<StepStatus> steps) {
        public boolean ok() {
            return steps.stream().allMatch(StepStatus::ok);
        }
    }

    private final PreparedExperiment exp;
    private final Path out;
    private final Environment env;
    private final Provenance provenance;
    private final Map<String, StepOutput> outputs = new LinkedHashMap<>();
    private final Map<String, StepStatus> statuses = new LinkedHashMap<>();
    private final RunOptions options;
    private final List<String> passNotes = new ArrayList<>();
    private final Map<String, InputCheck> inputChecks = new LinkedHashMap<>();
    private final Set<String> warned = new java.util.HashSet<>();

    private ExperimentRunner(PreparedExperiment exp, Path out, Environment env, Provenance provenance, RunOptions options) {
        this.exp = exp;
        this.out = out;
        this.env = env;
        this.provenance = provenance;
        this.options = options;
    }

    public static Outcome run(PreparedExperiment exp, Path out, Environment env, Provenance provenance) {
        return run(exp, out, env, provenance, RunOptions.sequential());
    }

    public static Outcome run(PreparedExperiment exp, Path out, Environment env, Provenance provenance, RunOptions options) {
        return new ExperimentRunner(exp, out, env, provenance, options).run();
    }

    private Outcome run() {
        try {
            Files.createDirectories(out);
        } catch (IOException e) {
            throw new OutputException("cannot create output folder " + out + ": " + e.getMessage(), e);
        }
        AtomicFiles.write(out.resolve("experiment.yaml"), exp.config().text().getBytes(StandardCharsets.UTF_8));
        provenance.writeStarted(out);
        List<PreparedExperiment.StepEntry> steps = exp.steps();
        for (PreparedExperiment.StepEntry step : steps) {
            if (statuses.containsKey(step.id())) {
                continue;
            }
            Optional<String> blocked = step.spec().inputs().stream().filter(i -> !statuses.get(i).ok()).findFirst();
            if (blocked.isPresent()) {
                statuses.put(step.id(), new StepStatus(step.id(), "skipped", 0, "input step '" + blocked.get() + "' did not complete"));
                continue;
            }
            if (step.extension().instance() instanceof StreamingAnalyzer<?> && step.spec().inputs().isEmpty()) {
                List<PreparedExperiment.StepEntry> group = new ArrayList<>();
                for (PreparedExperiment.StepEntry other : steps) {
                    if (!statuses.containsKey(other.id()) && other.extension().instance() instanceof StreamingAnalyzer<?>
                            && other.spec().inputs().isEmpty() && step.data().equals(other.data())) {
                        group.add(other);
                    }
                }
                runFused(group);
            } else if (step.spec().kind() == ExperimentConfig.Kind.ANALYZER) {
                runAnalyzer(step);
            } else {
                runVisualizer(step);
            }
        }
        AtomicFiles.deleteTree(out.resolve(".work"));
        Map<String, Object> nonFinite = new LinkedHashMap<>();
        inputChecks.forEach((name, check) -> nonFinite.put(name, check.summary()));
        provenance.nonFiniteInputs(nonFinite);
        List<StepStatus> list = List.copyOf(statuses.values());
        provenance.writeFinished(out, list, options, passNotes);
        RunIndex.write(out, exp.config().name(), list.stream().map(st -> new RunIndex.Step(st.id(), st.state())).toList());
        return new Outcome(out, list);
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
        List<String> fetch = List.copyOf(union);
        env.progress().start("one pass over the examples of '" + group.get(0).data() + "' for " + String.join(", ", live.keySet()),
                data.info().size());
        try {
            ActivationCache.Plan cache = ActivationCache.plan(options, exp, group.get(0).data(), fetch);
            FusedPass.Activations source = (b, i) -> exp.model().run(b.inputs(), fetch);
            List<FusedPass.Consumer> all = new ArrayList<>(consumers);
            ActivationCache.Writer writer = null;
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
            for (FusedPass.Failure f : failures) {
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
            }
        } catch (RuntimeException e) {
            for (String id : live.keySet()) {
                fail(byId.get(id), e, t0);
            }
            live.clear();
        } finally {
            env.progress().finish();
            warnNonFinite(check);
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

    @SuppressWarnings({"unchecked", "rawtypes"})
    private void runAnalyzer(PreparedExperiment.StepEntry s) {
        long t0 = System.nanoTime();
        InputCheck check = s.data() == null ? null : inputCheck(s.data());
        Dataset data = check == null ? null : check.dataset();
        env.progress().start("step '" + s.id() + "'" + (data == null ? "" : " over the examples of '" + s.data() + "'"),
                data == null ? -1 : data.info().size());
        try {
            int before = check == null ? 0 : check.passCount();
            AnalysisResult r = ((Analyzer) s.extension().instance()).analyze(analysisContext(s, data));
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
        Path work = out.resolve(".work").resolve(s.id());
        return new Contexts.Analysis<>(env, s.id(), s.params(), exp.model(), data, s.layers(), exp.config().batchSize(), inputs, work);
    }

    private Path partialDir(String id) {
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
            Path target = out.resolve(s.id());
            AtomicFiles.deleteTree(target);
            AtomicFiles.move(partial, target);
            outputs.put(s.id(), new StepOutput(s.id(), s.spec().kind().key(), s.extension().name(), s.data(),
                    Optional.ofNullable(result), artifacts));
            statuses.put(s.id(), new StepStatus(s.id(), "completed", seconds, null));
        } catch (IOException | RuntimeException e) {
            fail(s, e, t0);
        }
    }

    private void fail(PreparedExperiment.StepEntry s, Exception e, long t0) {
        double seconds = (System.nanoTime() - t0) / 1e9;
        String message = e instanceof NeuronMonkeyException ? e.getMessage() : e.toString();
        statuses.put(s.id(), new StepStatus(s.id(), "failed", seconds, message));
        Path partial = out.resolve("." + s.id() + ".partial");
        Path failed = out.resolve(s.id() + ".failed");
        try {
            StringWriter trace = new StringWriter();
            e.printStackTrace(new PrintWriter(trace));
            AtomicFiles.deleteTree(failed);
            Files.createDirectories(partial);
            Files.writeString(partial.resolve("error.txt"), "step '" + s.id() + "' failed: " + message + "\n\n" + trace);
            AtomicFiles.move(partial, failed);
        } catch (IOException | RuntimeException ignored) {
            // the status above still records the failure
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
            StepStatus st = statuses.get(step.id());
            String state = st != null ? st.state() : step.id().equals(current) ? "running" : "pending";
            list.add(new RunSummary.StepState(step.id(), step.extension().name(), state, st == null ? 0 : st.seconds(),
                    st == null ? null : st.error()));
        }
        return list;
    }
}
