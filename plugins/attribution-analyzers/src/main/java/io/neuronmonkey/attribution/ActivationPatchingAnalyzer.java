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
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Which activations carry the difference between two inputs? Pairs each example of the step's data (the run, e.g.
 * watermarked images) with one of a second data set (the source, e.g. the same images without the watermark) by
 * example id or position, captures the source's activations, and patches them into the run: the whole layer, and
 * each neuron (channel, every position) alone. For the target value {@code F} (by default the logit of the class the
 * source is predicted as), a patch restores
 * <pre>restored = (F(patched) - F(run)) / (F(source) - F(run))</pre>
 * averaged over the pairs with {@code |F(source) - F(run)| > minDifference}; and it flips the prediction of a pair
 * whose run and source predictions differ when the patched run is predicted as the source. Many patches run in one
 * model execution: the run batch is repeated once per patch, each copy with its own
 * {@link Intervention#patch}{@code .forRows}, up to {@code internalBatch} rows per run. Memory: the inputs of the
 * selected pairs (at most {@code limit} of each data set) and one batch of source activations.
 */
@Extension
@ExtensionName(value = "activation-patching",
        description = "Patches a second data set's activations (whole layers and single neurons) into paired examples: share of the output difference restored, predictions flipped")
public final class ActivationPatchingAnalyzer implements Analyzer<ActivationPatchingAnalyzer.Params> {

    /** How run and source examples are paired. */
    public enum PairBy {
        /** the same example id */
        ID,
        /** the same position in the data set */
        INDEX
    }

    /**
     * Params of activation-patching.
     *
     * @param source        the data set (under {@code data:}) whose activations are patched in
     * @param pairBy        id or index
     * @param target        the value compared, or null for the logit of the source's predicted class
     * @param neurons       neurons patched one at a time in every layer; null: every neuron
     * @param minDifference pairs with a smaller |F(source) - F(run)| do not count for the restored fraction
     * @param where         metadata filter of the run examples
     * @param limit         the most pairs
     * @param internalBatch rows per model run (patches times pairs)
     */
    public record Params(
            @Param(description = "name of the experiment's data set whose activations are patched into the step's data") String source,
            @Param(defaultValue = "id", description = "pair examples by id or by index (position in the data set)") PairBy pairBy,
            @Param(description = "the value compared: " + Target.FORMS + " (predicted: the run's prediction); "
                    + "default: the logit of the class the source example is predicted as") String target,
            @Param(description = "neurons patched one at a time in every layer, e.g. [4, 6]; default: every neuron") List<Integer> neurons,
            @Param(defaultValue = "0.1", description = "pairs whose target differs by at most this much between source and run "
                    + "do not count for the restored fraction, >= 0") double minDifference,
            @Param(description = "metadata filter of the run examples, e.g. {class: square}") Map<String, String> where,
            @Param(defaultValue = "400", description = "the most pairs, >= 1") long limit,
            @Param(defaultValue = "4096", description = "rows per model run (patches times pairs), 1..1000000") int internalBatch) {

        /** Checks every field. */
        public Params {
            where = RowBlocks.strings(where);
            neurons = neurons == null ? null : List.copyOf(neurons);
            Violations.check()
                    .require(source != null && !source.isBlank(), "source", "must name a data set of the experiment")
                    .require(pairBy != null, "pairBy", "must be id or index")
                    .require(target == null || Target.parse(target).isPresent(), "target", target == null ? "" : Target.problem(target, "target"))
                    .require(neurons == null || !neurons.isEmpty(), "neurons", "must list at least one neuron, or be left out")
                    .require(neurons == null || neurons.stream().allMatch(j -> j >= 0), "neurons", "must be >= 0, found " + neurons)
                    .require(neurons == null || new LinkedHashSet<>(neurons).size() == neurons.size(), "neurons", "must not repeat a neuron, found " + neurons)
                    .require(minDifference >= 0 && Double.isFinite(minDifference), "minDifference", "must be finite and >= 0, found " + minDifference)
                    .require(limit >= 1, "limit", "must be >= 1, found " + limit)
                    .require(internalBatch >= 1 && internalBatch <= 1_000_000, "internalBatch", "must be between 1 and 1000000, found " + internalBatch)
                    .throwIfAny();
        }
    }

    /** One patch: a whole layer ({@code neuron} -1) or one neuron of it. */
    record Patch(int layer, int neuron) {
    }

    /** Sums of one patch over the pairs. */
    static final class Sums {
        long counted;
        double restored;
        double restoredSq;
        long differing;
        long flipped;
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;

        double mean() {
            return counted == 0 ? Double.NaN : restored / counted;
        }

        double flippedShare() {
            return differing == 0 ? Double.NaN : (double) flipped / differing;
        }
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        String step = ctx.stepId();
        LoadedModel model = ctx.requireModel();
        Dataset run = ctx.requireData();
        Dataset source = ctx.dataset(p.source()).orElseThrow(() -> new AnalysisException("step '" + step + "': 'source' names data set '"
                + p.source() + "', which the experiment does not have; data sets: " + String.join(", ", ctx.datasetNames())));
        if (!model.supportsInterventions()) {
            throw new AnalysisException("step '" + step + "': activation patching needs interventions, and the model ("
                    + model.description() + ") has none");
        }
        List<LayerInfo> layers = ctx.layers();
        if (layers.isEmpty()) {
            throw new AnalysisException("step '" + step + "': give the layers to patch, e.g. 'layers: [conv2, dense1]'");
        }
        List<Patch> patches = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            int count = layers.get(l).neurons();
            patches.add(new Patch(l, -1));
            if (p.neurons() == null) {
                for (int j = 0; j < count; j++) {
                    patches.add(new Patch(l, j));
                }
            } else {
                for (int j : p.neurons()) {
                    if (j >= count) {
                        throw new AnalysisException("step '" + step + "': neuron " + j + " in 'neurons' is outside layer '"
                                + layers.get(l).name() + "' (0.." + (count - 1) + ")");
                    }
                    patches.add(new Patch(l, j));
                }
            }
        }
        Target.Bound target = p.target() == null ? null : Target.parse(p.target()).orElseThrow().resolve(model, run.info(), step);
        String targetLayer = target == null ? model.logitsLayer() : target.layer();
        int targetNeurons = model.layer(targetLayer).map(LayerInfo::neurons).orElseThrow();
        String logits = model.logitsLayer();

        ExampleFilter examples = new ExampleFilter(run, p.where(), p.limit(), step);
        List<Batch> runs = new ArrayList<>();
        examples.batches(Math.max(1, Math.min(ctx.batchSize(), p.internalBatch()))).forEachRemaining(runs::add);
        if (runs.isEmpty()) {
            throw new AnalysisException("step '" + step + "': no example matches " + examples.describe());
        }
        Map<String, ModelInputs> pairs = sourceRows(run, source, runs, p, ctx.batchSize(), step, ctx.dataName().orElse("the step's data"));

        LinkedHashSet<String> captureSource = new LinkedHashSet<>();
        layers.forEach(l -> captureSource.add(l.name()));
        captureSource.add(logits);
        captureSource.add(targetLayer);
        LinkedHashSet<String> capture = new LinkedHashSet<>(List.of(logits, targetLayer));
        Sums[] sums = new Sums[patches.size()];
        for (int i = 0; i < sums.length; i++) {
            sums[i] = new Sums();
        }
        long n = 0;
        long counted = 0;
        long differing = 0;
        ctx.progress().start("activation patching: " + patches.size() + " patches, pairs", runs.stream().mapToLong(Batch::size).sum());
        for (Batch b : runs) {
            int m = b.size();
            ctx.progress().advance(m);
            ModelInputs src = sourceBatch(b, pairs);
            Map<String, Tensor> atSource = model.run(src, captureSource, List.of());
            Map<String, Tensor> atRun = model.run(b.modelInputs(), capture, List.of());
            int classes = atRun.get(logits).rowSize();
            int[] predRun = new int[m];
            int[] predSrc = new int[m];
            for (int r = 0; r < m; r++) {
                predRun[r] = RowBlocks.argmax(atRun.get(logits).floats(), r, classes);
                predSrc[r] = RowBlocks.argmax(atSource.get(logits).floats(), r, classes);
            }
            int[] rows = target == null ? predSrc.clone() : target.rows(model, b, atRun.get(targetLayer));
            float[] fRun = values(atRun.get(targetLayer), rows, targetNeurons, 0);
            float[] fSrc = values(atSource.get(targetLayer), rows, targetNeurons, 0);
            for (int r = 0; r < m; r++) {
                counted += Math.abs(fSrc[r] - fRun[r]) > p.minDifference() ? 1 : 0;
                differing += predRun[r] != predSrc[r] ? 1 : 0;
            }
            int perRun = Math.max(1, p.internalBatch() / m);
            for (int first = 0; first < patches.size(); first += perRun) {
                int g = Math.min(perRun, patches.size() - first);
                List<Intervention> ivs = new ArrayList<>();
                for (int i = 0; i < g; i++) {
                    Patch patch = patches.get(first + i);
                    String layer = layers.get(patch.layer()).name();
                    int[] which = patch.neuron() < 0 ? new int[0] : new int[] {patch.neuron()};
                    ivs.add(Intervention.patch(layer, atSource.get(layer), which).forRows(RowBlocks.rows(i, m)));
                }
                Map<String, Tensor> out = model.run(TextAttribution.repeat(b.modelInputs(), g), capture, ivs);
                float[] l = out.get(logits).floats();
                for (int i = 0; i < g; i++) {
                    Sums s = sums[first + i];
                    float[] f = values(out.get(targetLayer), rows, targetNeurons, i * m);
                    for (int r = 0; r < m; r++) {
                        double diff = fSrc[r] - fRun[r];
                        if (Math.abs(diff) > p.minDifference()) {
                            double restored = (f[r] - fRun[r]) / diff;
                            s.counted++;
                            s.restored += restored;
                            s.restoredSq += restored * restored;
                            s.min = Math.min(s.min, restored);
                            s.max = Math.max(s.max, restored);
                        }
                        if (predRun[r] != predSrc[r]) {
                            s.differing++;
                            s.flipped += RowBlocks.argmax(l, i * m + r, classes) == predSrc[r] ? 1 : 0;
                        }
                    }
                }
            }
            n += m;
        }
        return result(p, ctx.dataName().orElse("the step's data"), layers, patches, sums, n, counted, differing, examples,
                targetDescription(p, model, run));
    }

    /** @return the value of each row's target neuron (summed over positions), rows {@code from..from+rows.length} */
    private static float[] values(Tensor t, int[] rows, int neurons, int from) {
        float[] per = Values.perNeuron(t);
        float[] out = new float[rows.length];
        for (int r = 0; r < rows.length; r++) {
            out[r] = per[(from + r) * neurons + rows[r]];
        }
        return out;
    }

    private static String targetDescription(Params p, LoadedModel model, Dataset run) {
        if (p.target() == null) {
            return "logit of the source's predicted class";
        }
        Target t = Target.parse(p.target()).orElseThrow();
        return switch (t.kind()) {
            case CLASS -> "'" + t.name() + "' logit";
            case PREDICTED -> "logit of the run's predicted class";
            case LABEL -> "logit of the label";
            case NEURON -> t.name() + " #" + t.index();
        };
    }

    /** @return per run example id, the paired source example's model inputs (one row) */
    private static Map<String, ModelInputs> sourceRows(Dataset run, Dataset source, List<Batch> runs, Params p, int batchSize,
                                                   String step, String runName) {
        // what each run example is paired by: its id, or its position in the run data
        Map<String, String> keyOfRun = new LinkedHashMap<>();
        for (Batch b : runs) {
            for (String id : b.ids()) {
                keyOfRun.put(id, id);
            }
        }
        if (p.pairBy() == PairBy.INDEX) {
            for (Iterator<Batch> it = run.batches(batchSize); it.hasNext(); ) {
                Batch b = it.next();
                for (int r = 0; r < b.size(); r++) {
                    if (keyOfRun.containsKey(b.ids().get(r))) {
                        keyOfRun.put(b.ids().get(r), Long.toString(b.offset() + r));
                    }
                }
            }
        }
        Map<String, String> runOfKey = new HashMap<>();
        keyOfRun.forEach((id, key) -> runOfKey.put(key, id));
        Map<String, ModelInputs> out = new HashMap<>();
        for (Iterator<Batch> it = source.batches(batchSize); it.hasNext() && out.size() < keyOfRun.size(); ) {
            Batch b = it.next();
            for (int r = 0; r < b.size(); r++) {
                String key = p.pairBy() == PairBy.ID ? b.ids().get(r) : Long.toString(b.offset() + r);
                String id = runOfKey.get(key);
                if (id != null) {
                    out.put(id, b.modelInputs().select(new int[] {r}));
                }
            }
        }
        for (Map.Entry<String, String> e : keyOfRun.entrySet()) {
            if (!out.containsKey(e.getKey())) {
                throw new AnalysisException("step '" + step + "': example '" + e.getKey() + "' of " + runName + " has no pair in data set '"
                        + p.source() + "' (pairBy: " + p.pairBy().name().toLowerCase(java.util.Locale.ROOT)
                        + (p.pairBy() == PairBy.INDEX ? ", position " + e.getValue() : "") + ")");
            }
        }
        return out;
    }

    private static ModelInputs sourceBatch(Batch b, Map<String, ModelInputs> pairs) {
        int rs = b.inputs().rowSize();
        List<ModelInputs> rows = new ArrayList<>(b.size());
        for (int r = 0; r < b.size(); r++) {
            ModelInputs row = pairs.get(b.ids().get(r));
            if (row.primary().rowSize() != rs || row.primary().dtype() != b.inputs().dtype()) {
                throw new AnalysisException("example '" + b.ids().get(r) + "' has " + rs + " " + b.inputs().dtype()
                        + " input values, its source pair " + row.primary().rowSize() + " " + row.primary().dtype());
            }
            rows.add(row);
        }
        return TextAttribution.concat(rows);
    }

    private static AnalysisResult result(Params p, String runName, List<LayerInfo> layers, List<Patch> patches, Sums[] sums,
                                         long n, long counted, long differing, ExampleFilter examples, String target) {
        AnalysisResult.Builder r = AnalysisResult.builder();
        r.put("analyzer", "activation-patching");
        r.put("run", runName);
        r.put("source", p.source());
        r.put("pairBy", p.pairBy().name().toLowerCase(java.util.Locale.ROOT));
        r.put("pairs", n);
        r.put("selection", examples.describe());
        r.put("target", target);
        r.put("restored", "(F(patched) - F(run)) / (F(source) - F(run)), averaged over the pairs with |F(source) - F(run)| > "
                + p.minDifference() + "; 95% Student t interval");
        r.put("pairsCounted", counted);
        r.put("flipped", "share of the pairs whose run and source predictions differ that the patch makes predicted as the source");
        r.put("pairsWithDifferentPredictions", differing);
        int maxNeurons = layers.stream().mapToInt(LayerInfo::neurons).max().orElse(0);
        float[] grid = new float[layers.size() * maxNeurons];
        java.util.Arrays.fill(grid, Float.NaN);
        float[] whole = new float[layers.size() * 5];
        List<Ranking.Entry> entries = new ArrayList<>();
        Map<String, Object> wholeSummary = new LinkedHashMap<>();
        for (int l = 0; l < layers.size(); l++) {
            int count = layers.get(l).neurons();
            float[] restored = new float[count];
            float[] low = new float[count];
            float[] high = new float[count];
            float[] flipped = new float[count];
            java.util.Arrays.fill(restored, Float.NaN);
            java.util.Arrays.fill(low, Float.NaN);
            java.util.Arrays.fill(high, Float.NaN);
            java.util.Arrays.fill(flipped, Float.NaN);
            for (int i = 0; i < patches.size(); i++) {
                Patch patch = patches.get(i);
                if (patch.layer() != l) {
                    continue;
                }
                Sums s = sums[i];
                if (patch.neuron() < 0) {
                    whole[l * 5] = (float) s.mean();
                    whole[l * 5 + 1] = (float) (s.counted == 0 ? Double.NaN : s.min);
                    whole[l * 5 + 2] = (float) (s.counted == 0 ? Double.NaN : s.max);
                    whole[l * 5 + 3] = (float) s.flippedShare();
                    whole[l * 5 + 4] = s.counted;
                    Map<String, Object> w = new LinkedHashMap<>();
                    w.put("restored", s.mean());
                    w.put("flipped", s.flippedShare());
                    wholeSummary.put(layers.get(l).name(), w);
                    continue;
                }
                int j = patch.neuron();
                Interval iv = RowBlocks.tInterval(s.restored, s.restoredSq, s.counted);
                restored[j] = (float) s.mean();
                low[j] = (float) iv.low();
                high[j] = (float) iv.high();
                flipped[j] = (float) s.flippedShare();
                grid[l * maxNeurons + j] = restored[j];
                if (s.counted > 0) {
                    entries.add(new Ranking.Entry(new NeuronRef(layers.get(l).name(), j), s.mean(), s.counted > 1 ? iv : null, null, null,
                            "flips " + (differing == 0 ? "no" : RowBlocks.fmt(100 * s.flippedShare()) + "% of " + s.differing) + " pairs"));
                }
            }
            String name = layers.get(l).name();
            r.part(new NeuronTable(RowBlocks.idOf(name) + "-patching", "patching " + name + " from '" + p.source() + "'", name, count,
                    List.of(new NeuronTable.Column("restored", "fraction", "share of the " + target + " difference restored, 95% t interval",
                                    NdArray.perNeuron(restored), NdArray.perNeuron(low), NdArray.perNeuron(high)),
                            new NeuronTable.Column("flipped", "fraction", "share of pairs with differing predictions flipped to the source's",
                                    NdArray.perNeuron(flipped), null, null)),
                    List.of(), "each neuron of " + name + " patched alone from '" + p.source() + "' into " + n + " pairs; NaN: not patched"));
        }
        r.put("wholeLayer", wholeSummary);
        List<String> layerNames = layers.stream().map(LayerInfo::name).toList();
        r.part(new Matrix("patching", "share of the " + target + " difference restored by patching one neuron from '" + p.source() + "'",
                Matrix.Axis.of("layer", layerNames), Matrix.Axis.neurons(maxNeurons),
                NdArray.of(Tensor.ofFloats(grid, layers.size(), maxNeurons), "layer", "neuron"), "restored fraction", null,
                "(F(patched) - F(run)) / (F(source) - F(run)) averaged over " + counted + " of " + n
                        + " pairs; NaN where a layer has fewer neurons or the neuron was not patched"));
        r.part(new Matrix("patching-layers", "patching whole layers from '" + p.source() + "'", Matrix.Axis.of("layer", layerNames),
                Matrix.Axis.of("metric", List.of("restored", "restored min", "restored max", "flipped", "pairs counted")),
                NdArray.of(Tensor.ofFloats(whole, layers.size(), 5), "layer", "metric"), "", null,
                "every neuron of the layer patched at once: mean, least and largest restored fraction over the pairs counted,"
                        + " share of differing predictions flipped"));
        entries.sort(Comparator.comparingDouble(Ranking.Entry::score).reversed());
        r.part(new Ranking("patching-ranking", "neurons by the share of the difference they restore", "restored fraction of the "
                + target + " difference", entries, "each neuron patched alone from '" + p.source() + "' into " + n + " pairs of "
                + runName + " (" + RowBlocks.selection(examples) + ")"));
        if (!entries.isEmpty()) {
            Ranking.Entry e = entries.get(0);
            int l = layerNames.indexOf(e.neuron().layer());
            Sums s = null;
            for (int i = 0; i < patches.size(); i++) {
                if (patches.get(i).layer() == l && patches.get(i).neuron() == e.neuron().neuron()) {
                    s = sums[i];
                }
            }
            String claim = "patching " + e.neuron() + " from '" + p.source() + "' into the same examples of '" + runName
                    + "' restores " + RowBlocks.fmt(100 * e.score()) + "% of the " + target + " difference (" + s.counted
                    + " pairs) and the source's prediction for " + (s.differing == 0 ? "none of the pairs (no pair's predictions differ)"
                    : RowBlocks.fmt(100 * s.flippedShare()) + "% of the " + s.differing + " pairs whose predictions differ")
                    + ", of " + n + " pairs";
            boolean notable = e.interval() != null && e.interval().low() > 0 && e.score() >= 0.1;
            r.finding(new Finding("patching", notable ? Finding.Severity.NOTABLE : Finding.Severity.INFO, claim,
                    new Finding.Strength("restored fraction", e.score(), e.interval(), null), List.of(e.neuron()),
                    List.of("patching-ranking", "patching", RowBlocks.idOf(e.neuron().layer()) + "-patching")));
        }
        return r.build();
    }
}
