package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Compares two {@code activation-stats} results (two checkpoints, two data splits): per neuron of every layer present
 * in both, means, firing rates, the standardized shift {@code (meanB - meanA) / pooled std} and the firing-rate change;
 * lists the neurons that moved most and those whose health class changed (for example became dead). A is the first
 * input step, or the {@code baseline} file; B is the second input step, or the only one.
 */
@Extension
@ExtensionName(value = "census-diff",
        description = "Compares two activation-stats results: neurons whose mean or firing rate moved most, and class changes")
public final class CensusDiffAnalyzer implements Analyzer<CensusDiffAnalyzer.Params> {

    /** The per-neuron flags of the census, in output order. */
    static final List<String> FLAGS = List.of("dead", "rarely-firing", "always-on", "saturated");

    /**
     * Params of census-diff.
     *
     * @param baseline result.json (or its folder) of an earlier activation-stats step, used as A; null: two inputs
     * @param top      neurons listed per layer
     */
    public record Params(
            @Param(description = "result.json (or its step folder) of an earlier activation-stats run, compared as A against the one input step; "
                    + "leave out to compare two input steps") String baseline,
            @Param(defaultValue = "10", description = "neurons listed per layer, by |shift|, 1..100000") int top) {

        /** Checks every field. */
        public Params {
            Violations.check()
                    .require(baseline == null || !baseline.isBlank(), "baseline", "must be a path, or be left out")
                    .require(top >= 1 && top <= 100_000, "top", "must be between 1 and 100000, found " + top)
                    .throwIfAny();
        }
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Map<String, AnalysisResult> inputs = ctx.inputs();
        Params p = ctx.params();
        Side a;
        Side b;
        if (p.baseline() == null) {
            if (inputs.size() != 2) {
                throw new AnalysisException("step '" + ctx.stepId() + "' compares two activation-stats results: give "
                        + "'inputs: [a, b]' or one input and 'params: {baseline: path/to/result.json}'; found "
                        + inputs.size() + " input(s) " + inputs.keySet());
            }
            List<Map.Entry<String, AnalysisResult>> e = List.copyOf(inputs.entrySet());
            a = Side.of("step '" + e.get(0).getKey() + "'", e.get(0).getValue(), ctx.stepId());
            b = Side.of("step '" + e.get(1).getKey() + "'", e.get(1).getValue(), ctx.stepId());
        } else {
            if (inputs.size() != 1) {
                throw new AnalysisException("step '" + ctx.stepId() + "' with a baseline compares it with exactly one "
                        + "activation-stats input step; found " + inputs.size() + " input(s) " + inputs.keySet());
            }
            Path path = ctx.resolve(p.baseline());
            AnalysisResult base = ctx.readResult(path);
            Map.Entry<String, AnalysisResult> e = inputs.entrySet().iterator().next();
            a = Side.of("baseline " + path, base, ctx.stepId());
            b = Side.of("step '" + e.getKey() + "'", e.getValue(), ctx.stepId());
        }
        return diff(a, b, p.top());
    }

    /** One census, as read from its summary (and arrays where the summary lacks per-neuron stats). */
    record Side(String source, Map<String, Object> summary, Map<String, Layer> layers) {

        @SuppressWarnings("unchecked")
        static Side of(String source, AnalysisResult r, String step) {
            Map<String, Object> s = r.summary();
            if (!"activation-stats".equals(s.get("analyzer"))) {
                throw new AnalysisException("step '" + step + "': " + source + " is not an activation-stats result (analyzer: "
                        + s.get("analyzer") + ")");
            }
            if (!(s.get("layers") instanceof List<?> list)) {
                throw new AnalysisException("step '" + step + "': " + source + " has no 'layers' list");
            }
            long examples = (long) number(s.get("examples"));
            Map<String, Layer> layers = new LinkedHashMap<>();
            for (Object o : list) {
                Map<String, Object> l = (Map<String, Object>) o;
                Layer layer = Layer.of(l, r, examples, source);
                layers.put(layer.name, layer);
            }
            return new Side(source, s, layers);
        }

        Map<String, Object> describe() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("source", source);
            m.put("examples", summary.get("examples"));
            m.put("reduce", summary.get("reduce"));
            m.put("threshold", summary.get("threshold"));
            return m;
        }
    }

    /** Per neuron count, mean, std, firing rate and flags of one layer. */
    static final class Layer {
        final String name;
        final long[] count;
        final double[] mean;
        final double[] std;
        final double[] rate;
        final List<Set<String>> flags;

        private Layer(String name, int n) {
            this.name = name;
            count = new long[n];
            mean = new double[n];
            std = new double[n];
            rate = new double[n];
            flags = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                flags.add(new LinkedHashSet<>());
            }
        }

        @SuppressWarnings("unchecked")
        static Layer of(Map<String, Object> l, AnalysisResult r, long examples, String source) {
            String name = (String) l.get("name");
            int n = (int) number(l.get("neurons"));
            Layer x = new Layer(name, n);
            if (l.get("neuronStats") instanceof List<?> stats && stats.size() == n) {
                for (int c = 0; c < n; c++) {
                    Map<String, Object> ns = (Map<String, Object>) stats.get(c);
                    x.count[c] = (long) number(ns.get("count"));
                    x.mean[c] = number(ns.get("mean"));
                    x.std[c] = number(ns.get("std"));
                    x.rate[c] = number(ns.get("firingRate"));
                }
            } else {
                Map<String, Object> arrays = l.get("arrays") instanceof Map<?, ?> a ? (Map<String, Object>) a : Map.of();
                float[] mean = array(r, arrays, "mean", name, n, source);
                float[] std = array(r, arrays, "std", name, n, source);
                float[] rate = array(r, arrays, "firingRate", name, n, source);
                for (int c = 0; c < n; c++) {
                    x.count[c] = examples;
                    x.mean[c] = mean[c];
                    x.std[c] = std[c];
                    x.rate[c] = rate[c];
                }
            }
            Map<String, String> lists = Map.of("dead", "dead", "rarely-firing", "rarelyFiring", "always-on", "alwaysOn",
                    "saturated", "saturated");
            for (String flag : FLAGS) {
                if (l.get(lists.get(flag)) instanceof List<?> idx) {
                    for (Object i : idx) {
                        int c = (int) number(i);
                        if (c >= 0 && c < n) {
                            x.flags.get(c).add(flag);
                        }
                    }
                }
            }
            return x;
        }

        private static float[] array(AnalysisResult r, Map<String, Object> arrays, String key, String layer, int n, String source) {
            Object name = arrays.get(key);
            Tensor t = name == null ? null : r.array((String) name).orElse(null);
            if (t == null || t.size() != n) {
                throw new AnalysisException(source + ", layer '" + layer + "': neither per-neuron stats nor the '" + key
                        + "' array (" + name + ") with " + n + " values");
            }
            return t.floats();
        }
    }

    static AnalysisResult diff(Side a, Side b, int top) {
        AnalysisResult.Builder r = AnalysisResult.builder();
        r.put("analyzer", "census-diff");
        r.put("a", a.describe());
        r.put("b", b.describe());
        r.put("shift", "(meanB - meanA) / pooled std, pooled std = sqrt(((nA-1) stdA^2 + (nB-1) stdB^2) / (nA + nB - 2)); "
                + "+-Infinity when both stds are 0 and the means differ");
        r.put("firingRateChange", "firingRateB - firingRateA");
        r.put("top", top);
        List<String> notes = new ArrayList<>();
        for (String k : List.of("reduce", "threshold")) {
            if (!Objects.equals(a.summary.get(k), b.summary.get(k))) {
                notes.add(k + " differs: " + a.summary.get(k) + " (A) vs " + b.summary.get(k) + " (B); the statistics are not directly comparable");
            }
        }
        r.put("notes", notes);
        List<Object> layers = new ArrayList<>();
        List<Map<String, Object>> overall = new ArrayList<>();
        for (Layer la : a.layers.values()) {
            Layer lb = b.layers.get(la.name);
            if (lb == null) {
                continue;
            }
            if (la.mean.length != lb.mean.length) {
                notes.add("layer '" + la.name + "' has " + la.mean.length + " neurons in A and " + lb.mean.length + " in B; skipped");
                continue;
            }
            int n = la.mean.length;
            float[] shift = new float[n];
            float[] rateChange = new float[n];
            List<Map<String, Object>> rows = new ArrayList<>();
            List<Object> changed = new ArrayList<>();
            for (int c = 0; c < n; c++) {
                double s = shift(la.mean[c], la.std[c], la.count[c], lb.mean[c], lb.std[c], lb.count[c]);
                shift[c] = (float) s;
                rateChange[c] = (float) (lb.rate[c] - la.rate[c]);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("neuron", c);
                m.put("shift", s);
                m.put("meanA", la.mean[c]);
                m.put("meanB", lb.mean[c]);
                m.put("stdA", la.std[c]);
                m.put("stdB", lb.std[c]);
                m.put("firingRateA", la.rate[c]);
                m.put("firingRateB", lb.rate[c]);
                m.put("firingRateChange", lb.rate[c] - la.rate[c]);
                m.put("flagsA", List.copyOf(la.flags.get(c)));
                m.put("flagsB", List.copyOf(lb.flags.get(c)));
                rows.add(m);
                if (!la.flags.get(c).equals(lb.flags.get(c))) {
                    changed.add(m);
                }
            }
            List<Map<String, Object>> ranked = rows.stream()
                    .filter(m -> !Double.isNaN((double) m.get("shift")))
                    .sorted(Comparator.comparingDouble((Map<String, Object> m) -> -Math.abs((double) m.get("shift")))
                            .thenComparingInt(m -> (int) m.get("neuron")))
                    .limit(top).toList();
            for (Map<String, Object> m : ranked) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("layer", la.name);
                o.putAll(m);
                overall.add(o);
            }
            String prefix = TopActivationsAnalyzer.arrayName(la.name);
            r.array(prefix + "-shift", Tensor.ofFloats(shift, n));
            r.array(prefix + "-firing-rate-change", Tensor.ofFloats(rateChange, n));
            Map<String, Object> lm = new LinkedHashMap<>();
            lm.put("name", la.name);
            lm.put("neurons", n);
            lm.put("meanAbsShift", meanAbs(shift));
            lm.put("top", ranked);
            lm.put("changedClass", changed);
            lm.put("arrays", Map.of("shift", prefix + "-shift", "firingRateChange", prefix + "-firing-rate-change"));
            layers.add(lm);
        }
        r.put("layers", layers);
        r.put("overall", overall.stream()
                .sorted(Comparator.comparingDouble((Map<String, Object> m) -> -Math.abs((double) m.get("shift"))))
                .limit(top).toList());
        r.put("onlyInA", a.layers.keySet().stream().filter(k -> !b.layers.containsKey(k)).toList());
        r.put("onlyInB", b.layers.keySet().stream().filter(k -> !a.layers.containsKey(k)).toList());
        return r.build();
    }

    private static double meanAbs(float[] x) {
        double s = 0;
        int n = 0;
        for (float v : x) {
            if (Float.isFinite(v)) {
                s += Math.abs(v);
                n++;
            }
        }
        return n == 0 ? 0 : s / n;
    }

    /** Standardized mean shift; NaN without counts. */
    static double shift(double meanA, double stdA, long nA, double meanB, double stdB, long nB) {
        if (nA < 1 || nB < 1 || nA + nB < 3 || Double.isNaN(meanA) || Double.isNaN(meanB)) {
            return Double.NaN;
        }
        double pooled = ((nA - 1) * stdA * stdA + (nB - 1) * stdB * stdB) / (nA + nB - 2);
        double d = meanB - meanA;
        if (!(pooled > 0)) {
            return d == 0 ? 0 : d > 0 ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        }
        return d / Math.sqrt(pooled);
    }

    /** @return a JSON number, or one of the quoted non-finite numbers results are written with ("NaN", "Infinity"); NaN otherwise */
    static double number(Object o) {
        if (o instanceof Number x) {
            return x.doubleValue();
        }
        if ("Infinity".equals(o)) {
            return Double.POSITIVE_INFINITY;
        }
        if ("-Infinity".equals(o)) {
            return Double.NEGATIVE_INFINITY;
        }
        return Double.NaN;
    }
}
