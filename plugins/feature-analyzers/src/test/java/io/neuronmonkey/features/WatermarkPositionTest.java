package io.neuronmonkey.features;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.attribution.TestSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ground truth of feature visualization at one position: the demo CNN's watermark channel conv2 #4, maximized at
 * the position where it fires most over the data, puts its input's energy on the planted 3x3 watermark patch (rows
 * and cols 24..26); other channels at their own peak positions, and the same channel at a position far from the
 * patch, do not.
 */
class WatermarkPositionTest extends DemoCnnTest {

    private static final List<Integer> PATCH = List.of(24, 24, 26, 26);
    private static final int WATERMARK = 4;
    private static Dataset data;

    @BeforeAll
    static void load() {
        data = TestSupport.shapes("decorrelated", 1000);
    }

    private AnalysisResult run(List<Integer> neurons, List<String> position) {
        return run(neurons, position, "fourier");
    }

    private AnalysisResult run(List<Integer> neurons, List<String> position, String basis) {
        var p = new FeatureVisualizationAnalyzer.Params("conv2", neurons, 1, 256, 0.2, 0, 0.0, 0.0, basis, PATCH,
                100000, position, "conv2_bias", 0.0, null, 4);
        return new FeatureVisualizationAnalyzer().analyze(new TestSupport.Context<>("fv", p, model, data, List.of("conv2"), 128, dir));
    }

    private static int col(Matrix m, String label) {
        int c = m.cols().labels().indexOf(label);
        assertTrue(c >= 0, label + " in " + m.cols().labels());
        return c;
    }

    @ParameterizedTest(name = "basis {0}")
    @ValueSource(strings = {"cosine", "fourier"})
    void theWatermarkChannelAtItsPeakPositionPutsItsEnergyOnThePatch(String basis) {
        List<Integer> all = IntStream.range(0, 16).boxed().toList();
        AnalysisResult r = run(all, List.of("max"), basis);
        Matrix m = r.part("activation", Matrix.class).orElseThrow();
        @SuppressWarnings("unchecked")
        List<List<Integer>> positions = (List<List<Integer>>) r.summary().get("positions");
        int patch = col(m, "region energy share");
        int patchArea = col(m, "region area share");
        int ofField = col(m, "region energy share of field");
        int areaOfField = col(m, "region area share of field");
        int field = col(m, "field energy share");
        double share = m.get(WATERMARK, patch);
        System.out.printf(basis + ": conv2 #4 peaks at %s: %.1f%% of the optimized image's energy in the patch (%.1f%% of the"
                        + " image), %.1f%% of its field's energy (%.1f%% of the field's area), %.1f%% in the field;"
                        + " %.3f s per image%n", positions.get(WATERMARK), 100 * share, 100 * m.get(WATERMARK, patchArea),
                100 * m.get(WATERMARK, ofField), 100 * m.get(WATERMARK, areaOfField), 100 * m.get(WATERMARK, field),
                (double) r.summary().get("secondsPerImage"));
        // over the real data the watermark channel fires most where the patch is: its field holds the whole patch
        assertEquals(1.0, m.get(WATERMARK, areaOfField) * 49 / 9, 0.3, "the field of " + positions.get(WATERMARK)
                + " covers the 9 patch pixels");
        // a fifth of the energy on 1.1% of the image; well above the patch's share of the field's area
        assertTrue(share > 0.2, "patch share " + share);
        assertTrue(m.get(WATERMARK, ofField) > 1.3 * m.get(WATERMARK, areaOfField), "field: " + m.get(WATERMARK, ofField));
        assertTrue(m.get(WATERMARK, field) > 0.8, "the energy stays in the position's receptive field");
        // control: the other channels at their own peak positions put less on the patch, nearly all of them
        int below = 0;
        for (int c = 0; c < 16; c++) {
            if (c != WATERMARK && m.get(c, patch) < share) {
                below++;
            }
        }
        assertTrue(below >= 13, below + " of 15 other channels put less energy on the patch");
    }

    @Test
    void atAPositionFarFromThePatchNothingLandsOnIt() {
        AnalysisResult r = run(List.of(WATERMARK), List.of("3", "3"));
        Matrix m = r.part("activation", Matrix.class).orElseThrow();
        assertTrue(m.get(0, col(m, "region energy share")) < 0.01, "patch share " + m.get(0, col(m, "region energy share")));
        assertTrue(m.get(0, col(m, "field energy share")) > 0.5, "the energy follows the position");
        assertTrue(m.get(0, col(m, "ratio")) > 1, "the unit is driven above its data maximum at that position");
        assertTrue(r.findings().get(0).claim().contains("at position (3, 3)"), r.findings().get(0).claim());
    }

    @Test
    void badPositionsAreRefused() {
        var e = assertThrows(RuntimeException.class, () -> run(List.of(4), List.of("14", "0")));
        assertTrue(e.getMessage().contains("outside the 14 x 14 grid"), e.getMessage());
        var e2 = assertThrows(RuntimeException.class, () -> new FeatureVisualizationAnalyzer.Params("conv2", List.of(4), 1, 1,
                0.2, 0, 0, 0, "pixel", null, 10, List.of("top"), null, 0.0, null, 4));
        assertTrue(e2.getMessage().contains("position"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> new FeatureVisualizationAnalyzer().analyze(
                new TestSupport.Context<>("fv", new FeatureVisualizationAnalyzer.Params("dense1", List.of(1), 1, 1, 0.2, 0, 0, 0,
                        "pixel", null, 10, List.of("max"), null, 0.0, null, 4), model, data, List.of("dense1"), 128, dir)));
        assertTrue(e3.getMessage().contains("grid"), e3.getMessage());
        var e4 = assertThrows(IllegalArgumentException.class, () -> new FeatureVisualizationAnalyzer().analyze(
                new TestSupport.Context<>("fv", new FeatureVisualizationAnalyzer.Params("conv2", List.of(1), 1, 1, 0.2, 0, 0, 0,
                        "pixel", null, 10, null, "pool2", 0.0, null, 4), model, data, List.of("conv2"), 128, dir)));
        assertTrue(e4.getMessage().contains("preActivation"), e4.getMessage());
    }
}
