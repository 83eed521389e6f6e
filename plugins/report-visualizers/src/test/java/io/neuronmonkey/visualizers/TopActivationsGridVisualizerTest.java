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

import static io.neuronmonkey.visualizers.TopActivationsGridVisualizer.CAPTION_HEIGHT;
import static io.neuronmonkey.visualizers.TopActivationsGridVisualizer.GAP;
import static io.neuronmonkey.visualizers.TopActivationsGridVisualizer.HEADER_HEIGHT;
import static io.neuronmonkey.visualizers.TopActivationsGridVisualizer.LABEL_WIDTH;
import static io.neuronmonkey.visualizers.TopActivationsGridVisualizer.cellX;
import static io.neuronmonkey.visualizers.TopActivationsGridVisualizer.cellY;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopActivationsGridVisualizerTest {

    private static final int CELL = 48;
    /** 8-pixel images in 48-pixel cells: every input pixel becomes a 6x6 block. */
    private static final int F = CELL / RankingFixtures.SIDE;
    private static final int REGION = TopActivationsGridVisualizer.REGION.getRGB() & 0xFFFFFF;

    @TempDir
    Path out;

    private static TopActivationsGridVisualizer.Params params(int cell, int maxNeurons, List<Double> range,
                                                             List<String> layers) {
        return new TopActivationsGridVisualizer.Params(cell, maxNeurons, range, true, layers);
    }

    private TestContext<TopActivationsGridVisualizer.Params> render(TopActivationsGridVisualizer.Params p,
                                                                    StepOutput... inputs) {
        var ctx = new TestContext<>("grid", p, List.of(inputs), Fixtures.run(""), out);
        new TopActivationsGridVisualizer().render(ctx);
        return ctx;
    }

    private static StepOutput top(boolean inputs, int bottomK, int channels) {
        return Fixtures.analyzerStep("top", RankingFixtures.topActivations(inputs, bottomK, channels));
    }

    private static int rgb(BufferedImage img, int x, int y) {
        return img.getRGB(x, y) & 0xFFFFFF;
    }

    @Test
    void gridIsLabelsPlusKCellsWideAndOneRowPerNeuronHigh() throws IOException {
        var ctx = render(params(CELL, 64, null, null), top(true, 0, 1));

        assertEquals(List.of("grid/top-conv1-top.png", "grid/top-dense1-top.png"),
                ctx.written.stream().map(Artifact::file).toList());
        for (Artifact a : ctx.written) {
            assertEquals("image/png", a.mediaType());
            BufferedImage img = HistogramVisualizerTest.image(ctx, a);
            assertEquals(LABEL_WIDTH + GAP + RankingFixtures.K * (CELL + GAP), img.getWidth());
            assertEquals(HEADER_HEIGHT + 2 * (CELL + CAPTION_HEIGHT + GAP) + GAP, img.getHeight());
        }
        assertEquals("top: conv1 - top 3 inputs per neuron (max over positions)", ctx.written.get(0).title());
    }

    @Test
    void plantedBrightPixelShowsAsABlockAtItsUpscaledPosition() throws IOException {
        // without region outlines, which would cross the planted block
        var ctx = render(new TopActivationsGridVisualizer.Params(CELL, 64, null, false, List.of("conv1")),
                top(true, 0, 1));
        BufferedImage img = HistogramVisualizerTest.image(ctx, ctx.written.get(0));

        // conv1, neuron 1 (row 1), rank 2 (column 1): black with one pixel at (3, 5) scaled to white
        int x0 = cellX(1, CELL);
        int y0 = cellY(1, CELL);
        int bx = x0 + RankingFixtures.BRIGHT_COL * F;
        int by = y0 + RankingFixtures.BRIGHT_ROW * F;
        for (int dy = 0; dy < F; dy++) {
            for (int dx = 0; dx < F; dx++) {
                assertEquals(0xFFFFFF, rgb(img, bx + dx, by + dy), "inside the block at +" + dx + ",+" + dy);
            }
        }
        assertEquals(0x000000, rgb(img, bx - 1, by + 2), "left of the block");
        assertEquals(0x000000, rgb(img, bx + F, by + 2), "right of the block");
        assertEquals(0x000000, rgb(img, bx + 2, by + F), "below the block");
    }

    @Test
    void regionIsOutlinedOnItsBorderPixelsOnSpatialLayersOnly() throws IOException {
        var ctx = render(params(CELL, 64, null, null), top(true, 0, 1));
        BufferedImage conv = HistogramVisualizerTest.image(ctx, ctx.written.get(0));

        // region [top 2, left 2, bottom 4, right 5], inclusive: upscaled rows 12..29 and columns 12..35 of the cell
        int x0 = cellX(0, CELL);
        int y0 = cellY(0, CELL);
        List<Integer> r = RankingFixtures.REGION;
        int top = y0 + r.get(0) * F;
        int left = x0 + r.get(1) * F;
        int bottom = y0 + (r.get(2) + 1) * F - 1;
        int right = x0 + (r.get(3) + 1) * F - 1;
        for (int x = left; x <= right; x++) {
            assertEquals(REGION, rgb(conv, x, top), "top edge at x=" + x);
            assertEquals(REGION, rgb(conv, x, bottom), "bottom edge at x=" + x);
        }
        for (int y = top; y <= bottom; y++) {
            assertEquals(REGION, rgb(conv, left, y), "left edge at y=" + y);
            assertEquals(REGION, rgb(conv, right, y), "right edge at y=" + y);
        }
        assertNotEquals(REGION, rgb(conv, left + 1, top + 1), "inside the box is the image");
        assertNotEquals(REGION, rgb(conv, left - 1, top), "outside the box is the image");
        assertNotEquals(REGION, rgb(conv, right + 1, bottom), "outside the box is the image");

        BufferedImage dense = HistogramVisualizerTest.image(ctx, ctx.written.get(1));
        for (int y = 0; y < dense.getHeight(); y++) {
            for (int x = 0; x < dense.getWidth(); x++) {
                assertNotEquals(REGION, rgb(dense, x, y), "dense layers have no region, at " + x + "," + y);
            }
        }
    }

    @Test
    void regionsCanBeTurnedOff() throws IOException {
        var ctx = render(new TopActivationsGridVisualizer.Params(CELL, 64, null, false, List.of("conv1")),
                top(true, 0, 1));
        BufferedImage img = HistogramVisualizerTest.image(ctx, ctx.written.get(0));

        assertNotEquals(REGION, rgb(img, cellX(0, CELL) + 2 * F, cellY(0, CELL) + 2 * F));
    }

    @Test
    void rgbImagesKeepTheirColours() throws IOException {
        var ctx = render(params(CELL, 64, null, List.of("conv1")), top(true, 0, 3));
        BufferedImage img = HistogramVisualizerTest.image(ctx, ctx.written.get(0));

        // the planted value sits in channel 0 (red) of an all-zero image
        int x = cellX(1, CELL) + RankingFixtures.BRIGHT_COL * F + 2;
        int y = cellY(1, CELL) + RankingFixtures.BRIGHT_ROW * F + 2;
        assertEquals(0xFF0000, rgb(img, x, y));
    }

    @Test
    void fixedRangeMapsValuesLinearlyInsteadOfPerImage() throws IOException {
        var ctx = render(params(CELL, 64, List.of(0.0, 2.0), List.of("conv1")), top(true, 0, 1));
        BufferedImage img = HistogramVisualizerTest.image(ctx, ctx.written.get(0));

        // the planted 1.0 on [0, 2] is mid grey: round(255 * 0.5) = 128
        int x = cellX(1, CELL) + RankingFixtures.BRIGHT_COL * F + 2;
        int y = cellY(1, CELL) + RankingFixtures.BRIGHT_ROW * F + 2;
        assertEquals(0x808080, rgb(img, x, y));
    }

    @Test
    void cellsWithoutAnExampleAreLeftEmpty() throws IOException {
        var ctx = render(params(CELL, 64, null, List.of("dense1")), top(true, 0, 1));
        BufferedImage img = HistogramVisualizerTest.image(ctx, ctx.written.get(0));

        // dense1 neuron 1 kept 2 of 3 examples: its third cell is the empty fill, with no caption under it
        int x = cellX(2, CELL);
        int y = cellY(1, CELL);
        assertEquals(TopActivationsGridVisualizer.EMPTY.getRGB() & 0xFFFFFF, rgb(img, x + CELL / 2, y + CELL / 2));
        assertFalse(hasInk(img, x, y + CELL, CELL, CAPTION_HEIGHT), "no caption under an empty cell");
        assertTrue(hasInk(img, cellX(1, CELL), y + CELL, CELL, CAPTION_HEIGHT), "a caption under a kept example");
    }

    @Test
    void bottomExamplesGetASecondPng() {
        var ctx = render(params(CELL, 64, null, null), top(true, RankingFixtures.K, 1));

        assertEquals(List.of("grid/top-conv1-top.png", "grid/top-conv1-bottom.png", "grid/top-dense1-top.png",
                "grid/top-dense1-bottom.png"), ctx.written.stream().map(Artifact::file).toList());
        assertTrue(ctx.written.get(1).title().contains("lowest 3 inputs per neuron"), ctx.written.get(1).title());
    }

    @Test
    void maxNeuronsLimitsTheRowsAndSaysSo() throws IOException {
        var ctx = render(params(CELL, 1, null, List.of("conv1")), top(true, 0, 1));
        BufferedImage img = HistogramVisualizerTest.image(ctx, ctx.written.get(0));

        assertEquals(HEADER_HEIGHT + (CELL + CAPTION_HEIGHT + GAP) + GAP, img.getHeight());
        assertTrue(ctx.written.get(0).title().endsWith(", first 1 of 2 neurons"), ctx.written.get(0).title());
    }

    @Test
    void resultsWithoutInputImagesFailWithTheRemedy() {
        OutputException e = assertThrows(OutputException.class,
                () -> render(params(CELL, 64, null, null), top(false, 0, 1)));

        assertTrue(e.getMessage().contains("includeInputs: true"), e.getMessage());
    }

    @Test
    void unknownLayerIsReportedWithTheKnownOnes() {
        OutputException e = assertThrows(OutputException.class,
                () -> render(params(CELL, 64, null, List.of("conv9")), top(true, 0, 1)));

        assertTrue(e.getMessage().contains("[conv9]") && e.getMessage().contains("conv1, dense1"), e.getMessage());
    }

    @Test
    void failsClearlyWithoutATopActivationsInput() {
        OutputException e = assertThrows(OutputException.class,
                () -> render(params(CELL, 64, null, null), Fixtures.censusStep()));

        assertTrue(e.getMessage().contains("census (activation-stats)"), e.getMessage());
    }

    @Test
    void reportsEveryBadParamAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new TopActivationsGridVisualizer.Params(4, 0, List.of(1.0, 0.0), true, List.of()));

        assertEquals(List.of("cellSize", "maxNeurons", "range", "layers"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }

    private static boolean hasInk(BufferedImage img, int x0, int y0, int w, int h) {
        for (int y = y0; y < y0 + h; y++) {
            for (int x = x0; x < x0 + w; x++) {
                if (rgb(img, x, y) != 0xFFFFFF) {
                    return true;
                }
            }
        }
        return false;
    }
}
