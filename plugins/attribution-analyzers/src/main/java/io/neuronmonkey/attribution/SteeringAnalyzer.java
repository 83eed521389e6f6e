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
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * What if a layer moved along a direction? Adds {@code scale * direction} to one layer (at every position of a
 * spatial layer) for each scale and follows, per class, the mean probability and the share of examples predicted.
 * The direction is the difference of the mean activations of two groups of examples ({@code from} and {@code to},
 * metadata filters in the {@code where} form; per neuron, averaged over positions), or a vector read from a
 * {@code .npy} file with one value per neuron. Every scale runs in the same model execution: the batch is repeated
 * once per scale ({@link Intervention#forRows}), up to {@code internalBatch} rows per run.
 */
@Extension
@ExtensionName(value = "steering",
        description = "Adds a scaled direction (mean difference of two example groups, or a .npy vector) to a layer: per class probability and share predicted as the scale sweeps")
public final class SteeringAnalyzer implements Analyzer<SteeringAnalyzer.Params> {

    /** Change of a class's share predicted (at the reported scale) from which the finding is notable. */
    static final double NOTABLE_SHARE_CHANGE = 0.05;

    /**
     * Params of steering.
     *
     * @param layer         the layer steered
     * @param from          the group the direction starts at (metadata filter)
     * @param to            the group it points to
     * @param direction     a {@code .npy} file with one value per neuron, instead of from/to
     * @param scales        multiples of the direction added
     * @param where         metadata filter of the examples steered
     * @param limit         the most examples steered
     * @param internalBatch rows per model run (scales times examples)
     */
    public record Params(
            @Param(description = "the layer steered") String layer,
            @Param(description = "metadata filter of the group the direction starts at, e.g. {watermark: off}") Map<String, String> from,
            @Param(description = "metadata filter of the group it points to, e.g. {watermark: on}") Map<String, String> to,
            @Param(description = ".npy file (float32 or float64) with one value per neuron of the layer, instead of from/to") String direction,
            @Param(defaultValue = "[-2, -1, -0.5, 0, 0.5, 1, 2]", description = "multiples of the direction added, distinct") List<Double> scales,
            @Param(description = "metadata filter of the examples steered, e.g. {class: '!square'}") Map<String, String> where,
            @Param(defaultValue = "1000", description = "the most examples steered, >= 1") long limit,
            @Param(defaultValue = "4096", description = "rows per model run (scales times examples), 1..1000000") int internalBatch) {

        /** Checks every field. */
        public Params {
            boolean groups = from != null || to != null;
            from = from == null ? null : RowBlocks.strings(from);
            to = to == null ? null : RowBlocks.strings(to);
            where = RowBlocks.strings(where);
            scales = scales == null ? List.of() : List.copyOf(scales);
            Violations.check()
                    .require(layer != null && !layer.isBlank(), "layer", "must name the layer steered")
                    .require(groups != (direction != null), "direction", "give either 'from' and 'to' (two metadata filters) or 'direction' (a .npy file), not both")
                    .require(!groups || from != null && to != null, groups && from == null ? "from" : "to", "'from' and 'to' come together")
                    .require(direction == null || !direction.isBlank(), "direction", "must be a path to a .npy file")
                    .require(!scales.isEmpty(), "scales", "must list at least one scale")
                    .require(scales.stream().allMatch(Double::isFinite), "scales", "must be finite, found " + scales)
                    .require(scales.stream().distinct().count() == scales.size(), "scales", "must not repeat a scale, found " + scales)
                    .require(limit >= 1, "limit", "must be >= 1, found " + limit)
                    .require(internalBatch >= 1 && internalBatch <= 1_000_000, "internalBatch", "must be between 1 and 1000000, found " + internalBatch)
                    .throwIfAny();
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
            throw new AnalysisException("step '" + step + "': steering needs interventions, and the model (" + model.description() + ") has none");
        }
        int neurons = layer.neurons();
        float[] dir;
        String source;
        long[] groupSizes = null;
        if (p.direction() != null) {
            dir = NpyVector.read(ctx.resolve(p.direction()));
            if (dir.length != neurons) {
                throw new AnalysisException("step '" + step + "': direction " + p.direction() + " has " + dir.length
                        + " values, layer '" + layer.name() + "' has " + neurons + " neurons");
            }
            source = "direction " + p.direction();
        } else {
            double[] a = new double[neurons];
            double[] b = new double[neurons];
            groupSizes = new long[] {groupMean(model, data, p.from(), layer.name(), ctx.batchSize(), step, a),
                    groupMean(model, data, p.to(), layer.name(), ctx.batchSize(), step, b)};
            dir = new float[neurons];
            for (int j = 0; j < neurons; j++) {
                dir[j] = (float) (b[j] - a[j]);
            }
            source = RowBlocks.describe(p.from()) + " -> " + RowBlocks.describe(p.to()) + " direction";
        }
        List<String> classes = AblationAnalyzer.classNames(model, data.info().classNames());
        int k = classes.size();
        List<Double> scales = p.scales();
        int s = scales.size();
        // per variant (0: plain run, then one per scale) and class: summed probability and predictions
        double[][] prob = new double[s + 1][k];
        long[][] predicted = new long[s + 1][k];
        long n = 0;
        ExampleFilter examples = new ExampleFilter(data, p.where(), p.limit(), step);
        String logits = model.logitsLayer();
        double[] pr = new double[k];
        int perBatch = Math.max(1, Math.min(ctx.batchSize(), p.internalBatch()));
        ctx.progress().start("steering: examples", -1);
        for (Iterator<Batch> it = examples.batches(perBatch); it.hasNext(); ) {
            Batch batch = it.next();
            int m = batch.size();
            ctx.progress().advance(m);
            count(model.run(batch.modelInputs(), List.of(logits), List.of()).get(logits).floats(), 0, m, k, prob[0], predicted[0], pr);
            int perRun = Math.max(1, p.internalBatch() / m);
            for (int first = 0; first < s; first += perRun) {
                int g = Math.min(perRun, s - first);
                List<Intervention> ivs = new ArrayList<>();
                for (int i = 0; i < g; i++) {
                    ivs.add(Intervention.steer(layer.name(), scaled(dir, scales.get(first + i))).forRows(RowBlocks.rows(i, m)));
                }
                float[] out = model.run(TextAttribution.repeat(batch.modelInputs(), g), List.of(logits), ivs).get(logits).floats();
                for (int i = 0; i < g; i++) {
                    count(out, i * m, m, k, prob[first + i + 1], predicted[first + i + 1], pr);
                }
            }
            n += m;
        }
        if (n == 0) {
            throw new AnalysisException("step '" + step + "': no example matches " + examples.describe());
        }
        return result(p, layer.name(), dir, source, groupSizes, classes, prob, predicted, n, examples);
    }

    static float[] scaled(float[] dir, double scale) {
        float[] v = new float[dir.length];
        for (int j = 0; j < v.length; j++) {
            v[j] = (float) (scale * dir[j]);
        }
        return v;
    }

    private static void count(float[] logits, int from, int m, int k, double[] prob, long[] predicted, double[] pr) {
        for (int r = from; r < from + m; r++) {
            RowBlocks.softmax(logits, r, k, pr);
            for (int c = 0; c < k; c++) {
                prob[c] += pr[c];
            }
            predicted[RowBlocks.argmax(logits, r, k)]++;
        }
    }

    /**
     * Per neuron mean (over the group's examples and the layer's positions, for text its real tokens) of the examples
     * matching a filter.
     *
     * @return the group's size
     */
    static long groupMean(LoadedModel model, Dataset data, Map<String, String> filter, String layer, int batchSize,
                          String step, double[] out) {
        long n = 0;
        long observed = 0;
        int neurons = out.length;
        for (Iterator<Batch> it = new ExampleFilter(data, filter, Long.MAX_VALUE, step).batches(batchSize); it.hasNext(); ) {
            Batch b = it.next();
            observed += TextAttribution.addPositions(model.run(b.modelInputs(), List.of(layer), List.of()).get(layer), b, out);
            n += b.size();
        }
        if (n == 0) {
            throw new AnalysisException("step '" + step + "': no example of the data matches " + RowBlocks.describe(filter)
                    + ", so the steering direction is undefined");
        }
        for (int j = 0; j < neurons; j++) {
            out[j] /= Math.max(1, observed);
        }
        return n;
    }

    private static AnalysisResult result(Params p, String layer, float[] dir, String source, long[] groupSizes,
                                         List<String> classes, double[][] prob, long[][] predicted, long n, ExampleFilter examples) {
        AnalysisResult.Builder r = AnalysisResult.builder();
        List<Double> scales = p.scales();
        int s = scales.size();
        int k = classes.size();
        double norm = 0;
        for (float v : dir) {
            norm += (double) v * v;
        }
        r.put("analyzer", "steering");
        r.put("layer", layer);
        r.put("direction", source);
        r.put("directionDefinition", p.direction() != null ? "read from the file" : "mean activation of the 'to' group minus that of the "
                + "'from' group, per neuron, spatial layers averaged over positions; added at every position");
        if (groupSizes != null) {
            r.put("fromExamples", groupSizes[0]);
            r.put("toExamples", groupSizes[1]);
        }
        r.put("directionNorm", Math.sqrt(norm));
        r.put("scales", scales);
        r.put("examples", n);
        r.put("selection", examples.describe());
        r.put("probability", "softmax of the logits, averaged over the examples");
        List<Double> plain = new ArrayList<>();
        for (int c = 0; c < k; c++) {
            plain.add(prob[0][c] / n);
        }
        r.put("plainMeanProbability", plain);
        float[] x = new float[s];
        for (int i = 0; i < s; i++) {
            x[i] = scales.get(i).floatValue();
        }
        List<Series.Curve> probCurves = new ArrayList<>();
        List<Series.Curve> shareCurves = new ArrayList<>();
        for (int c = 0; c < k; c++) {
            float[] py = new float[s];
            float[] sy = new float[s];
            for (int i = 0; i < s; i++) {
                py[i] = (float) (prob[i + 1][c] / n);
                sy[i] = (float) ((double) predicted[i + 1][c] / n);
            }
            probCurves.add(Series.Curve.of(classes.get(c), x.clone(), py));
            shareCurves.add(Series.Curve.of(classes.get(c), x.clone(), sy));
        }
        String how = "adding scale x (" + source + ") to " + layer + " on " + n + " examples (" + RowBlocks.selection(examples) + ")";
        r.part(new Series("steering", "mean probability per class as " + layer + " is steered", "scale", "mean probability",
                probCurves, how));
        r.part(new Series("steering-predictions", "share predicted per class as " + layer + " is steered", "scale",
                "share predicted", shareCurves, how));
        r.part(new NeuronTable(RowBlocks.idOf(layer) + "-steering-direction", "steering direction of " + layer, layer, dir.length,
                List.of(NeuronTable.Column.of("direction", "activation", dir.clone())), List.of(), source));
        // the reported scale: 1 when swept, else the largest
        int at = scales.indexOf(1.0);
        if (at < 0) {
            at = 0;
            for (int i = 1; i < s; i++) {
                at = scales.get(i) > scales.get(at) ? i : at;
            }
        }
        int best = 0;
        double bestChange = -1;
        for (int c = 0; c < k; c++) {
            double change = Math.abs((double) (predicted[at + 1][c] - predicted[0][c]) / n);
            if (change > bestChange) {
                bestChange = change;
                best = c;
            }
        }
        double before = (double) predicted[0][best] / n;
        double after = (double) predicted[at + 1][best] / n;
        String verb = after > before ? "raises" : after < before ? "lowers" : "leaves";
        String claim = "adding the " + source + " of " + layer + " at scale " + RowBlocks.fmt(scales.get(at)) + " " + verb
                + " the share predicted '" + classes.get(best) + "' on " + n + " examples (" + RowBlocks.selection(examples) + ")"
                + (after == before ? " at " + RowBlocks.fmt(before) : " from " + RowBlocks.fmt(before) + " to " + RowBlocks.fmt(after));
        r.finding(new Finding("steering", bestChange >= NOTABLE_SHARE_CHANGE ? Finding.Severity.NOTABLE : Finding.Severity.INFO,
                claim, new Finding.Strength("change of the share predicted '" + classes.get(best) + "'", after - before, null, null),
                List.of(), List.of("steering-predictions", "steering")));
        return r.build();
    }
}
