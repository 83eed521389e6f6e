package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.api.visual.StepOutput;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A typed view of an {@code activation-breakdown} result: per metadata key (class, watermark, ...) and layer, how
 * strongly each neuron separates the key's values, as effect sizes; plus a ranking across layers per key.
 *
 * @param stepId      the step that produced the result
 * @param reduce      how spatial positions were reduced; empty when absent
 * @param keys        the keys broken down, in the result's order
 * @param skippedKeys keys left out, with the reason
 * @param layers      the layers, in the result's order
 * @param overall     per key, the ranking across layers; possibly empty
 * @param result      the underlying result (for its arrays)
 */
record ActivationBreakdown(String stepId, String reduce, List<String> keys, Map<String, String> skippedKeys,
                           List<Layer> layers, List<Overall> overall, AnalysisResult result) {

    /** The analyzer name whose results this view reads. */
    static final String ANALYZER = "activation-breakdown";

    /**
     * @param name    layer name
     * @param neurons number of neurons; -1 when absent
     * @param keys    one breakdown per key
     */
    record Layer(String name, int neurons, List<KeyBreakdown> keys) {
    }

    /**
     * @param key      the metadata key
     * @param values   its values with their example counts
     * @param contrast e.g. {@code on vs off} for two-valued keys; empty when each value is set against the rest
     * @param ranking  neurons by effect size, strongest first
     * @param arrays   role ({@code means}, {@code effect}) to array name
     */
    record KeyBreakdown(String key, List<ValueCount> values, String contrast, List<Ranked> ranking,
                        Map<String, String> arrays) {
    }

    /** A value of a key and how many examples carry it. */
    record ValueCount(String value, long count) {
    }

    /**
     * One ranked neuron.
     *
     * @param layer      layer name (the layer's own for per-layer rankings)
     * @param neuron     neuron index
     * @param value      the value set against the rest; empty for a two-valued contrast
     * @param effectSize standardised difference (signed)
     * @param meanA      mean on the contrast's first side (or on {@code value}); NaN when absent
     * @param meanB      mean on the other side (or the rest); NaN when absent
     * @param diff       meanA - meanB; NaN when absent
     */
    record Ranked(String layer, int neuron, String value, double effectSize, double meanA, double meanB,
                  double diff) {
    }

    /**
     * @param key      the metadata key
     * @param contrast as in {@link KeyBreakdown#contrast()}
     * @param ranking  neurons of all layers, strongest first
     */
    record Overall(String key, String contrast, List<Ranked> ranking) {
    }

    static boolean isActivationBreakdown(AnalysisResult result) {
        return result != null && ANALYZER.equals(result.summary().get("analyzer"));
    }

    /**
     * @param step a step output
     * @return the view when the step holds an activation-breakdown result
     * @throws OutputException when the summary does not have the documented shape
     */
    static Optional<ActivationBreakdown> of(StepOutput step) {
        AnalysisResult r = step.result().orElse(null);
        return isActivationBreakdown(r) ? Optional.of(parse(step.stepId(), r)) : Optional.empty();
    }

    /** @return the array of a layer's key breakdown, when named and present */
    Optional<Tensor> array(KeyBreakdown key, String role) {
        String name = key.arrays().get(role);
        return name == null ? Optional.empty() : result.array(name);
    }

    /** @return the per-layer breakdowns of {@code key}, one per layer that has it, paired with their layer */
    List<Map.Entry<Layer, KeyBreakdown>> perLayer(String key) {
        List<Map.Entry<Layer, KeyBreakdown>> out = new ArrayList<>();
        for (Layer l : layers) {
            for (KeyBreakdown kb : l.keys()) {
                if (kb.key().equals(key)) {
                    out.add(Map.entry(l, kb));
                }
            }
        }
        return out;
    }

    /** @return every key broken down: the summary's {@code keys}, then any other key a layer or ranking has */
    List<String> allKeys() {
        java.util.LinkedHashSet<String> all = new java.util.LinkedHashSet<>(keys);
        layers.forEach(l -> l.keys().forEach(k -> all.add(k.key())));
        overall.forEach(o -> all.add(o.key()));
        return List.copyOf(all);
    }

    static ActivationBreakdown parse(String stepId, AnalysisResult result) {
        SummaryReader in = new SummaryReader(stepId, ANALYZER);
        Map<String, Object> s = result.summary();
        if (!(s.get("layers") instanceof List<?>)) {
            throw in.error("layers", "must be a list, found " + SummaryReader.describe(s.get("layers")));
        }
        List<Layer> layers = new ArrayList<>();
        List<Map<String, Object>> raw = in.maps(s, "layers", "layers");
        for (int i = 0; i < raw.size(); i++) {
            String p = "layers[" + i + "]";
            Map<String, Object> m = raw.get(i);
            String name = in.string(m, "name", p + ".name");
            if (name.isEmpty()) {
                throw in.error(p + ".name", "is missing");
            }
            List<KeyBreakdown> keys = new ArrayList<>();
            List<Map<String, Object>> rawKeys = in.maps(m, "keys", p + ".keys");
            for (int j = 0; j < rawKeys.size(); j++) {
                String q = p + ".keys[" + j + "]";
                Map<String, Object> k = rawKeys.get(j);
                List<ValueCount> values = new ArrayList<>();
                List<Map<String, Object>> rawValues = in.maps(k, "values", q + ".values");
                for (int v = 0; v < rawValues.size(); v++) {
                    String r = q + ".values[" + v + "]";
                    double count = in.number(rawValues.get(v), "count", r + ".count");
                    values.add(new ValueCount(in.string(rawValues.get(v), "value", r + ".value"),
                            Double.isNaN(count) ? -1 : (long) count));
                }
                keys.add(new KeyBreakdown(in.string(k, "key", q + ".key"), List.copyOf(values),
                        in.string(k, "contrast", q + ".contrast"), ranking(in, k, q, name),
                        in.strings(k, "arrays", q + ".arrays")));
            }
            layers.add(new Layer(name, in.integer(m, "neurons", p + ".neurons", -1), List.copyOf(keys)));
        }
        List<Overall> overall = new ArrayList<>();
        List<Map<String, Object>> rawOverall = in.maps(s, "overall", "overall");
        for (int i = 0; i < rawOverall.size(); i++) {
            String p = "overall[" + i + "]";
            Map<String, Object> o = rawOverall.get(i);
            overall.add(new Overall(in.string(o, "key", p + ".key"), in.string(o, "contrast", p + ".contrast"),
                    ranking(in, o, p, null)));
        }
        return new ActivationBreakdown(stepId, in.string(s, "reduce", "reduce"), in.stringList(s, "keys", "keys"),
                in.strings(s, "skippedKeys", "skippedKeys"), List.copyOf(layers), List.copyOf(overall), result);
    }

    private static List<Ranked> ranking(SummaryReader in, Map<String, Object> m, String path, String layer) {
        List<Ranked> out = new ArrayList<>();
        List<Map<String, Object>> raw = in.maps(m, "ranking", path + ".ranking");
        for (int i = 0; i < raw.size(); i++) {
            String p = path + ".ranking[" + i + "]";
            Map<String, Object> r = raw.get(i);
            int neuron = in.integer(r, "neuron", p + ".neuron", -1);
            if (neuron < 0) {
                throw in.error(p + ".neuron", "must be a neuron index >= 0, found "
                        + SummaryReader.describe(r.get("neuron")));
            }
            out.add(new Ranked(layer != null ? layer : in.string(r, "layer", p + ".layer"), neuron,
                    in.string(r, "value", p + ".value"), in.number(r, "effectSize", p + ".effectSize"),
                    in.number(r, "meanA", p + ".meanA"), in.number(r, "meanB", p + ".meanB"),
                    in.number(r, "diff", p + ".diff")));
        }
        return List.copyOf(out);
    }
}
