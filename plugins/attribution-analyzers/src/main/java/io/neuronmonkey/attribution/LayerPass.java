package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.NeuronTable;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The pass of {@code integrated-gradients} over a layer ({@link LayerIntegratedGradients}): batch by batch it
 * attributes each selected example's target to the layer's activations, checks completeness (doubling steps where a
 * tolerance asks for it) and folds the attributions at once, so it holds one batch of attributions plus what it
 * keeps. Parts: {@code completeness} and its finding (as over the input), {@code layer-attribution} (per neuron of
 * the layer the mean over examples of its attribution summed over positions, and of its absolute value) and, for
 * text with a layer of token positions, the token parts of {@link TokenAttributions} (each real token's attribution
 * = the sum over the layer's neurons at its position).
 */
final class LayerPass {

    private LayerPass() {
    }

    /**
     * @param ctx   the step's context
     * @param layer the layer attributed to (not the input)
     * @return the result
     */
    static AnalysisResult run(AnalyzerContext<IntegratedGradientsAnalyzer.Params> ctx, LayerInfo layer) {
        IntegratedGradientsAnalyzer.Params p = ctx.params();
        String step = ctx.stepId();
        LoadedModel model = ctx.requireModel();
        Dataset data = ctx.requireData();
        if (!model.supportsGradients() || !model.supportsInterventions()) {
            throw new AnalysisException("step '" + step + "': integrated gradients over layer '" + layer.name() + "' needs"
                    + " gradients and interventions (the path is patched into the layer), and " + model.description()
                    + " lacks " + (model.supportsGradients() ? "interventions" : "gradients") + "; gradient-free methods"
                    + " that work: " + InputAttribution.GRADIENT_FREE);
        }
        Target.Bound target = Target.parse(p.target()).orElseThrow().resolve(model, data.info(), step);
        ExampleFilter examples = new ExampleFilter(data, p.where(), p.limit(), step);
        List<Baseline> baselines = p.parsedBaselines();
        PathRule rule = PathRule.parse(p.rule()).orElseThrow();
        float[] mean = baselines.stream().anyMatch(b -> b.kind() == Baseline.Kind.MEAN)
                ? LayerIntegratedGradients.meanActivation(model, examples, layer, ctx.batchSize()) : null;
        LayerIntegratedGradients lig = new LayerIntegratedGradients(layer.name(), layer, baselines, rule, p.steps(),
                p.internalBatch(), mean);
        IntegratedGradientsAnalyzer.Completeness check = new IntegratedGradientsAnalyzer.Completeness(p.tolerance(), p.maxSteps());
        List<String> classes = AblationAnalyzer.classNames(model, data.info().classNames());
        String explained = InputAttribution.describe(target, classes);
        TokenAttributions tokens = new TokenAttributions(target.layer(), classes, target.fixed() < 0, p.keep(), p.tokens());
        int neurons = layer.neurons();
        int positions = layer.positions();
        double[] sum = new double[neurons];
        double[] sumAbs = new double[neurons];
        long n = 0;
        boolean text = false;
        ctx.progress().start("integrated gradients over " + layer.name(), p.limit());
        for (Iterator<TextAttribution.Indexed> it = TextAttribution.batches(data, examples, p.limit(), ctx.batchSize()); it.hasNext(); ) {
            if (ctx.cancelled()) {
                throw new AnalysisException("step '" + step + "' was cancelled");
            }
            TextAttribution.Indexed ib = it.next();
            Batch b = ib.batch();
            int[] rows = target.rows(model, b, null);
            IntegratedGradients.Outcome out = check.explain(p.steps(),
                    (steps, bb, rr) -> lig.withSteps(steps).explain(model, bb, target, rr), b, rows);
            float[] maps = out.maps().floats();
            for (int e = 0; e < b.size(); e++) {
                for (int c = 0; c < neurons; c++) {
                    double t = 0;
                    for (int q = 0; q < positions; q++) {
                        t += maps[(e * positions + q) * neurons + c];
                    }
                    sum[c] += t;
                    sumAbs[c] += Math.abs(t);
                }
            }
            if (b.isText() && b.positionMask(positions) != null) {
                text = true;
                tokens.accept(b, ib.indices(), rows, TokenAttributions.perToken(maps, b.size(), positions, b), positions, out.sums());
            }
            n += b.size();
            ctx.progress().advance(b.size());
        }
        ctx.progress().finish();
        if (n == 0) {
            throw new AnalysisException("step '" + step + "': no example matches " + examples.describe());
        }
        String notes = "integrated gradients over layer '" + layer.name() + "' (the path patched into its activations),"
                + " baselines " + baselines + " (averaged), " + rule.spec() + " rule, " + p.steps() + " steps"
                + (p.tolerance() == null ? "" : ", doubled up to " + p.maxSteps() + " where the relative completeness"
                + " error exceeds " + p.tolerance());
        AnalysisResult.Builder r = AnalysisResult.builder()
                .put("analyzer", "integrated-gradients")
                .put("method", notes)
                .put("target", target.target().toString())
                .put("targetLayer", target.layer())
                .put("layer", layer.name())
                .put("examples", n)
                .put("selection", examples.describe())
                .put("baselines", baselines.stream().map(Baseline::toString).toList())
                .put("rule", rule.spec())
                .put("steps", p.steps());
        List<String> skipped = new ArrayList<>();
        if (!p.groupBy().isEmpty()) {
            skipped.add("groupBy");
        }
        if (p.roi() != null) {
            skipped.add("roi");
        }
        skipped.add("deletion curves");
        skipped.add("parameter randomization");
        r.put("notComputedOverALayer", skipped);
        float[] m = new float[neurons];
        float[] a = new float[neurons];
        for (int c = 0; c < neurons; c++) {
            m[c] = (float) (sum[c] / n);
            a[c] = (float) (sumAbs[c] / n);
        }
        r.part(new NeuronTable("layer-attribution", "attribution of " + explained + " to " + layer.name(), layer.name(),
                neurons, List.of(NeuronTable.Column.of("mean", "attribution", m), NeuronTable.Column.of("meanAbs", "attribution", a)),
                List.of(), "per neuron of " + layer.name() + " its attribution summed over positions: mean over the " + n
                + " examples and mean absolute value; " + notes));
        check.finish(r);
        if (text) {
            tokens.finish(r, layer.name(), "integrated gradients of " + explained + " at " + layer.name(),
                    "the sum of the example's token attributions (= F(x) - F(baseline) by completeness)");
        }
        return r.build();
    }
}
