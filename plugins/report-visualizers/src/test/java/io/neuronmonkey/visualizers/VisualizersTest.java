package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.testkit.TestKit;
import io.neuronmonkey.testkit.VisualizerContexts;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.xy.XYDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The four picture visualizers, each fed with the real analyzers' output. */
class VisualizersTest {

    @TempDir
    Path out;

    static final List<StepOutput> RESULTS = RealResults.quickstartLike();

    private <P extends Record> VisualizerContexts.Written<P> context(String id, P params, List<StepOutput> inputs) {
        return TestKit.visualizer(params, out).stepId(id).inputs(inputs).run(RealResults.run()).build();
    }

    static BufferedImage image(VisualizerContexts.Written<?> ctx, Artifact a) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(ctx.read(a)));
        assertNotNull(img, a.file() + " is not an image ImageIO can read");
        return img;
    }

    @Test
    void histogramDrawsOnePngPerLayerAndPoolsEveryExampleOfEveryNeuron() throws IOException {
        var ctx = context("hist", new HistogramVisualizer.Params(500, 300, false, null), RESULTS);
        new HistogramVisualizer().render(ctx);

        assertEquals(2, ctx.written().size(), "one per layer: " + ctx.written());
        BufferedImage img = image(ctx, ctx.written().get(0));
        assertEquals(500, img.getWidth());
        assertEquals(300, img.getHeight());
        // the chart's bars add up to examples x neurons: every reduced value is counted once
        var found = Parts.all(RESULTS, Matrix.class, Parts::isHistogram);
        for (var f : found) {
            JFreeChart chart = HistogramVisualizer.chart(f, false);
            XYDataset d = ((XYPlot) chart.getPlot()).getDataset();
            double total = 0;
            for (int i = 0; i < d.getItemCount(0); i++) {
                total += d.getYValue(0, i);
            }
            assertEquals((double) RealResults.EXAMPLES * f.part().rows().size(), total, 1e-9, f.part().id());
        }
    }

    @Test
    void histogramLayerFilterNamesTheLayersThatExist() {
        var ctx = context("hist", new HistogramVisualizer.Params(500, 300, false, List.of("nope")), RESULTS);
        OutputException e = assertThrows(OutputException.class, () -> new HistogramVisualizer().render(ctx));
        assertTrue(e.getMessage().contains("[nope]") && e.getMessage().contains("conv, dense"), e.getMessage());
    }

    @Test
    void heatmapDrawsTheClassMeansOfEveryLabelledLayer() throws IOException {
        var ctx = context("heat", new HeatmapVisualizer.Params(720, 400, HeatmapVisualizer.Normalize.NEURON, 256, null), RESULTS);
        new HeatmapVisualizer().render(ctx);
        // the census's class means of both layers, and the breakdown's class means (the key named class) of both
        assertEquals(4, ctx.written().size(), ctx.written().toString());
        assertEquals(720, image(ctx, ctx.written().get(0)).getWidth());
    }

    @Test
    void visualizersSayWhatTheyNeedWhenNoInputHasIt() {
        List<StepOutput> onlyTops = List.of(RESULTS.get(1));
        var ctx = context("heat", new HeatmapVisualizer.Params(720, 400, HeatmapVisualizer.Normalize.NEURON, 256, null), onlyTops);
        OutputException e = assertThrows(OutputException.class, () -> new HeatmapVisualizer().render(ctx));
        assertTrue(e.getMessage().contains("class x neuron") && e.getMessage().contains("top-examples (top-activations: example-set)"),
                e.getMessage());
    }

    @Test
    void gridShowsThePlantedPixelInEveryTopExampleOfTheWatermarkChannel() throws IOException {
        var ctx = context("grid", new TopActivationsGridVisualizer.Params(32, 64, List.of(0.0, 1.0), false, null), RESULTS);
        new TopActivationsGridVisualizer().render(ctx);
        assertEquals(2, ctx.written().size(), "conv and dense: " + ctx.written());
        BufferedImage img = image(ctx, ctx.written().get(0));
        ExampleSet conv = RESULTS.get(1).result().orElseThrow().parts(ExampleSet.class).get(0);
        int k = conv.neurons().get(0).examples().size();
        assertEquals(TopActivationsGridVisualizer.imageWidth(k, 32), img.getWidth());
        // watermarked examples have input pixel (0, 0) = 1.0, others a random value; channel 1 ranks them first
        for (int j = 0; j < k; j++) {
            ExampleSet.Example e = conv.of(RealResults.WATERMARK_CHANNEL).orElseThrow().examples().get(j);
            assertEquals(0, e.index() % 3, "top example " + e.exampleId() + " of the watermark channel is watermarked");
            int x = TopActivationsGridVisualizer.cellX(j, 32);
            int y = TopActivationsGridVisualizer.cellY(RealResults.WATERMARK_CHANNEL, 32);
            assertEquals(0xFFFFFF, img.getRGB(x + 1, y + 1) & 0xFFFFFF, "rank " + (j + 1) + " top-left block is white");
        }
    }

    @Test
    void effectSizesDrawEveryRanking() throws IOException {
        var ctx = context("fx", new EffectSizesVisualizer.Params(20, null, 720), RESULTS);
        new EffectSizesVisualizer().render(ctx);
        assertEquals(3, ctx.written().size(), "class, watermark, texture: " + ctx.written());
        assertTrue(ctx.written().stream().anyMatch(a -> a.file().contains("watermark")), ctx.written().toString());
        assertEquals(720, image(ctx, ctx.written().get(0)).getWidth());

        var only = context("fx2", new EffectSizesVisualizer.Params(5, List.of("watermark"), 720), RESULTS);
        new EffectSizesVisualizer().render(only);
        assertEquals(1, only.written().size());
        var bad = context("fx3", new EffectSizesVisualizer.Params(5, List.of("colour"), 720), RESULTS);
        OutputException e = assertThrows(OutputException.class, () -> new EffectSizesVisualizer().render(bad));
        assertTrue(e.getMessage().contains("[colour]") && e.getMessage().contains("watermark"), e.getMessage());
    }

    @Test
    void effectSizesDrawTheLargestShiftsOfACensusDiff() {
        var ctx = context("fx", new EffectSizesVisualizer.Params(10, null, 720), RealResults.compareLike());
        new EffectSizesVisualizer().render(ctx);
        assertEquals(1, ctx.written().size(), ctx.written().toString());
    }
}
