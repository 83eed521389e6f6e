package io.neuronmonkey.attribution;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Integrated gradients from one or several baselines, with a choice of quadrature rule, checked by completeness:
 * per example {@code |sum(attr) - (F(x) - F(baseline))| / max(|F(x) - F(baseline)|, 1e-6)}. With a tolerance, the
 * examples that miss it are recomputed with doubled steps up to {@code maxSteps}, each keeping the steps it used.
 * Writes the shared input-attribution parts ({@link InputAttribution}) and the matrix {@code completeness}
 * (example x [sum, delta, relativeError, steps]) with a finding {@code completeness}. With {@code layer:} the
 * attribution goes to that layer's activations instead ({@link LayerIntegratedGradients}, {@link LayerPass}): the
 * way to attribute a text model's output to its tokens ({@code layer: embedding}).
 */
@Extension
@ExtensionName(value = "integrated-gradients",
        description = "Integrated gradients (baselines zero, constant, blur, mean, noise; Riemann, trapezoid or Gauss-Legendre"
                + " steps) checked by completeness, region shares, deletion curves and parameter randomization; over a layer"
                + " (e.g. the embedding of a text model: per-token attributions as highlighted text)")
public final class IntegratedGradientsAnalyzer implements Analyzer<IntegratedGradientsAnalyzer.Params> {

    /** Relative completeness error reported as a warning when no tolerance is set. */
    static final double DEFAULT_TOLERANCE = 0.01;
    /** Worst examples named by the completeness warning. */
    static final int WORST = 5;

    /**
     * Params of integrated-gradients.
     *
     * @param target           what is explained
     * @param where            metadata filter
     * @param limit            the most examples
     * @param baselines        baselines, averaged
     * @param rule             quadrature rule
     * @param steps            points per path
     * @param tolerance        relative completeness error to reach by doubling steps; null: no doubling
     * @param maxSteps         the most steps doubling may reach
     * @param internalBatch    the most interpolation rows per gradient call
     * @param keep             maps kept with their inputs
     * @param groupBy          metadata keys of per-group mean maps
     * @param roi              region {@code [top, left, bottom, right]}, or null
     * @param deletion         deletion and insertion curves
     * @param deletionSteps    fractions of pixels
     * @param deletionExamples examples of the curves
     * @param randomOrders     random orders compared
     * @param sanity           model-parameter randomization check
     * @param sanityExamples   examples of the check
     * @param layer            the layer attributed to; null: the input
     * @param tokens           tokens listed per token ranking (text over a layer)
     */
    public record Params(
            @Param(defaultValue = "predicted", description = "what is explained: " + Target.FORMS) String target,
            @Param(description = "metadata filter of the examples, key: value (class: NAME for the label; !v for every value but v)") Map<String, String> where,
            @Param(defaultValue = "256", description = "the most examples explained, >= 1") int limit,
            @Param(defaultValue = "[zero]", description = "baselines, averaged: " + Baseline.FORMS) List<String> baselines,
            @Param(defaultValue = "gauss-legendre", description = "quadrature rule over the path: " + PathRule.FORMS) String rule,
            @Param(defaultValue = "64", description = "points per path (gradient evaluations per example and baseline), 1..100000") int steps,
            @Param(description = "relative completeness error to reach, e.g. 0.01: examples that miss it are recomputed with doubled steps; leave out for none") Double tolerance,
            @Param(defaultValue = "1024", description = "the most steps doubling may reach, >= steps") int maxSteps,
            @Param(defaultValue = "1024", description = "the most interpolation rows per gradient call (bounds memory), 1..1048576") int internalBatch,
            @Param(defaultValue = "16", description = "maps kept with their inputs in the part 'maps', 0..10000") int keep,
            @Param(description = "metadata keys: one mean |map| per value (parts group-mean-<key>)") List<String> groupBy,
            @Param(description = "region [top, left, bottom, right] (inclusive pixel rows and columns): share of positive attribution inside it") List<Integer> roi,
            @Param(defaultValue = "true", description = "deletion and insertion curves against random pixel orders") boolean deletion,
            @Param(defaultValue = "16", description = "fractions of pixels of the curves (besides 0), 1..1000") int deletionSteps,
            @Param(defaultValue = "64", description = "examples the curves are drawn on (the first ones), >= 1") int deletionExamples,
            @Param(defaultValue = "5", description = "seeded random pixel orders compared with the attribution order, 1..100") int randomOrders,
            @Param(defaultValue = "true", description = "model-parameter randomization check (needs a backend that can randomize)") boolean sanity,
            @Param(defaultValue = "16", description = "examples the randomization check recomputes, 1..10000") int sanityExamples,
            @Param(description = "attribute to this layer's output instead of the input (e.g. embedding of a text model, conv1 of an image model): the path runs in its activation space, fed by patching the layer; baselines zero, constant:V or mean; leave out for the input") String layer,
            @Param(defaultValue = "30", description = "tokens listed in each token ranking (text data with a layer of token positions), 1..10000") int tokens) {

        /** Checks every field. */
        public Params {
            where = InputAttribution.Options.strings(where);
            baselines = baselines == null ? List.of("zero") : List.copyOf(baselines);
            groupBy = groupBy == null ? List.of() : List.copyOf(groupBy);
            roi = roi == null ? null : List.copyOf(roi);
            List<String> bad = baselines.stream().filter(b -> Baseline.parse(b).isEmpty()).toList();
            java.util.Optional<PathRule> r = PathRule.parse(rule);
            InputAttribution.Options.check(Violations.check(), target, where, limit, keep, groupBy, roi, deletionSteps,
                            deletionExamples, randomOrders, sanityExamples, internalBatch)
                    .require(!baselines.isEmpty(), "baselines", "must list at least one of " + Baseline.FORMS)
                    .require(bad.isEmpty(), "baselines", "each must be one of " + Baseline.FORMS + ", found " + bad)
                    .require(r.isPresent(), "rule", "must be one of " + PathRule.FORMS + ", found '" + rule + "'")
                    .require(steps >= 1 && steps <= 100_000, "steps", "must be between 1 and 100000, found " + steps)
                    .require(r.orElse(null) != PathRule.TRAPEZOID || steps >= 2, "steps", "the trapezoid rule needs at least 2 steps, found " + steps)
                    .require(tolerance == null || tolerance > 0 && tolerance < 1e6, "tolerance", "must be a positive relative error (e.g. 0.01), or be left out; found " + tolerance)
                    .require(maxSteps >= steps && maxSteps <= 100_000, "maxSteps", "must be between steps (" + steps + ") and 100000, found " + maxSteps)
                    .require(layer == null || !layer.isBlank(), "layer", "must name a layer of the model, or be left out for the input")
                    .require(layer == null || baselines.stream().map(Baseline::parse).allMatch(b -> b.isEmpty() || LayerIntegratedGradients.supports(b.get())),
                            "baselines", "over a layer each must be one of " + LayerIntegratedGradients.FORMS + ", found " + baselines)
                    .require(tokens >= 1 && tokens <= 10_000, "tokens", "must be between 1 and 10000, found " + tokens)
                    .throwIfAny();
        }


        /** @return the settings every input attribution shares */
        InputAttribution.Options options() {
            return new InputAttribution.Options(target, where, limit, keep, groupBy, roi, deletion, deletionSteps,
                    deletionExamples, randomOrders, sanity, sanityExamples, internalBatch);
        }

        /** @return the baselines, parsed */
        List<Baseline> parsedBaselines() {
            return baselines.stream().map(b -> Baseline.parse(b).orElseThrow()).toList();
        }
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        if (p.layer() != null) {
            LoadedModel model = ctx.requireModel();
            LayerInfo l = model.layer(p.layer()).orElseThrow(() -> new AnalysisException("step '" + ctx.stepId() + "': layer '"
                    + p.layer() + "' is not a layer of the model; layers: " + String.join(", ", model.layers().stream()
                    .map(LayerInfo::name).toList())));
            if (l.role() != LayerInfo.Role.INPUT) {
                return LayerPass.run(ctx, l);
            }
        }
        InputAttribution.Options o = p.options();
        List<Baseline> baselines = p.parsedBaselines();
        PathRule rule = PathRule.parse(p.rule()).orElseThrow();
        IntegratedGradients probe = new IntegratedGradients(baselines, rule, p.steps(), p.internalBatch(), null, ctx.seed());
        InputAttribution.Setup s = InputAttribution.Setup.of(ctx, o, probe);
        float[] mean = baselines.stream().anyMatch(b -> b.kind() == Baseline.Kind.MEAN) ? s.meanInput(ctx.batchSize()) : null;
        IntegratedGradients ig = new IntegratedGradients(baselines, rule, p.steps(), p.internalBatch(), mean, ctx.seed());
        Completeness check = new Completeness(p.tolerance(), p.maxSteps());
        String notes = "integrated gradients, baselines " + baselines + " (averaged), " + rule.spec() + " rule, "
                + p.steps() + " steps" + (p.tolerance() == null ? "" : ", doubled up to " + p.maxSteps() + " where the relative"
                + " completeness error exceeds " + p.tolerance());
        InputAttribution.Reference reference = b -> Baseline.inputs(List.of(baselines.get(0)), b, mean, ctx.seed()).get(0);
        AnalysisResult.Builder r = InputAttribution.run("integrated-gradients", ctx, s, o, ig,
                (model, batch, target, rows) -> check.explain(ig, model, batch, target, rows), reference, notes);
        r.put("baselines", baselines.stream().map(Baseline::toString).toList())
                .put("rule", rule.spec())
                .put("steps", p.steps())
                .put("deletionBaseline", baselines.get(0).toString());
        check.finish(r);
        return r.build();
    }

    /** Completeness per example, folded batch by batch, with the doubling of steps. */
    static final class Completeness {
        private final Double tolerance;
        private final int maxSteps;
        private final List<String> ids = new ArrayList<>();
        private final List<double[]> rows = new ArrayList<>();

        Completeness(Double tolerance, int maxSteps) {
            this.tolerance = tolerance;
            this.maxSteps = maxSteps;
        }

        Tensor explain(IntegratedGradients ig, LoadedModel model, Batch batch, Target.Bound target, int[] targetRows) {
            return explain(ig.steps(), (steps, b, rows) -> ig.withSteps(steps).explain(model, b, target, rows), batch,
                    targetRows).maps();
        }

        /** Integrated gradients of a batch with a number of steps. */
        interface Stepped {
            /**
             * @param steps points per path
             * @param batch the examples
             * @param rows  each example's neuron
             * @return the outcome
             */
            IntegratedGradients.Outcome explain(int steps, Batch batch, int[] rows);
        }

        /**
         * @param first      the steps of the first try
         * @param ig         the method
         * @param batch      the examples
         * @param targetRows each example's neuron
         * @return the outcome, examples that missed the tolerance recomputed with doubled steps
         */
        IntegratedGradients.Outcome explain(int first, Stepped ig, Batch batch, int[] targetRows) {
            IntegratedGradients.Outcome out = ig.explain(first, batch, targetRows);
            int n = batch.size();
            int rs = out.maps().rowSize();
            float[] maps = out.maps().floats();
            double[] sums = out.sums().clone();
            double[] delta = out.delta().clone();
            double[] error = out.errors();
            int[] steps = new int[n];
            Arrays.fill(steps, first);
            if (tolerance != null) {
                int current = first;
                while (current * 2 <= maxSteps) {
                    int[] missing = IntStream.range(0, n).filter(e -> error[e] > tolerance).toArray();
                    if (missing.length == 0) {
                        break;
                    }
                    current *= 2;
                    Batch sub = batch.select(missing);
                    int[] subRows = Arrays.stream(missing).map(e -> targetRows[e]).toArray();
                    IntegratedGradients.Outcome again = ig.explain(current, sub, subRows);
                    double[] againError = again.errors();
                    for (int i = 0; i < missing.length; i++) {
                        int e = missing[i];
                        System.arraycopy(again.maps().floats(), i * rs, maps, e * rs, rs);
                        sums[e] = again.sums()[i];
                        delta[e] = again.delta()[i];
                        error[e] = againError[i];
                        steps[e] = current;
                    }
                }
            }
            for (int e = 0; e < n; e++) {
                ids.add(batch.ids().get(e));
                rows.add(new double[] {sums[e], delta[e], error[e], steps[e]});
            }
            return new IntegratedGradients.Outcome(Tensor.ofFloats(maps, out.maps().shape()), sums, delta);
        }

        void finish(AnalysisResult.Builder r) {
            int n = ids.size();
            float[] v = new float[n * 4];
            double sum = 0;
            double max = 0;
            double limit = tolerance == null ? DEFAULT_TOLERANCE : tolerance;
            List<Integer> over = new ArrayList<>();
            for (int e = 0; e < n; e++) {
                double[] row = rows.get(e);
                for (int c = 0; c < 4; c++) {
                    v[e * 4 + c] = (float) row[c];
                }
                sum += row[2];
                max = Math.max(max, row[2]);
                if (row[2] > limit) {
                    over.add(e);
                }
            }
            r.part(new Matrix("completeness", "completeness: sum of attributions against F(x) - F(baseline)",
                    Matrix.Axis.of("example", ids), Matrix.Axis.of("measure", List.of("sum", "delta", "relativeError", "steps")),
                    NdArray.of(Tensor.ofFloats(v, n, 4), "example", "measure"), "", null,
                    "sum: sum of the example's attributions; delta: F(x) - F(baseline) (the target at the input minus its mean"
                            + " over the baselines); relativeError: |sum - delta| / max(|delta|, 1e-6); steps: the steps the"
                            + " example used"));
            r.put("completeness", AttributionChecks.summary("meanRelativeError", sum / n, "maxRelativeError", max,
                    "tolerance", limit, "toleranceSet", tolerance != null, "overTolerance", over.size()));
            String worst = String.join(", ", over.stream().sorted(Comparator.comparingDouble((Integer e) -> -rows.get(e)[2]))
                    .limit(WORST).map(e -> ids.get(e) + " (" + AttributionChecks.percent(rows.get(e)[2]) + ")").toList());
            Finding.Strength strength = new Finding.Strength("max relative completeness error", max, null, null);
            if (over.isEmpty()) {
                r.finding(new Finding("completeness", Finding.Severity.INFO, "completeness held for all " + n + " examples (worst "
                        + AttributionChecks.percent(max) + ", mean " + AttributionChecks.percent(sum / n) + ")", strength,
                        List.of(), List.of("completeness")));
            } else {
                r.finding(new Finding("completeness", Finding.Severity.WARNING, over.size() + " of " + n + " examples miss"
                        + " completeness by more than " + AttributionChecks.percent(limit) + (tolerance != null
                        ? " even with up to " + maxSteps + " steps" : "") + "; worst: " + worst + " (more steps, another rule"
                        + (tolerance == null ? " or a tolerance" : "") + " would help)", strength, List.of(), List.of("completeness")));
            }
        }
    }
}
