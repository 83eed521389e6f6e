package io.neuronmonkey.concepts;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Every method side by side, per neuron: reads the typed parts of the steps in {@code inputs:} by the part ids their
 * producers write, whatever the producing analyzer, and lays them out as one column per method and layer:
 * <ul>
 *   <li>{@code coherence:<field>} from an example set {@code <layer>-top} (top-activations): the share of a neuron's
 *       top examples that share its most common value of {@code field} ({@code class}: the label);</li>
 *   <li>{@code effect:<key>} from a neuron table {@code <layer>-<key>-effect} (activation-breakdown): column
 *       {@code d}, or of the columns {@code d:<value>} the one largest in magnitude;</li>
 *   <li>{@code conductance} from {@code <layer>-conductance} (neuron-conductance): column {@code mean};</li>
 *   <li>{@code ablation} from the ranking {@code ablation-effect} (ablation): the change when the neuron alone is
 *       ablated;</li>
 *   <li>{@code probe:<field>} from {@code <layer>-probe-<field>} (probe): column {@code weight};</li>
 *   <li>{@code group-q:<field>} from {@code <layer>-group-<field>} (group-compare): the smallest of its columns
 *       {@code q} and {@code q-<value>};</li>
 *   <li>{@code clusters} from {@code <layer>-polysemanticity} (polysemanticity): column {@code clusters}.</li>
 * </ul>
 * When several steps give the same method for a layer, its columns are named {@code <method>@<step>}. NaN where a
 * method did not look at a neuron. Disagreements between methods are tagged per neuron; each tag's description ends
 * with {@code [columns: a, b]}, the columns it compares, so a reader can flag them.
 */
@Extension
@ExtensionName(value = "scorecard",
        description = "Per neuron every method side by side (top-k coherence, activation effect, conductance, ablation, probe weight, group q, polysemanticity) and where they disagree")
public final class ScorecardAnalyzer implements Analyzer<ScorecardAnalyzer.Params> {

    /** Relative slack of the "below" comparisons: values travel as float32, so 0.02 may come back as 0.0199999. */
    static final double FLOAT_SLACK = 1e-6;

    /** Neurons named per finding. */
    static final int NAMED = 5;

    /**
     * Params of scorecard.
     *
     * @param field          the metadata field of top-k coherence ({@code class}: the label)
     * @param minEffect      |Cohen's d| at which an activation effect is high
     * @param minAblation    |change| below which ablating a neuron has no effect
     * @param topConductance neurons per layer with the largest |mean conductance| that count as large
     * @param minCoherence   top-k coherence below which the top examples share no concept
     * @param maxQ           q-value above which a group difference is not found
     */
    public record Params(
            @Param(defaultValue = "class", description = "metadata field of top-k coherence; class: the label") String field,
            @Param(defaultValue = "1.0", description = "|Cohen's d| at which an activation effect counts as high, > 0") double minEffect,
            @Param(defaultValue = "0.02", description = "|change| below which ablating the neuron alone counts as no effect, > 0") double minAblation,
            @Param(defaultValue = "3", description = "neurons per layer with the largest |mean conductance| that count as large, 1..10000") int topConductance,
            @Param(defaultValue = "0.5", description = "top-k coherence below which the top examples share no concept, (0, 1]") double minCoherence,
            @Param(defaultValue = "0.05", description = "q-value above which no group difference is found, (0, 1)") double maxQ) {

        /** Checks every field. */
        public Params {
            Violations.check()
                    .require(field != null && !field.isBlank(), "field", "must name a metadata field or class")
                    .require(minEffect > 0, "minEffect", "must be > 0, found " + minEffect)
                    .require(minAblation > 0, "minAblation", "must be > 0, found " + minAblation)
                    .require(topConductance >= 1 && topConductance <= 10_000, "topConductance", "must be between 1 and 10000, found " + topConductance)
                    .require(minCoherence > 0 && minCoherence <= 1, "minCoherence", "must be in (0, 1], found " + minCoherence)
                    .require(maxQ > 0 && maxQ < 1, "maxQ", "must be in (0, 1), found " + maxQ)
                    .throwIfAny();
        }

        /** @return the params with every default */
        public static Params defaults() {
            return new Params("class", 1.0, 0.02, 3, 0.5, 0.05);
        }
    }

    /** One method's values for one layer, from one step. */
    record Source(String step, String method, String layer, float[] values, String unit, String description, String partId) {
    }

    /** A disagreement rule. */
    private record Rule(String tag, Finding.Severity severity, String text, List<String> kinds) {
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        String step = ctx.stepId();
        List<Source> sources = new ArrayList<>();
        Map<String, Integer> sizes = new LinkedHashMap<>();
        ctx.model().ifPresent(m -> m.layers().forEach(l -> sizes.put(l.name(), l.neurons())));
        for (Map.Entry<String, AnalysisResult> in : ctx.inputs().entrySet()) {
            read(in.getKey(), in.getValue(), p.field(), sources, sizes);
        }
        if (sources.isEmpty()) {
            throw new AnalysisException("step '" + step + "': none of the steps in 'inputs:' (" + String.join(", ", ctx.inputs().keySet())
                    + ") has a part the scorecard reads: <layer>-top (top-activations), <layer>-<key>-effect (activation-breakdown), "
                    + "<layer>-conductance (neuron-conductance), ablation-effect (ablation), <layer>-probe-<field> (probe), "
                    + "<layer>-group-<field> (group-compare), <layer>-polysemanticity (polysemanticity)");
        }
        List<Rule> rules = List.of(
                new Rule("correlational", Finding.Severity.WARNING, "high activation effect (|d| >= " + fmt(p.minEffect())
                        + ") but no ablation effect (|change| < " + fmt(p.minAblation()) + "): correlational, not causal",
                        List.of("effect", "ablation")),
                new Rule("conductance-without-concept", Finding.Severity.NOTABLE, "large conductance (among the "
                        + p.topConductance() + " largest |mean| of its layer) but its top examples share no " + p.field()
                        + " (coherence < " + fmt(p.minCoherence()) + ")", List.of("conductance", "coherence")),
                new Rule("probe-without-group-difference", Finding.Severity.NOTABLE, "a probe uses it (weight > 0) but the "
                        + "group comparison finds no difference (q > " + fmt(p.maxQ()) + ")", List.of("probe", "group-q")),
                new Rule("effect-on-polysemantic", Finding.Severity.NOTABLE, "high activation effect (|d| >= " + fmt(p.minEffect())
                        + ") on a polysemantic neuron (clusters >= 2): the effect may belong to one of its groups only",
                        List.of("effect", "clusters")));

        AnalysisResult.Builder r = AnalysisResult.builder();
        r.put("analyzer", "scorecard");
        r.put("inputs", new ArrayList<>(ctx.inputs().keySet()));
        r.put("field", p.field());
        Map<String, Object> rulesNote = new LinkedHashMap<>();
        rules.forEach(x -> rulesNote.put(x.tag(), x.text()));
        r.put("rules", rulesNote);
        List<Map<String, Object>> read = new ArrayList<>();
        Map<Rule, List<String>> flaggedText = new LinkedHashMap<>();
        Map<Rule, List<NeuronRef>> flagged = new LinkedHashMap<>();
        rules.forEach(x -> {
            flaggedText.put(x, new ArrayList<>());
            flagged.put(x, new ArrayList<>());
        });
        List<Ranking.Entry> disagreements = new ArrayList<>();
        List<String> tableIds = new ArrayList<>();
        int neuronsSeen = 0;
        Map<String, List<Source>> byLayer = new LinkedHashMap<>();
        for (Source s : sources) {
            byLayer.computeIfAbsent(s.layer(), x -> new ArrayList<>()).add(s);
        }
        for (Map.Entry<String, List<Source>> e : byLayer.entrySet()) {
            String layer = e.getKey();
            int n = sizes.getOrDefault(layer, e.getValue().stream().mapToInt(s -> s.values().length).max().orElse(0));
            List<Source> list = e.getValue();
            Map<String, Long> perMethod = new HashMap<>();
            list.forEach(s -> perMethod.merge(s.method(), 1L, Long::sum));
            List<NeuronTable.Column> columns = new ArrayList<>();
            Map<String, List<float[]>> byKind = new LinkedHashMap<>();
            Map<String, List<String>> namesByKind = new LinkedHashMap<>();
            for (Source s : list) {
                String name = perMethod.get(s.method()) > 1 ? s.method() + "@" + s.step() : s.method();
                float[] v = Arrays.copyOf(s.values(), n);
                for (int i = s.values().length; i < n; i++) {
                    v[i] = Float.NaN;
                }
                columns.add(new NeuronTable.Column(name, s.unit(), s.description() + " (step " + s.step() + ", part "
                        + s.partId() + ")", NdArray.perNeuron(v), null, null));
                String kind = s.method().contains(":") ? s.method().substring(0, s.method().indexOf(':')) : s.method();
                byKind.computeIfAbsent(kind, x -> new ArrayList<>()).add(v);
                namesByKind.computeIfAbsent(kind, x -> new ArrayList<>()).add(name);
                Map<String, Object> note = new LinkedHashMap<>();
                note.put("layer", layer);
                note.put("column", name);
                note.put("step", s.step());
                note.put("part", s.partId());
                read.add(note);
            }
            boolean[] largeConductance = largest(byKind.getOrDefault("conductance", List.of()), n, p.topConductance());
            String tableId = layer.replaceAll("[^A-Za-z0-9_-]", "_") + "-scorecard";
            tableIds.add(tableId);
            List<NeuronTable.Tag> tags = new ArrayList<>();
            Map<Integer, List<String>> perNeuron = new LinkedHashMap<>();
            Map<Integer, Double> strength = new HashMap<>();
            for (Rule rule : rules) {
                List<Integer> hits = new ArrayList<>();
                for (int j = 0; j < n; j++) {
                    String why = check(rule, j, byKind, namesByKind, largeConductance, p);
                    if (why != null) {
                        hits.add(j);
                        perNeuron.computeIfAbsent(j, x -> new ArrayList<>()).add(rule.tag());
                        strength.merge(j, maxAbs(byKind.get("effect"), j), Math::max);
                        flagged.get(rule).add(new NeuronRef(layer, j));
                        flaggedText.get(rule).add(new NeuronRef(layer, j) + ": " + why);
                    }
                }
                List<String> cols = rule.kinds().stream().flatMap(k -> namesByKind.getOrDefault(k, List.of()).stream()).toList();
                if (rule.kinds().stream().allMatch(byKind::containsKey)) {
                    tags.add(new NeuronTable.Tag(rule.tag(), rule.text() + " [columns: " + String.join(", ", cols) + "]", hits));
                }
            }
            for (Map.Entry<Integer, List<String>> hit : perNeuron.entrySet()) {
                double s = strength.getOrDefault(hit.getKey(), 0.0);
                disagreements.add(new Ranking.Entry(new NeuronRef(layer, hit.getKey()), hit.getValue().size(), null, null, null,
                        String.join(", ", hit.getValue()) + (Double.isNaN(s) || s == 0 ? "" : "; max |d| " + fmt(s))));
            }
            neuronsSeen += n;
            r.part(new NeuronTable(tableId, layer + ": every method side by side", layer, n, columns, tags,
                    "one column per method and step read from the inputs; NaN where a method did not look at the neuron; "
                            + "tags: disagreements between methods (rules in the summary)"));
        }
        r.put("read", read);
        disagreements.sort(Comparator.comparingDouble(Ranking.Entry::score).reversed()
                .thenComparing(en -> en.neuron()));
        r.part(new Ranking("scorecard-disagreements", "neurons on which methods disagree", "number of disagreement rules met",
                disagreements, "rules: " + String.join("; ", rules.stream().map(x -> x.tag() + " = " + x.text()).toList())));
        List<String> evidence = new ArrayList<>(tableIds);
        evidence.add("scorecard-disagreements");
        for (Rule rule : rules) {
            List<NeuronRef> hits = flagged.get(rule);
            if (hits.isEmpty()) {
                continue;
            }
            List<String> text = flaggedText.get(rule);
            r.finding(new Finding("disagree-" + rule.tag(), rule.severity(), hits.size() + " neuron" + (hits.size() == 1 ? "" : "s")
                    + ": " + rule.text() + " (" + String.join("; ", text.subList(0, Math.min(NAMED, text.size())))
                    + (text.size() > NAMED ? "; " + (text.size() - NAMED) + " more in the ranking" : "") + ")",
                    null, hits.subList(0, Math.min(NAMED, hits.size())), evidence));
        }
        r.finding(new Finding("scorecard-counts", Finding.Severity.INFO, "scorecard of " + neuronsSeen + " neurons in "
                + byLayer.size() + " layer" + (byLayer.size() == 1 ? "" : "s") + " from " + sources.size() + " method columns of "
                + ctx.inputs().size() + " step" + (ctx.inputs().size() == 1 ? "" : "s") + "; " + disagreements.size() + " neuron"
                + (disagreements.size() == 1 ? "" : "s") + " with a disagreement",
                null, List.of(), evidence));
        return r.build();
    }

    private static String check(Rule rule, int j, Map<String, List<float[]>> byKind, Map<String, List<String>> names,
                                boolean[] largeConductance, Params p) {
        switch (rule.tag()) {
            case "correlational" -> {
                int e = argBest(byKind.get("effect"), j, v -> Math.abs(v) >= p.minEffect());
                int a = argBest(byKind.get("ablation"), j, v -> Math.abs(v) < p.minAblation() * (1 - FLOAT_SLACK));
                return e < 0 || a < 0 ? null : names.get("effect").get(e) + " " + fmt(byKind.get("effect").get(e)[j])
                        + ", " + names.get("ablation").get(a) + " " + fmt(byKind.get("ablation").get(a)[j]);
            }
            case "conductance-without-concept" -> {
                int c = argBest(byKind.get("coherence"), j, v -> v < p.minCoherence());
                if (c < 0 || !largeConductance[j]) {
                    return null;
                }
                return "conductance " + fmt(maxAbs(byKind.get("conductance"), j)) + ", " + names.get("coherence").get(c) + " "
                        + fmt(byKind.get("coherence").get(c)[j]);
            }
            case "probe-without-group-difference" -> {
                int w = argBest(byKind.get("probe"), j, v -> v > 0);
                int q = argBest(byKind.get("group-q"), j, v -> v > p.maxQ());
                return w < 0 || q < 0 ? null : names.get("probe").get(w) + " " + fmt(byKind.get("probe").get(w)[j]) + ", "
                        + names.get("group-q").get(q) + " " + fmt(byKind.get("group-q").get(q)[j]);
            }
            case "effect-on-polysemantic" -> {
                int e = argBest(byKind.get("effect"), j, v -> Math.abs(v) >= p.minEffect());
                int c = argBest(byKind.get("clusters"), j, v -> v >= 2);
                return e < 0 || c < 0 ? null : names.get("effect").get(e) + " " + fmt(byKind.get("effect").get(e)[j])
                        + ", " + fmt(byKind.get("clusters").get(c)[j]) + " clusters";
            }
            default -> throw new IllegalStateException(rule.tag());
        }
    }

    /** @return the first column whose (non-NaN) value at {@code j} passes, or -1 */
    private static int argBest(List<float[]> cols, int j, Predicate<Double> pass) {
        if (cols == null) {
            return -1;
        }
        for (int i = 0; i < cols.size(); i++) {
            float v = cols.get(i)[j];
            if (!Float.isNaN(v) && pass.test((double) v)) {
                return i;
            }
        }
        return -1;
    }

    private static double maxAbs(List<float[]> cols, int j) {
        double m = Double.NaN;
        if (cols != null) {
            for (float[] c : cols) {
                if (!Float.isNaN(c[j])) {
                    m = Double.isNaN(m) ? Math.abs(c[j]) : Math.max(m, Math.abs(c[j]));
                }
            }
        }
        return m;
    }

    /** Per neuron: among the {@code top} largest |value| of some column of the list. */
    private static boolean[] largest(List<float[]> cols, int n, int top) {
        boolean[] out = new boolean[n];
        for (float[] c : cols) {
            Integer[] order = new Integer[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            Arrays.sort(order, Comparator.comparingDouble(i -> Float.isNaN(c[i]) ? Double.NEGATIVE_INFINITY : -Math.abs(c[i])));
            for (int i = 0; i < Math.min(top, n); i++) {
                if (!Float.isNaN(c[order[i]])) {
                    out[order[i]] = true;
                }
            }
        }
        return out;
    }

    /** Reads the parts of one input step that the scorecard knows. */
    static void read(String step, AnalysisResult result, String field, List<Source> out, Map<String, Integer> sizes) {
        for (NeuronTable t : result.parts(NeuronTable.class)) {
            sizes.putIfAbsent(t.layer(), t.neurons());
            String prefix = t.layer().replaceAll("[^A-Za-z0-9_-]", "_") + "-";
            if (!t.id().startsWith(prefix)) {
                continue;
            }
            String suffix = t.id().substring(prefix.length());
            if (suffix.equals("conductance")) {
                t.column("mean").ifPresent(c -> out.add(new Source(step, "conductance", t.layer(), floats(c.values()),
                        c.unit(), "mean conductance", t.id())));
            } else if (suffix.endsWith("-effect")) {
                String key = suffix.substring(0, suffix.length() - "-effect".length());
                float[] d = t.column("d").map(c -> floats(c.values())).orElseGet(() -> largestOf(t, c -> c.name().startsWith("d:"), true));
                if (d != null) {
                    out.add(new Source(step, "effect:" + key, t.layer(), d, "Cohen's d", "activation effect of " + key
                            + (t.column("d").isPresent() ? "" : " (the value vs the rest with the largest |d|)"), t.id()));
                }
            } else if (suffix.startsWith("probe-")) {
                t.column("weight").ifPresent(c -> out.add(new Source(step, "probe:" + suffix.substring(6), t.layer(),
                        floats(c.values()), c.unit(), "probe weight", t.id())));
            } else if (suffix.startsWith("group-")) {
                float[] q = largestOf(t, c -> c.name().equals("q") || c.name().startsWith("q-"), false);
                if (q != null) {
                    out.add(new Source(step, "group-q:" + suffix.substring(6), t.layer(), q, "q-value",
                            "group difference q-value (smallest over contrasts)", t.id()));
                }
            } else if (suffix.equals("polysemanticity")) {
                t.column("clusters").ifPresent(c -> out.add(new Source(step, "clusters", t.layer(), floats(c.values()),
                        "count", "well-separated clusters of the top examples", t.id())));
            }
        }
        for (ExampleSet s : result.parts(ExampleSet.class)) {
            String prefix = s.layer().replaceAll("[^A-Za-z0-9_-]", "_");
            if (!s.id().equals(prefix + "-top") || !s.order().equals("top")) {
                continue;
            }
            int n = Math.max(sizes.getOrDefault(s.layer(), 0), s.neurons().stream().mapToInt(x -> x.neuron() + 1).max().orElse(0));
            float[] v = new float[n];
            Arrays.fill(v, Float.NaN);
            for (ExampleSet.NeuronExamples ne : s.neurons()) {
                v[ne.neuron()] = (float) coherence(ne.examples(), field, s.classNames());
            }
            out.add(new Source(step, "coherence:" + field, s.layer(), v, "fraction", "share of the top examples with their most common "
                    + field, s.id()));
        }
        result.part("ablation-effect", Ranking.class).ifPresent(rk -> {
            Map<String, List<Ranking.Entry>> byLayer = new LinkedHashMap<>();
            rk.entries().forEach(e -> byLayer.computeIfAbsent(e.neuron().layer(), x -> new ArrayList<>()).add(e));
            byLayer.forEach((layer, entries) -> {
                int n = Math.max(sizes.getOrDefault(layer, 0), entries.stream().mapToInt(e -> e.neuron().neuron() + 1).max().orElse(0));
                float[] v = new float[n];
                Arrays.fill(v, Float.NaN);
                entries.forEach(e -> v[e.neuron().neuron()] = (float) e.score());
                out.add(new Source(step, "ablation", layer, v, "change", rk.score() + " when ablated alone", rk.id()));
            });
        });
    }

    /**
     * @param examples a neuron's top examples
     * @param field    a metadata key, or {@code class} for the label
     * @param classes  label names
     * @return the share of examples with the most common value (NaN when none has one)
     */
    static double coherence(List<ExampleSet.Example> examples, String field, List<String> classes) {
        Map<String, Integer> counts = new HashMap<>();
        int with = 0;
        for (ExampleSet.Example e : examples) {
            Object v = field.equals("class")
                    ? e.label() == null ? null : e.label() < classes.size() ? classes.get(e.label()) : e.label().toString()
                    : e.metadata().get(field);
            if (v != null) {
                counts.merge(v.toString(), 1, Integer::sum);
                with++;
            }
        }
        return with == 0 ? Double.NaN : counts.values().stream().mapToInt(Integer::intValue).max().orElse(0) / (double) examples.size();
    }

    /** Per neuron the value of the largest magnitude ({@code abs}) or the smallest value among the matching columns. */
    private static float[] largestOf(NeuronTable t, Predicate<NeuronTable.Column> match, boolean abs) {
        float[] out = null;
        for (NeuronTable.Column c : t.columns()) {
            if (!match.test(c)) {
                continue;
            }
            float[] v = floats(c.values());
            if (out == null) {
                out = v;
                continue;
            }
            for (int j = 0; j < v.length; j++) {
                boolean better = abs ? Math.abs(v[j]) > Math.abs(out[j]) : v[j] < out[j];
                if (Float.isNaN(out[j]) || !Float.isNaN(v[j]) && better) {
                    out[j] = v[j];
                }
            }
        }
        return out;
    }

    private static float[] floats(NdArray a) {
        float[] v = new float[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) a.get(i);
        }
        return v;
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        double a = Math.abs(v);
        return a != 0 && (a < 0.01 || a >= 1e5) ? String.format(Locale.ROOT, "%.2g", v) : String.format(Locale.ROOT, "%.3g", v);
    }
}
