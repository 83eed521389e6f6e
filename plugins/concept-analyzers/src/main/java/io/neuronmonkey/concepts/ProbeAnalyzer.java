package io.neuronmonkey.concepts;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
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
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import static io.neuronmonkey.concepts.GroupCompareAnalyzer.fixed2;
import static io.neuronmonkey.concepts.GroupCompareAnalyzer.id;
import static io.neuronmonkey.concepts.GroupCompareAnalyzer.ordered;
import static io.neuronmonkey.concepts.GroupCompareAnalyzer.pct;
import static io.neuronmonkey.concepts.GroupCompareAnalyzer.sig2;
import static io.neuronmonkey.concepts.GroupCompareAnalyzer.wilson;

/**
 * Can a sparse linear probe read a label or a metadata field from a layer, and which neurons does it use? Per layer
 * of the step (spatial layers reduced over positions; features standardized on the training rows) an L1-regularized
 * logistic regression ({@link ProbeFit}, liblinear; one-vs-rest for more than two values) is fitted on a seeded,
 * stratified training split and scored on the held-out rest, with a 95% Wilson interval, against two controls: the
 * majority class of the training rows, and the same probe (same lambda or the same cross-validation) on the same
 * activations with the rows shuffled relative to the labels. The shuffle keeps the features exactly as they are (width,
 * scale, correlations, sparsity) and breaks only their link to the label, so it measures what a probe of this
 * capacity reads from noise on this data.
 * <p>
 * Neurons are ranked by the sum over weight vectors of |weight| (standardized features). Retrained on the first k
 * neurons of that order (same lambda), the smallest k whose held-out accuracy is at least {@code keep} times the full
 * probe's is reported. The subset is chosen on the held-out rows, so its accuracy is optimistic.
 * <p>
 * Writes a ranking {@code probe-<field>-ranking} of every neuron with a nonzero weight across layers (an ablation step
 * takes its layer's neurons from it via {@code inputs:}), a neuron table {@code <layer>-probe-<field>} and a series
 * {@code <layer>-probe-<field>-subset} per layer.
 */
@Extension
@ExtensionName(value = "probe",
        description = "Sparse (L1) logistic probes per layer for a label or metadata field: held-out accuracy vs majority and shuffled-label controls, neuron ranking, smallest sufficient subset")
public final class ProbeAnalyzer implements Analyzer<ProbeAnalyzer.Params> {

    /** The penalty of the probe. */
    public enum Penalty {
        /** L1 (lasso) */
        L1
    }

    /** How a spatial layer becomes one value per neuron. */
    public enum Reduce {
        /** max over positions */
        MAX,
        /** mean over positions */
        MEAN
    }

    /** Subset sizes up to this are all tried; above it, sizes double. */
    static final int DENSE_SIZES = 16;

    /**
     * Params of probe.
     *
     * @param field   the probe target: {@code class} or a metadata key
     * @param penalty the penalty
     * @param lambda  the penalty weight on the mean log-loss; null: cross-validated over {@code grid}
     * @param grid    candidate lambdas
     * @param folds   cross-validation folds
     * @param holdout held-out fraction
     * @param keep    share of the full probe's held-out accuracy a subset must keep
     * @param reduce  max or mean over positions
     * @param where   metadata filter of the examples
     * @param limit   the most examples
     */
    public record Params(
            @Param(description = "the probe target: 'class' or a metadata key, e.g. watermark") String field,
            @Param(defaultValue = "l1", description = "the penalty: l1 (liblinear's L1-regularized logistic regression)") Penalty penalty,
            @Param(description = "penalty weight on the mean log-loss, (1/n) sum loss + lambda ||w||_1, > 0; leave out to "
                    + "choose it from 'grid' by seeded cross-validation") Double lambda,
            @Param(defaultValue = "[0.3, 0.1, 0.03, 0.01, 0.003, 0.001]", description = "candidate lambdas for the "
                    + "cross-validation, each > 0; ties go to the largest (sparsest)") List<Double> grid,
            @Param(defaultValue = "5", description = "cross-validation folds on the training rows, 2..20") int folds,
            @Param(defaultValue = "0.3", description = "held-out fraction of every value's examples (seeded, stratified), in (0, 1)") double holdout,
            @Param(defaultValue = "0.95", description = "share of the full probe's held-out accuracy the smallest subset must keep, in (0, 1]") double keep,
            @Param(defaultValue = "max", description = "conv channel value per example: max or mean over positions") Reduce reduce,
            @Param(description = "metadata filter of the examples, e.g. {class: square}") Map<String, String> where,
            @Param(defaultValue = "4000", description = "the most examples, >= 10") long limit) {

        /** Checks every field. */
        public Params {
            where = GroupCompareAnalyzer.strings(where);
            grid = grid == null ? List.of(0.3, 0.1, 0.03, 0.01, 0.003, 0.001) : List.copyOf(grid);
            Violations.check()
                    .require(field != null && !field.isBlank(), "field", "must name 'class' or a metadata key")
                    .require(penalty != null, "penalty", "must be l1")
                    .require(lambda == null || lambda > 0 && Double.isFinite(lambda), "lambda", "must be > 0 and finite, found " + lambda)
                    .require(!grid.isEmpty() && grid.stream().allMatch(g -> g != null && g > 0 && Double.isFinite(g)), "grid",
                            "must list lambdas > 0, found " + grid)
                    .require(folds >= 2 && folds <= 20, "folds", "must be between 2 and 20, found " + folds)
                    .require(holdout > 0 && holdout < 1, "holdout", "must be in (0, 1), found " + holdout)
                    .require(keep > 0 && keep <= 1, "keep", "must be in (0, 1], found " + keep)
                    .require(reduce != null, "reduce", "must be max or mean")
                    .require(limit >= 10, "limit", "must be >= 10, found " + limit)
                    .throwIfAny();
        }
    }

    /** What one layer's probe found. */
    record LayerProbe(LayerInfo layer, double lambda, double[] cv, int test, int correct, Interval interval,
                      double majority, Interval majorityInterval, double control, Interval controlInterval,
                      double[] importance, ProbeFit fit, int[] order, int[] sizes, double[] subsetAccuracy,
                      Interval[] subsetIntervals, int subset) {

        double accuracy() {
            return (double) correct / test;
        }

        boolean beatsControl() {
            return interval.low() > controlInterval.high();
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
            throw new AnalysisException("step '" + step + "': probe needs layers; add 'layers: [...]' to the step");
        }
        ProbeFields.check(p.field(), data.info(), "field", step);
        ExampleFilter examples = new ExampleFilter(data, p.where(), p.limit(), step);
        LayerActivations acts = LayerActivations.collect(model, examples, layers,
                p.reduce() == Reduce.MAX ? LayerActivations.Reduce.MAX : LayerActivations.Reduce.MEAN, ctx.batchSize(), step);
        ProbeFields f = ProbeFields.read(p.field(), acts.labels(), acts.metadata(), data.info().classNames(), null);
        f.requireTwo("probe target", step);
        int[][] split = split(f.group(), f.values().size(), p.holdout(), ctx.seed());
        if (split[0].length < p.folds() || split[1].length == 0) {
            throw new AnalysisException("step '" + step + "': " + f.size() + " examples with a value of '" + p.field()
                    + "' are too few for " + p.folds() + "-fold cross-validation and a held-out fraction of " + p.holdout());
        }
        int[] shuffled = f.group().clone();
        Random random = new Random(ctx.seed() + 2);
        for (int i = shuffled.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        List<LayerProbe> probes = new ArrayList<>();
        ctx.progress().start("probe: layers", layers.size());
        for (LayerInfo l : layers) {
            GroupCompareAnalyzer.requireFinite(acts.of(l.name()), l.name(), step);
            probes.add(probe(l, GroupCompareAnalyzer.rows(acts.of(l.name()), l.neurons(), f.rows()), f.group(), shuffled,
                    split, p, ctx.seed()));
            ctx.progress().advance(1);
        }
        ctx.progress().finish();
        return report(p, f, split, probes, examples.describe(), ctx.dataName().orElse(""), ctx.seed());
    }

    /** @return {train rows, held-out rows}: per value a seeded shuffle, its first {@code holdout} share held out */
    static int[][] split(int[] y, int classes, double holdout, long seed) {
        Random random = new Random(seed);
        List<Integer> train = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            final int cls = c;
            int[] rows = IntStream.range(0, y.length).filter(i -> y[i] == cls).toArray();
            for (int i = rows.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = rows[i];
                rows[i] = rows[j];
                rows[j] = t;
            }
            int held = (int) Math.round(rows.length * holdout);
            held = Math.min(Math.max(held, rows.length >= 2 ? 1 : 0), rows.length - 1);
            for (int i = 0; i < rows.length; i++) {
                (i < held ? test : train).add(rows[i]);
            }
        }
        int[] tr = train.stream().mapToInt(Integer::intValue).sorted().toArray();
        int[] te = test.stream().mapToInt(Integer::intValue).sorted().toArray();
        return new int[][] {tr, te};
    }

    private static LayerProbe probe(LayerInfo l, float[] x, int[] y, int[] shuffled, int[][] split, Params p, long seed) {
        int n = l.neurons();
        int[] train = split[0];
        int[] test = split[1];
        double[] z = ProbeFit.standardize(x, n, train);
        int[] all = IntStream.range(0, n).toArray();
        double[] cv = null;
        double lambda;
        if (p.lambda() != null) {
            lambda = p.lambda();
        } else {
            ProbeFit.Cv c = ProbeFit.crossValidate(z, n, y, train, p.grid(), p.folds(), seed + 1);
            cv = c.accuracy();
            lambda = p.grid().get(c.chosen());
        }
        ProbeFit full = ProbeFit.train(z, n, all, y, train, lambda, seed);
        int correct = full.correct(z, n, y, test);

        int majorityClass = majority(y, train);
        int majorityCorrect = (int) Arrays.stream(test).filter(r -> y[r] == majorityClass).count();

        double controlLambda = p.lambda() != null ? p.lambda()
                : p.grid().get(ProbeFit.crossValidate(z, n, shuffled, train, p.grid(), p.folds(), seed + 1).chosen());
        int controlCorrect = ProbeFit.train(z, n, all, shuffled, train, controlLambda, seed).correct(z, n, shuffled, test);

        double[] importance = full.importance(n);
        int[] order = IntStream.range(0, n).boxed()
                .sorted(Comparator.comparingDouble((Integer j) -> -importance[j]).thenComparingInt(j -> j))
                .mapToInt(Integer::intValue).toArray();
        int[] sizes = sizes(n);
        double[] acc = new double[sizes.length];
        Interval[] bands = new Interval[sizes.length];
        double needed = p.keep() * correct / test.length;
        int subset = n;
        for (int s = 0; s < sizes.length; s++) {
            int k = sizes[s];
            int ok = k == n ? correct : ProbeFit.train(z, n, Arrays.copyOf(order, k), y, train, lambda, seed).correct(z, n, y, test);
            acc[s] = (double) ok / test.length;
            bands[s] = wilson(test.length, ok);
            if (acc[s] >= needed - 1e-12 && k < subset) {
                subset = k;
            }
        }
        return new LayerProbe(l, lambda, cv, test.length, correct, wilson(test.length, correct),
                (double) majorityCorrect / test.length, wilson(test.length, majorityCorrect),
                (double) controlCorrect / test.length, wilson(test.length, controlCorrect),
                importance, full, order, sizes, acc, bands, subset);
    }

    /** @return 1, 2, ..., 16, then doubling, and always {@code n}; all at most {@code n} */
    static int[] sizes(int n) {
        List<Integer> s = new ArrayList<>();
        for (int k = 1; k <= Math.min(n, DENSE_SIZES); k++) {
            s.add(k);
        }
        for (int k = DENSE_SIZES * 2; k < n; k *= 2) {
            s.add(k);
        }
        if (s.get(s.size() - 1) != n) {
            s.add(n);
        }
        return s.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int majority(int[] y, int[] rows) {
        Map<Integer, Integer> count = new LinkedHashMap<>();
        for (int r : rows) {
            count.merge(y[r], 1, Integer::sum);
        }
        return count.entrySet().stream().max(Map.Entry.<Integer, Integer>comparingByValue()
                .thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder()))).orElseThrow().getKey();
    }

    private static AnalysisResult report(Params p, ProbeFields f, int[][] split, List<LayerProbe> probes, String selection,
                                         String dataName, long seed) {
        AnalysisResult.Builder r = AnalysisResult.builder();
        String fid = id(p.field());
        r.put("analyzer", "probe");
        r.put("field", p.field());
        r.put("penalty", name(p.penalty()));
        r.put("values", f.values());
        r.put("counts", Arrays.stream(f.counts()).boxed().toList());
        r.put("examples", f.size());
        r.put("withoutValue", f.missing());
        r.put("selection", selection);
        if (!dataName.isEmpty()) {
            r.put("data", dataName);
        }
        r.put("train", split[0].length);
        r.put("heldOut", split[1].length);
        r.put("seed", seed);
        r.put("probe", "L1-regularized logistic regression (liblinear L1R_LR, bias not penalized, tolerance " + ProbeFit.EPS
                + "), " + (f.values().size() == 2 ? "binary" : "one-vs-rest over " + f.values().size() + " values")
                + ", on features standardized with the training rows' mean and sd; objective (1/n) sum log-loss + lambda ||w||_1");
        r.put("lambda", p.lambda() != null ? "given" : "chosen per layer by seeded " + p.folds() + "-fold cross-validation over "
                + p.grid() + " (best mean fold accuracy, ties to the largest lambda)");
        r.put("controls", ordered("majority", "the most frequent value of the training rows, predicted for every held-out row",
                "shuffled", "the same probe and lambda procedure on the same activations with the rows shuffled relative to the labels "
                        + "(one seeded permutation of the labels over all rows, same split): it keeps the features' width, scale "
                        + "and correlations and breaks only their link to the label",
                "beats", "the probe's Wilson interval lies above the shuffled control's"));
        r.put("interval", "95% Wilson score interval of the held-out accuracy");
        r.put("subset", "first k neurons in ranking order, retrained with the layer's lambda; smallest k with held-out accuracy >= "
                + p.keep() + " x the full probe's (chosen on the held-out rows, so optimistic)");
        List<Object> layers = new ArrayList<>();
        List<Ranking.Entry> entries = new ArrayList<>();
        record Ranked(LayerProbe lp, int li, int neuron, double score) {
        }
        List<Ranked> ranked = new ArrayList<>();
        for (int li = 0; li < probes.size(); li++) {
            LayerProbe lp = probes.get(li);
            for (int j = 0; j < lp.importance().length; j++) {
                if (lp.importance()[j] > 0) {
                    ranked.add(new Ranked(lp, li, j, lp.importance()[j]));
                }
            }
        }
        ranked.sort(Comparator.comparingDouble((Ranked x) -> -x.score()).thenComparingInt(Ranked::li).thenComparingInt(Ranked::neuron));
        for (Ranked x : ranked) {
            entries.add(new Ranking.Entry(new NeuronRef(x.lp().layer().name(), x.neuron()), x.score(), null, null, null,
                    "rank " + (rankIn(x.lp().order(), x.neuron()) + 1) + " in " + x.lp().layer().name()));
        }
        String rankingId = "probe-" + fid + "-ranking";
        r.part(new Ranking(rankingId, "Neurons a probe for " + p.field() + " uses", "sum over classes of |probe weight| (standardized features)",
                entries, "every neuron with a nonzero weight in its layer's L1 probe for '" + p.field() + "', across "
                        + String.join(", ", probes.stream().map(lp -> lp.layer().name()).toList())));
        List<Finding> findings = new ArrayList<>();
        for (LayerProbe lp : probes) {
            String layer = lp.layer().name();
            String tableId = id(layer) + "-probe-" + fid;
            String seriesId = tableId + "-subset";
            r.part(table(lp, f, tableId, p.field()));
            float[] xs = new float[lp.sizes().length];
            float[] ys = new float[xs.length];
            float[] lo = new float[xs.length];
            float[] hi = new float[xs.length];
            for (int s = 0; s < xs.length; s++) {
                xs[s] = lp.sizes()[s];
                ys[s] = (float) lp.subsetAccuracy()[s];
                lo[s] = (float) lp.subsetIntervals()[s].low();
                hi[s] = (float) lp.subsetIntervals()[s].high();
            }
            r.part(new Series(seriesId, layer + ": probe accuracy on the top neurons", "neurons (ranking order)", "held-out accuracy",
                    List.of(new Series.Curve("probe on the first k neurons", vec(xs), vec(ys), vec(lo), vec(hi)),
                            Series.Curve.of("shuffled-label control (all neurons)", new float[] {1, lp.layer().neurons()},
                                    new float[] {(float) lp.control(), (float) lp.control()})),
                    "held-out accuracy of the probe retrained on the first k neurons of " + layer + " in ranking order (lambda "
                            + lp.lambda() + "), with 95% Wilson bands; smallest k keeping " + pct(p.keep()) + " of "
                            + sig2(lp.accuracy()) + ": " + lp.subset()));
            List<NeuronRef> top = Arrays.stream(lp.order()).limit(lp.subset()).mapToObj(j -> new NeuronRef(layer, j)).toList();
            String neurons = top.size() <= 5 ? " (" + layer + " " + String.join(", ", top.stream().map(x -> "#" + x.neuron()).toList()) + ")" : "";
            String claim = "probe for '" + p.field() + "' on " + layer + ": held-out accuracy " + fixed2(lp.accuracy()) + " ["
                    + fixed2(lp.interval().low()) + ", " + fixed2(lp.interval().high()) + "] vs majority " + fixed2(lp.majority())
                    + " and shuffled labels " + fixed2(lp.control()) + "; " + lp.subset() + " neuron" + (lp.subset() == 1 ? "" : "s")
                    + neurons + (lp.subset() == 1 ? " keeps " : " keep ") + pct(p.keep()) + " of it";
            Finding.Strength strength = new Finding.Strength("held-out accuracy", lp.accuracy(), lp.interval(), null);
            if (lp.beatsControl()) {
                findings.add(new Finding(tableId, Finding.Severity.NOTABLE, claim, strength, top, List.of(rankingId, tableId, seriesId)));
            } else {
                findings.add(new Finding(tableId + "-no-signal", Finding.Severity.WARNING, "probe for '" + p.field() + "' on " + layer
                        + " does not beat the shuffled-label control: held-out accuracy " + fixed2(lp.accuracy()) + " ["
                        + fixed2(lp.interval().low()) + ", " + fixed2(lp.interval().high()) + "] vs " + fixed2(lp.control()) + " ["
                        + fixed2(lp.controlInterval().low()) + ", " + fixed2(lp.controlInterval().high()) + "] (majority "
                        + fixed2(lp.majority()) + ")", strength, List.of(), List.of(tableId, seriesId)));
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("layer", layer);
            m.put("neurons", lp.layer().neurons());
            m.put("lambda", lp.lambda());
            if (lp.cv() != null) {
                m.put("cvAccuracy", Arrays.stream(lp.cv()).boxed().toList());
            }
            m.put("accuracy", lp.accuracy());
            m.put("interval", List.of(lp.interval().low(), lp.interval().high()));
            m.put("majority", lp.majority());
            m.put("shuffledControl", lp.control());
            m.put("shuffledControlInterval", List.of(lp.controlInterval().low(), lp.controlInterval().high()));
            m.put("beatsControl", lp.beatsControl());
            m.put("nonzeroWeights", lp.fit().nonzero());
            m.put("subsetSize", lp.subset());
            m.put("subsetNeurons", Arrays.stream(lp.order()).limit(lp.subset()).boxed().toList());
            layers.add(m);
        }
        r.put("layers", layers);
        findings.stream().sorted(Comparator.comparing(Finding::severity)).forEach(r::finding);
        return r.build();
    }

    private static int rankIn(int[] order, int neuron) {
        for (int i = 0; i < order.length; i++) {
            if (order[i] == neuron) {
                return i;
            }
        }
        return -1;
    }

    private static NeuronTable table(LayerProbe lp, ProbeFields f, String id, String field) {
        int n = lp.layer().neurons();
        List<NeuronTable.Column> cols = new ArrayList<>();
        float[] imp = new float[n];
        for (int j = 0; j < n; j++) {
            imp[j] = (float) lp.importance()[j];
        }
        cols.add(new NeuronTable.Column("weight", "|weight|", "sum over the probe's weight vectors of |weight| on the standardized neuron",
                NdArray.perNeuron(imp), null, null));
        for (int c = 0; c < lp.fit().vectors(); c++) {
            double[] w = lp.fit().weights(c);
            float[] v = new float[n];
            for (int j = 0; j < n; j++) {
                v[j] = (float) w[j];
            }
            String value = f.values().get(lp.fit().vectorClass(c));
            cols.add(new NeuronTable.Column("w-" + id(value), "weight", "signed weight for " + field + "=" + value
                    + (lp.fit().vectors() == 1 ? " (positive: " + value + ")" : " vs the rest"), NdArray.perNeuron(v), null, null));
        }
        List<Integer> used = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            if (lp.importance()[j] > 0) {
                used.add(j);
            }
        }
        List<Integer> subset = Arrays.stream(lp.order()).limit(lp.subset()).sorted().boxed().toList();
        return new NeuronTable(id, lp.layer().name() + ": probe weights for " + field, lp.layer().name(), n, cols,
                List.of(new NeuronTable.Tag("nonzero", "a nonzero probe weight", used),
                        new NeuronTable.Tag("subset", "the smallest top-ranked set keeping the share 'keep' of the held-out accuracy", subset)),
                "L1 logistic probe (lambda " + lp.lambda() + ") for '" + field + "' on " + lp.layer().name()
                        + ", held-out accuracy " + sig2(lp.accuracy()));
    }

    private static NdArray vec(float[] v) {
        return NdArray.of(Tensor.ofFloats(v, v.length), "point");
    }

    /** @return the penalty's name as written in YAML */
    static String name(Penalty penalty) {
        return penalty.name().toLowerCase(Locale.ROOT);
    }
}
