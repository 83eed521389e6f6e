package io.neuronmonkey.runtime.store;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What the trainer may replace: its own earlier model, never anything else, and never by deleting first. */
class ModelFolderTest {

    @TempDir
    Path work;

    private static void write(Path f, String text) throws IOException {
        Files.createDirectories(f.getParent());
        Files.writeString(f, text);
    }

    /** A freshly trained model in the partial folder, as TrainRunner leaves it before install. */
    private Path newModel(ModelFolder folder) throws IOException {
        Path p = folder.partial();
        write(p.resolve("saved_model.pb"), "new graph");
        write(p.resolve("variables/variables.index"), "new index");
        write(p.resolve("training.json"), "{\"trainer\": \"t\", \"metrics\": {}, \"files\": "
                + "[\"saved_model.pb\", \"variables/variables.index\", \"training.json\"]}");
        return p;
    }

    private List<String> siblings() throws IOException {
        try (Stream<Path> s = Files.list(work)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aNewFolderReceivesTheModelByRename() throws IOException {
        ModelFolder f = ModelFolder.inspect(work.resolve("models/m"));
        assertEquals(ModelFolder.Kind.ABSENT, f.kind());
        assertTrue(f.refusal(false).isEmpty());
        assertEquals(List.of(), f.install(newModel(f)));
        assertEquals("new graph", Files.readString(work.resolve("models/m/saved_model.pb")));
        assertFalse(Files.exists(f.partial()));
    }

    @Test
    void anEarlierModelWithoutAFileListIsReplacedWhole() throws IOException {
        Path m = work.resolve("m");
        write(m.resolve("saved_model.pb"), "old graph");
        write(m.resolve("variables/variables.index"), "old index");
        write(m.resolve("training.json"), "{\"trainer\": \"t\", \"metrics\": {\"accuracy\": 0.5}}");
        ModelFolder f = ModelFolder.inspect(m);
        assertEquals(ModelFolder.Kind.MODEL, f.kind());
        assertTrue(f.refusal(false).isEmpty(), "an earlier model needs no --force");
        assertEquals(List.of(), f.install(newModel(f)));
        assertEquals("new graph", Files.readString(m.resolve("saved_model.pb")));
        assertEquals("new index", Files.readString(m.resolve("variables/variables.index")));
        assertEquals(List.of("m"), siblings(), "no partial or replaced folder is left beside it");
    }

    @Test
    void filesTheTrainerDidNotWriteSurviveAReplacement() throws IOException {
        Path m = work.resolve("m");
        write(m.resolve("saved_model.pb"), "old graph");
        write(m.resolve("old-only.bin"), "listed by the old model, absent from the new one");
        write(m.resolve("variables/variables.index"), "old index");
        write(m.resolve("variables/notes.txt"), "my notes beside the weights");
        write(m.resolve("README.md"), "what this model is");
        write(m.resolve("training.json"), "{\"trainer\": \"t\", \"metrics\": {}, \"files\": "
                + "[\"saved_model.pb\", \"old-only.bin\", \"variables/variables.index\", \"training.json\"]}");
        ModelFolder f = ModelFolder.inspect(m);
        List<String> notes = f.install(newModel(f));
        assertEquals("new graph", Files.readString(m.resolve("saved_model.pb")));
        assertEquals("what this model is", Files.readString(m.resolve("README.md")));
        assertFalse(Files.exists(m.resolve("old-only.bin")), "a file the old model listed goes");
        // variables/ holds a file the trainer did not write: the whole old folder is kept aside, nothing in it lost
        Set<String> files = ModelFolder.files(m);
        String kept = files.stream().filter(p -> p.startsWith("variables.before-") && p.endsWith("/notes.txt")).findFirst().orElseThrow();
        assertEquals("my notes beside the weights", Files.readString(m.resolve(kept)));
        assertEquals("new index", Files.readString(m.resolve("variables/variables.index")));
        assertEquals(1, notes.size(), notes.toString());
        assertTrue(notes.get(0).contains("not written by the trainer"), notes.get(0));
        assertEquals(List.of("m"), siblings());
    }

    @Test
    void aFolderWithOtherFilesIsRefusedWithoutForceAndKeptWithIt() throws IOException {
        Path dir = work.resolve("exp");
        write(dir.resolve("train.yaml"), "experiment: x");
        write(dir.resolve("data/rows.csv"), "1,2,3");
        ModelFolder f = ModelFolder.inspect(dir);
        assertEquals(ModelFolder.Kind.OTHER, f.kind());
        String why = f.refusal(false).orElseThrow();
        assertTrue(why.contains("already holds 2 entries the trainer did not write (data, train.yaml)"), why);
        assertTrue(why.contains("--force"), why);
        assertTrue(f.refusal(true).isEmpty());
        f.install(newModel(f));
        assertEquals("experiment: x", Files.readString(dir.resolve("train.yaml")));
        assertEquals("1,2,3", Files.readString(dir.resolve("data/rows.csv")));
        assertEquals("new graph", Files.readString(dir.resolve("saved_model.pb")));
        assertEquals(Map.of("trainer", "t"), Map.of("trainer", Json.readMap(dir.resolve("training.json")).get("trainer")));
        // trained again into the same folder: now an earlier model, its own files are replaced, the rest stays
        ModelFolder again = ModelFolder.inspect(dir);
        assertEquals(ModelFolder.Kind.MODEL, again.kind());
        assertTrue(again.refusal(false).isEmpty());
        again.install(newModel(again));
        assertEquals(Set.of("data/rows.csv", "train.yaml", "saved_model.pb", "variables/variables.index", "training.json"),
                ModelFolder.files(dir));
    }

    @Test
    void aFileIsNeverReplacedEvenWithForce() throws IOException {
        Path file = work.resolve("model");
        write(file, "not a folder");
        ModelFolder f = ModelFolder.inspect(file);
        assertEquals(ModelFolder.Kind.FILE, f.kind());
        assertTrue(f.refusal(true).orElseThrow().contains("is a file, not a folder"));
        assertTrue(ModelFolder.inspect(work.resolve("empty-but-unrecognised")).refusal(false).isEmpty());
    }

    @Test
    void aTrainingJsonTheTrainerDidNotWriteDoesNotMakeAModel() throws IOException {
        Path dir = work.resolve("m");
        write(dir.resolve("training.json"), "{\"my\": \"own notes\"}");
        assertEquals(ModelFolder.Kind.OTHER, ModelFolder.inspect(dir).kind());
    }
}
