package io.neuronmonkey.concepts;

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
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * How many distinct things a neuron responds to. Per neuron of the step's layers (or the listed {@code neurons}),
 * its top {@code k} examples by reduced activation over the step's data (bounded heaps, one model run per batch for
 * all layers) are grouped two ways:
 * <ul>
 *   <li>by their pattern in {@code patternLayer} (default: the layer before, in graph order): by default each
 *       pattern-layer neuron's contribution to the analyzed neuron (gradient times activation, summed over
 *       positions), so that only what drives the neuron separates its examples; or the pattern layer's reduced
 *       activations. Seeded k-means++ for k = 2..{@code maxClusters}, the k with the largest mean silhouette kept.
 *       The neuron's score is the number of clusters holding at least {@code minClusterShare} of the top examples
 *       when that silhouette is at least {@code minSilhouette} and above the best silhouette reached on each of
 *       {@code referenceSamples} samples of uniform spread (see {@link PolysemanticityClusters}), and 1 otherwise;
 *       2 or more is called polysemantic;</li>
 *   <li>by metadata (categorical fields of at most {@code maxValues} values, and the class): values over-represented
 *       among the top examples against the data set's base rates (one-sided binomial test, p at most {@code alpha},
 *       share at least 1.5 times the base rate), grouped greedily into distinct groups; and per field a chi-square
 *       test of the top examples' value counts against the base rates.</li>
 * </ul>
 * Each cluster is described by the over-represented metadata value (against the data set) that sets it most apart
 * from the neuron's other top examples.
 */
@Extension
@ExtensionName(value = "polysemanticity",
        description = "Per neuron, how many well-separated groups its top examples form (k-means++ with silhouette on the previous layer's pattern; over-represented metadata): monosemantic or polysemantic")
public final class PolysemanticityAnalyzer implements Analyzer<PolysemanticityAnalyzer.Params> {

    /** How a spatial layer's positions become one value per neuron and example. */
    public enum Reduce {
        /** the largest value over positions */
        MAX,
        /** the mean over positions */
        MEAN
    }

    /** What the top examples are clustered by. */
    public enum Pattern {
        /** per neuron of the pattern layer its contribution to the neuron: gradient times activation, summed over positions */
        CONTRIBUTION,
        /** the pattern layer's activations, reduced over positions like the neuron */
        ACTIVATION
    }

    /** Refuse to keep more input copies than this (bytes). */
    static final long MAX_INPUT_BYTES = 1L << 30;

    /** Most neuron findings written; the rest are in the table. */
    static final int MAX_NEURON_FINDINGS = 20;

    /**
     * Params of polysemanticity.
     *
     * @param k               top examples per neuron
     * @param neurons         neurons as {@code LAYER:INDEX}, or null for every neuron of the step's layers
     * @param patternLayer    the layer whose pattern clusters the top examples, or null for the layer before
     * @param pattern         contribution (gradient times activation) or activation pattern
     * @param referenceSamples reference samples of uniform spread whose best silhouettes a clustering must beat
     * @param maxClusters     the largest k tried
     * @param minSilhouette   the mean silhouette a clustering needs to count its clusters
     * @param minClusterShare the smallest share of the top examples a cluster needs to count
     * @param reduce          max or mean over positions
     * @param maxValues       a metadata field with more distinct values than this is not categorical
     * @param alpha           the largest binomial p-value of an over-represented metadata value
     * @param includeInputs   keep copies of the top examples' inputs in the example set
     * @param where           metadata filter of the examples
     * @param limit           the most examples
     */
    public record Params(
            @Param(defaultValue = "50", description = "top examples per neuron, 4..1000") int k,
            @Param(description = "neurons as LAYER:INDEX, e.g. [conv2:4, dense1:7]; default: every neuron of the step's layers") List<String> neurons,
            @Param(description = "layer whose pattern clusters the top examples; default: the layer before each analyzed layer, in graph order") String patternLayer,
            @Param(defaultValue = "contribution", description = "contribution: per pattern-layer neuron gradient x activation summed over positions (what drives the neuron); activation: the pattern layer's reduced activations (everything that varies)") Pattern pattern,
            @Param(defaultValue = "19", description = "samples of uniform spread (the points' principal box) whose best silhouette a clustering must exceed, every one of them (19: p < 0.05); 0: no reference, 0..1000") int referenceSamples,
            @Param(defaultValue = "4", description = "the largest number of clusters tried, 2..20") int maxClusters,
            @Param(defaultValue = "0.75", description = "mean silhouette a clustering needs before its clusters count (above 0.7: strong structure; 50 points of one uniform segment, split by k-means, reach 0.6 to 0.7), 0..1") double minSilhouette,
            @Param(defaultValue = "0.2", description = "smallest share of the top examples a cluster needs to count, (0, 0.5]") double minClusterShare,
            @Param(defaultValue = "max", description = "a spatial neuron's value per example: max or mean over positions") Reduce reduce,
            @Param(defaultValue = "10", description = "metadata fields with more distinct values than this are not categorical and are left out, 2..1000") int maxValues,
            @Param(defaultValue = "0.01", description = "largest one-sided binomial p-value of an over-represented metadata value, (0, 1)") double alpha,
            @Param(defaultValue = "true", description = "keep copies of the top examples' inputs in the example set (memory: neurons x k x input size)") boolean includeInputs,
            @Param(description = "metadata filter of the examples, e.g. {watermark: on, class: '!square'}") Map<String, String> where,
            @Param(defaultValue = "1000000", description = "the most examples, >= 1") long limit) {

        /** Checks every field. */
        public Params {
            neurons = neurons == null ? null : List.copyOf(neurons);
            where = where == null ? Map.of() : Map.copyOf(where);
            Violations.check()
                    .require(k >= 4 && k <= 1000, "k", "must be between 4 and 1000, found " + k)
                    .require(neurons == null || !neurons.isEmpty(), "neurons", "must list at least one LAYER:INDEX, or be left out")
                    .require(neurons == null || neurons.stream().allMatch(s -> parseNeuron(s) != null), "neurons",
                            "each must be LAYER:INDEX with INDEX >= 0, e.g. conv2:4, found " + neurons)
                    .require(patternLayer == null || !patternLayer.isBlank(), "patternLayer", "must name a layer, or be left out")
                    .require(pattern != null, "pattern", "must be contribution or activation")
                    .require(referenceSamples >= 0 && referenceSamples <= 1000, "referenceSamples", "must be between 0 and 1000, found " + referenceSamples)
                    .require(maxClusters >= 2 && maxClusters <= 20, "maxClusters", "must be between 2 and 20, found " + maxClusters)
                    .require(minSilhouette >= 0 && minSilhouette <= 1, "minSilhouette", "must be in [0, 1], found " + minSilhouette)
                    .require(minClusterShare > 0 && minClusterShare <= 0.5, "minClusterShare", "must be in (0, 0.5], found " + minClusterShare)
                    .require(reduce != null, "reduce", "must be max or mean")
                    .require(maxValues >= 2 && maxValues <= 1000, "maxValues", "must be between 2 and 1000, found " + maxValues)
                    .require(alpha > 0 && alpha < 1, "alpha", "must be in (0, 1), found " + alpha)
                    .require(limit >= 1, "limit", "must be >= 1, found " + limit)
                    .throwIfAny();
        }

        /** @return the params with every default */
        public static Params defaults() {
            return new Params(50, null, null, Pattern.CONTRIBUTION, 19, 4, 0.75, 0.2, Reduce.MAX, 10, 0.01, true, Map.of(), 1_000_000);
        }
    }

    /**
     * @param s {@code LAYER:INDEX}
     * @return the neuron, or null when malformed
     */
    static NeuronRef parseNeuron(String s) {
        int at = s == null ? -1 : s.lastIndexOf(':');
        if (at <= 0 || at == s.length() - 1) {
            return null;
        }
        try {
            int i = Integer.parseInt(s.substring(at + 1).trim());
            return i < 0 ? null : new NeuronRef(s.substring(0, at).trim(), i);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** One kept top example of one neuron. */
    private static final class Kept {
        float value;
        long index;
        String id;
        int label;
        Map<String, String> metadata;
        float[] pattern;
        float[] input;
        /** the example's model inputs (one row), for contribution gradients; else null */
        ModelInputs row;
    }

    /** The neurons of one analyzed layer and the layer that clusters their top examples. */
    private record Target(LayerInfo layer, int[] neurons, LayerInfo pattern) {
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        String step = ctx.stepId();
        LoadedModel model = ctx.requireModel();
        Dataset data = ctx.requireData();
        List<Target> targets = targets(p, model, ctx.layers(), step);
        ExampleFilter filter = new ExampleFilter(data, p.where(), p.limit(), step);
        List<String> classes = data.info().classNames();
        LayerActivations.Reduce reduce = p.reduce() == Reduce.MAX ? LayerActivations.Reduce.MAX : LayerActivations.Reduce.MEAN;

        boolean contribution = p.pattern() == Pattern.CONTRIBUTION;
        if (contribution && !model.supportsGradients()) {
            throw new AnalysisException("step '" + step + "': pattern 'contribution' needs gradients, and the model ("
                    + model.description() + ") has none; use pattern: activation");
        }
        if (p.includeInputs() && data.info().inputType() != DType.FLOAT32) {
            throw new AnalysisException("step '" + step + "': 'includeInputs' copies float inputs (images, vectors) into the"
                    + " result, and this data's primary input is " + data.info().inputType() + "; leave it out");
        }
        boolean keepInputs = p.includeInputs() || contribution;
        if (keepInputs) {
            long perExample = 4L * Arrays.stream(data.info().exampleShape()).asLongStream().reduce(1, (a, b) -> a * b);
            long neurons = targets.stream().mapToLong(t -> t.neurons().length).sum();
            long bytes = neurons * p.k() * perExample;
            if (bytes > MAX_INPUT_BYTES) {
                throw new AnalysisException("step '" + step + "': keeping the inputs of the top " + p.k() + " examples of each of "
                        + neurons + " neurons needs " + (bytes >> 20) + " MiB (limit " + (MAX_INPUT_BYTES >> 20) + " MiB; the "
                        + "contribution pattern and the pictures need them); lower k, list fewer 'neurons', or set "
                        + "pattern: activation and includeInputs: false");
            }
        }
        LinkedHashSet<String> capture = new LinkedHashSet<>();
        for (Target t : targets) {
            capture.add(t.layer().name());
            if (!contribution) {
                capture.add(t.pattern().name());
            }
        }
        Map<String, LayerInfo> byName = new LinkedHashMap<>();
        targets.forEach(t -> {
            byName.put(t.layer().name(), t.layer());
            byName.put(t.pattern().name(), t.pattern());
        });
        Comparator<Kept> worstFirst = Comparator.<Kept>comparingDouble(e -> e.value).thenComparing(e -> -e.index);
        List<List<PriorityQueue<Kept>>> heaps = new ArrayList<>();
        for (Target t : targets) {
            List<PriorityQueue<Kept>> h = new ArrayList<>();
            for (int ignored : t.neurons()) {
                h.add(new PriorityQueue<>(p.k() + 1, worstFirst));
            }
            heaps.add(h);
        }
        PolysemanticityMetadata meta = new PolysemanticityMetadata(p.maxValues());
        long examples = 0;
        long skippedNaN = 0;
        for (Iterator<Batch> it = data.batches(ctx.batchSize()); it.hasNext() && examples < p.limit(); ) {
            Batch raw = it.next();
            int[] rows = new int[raw.size()];
            int kept = 0;
            for (int e = 0; e < raw.size() && examples + kept < p.limit(); e++) {
                if (filter.test(raw, e)) {
                    rows[kept++] = e;
                }
            }
            if (kept == 0) {
                continue;
            }
            rows = Arrays.copyOf(rows, kept);
            Batch b = kept == raw.size() ? raw : ExampleFilter.select(raw, rows);
            int n = b.size();
            Map<String, Tensor> run = model.run(b.modelInputs(), capture, List.of());
            Map<String, float[]> reduced = new LinkedHashMap<>();
            for (String name : capture) {
                reduced.put(name, LayerActivations.reduce(run.get(name), byName.get(name).neurons(), reduce));
            }
            List<Map<String, String>> fields = new ArrayList<>(n);
            for (int e = 0; e < n; e++) {
                Map<String, String> f = new LinkedHashMap<>(b.metadata().get(e));
                int label = b.hasLabels() ? b.labels()[e] : -1;
                if (label >= 0 && label < classes.size()) {
                    f.put(PolysemanticityMetadata.CLASS, classes.get(label));
                }
                meta.count(f);
                fields.add(f);
            }
            int rs = b.inputs().rowSize();
            for (int ti = 0; ti < targets.size(); ti++) {
                Target t = targets.get(ti);
                float[] v = reduced.get(t.layer().name());
                float[] pat = contribution ? null : reduced.get(t.pattern().name());
                int nn = t.layer().neurons();
                int pn = t.pattern().neurons();
                for (int j = 0; j < t.neurons().length; j++) {
                    PriorityQueue<Kept> h = heaps.get(ti).get(j);
                    int c = t.neurons()[j];
                    for (int e = 0; e < n; e++) {
                        float x = v[e * nn + c];
                        if (Float.isNaN(x)) {
                            skippedNaN++;
                            continue;
                        }
                        long index = raw.offset() + rows[e];
                        Kept head = h.peek();
                        if (h.size() >= p.k() && x <= head.value) { // equal values: the earlier example stays
                            continue;
                        }
                        Kept k = h.size() >= p.k() ? h.poll() : new Kept();
                        k.value = x;
                        k.index = index;
                        k.id = b.ids().get(e);
                        k.label = b.hasLabels() ? b.labels()[e] : -1;
                        k.metadata = fields.get(e);
                        k.pattern = pat == null ? null : Arrays.copyOfRange(pat, e * pn, (e + 1) * pn);
                        if (p.includeInputs()) {
                            if (k.input == null || k.input.length != rs) {
                                k.input = new float[rs];
                            }
                            System.arraycopy(b.inputs().floats(), e * rs, k.input, 0, rs);
                        }
                        k.row = contribution ? b.modelInputs().select(new int[] {e}) : null;
                        h.add(k);
                    }
                }
            }
            examples += n;
        }
        if (examples == 0) {
            throw new AnalysisException("step '" + step + "': no example matches " + filter.describe());
        }

        AnalysisResult.Builder r = AnalysisResult.builder();
        r.put("analyzer", "polysemanticity");
        r.put("examples", examples);
        r.put("examplesSelected", filter.describe());
        r.put("k", p.k());
        r.put("reduce", p.reduce().name().toLowerCase(Locale.ROOT));
        r.put("maxClusters", p.maxClusters());
        r.put("minSilhouette", p.minSilhouette());
        r.put("minClusterShare", p.minClusterShare());
        r.put("alpha", p.alpha());
        r.put("metadataFields", meta.fields());
        r.put("nanValuesSkipped", skippedNaN);
        r.put("pattern", contribution
                ? "contribution: per neuron of the pattern layer, gradient of the analyzed neuron (its value summed over "
                + "positions) times the pattern layer's activation, summed over positions"
                : "activation: the pattern layer's activations, reduced over positions like the analyzed neuron");
        r.put("clustering", "top examples by their pattern (Euclidean): seeded k-means++ (" + PolysemanticityClusters.RESTARTS
                + " restarts, best within-cluster sum of squares) for k = 2.." + p.maxClusters() + ", the k with the largest "
                + "mean silhouette kept; clusters numbered by size, largest first");
        r.put("reference", p.referenceSamples() == 0 ? "none" : p.referenceSamples() + " samples of as many points drawn "
                + "uniformly in the box the top examples' patterns span along their principal axes, clustered the same way");
        r.put("rule", "clusters = the number of clusters holding at least " + p.minClusterShare() + " of the top "
                + p.k() + " examples when the mean silhouette is at least " + p.minSilhouette()
                + (p.referenceSamples() == 0 ? "" : " and above the best silhouette of every reference sample") + ", else 1; "
                + "polysemantic when clusters >= 2, monosemantic when 1");
        r.put("metadataRule", "a metadata value is over-represented among examples when its share is at least 1.5 times "
                + "its base rate in the data set and the one-sided binomial p-value is at most " + p.alpha()
                + " (not corrected for the number of values); metadata groups: over-represented values covering at least "
                + p.minClusterShare() + " of the top examples, most significant first, a value counting only when fewer "
                + "than half of its examples are in groups found before");
        Map<String, Object> patternLayers = new LinkedHashMap<>();
        targets.forEach(t -> patternLayers.put(t.layer().name(), t.pattern().name()));
        r.put("patternLayers", patternLayers);

        List<Finding> notable = new ArrayList<>();
        List<Finding> info = new ArrayList<>();
        List<Object> perNeuronNotes = new ArrayList<>();
        List<String> inactive = new ArrayList<>();
        for (int ti = 0; ti < targets.size(); ti++) {
            Target t = targets.get(ti);
            LayerInfo l = t.layer();
            String prefix = l.name().replaceAll("[^A-Za-z0-9_-]", "_");
            String tableId = prefix + "-polysemanticity";
            String setId = prefix + "-clusters";
            int nn = l.neurons();
            float[] clusters = nanArray(nn);
            float[] silhouette = nanArray(nn);
            float[] reference = nanArray(nn);
            float[] bestK = nanArray(nn);
            float[] largest = nanArray(nn);
            float[] metaGroups = nanArray(nn);
            float[] chiP = nanArray(nn);
            List<Integer> poly = new ArrayList<>();
            List<Integer> mono = new ArrayList<>();
            List<ExampleSet.NeuronExamples> sets = new ArrayList<>();
            int inputSize = 0;
            List<float[]> inputs = new ArrayList<>();
            for (int j = 0; j < t.neurons().length; j++) {
                int c = t.neurons()[j];
                List<Kept> top = new ArrayList<>(heaps.get(ti).get(j));
                top.sort(Comparator.<Kept>comparingDouble(e -> -e.value).thenComparingLong(e -> e.index));
                if (top.size() < 4 || top.get(0).value <= 0) {
                    inactive.add(new NeuronRef(l.name(), c).toString());
                    continue;
                }
                double[][] points = contribution ? contributions(model, t, c, top, ctx.batchSize())
                        : patterns(top);
                long seed = ctx.seed() + 31L * c + 7919L * ti;
                PolysemanticityClusters.Clustering cl = PolysemanticityClusters.best(points, p.maxClusters(), seed);
                double refMax = Double.NaN;
                if (p.referenceSamples() > 0 && cl.k() >= 2 && cl.silhouette() >= p.minSilhouette()) {
                    refMax = Arrays.stream(PolysemanticityClusters.reference(points, p.maxClusters(), p.referenceSamples(), seed + 1))
                            .filter(x -> !Double.isNaN(x)).max().orElse(Double.NaN);
                }
                reference[c] = (float) refMax;
                int[] sizes = cl.sizes();
                List<Integer> counted = new ArrayList<>();
                if (cl.k() >= 2 && cl.silhouette() >= p.minSilhouette() && !(cl.silhouette() <= refMax)) {
                    for (int q = 0; q < cl.k(); q++) {
                        if (sizes[q] >= p.minClusterShare() * top.size()) {
                            counted.add(q);
                        }
                    }
                }
                int score = Math.max(1, counted.size());
                clusters[c] = score;
                silhouette[c] = (float) cl.silhouette();
                bestK[c] = cl.k();
                largest[c] = (float) (sizes[0] / (double) top.size());
                List<Map<String, String>> topFields = top.stream().map(e -> e.metadata).toList();
                metaGroups[c] = meta.groups(topFields, p.alpha(), p.minClusterShare()).size();
                double minP = Double.NaN;
                for (String f : meta.fields()) {
                    double pv = meta.chiSquare(topFields, f)[1];
                    minP = Double.isNaN(minP) ? pv : Math.min(minP, pv);
                }
                chiP[c] = (float) minP;
                List<String> descriptions = new ArrayList<>();
                List<Map<String, Object>> clusterNotes = new ArrayList<>();
                for (int q = 0; q < cl.k(); q++) {
                    List<Map<String, String>> members = new ArrayList<>();
                    List<Map<String, String>> others = new ArrayList<>();
                    for (int e = 0; e < top.size(); e++) {
                        (cl.assignment()[e] == q ? members : others).add(top.get(e).metadata);
                    }
                    List<PolysemanticityMetadata.Value> over = meta.overRepresented(members, p.alpha());
                    double share = sizes[q] / (double) top.size();
                    String what = over.isEmpty() ? "no over-represented metadata" : distinguishing(over, others).label();
                    if (counted.contains(q)) {
                        descriptions.add(what + " (" + percent(share) + ")");
                    }
                    Map<String, Object> note = new LinkedHashMap<>();
                    note.put("cluster", q + 1);
                    note.put("examples", sizes[q]);
                    note.put("silhouette", round(cl.perCluster()[q]));
                    note.put("overRepresented", over.stream().limit(5).map(v -> v.label() + " (" + percent(v.share())
                            + " vs " + percent(v.base()) + " of the data, p " + String.format(Locale.ROOT, "%.2g", v.p()) + ")").toList());
                    clusterNotes.add(note);
                }
                NeuronRef ref = new NeuronRef(l.name(), c);
                Map<String, Object> neuronNote = new LinkedHashMap<>();
                neuronNote.put("neuron", ref.toString());
                neuronNote.put("clusters", score);
                neuronNote.put("silhouette", round(cl.silhouette()));
                neuronNote.put("referenceSilhouette", round(refMax));
                neuronNote.put("k", cl.k());
                neuronNote.put("groups", clusterNotes);
                perNeuronNotes.add(neuronNote);
                if (score >= 2) {
                    poly.add(c);
                    if (notable.size() < MAX_NEURON_FINDINGS) {
                        notable.add(new Finding("polysemantic-" + prefix + "-" + c, Finding.Severity.NOTABLE,
                                ref + " responds to " + score + " groups: " + join(descriptions) + " (silhouette "
                                        + String.format(Locale.ROOT, "%.2f", cl.silhouette()) + ", top " + top.size() + " examples)",
                                new Finding.Strength("mean silhouette", cl.silhouette(), null, null), List.of(ref),
                                List.of(tableId, setId)));
                    }
                } else {
                    mono.add(c);
                }
                List<ExampleSet.Example> list = new ArrayList<>(top.size());
                for (int e = 0; e < top.size(); e++) {
                    Kept kept = top.get(e);
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("cluster", cl.assignment()[e] + 1);
                    new TreeMap<>(kept.metadata).forEach((key, v) -> {
                        if (!key.equals(PolysemanticityMetadata.CLASS)) {
                            m.put(key, v);
                        }
                    });
                    list.add(new ExampleSet.Example(e + 1, kept.index, kept.id, kept.value, kept.label < 0 ? null : kept.label,
                            m, null, null));
                    if (kept.input != null && p.includeInputs()) {
                        inputSize = kept.input.length;
                    }
                }
                sets.add(new ExampleSet.NeuronExamples(c, list));
                for (Kept kept : top) {
                    inputs.add(p.includeInputs() ? kept.input : null);
                }
                for (int e = top.size(); e < p.k(); e++) {
                    inputs.add(null);
                }
            }
            List<NeuronTable.Column> columns = List.of(
                    column("clusters", "count", "well-separated clusters of the top examples by " + t.pattern().name()
                            + " pattern (see rule); NaN: not analyzed", clusters),
                    column("silhouette", "silhouette", "mean silhouette of the best k-means++ clustering", silhouette),
                    column("reference-silhouette", "silhouette", "best silhouette over the reference samples of uniform spread "
                            + "(computed when the silhouette reaches " + p.minSilhouette() + "); the clusters count only above it", reference),
                    column("k", "count", "clusters of the best clustering (by silhouette, 2.." + p.maxClusters() + ")", bestK),
                    column("largest-share", "fraction", "share of the top examples in the largest cluster", largest),
                    column("metadata-groups", "count", "distinct over-represented metadata values among the top examples (see metadataRule)", metaGroups),
                    column("metadata-p", "p", "smallest chi-square p-value over the categorical fields: top examples' values vs the data set's base rates", chiP));
            r.part(new NeuronTable(tableId, l.name() + ": polysemanticity of the top " + p.k() + " examples", l.name(), nn,
                    columns, List.of(
                    new NeuronTable.Tag("polysemantic", "at least 2 clusters, each >= " + p.minClusterShare()
                            + " of the top examples, mean silhouette >= " + p.minSilhouette(), poly),
                    new NeuronTable.Tag("monosemantic", "analyzed and not polysemantic", mono)),
                    "Per neuron its top " + p.k() + " examples clustered by their " + t.pattern().name() + " pattern"));
            NdArray in = null;
            int[] shape = data.info().exampleShape();
            if (p.includeInputs() && inputSize > 0 && shape != null) {
                float[] all = new float[sets.size() * p.k() * inputSize];
                Arrays.fill(all, Float.NaN);
                for (int i = 0; i < inputs.size(); i++) {
                    if (inputs.get(i) != null) {
                        System.arraycopy(inputs.get(i), 0, all, i * inputSize, inputSize);
                    }
                }
                int[] dims = new int[2 + shape.length];
                dims[0] = sets.size();
                dims[1] = p.k();
                System.arraycopy(shape, 0, dims, 2, shape.length);
                in = new NdArray(Tensor.ofFloats(all, dims), inputDims(shape.length));
            }
            r.part(new ExampleSet(setId, l.name() + ": top examples with their cluster (metadata 'cluster')", l.name(), "top",
                    l.spatial() ? p.reduce().name().toLowerCase(Locale.ROOT) + " over positions" : "activation", sets, in, classes));
            info.add(new Finding("counts-" + prefix, Finding.Severity.INFO, l.name() + ": " + poly.size() + " of "
                    + (poly.size() + mono.size()) + " analyzed neurons polysemantic (at least 2 clusters of the top " + p.k()
                    + " examples by " + t.pattern().name() + " pattern, each >= " + percent(p.minClusterShare())
                    + ", mean silhouette >= " + p.minSilhouette() + "), " + mono.size() + " monosemantic",
                    null, poly.stream().map(c -> new NeuronRef(l.name(), c)).toList(), List.of(tableId)));
        }
        r.put("neurons", perNeuronNotes);
        r.put("notAnalyzed", inactive);
        r.put("notAnalyzedRule", "neurons with fewer than 4 examples or no example above 0 are left out (NaN in the table)");
        notable.forEach(r::finding);
        info.forEach(r::finding);
        return r.build();
    }

    /**
     * @param over   a cluster's over-represented values, most significant first (non-empty)
     * @param others the metadata of the other top examples
     * @return the value whose share in the cluster exceeds its share among the other top examples the most (the
     *         most significant on ties)
     */
    static PolysemanticityMetadata.Value distinguishing(List<PolysemanticityMetadata.Value> over, List<Map<String, String>> others) {
        PolysemanticityMetadata.Value best = over.get(0);
        double bestGap = Double.NEGATIVE_INFINITY;
        for (PolysemanticityMetadata.Value v : over) {
            long there = others.stream().filter(m -> v.value().equals(m.get(v.field()))).count();
            double gap = v.share() - (others.isEmpty() ? 0 : there / (double) others.size());
            if (gap > bestGap + 1e-12) {
                best = v;
                bestGap = gap;
            }
        }
        return best;
    }

    private static double[][] patterns(List<Kept> top) {
        double[][] points = new double[top.size()][];
        for (int e = 0; e < top.size(); e++) {
            float[] pat = top.get(e).pattern;
            points[e] = new double[pat.length];
            for (int d = 0; d < pat.length; d++) {
                points[e][d] = pat[d];
            }
        }
        return points;
    }

    /**
     * Per top example and neuron of the pattern layer: the gradient of the analyzed neuron (summed over its positions)
     * with respect to the pattern layer, times the pattern layer's activation, summed over the pattern layer's
     * positions; one gradient and one forward run per batch of top examples.
     */
    private static double[][] contributions(LoadedModel model, Target t, int neuron, List<Kept> top, int batchSize) {
        int n = top.size();
        int pn = t.pattern().neurons();
        double[][] out = new double[n][pn];
        GradientTarget target = GradientTarget.neuron(t.layer().name(), neuron);
        for (int from = 0; from < n; from += batchSize) {
            int m = Math.min(batchSize, n - from);
            ModelInputs x = ModelRows.concat(top.subList(from, from + m).stream().map(k -> k.row).toList());
            float[] g = model.gradient(x, target, t.pattern().name(), List.of()).floats();
            float[] a = model.run(x, List.of(t.pattern().name()), List.of()).get(t.pattern().name()).floats();
            int per = a.length / m;
            for (int e = 0; e < m; e++) {
                double[] row = out[from + e];
                for (int i = 0; i < per; i++) {
                    row[i % pn] += (double) g[e * per + i] * a[e * per + i];
                }
            }
        }
        return out;
    }

    private static List<Target> targets(Params p, LoadedModel model, List<LayerInfo> stepLayers, String step) {
        Map<String, List<Integer>> chosen = new LinkedHashMap<>();
        List<String> names = model.layers().stream().map(LayerInfo::name).toList();
        if (p.neurons() != null) {
            for (String s : p.neurons()) {
                NeuronRef ref = parseNeuron(s);
                LayerInfo l = model.layer(ref.layer()).orElseThrow(() -> new AnalysisException("step '" + step
                        + "': 'neurons' names layer '" + ref.layer() + "', which the model does not have; layers: "
                        + String.join(", ", names)));
                if (ref.neuron() >= l.neurons()) {
                    throw new AnalysisException("step '" + step + "': 'neurons' names " + ref + ", but layer '" + l.name()
                            + "' has neurons 0.." + (l.neurons() - 1));
                }
                List<Integer> list = chosen.computeIfAbsent(l.name(), x -> new ArrayList<>());
                if (!list.contains(ref.neuron())) {
                    list.add(ref.neuron());
                }
            }
        } else {
            if (stepLayers.isEmpty()) {
                throw new AnalysisException("step '" + step + "': give 'layers:' or the param 'neurons' (LAYER:INDEX)");
            }
            for (LayerInfo l : stepLayers) {
                List<Integer> all = new ArrayList<>();
                for (int i = 0; i < l.neurons(); i++) {
                    all.add(i);
                }
                chosen.put(l.name(), all);
            }
        }
        List<Target> out = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> e : chosen.entrySet()) {
            LayerInfo l = model.layer(e.getKey()).orElseThrow();
            LayerInfo pattern;
            if (p.patternLayer() != null) {
                pattern = model.layer(p.patternLayer()).orElseThrow(() -> new AnalysisException("step '" + step
                        + "': 'patternLayer' '" + p.patternLayer() + "' is not a layer of the model; layers: " + String.join(", ", names)));
            } else {
                int at = names.indexOf(l.name());
                if (at <= 0) {
                    throw new AnalysisException("step '" + step + "': layer '" + l.name() + "' has no layer before it; set 'patternLayer'");
                }
                pattern = model.layers().get(at - 1);
            }
            int[] neurons = e.getValue().stream().mapToInt(Integer::intValue).sorted().toArray();
            out.add(new Target(l, neurons, pattern));
        }
        return out;
    }

    private static NeuronTable.Column column(String name, String unit, String description, float[] values) {
        return new NeuronTable.Column(name, unit, description, NdArray.perNeuron(values), null, null);
    }

    private static float[] nanArray(int n) {
        float[] a = new float[n];
        Arrays.fill(a, Float.NaN);
        return a;
    }

    static String percent(double share) {
        return Math.round(100 * share) + "%";
    }

    private static Double round(double v) {
        return Double.isNaN(v) ? null : Math.round(v * 1000) / 1000.0;
    }

    private static String join(List<String> parts) {
        if (parts.size() <= 1) {
            return String.join("", parts);
        }
        return String.join(", ", parts.subList(0, parts.size() - 1)) + " and " + parts.get(parts.size() - 1);
    }

    /** @return dimension names of kept inputs: {@code neuron, rank} then the example's dimensions */
    static List<String> inputDims(int inputRank) {
        List<String> dims = new ArrayList<>(List.of("neuron", "rank"));
        switch (inputRank) {
            case 3 -> dims.addAll(List.of("height", "width", "channel"));
            case 2 -> dims.addAll(List.of("height", "width"));
            case 1 -> dims.add("feature");
            default -> {
                for (int i = 0; i < inputRank; i++) {
                    dims.add("d" + i);
                }
            }
        }
        return dims;
    }
}
