package io.neuronmonkey.features;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Directions in a layer's channel space for feature visualization: given as weights, or read from an earlier step's
 * per-channel ranking (a {@code concept-vectors} step's {@code cav-CONCEPT-LAYER} ranking scores each channel with
 * its mean CAV weight). A direction is unit length; its objective is the projection {@code <d, a>} of the layer's
 * activation {@code a} (channel means on spatial layers).
 * <p>
 * The backend's {@code GradientTarget.weighted(layer, d)} differentiates {@code sum_positions sum_c d_c a[p, c]},
 * which on a spatial layer is {@code positions} times the projection on the channel means; the optimizer divides the
 * gradient by the layer's positions, so it ascends the projection itself.
 */
final class Directions {

    private Directions() {
    }

    /** A unit direction and its name. */
    record Direction(String name, float[] weights) {
    }

    /**
     * @param inputs        the step's inputs by step id
     * @param weights       explicit weights, or null
     * @param directionFrom {@code STEP/PART}, or null
     * @param layer         the layer
     * @return the unit direction
     * @throws IllegalArgumentException naming what is wrong: the length, the step, the part, the layer
     */
    static Direction resolve(Map<String, AnalysisResult> inputs, List<Double> weights, String directionFrom, LayerInfo layer) {
        double[] d = new double[layer.neurons()];
        String name;
        if (weights != null) {
            if (weights.size() != layer.neurons()) {
                throw new IllegalArgumentException("direction: has " + weights.size() + " weights, layer " + layer.name()
                        + " has " + layer.neurons() + " channels; give one weight per channel");
            }
            for (int i = 0; i < d.length; i++) {
                d[i] = weights.get(i);
            }
            name = "the given direction";
        } else {
            int slash = directionFrom.indexOf('/');
            String step = directionFrom.substring(0, slash);
            String part = directionFrom.substring(slash + 1);
            AnalysisResult r = inputs.get(step);
            if (r == null) {
                throw new IllegalArgumentException("directionFrom: step '" + step + "' is not among this step's inputs "
                        + inputs.keySet() + "; add it to 'inputs:'");
            }
            Ranking k = r.parts(Ranking.class).stream().filter(x -> x.id().equals(part)).findFirst().orElseThrow(() ->
                    new IllegalArgumentException("directionFrom: step '" + step + "' has no ranking '" + part + "'; its rankings: "
                            + names(r)));
            boolean any = false;
            for (Ranking.Entry e : k.entries()) {
                if (!e.neuron().layer().equals(layer.name())) {
                    throw new IllegalArgumentException("directionFrom: ranking '" + part + "' ranks " + e.neuron().layer()
                            + " neurons, this step's layer is " + layer.name());
                }
                if (e.neuron().neuron() < d.length && Double.isFinite(e.score())) {
                    d[e.neuron().neuron()] = e.score();
                    any = true;
                }
            }
            if (!any) {
                throw new IllegalArgumentException("directionFrom: ranking '" + part + "' has no scores of " + layer.name() + " channels");
            }
            name = part + " of " + step;
        }
        double norm = 0;
        for (double v : d) {
            norm += v * v;
        }
        norm = Math.sqrt(norm);
        if (norm == 0) {
            throw new IllegalArgumentException((weights != null ? "direction" : "directionFrom") + ": all weights are 0");
        }
        float[] unit = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            unit[i] = (float) (d[i] / norm);
        }
        return new Direction(name, unit);
    }

    private static String names(AnalysisResult r) {
        List<String> ids = new ArrayList<>();
        r.parts(Ranking.class).forEach(k -> ids.add(k.id()));
        return ids.isEmpty() ? "none" : String.join(", ", ids);
    }

    /**
     * @param t         the layer's output {@code [n, positions..., channels]}
     * @param direction unit weights per channel
     * @return per row, the projection of its channel means onto the direction
     */
    static float[] project(Tensor t, float[] direction) {
        float[] a = t.floats();
        int n = t.dim(0);
        int c = direction.length;
        int pos = a.length / (n * c);
        float[] out = new float[n];
        for (int r = 0; r < n; r++) {
            double s = 0;
            for (int q = 0; q < pos; q++) {
                for (int ch = 0; ch < c; ch++) {
                    s += direction[ch] * (double) a[(r * pos + q) * c + ch];
                }
            }
            out[r] = (float) (s / pos);
        }
        return out;
    }
}
