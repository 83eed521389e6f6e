package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Integrated gradients over a hidden layer of the demo CNN (the path patched into the layer): completeness against
 * F(x) - F(baseline) computed here by hand, with the baseline patched in by hand, for conv1 and dense1, zero and mean
 * baselines. Completeness can only hold when the backend's gradient w.r.t. a patched layer is taken at the patched
 * value: at the unpatched value every path point would get the input's gradient, and the sum would be gradient x
 * activation instead.
 */
class LayerIntegratedGradientsTest {

    static LoadedModel model;

    @BeforeAll
    static void load() {
        model = TestSupport.demoModel();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static AnalysisResult run(String yaml, Dataset d) {
        return InputFixtures.run(new IntegratedGradientsAnalyzer(), InputFixtures.bind(IntegratedGradientsAnalyzer.Params.class, yaml),
                model, d, 8);
    }

    /** The first n examples of the data set, as one batch. */
    static Batch first(Dataset d, int n) {
        Iterator<Batch> it = d.batches(n);
        return it.next();
    }

    /** Logit {@code cls} at the inputs, and with the layer patched to the given reference rows. */
    static float[][] byHand(Batch b, String layer, float[] reference, int cls) {
        String logits = model.logitsLayer();
        int n = b.size();
        float[] at = model.run(b.inputs(), List.of(logits)).get(logits).floats();
        int[] shape = model.run(b.inputs(), List.of(layer)).get(layer).shape();
        float[] patched = model.run(b.inputs(), List.of(logits), List.of(Intervention.patch(layer,
                Tensor.ofFloats(reference, shape)))).get(logits).floats();
        float[] fx = new float[n];
        float[] fb = new float[n];
        for (int e = 0; e < n; e++) {
            fx[e] = at[e * 4 + cls];
            fb[e] = patched[e * 4 + cls];
        }
        return new float[][] {fx, fb};
    }

    static void assertComplete(AnalysisResult r, float[][] f, int n, double tolerance) {
        Matrix c = r.part("completeness", Matrix.class).orElseThrow();
        assertEquals(n, c.rows().size());
        double deltaScale = 0;
        for (int e = 0; e < n; e++) {
            double delta = f[0][e] - f[1][e];
            deltaScale = Math.max(deltaScale, Math.abs(delta));
            assertEquals(delta, c.get(e, 1), 1e-3 * Math.max(1, Math.abs(delta)), "F(x) - F(baseline) of example " + e);
            assertEquals(delta, c.get(e, 0), tolerance * Math.max(1, Math.abs(delta)), "sum of attributions of example " + e);
        }
        assertTrue(deltaScale > 0.5, "the check needs F(x) - F(baseline) away from 0, found at most " + deltaScale);
    }

    @Test
    void conv1CompletenessHoldsAgainstTheBaselinePatchedInByHand() {
        try (Dataset d = TestSupport.shapes("test", 8)) {
            AnalysisResult r = run("layer: conv1\ntarget: class:square\nlimit: 8\nsteps: 64\nbaselines: [zero]\n"
                    + "tolerance: 0.005\nmaxSteps: 1024\n", d);
            Batch b = first(d, 8);
            int rs = model.layer("conv1").orElseThrow().positions() * model.layer("conv1").orElseThrow().neurons();
            float[][] f = byHand(b, "conv1", new float[8 * rs], 1);
            assertComplete(r, f, 8, 0.005);
            // the check discriminates: gradient x activation (the gradient at the input alone) misses completeness
            float[] h = model.run(b.inputs(), List.of("conv1")).get("conv1").floats();
            int[] square = new int[8];
            java.util.Arrays.fill(square, 1);
            float[] g = model.gradient(b.inputs(), io.neuronmonkey.api.model.GradientTarget.perRow(model.logitsLayer(), square),
                    "conv1").floats();
            double worst = 0;
            for (int e = 0; e < 8; e++) {
                double s = 0;
                for (int j = e * rs; j < (e + 1) * rs; j++) {
                    s += g[j] * h[j];
                }
                double delta = f[0][e] - f[1][e];
                worst = Math.max(worst, Math.abs(s - delta) / Math.max(1, Math.abs(delta)));
            }
            assertTrue(worst > 0.05, "gradient x activation would be complete too (worst error " + worst + ")");
            assertEquals("conv1", r.summary().get("layer"));
            Finding done = r.findings().stream().filter(x -> x.id().equals("completeness")).findFirst().orElseThrow();
            assertEquals(Finding.Severity.INFO, done.severity(), done.claim());
        }
    }

    @Test
    void dense1CompletenessWithTheMeanBaselineAndTheLayerTableAgree() {
        try (Dataset d = TestSupport.shapes("test", 8)) {
            AnalysisResult r = run("layer: dense1\ntarget: class:circle\nlimit: 8\nsteps: 32\nbaselines: [mean]\n", d);
            Batch b = first(d, 8);
            float[] h = model.run(b.inputs(), List.of("dense1")).get("dense1").floats();
            float[] mean = new float[32];
            for (int i = 0; i < h.length; i++) {
                mean[i % 32] += h[i] / 8f;
            }
            float[] ref = new float[8 * 32];
            for (int e = 0; e < 8; e++) {
                System.arraycopy(mean, 0, ref, e * 32, 32);
            }
            float[][] f = byHand(b, "dense1", ref, 0);
            assertComplete(r, f, 8, 0.002);
            // dense1 feeds the logits linearly: the attribution of unit j is (h - mean)_j * W[j, circle] exactly, so
            // the table's mean over examples is mean_e (h_e - mean)_j W_j = 0 for every unit
            NeuronTable t = r.part("layer-attribution", NeuronTable.class).orElseThrow();
            float[] m = t.column("mean").orElseThrow().values().floats();
            double total = 0;
            for (float v : m) {
                assertEquals(0, v, 1e-3);
                total += Math.abs(v);
            }
            float[] abs = t.column("meanAbs").orElseThrow().values().floats();
            double absTotal = 0;
            for (float v : abs) {
                absTotal += v;
            }
            assertTrue(absTotal > 0.1 && total < 1e-2 * 32, "mean |attribution| " + absTotal + ", |mean| " + total);
        }
    }

    @Test
    void blurAndNoiseBaselinesAreRefusedOverALayer() {
        assertTrue(InputFixtures.problems(IntegratedGradientsAnalyzer.Params.class, "layer: conv1\nbaselines: [blur:2]\n")
                .stream().anyMatch(p -> p.contains("baselines") && p.contains("blur:2")));
        assertTrue(InputFixtures.problems(IntegratedGradientsAnalyzer.Params.class, "layer: conv1\nbaselines: [noise:4]\n")
                .stream().anyMatch(p -> p.contains("zero, constant:V, mean")));
    }

    @Test
    void anUnknownLayerNamesTheLayers() {
        try (Dataset d = TestSupport.shapes("test", 4)) {
            AnalysisException e = assertThrows(AnalysisException.class, () -> run("layer: conv9\n", d));
            assertTrue(e.getMessage().contains("conv9") && e.getMessage().contains("conv1"), e.getMessage());
        }
    }
}
