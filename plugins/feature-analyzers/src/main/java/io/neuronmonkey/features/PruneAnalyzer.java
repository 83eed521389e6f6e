package io.neuronmonkey.features;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Pruning by masking: neurons of a layer are zeroed (ablation interventions in the real model) and accuracy and
 * changed predictions are measured on the step's data. The neurons are chosen by a rule (dead: largest value over
 * the data at most a threshold; smallest: the fraction with the smallest mean |value|; ranking: the fraction ranked
 * lowest by an earlier step (smallest conductance or ablation effect); list: given indices) and
 * compared with random pruning of the same sizes (seeded draws). One pass over the data gives the neuron statistics;
 * every pruned variant is one more pass over the same examples.
 */
@Extension
@ExtensionName(value = "prune", description = "Pruning: accuracy and changed predictions after removing dead, smallest, lowest-ranked or listed neurons (masking), as a curve over the pruned fraction against random pruning; structural export of the smaller model with parameters, size and speed before and after")
public final class PruneAnalyzer implements Analyzer<PruneAnalyzer.Params> {

    /** How the pruned neurons are chosen. */
    public enum Rule {
        /** neurons whose largest value over the data is at most the threshold */
        DEAD,
        /** the neurons with the smallest mean |value|, by fraction */
        SMALLEST,
        /** the listed neurons */
        LIST,
        /** the neurons an earlier step ranks lowest (unranked ones first), by fraction */
        RANKING
    }

    /**
     * Params of prune.
     *
     * @param layer     the layer pruned
     * @param rule      dead, smallest, ranking or list
     * @param threshold dead means a largest value at most this
     * @param neurons   the listed neurons (rule list)
     * @param fractions pruned fractions of the curve (smallest mean |value| first)
     * @param draws     random draws per size
     * @param limit     the most examples
     * @param export    where the structurally pruned model is written: a new folder, {@code auto}, or null for none
     * @param repeats   timed repetitions of the speed measurement
     * @param from      rule ranking: {@code STEP} or {@code STEP/PART}, the ranking whose lowest neurons go first
     */
    public record Params(
            @Param(description = "the layer whose neurons are pruned, e.g. dense1") String layer,
            @Param(defaultValue = "dead", description = "dead (largest value <= threshold), smallest (by mean |value|, per fraction), ranking (lowest ranked by the step in from first, per fraction) or list") String rule,
            @Param(defaultValue = "0.0", description = "rule dead: a neuron is dead when its largest value over the data is <= this") double threshold,
            @Param(description = "rule list: the neuron indices pruned") List<Integer> neurons,
            @Param(defaultValue = "[0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]", description = "pruned fractions of the curve (neurons by smallest mean |value| first), each in [0, 1]") List<Double> fractions,
            @Param(defaultValue = "5", description = "seeded random draws of the same size per point, 1..1000") int draws,
            @Param(defaultValue = "4096", description = "the most examples evaluated (kept in memory), 1..1000000") int limit,
            @Param(description = "structural pruning: write the model with the chosen neurons cut out as a SavedModel to this new folder (auto: <step>-pruned-model in the run folder, numbered -2, -3, ... when taken; a given folder must be new or empty), reload it and compare parameters, size, speed and accuracy; unset: masking only") String export,
            @Param(defaultValue = "5", description = "structural pruning: timed repetitions of plain inference of the original and the pruned model (median reported), 1..100") int repeats,
            @Param(description = "rule ranking: STEP or STEP/PART, an earlier step (in inputs:) whose Ranking of this layer orders the neurons, best first; the lowest ranked (and the unranked) are pruned first") String from) {

        /** The params of earlier releases: masking only. */
        public Params(String layer, String rule, double threshold, List<Integer> neurons, List<Double> fractions,
                      int draws, int limit) {
            this(layer, rule, threshold, neurons, fractions, draws, limit, null, 5, null);
        }

        /** Checks every field. */
        public Params {
            rule = rule == null ? "dead" : rule;
            neurons = neurons == null ? List.of() : List.copyOf(neurons);
            fractions = fractions == null ? List.of(0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9) : List.copyOf(fractions);
            String r = rule;
            List<Integer> ns = neurons;
            List<Double> fs = fractions;
            boolean known = Arrays.stream(Rule.values()).anyMatch(x -> x.name().equalsIgnoreCase(r));
            Violations.check()
                    .require(layer != null && !layer.isBlank(), "layer", "is required, e.g. dense1")
                    .require(known, "rule", "must be dead, smallest, ranking or list, found " + r)
                    .require(!r.equalsIgnoreCase("ranking") || from != null && !from.isBlank(), "from",
                            "rule ranking needs the step whose ranking orders the neurons: STEP or STEP/PART")
                    .require(Double.isFinite(threshold), "threshold", "must be finite, found " + threshold)
                    .require(!r.equalsIgnoreCase("list") || !ns.isEmpty(), "neurons", "rule list needs one or more neuron indices")
                    .require(ns.stream().allMatch(i -> i != null && i >= 0), "neurons", "indices must be >= 0, found " + ns)
                    .require(!fs.isEmpty() && fs.stream().allMatch(f -> f != null && f >= 0 && f <= 1), "fractions",
                            "needs one or more values in [0, 1], found " + fs)
                    .require(draws >= 1 && draws <= 1000, "draws", "must be in 1..1000, found " + draws)
                    .require(limit >= 1 && limit <= 1_000_000, "limit", "must be in 1..1000000, found " + limit)
                    .require(export == null || !export.isBlank(), "export", "must be a folder path or auto, found an empty value")
                    .require(repeats >= 1 && repeats <= 100, "repeats", "must be in 1..100, found " + repeats)
                    .throwIfAny();
        }

        /** @return the rule */
        Rule parsedRule() {
            return Rule.valueOf(rule.toUpperCase(Locale.ROOT));
        }
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        LoadedModel model = ctx.requireModel();
        LayerInfo layer = ImageMath.requireLayer(model, p.layer());
        int width = layer.neurons();
        for (int i : p.neurons()) {
            if (i >= width) {
                throw new IllegalArgumentException("neurons: " + i + " is out of range, layer " + layer.name() + " has "
                        + width + " neurons (0.." + (width - 1) + ")");
            }
        }
        Evaluation eval = Evaluation.of(ctx, model, layer, p.limit());
        Integer[] order = IntStream.range(0, width).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> Float.compare(eval.meanAbs[a], eval.meanAbs[b]));
        String orderText = "smallest mean |value| first";
        if (p.parsedRule() == Rule.RANKING) {
            List<Integer> ranked = RankedNeurons.fromRanking(ctx.inputs(), p.from(), layer, width);
            java.util.LinkedHashSet<Integer> lowFirst = new java.util.LinkedHashSet<>();
            IntStream.range(0, width).filter(i -> !ranked.contains(i)).forEach(lowFirst::add);
            for (int i = ranked.size() - 1; i >= 0; i--) {
                lowFirst.add(ranked.get(i));
            }
            order = lowFirst.toArray(Integer[]::new);
            orderText = "lowest ranked by " + p.from() + " first";
        }
        Random random = new Random(ctx.seed());
        int points = p.fractions().size();
        float[] x = new float[points];
        float[] byRule = new float[points];
        float[] randMean = new float[points];
        float[] randLow = new float[points];
        float[] randHigh = new float[points];
        for (int i = 0; i < points; i++) {
            int k = (int) Math.round(p.fractions().get(i) * width);
            x[i] = (float) k / width;
            byRule[i] = (float) eval.accuracy(Arrays.stream(order).limit(k).mapToInt(Integer::intValue).toArray());
            double[] r = eval.randomAccuracies(k, p.draws(), random);
            randMean[i] = (float) Arrays.stream(r).average().orElse(Double.NaN);
            randLow[i] = (float) Arrays.stream(r).min().orElse(Double.NaN);
            randHigh[i] = (float) Arrays.stream(r).max().orElse(Double.NaN);
        }
        AnalysisResult.Builder out = AnalysisResult.builder();
        out.part(new Series("pruning-curve", "Accuracy after pruning " + layer.name(), "pruned fraction of " + layer.name(), "accuracy",
                List.of(Series.Curve.of(orderText, x, byRule),
                        new Series.Curve("random (mean, min..max of " + p.draws() + " draws)",
                                NdArray.of(Tensor.ofFloats(x, points), "point"), NdArray.of(Tensor.ofFloats(randMean, points), "point"),
                                NdArray.of(Tensor.ofFloats(randLow, points), "point"), NdArray.of(Tensor.ofFloats(randHigh, points), "point"))),
                "neurons zeroed by ablation (masking) on " + eval.n + " examples; random: seeded draws of the same sizes"));
        int[] chosen = switch (p.parsedRule()) {
            case DEAD -> IntStream.range(0, width).filter(i -> eval.max[i] <= p.threshold()).toArray();
            case LIST -> p.neurons().stream().mapToInt(Integer::intValue).distinct().sorted().toArray();
            case SMALLEST, RANKING -> Arrays.stream(order).limit(Math.round(p.fractions().get(points - 1) * width)).mapToInt(Integer::intValue).sorted().toArray();
        };
        double after = eval.accuracy(chosen);
        int changed = eval.changed(chosen);
        double[] random2 = eval.randomAccuracies(chosen.length, p.draws(), random);
        double randomAcc = Arrays.stream(random2).average().orElse(Double.NaN);
        List<Integer> chosenList = Arrays.stream(chosen).boxed().toList();
        String ruleText = switch (p.parsedRule()) {
            case DEAD -> "dead (largest value <= " + p.threshold() + ")";
            case LIST -> "listed";
            case SMALLEST -> "smallest mean |value|";
            case RANKING -> "lowest ranked by " + p.from();
        };
        out.part(new NeuronTable(layer.name() + "-prune", "Neuron statistics of " + layer.name(), layer.name(), width,
                List.of(NeuronTable.Column.of("max", "activation", eval.max), NeuronTable.Column.of("mean |value|", "activation", eval.meanAbs)),
                List.of(new NeuronTable.Tag("pruned", ruleText, chosenList)), "over " + eval.n + " examples (spatial layers: channel mean)"));
        out.part(new Matrix("pruned", "Pruning the " + ruleText + " neurons", Matrix.Axis.of("set", List.of(ruleText)),
                Matrix.Axis.of("measure", List.of("neurons pruned", "accuracy before", "accuracy after", "predictions changed", "random accuracy")),
                NdArray.of(Tensor.ofFloats(new float[]{chosen.length, (float) eval.baseAccuracy, (float) after, changed, (float) randomAcc}, 1, 5), "set", "measure"),
                "", layer.name(), "masking: the neurons' outputs are zeroed; random: mean of " + p.draws() + " draws of the same size"));
        out.finding(new Finding("prune-" + layer.name(), changed == 0 ? Finding.Severity.INFO : Finding.Severity.NOTABLE,
                String.format(Locale.ROOT, "pruning the %d %s %s neurons changes %d of %d predictions; accuracy %.4f -> %.4f (random neurons of the same count: %.4f)",
                        chosen.length, ruleText, layer.name(), changed, eval.n, eval.baseAccuracy, after, randomAcc),
                new Finding.Strength("accuracy change", after - eval.baseAccuracy, null, null),
                chosenList.stream().limit(32).map(i -> new NeuronRef(layer.name(), i)).toList(), List.of("pruned", "pruning-curve")));
        if (p.export() != null) {
            Structural.measure(ctx, model, layer, eval, chosen, after, ruleText, out);
        }
        return out.put("layer", layer.name())
                .put("rule", p.parsedRule().name().toLowerCase(Locale.ROOT))
                .put("examples", eval.n)
                .put("pruned", chosenList)
                .put("accuracyBefore", eval.baseAccuracy)
                .put("accuracyAfter", after)
                .put("predictionsChanged", changed)
                .put("method", "pruning by masking (ablation of the neurons' outputs); the weights are unchanged")
                .build();
    }

    /** The kept examples, their labels and unpruned predictions, and the layer's neuron statistics. */
    static final class Evaluation {
        private final LoadedModel model;
        private final LayerInfo layer;
        final List<Batch> batches;
        final int[] labels;
        private final int[] base;
        final int n;
        private final float[] max;
        private final float[] meanAbs;
        private final double baseAccuracy;

        private Evaluation(LoadedModel model, LayerInfo layer, List<Batch> batches, int[] labels, int[] base, float[] max,
                           float[] meanAbs) {
            this.model = model;
            this.layer = layer;
            this.batches = batches;
            this.labels = labels;
            this.base = base;
            this.n = labels.length;
            this.max = max;
            this.meanAbs = meanAbs;
            this.baseAccuracy = accuracyOf(base);
        }

        static Evaluation of(AnalyzerContext<?> ctx, LoadedModel model, LayerInfo layer, int limit) {
            List<Batch> kept = new ArrayList<>();
            int width = layer.neurons();
            float[] max = new float[width];
            Arrays.fill(max, Float.NEGATIVE_INFINITY);
            double[] sumAbs = new double[width];
            int[] labels = new int[0];
            int[] preds = new int[0];
            int seen = 0;
            Iterator<Batch> it = ctx.requireData().batches(Math.max(1, ctx.batchSize()));
            List<Integer> all = IntStream.range(0, width).boxed().toList();
            while (it.hasNext() && seen < limit) {
                Batch b = it.next();
                if (!b.hasLabels()) {
                    throw new IllegalArgumentException("prune measures accuracy and needs labelled data; " + ctx.dataName().orElse("the data") + " has no labels");
                }
                int take = Math.min(b.size(), limit - seen);
                Batch use = take < b.size() ? b.slice(0, take) : b;
                var outs = model.run(use.modelInputs(), List.of(layer.name(), model.logitsLayer()), List.of());
                float[] v = FeatureVisualizationAnalyzer.reduce(outs.get(layer.name()), layer, all);
                for (int r = 0; r < take; r++) {
                    for (int j = 0; j < width; j++) {
                        float a = v[r * width + j];
                        max[j] = Math.max(max[j], a);
                        sumAbs[j] += Math.abs(a);
                    }
                }
                labels = concat(labels, use.labels());
                preds = concat(preds, argmax(outs.get(model.logitsLayer())));
                kept.add(use);
                seen += take;
            }
            if (seen == 0) {
                throw new IllegalArgumentException("prune: the data has no examples");
            }
            float[] meanAbs = new float[width];
            for (int j = 0; j < width; j++) {
                meanAbs[j] = (float) (sumAbs[j] / seen);
            }
            return new Evaluation(model, layer, kept, labels, preds, max, meanAbs);
        }

        /** @return predictions with the neurons zeroed */
        int[] predictions(int[] pruned) {
            if (pruned.length == 0) {
                return base;
            }
            List<Intervention> iv = List.of(Intervention.ablate(layer.name(), pruned));
            int[] out = new int[0];
            for (Batch b : batches) {
                out = concat(out, argmax(model.run(b.modelInputs(), List.of(model.logitsLayer()), iv).get(model.logitsLayer())));
            }
            return out;
        }

        /** @return the unpruned model's accuracy */
        double baseAccuracy() {
            return baseAccuracy;
        }

        double accuracy(int[] pruned) {
            return accuracyOf(predictions(pruned));
        }

        int changed(int[] pruned) {
            int[] p = predictions(pruned);
            int c = 0;
            for (int i = 0; i < n; i++) {
                c += p[i] != base[i] ? 1 : 0;
            }
            return c;
        }

        double[] randomAccuracies(int k, int draws, Random random) {
            double[] out = new double[draws];
            int width = layer.neurons();
            for (int d = 0; d < draws; d++) {
                int[] perm = IntStream.range(0, width).toArray();
                for (int i = width - 1; i > 0; i--) {
                    int j = random.nextInt(i + 1);
                    int t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                }
                out[d] = accuracy(Arrays.copyOf(perm, k));
            }
            return out;
        }

        private double accuracyOf(int[] preds) {
            int c = 0;
            for (int i = 0; i < n; i++) {
                c += preds[i] == labels[i] ? 1 : 0;
            }
            return (double) c / n;
        }

        static int[] argmax(Tensor logits) {
            float[] a = logits.floats();
            int rows = logits.dim(0);
            int k = a.length / rows;
            int[] out = new int[rows];
            for (int r = 0; r < rows; r++) {
                int best = 0;
                for (int j = 1; j < k; j++) {
                    if (a[r * k + j] > a[r * k + best]) {
                        best = j;
                    }
                }
                out[r] = best;
            }
            return out;
        }

        private static int[] concat(int[] a, int[] b) {
            int[] o = Arrays.copyOf(a, a.length + b.length);
            System.arraycopy(b, 0, o, a.length, b.length);
            return o;
        }
    }
}
