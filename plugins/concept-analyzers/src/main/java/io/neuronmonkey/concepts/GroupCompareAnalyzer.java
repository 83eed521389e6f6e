package io.neuronmonkey.concepts;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import org.apache.commons.math3.stat.interval.WilsonScoreInterval;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Which neurons differ between groups of examples, with the false-discovery rate controlled. The groups are the
 * values of a metadata field (or {@code class}): with two values (or {@code groups: [a, b]}) the first is compared
 * with the second; with more, each group is compared with all the others together.
 * <p>
 * Per neuron of every layer of the step (spatial layers reduced over positions): Cohen's d and the rank-biserial
 * correlation, each with a seeded percentile bootstrap interval (resampling within groups), and a seeded permutation
 * p-value of |d| (resolution {@code 1 / (permutations + 1)}); Benjamini-Hochberg q-values across every neuron of
 * every layer and every contrast. One model run per batch captures the layers and the logits together, so the
 * groups' predictions (rate of each predicted class, accuracy on labelled data) come from the same pass.
 * <p>
 * Writes a ranking {@code group-<field>-ranking} (discoveries at {@code alpha} first, by |d|, then the rest by p),
 * a neuron table {@code <layer>-group-<field>} per layer, a matrix {@code group-<field>-predictions} (group x
 * predicted class) and, on labelled data, {@code group-<field>-accuracy}.
 */
@Extension
@ExtensionName(value = "group-compare",
        description = "Per-neuron differences between groups of a metadata field: Cohen's d and rank-biserial with bootstrap intervals, permutation p, BH q-values")
public final class GroupCompareAnalyzer implements Analyzer<GroupCompareAnalyzer.Params> {

    /** How a spatial layer becomes one value per neuron. */
    public enum Reduce {
        /** max over positions */
        MAX,
        /** mean over positions */
        MEAN
    }

    /** Interval coverage. */
    static final double LEVEL = 0.95;

    /**
     * Params of group-compare.
     *
     * @param field        metadata key (or {@code class}) whose values form the groups
     * @param groups       the values to compare, in order; null: every value found
     * @param alpha        false-discovery rate
     * @param bootstrap    bootstrap replicates
     * @param permutations permutations of the group labels
     * @param reduce       max or mean over positions
     * @param where        metadata filter of the examples
     * @param limit        the most examples
     * @param top          the most entries in the ranking
     */
    public record Params(
            @Param(description = "metadata key whose values form the groups, or 'class'") String field,
            @Param(description = "the values to compare, e.g. [on, off] (first vs second); more than two: each vs the others; "
                    + "leave out for every value found (classes in label order, other values sorted)") List<String> groups,
            @Param(defaultValue = "0.05", description = "false-discovery rate (Benjamini-Hochberg) for the discoveries, in (0, 1)") double alpha,
            @Param(defaultValue = "1000", description = "bootstrap replicates for the intervals, 0..100000 (0: no intervals)") int bootstrap,
            @Param(defaultValue = "2000", description = "label permutations for the p-values, 1..1000000; the smallest p is 1/(permutations+1)") int permutations,
            @Param(defaultValue = "max", description = "conv channel value per example: max or mean over positions") Reduce reduce,
            @Param(description = "metadata filter of the examples, e.g. {class: square}") Map<String, String> where,
            @Param(defaultValue = "4000", description = "the most examples, >= 4") long limit,
            @Param(defaultValue = "100", description = "the most neurons listed in the ranking, 1..100000") int top) {

        /** Checks every field. */
        public Params {
            where = strings(where);
            groups = groups == null ? null : groups.stream().map(String::valueOf).toList();
            Violations.check()
                    .require(field != null && !field.isBlank(), "field", "must name a metadata key or 'class'")
                    .require(groups == null || groups.size() >= 2, "groups", "must list at least two values, found " + groups)
                    .require(groups == null || new LinkedHashSet<>(groups).size() == groups.size(), "groups", "must not repeat a value, found " + groups)
                    .require(alpha > 0 && alpha < 1, "alpha", "must be in (0, 1), found " + alpha)
                    .require(bootstrap >= 0 && bootstrap <= 100_000, "bootstrap", "must be between 0 and 100000, found " + bootstrap)
                    .require(permutations >= 1 && permutations <= 1_000_000, "permutations", "must be between 1 and 1000000, found " + permutations)
                    .require(reduce != null, "reduce", "must be max or mean")
                    .require(limit >= 4, "limit", "must be >= 4, found " + limit)
                    .require(top >= 1 && top <= 100_000, "top", "must be between 1 and 100000, found " + top)
                    .throwIfAny();
        }
    }

    /** One neuron in one contrast. */
    record Tested(String layer, int layerIndex, int neuron, int contrast, double d, double dLow, double dHigh,
                  double rb, double rbLow, double rbHigh, double p, String table) {
        NeuronRef ref() {
            return new NeuronRef(layer, neuron);
        }
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        String step = ctx.stepId();
        LoadedModel model = ctx.requireModel();
        Dataset data = ctx.requireData();
        List<LayerInfo> layers = ctx.layers();
        if (layers.isEmpty()) {
            throw new AnalysisException("step '" + step + "': group-compare needs layers; add 'layers: [...]' to the step");
        }
        ProbeFields.check(p.field(), data.info(), "field", step);
        String logits = model.logitsLayer();
        List<LayerInfo> capture = new ArrayList<>(layers);
        if (layers.stream().noneMatch(l -> l.name().equals(logits))) {
            capture.add(model.layer(logits).orElseThrow(() -> new AnalysisException("step '" + step
                    + "': the model names logits layer '" + logits + "' but has no such layer")));
        }
        ExampleFilter examples = new ExampleFilter(data, p.where(), p.limit(), step);
        LayerActivations acts = LayerActivations.collect(model, examples, capture,
                p.reduce() == Reduce.MAX ? LayerActivations.Reduce.MAX : LayerActivations.Reduce.MEAN, ctx.batchSize(), step);
        List<String> classes = data.info().classNames();
        ProbeFields f = ProbeFields.read(p.field(), acts.labels(), acts.metadata(), classes, p.groups());
        if (p.groups() != null && f.values().size() < p.groups().size()) {
            List<String> absent = p.groups().stream().filter(g -> !f.values().contains(g)).toList();
            throw new AnalysisException("step '" + step + "': group field '" + p.field() + "' has no example with "
                    + absent + " among the " + acts.examples() + " selected; values found: " + f.values());
        }
        f.requireTwo("group field", step);
        for (int g = 0; g < f.values().size(); g++) {
            if (f.counts()[g] < 2) {
                throw new AnalysisException("step '" + step + "': group " + p.field() + "=" + f.values().get(g) + " has "
                        + f.counts()[g] + " example; each group needs at least 2");
            }
        }
        for (LayerInfo l : layers) {
            requireFinite(acts.of(l.name()), l.name(), step);
        }
        return new Report(p, ctx.seed(), layers, acts, f, classes, model.logitsLayer(), examples.describe(), ctx.dataName().orElse(""),
                ctx.progress()).build();
    }

    /** Builds the result from the collected activations. */
    private static final class Report {
        final Params p;
        final long seed;
        final List<LayerInfo> layers;
        final LayerActivations acts;
        final ProbeFields f;
        final List<String> classes;
        final String logits;
        final String selection;
        final String dataName;
        final String fieldId;
        final ProgressReporter progress;
        final List<String> contrastNames = new ArrayList<>();

        Report(Params p, long seed, List<LayerInfo> layers, LayerActivations acts, ProbeFields f, List<String> classes,
               String logits, String selection, String dataName, ProgressReporter progress) {
            this.progress = progress;
            this.p = p;
            this.seed = seed;
            this.layers = layers;
            this.acts = acts;
            this.f = f;
            this.classes = classes;
            this.logits = logits;
            this.selection = selection;
            this.dataName = dataName;
            this.fieldId = id(p.field());
            List<String> v = f.values();
            if (v.size() == 2) {
                contrastNames.add(p.field() + "=" + v.get(0) + " vs " + v.get(1));
            } else {
                v.forEach(g -> contrastNames.add(p.field() + "=" + g + " vs the rest"));
            }
        }

        AnalysisResult build() {
            AnalysisResult.Builder r = AnalysisResult.builder();
            r.put("analyzer", "group-compare");
            r.put("field", p.field());
            r.put("examples", f.size());
            r.put("withoutValue", f.missing());
            r.put("selection", selection);
            if (!dataName.isEmpty()) {
                r.put("data", dataName);
            }
            List<Object> groups = new ArrayList<>();
            for (int g = 0; g < f.values().size(); g++) {
                groups.add(ordered("value", f.values().get(g), "examples", f.counts()[g]));
            }
            r.put("groups", groups);
            r.put("contrasts", contrastNames);
            r.put("reduce", p.reduce().name().toLowerCase(Locale.ROOT));
            r.put("cohensD", "(meanA - meanB) / pooled sd, pooled sd = sqrt(((nA-1) sdA^2 + (nB-1) sdB^2) / (nA + nB - 2))");
            r.put("rankBiserial", "2 U_A / (nA nB) - 1, U_A = pairs with the A value larger (ties one half); in [-1, 1]");
            r.put("bootstrap", ordered("replicates", p.bootstrap(), "level", LEVEL, "method",
                    "percentile; resampled within each group (group sizes kept), the same replicates for every neuron", "seed", seed));
            r.put("permutation", ordered("permutations", p.permutations(), "statistic", "|Cohen's d|", "resolution",
                    1.0 / (p.permutations() + 1), "p", "(1 + permutations with |d| >= observed) / (1 + permutations)", "seed", seed));
            r.put("fdr", ordered("method", "Benjamini-Hochberg across every neuron of every layer and every contrast", "alpha", p.alpha()));

            List<Tested> all = new ArrayList<>();
            List<String> tableIds = new ArrayList<>();
            int[] group = f.group();
            progress.start("group-compare: layers", layers.size());
            for (int li = 0; li < layers.size(); li++) {
                LayerInfo l = layers.get(li);
                int n = l.neurons();
                float[] x = rows(acts.of(l.name()), n, f.rows());
                GroupCompareStats s = GroupCompareStats.compute(x, n, group, f.values().size(), p.bootstrap(),
                        p.permutations(), LEVEL, seed);
                String tableId = id(l.name()) + "-group-" + fieldId;
                tableIds.add(tableId);
                for (int t = 0; t < s.contrasts(); t++) {
                    for (int j = 0; j < n; j++) {
                        all.add(new Tested(l.name(), li, j, t, s.d[t][j], s.dLow[t][j], s.dHigh[t][j], s.rb[t][j],
                                s.rbLow[t][j], s.rbHigh[t][j], s.p[t][j], tableId));
                    }
                }
                progress.advance(1);
            }
            progress.finish();
            double[] q = Fdr.qValues(all.stream().mapToDouble(Tested::p).toArray());
            Map<Tested, Double> qOf = new LinkedHashMap<>();
            for (int i = 0; i < all.size(); i++) {
                qOf.put(all.get(i), q[i]);
            }
            int found = Fdr.discoveries(q, p.alpha());
            r.put("tested", all.size());
            r.put("discoveries", found);
            double floor = (double) all.size() / (p.permutations() + 1);
            if (floor > p.alpha()) {
                r.put("resolutionNote", "with " + all.size() + " tests and " + p.permutations() + " permutations a lone "
                        + "discovery needs q = tests / (permutations + 1) = " + sig2(floor) + " <= alpha " + p.alpha()
                        + ", which cannot happen: raise 'permutations' to at least " + (long) Math.ceil(all.size() / p.alpha()));
            }

            List<Tested> ranked = all.stream().sorted(Comparator
                    .comparing((Tested t) -> qOf.get(t) > p.alpha())
                    .thenComparing((Tested t) -> qOf.get(t) <= p.alpha() ? -Math.abs(t.d()) : t.p())
                    .thenComparing((Tested t) -> -Math.abs(t.d()))
                    .thenComparingInt(Tested::layerIndex).thenComparingInt(Tested::neuron).thenComparingInt(Tested::contrast))
                    .toList();
            String rankingId = "group-" + fieldId + "-ranking";
            List<Ranking.Entry> entries = ranked.stream().limit(p.top()).map(t -> new Ranking.Entry(t.ref(), t.d(),
                    interval(t.dLow(), t.dHigh()), t.p(), qOf.get(t), contrastNames.get(t.contrast()) + "; rank-biserial "
                    + sig2(t.rb()) + bracket(t.rbLow(), t.rbHigh()))).toList();
            r.put("ranking", "neurons with q <= alpha first (by |d|), then the others by p; at most top = " + p.top()
                    + " of " + all.size());
            r.part(new Ranking(rankingId, "Neurons that differ by " + p.field(), "Cohen's d (" + String.join("; ", contrastNames) + ")",
                    entries, "per neuron of " + layerNames() + ", " + f.size() + " examples (" + selection + "); d with a "
                    + p.bootstrap() + "-replicate percentile bootstrap 95% interval, permutation p (" + p.permutations()
                    + " permutations, resolution " + sig2(1.0 / (p.permutations() + 1)) + "), Benjamini-Hochberg q over "
                    + all.size() + " tests; discoveries at FDR " + p.alpha() + " first"));
            for (int li = 0; li < layers.size(); li++) {
                r.part(table(layers.get(li), li, all, qOf, tableIds.get(li)));
            }
            String predictionsId = "group-" + fieldId + "-predictions";
            String accuracyId = predictions(r, predictionsId);

            List<Tested> discovered = ranked.stream().filter(t -> qOf.get(t) <= p.alpha()).toList();
            String rate = pct(p.alpha());
            if (discovered.isEmpty()) {
                r.finding(new Finding("no-difference", Finding.Severity.INFO, "no neuron differs by " + p.field() + " ("
                        + String.join("; ", contrastNames) + ") at FDR " + rate + " (" + all.size() + " tested)", null,
                        List.of(), evidence(rankingId, predictionsId, accuracyId)));
            } else {
                List<String> shown = new ArrayList<>();
                for (Tested t : discovered.subList(0, Math.min(3, discovered.size()))) {
                    shown.add(t.ref() + " (d " + sig2(t.d()) + bracket(t.dLow(), t.dHigh()) + ", q "
                            + sig2(qOf.get(t)) + (contrastNames.size() > 1 ? ", " + contrastNames.get(t.contrast()) : "") + ")");
                }
                String between = f.values().size() == 2 ? "between " + p.field() + "=" + f.values().get(0) + " and " + f.values().get(1)
                        : "between a group of " + p.field() + " and the others";
                Tested first = discovered.get(0);
                r.finding(new Finding("differ", Finding.Severity.NOTABLE, discovered.size() + " neuron"
                        + (discovered.size() == 1 ? "" : "s") + " differ " + between + " at FDR " + rate + ": "
                        + String.join(", ", shown) + (discovered.size() > 3 ? " ..." : ""),
                        new Finding.Strength("Cohen's d", first.d(), interval(first.dLow(), first.dHigh()), qOf.get(first)),
                        discovered.stream().map(Tested::ref).distinct().limit(20).toList(),
                        evidence(rankingId, first.table(), predictionsId, accuracyId)));
            }
            return r.build();
        }

        /** @return the bootstrap interval, or null without bootstrap replicates (the bounds are then the estimate) */
        private Interval interval(double low, double high) {
            return p.bootstrap() > 0 ? new Interval(low, high, LEVEL, "percentile bootstrap") : null;
        }

        /** @return {@code " [low, high]"}, or empty without bootstrap replicates */
        private String bracket(double low, double high) {
            return p.bootstrap() > 0 ? " [" + sig2(low) + ", " + sig2(high) + "]" : "";
        }

        private String layerNames() {
            return String.join(", ", layers.stream().map(LayerInfo::name).toList());
        }

        private NeuronTable table(LayerInfo l, int li, List<Tested> all, Map<Tested, Double> qOf, String tableId) {
            int n = l.neurons();
            int k = contrastNames.size();
            List<NeuronTable.Column> cols = new ArrayList<>();
            List<Integer> differs = new ArrayList<>();
            boolean[] flag = new boolean[n];
            for (int t = 0; t < k; t++) {
                float[] d = new float[n];
                float[] dl = new float[n];
                float[] dh = new float[n];
                float[] rb = new float[n];
                float[] rl = new float[n];
                float[] rh = new float[n];
                float[] pv = new float[n];
                float[] qv = new float[n];
                for (Tested x : all) {
                    if (x.layerIndex() != li || x.contrast() != t) {
                        continue;
                    }
                    int j = x.neuron();
                    d[j] = (float) x.d();
                    dl[j] = (float) x.dLow();
                    dh[j] = (float) x.dHigh();
                    rb[j] = (float) x.rb();
                    rl[j] = (float) x.rbLow();
                    rh[j] = (float) x.rbHigh();
                    pv[j] = (float) x.p();
                    qv[j] = qOf.get(x).floatValue();
                    flag[j] |= qOf.get(x) <= p.alpha();
                }
                String suffix = k == 1 ? "" : "-" + id(f.values().get(t));
                String c = contrastNames.get(t);
                boolean bands = p.bootstrap() > 0;
                String band = bands ? ", " + pct(LEVEL) + " percentile bootstrap interval" : "";
                cols.add(new NeuronTable.Column("d" + suffix, "Cohen's d", c + band, NdArray.perNeuron(d),
                        bands ? NdArray.perNeuron(dl) : null, bands ? NdArray.perNeuron(dh) : null));
                cols.add(new NeuronTable.Column("rankBiserial" + suffix, "correlation", c + ", 2 U / (nA nB) - 1" + band,
                        NdArray.perNeuron(rb), bands ? NdArray.perNeuron(rl) : null, bands ? NdArray.perNeuron(rh) : null));
                cols.add(new NeuronTable.Column("p" + suffix, "p-value", c + ", permutation test of |d|, " + p.permutations()
                        + " permutations", NdArray.perNeuron(pv), null, null));
                cols.add(new NeuronTable.Column("q" + suffix, "q-value", c + ", Benjamini-Hochberg over every test of the step",
                        NdArray.perNeuron(qv), null, null));
            }
            for (int j = 0; j < n; j++) {
                if (flag[j]) {
                    differs.add(j);
                }
            }
            return new NeuronTable(tableId, l.name() + ": differences by " + p.field(), l.name(), n, cols,
                    List.of(new NeuronTable.Tag("differs", "q <= " + p.alpha() + " in some contrast", differs)),
                    "per neuron of " + l.name() + " (" + p.reduce().name().toLowerCase(Locale.ROOT) + " over positions), "
                            + String.join("; ", contrastNames));
        }

        /** Adds the predictions matrix and, on labelled data, the accuracy matrix; returns the accuracy id or null. */
        private String predictions(AnalysisResult.Builder r, String predictionsId) {
            int groups = f.values().size();
            float[] out = acts.of(logits);
            int k = out.length / Math.max(1, acts.examples());
            List<String> names = classes.size() == k ? classes : IntStream.range(0, k).mapToObj(Integer::toString).toList();
            float[] rates = new float[groups * k];
            long[] labelled = new long[groups];
            long[] correct = new long[groups];
            int[] rows = f.rows();
            for (int i = 0; i < rows.length; i++) {
                int e = rows[i];
                int g = f.group()[i];
                int best = 0;
                for (int c = 1; c < k; c++) {
                    if (out[e * k + c] > out[e * k + best]) {
                        best = c;
                    }
                }
                rates[g * k + best]++;
                int label = acts.labels()[e];
                if (label >= 0) {
                    labelled[g]++;
                    correct[g] += label == best ? 1 : 0;
                }
            }
            for (int g = 0; g < groups; g++) {
                for (int c = 0; c < k; c++) {
                    rates[g * k + c] /= f.counts()[g];
                }
            }
            Matrix.Axis groupAxis = Matrix.Axis.of("group", f.values());
            r.part(new Matrix(predictionsId, "Predictions by " + p.field(), groupAxis, Matrix.Axis.of("class", names),
                    NdArray.of(Tensor.ofFloats(rates, groups, k), "group", "class"), "share of the group predicted as the class",
                    null, "argmax of " + logits + " from the same model runs as the activations"));
            boolean anyLabel = false;
            for (long x : labelled) {
                anyLabel |= x > 0;
            }
            if (!anyLabel) {
                return null;
            }
            float[] acc = new float[groups * 3];
            List<Object> accSummary = new ArrayList<>();
            for (int g = 0; g < groups; g++) {
                double a = labelled[g] == 0 ? Double.NaN : (double) correct[g] / labelled[g];
                Interval w = labelled[g] == 0 ? null : wilson(labelled[g], correct[g]);
                acc[g * 3] = (float) a;
                acc[g * 3 + 1] = w == null ? Float.NaN : (float) w.low();
                acc[g * 3 + 2] = w == null ? Float.NaN : (float) w.high();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("group", f.values().get(g));
                m.put("labelled", labelled[g]);
                m.put("accuracy", Double.isNaN(a) ? null : a);
                m.put("interval", w == null ? null : List.of(w.low(), w.high()));
                accSummary.add(m);
            }
            r.put("accuracyByGroup", accSummary);
            String id = "group-" + fieldId + "-accuracy";
            r.part(new Matrix(id, "Accuracy by " + p.field(), groupAxis, Matrix.Axis.of("measure", List.of("accuracy", "low", "high")),
                    NdArray.of(Tensor.ofFloats(acc, groups, 3), "group", "measure"), "fraction",
                    null, "accuracy on the labelled examples of each group, with a 95% Wilson score interval"));
            return id;
        }
    }

    /** @return the chosen rows of a row-major {@code [examples, neurons]} matrix */
    static float[] rows(float[] x, int neurons, int[] rows) {
        float[] out = new float[rows.length * neurons];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(x, rows[i] * neurons, out, i * neurons, neurons);
        }
        return out;
    }

    /**
     * @param x     a layer's values
     * @param layer the layer
     * @param step  the step id
     * @throws AnalysisException when some value is NaN or infinite, saying how many
     */
    static void requireFinite(float[] x, String layer, String step) {
        long bad = 0;
        for (float v : x) {
            bad += Float.isFinite(v) ? 0 : 1;
        }
        if (bad > 0) {
            throw new AnalysisException("step '" + step + "': layer '" + layer + "' has " + bad + " non-finite values (NaN or "
                    + "infinite) among the selected examples; check the model and the inputs (activation-stats shows where)");
        }
    }

    /** @return a 95% Wilson score interval of a proportion */
    static Interval wilson(long trials, long successes) {
        org.apache.commons.math3.stat.interval.ConfidenceInterval c =
                new WilsonScoreInterval().createInterval((int) trials, (int) successes, LEVEL);
        return new Interval(Math.max(0, c.getLowerBound()), Math.min(1, c.getUpperBound()), LEVEL, "Wilson score");
    }

    private static List<String> evidence(String... ids) {
        List<String> out = new ArrayList<>();
        for (String s : ids) {
            if (s != null && !out.contains(s)) {
                out.add(s);
            }
        }
        return out;
    }

    /** @return a string usable in part ids */
    static String id(String s) {
        return s.replaceAll("[^A-Za-z0-9_-]", "_");
    }

    /** @return two significant digits (no more than the integer part above 10), e.g. {@code 4.8}, {@code 4.0}, {@code 0.0016} */
    static String sig2(double x) {
        if (Double.isInfinite(x) || Double.isNaN(x) || x == 0) {
            return Double.isInfinite(x) ? (x > 0 ? "Infinity" : "-Infinity") : x == 0 ? "0" : "NaN";
        }
        if (Math.abs(x) >= 10) {
            return String.format(Locale.ROOT, "%.0f", x);
        }
        java.math.BigDecimal b = new java.math.BigDecimal(x).round(new java.math.MathContext(2));
        return (b.precision() < 2 ? b.setScale(b.scale() + 2 - b.precision()) : b).toPlainString();
    }

    /** @return two decimals, e.g. {@code 0.97}, {@code 1.00} (accuracies) */
    static String fixed2(double x) {
        return String.format(Locale.ROOT, "%.2f", x);
    }

    /** @return e.g. {@code 5%} */
    static String pct(double x) {
        return new java.math.BigDecimal(x * 100).round(new java.math.MathContext(3)).stripTrailingZeros().toPlainString() + "%";
    }

    /**
     * @param keysAndValues key, value, key, value, ...
     * @return a map in the order given (summaries are written in map order, so they stay the same from run to run)
     */
    static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    /** @return the filter with every key and value as a string (YAML may give numbers or booleans) */
    static Map<String, String> strings(Map<String, ?> where) {
        Map<String, String> out = new LinkedHashMap<>();
        if (where != null) {
            where.forEach((k, v) -> out.put(String.valueOf(k), String.valueOf(v)));
        }
        return out;
    }
}
