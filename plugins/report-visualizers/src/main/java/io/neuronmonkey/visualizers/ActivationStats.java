package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.api.visual.StepOutput;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A typed view of an {@code activation-stats} result, read from its JSON-like summary. Numbers may arrive as any
 * {@link Number}; absent optional numbers read as {@code NaN}. A malformed summary fails with an
 * {@link OutputException} naming the step and the path of the bad value.
 *
 * @param stepId     the step that produced the result
 * @param data       the data set the step read; may be null
 * @param reduce     how spatial positions were reduced ({@code mean} or {@code max}); empty when absent
 * @param threshold  the firing threshold; NaN when absent
 * @param examples   number of examples; -1 when absent
 * @param classNames class names, possibly empty
 * @param criteria   human-readable rules for the flags (dead, alwaysOn, saturated), possibly empty
 * @param layers     the layers, in the result's order
 * @param result     the underlying result (for its arrays)
 */
record ActivationStats(String stepId, String data, String reduce, double threshold, long examples,
                       List<String> classNames, Map<String, String> criteria, List<Layer> layers,
                       AnalysisResult result) {

    /** The analyzer name whose results this view reads. */
    static final String ANALYZER = "activation-stats";

    /**
     * One layer of the result.
     *
     * @param name              layer name (may contain '/')
     * @param opType            operation type; empty when absent
     * @param shape             output shape without batch
     * @param neurons           number of neurons
     * @param spatial           true for conv layers whose positions were reduced
     * @param deadFraction      fraction of dead neurons (NaN when absent), likewise the next four
     * @param alwaysOnFraction  fraction of always-on neurons
     * @param saturatedFraction fraction of saturated neurons
     * @param sparsity          fraction of (example, neuron) values at or below the threshold
     * @param meanFiringRate    mean over neurons of the firing rate
     * @param dead              indices of dead neurons
     * @param alwaysOn          indices of always-on neurons
     * @param saturated         indices of saturated neurons
     * @param rarelyFiring      indices of rarely-firing neurons (firing, but seldom); empty when absent
     * @param rarelyFiringFraction fraction of rarely-firing neurons; NaN when absent
     * @param edges             pooled histogram bin edges (B + 1), or null when absent
     * @param counts            pooled histogram counts (B), or null when absent
     * @param arrays            role ({@code mean}, {@code classMean}, ...) to array name
     * @param neuronRows        per-neuron statistics, possibly empty
     */
    record Layer(String name, String opType, List<Integer> shape, int neurons, boolean spatial,
                 double deadFraction, double alwaysOnFraction, double saturatedFraction, double sparsity,
                 double meanFiringRate, List<Integer> dead, List<Integer> alwaysOn, List<Integer> saturated,
                 List<Integer> rarelyFiring, double rarelyFiringFraction, double[] edges, double[] counts, Map<String, String> arrays, List<NeuronRow> neuronRows) {
    }

    /**
     * Statistics of one neuron.
     *
     * @param index      neuron index within its layer
     * @param mean       mean reduced activation
     * @param std        standard deviation
     * @param min        minimum
     * @param max        maximum
     * @param firingRate fraction of examples above the threshold
     * @param firingRateLow  lower end of the firing rate's 95% (Wilson) interval; NaN when absent
     * @param firingRateHigh upper end of that interval; NaN when absent
     * @param quantiles  e.g. {@code p05 -> 0.0, p50 -> 0.7}; empty when absent
     * @param flags      e.g. {@code dead}, {@code always-on}, {@code rarely-firing}, {@code saturated}
     */
    record NeuronRow(int index, double mean, double std, double min, double max, double firingRate,
                     double firingRateLow, double firingRateHigh, Map<String, Double> quantiles,
                     List<String> flags) {

        /** @return true when the summary gave the firing rate's interval */
        boolean hasInterval() {
            return !Double.isNaN(firingRateLow) && !Double.isNaN(firingRateHigh);
        }
    }

    /**
     * @param result an analysis result, may be null
     * @return true when it is an activation-stats result
     */
    static boolean isActivationStats(AnalysisResult result) {
        return result != null && ANALYZER.equals(result.summary().get("analyzer"));
    }

    /**
     * @param step a step output
     * @return the view when the step holds an activation-stats result
     * @throws OutputException when the summary says activation-stats but does not have the documented shape
     */
    static Optional<ActivationStats> of(StepOutput step) {
        AnalysisResult r = step.result().orElse(null);
        if (!isActivationStats(r)) {
            return Optional.empty();
        }
        return Optional.of(parse(step.stepId(), step.data(), r));
    }

    /**
     * @param layer a layer of this result
     * @param role  an array role from the summary's {@code arrays} map (e.g. {@code classMean})
     * @return the array, when the summary names it and the result holds it
     */
    Optional<Tensor> array(Layer layer, String role) {
        String name = layer.arrays().get(role);
        return name == null ? Optional.empty() : result.array(name);
    }

    static ActivationStats parse(String stepId, String data, AnalysisResult result) {
        SummaryReader in = new SummaryReader(stepId, ANALYZER);
        Map<String, Object> s = result.summary();
        List<String> classNames = new ArrayList<>();
        for (Object o : in.list(s, "classNames", "classNames")) {
            classNames.add(String.valueOf(o));
        }
        Map<String, String> criteria = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : in.map(s, "criteria", "criteria").entrySet()) {
            criteria.put(e.getKey(), String.valueOf(e.getValue()));
        }
        List<Layer> layers = new ArrayList<>();
        List<Object> rawLayers = in.list(s, "layers", "layers");
        for (int i = 0; i < rawLayers.size(); i++) {
            layers.add(parseLayer(in, in.asMap(rawLayers.get(i), "layers[" + i + "]"), "layers[" + i + "]"));
        }
        Object reduce = s.get("reduce");
        return new ActivationStats(stepId, data, reduce == null ? "" : String.valueOf(reduce),
                in.number(s, "threshold", "threshold"), (long) orElse(in.number(s, "examples", "examples"), -1),
                List.copyOf(classNames), criteria, List.copyOf(layers), result);
    }

    private static Layer parseLayer(SummaryReader in, Map<String, Object> m, String path) {
        Object name = m.get("name");
        if (name == null) {
            throw in.error(path + ".name", "is missing");
        }
        List<Integer> shape = in.ints(m, "shape", path + ".shape");
        // "neurons" is the count and "neuronStats" the per-neuron rows; older results kept the rows under "neurons",
        // so both readings are accepted and the count falls back to the rows or the shape.
        Object rawNeurons = m.get("neurons");
        List<Object> rawRows = m.get("neuronStats") instanceof List<?> ? in.list(m, "neuronStats", path + ".neuronStats")
                : rawNeurons instanceof List<?> ? in.list(m, "neurons", path + ".neurons") : List.of();
        double neurons = rawNeurons instanceof List<?> ? Double.NaN : in.number(m, "neurons", path + ".neurons");
        if (Double.isNaN(neurons)) {
            neurons = !rawRows.isEmpty() ? rawRows.size() : neuronsOf(shape);
        }
        Object spatial = m.get("spatial");
        double[] edges = null;
        double[] counts = null;
        if (m.get("histogram") != null) {
            Map<String, Object> h = in.asMap(m.get("histogram"), path + ".histogram");
            edges = in.doubles(h, "edges", path + ".histogram.edges");
            counts = in.doubles(h, "counts", path + ".histogram.counts");
            if (edges.length != counts.length + 1) {
                throw in.error(path + ".histogram", "needs one more edge than counts, found " + edges.length
                        + " edges and " + counts.length + " counts");
            }
        }
        Map<String, String> arrays = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : in.map(m, "arrays", path + ".arrays").entrySet()) {
            if (e.getValue() != null) {
                arrays.put(e.getKey(), String.valueOf(e.getValue()));
            }
        }
        List<NeuronRow> rows = new ArrayList<>();
        for (int i = 0; i < rawRows.size(); i++) {
            String p = path + ".neurons[" + i + "]";
            Map<String, Object> r = in.asMap(rawRows.get(i), p);
            List<String> flags = new ArrayList<>();
            for (Object f : in.list(r, "flags", p + ".flags")) {
                flags.add(String.valueOf(f));
            }
            rows.add(new NeuronRow((int) orElse(in.number(r, "index", p + ".index"), i),
                    in.number(r, "mean", p + ".mean"), in.number(r, "std", p + ".std"),
                    in.number(r, "min", p + ".min"), in.number(r, "max", p + ".max"),
                    in.number(r, "firingRate", p + ".firingRate"), in.number(r, "firingRateLow", p + ".firingRateLow"),
                    in.number(r, "firingRateHigh", p + ".firingRateHigh"),
                    Collections.unmodifiableMap(in.numbers(r, "quantiles", p + ".quantiles")), List.copyOf(flags)));
        }
        return new Layer(String.valueOf(name), m.get("opType") == null ? "" : String.valueOf(m.get("opType")),
                shape, (int) neurons, Boolean.TRUE.equals(spatial) || (spatial == null && shape.size() == 3),
                in.number(m, "deadFraction", path + ".deadFraction"),
                in.number(m, "alwaysOnFraction", path + ".alwaysOnFraction"),
                in.number(m, "saturatedFraction", path + ".saturatedFraction"),
                in.number(m, "sparsity", path + ".sparsity"),
                in.number(m, "meanFiringRate", path + ".meanFiringRate"),
                in.ints(m, "dead", path + ".dead"), in.ints(m, "alwaysOn", path + ".alwaysOn"),
                in.ints(m, "saturated", path + ".saturated"), in.ints(m, "rarelyFiring", path + ".rarelyFiring"),
                in.number(m, "rarelyFiringFraction", path + ".rarelyFiringFraction"), edges, counts, arrays, List.copyOf(rows));
    }

    private static int neuronsOf(List<Integer> shape) {
        if (shape.isEmpty()) {
            return 0;
        }
        if (shape.size() == 3) {
            return shape.get(2);
        }
        return shape.stream().reduce(1, (a, b) -> a * b);
    }

    private static double orElse(double value, double fallback) {
        return Double.isNaN(value) ? fallback : value;
    }
}
