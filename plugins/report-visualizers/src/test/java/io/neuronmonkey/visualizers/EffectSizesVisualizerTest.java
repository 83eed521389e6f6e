package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.StepOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EffectSizesVisualizerTest {

    @TempDir
    Path out;

    private TestContext<EffectSizesVisualizer.Params> render(EffectSizesVisualizer.Params p, StepOutput... in) {
        var ctx = new TestContext<>("effects", p, List.of(in), Fixtures.run(""), out);
        new EffectSizesVisualizer().render(ctx);
        return ctx;
    }

    private static StepOutput breakdown(boolean rankings) {
        return Fixtures.analyzerStep("breakdown", RankingFixtures.breakdown(rankings));
    }

    @Test
    void drawsOneBarChartPerKeyTitledWithItsContrast() throws IOException {
        var ctx = render(new EffectSizesVisualizer.Params(20, null, 720), breakdown(true));

        assertEquals(List.of("effects/breakdown-class-effect-sizes.png", "effects/breakdown-watermark-effect-sizes.png"),
                ctx.written.stream().map(Artifact::file).toList());
        assertEquals("breakdown: class (each value vs the rest) - top 2 neurons by |effect size|",
                ctx.written.get(0).title());
        assertEquals("breakdown: watermark (on vs off) - top 3 neurons by |effect size|", ctx.written.get(1).title());
        BufferedImage img = HistogramVisualizerTest.image(ctx, ctx.written.get(1));
        assertEquals(720, img.getWidth());
        assertEquals(EffectSizesVisualizer.height(3), img.getHeight());
        assertTrue(hasColour(img, Charts.BAR.getRGB()), "a positive effect is drawn blue");
        assertTrue(hasColour(img, Charts.MARKER.getRGB()), "conv1 #0's negative effect is drawn red");
    }

    @Test
    void ranksByAbsoluteEffectAcrossLayers() {
        ActivationBreakdown b = ActivationBreakdown.parse("breakdown", RankingFixtures.breakdown(true));

        List<String> labels = EffectSizesVisualizer.ranking(b, "watermark").stream()
                .map(EffectSizesVisualizer::label).toList();
        assertEquals(List.of("dense1 #2", "conv1 #0", "dense1 #0"), labels);
        // class has no overall ranking: the layers' rankings are merged and the value is part of the label
        assertEquals(List.of("dense1 #0 = square", "conv1 #0 = square"), EffectSizesVisualizer.ranking(b, "class")
                .stream().map(EffectSizesVisualizer::label).toList());
    }

    @Test
    void readsTheEffectArraysWhenTheSummaryHasNoRanking() {
        ActivationBreakdown b = ActivationBreakdown.parse("breakdown", RankingFixtures.breakdown(false));

        List<ActivationBreakdown.Ranked> rows = EffectSizesVisualizer.ranking(b, "watermark");
        assertEquals(7, rows.size(), "every neuron of both layers");
        assertEquals("dense1 #2", EffectSizesVisualizer.label(rows.get(0)));
        assertEquals(3.1, rows.get(0).effectSize(), 1e-6);
        assertEquals("dense1 #0 = square", EffectSizesVisualizer.label(EffectSizesVisualizer.ranking(b, "class")
                .get(0)));
    }

    @Test
    void topLimitsTheBarsAndKeysFilterTheCharts() throws IOException {
        var ctx = render(new EffectSizesVisualizer.Params(1, List.of("watermark"), 400), breakdown(true));

        assertEquals(1, ctx.written.size());
        assertTrue(ctx.written.get(0).title().endsWith("top 1 neurons by |effect size|"));
        assertEquals(EffectSizesVisualizer.height(1), HistogramVisualizerTest.image(ctx, ctx.written.get(0))
                .getHeight());
    }

    @Test
    void unknownKeyNamesTheKnownOnesAndWhyASkippedKeyIsMissing() {
        OutputException e = assertThrows(OutputException.class,
                () -> render(new EffectSizesVisualizer.Params(20, List.of("id"), 720), breakdown(true)));

        assertTrue(e.getMessage().contains("[id]") && e.getMessage().contains("class, watermark")
                && e.getMessage().contains("4000 distinct values > maxValues 12"), e.getMessage());
    }

    @Test
    void failsClearlyWithoutABreakdownInput() {
        OutputException e = assertThrows(OutputException.class,
                () -> render(new EffectSizesVisualizer.Params(20, null, 720), Fixtures.censusStep()));

        assertTrue(e.getMessage().contains("census (activation-stats)"), e.getMessage());
    }

    @Test
    void reportsEveryBadParamAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new EffectSizesVisualizer.Params(0, List.of(), 10));

        assertEquals(List.of("top", "keys", "width"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }

    private static boolean hasColour(BufferedImage img, int argb) {
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                if ((img.getRGB(x, y) & 0xFFFFFF) == (argb & 0xFFFFFF)) {
                    return true;
                }
            }
        }
        return false;
    }
}
