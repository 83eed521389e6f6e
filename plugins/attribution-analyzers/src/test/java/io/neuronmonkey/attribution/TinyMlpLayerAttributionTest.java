package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.testkit.InMemoryData;
import io.neuronmonkey.testkit.TinyMlp;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Integrated gradients over hidden layers of the test kit's MLP with known weights, against closed forms computed
 * here from the weights alone: over the last hidden layer, which feeds the logits linearly, the attribution of unit j
 * is exactly {@code h_j * W[j, c]} (zero baseline); over the first, completeness against F(x) - F(0 patched in) by
 * hand.
 */
class TinyMlpLayerAttributionTest {

    static final TinyMlp MODEL = TinyMlp.seeded(7, 4, 6, 5, 3);

    static float[] dense(float[] x, String layer, boolean relu) {
        float[][] w = MODEL.weights(layer);
        float[] b = MODEL.bias(layer);
        float[] out = new float[b.length];
        for (int o = 0; o < b.length; o++) {
            double s = b[o];
            for (int i = 0; i < x.length; i++) {
                s += x[i] * w[i][o];
            }
            out[o] = relu ? (float) Math.max(0, s) : (float) s;
        }
        return out;
    }

    static AnalysisResult run(String yaml, InMemoryData d) {
        return InputFixtures.run(new IntegratedGradientsAnalyzer(), InputFixtures.bind(IntegratedGradientsAnalyzer.Params.class, yaml),
                MODEL, d, 5);
    }

    @Test
    void overTheLastHiddenLayerEachUnitGetsItsActivationTimesItsWeight() {
        InMemoryData d = InMemoryData.gaussian(3, 16, 4, 3);
        AnalysisResult r = run("layer: dense2\ntarget: class:c2\nsteps: 8\nlimit: 16\n", d);
        float[] x = d.inputs();
        float[][] w = MODEL.weights("logits");
        double[] mean = new double[5];
        for (int e = 0; e < 16; e++) {
            float[] h = dense(dense(java.util.Arrays.copyOfRange(x, e * 4, e * 4 + 4), "dense1", true), "dense2", true);
            for (int j = 0; j < 5; j++) {
                mean[j] += h[j] * w[j][2] / 16;
            }
        }
        float[] got = r.part("layer-attribution", NeuronTable.class).orElseThrow().column("mean").orElseThrow().values().floats();
        for (int j = 0; j < 5; j++) {
            assertEquals(mean[j], got[j], 1e-5, "dense2 unit " + j);
        }
    }

    @Test
    void overTheFirstHiddenLayerCompletenessHoldsAgainstTheWeights() {
        InMemoryData d = InMemoryData.gaussian(4, 12, 4, 3);
        AnalysisResult r = run("layer: dense1\ntarget: class:c0\nsteps: 16\ntolerance: 0.001\nmaxSteps: 1024\nlimit: 12\n", d);
        Matrix c = r.part("completeness", Matrix.class).orElseThrow();
        float[] x = d.inputs();
        float[] atZero = dense(dense(new float[6], "dense2", true), "logits", false);
        for (int e = 0; e < 12; e++) {
            float[] logits = dense(dense(dense(java.util.Arrays.copyOfRange(x, e * 4, e * 4 + 4), "dense1", true), "dense2", true),
                    "logits", false);
            double delta = logits[0] - atZero[0];
            assertEquals(delta, c.get(e, 1), 1e-5, "delta of example " + e);
            assertEquals(delta, c.get(e, 0), 1e-3 * Math.max(1, Math.abs(delta)), "sum of example " + e);
        }
    }
}
