package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import org.htmlunit.WebClient;
import org.htmlunit.html.DomElement;
import org.htmlunit.html.HtmlPage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped attribution story, run as the README says, asserted against the ground truth planted in the demo data:
 * the watermark neurons are found, the attributions point at the patch, switching the ranked neurons off moves the
 * model far more than random neurons do, and patching the watermarked activations of one neuron into the clean image
 * brings 'square' back.
 */
class WatermarkMonkeyTest {

    /** The watermark patch's share of the 28 x 28 image. */
    static final double PATCH_AREA = 9.0 / 784;

    @TempDir
    static Path work;
    static Path out;
    static Launcher.Result run;
    static RunFolder folder;

    @BeforeAll
    static void runStory() throws Exception {
        out = work.resolve("watermark-monkey");
        run = Launcher.run(work, "run", Launcher.ROOT.resolve("experiments/watermark-monkey.yaml").toString(), "--out",
                out.toString(), "--no-cache");
        folder = new RunFolder(out);
    }

    static JsonNode finding(String step, String id) throws Exception {
        for (JsonNode f : folder.result(step).get("findings")) {
            if (f.get("id").asText().equals(id)) {
                return f;
            }
        }
        throw new AssertionError("step " + step + " has no finding " + id + ": " + folder.result(step).get("findings"));
    }

    @Test
    void everyStepCompletesAndTheResultsAreValid() throws Exception {
        assertEquals(0, run.code(), run.all());
        folder.assertValidAgainstSchemas();
    }

    @Test
    void theBreakdownFindsTheWatermarkNeurons() throws Exception {
        JsonNode entries = folder.part("watermark-hunt", "watermark-ranking").get("entries");
        List<Integer> top2 = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            assertEquals("conv2", entries.get(i).get("layer").asText());
            top2.add(entries.get(i).get("neuron").asInt());
        }
        assertTrue(top2.contains(4) && top2.contains(6), "conv2 #4 and #6 lead: " + top2);
    }

    @Test
    void integratedGradientsPointAtThePatchAndPassTheirOwnChecks() throws Exception {
        JsonNode roi = finding("square-attribution", "roi-share");
        assertEquals("notable", roi.get("severity").asText());
        double share = roi.get("strength").get("value").asDouble();
        assertTrue(share >= 5 * PATCH_AREA, "positive attribution in the patch " + share + " vs area " + PATCH_AREA);
        // completeness after step doubling: every example within the tolerance
        JsonNode completeness = finding("square-attribution", "completeness");
        assertEquals("info", completeness.get("severity").asText(), completeness.toString());
        assertTrue(completeness.get("strength").get("value").asDouble() <= 0.01, completeness.toString());
        // most-relevant pixels first empties the 'square' score faster than random order
        JsonNode summary = folder.result("square-attribution").get("summary");
        assertTrue(summary.get("deletionArea").asDouble() < summary.get("deletionRandomArea").asDouble() - 0.1, summary.toString());
        // and the gradient-free method agrees on where the model looks
        double occluded = finding("square-occlusion", "roi-share").get("strength").get("value").asDouble();
        assertTrue(occluded >= 3 * PATCH_AREA, "occlusion share in the patch " + occluded);
    }

    @Test
    void ablatingTheRankedNeuronsMovesTheModelFarMoreThanRandomSets() throws Exception {
        for (String step : List.of("square-ablation", "watermark-ablation")) {
            JsonNode s = folder.result(step).get("summary");
            double ranked = s.get("rankedChange").asDouble();
            double randomMin = s.get("randomChange").get(0).asDouble();
            double randomMean = s.get("randomChange").get(1).asDouble();
            assertTrue(ranked < randomMean - 0.15, step + ": ranked " + ranked + " vs random mean " + randomMean);
            assertTrue(ranked < randomMin, step + ": ranked " + ranked + " below every random set (" + randomMin + ")");
            assertEquals("notable", finding(step, "ablation").get("severity").asText());
        }
        assertTrue(folder.result("watermark-ablation").get("summary").get("neurons").toString().matches("\\[(4,6|6,4)]"),
                "the watermark ablation took conv2 #4 and #6 from the breakdown's ranking");
    }

    @Test
    void patchingTheWatermarkedActivationOfConv2Neuron4BringsSquareBack() throws Exception {
        float[] flipped = folder.column("watermark-patching", "conv2-patching", "flipped");
        float[] restored = folder.column("watermark-patching", "conv2-patching", "restored");
        assertTrue(flipped[4] >= 0.2, "conv2 #4 patched from the watermarked image flips " + flipped[4]);
        assertTrue(restored[4] > 0, "and restores part of the 'square' logit: " + restored[4]);
        JsonNode whole = folder.result("watermark-patching").get("summary").get("wholeLayer");
        assertNotNull(whole, folder.result("watermark-patching").get("summary").toString());
    }

    @Test
    void theReportLeadsWithTheFindingsAndDrawsTheirEvidence() throws Exception {
        assertTrue(Files.isRegularFile(out.resolve("report.html")), run.all());
        try (WebClient wc = new WebClient()) {
            HtmlPage page = folder.report(wc);
            assertEquals("findings", page.getElementsByTagName("section").get(0).getId());
            String findings = page.getElementById("findings").asNormalizedText();
            assertTrue(findings.contains("in the region [24,24,26,26]"), findings);
            assertTrue(findings.contains("random sets of 4"), findings);
            int maps = 0;
            for (DomElement img : page.getElementById("findings").getElementsByTagName("img")) {
                maps += img.getAttribute("alt").startsWith("decorrelated-") ? 1 : 0;
            }
            assertTrue(maps >= 8, "the region finding shows the attribution maps over their inputs: " + maps);
        }
    }
}
