package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import org.htmlunit.WebClient;
import org.htmlunit.html.HtmlPage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The shipped text story on the committed text model, asserted against the ground truth planted in the synthetic
 * corpus: a toxic lexicon decides the label, and the training split tied the invented group term 'zorblin' to toxic
 * sentences. On the decorrelated split the group is a fair coin, so a neuron that tells the groups apart carries the
 * bias.
 */
class TextNeuronsTest {

    /** The planted toxic lexicon, written out here independently of the generator. */
    static final List<String> TOXIC = List.of("stupid", "pathetic", "worthless", "disgusting", "vile", "dumb", "idiot",
            "moron", "loser", "creep");

    @TempDir
    static Path work;
    static Path out;
    static Launcher.Result run;
    static RunFolder folder;

    @BeforeAll
    static void runStory() throws Exception {
        out = work.resolve("text-neurons");
        run = Launcher.run(work, "run", Launcher.ROOT.resolve("experiments/text-neurons.yaml").toString(), "--out",
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

    static JsonNode topExamples(int neuron) throws Exception {
        for (JsonNode n : folder.part("top-contexts", "block1_mlp-top").get("neurons")) {
            if (n.get("neuron").asInt() == neuron) {
                return n.get("examples");
            }
        }
        throw new AssertionError("no top contexts of block1/mlp #" + neuron);
    }

    static String text(JsonNode example) {
        StringBuilder s = new StringBuilder();
        example.get("text").get("pieces").forEach(p -> s.append(p.asText()));
        return s.toString().toLowerCase(Locale.ROOT);
    }

    @Test
    void everyStepCompletesAndTheResultsAreValid() throws Exception {
        assertEquals(0, run.code(), run.all());
        folder.assertValidAgainstSchemas();
    }

    @Test
    void theCensusCountsRealTokensAndLeavesPaddingOut() throws Exception {
        JsonNode observed = folder.result("census").get("summary").get("observed");
        int tokens = observed.get("tokens").asInt();
        assertEquals(2000, observed.get("sequences").asInt());
        assertEquals(2000 * 16, tokens + observed.get("paddingPositionsExcluded").asInt(), observed.toString());
        // every sentence is [CLS] and 5..14 words
        assertTrue(tokens >= 2000 * 6 && tokens <= 2000 * 15, observed.toString());
    }

    @Test
    void aNeuronThatFiresOnToxicWordsIsFoundAndItsTopContextsAreToxic() throws Exception {
        JsonNode f = finding("lexicon-neurons", "lexicon-tracks");
        assertTrue(f.get("claim").asText().contains("toxic vs rest"), f.toString());
        assertTrue(f.get("strength").get("value").asDouble() > 1, f.toString());
        int neuron = f.get("neurons").get(0).get("neuron").asInt();
        JsonNode top = topExamples(neuron);
        assertEquals(8, top.size());
        for (JsonNode e : top) {
            assertEquals(1, e.get("label").asInt(), "a top context of the toxic neuron is a toxic sentence: " + e);
            String t = text(e);
            assertTrue(TOXIC.stream().anyMatch(w -> t.matches("(?s).*\\b" + w + "\\b.*")), "and has a toxic word in view: " + t);
        }
    }

    @Test
    void theGroupNeuronFiresOnZorblinSentencesAndTheModelIsLessAccurateOnThem() throws Exception {
        JsonNode f = finding("group-neurons", "group-tracks");
        assertTrue(f.get("strength").get("value").asDouble() < -1, "higher on zorblin than on quenti: " + f);
        int neuron = f.get("neurons").get(0).get("neuron").asInt();
        int zorblin = 0;
        for (JsonNode e : topExamples(neuron)) {
            zorblin += e.get("metadata").get("group").asText().equals("zorblin") ? 1 : 0;
        }
        assertTrue(zorblin >= 7, "its top contexts are zorblin sentences: " + zorblin + " of 8");
        JsonNode byGroup = folder.part("evaluate", "accuracy-by-group");
        float[] values = folder.array("evaluate", byGroup.get("values"));
        int cols = byGroup.get("cols").get("labels").size();
        List<String> rows = new java.util.ArrayList<>();
        byGroup.get("rows").get("labels").forEach(l -> rows.add(l.asText()));
        double quenti = values[rows.indexOf("quenti") * cols];
        double zorb = values[rows.indexOf("zorblin") * cols];
        assertTrue(zorb < quenti - 0.02, "the bias costs accuracy on zorblin sentences: " + zorb + " vs " + quenti);
    }

    @Test
    void integratedGradientsOverTheEmbeddingRankTheToxicWordsFirst() throws Exception {
        JsonNode rows = folder.part("token-attribution", "token-ranking").get("rows").get("labels");
        for (int i = 0; i < 5; i++) {
            assertTrue(TOXIC.contains(rows.get(i).asText()), "token " + (i + 1) + " of the ranking is toxic: " + rows);
        }
    }

    @Test
    void ablatingTheGroupNeuronsShrinksTheGapInToxicCallsBetweenTheGroups() throws Exception {
        JsonNode f = finding("group-ablation", "ablation-gap-group-1");
        assertTrue(f.get("claim").asText().contains("shrinks the gap"), f.toString());
        JsonNode strength = f.get("strength");
        assertTrue(strength.get("value").asDouble() < -0.05, f.toString());
        assertTrue(strength.get("interval").get("high").asDouble() < 0, "the interval excludes no change: " + f);
    }

    @Test
    void theReportLeadsWithTheFindingsAndShowsTokensInContext() throws Exception {
        assertTrue(Files.isRegularFile(out.resolve("report.html")), run.all());
        try (WebClient wc = new WebClient()) {
            HtmlPage page = folder.report(wc);
            assertEquals("findings", page.getElementsByTagName("section").get(0).getId());
            var findings = page.getElementById("findings");
            assertTrue(findings.querySelectorAll("span.tok.focus").size() >= 4, "highlighted contexts inline");
            assertTrue(findings.asNormalizedText().contains("tracks group (quenti vs zorblin)"), findings.asNormalizedText());
        }
    }
}
