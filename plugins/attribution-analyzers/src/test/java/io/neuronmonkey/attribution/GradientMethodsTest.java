package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Series;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** SmoothGrad against saliency, the randomization check and bad input, on the demo CNN. */
class GradientMethodsTest {

    static LoadedModel model;

    @BeforeAll
    static void load() {
        model = TestSupport.demoModel();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    @Test
    void smoothGradWithoutNoiseIsSaliencyAndTheSameSeedGivesTheSameMaps() {
        try (Dataset d = TestSupport.shapes("test", 8)) {
            Batch b = d.batches(8).next();
            Target.Bound t = Target.parse("predicted").orElseThrow().resolve(model, d.info(), "s");
            int[] rows = t.rows(model, b, null);
            for (boolean abs : new boolean[] {true, false}) {
                float[] saliency = new Saliency(abs, 1024).attribute(model, b, t, rows).floats();
                float[] smooth = new SmoothGrad(4, 0, abs, 42, 5).attribute(model, b, t, rows).floats();
                for (int i = 0; i < saliency.length; i++) {
                    assertEquals(saliency[i], smooth[i], 1e-6f * Math.max(1, Math.abs(saliency[i])), "element " + i);
                }
            }
            float[] a = new SmoothGrad(6, 0.2, true, 7, 1024).attribute(model, b, t, rows).floats();
            assertArrayEquals(a, new SmoothGrad(6, 0.2, true, 7, 1024).attribute(model, b, t, rows).floats(), "same seed, same maps");
            // the noise is drawn per example id: other chunks, or the example alone, give the same maps up to
            // TensorFlow's batch-size-dependent rounding
            float[] chunked = new SmoothGrad(6, 0.2, true, 7, 5).attribute(model, b, t, rows).floats();
            float[] alone = new SmoothGrad(6, 0.2, true, 7, 1024).attribute(model, ExampleFilter.select(b, new int[] {2}), t,
                    new int[] {rows[2]}).floats();
            for (int i = 0; i < a.length; i++) {
                assertEquals(a[i], chunked[i], 1e-5f * Math.max(1e-2f, Math.abs(a[i])), "chunked, element " + i);
                if (i >= 2 * 784 && i < 3 * 784) {
                    assertEquals(a[i], alone[i - 2 * 784], 1e-5f * Math.max(1e-2f, Math.abs(a[i])), "alone, element " + i);
                }
            }
            float[] other = new SmoothGrad(6, 0.2, true, 8, 1024).attribute(model, b, t, rows).floats();
            double diff = 0;
            for (int i = 0; i < a.length; i++) {
                diff = Math.max(diff, Math.abs(a[i] - other[i]));
            }
            assertTrue(diff > 1e-3, "another seed, other noise: max difference " + diff);
        }
    }

    @Test
    void randomizingEveryLayerDecorrelatesTheSaliencyMaps() {
        try (Dataset d = TestSupport.shapes("test", 16)) {
            AnalysisResult r = InputFixtures.run(new SaliencyAnalyzer(), InputFixtures.bind(SaliencyAnalyzer.Params.class,
                    "limit: 16\nsanityExamples: 16\ndeletion: false\n"), model, d, 16);
            Series s = r.part("sanity", Series.class).orElseThrow();
            float[] rho = s.curves().get(0).y().floats();
            assertEquals(model.parameterCounts().size(), rho.length);
            assertTrue(Math.abs(rho[rho.length - 1]) < 0.2, "rho with every layer randomized " + rho[rho.length - 1]);
            Finding f = r.findings().stream().filter(x -> x.id().equals("sanity")).findFirst().orElseThrow();
            assertEquals(Finding.Severity.INFO, f.severity(), f.claim());
            System.out.println("sanity (saliency): rho per k " + java.util.Arrays.toString(rho) + " " + r.summary().get("sanity"));
            AnalysisResult ig = InputFixtures.run(new IntegratedGradientsAnalyzer(), InputFixtures.bind(IntegratedGradientsAnalyzer.Params.class,
                    "limit: 16\nsanityExamples: 16\ndeletion: false\nsteps: 32\n"), model, d, 16);
            float[] igRho = ig.part("sanity", Series.class).orElseThrow().curves().get(0).y().floats();
            // IG from a zero baseline multiplies by the input: |map| is 0 on the background whatever the parameters, so
            // the ranks stay alike and the check says so
            double all = igRho[igRho.length - 1];
            Finding igFinding = ig.findings().stream().filter(x -> x.id().equals("sanity")).findFirst().orElseThrow();
            assertEquals(all > 0.5 ? Finding.Severity.WARNING : Finding.Severity.INFO, igFinding.severity(), igFinding.claim());
            assertTrue(all <= 0.5 || igFinding.claim().contains("do not explain it alone"), igFinding.claim());
            assertTrue(all < igRho[0], "randomizing more layers lowers rho: " + java.util.Arrays.toString(igRho));
            System.out.println("sanity (integrated gradients): rho per k " + java.util.Arrays.toString(igRho) + ": " + igFinding.claim());
        }
    }

    @Test
    void badInputNamesWhatIsValid() {
        try (Dataset d = TestSupport.shapes("test", 8)) {
            AnalysisException e = assertThrows(AnalysisException.class, () -> InputFixtures.run(new IntegratedGradientsAnalyzer(),
                    InputFixtures.bind(IntegratedGradientsAnalyzer.Params.class, "target: 'class:hexagon'\n"), model, d, 8));
            assertTrue(e.getMessage().contains("circle, square, triangle, cross"), e.getMessage());

            List<String> p = InputFixtures.problems(IntegratedGradientsAnalyzer.Params.class,
                    "baselines: [zero, 'gauss:2']\nrule: simpson\nsteps: 0\n");
            assertTrue(p.stream().anyMatch(x -> x.contains("params.baselines") && x.contains(Baseline.FORMS) && x.contains("gauss:2")), p.toString());
            assertTrue(p.stream().anyMatch(x -> x.contains("params.rule") && x.contains(PathRule.FORMS) && x.contains("simpson")), p.toString());
            assertTrue(p.stream().anyMatch(x -> x.contains("params.steps")), p.toString());
            assertThrows(InvalidParamsException.class, () -> new SmoothGradAnalyzer.Params("predicted", null, 1, -1, 0.1, true,
                    1024, 1, null, null, true, 1, 1, 1, true, 1));
            p = InputFixtures.problems(SaliencyAnalyzer.Params.class, "target: logit\nroi: [5, 5, 2, 2]\n");
            assertTrue(p.stream().anyMatch(x -> x.contains("params.target") && x.contains(Target.FORMS)), p.toString());
            assertTrue(p.stream().anyMatch(x -> x.contains("params.roi") && x.contains("top <= bottom")), p.toString());

            for (var run : List.<Runnable>of(
                    () -> InputFixtures.run(new SaliencyAnalyzer(), InputFixtures.bind(SaliencyAnalyzer.Params.class, ""),
                            InputFixtures.withoutGradients(model), d, 8),
                    () -> InputFixtures.run(new IntegratedGradientsAnalyzer(), InputFixtures.bind(IntegratedGradientsAnalyzer.Params.class, ""),
                            InputFixtures.withoutGradients(model), d, 8))) {
                e = assertThrows(AnalysisException.class, run::run);
                assertTrue(e.getMessage().contains("occlusion, ablation, activation-patching")
                        && e.getMessage().contains("gradient-free test backend"), e.getMessage());
            }
            e = assertThrows(AnalysisException.class, () -> InputFixtures.run(new SaliencyAnalyzer(),
                    InputFixtures.bind(SaliencyAnalyzer.Params.class, "roi: [20, 20, 30, 30]\nsanity: false\n"), model, d, 8));
            assertTrue(e.getMessage().contains("28 x 28"), e.getMessage());
            e = assertThrows(AnalysisException.class, () -> InputFixtures.run(new GradCamAnalyzer(),
                    InputFixtures.bind(GradCamAnalyzer.Params.class, "layer: dense1\nsanity: false\n"), model, d, 8));
            assertTrue(e.getMessage().contains("conv2"), e.getMessage());
            // occlusion needs no gradients: it runs on the gradient-free backend
            AnalysisResult occ = InputFixtures.run(new OcclusionAnalyzer(), InputFixtures.bind(OcclusionAnalyzer.Params.class,
                    "limit: 4\ndeletionExamples: 2\n"), InputFixtures.withoutGradients(model), d, 4);
            assertTrue(occ.part("maps", io.neuronmonkey.api.result.InputMaps.class).isPresent());
        }
    }
}
