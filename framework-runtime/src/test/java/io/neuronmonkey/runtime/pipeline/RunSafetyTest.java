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
                valid.model(), valid.data(), List.copyOf(steps), valid.trainer(), valid.plain());
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
        assertTrue(after.getMessage().contains("exists and is not empty (provenance.json)"), after.getMessage());
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
        assertTrue(e.getMessage().contains("exists and is not empty (thesis.txt); results are never written over"), e.getMessage());
        ConfigException r = assertThrows(ConfigException.class, () -> RunFolder.claim(mine, RunFolder.Mode.RESUME));
        assertTrue(r.getMessage().contains("is not a run folder: it has no provenance.json"), r.getMessage());
        try (var s = Files.list(mine)) {
            assertEquals(List.of(mine.resolve("thesis.txt")), s.toList());
        }
    }
}
