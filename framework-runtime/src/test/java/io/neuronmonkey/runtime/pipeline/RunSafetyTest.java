package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.runtime.LockHolder;
import io.neuronmonkey.runtime.TestBundles;
import io.neuronmonkey.runtime.TestPluginSources;
import io.neuronmonkey.runtime.config.ConfigProblem;
import io.neuronmonkey.runtime.config.ConfigValidationException;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.cli.Main;
import io.neuronmonkey.runtime.plugin.ExtensionPoints;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.store.Json;
import io.neuronmonkey.runtime.store.RunFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Run folders: reserved names, one writer per folder, truthful state after faults, resuming and the leftovers of dead runs. */
class RunSafetyTest {

    @TempDir
    static Path work;
    static Path plugins;

    @BeforeAll
    static void setUp() throws IOException {
        plugins = work.resolve("plugins");
        TestBundles.bundle(plugins, work, TestBundles.properties("linear-test", "1.0.0"), TestPluginSources.linearPlugin());
        Files.writeString(work.resolve("model.bin"), "weights are in the backend");
    }

    static String yaml(String name, String steps) {
        return "experiment: " + name + "\nseed: 7\nbatchSize: 8\nmodel:\n  backend: linear\n  path: model.bin\n"
                + "data:\n  rows:\n    source: table\n    params: {count: 50}\nsteps:\n" + steps;
    }

    @Test
    void stepIdsNamedLikeRunFilesAreRefusedWithTheirPositionAndTheReservedNames() {
        String text = yaml("reserved", """
                  - id: provenance.json
                    analyzer: sum
                  - id: Report.HTML
                    visualizer: text
                  - id: census.failed
                    analyzer: sum
                  - id: run.lock
                    analyzer: sum
                  - id: census
                    analyzer: sum
                """);
        ConfigValidationException e = assertThrows(ConfigValidationException.class,
                () -> ExperimentParser.parse(work.resolve("reserved.yaml"), text));
        List<String> lines = e.problems().stream().map(ConfigProblem::toString).toList();
        assertEquals(4, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("steps[0].id (line 12, col 9) - step id 'provenance.json' is reserved"), lines.get(0));
        assertTrue(lines.get(0).contains("experiment.yaml, provenance.json, report.html, index.json, run.lock"), lines.get(0));
        assertTrue(lines.get(1).startsWith("steps[1].id (line 14, col 9) - step id 'Report.HTML' is reserved"), lines.get(1));
        assertTrue(lines.get(2).startsWith("steps[2].id (line 16, col 9) - step id 'census.failed' is reserved"), lines.get(2));
        assertTrue(lines.get(2).contains("'<id>.failed' folders of failed steps"), lines.get(2));
        assertTrue(lines.get(3).startsWith("steps[3].id (line 18, col 9) - step id 'run.lock' is reserved"), lines.get(3));
    }

    /** A config that got past validation some other way (a Java caller) still cannot write over the run's files. */
    @Test
    void aReservedIdIsAlsoRefusedWhenTheStepWouldWrite() throws IOException {
        ExperimentConfig valid = ExperimentParser.parse(work.resolve("guard.yaml"), yaml("guard", """
                  - id: placeholder
                    analyzer: sum
                  - id: fine
                    analyzer: sum
                """));
        List<ExperimentConfig.StepSpec> steps = new ArrayList<>(valid.steps());
        ExperimentConfig.StepSpec s = steps.get(0);
        steps.set(0, new ExperimentConfig.StepSpec(s.index(), "provenance.json", s.kind(), s.extension(), s.extensionNode(), s.data(),
                s.dataNode(), s.layers(), s.layerNodes(), s.paramsNode(), s.inputs(), s.inputNodes(), s.node()));
        ExperimentConfig config = new ExperimentConfig(valid.file(), valid.text(), valid.name(), valid.seed(), valid.batchSize(),
                valid.model(), valid.data(), List.copyOf(steps), valid.trainer(), valid.plugins(), valid.plain(), valid.problems());
        Path out = work.resolve("out-guard");
        try (PluginHost host = PluginHost.start(plugins, "0.1.0")) {
            Environment env = new Environment(config, ProgressReporter.NONE, new AtomicBoolean());
            try (PreparedExperiment p = Preparer.prepare(config, host.registry(), env, true)) {
                ExperimentRunner.Outcome o = ExperimentRunner.run(p, out, env, Provenance.of(p, host.plugins(), "0.1.0"));
                assertEquals("failed", o.steps().get(0).state());
                assertTrue(o.steps().get(0).error().contains("step id 'provenance.json' is reserved"), o.steps().get(0).error());
                assertEquals("completed", o.steps().get(1).state());
            }
        }
        Map<String, Object> prov = Json.readMap(out.resolve(RunFolder.PROVENANCE));
        assertEquals("failed", prov.get("status"), "provenance.json is still the run's own, not a step folder");
        assertTrue(Files.isDirectory(out.resolve("fine")));
        assertFalse(Files.exists(out.resolve("provenance.json.failed")));
    }

    @Test
    void runsRacingForOneFolderHaveExactlyOneWinner() throws Exception {
        Path out = work.resolve("out-race");
        int n = 8;
        CyclicBarrier start = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        List<Future<RunFolder>> claims = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            claims.add(pool.submit(() -> {
                start.await();
                return RunFolder.claim(out, RunFolder.Mode.NEW);
            }));
        }
        List<RunFolder> winners = new ArrayList<>();
        List<String> refusals = new ArrayList<>();
        for (Future<RunFolder> f : claims) {
            try {
                winners.add(f.get(30, TimeUnit.SECONDS));
            } catch (ExecutionException e) {
                assertTrue(e.getCause() instanceof ConfigException, e.getCause().toString());
                refusals.add(e.getCause().getMessage());
            }
        }
        pool.shutdown();
        assertEquals(1, winners.size(), refusals.toString());
        for (String r : refusals) {
            assertTrue(r.contains("is in use by another run") && r.contains("choose another --out"), r);
        }
        try (RunFolder winner = winners.get(0)) {
            Files.writeString(out.resolve(RunFolder.PROVENANCE), "{\"status\": \"completed\"}");
        }
        ConfigException after = assertThrows(ConfigException.class, () -> RunFolder.claim(out, RunFolder.Mode.NEW));
        assertTrue(after.getMessage().contains("exists and is not empty; results are never written over") && after.getMessage().contains("(it holds provenance.json)"), after.getMessage());
    }

    /** The lock is the operating system's: another process holding it refuses the claim, and its death releases it. */
    @Test
    void aClaimHeldByAnotherProcessIsRefusedUntilThatProcessDies() throws Exception {
        Path out = Files.createDirectories(work.resolve("out-other-process"));
        try (LockHolder other = LockHolder.lock(out.resolve(RunFolder.LOCK), work)) {
            ConfigException busy = assertThrows(ConfigException.class, () -> RunFolder.claim(out, RunFolder.Mode.NEW));
            assertTrue(busy.getMessage().startsWith("output folder " + out + " is in use by another run"), busy.getMessage());
        }
        try (RunFolder mine = RunFolder.claim(out, RunFolder.Mode.NEW)) {
            assertEquals(out, mine.dir());
            assertTrue(Files.readString(out.resolve(RunFolder.LOCK)).startsWith("pid " + ProcessHandle.current().pid() + " on "));
        }
    }

    @Test
    void aFolderThatIsNotARunGetsNothingWrittenIntoIt() throws IOException {
        Path mine = Files.createDirectories(work.resolve("my-documents"));
        Files.writeString(mine.resolve("thesis.txt"), "years of work");
        ConfigException e = assertThrows(ConfigException.class, () -> RunFolder.claim(mine, RunFolder.Mode.NEW));
        assertTrue(e.getMessage().contains("exists and is not empty; results are never written over: choose another --out or remove it (it holds thesis.txt)"), e.getMessage());
        ConfigException r = assertThrows(ConfigException.class, () -> RunFolder.claim(mine, RunFolder.Mode.RESUME));
        assertTrue(r.getMessage().contains("is not a run folder: it has no provenance.json"), r.getMessage());
        try (var s = Files.list(mine)) {
            assertEquals(List.of(mine.resolve("thesis.txt")), s.toList());
        }
    }

    /** Interrupts the runner once a pass whose task names {@code dataName} has fed {@code batches} batches. */
    static final class InterruptDuring implements ProgressReporter {
        final String dataName;
        final int batches;
        ExperimentRunner runner;
        boolean inPass;
        int seen;

        InterruptDuring(String dataName, int batches) {
            this.dataName = dataName;
            this.batches = batches;
        }

        @Override
        public void start(String task, long total) {
            inPass = task.contains("examples of '" + dataName + "'");
            seen = 0;
        }

        @Override
        public void advance(long done) {
            if (inPass && ++seen == batches) {
                runner.interrupt("stopped by the test");
            }
        }
    }

    static final String FIVE_STEPS = """
            experiment: resumable
            seed: 7
            batchSize: 8
            model: {backend: linear, path: model.bin}
            data:
              rows: {source: table, params: {count: 50}}
              more: {source: table, params: {count: 30}}
            steps:
              - {id: a, analyzer: sum, data: rows, layers: [hidden], params: {weight: WEIGHT}}
              - {id: c, analyzer: sum, data: rows, layers: [logits]}
              - {id: v, visualizer: text, inputs: [a]}
              - {id: b, analyzer: sum, data: more, layers: [hidden]}
              - {id: w, visualizer: text, inputs: [b]}
            """;

    @SuppressWarnings("unchecked")
    static Map<String, Map<String, Object>> stepsOf(Map<String, Object> prov) {
        Map<String, Map<String, Object>> out = new java.util.LinkedHashMap<>();
        for (Object o : (List<Object>) prov.get("steps")) {
            Map<String, Object> m = (Map<String, Object>) o;
            out.put((String) m.get("id"), m);
        }
        return out;
    }

    @Test
    @SuppressWarnings("unchecked")
    void anInterruptedRunRecordsItsStateAndResumeRerunsOnlyWhatChangedOrDidNotComplete() throws Exception {
        Path yaml = Files.writeString(work.resolve("resumable.yaml"), FIVE_STEPS.replace("WEIGHT", "1.0"));
        Path out = work.resolve("out-resumable");
        Object[] firstStartedAt = new Object[1];
        ExperimentConfig config = ExperimentParser.parse(yaml);
        try (PluginHost host = PluginHost.start(plugins, "0.1.0")) {
            AtomicInteger runs = (AtomicInteger) host.registry().require(ExtensionPoints.BACKEND, "linear").instance().getClass()
                    .getField("RUNS").get(null);
            InterruptDuring progress = new InterruptDuring("more", 2);
            Environment env = new Environment(config, progress, new AtomicBoolean());
            try (PreparedExperiment p = Preparer.prepare(config, host.registry(), env, true);
                 RunFolder claim = RunFolder.claim(out, RunFolder.Mode.NEW)) {
                ExperimentRunner runner = ExperimentRunner.create(p, out, env, Provenance.of(p, host.plugins(), "0.1.0"), RunOptions.sequential());
                progress.runner = runner;
                ExperimentRunner.Outcome o = runner.run();
                assertTrue(o.interrupted(), o.toString());
            }
            Map<String, Object> first = Json.readMap(out.resolve(RunFolder.PROVENANCE));
            firstStartedAt[0] = first.get("startedAt");
            assertEquals("interrupted", first.get("status"));
            assertEquals("stopped by the test", first.get("stopReason"));
            assertTrue(first.containsKey("finishedAt"));
            Map<String, Map<String, Object>> steps = stepsOf(first);
            assertEquals(List.of("a", "c", "v", "b", "w"), List.copyOf(steps.keySet()));
            assertEquals(List.of("completed", "completed", "completed", "interrupted", "not-run"),
                    steps.values().stream().map(m -> m.get("state")).toList());
            assertFalse(Files.exists(out.resolve("b")) || Files.exists(out.resolve("b.failed")), "an interrupted step leaves no output");
            try (var files = Files.list(out)) {
                assertEquals(List.of("a", "c", "experiment.yaml", "index.json", "provenance.json", "report.html", "run.lock", "v"),
                        files.map(f -> f.getFileName().toString()).sorted().toList(), "no partial folders are left");
            }

            // resume with a's weight changed: a and v (which reads a) run again, c is reused, b and w run
            Files.writeString(yaml, FIVE_STEPS.replace("WEIGHT", "2.0"));
            ExperimentConfig changed = ExperimentParser.parse(yaml);
            Environment env2 = new Environment(changed, ProgressReporter.NONE, new AtomicBoolean());
            try (PreparedExperiment p = Preparer.prepare(changed, host.registry(), env2, true);
                 RunFolder claim = RunFolder.claim(out, RunFolder.Mode.RESUME)) {
                int before = runs.get();
                Provenance prov = Provenance.of(p, host.plugins(), "0.1.0");
                assertEquals(List.of(), prov.modelOrDataDifferences(first));
                ExperimentRunner.Outcome o = ExperimentRunner.resume(p, out, env2, prov, RunOptions.sequential(), first).run();
                assertTrue(o.ok(), o.toString());
                assertEquals(7 + 4, runs.get() - before, "one pass over 'rows' for a alone (7 batches) and one over 'more' (4)");
            }
        }
        Map<String, Object> second = Json.readMap(out.resolve(RunFolder.PROVENANCE));
        assertEquals("completed", second.get("status"));
        assertFalse(second.containsKey("stopReason"));
        Map<String, Map<String, Object>> steps = stepsOf(second);
        assertEquals(List.of(false, true, false, false, false), steps.values().stream().map(m -> Boolean.TRUE.equals(m.get("reused"))).toList());
        assertEquals(firstStartedAt[0], second.get("startedAt"), "a resumed run keeps the time it first started");
        List<Map<String, Object>> resumed = (List<Map<String, Object>>) second.get("resumed");
        assertEquals(1, resumed.size());
        assertEquals("interrupted", resumed.get(0).get("previousStatus"));
        double[] expected = PipelineTest.hiddenSums(50);
        Map<String, Object> a = (Map<String, Object>) Json.readMap(out.resolve("a/result.json")).get("summary");
        List<Number> sums = (List<Number>) ((Map<String, Object>) a.get("sums")).get("hidden");
        for (int j = 0; j < 4; j++) {
            assertEquals(2 * expected[j], sums.get(j).doubleValue(), 1e-4, "a was computed again with weight 2");
        }
        double[] more = PipelineTest.hiddenSums(30);
        Map<String, Object> b = (Map<String, Object>) Json.readMap(out.resolve("b/result.json")).get("summary");
        assertEquals(more[2], ((List<Number>) ((Map<String, Object>) b.get("sums")).get("hidden")).get(2).doubleValue(), 1e-4);
        assertEquals("b sum\n", Files.readString(out.resolve("w/inputs.txt")));
    }

    record Cli(int code, String out, String err) {
    }

    static Cli cli(String... args) {
        java.io.PrintStream oldOut = System.out;
        java.io.PrintStream oldErr = System.err;
        java.io.ByteArrayOutputStream o = new java.io.ByteArrayOutputStream();
        java.io.ByteArrayOutputStream e = new java.io.ByteArrayOutputStream();
        try {
            System.setOut(new java.io.PrintStream(o, true, java.nio.charset.StandardCharsets.UTF_8));
            System.setErr(new java.io.PrintStream(e, true, java.nio.charset.StandardCharsets.UTF_8));
            int code = Main.execute(args);
            return new Cli(code, o.toString(java.nio.charset.StandardCharsets.UTF_8), e.toString(java.nio.charset.StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void resumeIsRefusedForADifferentModelOrDataACompletedRunOrAFolderThatIsNoRun() throws IOException {
        Path yaml = Files.writeString(work.resolve("refuse.yaml"), yaml("refuse", "  - {id: a, analyzer: sum}\n"));
        Path out = work.resolve("out-refuse");
        assertEquals(0, cli("run", yaml.toString(), "--out", out.toString(), "--plugins", plugins.toString()).code());
        Cli done = cli("run", "--resume", out.toString(), "--plugins", plugins.toString());
        assertEquals(2, done.code(), done.err());
        assertTrue(done.err().contains("the run in " + out + " completed; there is nothing to resume"), done.err());

        // make it an interrupted run, then resume it with other data
        Map<String, Object> prov = new java.util.LinkedHashMap<>(Json.readMap(out.resolve(RunFolder.PROVENANCE)));
        prov.put("status", "interrupted");
        Json.write(out.resolve(RunFolder.PROVENANCE), prov);
        Path other = Files.writeString(work.resolve("refuse-other.yaml"), yaml("refuse", "  - {id: a, analyzer: sum}\n")
                .replace("count: 50", "count: 40").replace("path: model.bin", "path: model.bin\n  scale: 2.0"));
        Cli r = cli("run", other.toString(), "--resume", out.toString(), "--plugins", plugins.toString());
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("cannot resume the run in " + out + ": the experiment differs from it in model or data"), r.err());
        assertTrue(r.err().contains("model.params: the run had { \"scale\" : 1.0 }, the experiment has { \"scale\" : 2.0 }"), r.err());
        assertTrue(r.err().matches("(?s).*data\\.rows\\.params: the run had \\{ \"count\" : 50, [^}]*}, the experiment has \\{ \"count\" : 40, .*"), r.err());
        assertTrue(r.err().contains("data.rows.size: the run had 50, the experiment has 40"), r.err());
        assertEquals("interrupted", Json.readMap(out.resolve(RunFolder.PROVENANCE)).get("status"), "a refused resume changes nothing");

        Cli notRun = cli("run", "--resume", work.resolve("plugins").toString(), "--plugins", plugins.toString());
        assertEquals(2, notRun.code());
        assertTrue(notRun.err().contains("is not a run folder: it has no readable provenance.json"), notRun.err());

        Cli same = cli("run", "--resume", out.toString(), "--plugins", plugins.toString());
        assertEquals(0, same.code(), same.err());
        assertTrue(same.err().contains("reused     a"), same.err());
        assertEquals("completed", Json.readMap(out.resolve(RunFolder.PROVENANCE)).get("status"));
    }

    /** What a kill -9 leaves: provenance saying "running", partial folders. The next run on the folder sets both right. */
    @Test
    @SuppressWarnings("unchecked")
    void theLeftoversOfAKilledRunAreRecognisedByNameAndItsStateCorrected() throws IOException {
        Path out = Files.createDirectories(work.resolve("out-killed"));
        Files.writeString(out.resolve(RunFolder.EXPERIMENT), yaml("killed", "  - {id: a, analyzer: sum}\n  - {id: b, analyzer: explode}\n"));
        Json.write(out.resolve(RunFolder.PROVENANCE), Map.of("experiment", "killed", "status", "running",
                "resolvedSteps", List.of(Map.of("id", "a"), Map.of("id", "b")),
                "steps", List.of(Map.of("id", "a", "state", "completed", "seconds", 0.5))));
        Files.createDirectories(out.resolve("a"));
        Files.writeString(out.resolve("a/result.json"), "{}");
        Files.createDirectories(out.resolve(".b.partial"));
        Files.writeString(out.resolve(".b.partial/half.npy"), "half written");
        Files.createDirectories(out.resolve(".work/b"));
        Files.writeString(out.resolve(".provenance.json.tmp"), "{\"stat");
        Files.writeString(out.resolve(".notes"), "a hidden file of the user's");
        Files.createDirectories(out.resolve(".my.partial.backup"));
        ConfigException e = assertThrows(ConfigException.class, () -> RunFolder.claim(out, RunFolder.Mode.NEW));
        assertTrue(e.getMessage().contains("the run there ended interrupted, to continue it: neuronmonkey run --resume " + out), e.getMessage());
        assertTrue(e.getMessage().contains("the run there had died while running; its state is now 'interrupted' and its partial output"
                + " (.b.partial, .provenance.json.tmp, .work) was removed"), e.getMessage());
        Map<String, Object> prov = Json.readMap(out.resolve(RunFolder.PROVENANCE));
        assertEquals("interrupted", prov.get("status"));
        assertTrue(((String) prov.get("stopReason")).startsWith("the process ended without recording its end"), (String) prov.get("stopReason"));
        assertEquals(List.of("completed", "not-run"), stepsOf(prov).values().stream().map(m -> m.get("state")).toList());
        try (var files = Files.list(out)) {
            assertEquals(List.of(".my.partial.backup", ".notes", "a", "experiment.yaml", "provenance.json", "run.lock"),
                    files.map(f -> f.getFileName().toString()).sorted().toList(), "only what the runtime names as partial goes");
        }
    }
}
