package io.neuronmonkey.features;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.attribution.TestSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The diversity term (checked against finite differences and on the demo CNN) and neurons from a ranking. */
class DiversityTest extends DemoCnnTest {

    private static Dataset data;

    @BeforeAll
    static void load() {
        data = TestSupport.shapes("decorrelated", 300);
    }

    /** The objective: minus the weight times the sum over groups of their mean pairwise cosine. */
    private static double objective(float[] x, int per, int size, double weight) {
        double[] c = Diversity.meanCosine(x, per, size);
        double s = 0;
        for (double v : c) {
            s += v / per;
        }
        return -weight * s;
    }

    @Test
    void theGradientMatchesFiniteDifferences() {
        int per = 3;
        int size = 7;
        float[] x = new float[2 * per * size];
        Random r = new Random(5);
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        float[] g = new float[x.length];
        Diversity.addGradient(x, per, size, 1.5, g);
        for (int i = 0; i < x.length; i++) {
            float[] up = x.clone();
            float[] down = x.clone();
            up[i] += 1e-3f;
            down[i] -= 1e-3f;
            double fd = (objective(up, per, size, 1.5) - objective(down, per, size, 1.5)) / (up[i] - down[i]);
            assertEquals(fd, g[i], 2e-3, "value " + i);
        }
        // identical images have cosine 1 with each other
        float[] same = new float[2 * size];
        for (int i = 0; i < size; i++) {
            same[i] = i;
            same[size + i] = 2 * i + 3;
        }
        assertEquals(1.0, Diversity.meanCosine(same, 2, size)[0], 1e-9);
    }

    private AnalysisResult run(double diversity) {
        var p = new FeatureVisualizationAnalyzer.Params("conv2", List.of(4), 3, 128, 0.2, 1, 0.0, 0.0, "fourier", null,
                100000, null, null, diversity, null, 4);
        return new FeatureVisualizationAnalyzer().analyze(new TestSupport.Context<>("fv", p, model, data, List.of("conv2"), 128, dir));
    }

    @Test
    void diversityPushesOneNeuronsImagesApart() {
        Matrix plain = run(0).part("activation", Matrix.class).orElseThrow();
        Matrix diverse = run(0.003).part("activation", Matrix.class).orElseThrow();
        int col = plain.cols().labels().indexOf("mean cosine to the neuron's other images");
        double before = 0;
        double after = 0;
        for (int i = 0; i < 3; i++) {
            before += plain.get(i, col) / 3;
            after += diverse.get(i, col) / 3;
            assertTrue(diverse.get(i, 2) > 1, "each diverse image still drives the channel above its data maximum");
        }
        System.out.printf("conv2 #4, 3 images: mean pairwise cosine %.3f without diversity, %.3f with weight 0.003%n", before, after);
        assertTrue(after < before - 0.3, before + " -> " + after);
    }

    @Test
    void neuronsComeFromAnEarlierRanking() {
        Ranking ranking = new Ranking("watermark-ranking", "neurons that track watermark", "d", List.of(
                entry("dense1", 3), entry("conv2", 9), entry("conv2", 4), entry("conv2", 9), entry("conv2", 2)), "");
        AnalysisResult earlier = AnalysisResult.builder().part(ranking).build();
        var p = new FeatureVisualizationAnalyzer.Params("conv2", null, 1, 4, 0.2, 0, 0.0, 0.0, "pixel", null, 100,
                null, null, 0.0, "census", 2);
        AnalysisResult r = new FeatureVisualizationAnalyzer().analyze(new TestSupport.Context<>("fv", p, model, data,
                List.of("conv2"), 128, Map.of("census", earlier), dir, 42));
        assertEquals(List.of(9, 4), r.summary().get("neurons"));
        var missing = assertThrows(IllegalArgumentException.class, () -> new FeatureVisualizationAnalyzer().analyze(
                new TestSupport.Context<>("fv", p, model, data, List.of("conv2"), 128, Map.of(), dir, 42)));
        assertTrue(missing.getMessage().contains("inputs"), missing.getMessage());
        var both = assertThrows(RuntimeException.class, () -> new FeatureVisualizationAnalyzer.Params("conv2", List.of(1), 1, 4,
                0.2, 0, 0.0, 0.0, "pixel", null, 100, null, null, 0.0, "census", 2));
        assertTrue(both.getMessage().contains("exactly one"), both.getMessage());
        var noRanking = assertThrows(IllegalArgumentException.class, () -> new FeatureVisualizationAnalyzer().analyze(
                new TestSupport.Context<>("fv", new FeatureVisualizationAnalyzer.Params("conv2", null, 1, 4, 0.2, 0, 0.0, 0.0,
                        "pixel", null, 100, null, null, 0.0, "census/other", 2), model, data, List.of("conv2"), 128,
                        Map.of("census", earlier), dir, 42)));
        assertTrue(noRanking.getMessage().contains("watermark-ranking"), noRanking.getMessage());
    }

    private static Ranking.Entry entry(String layer, int neuron) {
        return new Ranking.Entry(new NeuronRef(layer, neuron), 1.0, null, null, null, "");
    }
}
