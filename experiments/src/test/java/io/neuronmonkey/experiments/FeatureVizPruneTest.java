package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped feature-visualization and pruning experiments, run as their headers say, asserted against the demo
 * model: the optimized input drives the watermark channel far above its data maximum and, at its peak position, puts
 * its energy on the watermark patch; pruning the dead dense1 neurons changes no prediction, and the structurally
 * pruned SavedModel predicts as the masked model with the closed-form number of parameters fewer.
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
    void theWatermarkChannelsCardShowsItsOptimizedInputsNextToItsTopExamples() throws Exception {
        try (org.htmlunit.WebClient wc = new org.htmlunit.WebClient()) {
            org.htmlunit.html.HtmlPage page = vizFolder.report(wc);
            org.htmlunit.html.DomElement card = page.getElementById("neuron-conv2--4");
            assertTrue(card != null, "conv2 #4 has a card");
            String text = card.asNormalizedText();
            assertTrue(text.contains("optimized inputs"), text);
            // its own images (conv2-4-0, ...), not another neuron's
            assertTrue(card.asXml().contains("alt=\"conv2-4-0\""), "the card shows conv2-4-0");
            assertTrue(!card.asXml().matches("(?s).*alt=\"conv2-(?!4-)\\d+-\\d+\".*"), "no other neuron's optimized input in the card");
            // the finding about conv2 #4 shows its own optimized inputs, not those of conv2 #9 from the same step
            org.htmlunit.html.DomElement finding = null;
            for (Object o : page.getByXPath("//*[contains(concat(' ', @class, ' '), ' finding ')]")) {
                org.htmlunit.html.DomElement e = (org.htmlunit.html.DomElement) o;
                if (e.asNormalizedText().contains("optimized input drives conv2 #4 ") && e.asXml().contains("alt=\"conv2-4-")) {
                    finding = e;
                    break;
                }
            }
            assertTrue(finding != null, "the finding about conv2 #4 shows its optimized inputs");
            assertTrue(finding.asXml().contains("alt=\"conv2-4-0\"") && !finding.asXml().contains("alt=\"conv2-9-0\""),
                    "only conv2 #4's images in its finding");
        }
    }

    @Test
    void pruningTheDeadDense1NeuronsChangesNoPrediction() throws Exception {
        JsonNode s = pruneFolder.result("prune-dead").get("summary");
        System.out.println(finding(pruneFolder, "prune-dead", "prune-dense1").get("claim").asText());
        assertTrue(s.get("pruned").size() > 0, s.toString());
        assertEquals(0, s.get("predictionsChanged").asInt(), s.toString());
        assertEquals(s.get("accuracyBefore").asDouble(), s.get("accuracyAfter").asDouble(), 0.0);
    }

    @Test
    void atItsPeakPositionTheWatermarkChannelPutsItsEnergyOnThePatch() throws Exception {
        JsonNode r = vizFolder.result("watermark-position");
        JsonNode f = finding(vizFolder, "watermark-position", "drive-conv2-4");
        System.out.println(f.get("claim").asText());
        assertEquals("[12,12]", r.get("summary").get("positions").get(4).toString());
        JsonNode part = vizFolder.part("watermark-position", "activation");
        float[] v = vizFolder.array("watermark-position", part.get("values"));
        List<String> cols = new java.util.ArrayList<>();
        part.get("cols").get("labels").forEach(l -> cols.add(l.asText()));
        int at = cols.indexOf("region energy share");
        double share = v[4 * cols.size() + at];
        int below = 0;
        for (int c = 0; c < 16; c++) {
            below += c != 4 && v[c * cols.size() + at] < share ? 1 : 0;
        }
        assertTrue(share > 0.2, "patch energy share " + share);
        assertTrue(below >= 13, below + " of 15 other channels put less energy on the patch");
    }

    @Test
    void theStructurallyPrunedModelsAreSmallerAndPredictAsTheMaskedOnes() throws Exception {
        JsonNode s = pruneFolder.result("prune-dead").get("summary");
        System.out.println(finding(pruneFolder, "prune-dead", "structural-dense1").get("claim").asText());
        int k = s.get("pruned").size();
        assertEquals("[\"dense1\"]", s.get("structuralLayers").toString());
        assertEquals((long) k * (7 * 7 * 16 + 1) + 4L * k, s.get("parametersBefore").asLong() - s.get("parametersAfter").asLong());
        assertEquals(0, s.get("predictionsDifferFromMasked").asInt());
        assertEquals(s.get("accuracyBefore").asDouble(), s.get("accuracyPruned").asDouble(), 0.0);
        assertTrue(java.nio.file.Files.isRegularFile(work.resolve("prune").resolve("prune-dead-pruned-model").resolve("saved_model.pb")));
        JsonNode c = pruneFolder.result("prune-conv2").get("summary");
        System.out.println(finding(pruneFolder, "prune-conv2", "structural-conv2").get("claim").asText());
        int channels = c.get("pruned").size();
        assertEquals("[\"conv2\"]", c.get("structuralLayers").toString());
        // per channel: its 3x3x8 filter and bias, and its 7x7 rows of the 32-unit dense1 kernel
        assertEquals(channels * (3L * 3 * 8 + 1 + 49L * 32), c.get("parametersBefore").asLong() - c.get("parametersAfter").asLong());
        assertEquals(0, c.get("predictionsDifferFromMasked").asInt(), c.toString());
    }

    @Test
    void theRankedStepVisualizesTheWatermarkChannelFirstWithDiverseImages() throws Exception {
        JsonNode s = vizFolder.result("watermark-ranked").get("summary");
        assertEquals(4, s.get("neurons").get(0).asInt(), s.toString());
        JsonNode part = vizFolder.part("watermark-ranked", "activation");
        float[] v = vizFolder.array("watermark-ranked", part.get("values"));
        List<String> cols = new java.util.ArrayList<>();
        part.get("cols").get("labels").forEach(l -> cols.add(l.asText()));
        int at = cols.indexOf("mean cosine to the neuron's other images");
        for (int i = 0; i < 3; i++) {
            assertTrue(v[i * cols.size() + at] < 0.3, "image " + i + " of conv2 #4: mean cosine " + v[i * cols.size() + at]);
        }
    }

    @Test
    void theWatermarkCavDirectionIsDrivenAboveTheDataAndShownUnderItsName() throws Exception {
        JsonNode f = finding(vizFolder, "watermark-direction", "drive-conv2-direction");
        System.out.println(f.get("claim").asText());
        assertTrue(f.get("strength").get("value").asDouble() > 1, "projection / data max " + f.get("strength"));
        assertEquals("cav-watermark-conv2 of watermark-cav",
                vizFolder.result("watermark-direction").get("summary").get("directionName").asText());
        // MACO and the FFT basis ran; MACO's images stay in the data's range
        assertEquals("maco", vizFolder.result("watermark-maco").get("summary").get("basis").asText());
        assertEquals("fourier", vizFolder.result("watermark-channel").get("summary").get("basis").asText());
        JsonNode maps = vizFolder.part("watermark-maco", "optimized");
        for (float v : vizFolder.array("watermark-maco", maps.get("maps"))) {
            assertTrue(v >= 0 && v <= 1, "maco pixel " + v);
        }
        try (org.htmlunit.WebClient wc = new org.htmlunit.WebClient()) {
            String xml = vizFolder.report(wc).asXml();
            assertTrue(xml.contains("alt=\"conv2-direction-0\""), "the report shows the direction's optimized input");
            assertTrue(xml.contains("target: conv2 along cav-watermark-conv2 of watermark-cav"), "titled by the direction");
            assertTrue(!xml.contains("could not be drawn"), "no rendering error");
        }
    }

    @Test
    void theConductanceRankingOrdersThePruningCurve() throws Exception {
        JsonNode curve = pruneFolder.part("prune-conductance", "pruning-curve");
        System.out.println(finding(pruneFolder, "prune-conductance", "prune-dense1").get("claim").asText());
        assertEquals("lowest ranked by conductance/conductance-ranking first", curve.get("curves").get(0).get("name").asText());
        assertEquals(24, pruneFolder.result("prune-conductance").get("summary").get("pruned").size());
    }
}
