package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.StepOutput;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HtmlReportVisualizerTest {

    @TempDir
    Path out;

    private TestContext<HistogramVisualizer.Params> hist;

    @BeforeEach
    void drawHistograms() {
        hist = new TestContext<>("hist", new HistogramVisualizer.Params(400, 240, false, null),
                List.of(Fixtures.censusStep()), Fixtures.run(Fixtures.YAML), out);
        new HistogramVisualizer().render(hist);
    }

    private String report(String title, List<StepOutput> inputs) {
        var ctx = new TestContext<>("report", new HtmlReportVisualizer.Params(title), inputs,
                Fixtures.run(Fixtures.YAML), out);
        new HtmlReportVisualizer().render(ctx);
        assertEquals(1, ctx.published.size());
        Artifact a = ctx.published.get(0);
        assertEquals("report.html", a.file());
        assertEquals("text/html", a.mediaType());
        return new String(ctx.read(a), StandardCharsets.UTF_8);
    }

    private String report() {
        return report(null, List.of(Fixtures.censusStep(), hist.asInput("histogram")));
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void showsLayersWithTheirDeadNeuronsAndPercentages() {
        String html = report();

        assertTrue(html.contains("<code>conv1</code>"));
        assertTrue(html.contains("<code>block/dense1</code>"));
        // conv1: neuron 1 dead (1 of 3); dense1: neurons 0 and 4 dead (2 of 5), neuron 2 always on (1 of 5)
        assertTrue(html.contains("33.3% <span class=\"muted\">(1)</span>"), "conv1 dead share");
        assertTrue(html.contains("40.0% <span class=\"muted\">(2)</span>"), "dense1 dead share");
        assertTrue(html.contains("20.0% <span class=\"muted\">(1)</span>"), "dense1 always-on share");
        assertTrue(html.contains("<span class=\"tag\">dead</span> 1</td>"), "conv1 dead indices");
        assertTrue(html.contains("<span class=\"tag\">dead</span> 0, 4<br><span class=\"tag\">always-on</span> 2"),
                "dense1 flagged indices");
        assertTrue(html.contains("52.0%"), "dense1 sparsity");
    }

    @Test
    void highlightsFlaggedNeuronsInTheCollapsiblePerNeuronTables() {
        String html = report();

        assertEquals(2, count(html, "<details class=\"neurons\">"));
        // conv1 lists its rows in the summary (1 dead); dense1's rows come from its arrays (2 dead, 1 always on)
        assertEquals(3, count(html, "<tr class=\"flagged flag-dead\">"));
        assertEquals(1, count(html, "<tr class=\"flagged flag-alwaysOn\">"));
        assertTrue(html.contains("(5 neurons, 3 flagged)"));
        // dense1 neuron 3 from the arrays: mean of -2, 2, 0, 6 = 1.5, min -2, max 6
        assertTrue(html.contains("<td class=\"num\">3</td><td class=\"num\">1.5</td><td class=\"num\">4</td>"
                + "<td class=\"num\">-2</td><td class=\"num\">6</td>"), "dense1 neuron 3 row");
    }

    @Test
    void escapesTheConfigurationAndNeverEmitsItsMarkup() {
        String html = report();

        assertTrue(html.contains("# &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assertFalse(html.toLowerCase().contains("<script"));
        assertTrue(html.contains("<pre class=\"yaml\">experiment: shapes-census"));
    }

    @Test
    void embedsEveryImageAsABase64DataUri() {
        String html = report();

        Matcher m = Pattern.compile("<img src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        List<byte[]> images = new ArrayList<>();
        while (m.find()) {
            images.add(Base64.getDecoder().decode(m.group(1)));
        }
        assertEquals(2, images.size());
        assertArrayEquals(hist.read(hist.written.get(0)), images.get(0));
        assertArrayEquals(hist.read(hist.written.get(1)), images.get(1));
        assertTrue(html.contains("<figcaption>census: conv1 (Relu, 3 neurons) - activation histogram</figcaption>"));
    }

    @Test
    void refersToNothingOutsideThePage() {
        String html = report();

        assertFalse(html.contains("http://"));
        assertFalse(html.contains("https://"));
        assertFalse(html.contains("<link"));
        assertFalse(html.contains("src=\"/"));
    }

    @Test
    void linksFilesThatAreNotPicturesByRelativePath() throws Exception {
        Files.writeString(out.resolve("hist/table.csv"), "a,b\n");
        StepOutput step = new StepOutput("hist", "visualizer", "table", null, Optional.empty(),
                List.of(new Artifact("hist", "hist/table.csv", "a table", "text/csv")));

        String html = report(null, List.of(step));

        assertTrue(html.contains("<a href=\"hist/table.csv\">hist/table.csv</a><figcaption>a table</figcaption>"));
    }

    @Test
    void showsRunFactsModelAndDataFromTheRunSummary() {
        String html = report();

        assertTrue(html.contains("<title>shapes-census</title>"));
        assertTrue(html.contains("<tr><th>versions.java</th><td>17.0.15</td></tr>"), "nested map flattened");
        assertTrue(html.contains("<tr><th>plugins</th><td><table class=\"grid\">"), "list of records as a table");
        int full = html.indexOf("<details><summary>Full provenance");
        assertTrue(full > 0 && html.indexOf("<th>seed</th>") < full, "key facts come first, the full provenance is folded");
        assertTrue(html.indexOf("<th>model.sha256</th>", full) < html.indexOf("<th>seed</th>", full), "full provenance keys sorted");
        assertTrue(html.contains("<td><code>block/dense1</code></td><td>MatMul</td><td>[5]</td>"
                + "<td class=\"num\">5</td><td>hidden</td>"));
        assertTrue(html.contains("<td><code>probe</code></td><td class=\"num\">100</td><td>[28, 28, 1]</td>"
                + "<td>4: circle, square, triangle, cross</td>"));
        assertTrue(html.contains("shapes-cnn: a small CNN for 28x28 shapes"));
    }

    @Test
    void rendersOtherResultsGenericallyAndEscaped() {
        Map<String, Object> top = new LinkedHashMap<>();
        top.put("<b>key</b>", "<img src=x onerror=alert(1)>");
        top.put("values", IntStream.range(0, 120).boxed().toList());
        top.put("units", List.of(new TreeMap<>(Map.of("layer", "conv1", "neuron", 3)),
                new TreeMap<>(Map.of("layer", "conv2", "neuron", 7))));
        AnalysisResult r = AnalysisResult.builder().put("analyzer", "top-activations").put("top", top).build();

        String html = report("Custom <title>", List.of(Fixtures.analyzerStep("top", r)));

        assertTrue(html.contains("<title>Custom &lt;title&gt;</title>"));
        assertTrue(html.contains("&lt;b&gt;key&lt;/b&gt;"));
        assertTrue(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assertFalse(html.contains("<img src=x"));
        assertTrue(html.contains("48, 49 <span class=\"note\">&hellip; and 70 more (120 in all)</span>"));
        assertTrue(html.contains("<td>conv2</td><td class=\"num\">7</td>"));
    }

    @Test
    void malformedActivationStatsAreShownWithTheProblemInsteadOfFailingTheReport() {
        AnalysisResult bad = AnalysisResult.builder().put("analyzer", "activation-stats").put("layers", "oops")
                .build();

        String html = report(null, List.of(Fixtures.analyzerStep("broken", bad), Fixtures.censusStep()));

        assertTrue(html.contains("step &#39;broken&#39;: activation-stats summary layers must be a list"));
        assertTrue(html.contains("<code>block/dense1</code>"), "the other result is still shown");
    }

    @Test
    void blankTitleIsRejected() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new HtmlReportVisualizer.Params("  "));

        assertEquals("title", e.violations().get(0).field());
    }
}
