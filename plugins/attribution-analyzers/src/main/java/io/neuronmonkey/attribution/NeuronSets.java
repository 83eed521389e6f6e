package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.result.ResultPart;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Neurons of one layer chosen for an intervention: a list written in the params, the top of a ranking produced by an
 * earlier step ({@code ranking: STEP} or {@code STEP/PART_ID}), or seeded random sets of a given size.
 */
final class NeuronSets {

    private NeuronSets() {
    }

    /**
     * The neurons chosen, in rank order, with where they came from.
     *
     * @param neurons the indices, distinct
     * @param source  e.g. {@code ranking 'nc/conductance-ranking'} or {@code neurons [4, 6]}
     */
    record Chosen(List<Integer> neurons, String source) {
    }

    /**
     * @param list    the params' explicit neurons, or null
     * @param ranking {@code STEP} or {@code STEP/PART_ID}, or null
     * @param top     how many ranked neurons to keep
     * @param layer   the layer
     * @param count   neurons of the layer
     * @param inputs  the step's inputs, by step id
     * @param step    the step id, for messages
     * @return the chosen neurons
     * @throws AnalysisException when a neuron is outside the layer, the ranking's step is not an input, it produced no
     *                           ranking, or its ranking has no neuron of the layer
     */
    static Chosen choose(List<Integer> list, String ranking, int top, String layer, int count,
                         Map<String, AnalysisResult> inputs, String step) {
        if (list != null) {
            for (int j : list) {
                if (j >= count) {
                    throw new AnalysisException("step '" + step + "': neuron " + j + " in 'neurons' is outside layer '"
                            + layer + "' (0.." + (count - 1) + ")");
                }
            }
            return new Chosen(List.copyOf(list), "neurons " + list);
        }
        int slash = ranking.indexOf('/');
        String from = slash < 0 ? ranking : ranking.substring(0, slash);
        String partId = slash < 0 ? null : ranking.substring(slash + 1);
        AnalysisResult r = inputs.get(from);
        if (r == null) {
            throw new AnalysisException("step '" + step + "': 'ranking' names step '" + from + "', which is not among the"
                    + " step's inputs " + inputs.keySet() + "; add it to 'inputs:'");
        }
        List<Ranking> rankings = r.parts(Ranking.class);
        if (rankings.isEmpty()) {
            throw new AnalysisException("step '" + step + "': step '" + from + "' named in 'ranking' produced no ranking; its parts: "
                    + describe(r.parts()));
        }
        Ranking chosen;
        if (partId != null) {
            chosen = rankings.stream().filter(k -> k.id().equals(partId)).findFirst().orElseThrow(() -> new AnalysisException(
                    "step '" + step + "': step '" + from + "' has no ranking '" + partId + "'; its rankings: "
                            + rankings.stream().map(Ranking::id).collect(Collectors.joining(", "))));
        } else {
            chosen = rankings.stream().filter(k -> k.entries().stream().anyMatch(e -> e.neuron().layer().equals(layer)))
                    .findFirst().orElse(rankings.get(0));
        }
        Set<Integer> out = new LinkedHashSet<>();
        for (Ranking.Entry e : chosen.entries()) {
            if (e.neuron().layer().equals(layer) && e.neuron().neuron() < count && out.size() < top) {
                out.add(e.neuron().neuron());
            }
        }
        if (out.isEmpty()) {
            throw new AnalysisException("step '" + step + "': ranking '" + from + "/" + chosen.id() + "' lists no neuron of layer '"
                    + layer + "'; it ranks neurons of " + chosen.entries().stream().map(e -> e.neuron().layer()).distinct().toList());
        }
        return new Chosen(List.copyOf(out), "ranking '" + from + "/" + chosen.id() + "'");
    }

    private static String describe(List<ResultPart> parts) {
        if (parts.isEmpty()) {
            return "none";
        }
        return parts.stream().map(p -> p.id() + " (" + p.kind() + ")").collect(Collectors.joining(", "));
    }

    /**
     * Random neuron sets of one size, drawn without replacement from every neuron of the layer (the chosen neurons
     * are not excluded, so a random set may overlap the ranked one).
     *
     * @param count neurons of the layer
     * @param size  neurons per set, at most {@code count}
     * @param sets  how many sets
     * @param seed  the seed; the same seed and size give the same sets
     * @return the sets
     */
    static List<int[]> random(int count, int size, int sets, long seed) {
        Random rng = new Random(seed * 1_000_003L + size);
        List<int[]> out = new ArrayList<>();
        int[] pool = new int[count];
        for (int s = 0; s < sets; s++) {
            for (int i = 0; i < count; i++) {
                pool[i] = i;
            }
            for (int i = 0; i < size; i++) {
                int j = i + rng.nextInt(count - i);
                int t = pool[i];
                pool[i] = pool[j];
                pool[j] = t;
            }
            out.add(java.util.Arrays.copyOf(pool, size));
        }
        return out;
    }

    /**
     * @param n the largest size
     * @return 1, 2, 4, ... below n, then n
     */
    static List<Integer> doublingSizes(int n) {
        List<Integer> sizes = new ArrayList<>();
        for (int s = 1; s < n; s *= 2) {
            sizes.add(s);
        }
        sizes.add(n);
        return sizes;
    }
}
