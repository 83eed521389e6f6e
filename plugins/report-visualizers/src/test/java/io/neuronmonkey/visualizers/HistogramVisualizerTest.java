package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.StepOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HistogramVisualizerTest {

    @TempDir
    Path out;

    private TestContext<HistogramVisualizer.Params> render(HistogramVisualizer.Params p, List<StepOutput> inputs) {
        TestContext<HistogramVisualizer.Params> ctx = new TestContext<>("hist", p, inputs, Fixtures.run(""), out);
        new HistogramVisualizer().render(ctx);
        return ctx;
    }

    static BufferedImage image(TestContext<?> ctx, Artifact a) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(ctx.read(a)));
        assertNotNull(img, a.file() + " is not an image ImageIO can read");
        return img;
    }

    @Test
    void writesOnePngPerLayerWithTheRequestedSize() throws IOException {
        var ctx = render(new HistogramVisualizer.Params(500, 300, false, null), List.of(Fixtures.censusStep()));

        assertEquals(2, ctx.written.size());
        for (Artifact a : ctx.written) {
            assertEquals("image/png", a.mediaType());
            assertTrue(Files.isRegularFile(out.resolve(a.file())), a.file());
            BufferedImage img = image(ctx, a);
            assertEquals(500, img.getWidth());
            assertEquals(300, img.getHeight());
        }
        assertEquals("hist/census-conv1.png", ctx.written.get(0).file());
        assertEquals("hist/census-block_dense1.png", ctx.written.get(1).file());
        assertTrue(ctx.written.get(0).title().startsWith("census: conv1 (Relu, 3 neurons)"),
                ctx.written.get(0).title());
    }

    @Test
    void layersFilterKeepsOnlyTheNamedLayers() {
        var ctx = render(new HistogramVisualizer.Params(400, 250, false, List.of("block/dense1")),
                List.of(Fixtures.censusStep()));

        assertEquals(1, ctx.written.size());
        assertTrue(ctx.written.get(0).title().startsWith("census: block/dense1 (MatMul, 5 neurons)"));
    }

    @Test
    void logScaleDrawsAValidPngEvenWithEmptyBins() throws IOException {
        var ctx = render(new HistogramVisualizer.Params(640, 360, true, null), List.of(Fixtures.censusStep()));

        assertEquals(2, ctx.written.size());
        assertEquals(640, image(ctx, ctx.written.get(0)).getWidth());
    }

    @Test
    void sameLayerNamesInTwoStepsGetDistinctFiles() {
        StepOutput other = Fixtures.analyzerStep("census2", Fixtures.census());
        var ctx = render(new HistogramVisualizer.Params(400, 250, false, List.of("conv1")),
                List.of(Fixtures.censusStep(), other));

        assertEquals(List.of("hist/census-conv1.png", "hist/census2-conv1.png"),
                ctx.written.stream().map(Artifact::file).toList());
    }

    @Test
    void subtitleCountsDeadAndAlwaysOnNeurons() {
        ActivationStats stats = ActivationStats.parse("census", "probe", Fixtures.census());

        assertEquals("dead: 2, always-on: 1 of 5 neurons  \u00b7  100 examples  \u00b7  sparsity 52.0%",
                HistogramVisualizer.subtitle(stats, stats.layers().get(1)));
    }

    @Test
    void unknownLayerInFilterIsReportedWithTheKnownOnes() {
        OutputException e = assertThrows(OutputException.class, () -> render(
                new HistogramVisualizer.Params(400, 250, false, List.of("conv9")), List.of(Fixtures.censusStep())));

        assertTrue(e.getMessage().contains("conv9") && e.getMessage().contains("conv1, block/dense1"),
                e.getMessage());
    }

    @Test
    void failsClearlyWithoutAnActivationStatsInput() {
        AnalysisResult other = AnalysisResult.builder().put("analyzer", "top-activations").build();
        OutputException e = assertThrows(OutputException.class, () -> render(
                new HistogramVisualizer.Params(400, 250, false, null),
                List.of(new StepOutput("top", "analyzer", "top-activations", "probe", Optional.of(other),
                        List.of()))));

        assertTrue(e.getMessage().contains("top (top-activations)"), e.getMessage());
    }

    @Test
    void malformedSummaryNamesThePathOfTheBadValue() {
        AnalysisResult bad = AnalysisResult.builder().put("analyzer", "activation-stats")
                .put("layers", List.of(Map.of("name", "conv1", "histogram",
                        Map.of("edges", List.of(0, 1), "counts", List.of("many"))))).build();

        OutputException e = assertThrows(OutputException.class, () -> render(
                new HistogramVisualizer.Params(400, 250, false, null), List.of(Fixtures.analyzerStep("s", bad))));

        assertTrue(e.getMessage().contains("layers[0].histogram.counts[0]"), e.getMessage());
    }

    @Test
    void rejectsEveryBadParamAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new HistogramVisualizer.Params(10, 100000, false, List.of()));

        assertEquals(List.of("width", "height", "layers"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
