package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.testkit.TestKit;
import org.htmlunit.WebClient;
import org.htmlunit.html.DomElement;
import org.htmlunit.html.HtmlElement;
import org.htmlunit.html.HtmlPage;
import org.htmlunit.html.HtmlTable;
import org.htmlunit.html.HtmlTableRow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The report, loaded in a real (headless, pure Java) browser with its scripts running. */
class HtmlReportVisualizerTest {

    @TempDir
    Path out;

    private Path render(List<StepOutput> inputs) {
        var ctx = TestKit.visualizer(new HtmlReportVisualizer.Params(null, 60), out).inputs(inputs).run(RealResults.run()).build();
        new HtmlReportVisualizer().render(ctx);
        return out.resolve("report.html");
    }

    static WebClient browser() {
        WebClient wc = new WebClient();
        wc.getOptions().setThrowExceptionOnScriptError(true);
        wc.getOptions().setCssEnabled(false);
        return wc;
    }

    @Test
    void opensOnTheFindingsAndNamesThePlantedNeuronFirst() throws IOException {
        Path file = render(RealResults.quickstartLike());
        try (WebClient wc = browser()) {
            HtmlPage page = wc.getPage(file.toUri().toURL());
            List<DomElement> sections = page.getElementsByTagName("section");
            assertEquals("findings", sections.get(0).getId(), "the first section is the findings");
            String first = firstWithClass(sections.get(0), "finding ");
            assertTrue(first.contains("conv #" + RealResults.WATERMARK_CHANNEL) && first.contains("watermark"), first);
            assertTrue(first.contains("Cohen's d") && first.contains("95% CI"), first);
            // one dead channel of three is worth knowing, listed after what the analyses set out to find
            String info = firstWithClass(sections.get(0), "finding info");
            assertTrue(info.contains("1 of 3 neurons of conv never fire"), info);
            assertTrue(page.asXml().contains("class=\"evidence\""), "inline evidence is drawn");
            assertFalse(page.asXml().contains("class=\"error\""), "no section failed to draw");
        }
    }

    @Test
    void tablesSortWhenTheirHeaderIsClickedAndFilterWhenTyped() throws IOException {
        Path file = render(RealResults.quickstartLike());
        try (WebClient wc = browser()) {
            HtmlPage page = wc.getPage(file.toUri().toURL());
            HtmlTable table = (HtmlTable) page.getByXPath("//div[@id='" + PartViews.partAnchor("census", "conv-stats")
                    + "']//table").get(0);
            int meanColumn = 1;
            ((HtmlElement) table.getHeader().getRows().get(0).getCell(meanColumn)).click();
            List<Double> asc = column(table, meanColumn);
            List<Double> sorted = new ArrayList<>(asc);
            sorted.sort(Double::compare);
            assertEquals(sorted, asc, "ascending after one click");
            ((HtmlElement) table.getHeader().getRows().get(0).getCell(meanColumn)).click();
            List<Double> desc = column(table, meanColumn);
            sorted.sort((a, b) -> Double.compare(b, a));
            assertEquals(sorted, desc, "descending after a second click");

            // the conv layer's top examples: typing a class name leaves exactly the rows that mention it
            DomElement examples = page.getElementById(PartViews.partAnchor("top-examples", "conv-top"));
            HtmlTable rows = (HtmlTable) examples.getElementsByTagName("table").get(0);
            org.htmlunit.html.HtmlInput filter = (org.htmlunit.html.HtmlInput) examples.getElementsByTagName("input").get(0);
            int all = rows.getBodies().get(0).getRows().size();
            filter.type("b");
            int shown = 0;
            int matching = 0;
            for (HtmlTableRow r : rows.getBodies().get(0).getRows()) {
                boolean visible = !r.getAttribute("style").replace(" ", "").contains("display:none");
                boolean match = r.getCell(4).asNormalizedText().equals("b") || r.asNormalizedText().toLowerCase().contains("b");
                shown += visible ? 1 : 0;
                matching += match ? 1 : 0;
                assertEquals(match, visible, r.asNormalizedText());
            }
            assertTrue(matching > 0 && matching < all, "some rows of " + all + " mention b: " + matching);
            assertEquals(matching, shown);
        }
    }

    @Test
    void everyPartHasASectionAndEveryRankedNeuronACard() throws IOException {
        List<StepOutput> inputs = RealResults.quickstartLike();
        String html = Files.readString(render(inputs));
        for (StepOutput s : inputs) {
            for (var p : s.result().orElseThrow().parts()) {
                assertTrue(html.contains("id=\"" + PartViews.partAnchor(s.stepId(), p.id()) + "\""), p.id());
            }
        }
        assertTrue(html.contains("id=\"neuron-conv--" + RealResults.WATERMARK_CHANNEL + "\""), "card of the watermark channel");
        assertTrue(html.contains("href=\"#neuron-conv--" + RealResults.WATERMARK_CHANNEL + "\""), "links to it");
        assertTrue(html.contains("<svg class=\"chart\""), "bars and lines are inline SVG");
    }

    @Test
    void aNeuronCardShowsItsScorecardRow() throws IOException {
        List<StepOutput> inputs = RealResults.withScorecard();
        AnalysisResult breakdown = inputs.stream().filter(s -> s.stepId().equals("watermark-hunt")).findFirst().orElseThrow()
                .result().orElseThrow();
        double d = breakdown.part("conv-watermark-effect", NeuronTable.class).orElseThrow().column("d").orElseThrow()
                .values().get(RealResults.WATERMARK_CHANNEL);
        Path file = render(inputs);
        try (WebClient web = new WebClient()) {
            web.getOptions().setJavaScriptEnabled(false);
            HtmlPage page = web.getPage(file.toUri().toURL());
            DomElement card = page.getElementById("neuron-conv--" + RealResults.WATERMARK_CHANNEL);
            HtmlTable table = card.getFirstByXPath(".//div[@class='scorecard']//table");
            assertTrue(table != null, "the card of the watermark channel holds its scorecard row");
            Map<String, String> values = new java.util.LinkedHashMap<>();
            for (HtmlTableRow row : table.getRows().subList(1, table.getRowCount())) {
                values.put(row.getCell(0).asNormalizedText(), row.getCell(1).asNormalizedText());
            }
            assertEquals(List.of("coherence:watermark", "effect:class", "effect:watermark", "effect:texture"), List.copyOf(values.keySet()));
            assertEquals(Charts.number(d), values.get("effect:watermark"));
            assertEquals(Charts.number(1.0), values.get("coherence:watermark"), "its top examples all carry the watermark");
            assertEquals("method", table.getRow(0).getCell(0).asNormalizedText());
        }
        assertEquals(List.of("effect:watermark", "ablation"), NeuronCards.comparedColumns(
                "high effect but no ablation effect [columns: effect:watermark, ablation]"));
    }

    @Test
    void aNewAnalyzersNeuronTableGetsAChartWithNoVisualizerCode() throws IOException {
        float[] meanAbs = {0.5f, 2f, 1f};
        AnalysisResult r = AnalysisResult.builder().put("examples", 10)
                .part(new NeuronTable("dense-mean-abs", "dense: mean |activation|", "dense", 3,
                        List.of(NeuronTable.Column.of("meanAbs", "activation", meanAbs)), List.of(), ""))
                .build();
        String html = Files.readString(render(List.of(RealResults.output("mean-abs", "mean-abs", r))));
        int part = html.indexOf("id=\"" + PartViews.partAnchor("mean-abs", "dense-mean-abs") + "\"");
        assertTrue(part > 0, "the part has a section");
        assertTrue(html.indexOf("<svg class=\"chart\"", part) > part, "and a chart");
    }

    @Test
    void textExamplesAreHighlightedTokensInContextOnThePartTheFindingAndTheCard() throws IOException {
        var ctx1 = new ExampleSet.TextContext(List.of("[CLS]", " the", " <vile>", " end"), new float[]{0f, 0.5f, 2f, -1f}, 2, 0);
        var ctx2 = new ExampleSet.TextContext(List.of(" a", " vile", " zorblin"), new float[]{0.1f, 1f, Float.NaN}, 1, 3);
        ExampleSet set = new ExampleSet("block-top", "block: top contexts", "block", "top", "max", List.of(
                new ExampleSet.NeuronExamples(1, List.of(
                        new ExampleSet.Example(1, 7, "s-7", 2.0, 1, Map.of("token", "<vile>"), new int[]{2}, null, ctx1),
                        new ExampleSet.Example(2, 9, "s-9", 1.0, 0, Map.of(), new int[]{4}, null, ctx2)))),
                null, List.of("clean", "toxic"));
        var finding = new io.neuronmonkey.api.result.Finding("toxic-neuron", io.neuronmonkey.api.result.Finding.Severity.NOTABLE,
                "block #1 fires on toxic words", null, List.of(new io.neuronmonkey.api.result.NeuronRef("block", 1)),
                List.of("block-top"));
        AnalysisResult r = AnalysisResult.builder().part(set).finding(finding).build();
        String html = Files.readString(render(List.of(RealResults.output("top", "top-activations", r))));
        assertFalse(html.contains("<vile>"), "token text is escaped");
        assertTrue(html.contains("&lt;vile&gt;"), "and shown");
        assertTrue(html.contains("class=\"tok focus\" style=\"background: rgba(230, 85, 13, 0.85)\""),
                "the firing token is underlined and shaded at full strength");
        assertTrue(html.contains("style=\"background: rgba(49, 130, 189, 0.43)\""), "a negative value is shaded cool, by its share");
        assertTrue(html.contains("title=\"not observed\""), "a NaN value is not shaded");
        assertTrue(html.contains("\u2026"), "a window that starts after the first token says so");
        int findings = html.indexOf("id=\"findings\"");
        assertTrue(html.indexOf("class=\"texts\"", findings) > findings, "the finding shows the contexts inline");
        int card = html.indexOf("id=\"" + PartViews.neuronAnchor(new io.neuronmonkey.api.result.NeuronRef("block", 1)) + "\"");
        assertTrue(card > 0 && html.indexOf("top contexts", card) > card, "the neuron card shows its top contexts");
    }

    @Test
    void aPartThatCannotBeDrawnIsShownAndFailsTheStep() throws IOException {
        // int inputs cannot be drawn as pictures: a malformed part, as a buggy analyzer could write
        ExampleSet bad = new ExampleSet("x-top", "x: top", "x", "top", "max", List.of(new ExampleSet.NeuronExamples(0,
                List.of(new ExampleSet.Example(1, 0, "e0", 1.0, null, Map.of(), null, null)))),
                NdArray.of(Tensor.ofInts(new int[4], 1, 1, 2, 2), "neuron", "rank", "height", "width"), List.of());
        AnalysisResult r = AnalysisResult.builder().part(bad).build();
        var ctx = TestKit.visualizer(new HtmlReportVisualizer.Params(null, 60), out)
                .inputs(List.of(new StepOutput("broken", "analyzer", "x", null, Optional.of(r), List.of())))
                .run(RealResults.run()).build();
        OutputException e = assertThrows(OutputException.class, () -> new HtmlReportVisualizer().render(ctx));
        assertTrue(e.getMessage().contains("x-top") && e.getMessage().contains("could not be drawn"), e.getMessage());
        assertTrue(Files.readString(out.resolve("report.html")).contains("class=\"error\""), "the page shows it");
    }

    @Test
    void theRuntimesWarningsAboutTheDataComeBeforeEveryStepsFindings() throws IOException {
        var nan = new io.neuronmonkey.api.result.Finding("non-finite-inputs-probe", io.neuronmonkey.api.result.Finding.Severity.WARNING,
                "data set 'probe' has 12 NaN or infinite input values", null, List.of(), List.of());
        var ctx = TestKit.visualizer(new HtmlReportVisualizer.Params(null, 60), out).inputs(RealResults.quickstartLike())
                .run(RealResults.run(List.of(nan))).build();
        new HtmlReportVisualizer().render(ctx);
        try (WebClient wc = browser()) {
            HtmlPage page = wc.getPage(out.resolve("report.html").toUri().toURL());
            String first = firstWithClass(page.getElementsByTagName("section").get(0), "finding ");
            assertTrue(first.startsWith("warning data set 'probe' has 12 NaN"), first);
            assertTrue(first.contains("found by the runtime"), first);
        }
    }

    @Test
    void saysHowTheRunStoodAndFoldsProvenance() throws IOException {
        String html = Files.readString(render(RealResults.quickstartLike()));
        assertTrue(html.contains("1 of 1 step before this report completed"), html.substring(0, 2000));
        int prov = html.indexOf("id=\"provenance\"");
        assertTrue(prov > html.indexOf("id=\"findings\""), "provenance after the findings");
        assertTrue(html.indexOf("<details>", prov) > prov, "folded");
    }

    /** @return the text of the first element whose class attribute starts with {@code cls} */
    private static String firstWithClass(DomElement root, String cls) {
        for (DomElement e : root.getHtmlElementDescendants()) {
            if (e.getAttribute("class").startsWith(cls)) {
                return e.asNormalizedText();
            }
        }
        throw new AssertionError("no element of class '" + cls + "'");
    }

    private static List<Double> column(HtmlTable t, int c) {
        List<Double> v = new ArrayList<>();
        for (HtmlTableRow r : t.getBodies().get(0).getRows()) {
            v.add(Double.parseDouble(r.getCell(c).getAttribute("data-v")));
        }
        return v;
    }
}
