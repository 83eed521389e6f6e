package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.AnalysisResult;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A typed view of a {@code census-diff} result: how each neuron's statistics moved between two censuses
 * (e.g. two training steps).
 *
 * @param stepId the step that produced the result
 * @param a      what the first census was taken of (a step or a file)
 * @param b      what the second census was taken of
 * @param layers the layers, in the result's order
 */
record CensusDiff(String stepId, String a, String b, List<Layer> layers) {

    /** The analyzer name whose results this view reads. */
    static final String ANALYZER = "census-diff";

    /**
     * @param name         layer name
     * @param neurons      number of neurons; -1 when absent
     * @param ranking      neurons by shift, largest first
     * @param changedFlags neurons whose flags differ between the censuses
     */
    record Layer(String name, int neurons, List<Shift> ranking, List<FlagChange> changedFlags) {
    }

    /** One neuron's move; absent numbers are NaN. */
    record Shift(int neuron, double shift, double meanA, double meanB, double firingRateA, double firingRateB,
                 List<String> flagsA, List<String> flagsB) {
    }

    /** One neuron whose flags changed. */
    record FlagChange(int neuron, List<String> flagsA, List<String> flagsB) {
    }

    static boolean isCensusDiff(AnalysisResult result) {
        return result != null && ANALYZER.equals(result.summary().get("analyzer"));
    }

    /**
     * @throws OutputException when the summary does not have the documented shape
     */
    static CensusDiff parse(String stepId, AnalysisResult result) {
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
            List<Shift> ranking = new ArrayList<>();
            List<Map<String, Object>> rows = in.maps(m, "ranking", p + ".ranking");
            for (int j = 0; j < rows.size(); j++) {
                String q = p + ".ranking[" + j + "]";
                Map<String, Object> r = rows.get(j);
                ranking.add(new Shift(in.integer(r, "neuron", q + ".neuron", -1), in.number(r, "shift", q + ".shift"),
                        in.number(r, "meanA", q + ".meanA"), in.number(r, "meanB", q + ".meanB"),
                        in.number(r, "firingRateA", q + ".firingRateA"),
                        in.number(r, "firingRateB", q + ".firingRateB"),
                        in.stringList(r, "flagsA", q + ".flagsA"), in.stringList(r, "flagsB", q + ".flagsB")));
            }
            List<FlagChange> changed = new ArrayList<>();
            List<Map<String, Object>> flags = in.maps(m, "changedFlags", p + ".changedFlags");
            for (int j = 0; j < flags.size(); j++) {
                String q = p + ".changedFlags[" + j + "]";
                Map<String, Object> r = flags.get(j);
                changed.add(new FlagChange(in.integer(r, "neuron", q + ".neuron", -1),
                        in.stringList(r, "flagsA", q + ".flagsA"), in.stringList(r, "flagsB", q + ".flagsB")));
            }
            layers.add(new Layer(in.string(m, "name", p + ".name"), in.integer(m, "neurons", p + ".neurons", -1),
                    List.copyOf(ranking), List.copyOf(changed)));
        }
        return new CensusDiff(stepId, in.string(s, "a", "a"), in.string(s, "b", "b"), List.copyOf(layers));
    }
}
