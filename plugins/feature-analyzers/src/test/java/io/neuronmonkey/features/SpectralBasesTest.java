package io.neuronmonkey.features;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.InputMaps;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.attribution.TestSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The FFT-based bases and the direction target on the real demo CNN: MACO keeps the data's mean magnitude spectrum
 * exactly and is seeded; a direction (the watermark's difference of channel means, as a concept vector would give)
 * is driven above its largest projection over the data, with the value checked against the model's own output.
 */
class SpectralBasesTest extends DemoCnnTest {

    private static Dataset data;

    @BeforeAll
    static void load() {
        data = TestSupport.shapes("decorrelated", 1000);
    }

    private static FeatureVisualizationAnalyzer.Params maco(int steps) {
        return new FeatureVisualizationAnalyzer.Params("conv2", List.of(4), 2, steps, 0.2, 1, 0.0, 0.0, "maco",
                List.of(22, 22, 27, 27), 100000, null, null, 0.0, null, 4, 0.0, 0.0, null, null, 64);
    }

    private AnalysisResult run(FeatureVisualizationAnalyzer.Params p, Map<String, AnalysisResult> inputs) {
        return new FeatureVisualizationAnalyzer().analyze(new TestSupport.Context<>("fv", p, model, data, List.of("conv2"),
                128, inputs, dir, 42));
    }

    @Test
    void macoKeepsTheDatasMeanMagnitudeExactlyAndIsSeeded() {
        FeatureVisualizationAnalyzer.Params p = maco(128);
        AnalysisResult a = run(p, Map.of());
        AnalysisResult b = run(p, Map.of());
        float[] x = a.part("optimized", InputMaps.class).orElseThrow().maps().floats();
        assertArrayEquals(x, b.part("optimized", InputMaps.class).orElseThrow().maps().floats(), 0f, "same params, same picture");

        // the magnitude: the mean amplitude spectrum of the first 64 examples, against a naive DFT of each
        Parametrization.Maco m = Parametrization.Maco.fromData(data, 64, 128, 28, 28, 1);
        double[] naive = new double[28 * 15];
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        int seen = 0;
        for (Iterator<Batch> it = data.batches(50); it.hasNext() && seen < 64; ) {
            float[] in = it.next().inputs().floats();
            for (int r = 0; r < in.length / 784 && seen < 64; r++, seen++) {
                double[] plane = new double[784];
                for (int q = 0; q < 784; q++) {
                    plane[q] = in[r * 784 + q];
                    lo = Math.min(lo, plane[q]);
                    hi = Math.max(hi, plane[q]);
                }
                double[] s = SpectraTest.naiveRfft2(plane, 28, 28);
                for (int f = 0; f < naive.length; f++) {
                    naive[f] += Math.hypot(s[2 * f], s[2 * f + 1]) / 64;
                }
            }
        }
        assertArrayEquals(naive, m.magnitude(), 1e-9);
        assertArrayEquals(new double[] {lo, hi}, m.range(), 0.0);
        assertEquals(List.of(lo, hi), a.summary().get("macoRange"));

        // the optimized images, before the output map, have exactly that magnitude (checked by a naive DFT)
        var opt = new FeatureVisualizationAnalyzer.Optimizer(model, model.layer("conv2").orElseThrow(), "conv2", p,
                new int[] {28, 28, 1}, 42, null, null, m);
        float[] again = opt.run();
        assertArrayEquals(x, again, 0f, "the analyzer's images are the optimizer's");
        double[] z = m.preImage(opt.parameters(), 2);
        double top = java.util.Arrays.stream(naive).max().orElseThrow();
        double worst = 0;
        for (int img = 0; img < 2; img++) {
            double[] s = SpectraTest.naiveRfft2(java.util.Arrays.copyOfRange(z, img * 784, (img + 1) * 784), 28, 28);
            for (int f = 0; f < naive.length; f++) {
                worst = Math.max(worst, Math.abs(Math.hypot(s[2 * f], s[2 * f + 1]) - naive[f]) / top);
            }
        }
        assertTrue(worst < 1e-4, "largest magnitude error relative to the largest magnitude: " + worst);
        for (float v : x) {
            assertTrue(v >= lo && v <= hi, "in the data range");
        }
        Matrix act = a.part("activation", Matrix.class).orElseThrow();
        System.out.printf("maco conv2 #4: reached %.3f, data max %.3f, patch-window energy share %.3f; magnitude error %.2e;"
                + " %s s per image%n", act.get(0, 0), act.get(0, 1), act.get(0, 3), worst, a.summary().get("secondsPerImage"));
        // the phase alone moves the channel: against the random-phase start of the same seed (the images' magnitude is
        // spread over the whole image, so the channel mean stays near the data's maximum rather than far above it)
        float[] start = m.image(m.init(2, new Random(42)), 2);
        float[] before = opt.values(start);
        System.out.printf("maco conv2 #4 at the random-phase start: %.3f, %.3f%n", before[0], before[1]);
        for (int img = 0; img < 2; img++) {
            assertTrue(act.get(img, 0) > 1.5 * before[img], "image " + img + ": " + act.get(img, 0) + " from " + before[img]);
            assertTrue(act.get(img, 0) > 0.7 * act.get(img, 1), "image " + img + " near the data maximum: " + act.get(img, 0));
        }
    }

    /** The watermark direction of conv2: mean channel means with the watermark on minus off, over the data. */
    private static List<Double> watermarkDirection(LayerInfo layer) {
        double[] on = new double[16];
        double[] off = new double[16];
        int[] counts = new int[2];
        for (Iterator<Batch> it = data.batches(200); it.hasNext(); ) {
            Batch b = it.next();
            float[] v = FeatureVisualizationAnalyzer.reduce(model.run(b.inputs(), List.of("conv2")).get("conv2"), layer,
                    java.util.stream.IntStream.range(0, 16).boxed().toList());
            for (int r = 0; r < b.size(); r++) {
                boolean marked = "on".equals(b.metadata().get(r).get("watermark"));
                counts[marked ? 0 : 1]++;
                for (int ch = 0; ch < 16; ch++) {
                    (marked ? on : off)[ch] += v[r * 16 + ch];
                }
            }
        }
        List<Double> d = new ArrayList<>();
        for (int ch = 0; ch < 16; ch++) {
            d.add(on[ch] / counts[0] - off[ch] / counts[1]);
        }
        return d;
    }

    private static FeatureVisualizationAnalyzer.Params direction(List<Double> weights, String from) {
        return new FeatureVisualizationAnalyzer.Params("conv2", null, 1, 256, 0.2, 1, 0.0, 0.0, "fourier",
                List.of(22, 22, 27, 27), 100000, null, null, 0.0, null, 4, 0.0, 0.0, weights, from, 256);
    }

    @Test
    void aDirectionIsDrivenAboveItsLargestProjectionOverTheData() {
        LayerInfo layer = model.layer("conv2").orElseThrow();
        List<Double> d = watermarkDirection(layer);
        AnalysisResult r = run(direction(d, null), Map.of());
        Matrix m = r.part("activation", Matrix.class).orElseThrow();
        double norm = Math.sqrt(d.stream().mapToDouble(v -> v * v).sum());
        // the data maximum: a plain loop over every example's channel means
        double dataMax = Double.NEGATIVE_INFINITY;
        for (Iterator<Batch> it = data.batches(128); it.hasNext(); ) {
            Batch b = it.next();
            float[] a = model.run(b.inputs(), List.of("conv2")).get("conv2").floats();
            for (int row = 0; row < b.size(); row++) {
                double s = 0;
                for (int q = 0; q < 196; q++) {
                    for (int ch = 0; ch < 16; ch++) {
                        s += d.get(ch) / norm * a[(row * 196 + q) * 16 + ch] / 196;
                    }
                }
                dataMax = Math.max(dataMax, s);
            }
        }
        assertEquals(dataMax, m.get(0, 1), 1e-4);
        // the reached value: the model's own output on the returned image
        InputMaps im = r.part("optimized", InputMaps.class).orElseThrow();
        float[] a = model.run(Tensor.ofFloats(im.maps().floats(), 1, 28, 28, 1), List.of("conv2")).get("conv2").floats();
        double reached = 0;
        for (int q = 0; q < 196; q++) {
            for (int ch = 0; ch < 16; ch++) {
                reached += d.get(ch) / norm * a[q * 16 + ch] / 196;
            }
        }
        assertEquals(reached, m.get(0, 0), 1e-4);
        System.out.printf("watermark direction (fourier): projection %.3f vs data max %.3f (%.1fx), patch-window share %.3f%n",
                reached, dataMax, reached / dataMax, m.get(0, 3));
        assertTrue(reached > 1.2 * dataMax, reached + " vs data max " + dataMax);
        // what the report shows: a direction, named, with the channels it weighs most
        assertTrue(im.target().contains("along the given direction"), im.target());
        assertEquals(List.of("conv2-direction-0"), im.exampleIds());
        Finding f = r.findings().get(0);
        assertTrue(f.claim().contains("projection"), f.claim());
        assertEquals(3, f.neurons().size());

        // the same direction as an earlier step's per-channel ranking (a concept-vectors CAV) gives the same picture
        List<Ranking.Entry> entries = new ArrayList<>();
        for (int ch = 15; ch >= 0; ch--) {
            entries.add(new Ranking.Entry(new NeuronRef("conv2", ch), d.get(ch), null, null, null, ""));
        }
        AnalysisResult cav = AnalysisResult.builder().part(new Ranking("cav-watermark-conv2", "channels along the CAV",
                "mean CAV weight", entries, "")).build();
        AnalysisResult viaRanking = run(direction(null, "tcav/cav-watermark-conv2"), Map.of("tcav", cav));
        assertArrayEquals(im.maps().floats(), viaRanking.part("optimized", InputMaps.class).orElseThrow().maps().floats(), 0f);
        assertTrue(viaRanking.part("optimized", InputMaps.class).orElseThrow().target().contains("cav-watermark-conv2 of tcav"));

        var missing = assertThrows(IllegalArgumentException.class, () -> run(direction(null, "tcav/cav-coin-conv2"),
                Map.of("tcav", cav)));
        assertTrue(missing.getMessage().contains("cav-watermark-conv2"), missing.getMessage());
        var length = assertThrows(IllegalArgumentException.class, () -> run(direction(List.of(1.0, 2.0), null), Map.of()));
        assertTrue(length.getMessage().contains("direction") && length.getMessage().contains("16"), length.getMessage());
        var both = assertThrows(RuntimeException.class, () -> new FeatureVisualizationAnalyzer.Params("conv2", List.of(4), 1, 4,
                0.2, 0, 0.0, 0.0, "pixel", null, 100, null, null, 0.0, null, 4, 0.0, 0.0, d, null, 64));
        assertTrue(both.getMessage().contains("exactly one"), both.getMessage());
    }

    @Test
    void badDirectionAndSpectrumParamsNameTheirField() {
        var e = assertThrows(RuntimeException.class, () -> new FeatureVisualizationAnalyzer.Params("conv2", null, 1, 4, 0.2, 0,
                0.0, 0.0, "maco", null, 100, List.of("max"), null, 0.0, null, 4, 0.0, 0.0, null, "tcav", 0));
        assertTrue(e.getMessage().contains("directionFrom") && e.getMessage().contains("STEP/PART"), e.getMessage());
        assertTrue(e.getMessage().contains("spectrumExamples") && e.getMessage().contains("found 0"), e.getMessage());
        assertTrue(e.getMessage().contains("position"), e.getMessage());
        var zero = assertThrows(RuntimeException.class, () -> new FeatureVisualizationAnalyzer.Params("conv2", null, 1, 4, 0.2, 0,
                0.0, 0.0, "fourier", null, 100, null, null, 0.0, null, 4, 0.0, 0.0, List.of(0.0, 0.0), null, 64));
        assertTrue(zero.getMessage().contains("direction") && zero.getMessage().contains("not all 0"), zero.getMessage());
        var basis = assertThrows(RuntimeException.class, () -> new FeatureVisualizationAnalyzer.Params("conv2", List.of(4), 1, 4,
                0.2, 0, 0.0, 0.0, "wavelet", null, 100));
        assertTrue(basis.getMessage().contains("pixel, cosine, fourier or maco"), basis.getMessage());
    }

    @Test
    void theWeightedTargetsGradientOverPositionsIsTheGradientOfTheProjectionOnChannelMeans() {
        // what the direction objective relies on: GradientTarget.weighted sums over positions
        float[] w = new float[16];
        Random rnd = new Random(5);
        for (int i = 0; i < 16; i++) {
            w[i] = (float) rnd.nextGaussian();
        }
        float[] x = new float[784];
        for (int i = 0; i < 784; i++) {
            x[i] = (float) (0.5 + 0.3 * rnd.nextGaussian());
        }
        float[] g = model.gradient(Tensor.ofFloats(x, 1, 28, 28, 1), GradientTarget.weighted("conv2", w),
                model.layers().stream().filter(l -> l.role() == LayerInfo.Role.INPUT).findFirst().orElseThrow().name()).floats();
        float[] delta = new float[784];
        for (int i = 0; i < 784; i++) {
            delta[i] = (float) rnd.nextGaussian();
        }
        double eps = 1e-4;
        float[] plus = new float[784];
        float[] minus = new float[784];
        for (int i = 0; i < 784; i++) {
            plus[i] = (float) (x[i] + eps * delta[i]);
            minus[i] = (float) (x[i] - eps * delta[i]);
        }
        float[] both = new float[2 * 784];
        System.arraycopy(plus, 0, both, 0, 784);
        System.arraycopy(minus, 0, both, 784, 784);
        float[] proj = Directions.project(model.run(Tensor.ofFloats(both, 2, 28, 28, 1), List.of("conv2")).get("conv2"), w);
        double fd = (proj[0] - (double) proj[1]) / (2 * eps);
        double analytic = 0;
        for (int i = 0; i < 784; i++) {
            analytic += g[i] * (double) delta[i] / 196;
        }
        assertEquals(fd, analytic, 2e-2 * Math.abs(analytic) + 1e-3, "directional derivative of <w, channel means>");
    }
}
