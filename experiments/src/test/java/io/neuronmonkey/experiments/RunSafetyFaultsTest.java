package io.neuronmonkey.experiments;

import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
