package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.visualizers.HeatmapVisualizer.Normalize;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HeatmapVisualizerTest {

    /** Tolerance for float-to-double arithmetic on values of order 1. */
    private static final double EPS = 1e-6;

    @TempDir
    Path out;

    private TestContext<HeatmapVisualizer.Params> render(HeatmapVisualizer.Params p, List<StepOutput> inputs) {
        TestContext<HeatmapVisualizer.Params> ctx = new TestContext<>("heat", p, inputs, Fixtures.run(""), out);
        new HeatmapVisualizer().render(ctx);
        return ctx;
    }

    @Test
    void writesOneHeatmapPerLabelledLayerWithTheRequestedSize() throws IOException {
        var ctx = render(new HeatmapVisualizer.Params(600, 320, Normalize.NEURON, 256, null),
                List.of(Fixtures.censusStep()));

        assertEquals(2, ctx.written.size());
        for (Artifact a : ctx.written) {
            BufferedImage img = HistogramVisualizerTest.image(ctx, a);
            assertEquals(600, img.getWidth());
            assertEquals(320, img.getHeight());
            assertTrue(a.file().matches("heat/[A-Za-z0-9._-]+\\.png"), a.file());
            assertTrue(a.title().contains("each neuron scaled to [0,1]"), a.title());
        }
    }

    @Test
    void layersFilterKeepsOnlyTheNamedLayers() {
        var ctx = render(new HeatmapVisualizer.Params(400, 300, Normalize.NONE, 256, List.of("conv1")),
                List.of(Fixtures.censusStep()));

        assertEquals(1, ctx.written.size());
        assertTrue(ctx.written.get(0).title().startsWith("census: conv1 "));
        assertFalse(ctx.written.get(0).title().contains("scaled"));
    }

    @Test
    void unlabelledResultsFailWithAnExplanation() {
        OutputException e = assertThrows(OutputException.class, () -> render(
                new HeatmapVisualizer.Params(400, 300, Normalize.NEURON, 256, null),
                List.of(Fixtures.analyzerStep("census", Fixtures.unlabelled()))));

        assertTrue(e.getMessage().contains("labelled") && e.getMessage().contains("census:conv1"), e.getMessage());
    }

    @Test
    void neuronNormalizationScalesEachColumnToTheUnitRange() {
        HeatmapMatrix m = HeatmapMatrix.build(Fixtures.CONV1_CLASS_MEAN, 4, 3, Normalize.NEURON, 256);

        // column 0 holds 1, 3, 2, 5 (min 1, range 4); column 1 is constant (dead) and becomes 0; column 2 is 0.2..0.8
        double[][] expected = {
            {0.0, 0, 0.0},
            {0.5, 0, 1 / 3.0},
            {0.25, 0, 2 / 3.0},
            {1.0, 0, 1.0},
        };
        assertArrayEquals(new int[] {0, 1, 2}, m.neurons());
        for (int c = 0; c < 4; c++) {
            assertArrayEquals(expected[c], m.values()[c], EPS, "class " + c);
        }
        assertFalse(m.truncated());
    }

    @Test
    void noNormalizationKeepsTheRawMeans() {
        HeatmapMatrix m = HeatmapMatrix.build(Fixtures.DENSE1_CLASS_MEAN, 4, 5, Normalize.NONE, 256);

        for (int c = 0; c < 4; c++) {
            for (int n = 0; n < 5; n++) {
                assertEquals(Fixtures.DENSE1_CLASS_MEAN[c * 5 + n], m.values()[c][n], 0.0);
            }
        }
        assertEquals(-2.0, m.min(), 0.0);
        assertEquals(6.0, m.max(), 0.0);
    }

    @Test
    void maxNeuronsKeepsTheHighestVarianceNeuronsInIndexOrder() {
        // dense1 variances across classes: n0 0, n1 0.0875, n2 0, n3 8.75, n4 0 -> the top two are 3 and 1
        HeatmapMatrix m = HeatmapMatrix.build(Fixtures.DENSE1_CLASS_MEAN, 4, 5, Normalize.NONE, 2);

        assertArrayEquals(new int[] {1, 3}, m.neurons());
        assertTrue(m.truncated());
        assertEquals(5, m.totalNeurons());
        assertArrayEquals(new double[] {0.1f, -2.0}, m.values()[0], EPS);
        assertArrayEquals(new double[] {0.3f, 6.0}, m.values()[3], EPS);
    }

    @Test
    void topNeuronSelectionMatchesANaiveRanking() {
        Random rnd = new Random(7);
        int classes = 6;
        int neurons = 40;
        float[] means = new float[classes * neurons];
        for (int i = 0; i < means.length; i++) {
            means[i] = (float) (rnd.nextGaussian() * (1 + i % neurons));
        }
        HeatmapMatrix m = HeatmapMatrix.build(means, classes, neurons, Normalize.NEURON, 10);

        // naive: variance as E[x^2] - E[x]^2, pick the 10 largest by repeated arg-max, then sort by index
        double[] var = new double[neurons];
        for (int n = 0; n < neurons; n++) {
            double s = 0;
            double s2 = 0;
            for (int c = 0; c < classes; c++) {
                s += means[c * neurons + n];
                s2 += (double) means[c * neurons + n] * means[c * neurons + n];
            }
            var[n] = s2 / classes - (s / classes) * (s / classes);
        }
        List<Integer> picked = new ArrayList<>();
        for (int k = 0; k < 10; k++) {
            int best = -1;
            for (int n = 0; n < neurons; n++) {
                if (!picked.contains(n) && (best < 0 || var[n] > var[best])) {
                    best = n;
                }
            }
            picked.add(best);
        }
        assertArrayEquals(picked.stream().sorted().mapToInt(Integer::intValue).toArray(), m.neurons());
        for (int j = 0; j < 10; j++) {
            double lo = Double.MAX_VALUE;
            double hi = -Double.MAX_VALUE;
            for (int c = 0; c < classes; c++) {
                lo = Math.min(lo, m.values()[c][j]);
                hi = Math.max(hi, m.values()[c][j]);
            }
            assertEquals(0.0, lo, EPS);
            assertEquals(1.0, hi, EPS);
        }
    }

    @Test
    void titleSaysWhenOnlyTheTopNeuronsAreShown() {
        var ctx = render(new HeatmapVisualizer.Params(500, 300, Normalize.NEURON, 2, List.of("block/dense1")),
                List.of(Fixtures.censusStep()));

        assertEquals("census: block/dense1 (MatMul, 5 neurons) - mean activation per class "
                + "(each neuron scaled to [0,1]; top 2 of 5 neurons by variance across classes)",
                ctx.written.get(0).title());
    }

    @Test
    void missingClassNamesFallBackToNumbers() {
        assertEquals(List.of("circle", "class 1"), HeatmapVisualizer.classNames(List.of("circle"), 2));
    }

    @Test
    void rejectsEveryBadParamAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new HeatmapVisualizer.Params(0, 0, null, 0, null));

        assertEquals(List.of("width", "height", "maxNeurons"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
