package io.neuronmonkey.features;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.result.InputMaps;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.attribution.TestSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Feature visualization on the real demo CNN: the watermark channel's optimized input. */
class FeatureVisualizationAnalyzerTest extends DemoCnnTest {

    private static Dataset data;

    @BeforeAll
    static void load() {
        data = TestSupport.shapes("test", 512);
    }

    private AnalysisResult run(FeatureVisualizationAnalyzer.Params p) {
        return new FeatureVisualizationAnalyzer().analyze(new TestSupport.Context<>("fv", p, model, data, List.of("conv2"), 128, dir));
    }

    static FeatureVisualizationAnalyzer.Params watermark(String basis, int images) {
        return new FeatureVisualizationAnalyzer.Params("conv2", List.of(4), images, 256, 0.2, 1, 0.0, 0.0, basis,
                List.of(22, 22, 27, 27), 100000);
    }

    @Test
    void withRandomRotationAndScalingTheWatermarkChannelStillFarExceedsItsDataMaximumAndTheImageDiffers() {
        FeatureVisualizationAnalyzer.Params plain = watermark("fourier", 1);
        FeatureVisualizationAnalyzer.Params robust = new FeatureVisualizationAnalyzer.Params("conv2", List.of(4), 1, 256, 0.2, 1,
                0.0, 0.0, "fourier", List.of(22, 22, 27, 27), 100000, null, null, 0.0, null, 4, 10.0, 0.1);
        AnalysisResult a = run(plain);
        AnalysisResult b = run(robust);
        Matrix m = b.part("activation", Matrix.class).orElseThrow();
        float[] v = m.values().floats();
        System.out.printf("rotate 10, scale 0.1: reached %.3f, data max %.3f%n", v[0], v[1]);
        assertTrue(v[0] > 3 * v[1], "reached " + v[0] + " vs data max " + v[1]);
        float[] x = a.part("optimized", InputMaps.class).orElseThrow().maps().floats();
        float[] y = b.part("optimized", InputMaps.class).orElseThrow().maps().floats();
        double diff = 0;
        for (int i = 0; i < x.length; i++) {
            diff = Math.max(diff, Math.abs(x[i] - y[i]));
        }
        assertTrue(diff > 0.05, "the transforms change the optimized image, max difference " + diff);
        var bad = assertThrows(RuntimeException.class, () -> new FeatureVisualizationAnalyzer.Params("conv2", List.of(4), 1, 1, 0.2, 1,
                0.0, 0.0, "fourier", null, 10, null, null, 0.0, null, 4, 200.0, 0.9));
        assertTrue(bad.getMessage().contains("rotate") && bad.getMessage().contains("scale"), bad.getMessage());
    }

    @Test
    void theWatermarkChannelsOptimizedInputFarExceedsItsDataMaximum() {
        for (String basis : List.of("fourier", "pixel")) {
            AnalysisResult r = run(watermark(basis, 2));
            Matrix m = r.part("activation", Matrix.class).orElseThrow();
            float[] v = m.values().floats();
            int cols = m.cols().labels().size();
            float[] maps = r.part("optimized", InputMaps.class).orElseThrow().maps().floats();
            float[] again = model.run(io.neuronmonkey.api.tensor.Tensor.ofFloats(maps, 2, 28, 28, 1), List.of("conv2")).get("conv2").floats();
            for (int img = 0; img < 2; img++) {
                float reached = v[img * cols];
                float dataMax = v[img * cols + 1];
                System.out.printf("%s image %d: reached %.3f, data max %.3f, energy share %.3f (area %.3f), %s s per image%n",
                        basis, img, reached, dataMax, v[img * cols + 3], v[img * cols + 4], r.summary().get("secondsPerImage"));
                assertTrue(reached > 3 * dataMax, basis + ": " + reached + " vs data max " + dataMax);
                // the table's value is the channel mean of the model's own output on the returned image
                double mean = 0;
                double in = 0;
                double all = 0;
                int pos = again.length / (2 * 16);
                for (int q = 0; q < pos; q++) {
                    mean += again[(img * pos + q) * 16 + 4] / (double) pos;
                }
                for (int i = 0; i < 28; i++) {
                    for (int j = 0; j < 28; j++) {
                        double x = maps[img * 784 + i * 28 + j];
                        all += x * x;
                        in += i >= 22 && j >= 22 ? x * x : 0;
                    }
                }
                assertEquals(mean, reached, 1e-4);
                assertEquals(in / all, v[img * cols + 3], 1e-5);
                for (int i = 0; i < 784; i++) {
                    assertTrue(maps[img * 784 + i] >= 0 && maps[img * 784 + i] <= 1, "inputs stay in the data range");
                }
            }
            assertEquals(36f / 784, v[4], 1e-6);
            assertEquals(2, r.part("optimized", InputMaps.class).orElseThrow().exampleIds().size());
        }
    }

    @Test
    void theSameParamsGiveTheSamePicture() {
        FeatureVisualizationAnalyzer.Params p = new FeatureVisualizationAnalyzer.Params("dense1", List.of(3, 5), 1, 20, 0.05, 2,
                0.01, 0.01, "fourier", null, 64);
        float[] a = run(p).part("optimized", InputMaps.class).orElseThrow().maps().floats();
        float[] b = run(p).part("optimized", InputMaps.class).orElseThrow().maps().floats();
        assertArrayEquals(a, b);
    }

    @Test
    void dataMaxEqualsAPlainLoopOverExamples() {
        var layer = model.layer("conv2").orElseThrow();
        float[] max = FeatureVisualizationAnalyzer.dataMax(data, model, layer, List.of(4, 9), 100, 32);
        float[] naive = {Float.NEGATIVE_INFINITY, Float.NEGATIVE_INFINITY};
        var it = data.batches(7);
        int seen = 0;
        while (it.hasNext() && seen < 100) {
            var b = it.next();
            float[] a = model.run(b.inputs(), List.of("conv2")).get("conv2").floats();
            int per = a.length / b.size();
            for (int r = 0; r < b.size() && seen < 100; r++, seen++) {
                for (int k = 0; k < 2; k++) {
                    int ch = k == 0 ? 4 : 9;
                    double s = 0;
                    for (int q = ch; q < per; q += 16) {
                        s += a[r * per + q];
                    }
                    naive[k] = Math.max(naive[k], (float) (s / (per / 16)));
                }
            }
        }
        assertArrayEquals(naive, max, 1e-5f);
    }

    @Test
    void badParamsAreRejectedWithTheField() {
        var e = assertThrows(RuntimeException.class, () -> new FeatureVisualizationAnalyzer.Params("conv2", List.of(4), 1, 0,
                0.05, 1, 0, 0, "wavelet", null, 1));
        assertTrue(e.getMessage().contains("steps") && e.getMessage().contains("basis"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> run(new FeatureVisualizationAnalyzer.Params("conv2",
                List.of(16), 1, 1, 0.05, 1, 0, 0, "pixel", null, 1)));
        assertTrue(e2.getMessage().contains("neurons"), e2.getMessage());
    }
}
