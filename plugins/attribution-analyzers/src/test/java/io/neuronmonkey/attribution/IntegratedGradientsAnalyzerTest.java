package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.InputMaps;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Integrated gradients on the demo CNN: completeness, step doubling, the planted watermark, deletion curves. */
class IntegratedGradientsAnalyzerTest {

    static LoadedModel model;

    @BeforeAll
    static void load() {
        model = TestSupport.demoModel();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static AnalysisResult run(String yaml, Dataset d, int batchSize) {
        return InputFixtures.run(new IntegratedGradientsAnalyzer(), InputFixtures.bind(IntegratedGradientsAnalyzer.Params.class, yaml),
                model, d, batchSize);
    }

    /** The logits of the examples and of all-zero inputs, computed apart from the analyzer. */
    static float[][] logitsAndZero(float[] inputs, int n) {
        String logits = model.logitsLayer();
        float[] at = model.run(Tensor.ofFloats(inputs.clone(), n, 28, 28, 1), List.of(logits)).get(logits).floats();
        float[] zero = model.run(Tensor.ofFloats(new float[n * 784], n, 28, 28, 1), List.of(logits)).get(logits).floats();
        return new float[][] {at, zero};
    }

    static int argmax(float[] v, int row) {
        int best = 0;
        for (int c = 1; c < 4; c++) {
            best = v[row * 4 + c] > v[row * 4 + best] ? c : best;
        }
        return best;
    }

    @Test
    void completenessWith64GaussLegendreStepsMatchesAnIndependentReference() {
        try (Dataset d = TestSupport.shapes("test", 64)) {
            AnalysisResult r = run("limit: 32\nkeep: 32\nsteps: 64\nrule: gauss-legendre\nbaselines: [zero]\n"
                    + "deletion: false\nsanity: false\n", d, 12);
            InputMaps maps = r.part("maps", InputMaps.class).orElseThrow();
            Matrix c = r.part("completeness", Matrix.class).orElseThrow();
            assertEquals(List.of("example", "height", "width", "channel"), maps.maps().dims());
            assertEquals(32, c.rows().size());
            assertEquals(maps.exampleIds(), c.rows().labels());
            float[] m = maps.maps().floats();
            float[][] f = logitsAndZero(maps.inputs().floats(), 32);
            double worst = 0;
            double mean = 0;
            int worstExample = -1;
            int over = 0;
            for (int e = 0; e < 32; e++) {
                int cls = argmax(f[0], e);
                double delta = f[0][e * 4 + cls] - f[1][e * 4 + cls];
                double sum = 0;
                for (int i = 0; i < 784; i++) {
                    sum += m[e * 784 + i];
                }
                double error = Math.abs(sum - delta) / Math.max(Math.abs(delta), 1e-6);
                if (error > worst) {
                    worst = error;
                    worstExample = e;
                }
                mean += error / 32;
                over += error > 0.01 ? 1 : 0;
                assertEquals(delta, c.get(e, 1), 1e-3 * Math.abs(delta), "delta column");
                assertEquals(sum, c.get(e, 0), 1e-3 * Math.abs(delta), "sum column");
                assertEquals(error, c.get(e, 2), 1e-4, "relative error column");
                assertEquals(64, c.get(e, 3));
            }
            // a ReLU and max-pool network's path integrand has kinks: 64 points leave a little error on a few examples
            assertTrue(mean < 0.005, "mean relative error " + mean);
            assertTrue(worst < 0.03, "worst relative error " + worst);
            Finding completeness = r.findings().stream().filter(x -> x.id().equals("completeness")).findFirst().orElseThrow();
            assertEquals(over > 0 ? Finding.Severity.WARNING : Finding.Severity.INFO, completeness.severity(), completeness.claim());
            if (over > 0) {
                assertTrue(completeness.claim().contains(maps.exampleIds().get(worstExample)), completeness.claim());
            }
            System.out.printf("IG completeness, 32 examples, 64 Gauss-Legendre steps, zero baseline: worst %.3f%%, mean %.3f%%,"
                    + " %d over 1%%: %s%n", 100 * worst, 100 * mean, over, completeness.claim());

            // with a tolerance of 1% every example gets there by doubling its steps
            AnalysisResult tol = run("limit: 32\nkeep: 0\nsteps: 64\ntolerance: 0.01\nmaxSteps: 1024\n"
                    + "deletion: false\nsanity: false\n", d, 12);
            Matrix t = tol.part("completeness", Matrix.class).orElseThrow();
            for (int e = 0; e < 32; e++) {
                assertTrue(t.get(e, 2) < 0.01, "example " + e + ": " + t.get(e, 2));
            }
            Finding held = tol.findings().stream().filter(x -> x.id().equals("completeness")).findFirst().orElseThrow();
            assertEquals(Finding.Severity.INFO, held.severity());
            assertTrue(held.claim().startsWith("completeness held for all 32 examples"), held.claim());
        }
    }

    @Test
    void examplesThatMissTheToleranceGetDoubledStepsAndThenPass() {
        try (Dataset d = TestSupport.shapes("test", 48)) {
            AnalysisResult r = run("limit: 48\nsteps: 4\ntolerance: 0.01\nmaxSteps: 512\nrule: gauss-legendre\n"
                    + "deletion: false\nsanity: false\nkeep: 0\n", d, 16);
            Matrix c = r.part("completeness", Matrix.class).orElseThrow();
            int doubled = 0;
            for (int e = 0; e < 48; e++) {
                assertTrue(c.get(e, 2) <= 0.01, "example " + e + " error " + c.get(e, 2) + " with " + c.get(e, 3) + " steps");
                int steps = (int) c.get(e, 3);
                assertTrue(Integer.bitCount(steps) == 1 && steps >= 4 && steps <= 512, "steps " + steps);
                doubled += steps > 4 ? 1 : 0;
            }
            assertTrue(doubled > 0, "4 Gauss-Legendre steps should miss 1% on some examples");
            // the reference: each example's error with its steps and with half of them, computed directly
            Target.Bound t = Target.parse("predicted").orElseThrow().resolve(model, d.info(), "s");
            Batch b = d.batches(48).next();
            int[] rows = t.rows(model, b, null);
            for (int e = 0; e < 48; e++) {
                int steps = (int) c.get(e, 3);
                Batch one = ExampleFilter.select(b, new int[] {e});
                IntegratedGradients ig = new IntegratedGradients(List.of(new Baseline(Baseline.Kind.ZERO, 0)), PathRule.GAUSS_LEGENDRE,
                        steps, 1024, null, 42);
                assertEquals(c.get(e, 2), ig.explain(model, one, t, new int[] {rows[e]}).errors()[0], 1e-4);
                if (steps > 4) {
                    assertTrue(ig.withSteps(steps / 2).explain(model, one, t, new int[] {rows[e]}).errors()[0] > 0.01,
                            "example " + e + " needed " + steps + " steps");
                }
            }
            System.out.println("IG tolerance 0.01 from 4 steps: " + doubled + " of 48 examples doubled, steps "
                    + Arrays.toString(java.util.stream.IntStream.range(0, 48).map(e -> (int) c.get(e, 3)).toArray()));
            assertEquals(Finding.Severity.INFO, r.findings().stream().filter(x -> x.id().equals("completeness")).findFirst()
                    .orElseThrow().severity());
        }
    }

    @Test
    void watermarkedSquaresPutTheirPositiveAttributionOnThePatch() {
        try (Dataset d = TestSupport.shapes("decorrelated", 600)) {
            AnalysisResult r = run("where: {watermark: 'on', class: square}\nlimit: 64\nroi: [24, 24, 26, 26]\n"
                    + "deletion: false\nsanity: false\nkeep: 4\n", d, 32);
            Matrix roi = r.part("roi", Matrix.class).orElseThrow();
            assertEquals(64, roi.rows().size());
            double mean = 0;
            for (int e = 0; e < 64; e++) {
                mean += roi.get(e, 0) / 64;
                assertEquals(9.0 / 784, roi.get(e, 1), 1e-6);
            }
            Finding f = r.findings().stream().filter(x -> x.id().equals("roi-share")).findFirst().orElseThrow();
            assertEquals(mean, f.strength().value(), 1e-5);
            assertTrue(mean >= 5 * 9.0 / 784, "share " + mean);
            assertEquals(Finding.Severity.NOTABLE, f.severity());
            assertTrue(f.strength().interval().low() <= mean && mean <= f.strength().interval().high());
            assertTrue(f.claim().contains("watermark=on, class=square") && f.claim().contains("[24,24,26,26]"), f.claim());
            System.out.printf("ROI share: %.2f%% of positive IG attribution in the patch (area share %.2f%%, %.1fx), interval %s%n  %s%n",
                    100 * mean, 100 * 9.0 / 784, mean / (9.0 / 784), f.strength().interval(), f.claim());
        }
    }

    @Test
    void deletingPixelsInAttributionOrderBeatsRandomOrder() {
        try (Dataset d = TestSupport.shapes("test", 64)) {
            AnalysisResult r = run("limit: 64\ndeletionExamples: 64\ndeletionSteps: 16\nrandomOrders: 5\nsanity: false\n"
                    + "steps: 32\nkeep: 64\n", d, 32);
            double area = ((Number) r.summary().get("deletionArea")).doubleValue();
            double random = ((Number) r.summary().get("deletionRandomArea")).doubleValue();
            assertTrue(area < random, "deletion area " + area + " vs random " + random);
            Finding f = r.findings().stream().filter(x -> x.id().equals("deletion")).findFirst().orElseThrow();
            assertEquals(Finding.Severity.INFO, f.severity(), f.claim());
            // the curves' ends, computed apart: the target's probability at the inputs and at the all-zero baseline
            float[][] logits = logitsAndZero(r.part("maps", InputMaps.class).orElseThrow().inputs().floats(), 64);
            double atInput = 0;
            double atZero = 0;
            for (int e = 0; e < 64; e++) {
                int cls = argmax(logits[0], e);
                atInput += softmax(logits[0], e, cls) / 64;
                atZero += softmax(logits[1], e, cls) / 64;
            }
            for (String id : List.of("deletion", "insertion")) {
                Series s = r.part(id, Series.class).orElseThrow();
                for (Series.Curve c : s.curves()) {
                    float[] y = c.y().floats();
                    assertEquals(17, y.length);
                    assertEquals(id.equals("deletion") ? atInput : atZero, y[0], 1e-4, id + " " + c.name() + " start");
                    assertEquals(id.equals("deletion") ? atZero : atInput, y[16], 1e-4, id + " " + c.name() + " end");
                }
            }
            System.out.printf("deletion area %.4f vs random %.4f; insertion area %.4f vs random %.4f%n", area, random,
                    ((Number) r.summary().get("insertionArea")).doubleValue(), ((Number) r.summary().get("insertionRandomArea")).doubleValue());
        }
    }

    static double softmax(float[] logits, int row, int c) {
        double max = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < 4; k++) {
            max = Math.max(max, logits[row * 4 + k]);
        }
        double z = 0;
        for (int k = 0; k < 4; k++) {
            z += Math.exp(logits[row * 4 + k] - max);
        }
        return Math.exp(logits[row * 4 + c] - max) / z;
    }

    @Test
    void classAndGroupMeansAreTheMeanAbsoluteMapsOfTheirExamples() {
        try (Dataset d = TestSupport.shapes("test", 40)) {
            AnalysisResult r = run("limit: 40\nkeep: 40\ngroupBy: [watermark]\nsteps: 16\ndeletion: false\nsanity: false\n"
                    + "target: label\n", d, 16);
            InputMaps maps = r.part("maps", InputMaps.class).orElseThrow();
            float[] m = maps.maps().floats();
            Iterator<Batch> it = d.batches(40);
            Batch b = it.next();
            InputMaps classMean = r.part("class-mean", InputMaps.class).orElseThrow();
            InputMaps group = r.part("group-mean-watermark", InputMaps.class).orElseThrow();
            List<String> names = d.info().classNames();
            for (int k = 0; k < classMean.exampleIds().size(); k++) {
                String id = classMean.exampleIds().get(k);
                assertTrue(id.startsWith("class="), id);
                int cls = names.indexOf(id.substring(6));
                assertMean(m, classMean.maps().floats(), k, e -> b.labels()[e] == cls, id);
            }
            for (int k = 0; k < group.exampleIds().size(); k++) {
                String id = group.exampleIds().get(k);
                String value = id.substring("watermark=".length());
                assertMean(m, group.maps().floats(), k, e -> value.equals(b.metadata().get(e).get("watermark")), id);
            }
            assertEquals(2, group.exampleIds().size());
        }
    }

    static void assertMean(float[] maps, float[] means, int k, java.util.function.IntPredicate member, String id) {
        double[] sum = new double[784];
        int count = 0;
        for (int e = 0; e < 40; e++) {
            if (member.test(e)) {
                count++;
                for (int i = 0; i < 784; i++) {
                    sum[i] += Math.abs(maps[e * 784 + i]);
                }
            }
        }
        assertTrue(count > 0, id);
        for (int i = 0; i < 784; i++) {
            assertEquals(sum[i] / count, means[k * 784 + i], 1e-5, id + " pixel " + i);
        }
    }
}
