package io.neuronmonkey.features;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Ranking;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Neurons taken from an earlier step's ranking (for feature visualization and ranked pruning). */
final class RankedNeurons {

    private RankedNeurons() {
    }

    /**
     * The neurons of a layer ranked by an earlier step, best first.
     *
     * @param inputs the step's inputs by step id
     * @param from   {@code STEP} or {@code STEP/PART} (a Ranking part of that step)
     * @param layer  the layer
     * @param top    how many
     * @return up to {@code top} distinct neuron indices of the layer, in rank order
     * @throws IllegalArgumentException naming the steps and rankings there are when nothing matches
     */
    static List<Integer> fromRanking(Map<String, AnalysisResult> inputs, String from, LayerInfo layer, int top) {
        int slash = from.indexOf('/');
        String step = slash < 0 ? from : from.substring(0, slash);
        String part = slash < 0 ? null : from.substring(slash + 1);
        AnalysisResult r = inputs.get(step);
        if (r == null) {
            throw new IllegalArgumentException("from: step '" + step + "' is not among this step's inputs " + inputs.keySet()
                    + "; add it to 'inputs:'");
        }
        List<String> seen = new ArrayList<>();
        for (Ranking k : r.parts(Ranking.class)) {
            seen.add(k.id());
            if (part != null && !k.id().equals(part)) {
                continue;
            }
            Set<Integer> out = new LinkedHashSet<>();
            for (Ranking.Entry e : k.entries()) {
                if (e.neuron().layer().equals(layer.name()) && e.neuron().neuron() < layer.neurons() && out.size() < top) {
                    out.add(e.neuron().neuron());
                }
            }
            if (!out.isEmpty()) {
                return List.copyOf(out);
            }
        }
        throw new IllegalArgumentException("from: step '" + step + "' has no ranking" + (part == null ? "" : " '" + part + "'")
                + " of " + layer.name() + " neurons; its rankings: " + (seen.isEmpty() ? "none" : String.join(", ", seen)));
    }
}
