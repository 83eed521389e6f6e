package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import org.htmlunit.WebClient;
import org.htmlunit.html.HtmlPage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped concept audit, run as the README says: every concept method finds the planted watermark neurons with its
 * error rate, and none finds anything for the null-control coin {@code tag}.
 */
class ConceptAuditTest {

    @TempDir
    static Path work;
    static Path out;
    static Launcher.Result run;
    static RunFolder folder;

    @BeforeAll
    static void runAudit() throws Exception {
        out = work.resolve("concept-audit");
        run = Launcher.run(work, "run", Launcher.ROOT.resolve("experiments/concept-audit.yaml").toString(), "--out",
                out.toString(), "--no-cache");
        folder = new RunFolder(out);
    }

    static List<String> claims(String step) throws Exception {
        List<String> out = new ArrayList<>();
        for (JsonNode f : folder.result(step).get("findings")) {
            out.add(f.get("severity").asText() + ": " + f.get("claim").asText());
        }
        return out;
    }

    @Test
    void everyStepCompletesAndTheResultsAreValid() throws Exception {
        assertEquals(0, run.code(), run.all());
        folder.assertValidAgainstSchemas();
    }

    @Test
    void tcavFindsTheWatermarkRaisingSquareAtConv2AndNothingForTheCoin() throws Exception {
        List<String> claims = claims("watermark-tcav");
        assertTrue(claims.stream().anyMatch(c -> c.startsWith("notable: TCAV: concept 'watermark' at conv2 raises 'square'")),
                claims.toString());
        assertFalse(claims.stream().anyMatch(c -> c.contains("concept 'coin'")), "the null concept finds nothing: " + claims);
        JsonNode q = folder.part("watermark-tcav", "tcav-q-coin");
        assertTrue(q != null, "the coin's q-values are written");
    }

    @Test
    void theProbeAndTheGroupComparisonRankConv2Neurons4And6() throws Exception {
        List<Integer> probe = new ArrayList<>();
        for (JsonNode e : folder.part("watermark-probe", "probe-watermark-ranking").get("entries")) {
            if (e.get("layer").asText().equals("conv2")) {
                probe.add(e.get("neuron").asInt());
            }
        }
        assertTrue(probe.subList(0, 2).containsAll(List.of(4, 6)), "conv2 by probe weight: " + probe);
        JsonNode groups = folder.part("watermark-groups", "group-watermark-ranking").get("entries");
        List<Integer> first = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            assertEquals("conv2", groups.get(i).get("layer").asText());
            assertTrue(groups.get(i).get("q").asDouble() < 0.05, groups.get(i).toString());
            first.add(groups.get(i).get("neuron").asInt());
        }
        assertTrue(first.containsAll(List.of(4, 6)), "group-compare leads with conv2 #4 and #6: " + first);
        List<String> coin = claims("coin-groups");
        assertTrue(coin.stream().allMatch(c -> c.startsWith("info: no neuron differs")), coin.toString());
    }

    @Test
    void theWatermarkNeuronIsMonosemanticAndTheScorecardReachesTheCards() throws Exception {
        float[] clusters = folder.column("polysemanticity", "conv2-polysemanticity", "clusters");
        assertEquals(1f, clusters[4], "conv2 #4's top examples form one cluster");
        assertTrue(folder.part("scorecard", "conv2-scorecard") != null);
        try (WebClient wc = new WebClient()) {
            HtmlPage page = folder.report(wc);
            assertEquals("findings", page.getElementsByTagName("section").get(0).getId());
            String cards = page.getElementById("neurons").asNormalizedText();
            assertTrue(cards.contains("effect:watermark"), "neuron cards show the scorecard rows");
        }
    }
}
