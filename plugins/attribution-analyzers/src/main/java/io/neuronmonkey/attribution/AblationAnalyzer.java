package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * What if these neurons were gone? Ablates neurons of one layer, either a list or the top of a ranking from an
 * earlier step, cumulatively (the first 1, 2, 4, ... up to N), and compares with seeded random sets of the same
 * sizes drawn from the whole layer (a random set may include ranked neurons). Each of the first N neurons is also
 * ablated alone. Ablation sets the neurons to zero ({@code mode: zero}) or to their mean over the data
 * ({@code mode: mean}, one extra pass).
 * <p>
 * Metrics on the selected examples: accuracy (labelled data), the mean change of the target value (by default the
 * logit of the class each example is predicted as without ablation) and the share predicted as {@code watchClass};
 * overall, per class and per value of each {@code groupBy} key. With {@code watchClass} and {@code groupBy}, the gap
 * in the watched share between the values of each key, before and after ablating the N neurons, with bootstrap
 * intervals and a finding on whether the ablation shrinks it ({@link GroupGap}). Many variants run in one model execution: the batch
 * is repeated once per variant and each copy gets its own intervention ({@link Intervention#forRows}), up to
 * {@code internalBatch} rows per run.
 */
@Extension
@ExtensionName(value = "ablation",
        description = "Ablates ranked or listed neurons of a layer cumulatively against random sets of the same size: accuracy, target change, share predicted, and the gap in the share between groups")
public final class AblationAnalyzer implements Analyzer<AblationAnalyzer.Params> {

    /** What an ablated neuron becomes. */
    public enum Mode {
        /** zero */
        ZERO,
        /** its mean over the data set (over examples and positions) */
        MEAN
    }

    /**
     * Params of ablation.
     *
     * @param layer         the layer whose neurons are ablated
     * @param neurons       the neurons, in order (or give {@code ranking})
     * @param ranking       {@code STEP} or {@code STEP/PART_ID}: a ranking of an input step, whose neurons of
     *                      {@code layer} are taken in rank order
     * @param top           the most neurons taken from the ranking (N)
     * @param mode          zero or mean
     * @param randomSets    random sets per size
     * @param target        whose value change is measured; {@code predicted}: each example's class without ablation
     * @param watchClass    a class whose share of predictions is followed, or null
     * @param where         metadata filter of the examples
     * @param limit         the most examples
     * @param groupBy       metadata keys to break the metrics down by
     * @param internalBatch rows per model run (variants times examples)
     */
    public record Params(
            @Param(description = "the layer whose neurons are ablated") String layer,
            @Param(description = "neurons to ablate, in order, e.g. [4, 6]; or give 'ranking'") List<Integer> neurons,
            @Param(description = "STEP or STEP/PART_ID: a ranking of a step in 'inputs:'; its neurons of 'layer' in rank order") String ranking,
            @Param(defaultValue = "8", description = "the most neurons taken from the ranking (N), 1..100000") int top,
            @Param(defaultValue = "zero", description = "zero, or mean: the neuron's mean over the data set (one extra pass)") Mode mode,
            @Param(defaultValue = "10", description = "seeded random sets of the same size from the whole layer (ranked neurons not excluded), 0..1000") int randomSets,
            @Param(defaultValue = "predicted", description = "whose value change is measured: " + Target.FORMS
                    + "; predicted = each example's class without ablation") String target,
            @Param(description = "a class whose share of predictions is followed, e.g. square") String watchClass,
            @Param(description = "metadata filter of the examples, e.g. {watermark: on, class: '!square'}") Map<String, String> where,
            @Param(defaultValue = "1000", description = "the most examples, >= 1") long limit,
            @Param(description = "metadata keys to break the metrics down by, e.g. [watermark]; with watchClass also the gap in its predicted share between the key's values, before and after ablation") List<String> groupBy,
            @Param(defaultValue = "4096", description = "rows per model run (examples times variants), 1..1000000") int internalBatch) {

        /** Checks every field. */
        public Params {
            where = RowBlocks.strings(where);
            neurons = neurons == null ? null : List.copyOf(neurons);
            groupBy = groupBy == null ? List.of() : List.copyOf(groupBy);
            Violations.check()
                    .require(layer != null && !layer.isBlank(), "layer", "must name the layer whose neurons are ablated")
                    .require((neurons == null) != (ranking == null), "neurons", "give exactly one of 'neurons' (a list) and 'ranking' (STEP or STEP/PART_ID)")
                    .require(neurons == null || !neurons.isEmpty(), "neurons", "must list at least one neuron")
                    .require(neurons == null || neurons.stream().allMatch(j -> j >= 0), "neurons", "must be >= 0, found " + neurons)
                    .require(neurons == null || new LinkedHashSet<>(neurons).size() == neurons.size(), "neurons", "must not repeat a neuron, found " + neurons)
                    .require(ranking == null || !ranking.isBlank() && !ranking.startsWith("/") && !ranking.endsWith("/"), "ranking",
                            "must be STEP or STEP/PART_ID, found '" + ranking + "'")
                    .require(top >= 1 && top <= 100_000, "top", "must be between 1 and 100000, found " + top)
                    .require(mode != null, "mode", "must be zero or mean")
                    .require(randomSets >= 0 && randomSets <= 1000, "randomSets", "must be between 0 and 1000, found " + randomSets)
                    .require(Target.parse(target).isPresent(), "target", Target.problem(target, "target"))
                    .require(watchClass == null || !watchClass.isBlank(), "watchClass", "must name a class, or be left out")
                    .require(limit >= 1, "limit", "must be >= 1, found " + limit)
                    .require(groupBy.stream().noneMatch(String::isBlank), "groupBy", "must not contain blank keys")
                    .require(internalBatch >= 1 && internalBatch <= 1_000_000, "internalBatch", "must be between 1 and 1000000, found " + internalBatch)
                    .throwIfAny();
        }
    }

    /** One neuron set evaluated. */
    record Variant(String kind, int size, int[] neurons) {
    }

    /** Counts of one variant on one group of examples. */
    static final class Tally {
        long n;
        long labelled;
        long correct;
        long watched;
        /** predicted as the watched class both without ablation and in this variant */
        long both;
        double change;

        double value(String metric) {
            return switch (metric) {
                case "accuracy" -> labelled == 0 ? Double.NaN : (double) correct / labelled;
                case "share" -> n == 0 ? Double.NaN : (double) watched / n;
                default -> n == 0 ? Double.NaN : change / n;
            };
        }
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        String step = ctx.stepId();
        LoadedModel model = ctx.requireModel();
        Dataset data = ctx.requireData();
        LayerInfo layer = model.layer(p.layer()).orElseThrow(() -> new AnalysisException("step '" + step + "': layer '"
                + p.layer() + "' is not a layer of the model; layers: " + String.join(", ", model.layers().stream().map(LayerInfo::name).toList())));
        if (!model.supportsInterventions()) {
            throw new AnalysisException("step '" + step + "': ablation needs interventions, and the model (" + model.description() + ") has none");
        }
        int count = layer.neurons();
        NeuronSets.Chosen chosen = NeuronSets.choose(p.neurons(), p.ranking(), p.top(), layer.name(), count, ctx.inputs(), step);
        Target.Bound target = Target.parse(p.target()).orElseThrow().resolve(model, data.info(), step);
        List<String> classes = classNames(model, data.info().classNames());
        int watch = p.watchClass() == null ? -1 : classIndex(p.watchClass(), classes, step);
        for (String key : p.groupBy()) {
            if (!data.info().metadataKeys().contains(key)) {
                throw new AnalysisException("step '" + step + "': 'groupBy' key '" + key + "' is not a metadata key of the data; valid: "
                        + String.join(", ", data.info().metadataKeys()));
            }
        }
        ExampleFilter examples = new ExampleFilter(data, p.where(), p.limit(), step);
        float[] means = p.mode() == Mode.MEAN ? means(model, data, layer.name(), ctx.batchSize()) : null;

        List<Integer> ranked = chosen.neurons();
        int bigN = ranked.size();
        List<Integer> sizes = NeuronSets.doublingSizes(bigN);
        List<Variant> variants = new ArrayList<>();
        variants.add(new Variant("none", 0, new int[0]));
        for (int s : sizes) {
            variants.add(new Variant("ranked", s, ranked.subList(0, s).stream().mapToInt(Integer::intValue).toArray()));
            for (int[] set : NeuronSets.random(count, s, p.randomSets(), ctx.seed())) {
                variants.add(new Variant("random", s, set));
            }
        }
        for (int i = 1; i < bigN; i++) {
            variants.add(new Variant("alone", 1, new int[] {ranked.get(i)}));
        }

        String logits = model.logitsLayer();
        LinkedHashSet<String> capture = new LinkedHashSet<>(List.of(logits, target.layer()));
        Map<String, Tally[]> groups = new LinkedHashMap<>();
        int v = variants.size();
        int perBatch = Math.max(1, Math.min(ctx.batchSize(), p.internalBatch()));
        ctx.progress().start("ablation: examples", -1);
        for (Iterator<Batch> it = examples.batches(perBatch); it.hasNext(); ) {
            Batch b = it.next();
            int n = b.size();
            ctx.progress().advance(n);
            Map<String, Tensor> base = model.run(b.modelInputs(), capture, List.of());
            int[] rows = target.rows(model, b, base.get(target.layer()));
            float[] baseTarget = target.values(base, rows);
            boolean[] baseWatch = new boolean[n];
            float[] baseLogits = base.get(logits).floats();
            for (int r = 0; r < n; r++) {
                baseWatch[r] = RowBlocks.argmax(baseLogits, r, base.get(logits).rowSize()) == watch;
            }
            List<List<String>> keys = groupKeys(b, p.groupBy(), classes);
            tally(groups, keys, 0, base, logits, target, rows, baseTarget, baseWatch, b, watch, 0, n, v, target.values(base, rows));
            int perRun = Math.max(1, p.internalBatch() / n);
            for (int first = 1; first < v; first += perRun) {
                int g = Math.min(perRun, v - first);
                List<Intervention> ivs = new ArrayList<>();
                for (int i = 0; i < g; i++) {
                    ivs.addAll(interventions(layer.name(), variants.get(first + i).neurons(), means, RowBlocks.rows(i, n)));
                }
                Map<String, Tensor> out = model.run(TextAttribution.repeat(b.modelInputs(), g), capture, ivs);
                int[] repeatedRows = new int[g * n];
                for (int i = 0; i < g; i++) {
                    System.arraycopy(rows, 0, repeatedRows, i * n, n);
                }
                float[] t = target.values(out, repeatedRows);
                for (int i = 0; i < g; i++) {
                    tally(groups, keys, first + i, out, logits, target, rows, baseTarget, baseWatch, b, watch, i * n, n, v, t);
                }
            }
        }
        Tally[] overall = groups.get("all");
        if (overall == null) {
            throw new AnalysisException("step '" + step + "': no example matches " + examples.describe());
        }
        return new Report(p, layer.name(), chosen, examples, variants, sizes, groups, classes, watch, !data.info().classNames().isEmpty(),
                ctx.seed()).build();
    }

    /** @return the interventions that ablate {@code set} in the given rows */
    static List<Intervention> interventions(String layer, int[] set, float[] means, int[] rows) {
        if (set.length == 0) {
            return List.of();
        }
        if (means == null) {
            return List.of(Intervention.ablate(layer, set).forRows(rows));
        }
        List<Intervention> out = new ArrayList<>();
        for (int j : set) {
            out.add(Intervention.set(layer, means[j], j).forRows(rows));
        }
        return out;
    }

    private static void tally(Map<String, Tally[]> groups, List<List<String>> keys, int variant, Map<String, Tensor> out,
                              String logits, Target.Bound target, int[] rows, float[] baseTarget, boolean[] baseWatch,
                              Batch b, int watch, int from, int n, int variants, float[] values) {
        float[] l = out.get(logits).floats();
        int k = l.length / out.get(logits).rows();
        for (int r = 0; r < n; r++) {
            int predicted = RowBlocks.argmax(l, from + r, k);
            for (String key : keys.get(r)) {
                Tally t = groups.computeIfAbsent(key, x -> newTallies(variants))[variant];
                t.n++;
                if (b.hasLabels() && b.labels()[r] >= 0) {
                    t.labelled++;
                    t.correct += predicted == b.labels()[r] ? 1 : 0;
                }
                t.watched += predicted == watch ? 1 : 0;
                t.both += predicted == watch && baseWatch[r] ? 1 : 0;
                t.change += values[from + r] - baseTarget[r];
            }
        }
    }

    private static Tally[] newTallies(int v) {
        Tally[] t = new Tally[v];
        for (int i = 0; i < v; i++) {
            t[i] = new Tally();
        }
        return t;
    }

    /** @return per row, the groups it counts in: {@code all}, {@code class=NAME}, {@code KEY=VALUE} */
    private static List<List<String>> groupKeys(Batch b, List<String> groupBy, List<String> classes) {
        List<List<String>> out = new ArrayList<>();
        for (int r = 0; r < b.size(); r++) {
            List<String> keys = new ArrayList<>();
            keys.add("all");
            if (b.hasLabels() && b.labels()[r] >= 0) {
                int c = b.labels()[r];
                keys.add("class=" + (c < classes.size() ? classes.get(c) : Integer.toString(c)));
            }
            for (String key : groupBy) {
                keys.add(key + "=" + b.metadata().get(r).get(key));
            }
            out.add(keys);
        }
        return out;
    }

    static List<String> classNames(LoadedModel model, List<String> dataNames) {
        int count = model.layer(model.logitsLayer()).map(LayerInfo::neurons).orElse(dataNames.size());
        List<String> names = new ArrayList<>();
        for (int c = 0; c < count; c++) {
            names.add(c < dataNames.size() ? dataNames.get(c) : Integer.toString(c));
        }
        return names;
    }

    static int classIndex(String name, List<String> classes, String step) {
        int c = classes.indexOf(name);
        if (c < 0) {
            throw new AnalysisException("step '" + step + "': class '" + name + "' is not a class of the model; valid: "
                    + String.join(", ", classes));
        }
        return c;
    }

    /** @return per neuron of the layer its mean over every example of the data and every position (real tokens of text) */
    static float[] means(LoadedModel model, Dataset data, String layer, int batchSize) {
        double[] sum = null;
        long n = 0;
        for (Iterator<Batch> it = data.batches(batchSize); it.hasNext(); ) {
            Batch b = it.next();
            Tensor t = model.run(b.modelInputs(), List.of(layer), List.of()).get(layer);
            if (sum == null) {
                sum = new double[t.dim(t.rank() - 1)];
            }
            n += TextAttribution.addPositions(t, b, sum);
        }
        float[] mean = new float[sum == null ? 0 : sum.length];
        for (int j = 0; j < mean.length; j++) {
            mean[j] = (float) (sum[j] / Math.max(1, n));
        }
        return mean;
    }

    /** Builds the parts from the tallies. */
    private record Report(Params p, String layer, NeuronSets.Chosen chosen, ExampleFilter examples, List<Variant> variants,
                          List<Integer> sizes, Map<String, Tally[]> groups, List<String> classes, int watch, boolean labelled,
                          long seed) {

        List<String> metrics() {
            List<String> m = new ArrayList<>();
            if (watch >= 0) {
                m.add("share");
            }
            if (labelled && groups.get("all")[0].labelled > 0) {
                m.add("accuracy");
            }
            m.add("target");
            return m;
        }

        String label(String metric) {
            return switch (metric) {
                case "share" -> "share predicted '" + classes.get(watch) + "'";
                case "accuracy" -> "accuracy";
                default -> "mean change of " + (p.target().equals("predicted") ? "the logit of the class predicted without ablation" : p.target());
            };
        }

        /** @return the metric's value for a variant on a group ({@code target}: the mean change, 0 without ablation) */
        double value(String metric, String group, int variant) {
            return groups.get(group)[variant].value(metric);
        }

        /** @return min, mean, max of the random sets of a size, or null without any */
        double[] random(String metric, String group, int size) {
            double min = Double.POSITIVE_INFINITY;
            double max = Double.NEGATIVE_INFINITY;
            double sum = 0;
            int k = 0;
            for (int i = 0; i < variants.size(); i++) {
                Variant v = variants.get(i);
                if (v.kind().equals("random") && v.size() == size) {
                    double x = value(metric, group, i);
                    min = Math.min(min, x);
                    max = Math.max(max, x);
                    sum += x;
                    k++;
                }
            }
            return k == 0 ? null : new double[] {min, sum / k, max};
        }

        int ranked(int size) {
            for (int i = 0; i < variants.size(); i++) {
                if (variants.get(i).kind().equals("ranked") && variants.get(i).size() == size) {
                    return i;
                }
            }
            throw new IllegalStateException("no ranked set of size " + size);
        }

        AnalysisResult build() {
            AnalysisResult.Builder r = AnalysisResult.builder();
            List<String> metrics = metrics();
            String primary = metrics.get(0);
            long n = groups.get("all")[0].n;
            int bigN = chosen.neurons().size();
            r.put("analyzer", "ablation");
            r.put("layer", layer);
            r.put("neurons", chosen.neurons());
            r.put("source", chosen.source());
            r.put("mode", p.mode().name().toLowerCase(java.util.Locale.ROOT));
            r.put("examples", n);
            r.put("selection", examples.describe());
            r.put("sizes", sizes);
            r.put("randomSets", p.randomSets());
            r.put("randomSetsDrawn", "per size, " + p.randomSets() + " sets drawn without replacement from all " 
                    + "neurons of the layer with the run's seed (ranked neurons are not excluded)");
            r.put("metrics", metrics);
            r.put("target", p.target());
            r.put("variantsEvaluated", variants.size());
            for (String metric : metrics) {
                String id = metric.equals(primary) ? "ablation-curve" : "ablation-curve-" + metric;
                r.part(curve(id, metric));
            }
            // each of the first N neurons alone
            List<Ranking.Entry> alone = new ArrayList<>();
            double base = value(primary, "all", 0);
            for (int i = 0; i < variants.size(); i++) {
                Variant v = variants.get(i);
                if (v.kind().equals("alone") || v.kind().equals("ranked") && v.size() == 1) {
                    double change = value(primary, "all", i) - (primary.equals("target") ? 0 : base);
                    alone.add(new Ranking.Entry(new NeuronRef(layer, v.neurons()[0]), Double.isNaN(change) ? 0 : change,
                            null, null, null, "rank " + (chosen.neurons().indexOf(v.neurons()[0]) + 1) + " in " + chosen.source()));
                }
            }
            alone.sort(Comparator.comparingDouble((Ranking.Entry e) -> -Math.abs(e.score())));
            r.part(new Ranking("ablation-effect", "effect of ablating each neuron of " + layer + " alone",
                    "change of the " + label(primary), alone, "each of the first " + bigN + " neurons of " + chosen.source()
                    + " ablated alone (" + p.mode().name().toLowerCase(java.util.Locale.ROOT) + "), on " + n + " examples; by |change|"));
            matrix(r, "ablation-by-class", "class", metrics);
            for (String key : p.groupBy()) {
                matrix(r, "ablation-by-" + RowBlocks.idOf(key), key, metrics);
                if (watch >= 0) {
                    gap(r, key);
                }
            }
            if (watch < 0 && !p.groupBy().isEmpty()) {
                r.put("groupGap", "not computed: give 'watchClass' (the class whose predicted share is compared between groups)");
            }
            finding(r, primary, n);
            return r.build();
        }

        /** The gap in the watched class's share between the values of a key, before and after the full ranked set. */
        private void gap(AnalysisResult.Builder r, String key) {
            int bigN = chosen.neurons().size();
            int full = ranked(bigN);
            List<String> values = new ArrayList<>();
            List<GroupGap.Counts> counts = new ArrayList<>();
            List<double[]> random = new ArrayList<>();
            for (Map.Entry<String, Tally[]> g : groups.entrySet()) {
                if (!g.getKey().startsWith(key + "=")) {
                    continue;
                }
                Tally[] t = g.getValue();
                values.add(g.getKey().substring(key.length() + 1));
                counts.add(new GroupGap.Counts(t[0].n, t[0].watched, t[full].watched, t[full].both));
                List<Double> shares = new ArrayList<>();
                for (int i = 0; i < variants.size(); i++) {
                    if (variants.get(i).kind().equals("random") && variants.get(i).size() == bigN) {
                        shares.add(t[i].value("share"));
                    }
                }
                random.add(shares.stream().mapToDouble(Double::doubleValue).toArray());
            }
            String what = chosen.source().startsWith("ranking") ? "the top " + bigN + " " + layer + " neurons of " + chosen.source()
                    : layer + " " + (bigN == 1 ? "#" + chosen.neurons().get(0) : "neurons " + chosen.neurons());
            GroupGap.report(r, key, values, counts.toArray(GroupGap.Counts[]::new), random.toArray(double[][]::new),
                    label("share"), what, seed);
        }

        private Series curve(String id, String metric) {
            int s = sizes.size();
            float[] x = new float[s + 1];
            float[] y = new float[s + 1];
            float[] rx = new float[s + 1];
            float[] ry = new float[s + 1];
            float[] lo = new float[s + 1];
            float[] hi = new float[s + 1];
            double base = metric.equals("target") ? 0 : value(metric, "all", 0);
            x[0] = 0;
            y[0] = (float) base;
            rx[0] = 0;
            ry[0] = lo[0] = hi[0] = (float) base;
            boolean random = p.randomSets() > 0;
            for (int i = 0; i < s; i++) {
                int size = sizes.get(i);
                x[i + 1] = rx[i + 1] = size;
                y[i + 1] = (float) value(metric, "all", ranked(size));
                if (random) {
                    double[] m = random(metric, "all", size);
                    lo[i + 1] = (float) m[0];
                    ry[i + 1] = (float) m[1];
                    hi[i + 1] = (float) m[2];
                }
            }
            List<Series.Curve> curves = new ArrayList<>();
            curves.add(Series.Curve.of("ranked", x, y));
            if (random) {
                curves.add(new Series.Curve("random", NdArray.of(Tensor.ofFloats(rx, rx.length), "point"),
                        NdArray.of(Tensor.ofFloats(ry, ry.length), "point"), NdArray.of(Tensor.ofFloats(lo, lo.length), "point"),
                        NdArray.of(Tensor.ofFloats(hi, hi.length), "point")));
            }
            return new Series(id, label(metric) + " as " + layer + " neurons are ablated", "neurons ablated", label(metric), curves,
                    "ranked: the first k neurons of " + chosen.source() + "; random: mean of " + p.randomSets()
                            + " random sets of k neurons of " + layer + ", band min to max; " + p.mode().name().toLowerCase(java.util.Locale.ROOT)
                            + " ablation on " + groups.get("all")[0].n + " examples (" + RowBlocks.selection(examples) + ")");
        }

        private void matrix(AnalysisResult.Builder r, String id, String key, List<String> metrics) {
            List<String> rows = new ArrayList<>();
            for (String g : groups.keySet()) {
                if (g.startsWith(key + "=")) {
                    rows.add(g);
                }
            }
            if (rows.isEmpty()) {
                return;
            }
            int bigN = chosen.neurons().size();
            int full = ranked(bigN);
            List<String> cols = new ArrayList<>(List.of("examples"));
            for (String m : metrics) {
                if (!m.equals("target")) {
                    cols.add(m);
                }
                cols.add(m + " ablated");
                if (p.randomSets() > 0) {
                    cols.add(m + " random");
                }
            }
            float[] values = new float[rows.size() * cols.size()];
            for (int i = 0; i < rows.size(); i++) {
                String g = rows.get(i);
                int c = 0;
                values[i * cols.size() + c++] = groups.get(g)[0].n;
                for (String m : metrics) {
                    if (!m.equals("target")) {
                        values[i * cols.size() + c++] = (float) value(m, g, 0);
                    }
                    values[i * cols.size() + c++] = (float) value(m, g, full);
                    if (p.randomSets() > 0) {
                        values[i * cols.size() + c++] = (float) random(m, g, bigN)[1];
                    }
                }
            }
            List<String> labels = rows.stream().map(g -> g.substring(key.length() + 1)).toList();
            r.part(new Matrix(id, "ablating the top " + bigN + " " + layer + " neurons, per " + key, Matrix.Axis.of(key, labels),
                    Matrix.Axis.of("metric", cols), NdArray.of(Tensor.ofFloats(values, rows.size(), cols.size()), key, "metric"),
                    "metric value", null, "per " + key + ": examples, each metric without ablation, with the " + bigN
                    + " neurons of " + chosen.source() + " ablated, and the mean over random sets of " + bigN + "; target = "
                    + label("target")));
        }

        private void finding(AnalysisResult.Builder r, String primary, long n) {
            int bigN = chosen.neurons().size();
            double base = primary.equals("target") ? 0 : value(primary, "all", 0);
            double change = value(primary, "all", ranked(bigN)) - base;
            double[] rnd = p.randomSets() > 0 ? random(primary, "all", bigN) : null;
            String what = chosen.source().startsWith("ranking") ? "the top " + bigN + " " + layer + " neurons of " + chosen.source()
                    : layer + " " + (bigN == 1 ? "#" + chosen.neurons().get(0) : "neurons " + chosen.neurons());
            StringBuilder claim = new StringBuilder("ablating " + what
                    + " changes the " + label(primary) + " on " + n + " examples (" + RowBlocks.selection(examples) + ") by " + RowBlocks.fmt(change));
            boolean notable = false;
            if (rnd != null) {
                double lo = rnd[0] - base;
                double hi = rnd[2] - base;
                claim.append("; random sets of ").append(bigN).append(": ").append(RowBlocks.fmt(rnd[1] - base))
                        .append(" [").append(RowBlocks.fmt(lo)).append(", ").append(RowBlocks.fmt(hi)).append("]");
                notable = change < lo || change > hi;
                r.put("randomChange", List.of(lo, rnd[1] - base, hi));
            }
            r.put("rankedChange", change);
            List<NeuronRef> neurons = chosen.neurons().stream().map(j -> new NeuronRef(layer, j)).toList();
            r.finding(new Finding("ablation", notable ? Finding.Severity.NOTABLE : Finding.Severity.INFO, claim.toString(),
                    new Finding.Strength("change of the " + label(primary), change, null, null), neurons,
                    List.of("ablation-curve", "ablation-effect")));
        }
    }
}
