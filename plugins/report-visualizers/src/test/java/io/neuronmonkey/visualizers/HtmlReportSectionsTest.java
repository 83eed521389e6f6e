package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.visual.StepOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report's views of activation-stats intervals, top-activations, activation-breakdown and census-diff. */
class HtmlReportSectionsTest {

    @TempDir
    Path out;

    private String report(StepOutput... inputs) {
        var ctx = new TestContext<>("report", new HtmlReportVisualizer.Params(null), List.of(inputs),
                Fixtures.run(Fixtures.YAML), out);
        new HtmlReportVisualizer().render(ctx);
        return new String(ctx.read(ctx.published.get(0)), StandardCharsets.UTF_8);
    }

    private static String between(String text, String from, String to) {
        int i = text.indexOf(from);
        assertTrue(i >= 0, "missing: " + from);
        int j = text.indexOf(to, i + from.length());
        return text.substring(i, j < 0 ? text.length() : j);
    }

    @Test
    void firingRatesCarryTheirWilsonIntervals() {
        String html = report(Fixtures.analyzerStep("census", RankingFixtures.censusWithIntervals()));

        assertTrue(html.contains("<th class=\"num\">firing rate [95% CI]</th>"));
        assertTrue(html.contains("<td class=\"num\">0.31 [0.29, 0.33]</td>"), "neuron 3's rate");
        // a rarely-firing rate keeps enough digits not to read as 0
        assertTrue(html.contains("<td class=\"num\">0.004 [0.0012, 0.013]</td>"), "neuron 2's rate");
        assertTrue(html.contains("<td class=\"num\">0 [0, 0.0095]</td>"), "dead neuron 0's rate");
    }

    @Test
    void healthSummaryNamesTheFlaggedNeuronsWithTheirIntervals() {
        String html = report(Fixtures.analyzerStep("census", RankingFixtures.censusWithIntervals()));

        String health = between(html, "<div class=\"health\">", "</div>");
        assertTrue(html.indexOf("<div class=\"health\">") < html.indexOf("<th class=\"num\">rarely firing</th>"),
                "above the layer table");
        assertTrue(health.contains("<li><code>dense2</code> <span class=\"tag\">dead 1 of 4</span> #0 0 [0, 0.0095]"
                + " <span class=\"tag\">always-on 1 of 4</span> #1 1 [0.99, 1]"
                + " <span class=\"tag\">rarely-firing 1 of 4</span> #2 0.004 [0.0012, 0.013]</li>"), health);
        assertFalse(health.contains("#3"), "the healthy neuron is not named");
        assertTrue(health.contains("Also without dead, always-on, rarely-firing or saturated neurons: dense3"),
                health);
    }

    @Test
    void rarelyFiringNeuronsAndQuantilesAreTabulated() {
        String html = report(Fixtures.analyzerStep("census", RankingFixtures.censusWithIntervals()));

        assertTrue(html.contains("<th class=\"num\">rarely firing</th>"));
        // dense2 row: dead 25% (1), always-on 25% (1), rarely firing 25% (1)
        assertTrue(html.contains("<td class=\"num warn\">25.0% <span class=\"muted\">(1)</span></td>"
                + "<td class=\"num warn\">25.0% <span class=\"muted\">(1)</span></td>"
                + "<td class=\"num warn\">25.0% <span class=\"muted\">(1)</span></td>"));
        assertTrue(html.contains("<span class=\"tag\">rarely-firing</span> 2"));
        assertTrue(html.contains("<th class=\"num\">p05</th><th class=\"num\">p50</th><th class=\"num\">p95</th>"));
        assertTrue(html.contains("<td class=\"num\">0</td><td class=\"num\">0.25</td><td class=\"num\">1.75</td>"
                + "<td class=\"num\">0.31 [0.29, 0.33]</td>"), "neuron 3's quantiles before its rate");
        assertTrue(html.contains("<tr class=\"flagged flag-rarely-firing\">"));
    }

    @Test
    void censusesWithoutIntervalsKeepTheirPercentages() {
        String html = report(Fixtures.censusStep());

        assertFalse(html.contains("95% CI"));
        assertFalse(html.contains("rarely firing</th>"));
        assertTrue(html.contains("<li><code>conv1</code> <span class=\"tag\">dead 1 of 3</span> #1 0</li>"));
    }

    @Test
    void topActivationsListTheTopExamplesPerNeuronCollapsed() {
        String html = report(Fixtures.analyzerStep("top", RankingFixtures.topActivations(false, 3, 1)));

        assertTrue(html.contains("top 3 and bottom 3 examples per neuron"));
        assertTrue(html.contains("<p class=\"note\">Regions: receptive field of the winning position"));
        assertTrue(html.contains("<details class=\"tops\"><summary><code>conv1</code> Relu [8, 8, 2], 2 neurons - "
                + "top 3 examples each (input images not kept)</summary>"));
        // neuron 0 of conv1: ranks 1..3 are examples 100..102, values 5, 4, 3
        assertTrue(html.contains("<td class=\"ex\"><code>decorrelated-100</code><br><b>5</b> &middot; circle"
                + "<br><span class=\"muted\">watermark=on</span><br><span class=\"muted\">at [1, 2]</span></td>"));
        assertTrue(html.contains("<td class=\"makeup\">class circle 2/3\nwatermark on 3/3</td>"));
        assertTrue(html.contains("<th>lowest 1</th>"), "bottom examples get their own table");
        assertTrue(html.contains("watermark off 3/3"));
    }

    @Test
    void breakdownRankingPutsThePlantedNeuronFirstWithItsMeans() {
        String html = report(Fixtures.analyzerStep("breakdown", RankingFixtures.breakdown(true)));

        String watermark = between(html, "<h3>watermark <small>on vs off</small></h3>", "<details");
        assertTrue(watermark.contains("<th class=\"num\">mean on</th><th class=\"num\">mean off</th>"), watermark);
        // the overall rows carry no means: they come from dense1's own ranking (meanA = 1 + effect, meanB = 1)
        assertTrue(watermark.contains("<tbody>\n<tr class=\"top\"><td class=\"num\">1</td><td><code>dense1</code>"
                + "</td><td class=\"num\">2</td><td class=\"num\">3.1</td><td class=\"num\">4.1</td>"
                + "<td class=\"num\">1</td></tr>"), watermark);
        assertTrue(watermark.contains("<tr><td class=\"num\">2</td><td><code>conv1</code></td><td class=\"num\">0"
                + "</td><td class=\"num\">-2</td>"), watermark);
        assertTrue(watermark.contains("examples per value: off: 1990, on: 2010"));
        assertTrue(html.contains("<details class=\"layers\"><summary>watermark per layer (2 layers)</summary>"));
        assertTrue(html.contains("Skipped keys: id (4000 distinct values &gt; maxValues 12)"));
        String cls = between(html, "<h3>class <small>each value vs the rest</small></h3>", "<details");
        assertTrue(cls.contains("<th>value</th>") && cls.contains("<td>square</td>"), cls);
    }

    @Test
    void censusDiffShowsTheRankingAndTheChangedFlags() {
        String html = report(Fixtures.analyzerStep("diff", RankingFixtures.censusDiff()));

        assertTrue(html.contains("Compares census <code>census-step-100</code> (a) with <code>census-step-900"));
        assertTrue(html.contains("<tr class=\"top\"><td class=\"num\">3</td><td class=\"num\">2.5</td>"
                + "<td class=\"num\">0.4</td><td class=\"num\">2.9</td><td class=\"num\">0.20</td>"
                + "<td class=\"num\">0.90</td>"));
        assertTrue(html.contains("<tr><td class=\"num\">7</td><td>none</td><td class=\"warn\">dead</td></tr>"));
    }

    @Test
    void textFromTheNewResultsIsEscapedAndNothingIsFetched() {
        AnalysisResult r = RankingFixtures.topActivations(true, 0, 1);
        Map<String, Object> summary = new LinkedHashMap<>(r.summary());
        summary.put("regionRule", "<script>alert(1)</script>");
        String html = report(Fixtures.analyzerStep("top", AnalysisResult.of(summary, r.arrays())),
                Fixtures.analyzerStep("breakdown", RankingFixtures.breakdown(true)),
                Fixtures.analyzerStep("diff", RankingFixtures.censusDiff()));

        assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assertFalse(html.toLowerCase().contains("<script"));
        assertFalse(html.contains("http://") || html.contains("https://"));
    }

    @Test
    void malformedNewResultsAreShownGenericallyUnderAWarning() {
        AnalysisResult bad = AnalysisResult.builder().put("analyzer", "activation-breakdown")
                .put("layers", List.of(Map.of("name", "dense1", "keys", List.of(Map.of("key", "watermark",
                        "ranking", List.of(Map.of("neuron", "five"))))))).build();

        String html = report(Fixtures.analyzerStep("broken", bad), Fixtures.analyzerStep("diff",
                RankingFixtures.censusDiff()));

        assertTrue(html.contains("step &#39;broken&#39;: activation-breakdown summary "
                + "layers[0].keys[0].ranking[0].neuron must be a number, found String &#39;five&#39;"), html);
        assertTrue(html.contains("Compares census"), "the other result is still shown");
    }

    @Test
    void ratesKeepDigitsOnlyWhereTwoDecimalsWouldMislead() {
        assertEquals("0.31", HtmlReportVisualizer.rate(0.3127));
        assertEquals("0.004", HtmlReportVisualizer.rate(0.004));
        assertEquals("0.9996", HtmlReportVisualizer.rate(0.9996));
        assertEquals("0.99", HtmlReportVisualizer.rate(0.99));
        assertEquals("0.013", HtmlReportVisualizer.rate(0.0131));
        assertEquals("0.20", HtmlReportVisualizer.rate(0.2));
        assertEquals("0", HtmlReportVisualizer.rate(0));
        assertEquals("1", HtmlReportVisualizer.rate(1));
        assertEquals("n/a", HtmlReportVisualizer.rate(Double.NaN));
    }
}
