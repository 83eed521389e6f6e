package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults found against the CLI, each kept as a case: what is on disk before, the command, the exit code and message
 * fragment expected, and what must still be on disk afterwards. Everything runs through the real launcher.
 */
class RunSafetyFaultsTest {

    @TempDir
    Path work;

    /** Prepares the folder a case runs in and returns the command's arguments. */
    interface Fixture {
        List<String> prepare(Path dir) throws IOException;
    }

    /** What must hold on disk (and in the output) afterwards. */
    interface Remains {
        void check(Path dir, Launcher.Result r) throws IOException;
    }

    record Case(Fixture fixture, int code, String message, Remains remains) {
    }

    static Named<Case> fault(String name, Fixture fixture, int code, String message, Remains remains) {
        return Named.of(name, new Case(fixture, code, message, remains));
    }

    static String trainYaml(String output) {
        return """
                experiment: tiny-train
                seed: 3
                trainer: {type: tensorflow-cnn, output: OUTPUT, params: {epochs: 1, batchSize: 32}}
                data:
                  train: {source: synthetic-shapes, params: {split: train, count: 96}}
                  held-out: {source: synthetic-shapes, params: {split: test, count: 32}}
                """.replace("OUTPUT", output);
    }

    /** "trainer.output (line 3, col N)" for the YAML above, the column counted from the text itself. */
    static String outputPosition(String output) {
        String line = trainYaml(output).lines().toList().get(2);
        return "trainer.output (line 3, col " + (line.indexOf("output: ") + "output: ".length() + 1) + ")";
    }

    static Stream<Named<Case>> trainCases() {
        return Stream.of(
                fault("train into '.' (the experiment's own folder) is refused and deletes nothing", dir -> {
                    Files.writeString(dir.resolve("train.yaml"), trainYaml("."));
                    Files.writeString(dir.resolve("labels.csv"), "my data");
                    return List.of("train", dir.resolve("train.yaml").toString());
                }, 2, outputPosition(".") + " - ", (dir, r) -> {
                    assertTrue(r.err().contains("already holds 2 entries the trainer did not write (labels.csv, train.yaml)"), r.err());
                    assertTrue(r.err().contains("--force"), r.err());
                    assertEquals(trainYaml("."), Files.readString(dir.resolve("train.yaml")));
                    assertEquals("my data", Files.readString(dir.resolve("labels.csv")));
                    assertEquals(List.of("labels.csv", "train.yaml"), names(dir));
                }),
                fault("train onto an existing file is refused even with --force", dir -> {
                    Files.writeString(dir.resolve("train.yaml"), trainYaml("notes.txt"));
                    Files.writeString(dir.resolve("notes.txt"), "keep me");
                    return List.of("train", dir.resolve("train.yaml").toString(), "--force");
                }, 2, outputPosition("notes.txt") + " - " + "DIR/notes.txt is a file, not a folder", (dir, r) -> {
                    assertEquals("keep me", Files.readString(dir.resolve("notes.txt")));
                    assertEquals(List.of("notes.txt", "train.yaml"), names(dir));
                }),
                fault("train --force into a folder with other files adds the model and keeps them", dir -> {
                    Files.writeString(dir.resolve("train.yaml"), trainYaml("."));
                    Files.writeString(dir.resolve("labels.csv"), "my data");
                    return List.of("train", dir.resolve("train.yaml").toString(), "--force");
                }, 0, "model saved to DIR", (dir, r) -> {
                    assertEquals(trainYaml("."), Files.readString(dir.resolve("train.yaml")));
                    assertEquals("my data", Files.readString(dir.resolve("labels.csv")));
                    assertTrue(Files.isRegularFile(dir.resolve("saved_model.pb")));
                    String training = Files.readString(dir.resolve("training.json"));
                    assertTrue(training.contains("\"files\"") && training.contains("\"saved_model.pb\""), training);
                    assertFalse(training.contains("labels.csv"), "only the trainer's own files are listed");
                }),
                fault("train over an earlier model replaces the model's files, keeps the rest, needs no --force", dir -> {
                    Files.writeString(dir.resolve("train.yaml"), trainYaml("models/tiny"));
                    Path old = Files.createDirectories(dir.resolve("models/tiny/variables"));
                    Files.writeString(old.resolve("variables.index"), "old weights index");
                    Files.writeString(old.resolve("../saved_model.pb"), "old graph");
                    Files.writeString(old.resolve("../NOTES.md"), "how this model was used");
                    Files.writeString(old.resolve("../training.json"), "{\"trainer\": \"tensorflow-cnn\", \"metrics\": {\"accuracy\": 0.25}}");
                    return List.of("train", dir.resolve("train.yaml").toString());
                }, 0, "model saved to DIR/models/tiny", (dir, r) -> {
                    Path m = dir.resolve("models/tiny");
                    assertEquals("how this model was used", Files.readString(m.resolve("NOTES.md")));
                    assertNotEquals("old graph", Files.readString(m.resolve("saved_model.pb"), java.nio.charset.StandardCharsets.ISO_8859_1));
                    assertTrue(Files.size(m.resolve("variables/variables.index")) > 0);
                    assertNotEquals("old weights index", Files.readString(m.resolve("variables/variables.index"),
                            java.nio.charset.StandardCharsets.ISO_8859_1));
                    assertEquals(List.of("tiny"), names(dir.resolve("models")), "no partial or replaced folder is left beside it");
                }));
    }

    static final String MODEL = Launcher.ROOT.resolve("experiments/models/shapes-cnn").toString();

    /** A small experiment over the demo model; STEPS is replaced by the steps of a case. */
    static String runYaml(String steps) {
        return """
                experiment: safety
                model: {backend: tensorflow, path: MODEL}
                data:
                  probe: {source: synthetic-shapes, params: {split: decorrelated, count: 64}}
                steps:
                STEPS""".replace("MODEL", MODEL).replace("STEPS", steps);
    }

    static Stream<Named<Case>> runCases() {
        return Stream.of(
                fault("a step id naming a run file is refused before anything is written", dir -> {
                    Files.writeString(dir.resolve("exp.yaml"), runYaml("""
                              - {id: census, analyzer: activation-stats, layers: [dense1]}
                              - {id: provenance.json, analyzer: activation-stats, layers: [conv1]}
                            """));
                    return List.of("run", dir.resolve("exp.yaml").toString(), "--out", dir.resolve("out").toString());
                }, 2, "steps[1].id (line 7, col 10) - step id 'provenance.json' is reserved", (dir, r) -> {
                    assertTrue(r.err().contains("experiment.yaml, provenance.json, report.html, index.json, run.lock"), r.err());
                    assertFalse(Files.exists(dir.resolve("out")), "nothing is written for an invalid experiment");
                }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("runCases")
    void runNeverLosesWhatItWrote(Case c) throws Exception {
        run(c);
    }

    /** Two real processes started together into one --out: one runs, the other is refused; nothing of the first is lost. */
    @Test
    void twoRunsIntoOneFolderHaveOneWinnerAndItsResultsStay() throws Exception {
        Path dir = Files.createDirectories(work.resolve("race"));
        Path yaml = Files.writeString(dir.resolve("exp.yaml"), runYaml("  - {id: census, analyzer: activation-stats, layers: [dense1]}\n"));
        Path out = dir.resolve("out");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<Launcher.Result>> runs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            runs.add(pool.submit(() -> Launcher.run(dir, "run", yaml.toString(), "--out", out.toString())));
        }
        List<Launcher.Result> results = new ArrayList<>();
        for (Future<Launcher.Result> f : runs) {
            results.add(f.get(5, TimeUnit.MINUTES));
        }
        pool.shutdown();
        results.sort(Comparator.comparingInt(Launcher.Result::code));
        assertEquals(List.of(0, 2), results.stream().map(Launcher.Result::code).toList(), results.toString());
        String refused = results.get(1).err();
        assertTrue(refused.contains("is in use by another run") || refused.contains("exists and is not empty"), refused);
        assertTrue(results.get(0).out().trim().endsWith(out.toString()), results.get(0).out());
        JsonNode prov = new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
        assertEquals("completed", prov.get("status").asText());
        JsonNode census = new ObjectMapper().readTree(out.resolve("census/result.json").toFile());
        assertEquals(64, census.get("summary").get("examples").asInt());
    }

    static String twoDataYaml(int big) {
        return """
                experiment: interrupted
                model: {backend: tensorflow, path: MODEL}
                data:
                  small: {source: synthetic-shapes, params: {split: decorrelated, count: 64}}
                  big: {source: synthetic-shapes, params: {split: decorrelated, count: BIG}}
                steps:
                  - {id: small-census, analyzer: activation-stats, data: small, layers: [dense1]}
                  - {id: big-census, analyzer: activation-stats, data: big, layers: [dense1]}
                  - {id: hist, visualizer: histogram, inputs: [big-census]}
                """.replace("MODEL", MODEL).replace("BIG", String.valueOf(big));
    }

    static JsonNode provenance(Path out) throws IOException {
        return new ObjectMapper().readTree(out.resolve("provenance.json").toFile());
    }

    static List<String> states(JsonNode prov) {
        List<String> out = new ArrayList<>();
        prov.get("steps").forEach(s -> out.add(s.get("id").asText() + "=" + s.get("state").asText()
                + (s.path("reused").asBoolean() ? "(reused)" : "")));
        return out;
    }

    /** SIGTERM (what Process.destroy sends) to a real run in the middle of a pass. */
    @Test
    void sigtermStopsTheRunWithALineAndProvenanceSaysInterrupted() throws Exception {
        Path dir = Files.createDirectories(work.resolve("sigterm"));
        Path yaml = Files.writeString(dir.resolve("exp.yaml"), twoDataYaml(200_000));
        Path out = dir.resolve("out");
        Launcher.Started run = Launcher.start(dir, "run", yaml.toString(), "--out", out.toString(), "--no-cache");
        try {
            await(() -> run.err().contains("one pass over the examples of 'big'"), "the big pass to start");
            run.process().destroy();
            assertTrue(run.process().waitFor(2, TimeUnit.MINUTES));
        } finally {
            run.process().destroyForcibly();
        }
        Launcher.Result r = run.result();
        assertEquals(128 + 15, r.code(), r.all());
        assertTrue(r.err().contains("neuronmonkey: interrupted; stopping the run and recording its state in " + out.resolve("provenance.json")), r.err());
        assertTrue(r.err().contains("interrupted: 1 of 3 steps completed; the state is in " + out.resolve("provenance.json")
                + "; continue with: neuronmonkey run --resume " + out), r.err());
        JsonNode prov = provenance(out);
        assertEquals("interrupted", prov.get("status").asText());
        assertEquals("interrupted by a signal (SIGINT or SIGTERM)", prov.get("stopReason").asText());
        assertTrue(prov.has("finishedAt"));
        assertEquals(List.of("small-census=completed", "big-census=interrupted", "hist=not-run"), states(prov));
        assertEquals(List.of("experiment.yaml", "index.json", "provenance.json", "run.lock", "small-census"), names(out), "no partial folders");
    }

    /**
     * kill -9 leaves provenance saying "running"; the next run on the folder (here --resume; a plain run refuses the
     * folder, see RunSafetyTest) says what happened, corrects it and continues the run.
     */
    @Test
    void aKilledRunIsRecognisedByTheNextRunAndResumeCompletesIt() throws Exception {
        Path dir = Files.createDirectories(work.resolve("killed"));
        Path yaml = Files.writeString(dir.resolve("exp.yaml"), twoDataYaml(20_000));
        Path out = dir.resolve("out");
        Launcher.Started run = Launcher.start(dir, "run", yaml.toString(), "--out", out.toString());
        try {
            await(() -> run.err().contains("one pass over the examples of 'big'"), "the big pass to start");
            run.process().destroyForcibly();
            assertTrue(run.process().waitFor(1, TimeUnit.MINUTES));
        } finally {
            run.process().destroyForcibly();
        }
        assertEquals(128 + 9, run.process().exitValue());
        assertEquals("running", provenance(out).get("status").asText(), "a killed process records nothing more");
        assertEquals(List.of("small-census=completed"), states(provenance(out)), "but its progress was recorded as it went");

        Launcher.Result resumed = Launcher.run(dir, "run", "--resume", out.toString());
        assertEquals(0, resumed.code(), resumed.all());
        assertTrue(resumed.err().contains("note: " + out + ": the run there had died while running; its state is now 'interrupted'"),
                resumed.err());
        assertTrue(resumed.err().contains("reused     small-census"), resumed.err());
        JsonNode prov = provenance(out);
        assertEquals("completed", prov.get("status").asText());
        assertEquals(List.of("small-census=completed(reused)", "big-census=completed", "hist=completed"), states(prov));
        assertEquals("interrupted", prov.get("resumed").get(0).get("previousStatus").asText());
        assertEquals(20_000, new ObjectMapper().readTree(out.resolve("big-census/result.json").toFile()).get("summary").get("examples").asInt());
        assertEquals(List.of("big-census", "experiment.yaml", "hist", "index.json", "provenance.json", "run.lock", "small-census"), names(out));
    }

    static boolean canMountTmpfs(Path probe) {
        try {
            Process p = new ProcessBuilder("unshare", "-rm", "mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe.toString())
                    .redirectErrorStream(true).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /**
     * A full disk, for real: the run folder is on a 192 KiB tmpfs in a private mount namespace (unshare), so the
     * second step's 400 KB array cannot be written. The step fails with the cause, the others' results and the step
     * table stay, no partial folder is left, and provenance records the end.
     */
    @Test
    void aFullDiskFailsTheStepItHitsAndTheRunStillRecordsItsEnd() throws Exception {
        Path dir = Files.createDirectories(work.resolve("diskfull"));
        Path mnt = Files.createDirectories(dir.resolve("mnt"));
        Path copy = Files.createDirectories(dir.resolve("copy"));
        Assumptions.assumeTrue(canMountTmpfs(mnt), "needs unshare -rm and tmpfs (user and mount namespaces)");
        Path yaml = Files.writeString(dir.resolve("exp.yaml"), runYaml("""
                  - {id: census, analyzer: activation-stats, layers: [dense1]}
                  - {id: top, analyzer: top-activations, layers: [conv1], params: {k: 16}}
                  - {id: hist, visualizer: histogram, inputs: [census]}
                """));
        Path wrapper = Files.writeString(dir.resolve("on-small-disk.sh"), """
                mnt="$1"; copy="$2"; shift 2
                mount -t tmpfs -o size=192k tmpfs "$mnt" || exit 99
                "$@"; rc=$?
                cp -a "$mnt/out" "$copy/"
                exit $rc
                """);
        Launcher.Started run = Launcher.start(dir, List.of("unshare", "-rm", "bash", wrapper.toString(), mnt.toString(), copy.toString()),
                "run", yaml.toString(), "--out", mnt.resolve("out").toString(), "--no-cache");
        assertTrue(run.process().waitFor(5, TimeUnit.MINUTES));
        Launcher.Result r = run.result();
        assertEquals(1, r.code(), r.all());
        assertTrue(r.err().matches("(?s).*\\n  failed     top +[0-9.]+s  cannot write \\S+\\.npy: No space left on device\\n.*"), r.err());
        assertTrue(r.err().contains("  completed  census"), r.err());
        assertTrue(r.err().contains("  completed  hist"), r.err());
        Path out = copy.resolve("out");
        JsonNode prov = provenance(out);
        assertEquals("failed", prov.get("status").asText());
        assertEquals(List.of("census=completed", "top=failed", "hist=completed"), states(prov));
        assertTrue(prov.get("steps").get(1).get("error").asText().contains("No space left on device"));
        assertEquals(List.of("census", "experiment.yaml", "hist", "index.json", "provenance.json", "run.lock", "top.failed"), names(out),
                "no hidden partial folder is left");
        assertTrue(Files.readString(out.resolve("top.failed/error.txt")).contains("No space left on device"));
        assertEquals(64, new ObjectMapper().readTree(out.resolve("census/result.json").toFile()).get("summary").get("examples").asInt());
    }

    /**
     * Two start-ups on freshly copied bundles (160 MB with the TensorFlow one), added with --plugins: both unpack
     * them completely, and both refuse the copies only for their ids, which the shipped bundles already use.
     */
    @Test
    void twoFirstStartsOnFreshBundlesBothSeeTheBackend() throws Exception {
        Path bundles = Files.createDirectories(work.resolve("bundles"));
        try (Stream<Path> s = Files.list(Launcher.ROOT.resolve("plugins/target/bundles"))) {
            for (Path zip : s.filter(p -> p.toString().endsWith(".zip")).toList()) {
                try {
                    Files.createLink(bundles.resolve(zip.getFileName()), zip);
                } catch (IOException | UnsupportedOperationException e) {
                    Files.copy(zip, bundles.resolve(zip.getFileName()));
                }
            }
        }
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<Launcher.Result>> runs = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            runs.add(pool.submit(() -> Launcher.run(work, "plugins", "--plugins", bundles.toString())));
        }
        for (Future<Launcher.Result> f : runs) {
            Launcher.Result r = f.get(5, TimeUnit.MINUTES);
            assertEquals(0, r.code(), r.all());
            List<String> refused = r.out().lines().dropWhile(l -> !l.equals("refused:")).skip(1).toList();
            assertFalse(refused.isEmpty(), r.out());
            for (String line : refused) {
                assertTrue(line.contains("is already used by " + Launcher.ROOT.resolve("plugins/target/bundles")), line);
            }
            assertTrue(r.out().matches("(?s).*tensorflow-backend\\s+\\S+\\s+STARTED.*"), r.out());
            assertTrue(r.out().contains("tensorflow-cnn"), r.out());
        }
        pool.shutdown();
        try (Stream<Path> s = Files.list(bundles)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().contains(".unpack-")), "no half-unpacked folder is left");
        }
        try (Stream<Path> s = Files.list(bundles)) {
            for (Path zip : s.filter(p -> p.toString().endsWith(".zip")).toList()) {
                String name = zip.getFileName().toString();
                assertTrue(Files.isRegularFile(bundles.resolve(name.substring(0, name.length() - 4)).resolve(".neuronmonkey-unpacked")),
                        name + " unpacked completely");
            }
        }
    }

    /**
     * Two first runs of the launcher on a checkout that needs building: the second waits for the first one's build
     * and says so, and the build runs once. A copy of the launcher in a fake checkout whose mvnw only records that it
     * ran and waits for a go file, and whose java only says it ran.
     */
    @Test
    void twoFirstLaunchesBuildOnceAndTheSecondSaysItWaits() throws Exception {
        Path home = Files.createDirectories(work.resolve("checkout"));
        Files.copy(Launcher.ROOT.resolve("neuronmonkey"), home.resolve("neuronmonkey"));
        Files.writeString(home.resolve("mvnw"), """
                #!/usr/bin/env bash
                echo "build $$" >> builds.log
                touch building
                while [ ! -e go ]; do sleep 0.05; done
                mkdir -p framework-runtime/target/lib plugins/target/bundles
                touch framework-runtime/target/framework-runtime-0.0.0.jar plugins/target/bundles/fake.zip
                """);
        Path java = Files.createDirectories(home.resolve("jdk/bin")).resolve("java");
        Files.writeString(java, "#!/usr/bin/env bash\necho \"java ran\"\n");
        for (Path x : List.of(home.resolve("mvnw"), java)) {
            x.toFile().setExecutable(true);
        }
        for (String d : List.of("framework-api", "framework-runtime", "plugins")) {
            Files.createDirectories(home.resolve(d));
        }
        Files.writeString(home.resolve("pom.xml"), "<project/>");
        Process first = launch(home, "a");
        Process second = null;
        try {
            await(() -> Files.exists(home.resolve("building")), "the first launch to start its build");
            second = launch(home, "b");
            await(() -> Files.readString(home.resolve("b.err")).contains("waiting for another neuronmonkey build in " + home),
                    "the second launch to say it waits");
            assertEquals(1, Files.readAllLines(home.resolve("builds.log")).size());
            Files.writeString(home.resolve("go"), "");
            assertTrue(first.waitFor(2, TimeUnit.MINUTES) && second.waitFor(2, TimeUnit.MINUTES));
        } finally {
            first.destroyForcibly();
            if (second != null) {
                second.destroyForcibly();
            }
        }
        assertEquals(0, first.exitValue(), Files.readString(home.resolve("a.err")));
        assertEquals(0, second.exitValue(), Files.readString(home.resolve("b.err")));
        assertEquals(1, Files.readAllLines(home.resolve("builds.log")).size(), "one build for two first runs");
        assertTrue(Files.readString(home.resolve("a.err")).contains("building the runtime and plugin bundles"));
        assertEquals("java ran\n", Files.readString(home.resolve("a.out")));
        assertEquals("java ran\n", Files.readString(home.resolve("b.out")));
    }

    private static Process launch(Path home, String name) throws IOException {
        ProcessBuilder pb = new ProcessBuilder("bash", home.resolve("neuronmonkey").toString(), "--version").directory(home.toFile());
        pb.environment().remove("NEURONMONKEY_SKIP_BUILD");
        pb.environment().put("JAVA_HOME", home.resolve("jdk").toString());
        pb.redirectOutput(home.resolve(name + ".out").toFile()).redirectError(home.resolve(name + ".err").toFile());
        return pb.start();
    }

    interface Condition {
        boolean holds() throws IOException;
    }

    private static void await(Condition c, String what) throws Exception {
        for (int i = 0; i < 1200; i++) {
            if (c.holds()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("gave up waiting for " + what);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("trainCases")
    void trainNeverLosesWhatItDidNotWrite(Case c) throws Exception {
        run(c);
    }

    private void run(Case c) throws Exception {
        Path dir = Files.createDirectories(work.resolve("case"));
        Path launcherDir = Files.createDirectories(work.resolve("launcher"));
        List<String> args = c.fixture().prepare(dir);
        Launcher.Result r = Launcher.run(launcherDir, args.toArray(String[]::new));
        assertEquals(c.code(), r.code(), r.all());
        String message = c.message().replace("DIR", dir.toString());
        assertTrue(r.all().contains(message), "expected '" + message + "' in:\n" + r.all());
        c.remains().check(dir, r);
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
