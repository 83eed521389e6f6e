package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training-dynamics story end to end: train-dynamics.yaml trains the demo CNN with 12 dense1 units killed after
 * epoch 2 into a scratch folder, training-dynamics.yaml runs the dynamics analyzer over its checkpoints. The monitor
 * flags the killed units' vanished gradients from epoch 3, and the dynamics analysis names the same units as dying
 * between epoch_02 and epoch_03.
 */
class TrainingDynamicsTest {

    @TempDir
    static Path work;
    static Path model;
    static RunFolder folder;
    static JsonNode training;

    @BeforeAll
    static void trainAndAnalyze() throws Exception {
        model = work.resolve("model");
        Path train = Files.writeString(work.resolve("train-dynamics.yaml"),
                Files.readString(Launcher.ROOT.resolve("experiments/train-dynamics.yaml"))
                        .replaceAll("output: \\S+", "output: " + model));
        Launcher.Result t = Launcher.run(work, "train", train.toString());
        assertEquals(0, t.code(), t.all());
        training = RunFolder.JSON.readTree(model.resolve("training.json").toFile());
        Path run = Files.writeString(work.resolve("training-dynamics.yaml"),
                Files.readString(Launcher.ROOT.resolve("experiments/training-dynamics.yaml"))
                        .replaceAll("path: \\S+", "path: " + model)
                        .replaceAll("series: \\S+", "series: " + model.resolve("checkpoints")));
        Path out = work.resolve("run");
        Launcher.Result r = Launcher.run(work, "run", run.toString(), "--out", out.toString(), "--no-cache");
        assertEquals(0, r.code(), r.all());
        folder = new RunFolder(out);
    }

    /** @return the dense1 units the monitor saw lose their gradient from epoch 3 on, the first sample after the kill */
    private static List<Integer> flaggedAfterKill() {
        for (JsonNode v : training.get("metrics").get("monitor").get("stuckUnits")) {
            if (v.get("variable").asText().equals("dense1_b")) {
                List<Integer> units = new ArrayList<>();
                for (int i = 0; i < v.get("units").size(); i++) {
                    if (v.get("sinceEpoch").get(i).asInt() == 3) {
                        units.add(v.get("units").get(i).asInt());
                    }
                }
                return units;
            }
        }
        throw new AssertionError("no stuck dense1_b units: " + training.get("metrics").get("monitor"));
    }

    @Test
    void theMonitorFlagsTheKilledUnitsGradientsFromTheEpochAfterTheKill() {
        List<Integer> flagged = flaggedAfterKill();
        assertTrue(flagged.size() >= 5, "most of the 12 killed units fired before the kill: " + flagged);
        assertTrue(flagged.stream().allMatch(u -> u < 12), "only killed units lose their gradient then: " + flagged);
        assertTrue(Files.isDirectory(model.resolve("tensorboard")), "TensorBoard events are written");
    }

    @Test
    void theDynamicsAnalysisNamesTheKilledUnitsAndTheEpoch() throws Exception {
        JsonNode finding = null;
        for (JsonNode f : folder.result("dynamics").get("findings")) {
            if (f.get("id").asText().equals("dense1-died-3")) {
                finding = f;
            }
        }
        assertTrue(finding != null, folder.result("dynamics").get("findings").toString());
        List<Integer> died = new ArrayList<>();
        finding.get("neurons").forEach(n -> died.add(n.get("neuron").asInt()));
        assertEquals(flaggedAfterKill(), died, finding.toString());
        assertTrue(finding.get("claim").asText().startsWith(died.size() + " of 32 dense1 neurons died between epoch_02"
                + " and epoch_03"), finding.toString());
    }
}
