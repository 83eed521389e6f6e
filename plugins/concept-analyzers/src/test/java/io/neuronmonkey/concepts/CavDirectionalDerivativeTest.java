package io.neuronmonkey.concepts;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.attribution.TestSupport;
import org.apache.commons.math3.stat.correlation.PearsonsCorrelation;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The directional derivatives behind TCAV scores against central finite differences of the real model's logits: the
 * layer moved along the CAV by activation patching (flattened space) or by a steering vector added at every position
 * (channel-mean space).
 */
class CavDirectionalDerivativeTest {

    /** Step along a unit CAV: small enough that few max-pool or ReLU kinks are crossed, large for float32 logits. */
    static final float EPS = 1e-2f;

    /**
     * Spatial pool outputs and the dense layer: a conv layer's ReLU zeros meet in max-pool windows, where a generic
     * direction has no derivative (a central difference there averages the two one-sided slopes), so the flattened
     * space is checked where the model is differentiable along any direction.
     */
    @Test
    void flattenedDerivativeIsTheLogitsChangeAlongTheCav() {
        check(ConceptVectorsAnalyzer.Space.FLATTENED, List.of("pool1", "pool2", "dense1"));
    }

    /** Adding the same vector at every position keeps max-pool ties tied, so conv layers are checked directly. */
    @Test
    void channelMeanDerivativeIsTheLogitsChangeWhenChannelMeansMoveAlongTheCav() {
        check(ConceptVectorsAnalyzer.Space.CHANNEL_MEAN, List.of("conv1", "conv2", "dense1"));
    }

    private static void check(ConceptVectorsAnalyzer.Space space, List<String> layers) {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 12)) {
            Batch b = d.batches(12).next();
            for (String name : layers) {
                LayerInfo layer = m.layer(name).orElseThrow();
                int dim = space == ConceptVectorsAnalyzer.Space.FLATTENED ? layer.positions() * layer.neurons() : layer.neurons();
                int k = 3;
                float[] cavs = new float[k * dim];
                Random rnd = new Random(11);
                for (int c = 0; c < k; c++) {
                    double norm = 0;
                    for (int j = 0; j < dim; j++) {
                        cavs[c * dim + j] = (float) rnd.nextGaussian();
                        norm += cavs[c * dim + j] * cavs[c * dim + j];
                    }
                    for (int j = 0; j < dim; j++) {
                        cavs[c * dim + j] /= (float) Math.sqrt(norm);
                    }
                }
                int[] logit = new int[b.size()];
                for (int e = 0; e < logit.length; e++) {
                    logit[e] = e % 4;
                }
                double[] dd = ConceptVectorsAnalyzer.directionalDerivatives(m, b.modelInputs(), logit, layer, space, cavs, k, 5);
                Tensor act = m.run(b.inputs(), List.of(name)).get(name);
                PearsonsCorrelation pearson = new PearsonsCorrelation();
                double[] want = new double[b.size() * k];
                for (int c = 0; c < k; c++) {
                    float[] plus = logits(m, b.inputs(), act, layer, space, cavs, c, dim, EPS);
                    float[] minus = logits(m, b.inputs(), act, layer, space, cavs, c, dim, -EPS);
                    for (int e = 0; e < b.size(); e++) {
                        double fd = (plus[e * 4 + logit[e]] - minus[e * 4 + logit[e]]) / (2.0 * EPS);
                        want[e * k + c] = space == ConceptVectorsAnalyzer.Space.FLATTENED ? fd : fd / layer.positions();
                    }
                }
                double worst = 0;
                double scale = 0;
                for (int i = 0; i < want.length; i++) {
                    worst = Math.max(worst, Math.abs(want[i] - dd[i]));
                    scale = Math.max(scale, Math.abs(want[i]));
                }
                double r = pearson.correlation(want, dd);
                // float32 logits and the odd ReLU kink inside the step: the pairs agree closely, a wrong layout or
                // sign would not correlate at all
                assertTrue(r > 0.99, name + " " + space + ": correlation " + r);
                assertTrue(worst < 0.15 * scale, name + " " + space + ": worst error " + worst + " of " + scale);
            }
        }
    }

    private static float[] logits(LoadedModel m, Tensor x, Tensor act, LayerInfo layer, ConceptVectorsAnalyzer.Space space,
                                  float[] cavs, int c, int dim, float eps) {
        Intervention move;
        if (space == ConceptVectorsAnalyzer.Space.FLATTENED) {
            float[] v = act.floats().clone();
            for (int e = 0; e < act.rows(); e++) {
                for (int j = 0; j < dim; j++) {
                    v[e * dim + j] += eps * cavs[c * dim + j];
                }
            }
            move = Intervention.patch(layer.name(), Tensor.ofFloats(v, act.shape()));
        } else {
            float[] v = new float[dim];
            for (int j = 0; j < dim; j++) {
                v[j] = eps * cavs[c * dim + j];
            }
            move = Intervention.steer(layer.name(), v);
        }
        return m.run(x, List.of(m.logitsLayer()), List.of(move)).get(m.logitsLayer()).floats();
    }
}
