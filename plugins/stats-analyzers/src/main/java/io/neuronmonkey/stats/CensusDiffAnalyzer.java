package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
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
 * <p>
 * It reads each census through its typed parts only: per layer the neuron table {@code <p>-stats} (columns mean, std,
 * firingRate; the health tags) and, for the number of finite values per neuron, the matrix {@code <p>-histogram}. It
 * writes a ranking {@code shift-ranking} (at most {@code top} neurons across all layers), a neuron table
 * {@code <p>-shift} per layer, a notable finding for the largest shift (when it is not 0) and a warning per layer where
 * neurons became dead.
 */
@Extension
@ExtensionName(value = "census-diff",
        description = "Compares two activation-stats results: neurons whose mean or firing rate moved most, and class changes")
public final class CensusDiffAnalyzer implements Analyzer<CensusDiffAnalyzer.Params> {

    /** The per-neuron flags of the census, in output order. */
    static final List<String> FLAGS = List.of("dead", "rarely-firing", "always-on", "saturated");

    /** The shift's definition. */
    static final String SHIFT = "(meanB - meanA) / pooled std, pooled std = sqrt(((nA-1) stdA^2 + (nB-1) stdB^2) / (nA + nB - 2)); "
            + "+-Infinity when both stds are 0 and the means differ";

    /**
     * Params of census-diff.
     *
     * @param baseline result.json (or its folder) of an earlier activation-stats step, used as A; null: two inputs
     * @param top      neurons listed in the ranking (across layers)
     */
    public record Params(
            @Param(description = "result.json (or its step folder) of an earlier activation-stats run, compared as A against the one input step; "
                    + "leave out to compare two input steps") String baseline,
            @Param(defaultValue = "10", description = "neurons listed in the ranking, by |shift| across layers, 1..100000") int top) {

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

    /** One census, as read from its typed parts: a {@code <layer>-stats} neuron table per layer. */
    record Side(String source, Map<String, Object> summary, Map<String, Layer> layers) {

        static Side of(String source, AnalysisResult r, String step) {
            Map<String, Object> s = r.summary();
            Map<String, Layer> layers = new LinkedHashMap<>();
            for (NeuronTable t : r.parts(NeuronTable.class)) {
                if (t.id().endsWith("-stats") && t.column("mean").isPresent()) {
                    Layer layer = Layer.of(t, r, s, source, step);
                    layers.put(layer.name, layer);
                }
            }
            if (layers.isEmpty()) {
                throw new AnalysisException("step '" + step + "': " + source + " is not an activation-stats result (analyzer: "
                        + s.get("analyzer") + "; no '<layer>-stats' neuron tables)");
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

    /** Per neuron count, mean, std, firing rate and health tags of one layer. */
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

        /**
         * Values per neuron from the table's {@code mean}, {@code std} and {@code firingRate} columns; counts from the
         * layer's histogram matrix (the finite values of each neuron), or the summary's {@code examples} without one.
         */
        static Layer of(NeuronTable t, AnalysisResult r, Map<String, Object> summary, String source, String step) {
            int n = t.neurons();
            Layer x = new Layer(t.layer(), n);
            NdArray mean = column(t, "mean", source, step);
            NdArray std = column(t, "std", source, step);
            NdArray rate = column(t, "firingRate", source, step);
            String prefix = t.id().substring(0, t.id().length() - "-stats".length());
            Matrix hist = r.part(prefix + "-histogram", Matrix.class)
                    .filter(h -> h.rows().size() == n && t.layer().equals(h.layer())).orElse(null);
            double examples = number(summary.get("examples"));
            if (hist == null && !(examples >= 0)) {
                throw new AnalysisException("step '" + step + "': " + source + ", layer '" + t.layer() + "': neither a '"
                        + prefix + "-histogram' matrix nor an 'examples' count to weigh the standard deviations with");
            }
            for (int c = 0; c < n; c++) {
                x.mean[c] = mean.get(c);
                x.std[c] = std.get(c);
                x.rate[c] = rate.get(c);
                if (hist != null) {
                    double sum = 0;
                    for (int b = 0; b < hist.cols().size(); b++) {
                        sum += hist.get(c, b);
                    }
                    x.count[c] = Math.round(sum);
                } else {
                    x.count[c] = Double.isNaN(x.mean[c]) ? 0 : (long) examples;
                }
            }
            for (NeuronTable.Tag tag : t.tags()) {
                if (FLAGS.contains(tag.name())) {
                    for (int c : tag.neurons()) {
                        x.flags.get(c).add(tag.name());
                    }
                }
            }
            return x;
        }

        private static NdArray column(NeuronTable t, String name, String source, String step) {
            return t.column(name).map(NeuronTable.Column::values).orElseThrow(() -> new AnalysisException("step '" + step
                    + "': " + source + ", neuron table '" + t.id() + "' has no '" + name + "' column"));
        }
    }

    static AnalysisResult diff(Side a, Side b, int top) {
        AnalysisResult.Builder r = AnalysisResult.builder();
        r.put("analyzer", "census-diff");
        r.put("a", a.describe());
        r.put("b", b.describe());
        r.put("shift", SHIFT);
        r.put("firingRateChange", "firingRateB - firingRateA");
        r.put("top", top);
        r.put("ranking", "the neurons of every layer in both by |shift|, at most top overall");
        List<String> notes = new ArrayList<>();
        for (String k : List.of("reduce", "threshold")) {
            if (!Objects.equals(a.summary.get(k), b.summary.get(k))) {
                notes.add(k + " differs: " + a.summary.get(k) + " (A) vs " + b.summary.get(k) + " (B); the statistics are not directly comparable");
            }
        }
        Ids ids = new Ids();
        List<Object> layers = new ArrayList<>();
        List<Shifted> all = new ArrayList<>();
        List<NeuronTable> tables = new ArrayList<>();
        List<Finding> warnings = new ArrayList<>();
        int layerIndex = 0;
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
            String p = ids.prefix(la.name);
            String tableId = ids.unique(p + "-shift");
            float[] meanA = new float[n];
            float[] meanB = new float[n];
            float[] shift = new float[n];
            float[] rateA = new float[n];
            float[] rateB = new float[n];
            float[] rateChange = new float[n];
            List<Integer> becameDead = new ArrayList<>();
            List<Integer> changed = new ArrayList<>();
            for (int c = 0; c < n; c++) {
                double s = shift(la.mean[c], la.std[c], la.count[c], lb.mean[c], lb.std[c], lb.count[c]);
                meanA[c] = (float) la.mean[c];
                meanB[c] = (float) lb.mean[c];
                shift[c] = (float) s;
                rateA[c] = (float) la.rate[c];
                rateB[c] = (float) lb.rate[c];
                rateChange[c] = (float) (lb.rate[c] - la.rate[c]);
                if (!Double.isNaN(s)) {
                    all.add(new Shifted(la.name, layerIndex, c, s, la.mean[c], lb.mean[c], la.rate[c], lb.rate[c], tableId));
                }
                if (!la.flags.get(c).equals(lb.flags.get(c))) {
                    changed.add(c);
                }
                if (lb.flags.get(c).contains("dead") && !la.flags.get(c).contains("dead")) {
                    becameDead.add(c);
                }
            }
            List<NeuronTable.Column> cols = List.of(
                    column("meanA", "activation", "mean in A (" + a.source + ")", meanA),
                    column("meanB", "activation", "mean in B (" + b.source + ")", meanB),
                    column("shift", "pooled std", SHIFT, shift),
                    column("firingRateA", "fraction", "firing rate in A", rateA),
                    column("firingRateB", "fraction", "firing rate in B", rateB),
                    column("firingRateChange", "fraction", "firingRateB - firingRateA", rateChange));
            List<NeuronTable.Tag> tags = List.of(
                    new NeuronTable.Tag("became-dead", "dead in B, not dead in A", becameDead),
                    new NeuronTable.Tag("health-changed", "a different set of health tags (dead, rarely-firing, always-on, "
                            + "saturated) in A and B", changed));
            tables.add(new NeuronTable(tableId, la.name + ": shift from A to B", la.name, n, cols, tags,
                    "per neuron of " + la.name + ": A = " + a.source + ", B = " + b.source));
            if (!becameDead.isEmpty()) {
                warnings.add(new Finding(ids.unique(p + "-became-dead"), Finding.Severity.WARNING, becameDead.size() + " of "
                        + n + " neurons of " + la.name + " became dead: they fire in A (" + a.source + ") and never in B ("
                        + b.source + ")", null, becameDead.stream().map(c -> new NeuronRef(la.name, c)).toList(),
                        List.of(tableId)));
            }
            Map<String, Object> lm = new LinkedHashMap<>();
            lm.put("name", la.name);
            lm.put("neurons", n);
            lm.put("meanAbsShift", meanAbs(shift));
            lm.put("becameDead", becameDead.size());
            lm.put("healthChanged", changed.size());
            layers.add(lm);
            layerIndex++;
        }
        r.put("notes", notes);
        r.put("layers", layers);
        r.put("onlyInA", a.layers.keySet().stream().filter(k -> !b.layers.containsKey(k)).toList());
        r.put("onlyInB", b.layers.keySet().stream().filter(k -> !a.layers.containsKey(k)).toList());
        List<Shifted> ranked = all.stream()
                .sorted(Comparator.comparingDouble((Shifted x) -> -Math.abs(x.shift))
                        .thenComparingInt(x -> x.layerIndex).thenComparingInt(x -> x.neuron))
                .limit(top).toList();
        String rankingId = ids.unique("shift-ranking");
        r.part(new Ranking(rankingId, "Largest shifts", "standardized mean shift (B - A) / pooled std",
                ranked.stream().map(Shifted::entry).toList(),
                "the neurons of every layer in both results by |shift|, at most " + top + " overall; A = " + a.source
                        + ", B = " + b.source + "; " + SHIFT));
        tables.forEach(r::part);
        warnings.forEach(r::finding);
        if (!ranked.isEmpty() && ranked.get(0).shift != 0) {
            Shifted x = ranked.get(0);
            r.finding(new Finding(ids.unique("largest-shift"), Finding.Severity.NOTABLE, x.ref() + " moved most: mean "
                    + Numbers.sig3(x.meanA) + " in A, " + Numbers.sig3(x.meanB) + " in B (standardized shift "
                    + Numbers.sig3(x.shift) + ")",
                    new Finding.Strength("standardized mean shift", x.shift, null, null), List.of(x.ref()),
                    List.of(rankingId, x.table)));
        }
        return r.build();
    }

    /** A neuron's shift, for the ranking. */
    record Shifted(String layer, int layerIndex, int neuron, double shift, double meanA, double meanB, double rateA,
                   double rateB, String table) {

        NeuronRef ref() {
            return new NeuronRef(layer, neuron);
        }

        Ranking.Entry entry() {
            double change = rateB - rateA;
            return new Ranking.Entry(ref(), shift, null, null, null, "mean " + Numbers.sig3(meanA) + " -> "
                    + Numbers.sig3(meanB) + ", firing rate " + Numbers.sig3(rateA) + " -> " + Numbers.sig3(rateB) + " ("
                    + (change >= 0 ? "+" : "") + Numbers.sig3(change) + ")");
        }
    }

    private static NeuronTable.Column column(String name, String unit, String description, float[] values) {
        return new NeuronTable.Column(name, unit, description, NdArray.perNeuron(values), null, null);
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
