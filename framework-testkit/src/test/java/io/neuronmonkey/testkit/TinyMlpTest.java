package io.neuronmonkey.testkit;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The test kit's model against hand-computed layers and central finite differences. */
class TinyMlpTest {

    static final TinyMlp HAND = TinyMlp.of(
            new float[][][]{{{1, -1}, {2, 0.5f}}, {{1, 0, -1}, {0, 2, 1}}},
            new float[][]{{0, 1}, {0.5f, 0, 0}});

    @Test
    void layersAreTheHandComputedValues() {
        // x = (1, 2): dense1 = relu(1*1 + 2*2 + 0, 1*-1 + 2*0.5 + 1) = (5, 1); logits = (5 + 0.5, 2, -5 + 1) = (5.5, 2, -4)
        Map<String, Tensor> out = HAND.run(Tensor.ofFloats(new float[]{1, 2}, 1, 2), List.of("dense1", "logits", "probabilities"));
        assertArrayEquals(new float[]{5, 1}, out.get("dense1").floats());
        assertArrayEquals(new float[]{5.5f, 2, -4}, out.get("logits").floats());
        double z = Math.exp(5.5) + Math.exp(2) + Math.exp(-4);
        assertEquals(Math.exp(5.5) / z, out.get("probabilities").floats()[0], 1e-6);
        // ablating dense1 #0 leaves logits = (0.5 + 0, 2, 1) from dense1 = (0, 1)
        Map<String, Tensor> ablated = HAND.run(Tensor.ofFloats(new float[]{1, 2}, 1, 2), List.of("logits"),
                List.of(Intervention.ablate("dense1", 0)));
        assertArrayEquals(new float[]{0.5f, 2, 1}, ablated.get("logits").floats());
    }

    @Test
    void gradientsEqualFiniteDifferences() {
        TinyMlp m = TinyMlp.seeded(3, 5, 7, 6, 4);
        float[] x = InMemoryData.gaussian(9, 3, 5, 4).inputs();
        for (String target : List.of("logits", "probabilities", "dense2")) {
            for (List<Intervention> ivs : List.of(List.<Intervention>of(), List.of(Intervention.scale("dense1", 0.5f, 1, 2)))) {
                GradientTarget t = GradientTarget.neuron(target, 1);
                float[] g = m.gradient(Tensor.ofFloats(x.clone(), 3, 5), t, "input", ivs).floats();
                for (int i = 0; i < x.length; i++) {
                    float[] up = x.clone();
                    float[] down = x.clone();
                    up[i] += 1e-3f;
                    down[i] -= 1e-3f;
                    double fd = (value(m, up, target, i / 5, ivs) - value(m, down, target, i / 5, ivs)) / 2e-3;
                    assertEquals(fd, g[i], 2e-3, target + " " + ivs + " element " + i);
                }
            }
        }
    }

    @Test
    void gradientWithRespectToALayerIsTheNextLayersWeightsWhereActive() {
        // d logits#2 / d dense1 = column 2 of the logits weights, for every row
        float[] g = HAND.gradient(Tensor.ofFloats(new float[]{1, 2, -3, -3}, 2, 2), GradientTarget.neuron("logits", 2), "dense1").floats();
        assertArrayEquals(new float[]{-1, 1, -1, 1}, g);
        // predicted: row (1, 2) predicts class 0 -> d logits#0 / d input = W1 . W2[:,0] over active units (both)
        float[] p = HAND.gradient(Tensor.ofFloats(new float[]{1, 2}, 1, 2), GradientTarget.predicted("logits"), "input").floats();
        assertArrayEquals(new float[]{1, 2}, p);
    }

    @Test
    void randomizedRedrawsOnlyTheNamedLayers() {
        TinyMlp m = TinyMlp.seeded(3, 4, 5, 3);
        assertEquals(Map.of("dense1", 25L, "logits", 18L), m.parameterCounts());
        LoadedModel r = m.randomized(List.of("logits"), 11);
        Tensor x = InMemoryData.gaussian(2, 4, 4, 3).batches(4).next().inputs();
        assertArrayEquals(m.run(x, List.of("dense1")).get("dense1").floats(), r.run(x, List.of("dense1")).get("dense1").floats());
        assertNotEquals(m.fingerprint(), r.fingerprint());
        ModelException e = assertThrows(ModelException.class, () -> m.run(x, List.of("dense9")));
        assertEquals("TinyMlp 4-5-3 has no layer 'dense9'; layers: [input, dense1, logits, probabilities]", e.getMessage());
    }

    private static double value(TinyMlp m, float[] x, String layer, int row, List<Intervention> ivs) {
        return m.run(Tensor.ofFloats(x, x.length / 5, 5), List.of(layer), ivs).get(layer).floats()[row * m.layer(layer).orElseThrow().neurons() + 1];
    }
}
