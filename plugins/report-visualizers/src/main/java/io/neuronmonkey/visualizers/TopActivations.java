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
 * A typed view of a {@code top-activations} result: per layer and neuron, the examples that drove it highest (and
 * lowest, when {@code bottomK > 0}). Array names come from the summary, never rebuilt.
 *
 * @param stepId     the step that produced the result
 * @param k          examples kept per neuron at the top; -1 when absent
 * @param bottomK    examples kept per neuron at the bottom; 0 when absent
 * @param reduce     how spatial positions were reduced; empty when absent
 * @param classNames class names, possibly empty
 * @param inputShape shape of one input example (e.g. [28, 28, 1]), possibly empty
 * @param regionRule how {@code region} boxes were derived; empty when absent
 * @param layers     the layers, in the result's order
 * @param result     the underlying result (for its arrays)
 */
record TopActivations(String stepId, int k, int bottomK, String reduce, List<String> classNames,
                      List<Integer> inputShape, String regionRule, List<Layer> layers, AnalysisResult result) {

    /** The analyzer name whose results this view reads. */
    static final String ANALYZER = "top-activations";

    /**
     * @param name    layer name (may contain '/')
     * @param opType  operation type; empty when absent
     * @param shape   output shape without batch
     * @param spatial true when entries carry positions and regions
     * @param neurons number of neurons
     * @param arrays  role ({@code topInputs}, {@code topValues}, {@code bottomInputs}, {@code bottomValues}) to name
     * @param rows    per-neuron entries, possibly empty
     */
    record Layer(String name, String opType, List<Integer> shape, boolean spatial, int neurons,
                 Map<String, String> arrays, List<NeuronTops> rows) {
    }

    /**
     * @param index  neuron index within its layer (also its row in the arrays)
     * @param top    highest examples, rank 1 first
     * @param bottom lowest examples, possibly empty
     */
    record NeuronTops(int index, List<Entry> top, List<Entry> bottom) {
    }

    /**
     * One kept example.
     *
     * @param rank      1-based rank
     * @param value     the neuron's reduced activation on it
     * @param example   the example's index in the data set; -1 when absent
     * @param id        the example's id; empty when absent
     * @param label     class index; -1 when absent
     * @param className class name; empty when absent
     * @param metadata  the example's metadata as text, in the summary's order
     * @param position  [row, col] of the winning position (spatial layers), or null
     * @param region    [top, left, bottom, right] input pixel box, all inclusive, or
     *                  null
     */
    record Entry(int rank, double value, long example, String id, int label, String className,
                 Map<String, String> metadata, int[] position, int[] region) {
    }

    static boolean isTopActivations(AnalysisResult result) {
        return result != null && ANALYZER.equals(result.summary().get("analyzer"));
    }

    /**
     * @param step a step output
     * @return the view when the step holds a top-activations result
     * @throws OutputException when the summary does not have the documented shape
     */
    static Optional<TopActivations> of(StepOutput step) {
        AnalysisResult r = step.result().orElse(null);
        return isTopActivations(r) ? Optional.of(parse(step.stepId(), r)) : Optional.empty();
    }

    /**
     * @param layer a layer of this result
     * @param role  an array role (e.g. {@code topInputs})
     * @return the array, when the summary names it and the result holds it
     */
    Optional<Tensor> array(Layer layer, String role) {
        String name = layer.arrays().get(role);
        return name == null ? Optional.empty() : result.array(name);
    }

    static TopActivations parse(String stepId, AnalysisResult result) {
        SummaryReader in = new SummaryReader(stepId, ANALYZER);
        Map<String, Object> s = result.summary();
        if (!(s.get("layers") instanceof List<?>)) {
            throw in.error("layers", "must be a list, found " + SummaryReader.describe(s.get("layers")));
        }
        List<Layer> layers = new ArrayList<>();
        List<Map<String, Object>> raw = in.maps(s, "layers", "layers");
        for (int i = 0; i < raw.size(); i++) {
            layers.add(layer(in, raw.get(i), "layers[" + i + "]"));
        }
        return new TopActivations(stepId, in.integer(s, "k", "k", -1), in.integer(s, "bottomK", "bottomK", 0),
                in.string(s, "reduce", "reduce"), in.stringList(s, "classNames", "classNames"),
                in.ints(s, "inputShape", "inputShape"), in.string(s, "regionRule", "regionRule"),
                List.copyOf(layers), result);
    }

    private static Layer layer(SummaryReader in, Map<String, Object> m, String path) {
        String name = in.string(m, "name", path + ".name");
        if (name.isEmpty()) {
            throw in.error(path + ".name", "is missing");
        }
        List<Integer> shape = in.ints(m, "shape", path + ".shape");
        List<NeuronTops> rows = new ArrayList<>();
        List<Map<String, Object>> raw = in.maps(m, "neuronStats", path + ".neuronStats");
        for (int i = 0; i < raw.size(); i++) {
            String p = path + ".neuronStats[" + i + "]";
            Map<String, Object> r = raw.get(i);
            rows.add(new NeuronTops(in.integer(r, "index", p + ".index", i), entries(in, r, "top", p),
                    entries(in, r, "bottom", p)));
        }
        Object spatial = m.get("spatial");
        int neurons = in.integer(m, "neurons", path + ".neurons", rows.size());
        return new Layer(name, in.string(m, "opType", path + ".opType"), shape,
                Boolean.TRUE.equals(spatial) || (spatial == null && shape.size() == 3), neurons,
                in.strings(m, "arrays", path + ".arrays"), List.copyOf(rows));
    }

    private static List<Entry> entries(SummaryReader in, Map<String, Object> r, String key, String path) {
        List<Entry> out = new ArrayList<>();
        List<Map<String, Object>> raw = in.maps(r, key, path + "." + key);
        for (int i = 0; i < raw.size(); i++) {
            String p = path + "." + key + "[" + i + "]";
            Map<String, Object> e = raw.get(i);
            double example = in.number(e, "example", p + ".example");
            int[] region = in.intArray(e, "region", p + ".region");
            if (region != null && region.length != 4) {
                throw in.error(p + ".region", "must be [top, left, bottom, right], found " + region.length
                        + " numbers");
            }
            out.add(new Entry(in.integer(e, "rank", p + ".rank", i + 1), in.number(e, "value", p + ".value"),
                    Double.isNaN(example) ? -1 : (long) example, in.string(e, "id", p + ".id"),
                    in.integer(e, "label", p + ".label", -1), in.string(e, "className", p + ".className"),
                    in.strings(e, "metadata", p + ".metadata"), in.intArray(e, "position", p + ".position"),
                    region));
        }
        return List.copyOf(out);
    }
}
