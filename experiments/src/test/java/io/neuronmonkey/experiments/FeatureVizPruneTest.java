package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped feature-visualization and pruning experiments, run as their headers say, asserted against the demo
 * model: the optimized input drives the watermark channel far above its data maximum, and pruning the dead dense1
 * neurons changes no prediction.
 */
class FeatureVizPruneTest {

    @TempDir
    static Path work;
    static Launcher.Result viz;
    static Launcher.Result prune;
    static RunFolder vizFolder;
    static RunFolder pruneFolder;

    @BeforeAll
    static void runBoth() throws Exception {
        Path a = work.resolve("feature-viz");
        viz = Launcher.run(work, "run", Launcher.ROOT.resolve("experiments/feature-viz.yaml").toString(), "--out", a.toString(), "--no-cache");
        vizFolder = new RunFolder(a);
        Path b = work.resolve("prune");
        prune = Launcher.run(work, "run", Launcher.ROOT.resolve("experiments/prune.yaml").toString(), "--out", b.toString(), "--no-cache");
        pruneFolder = new RunFolder(b);
    }

    static JsonNode finding(RunFolder folder, String step, String id) throws Exception {
        for (JsonNode f : folder.result(step).get("findings")) {
            if (f.get("id").asText().equals(id)) {
                return f;
            }
        }
        throw new AssertionError("step " + step + " has no finding " + id + ": " + folder.result(step).get("findings"));
    }

    @Test
    void bothRunAndTheirResultsAreValid() throws Exception {
        assertEquals(0, viz.code(), viz.all());
        assertEquals(0, prune.code(), prune.all());
        vizFolder.assertValidAgainstSchemas();
        pruneFolder.assertValidAgainstSchemas();
    }

    @Test
    void theWatermarkChannelsOptimizedInputFarExceedsTheData() throws Exception {
        JsonNode f = finding(vizFolder, "watermark-channel", "drive-conv2-4");
        double ratio = f.get("strength").get("value").asDouble();
        System.out.println(f.get("claim").asText() + "; " + vizFolder.result("watermark-channel").get("summary").get("secondsPerImage") + " s per image");
        assertTrue(ratio > 2.5, "optimized / data max " + ratio);
    }

    @Test
    void pruningTheDeadDense1NeuronsChangesNoPrediction() throws Exception {
        JsonNode s = pruneFolder.result("prune-dead").get("summary");
        System.out.println(finding(pruneFolder, "prune-dead", "prune-dense1").get("claim").asText());
        assertTrue(s.get("pruned").size() > 0, s.toString());
        assertEquals(0, s.get("predictionsChanged").asInt(), s.toString());
        assertEquals(s.get("accuracyBefore").asDouble(), s.get("accuracyAfter").asDouble(), 0.0);
    }
}
