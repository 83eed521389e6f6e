package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.apache.commons.math3.distribution.NormalDistribution;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Is the model loaded right? The labels of the data against the model's class scores, in one streaming pass fused
 * with the other analyzers: accuracy with its 95% Wilson interval, top-k accuracy, the confusion matrix, precision,
 * recall and F1 per class, accuracy per value of the metadata keys with few values (each value tested against the
 * rest), calibration (the expected calibration error over equal-width confidence bins and the reliability curve) and
 * the prediction of every example, up to a cap.
 * <p>
 * Everything but the bins' mean confidence is a count, and that mean comes from exact sums ({@link ExactMoments}),
 * so the result is identical however the data is split and merged. Memory is bounded by the classes, the bins, the
 * metadata values kept and {@code keepPredictions}.
 */
@Extension
@ExtensionName(value = "evaluate",
        description = "Accuracy (Wilson interval), top-k, confusion matrix, per-class precision and recall, accuracy per "
                + "metadata value, calibration (ECE, reliability curve) and every prediction: is the model loaded right?")
public final class EvaluateAnalyzer implements StreamingAnalyzer<EvaluateAnalyzer.Params> {

    /** How the layer's values are read. */
    public enum Scores {
        /** probabilities when the layer is a Softmax or the model's output (but a LogSoftmax), logits otherwise */
        AUTO,
        /** unnormalized scores: the confidence is the largest softmax probability */
        LOGITS,
        /** probabilities, used as they are */
        PROBABILITIES
    }

    /** Two-sided 95% normal quantile. */
    static final double Z95 = 1.959963984540054;
    /** Family-wise error rate under which a metadata group's accuracy is said to differ from the rest's. */
    static final double GROUP_ALPHA = 0.01;
    /** Expected calibration error above which calibration becomes a finding. */
    static final double ECE_LIMIT = 0.05;
    /** Probabilities may stray this far outside [0, 1] (float rounding) before the layer is refused as probabilities. */
    static final double PROBABILITY_SLACK = 1e-3;
    /** Distinct values remembered for a key that has too many, only to say how many. */
    static final int DISTINCT_CAP = 1000;
    /** Values read as "present": when a two-valued key has exactly one of them, it is the first side of the test. */
    static final Set<String> POSITIVE = ActivationBreakdownAnalyzer.POSITIVE;

    static final String ACCURACY = "accuracy = correct / N, N the labelled examples with finite scores; correct: the "
            + "label is the argmax of the scores (the first of equal maxima)";
    static final String INTERVAL = "95% Wilson score interval: (p + z^2/2N +- z sqrt(p(1-p)/N + z^2/4N^2)) / (1 + z^2/N), z = 1.96";
    static final String TOP_K = "top-k: the label is among the k highest scores (ties broken by class index, as the argmax)";
    static final String ECE = "ECE = sum over bins b of (n_b / N) |accuracy_b - confidence_b|, equal-width confidence bins "
            + "over [0, 1] (the last one closed), confidence_b the mean confidence of the bin's examples";
    static final String GROUP_TEST = "each value of a key against the examples with the other values (one test for a "
            + "two-valued key): two-sided two-proportion z-test with the pooled proportion, p multiplied by the number of "
            + "tests of the result (Bonferroni); a finding when that is < " + GROUP_ALPHA + " and the other values' accuracy "
            + "lies outside the value's Wilson interval, one per key (its most significant value); interval of the "
            + "difference: Newcombe's hybrid score interval";

    /**
     * Params of evaluate.
     *
     * @param layer           the layer of class scores, one of the step's layers; null: the model's logits layer, or
     *                        the step's layer with role logits or output
     * @param scores          how the layer's values are read
     * @param topK            k of the top-k accuracy, capped at the number of classes
     * @param bins            equal-width confidence bins of the calibration
     * @param keys            metadata keys to break accuracy down by; null: every key with at most maxValues values
     *                        but those whose values are the class names of the labels
     * @param maxValues       keys with more distinct values are skipped
     * @param keepPredictions predictions kept for the arrays, the first examples of the data set; 0 for none
     */
    public record Params(
            @Param(description = "layer of class scores, one of the step's layers; default: the model's logits layer") String layer,
            @Param(defaultValue = "auto", description = "auto (probabilities for a Softmax or output layer but LogSoftmax, else logits), logits (softmax applied for the confidence) or probabilities (used as they are)") Scores scores,
            @Param(defaultValue = "5", description = "k of the top-k accuracy, 1..1000, capped at the number of classes") int topK,
            @Param(defaultValue = "15", description = "equal-width confidence bins of the calibration, 1..1000") int bins,
            @Param(description = "metadata keys to break accuracy down by; default: every key with at most maxValues distinct values that is not the label's class name") List<String> keys,
            @Param(defaultValue = "12", description = "keys with more distinct values are skipped, 2..1000") int maxValues,
            @Param(defaultValue = "1000000", description = "predictions kept (first examples of the data set) for the arrays predictions, confidence and labels; 0..100000000 (12 bytes each)") int keepPredictions) implements java.io.Serializable {

        /** Checks every field. */
        public Params {
            keys = keys == null ? null : List.copyOf(keys);
            Violations.check()
                    .require(layer == null || !layer.isBlank(), "layer", "must name a layer, or be left out")
                    .require(scores != null, "scores", "must be auto, logits or probabilities")
                    .require(topK >= 1 && topK <= 1000, "topK", "must be between 1 and 1000, found " + topK)
                    .require(bins >= 1 && bins <= 1000, "bins", "must be between 1 and 1000, found " + bins)
                    .require(keys == null || !keys.isEmpty(), "keys", "must name at least one key, or be left out")
                    .require(keys == null || keys.stream().noneMatch(String::isBlank), "keys", "must not contain blank keys")
                    .require(keys == null || new LinkedHashSet<>(keys).size() == keys.size(), "keys", "must not repeat a key, found " + keys)
                    .require(maxValues >= 2 && maxValues <= 1000, "maxValues", "must be between 2 and 1000, found " + maxValues)
                    .require(keepPredictions >= 0 && keepPredictions <= 100_000_000, "keepPredictions",
                            "must be between 0 and 100000000, found " + keepPredictions)
                    .throwIfAny();
        }

        /** @return the defaults */
        static Params defaults() {
            return new Params(null, Scores.AUTO, 5, 15, null, 12, 1_000_000);
        }
    }

    /**
     * What one pass evaluates, resolved from the step.
     *
     * @param layer         the layer of scores
     * @param probabilities true when its values are used as probabilities, false for logits (softmax applied)
     * @param classNames    one name per class (score), the data's names where it has them
     * @param dataName      the data set, for messages
     * @param infoKeys      the data's metadata keys, in its order (output order of the keys)
     */
    record Setup(Params params, LayerInfo layer, boolean probabilities, List<String> classNames, String dataName,
                 List<String> infoKeys) implements java.io.Serializable {
        Setup {
            classNames = List.copyOf(classNames);
            infoKeys = List.copyOf(infoKeys);
        }

        int classes() {
            return classNames.size();
        }

        int topK() {
            return Math.min(params.topK(), classes());
        }
    }

    @Override
    public Accumulator start(AnalyzerContext<Params> ctx) {
        LayerInfo layer = outputLayer(ctx.stepId(), ctx.params(), ctx.requireModel(), ctx.layers());
        String dataName = ctx.dataName().orElse("(unnamed)");
        DatasetInfo info = ctx.data().map(d -> d.info()).orElse(null);
        List<String> names = info == null ? List.of() : info.classNames();
        if (info != null && names.isEmpty()) {
            throw new AnalysisException("step '" + ctx.stepId() + "' compares labels with predictions, but data set '"
                    + dataName + "' has no labels (no class names); give it a labelled source");
        }
        return new Evaluation(setup(ctx.params(), layer, names, dataName, info == null ? List.of() : info.metadataKeys()));
    }

    /** The setup of one pass: checks the layer's shape and names every class. */
    static Setup setup(Params p, LayerInfo layer, List<String> dataClassNames, String dataName, List<String> infoKeys) {
        if (layer.positions() != 1 || layer.neurons() < 2) {
            throw new AnalysisException("layer '" + layer.name() + "' of shape " + Arrays.toString(layer.shape())
                    + " is not one score per class (a vector of at least 2 values); set params.layer to the logits layer");
        }
        List<String> names = new ArrayList<>();
        for (int c = 0; c < layer.neurons(); c++) {
            names.add(c < dataClassNames.size() ? dataClassNames.get(c) : Integer.toString(c));
        }
        boolean probabilities = switch (p.scores()) {
            case PROBABILITIES -> true;
            case LOGITS -> false;
            // log-probabilities are logits: their softmax gives the probabilities back
            case AUTO -> !"LogSoftmax".equalsIgnoreCase(layer.opType())
                    && ("Softmax".equalsIgnoreCase(layer.opType()) || layer.role() == LayerInfo.Role.OUTPUT);
        };
        return new Setup(p, layer, probabilities, names, dataName, infoKeys);
    }

    /**
     * The layer of scores: {@code params.layer}, or else the model's logits layer, or else the step's first layer
     * with role logits, then output; it must be one of the step's layers (those captured for it).
     */
    static LayerInfo outputLayer(String stepId, Params p, LoadedModel model, List<LayerInfo> layers) {
        List<String> names = layers.stream().map(LayerInfo::name).toList();
        if (p.layer() != null) {
            return layers.stream().filter(l -> l.name().equals(p.layer())).findFirst().orElseThrow(() ->
                    new AnalysisException("step '" + stepId + "': params.layer '" + p.layer() + "' is not among the step's layers "
                            + names + (model.layer(p.layer()).isPresent() ? "; add it to 'layers:' or leave 'layers:' out"
                            : "; the model has no such layer")));
        }
        String logits = model.logitsLayer();
        Optional<LayerInfo> found = layers.stream().filter(l -> l.name().equals(logits)).findFirst();
        for (LayerInfo.Role role : List.of(LayerInfo.Role.LOGITS, LayerInfo.Role.OUTPUT)) {
            if (found.isEmpty()) {
                found = layers.stream().filter(l -> l.role() == role).findFirst();
            }
        }
        return found.orElseThrow(() -> new AnalysisException("step '" + stepId + "' found no logits or output layer among "
                + "its layers " + names + "; add '" + logits + "' to 'layers:' or set params.layer"));
    }

    /** Accuracy counts of one metadata key: per value, correct and total; or skipped once it has too many values. */
    static final class Group implements java.io.Serializable {

        private static final long serialVersionUID = 1L;
        final String key;
        final Map<String, long[]> counts = new HashMap<>();
        final Set<String> distinct = new TreeSet<>();
        boolean skipped;
        long missing;
        /** examples whose value is not the class name of their label: 0 for a key that only restates the label */
        long notLabel;

        Group(String key) {
            this.key = key;
        }

        void add(String value, long correct, long total, int maxValues) {
            if (skipped) {
                if (distinct.size() < DISTINCT_CAP) {
                    distinct.add(value);
                }
                return;
            }
            long[] c = counts.get(value);
            if (c == null) {
                if (counts.size() == maxValues) {
                    skipped = true;
                    distinct.addAll(counts.keySet());
                    distinct.add(value);
                    counts.clear();
                    return;
                }
                c = new long[2];
                counts.put(value, c);
            }
            c[0] += correct;
            c[1] += total;
        }

        void merge(Group o, int maxValues) {
            missing += o.missing;
            notLabel += o.notLabel;
            if (o.skipped) {
                if (!skipped) {
                    skipped = true;
                    distinct.addAll(counts.keySet());
                    counts.clear();
                }
                for (String v : o.distinct) {
                    if (distinct.size() < DISTINCT_CAP) {
                        distinct.add(v);
                    }
                }
                return;
            }
            for (String v : new TreeSet<>(o.counts.keySet())) {
                long[] c = o.counts.get(v);
                add(v, c[0], c[1], maxValues);
            }
        }
    }

    /** The accumulator: counts, exact confidence sums per bin, and the kept predictions. */
    static final class Evaluation implements Accumulator, java.io.Serializable {

        private static final long serialVersionUID = 1L;
        private final Setup setup;
        private final int k;
        private final long[] confusion;
        private final long[] binCount;
        private final long[] binCorrect;
        private final ExactMoments binConfidence;
        private final Map<String, Group> groups = new LinkedHashMap<>();
        private long topKCorrect;
        private long seen;
        private long unlabelled;
        private long nonFinite;
        private String firstNonFinite;
        private int[] predicted = new int[0];
        private float[] confidence = new float[0];
        private int[] labels = new int[0];
        private int kept;
        private boolean cut;
        private final double[] scratch;

        Evaluation(Setup setup) {
            this.setup = setup;
            this.k = setup.classes();
            confusion = new long[k * k];
            binCount = new long[setup.params().bins()];
            binCorrect = new long[setup.params().bins()];
            binConfidence = new ExactMoments(setup.params().bins());
            scratch = new double[k];
            if (setup.params().keys() != null) {
                setup.params().keys().forEach(key -> groups.put(key, new Group(key)));
            }
        }

        @Override
        public void accept(ActivationBatch ab) {
            Batch b = ab.batch();
            if (!b.hasLabels()) {
                throw new AnalysisException("evaluate compares labels with predictions, but data set '" + setup.dataName()
                        + "' has no labels (batch at example " + b.offset() + "); give it a labelled source");
            }
            Tensor t = ab.activation(setup.layer().name());
            int n = b.size();
            if (t.rows() != n || t.size() != n * k) {
                throw new AnalysisException("layer '" + setup.layer().name() + "' gave " + Arrays.toString(t.shape())
                        + " for a batch of " + n + " examples; expected [" + n + ", " + k + "]");
            }
            float[] s = t.floats();
            if (setup.params().keys() == null) {
                for (Map<String, String> m : b.metadata()) {
                    for (String key : m.keySet()) {
                        groups.computeIfAbsent(key, Group::new);
                    }
                }
            }
            for (int e = 0; e < n; e++) {
                int base = e * k;
                int label = b.labels()[e];
                int best = -1;
                boolean finite = true;
                for (int c = 0; c < k; c++) {
                    float v = s[base + c];
                    if (!Float.isFinite(v)) {
                        finite = false;
                        break;
                    }
                    if (best < 0 || v > s[base + best]) {
                        best = c;
                    }
                }
                if (!finite) {
                    if (nonFinite++ == 0) {
                        firstNonFinite = b.ids().get(e);
                    }
                    keep(-1, Float.NaN, label < 0 ? -1 : label);
                    continue;
                }
                float conf = setup.probabilities() ? probability(s, base, best, b.ids().get(e)) : softmaxMax(s, base, best);
                keep(best, conf, label < 0 ? -1 : label);
                if (label < 0) {
                    unlabelled++;
                    continue;
                }
                if (label >= k) {
                    throw new AnalysisException("example '" + b.ids().get(e) + "' (index " + (b.offset() + e) + ") of data set '"
                            + setup.dataName() + "' has label " + label + ", but layer '" + setup.layer().name() + "' scores "
                            + k + " classes (0.." + (k - 1) + "): do the data and the model have the same classes?");
                }
                boolean correct = label == best;
                confusion[label * k + best]++;
                float own = s[base + label];
                int rank = 0;
                for (int c = 0; c < k; c++) {
                    float v = s[base + c];
                    if (v > own || v == own && c < label) {
                        rank++;
                    }
                }
                if (rank < setup.topK()) {
                    topKCorrect++;
                }
                int bin = bin(conf, binCount.length);
                binCount[bin]++;
                binCorrect[bin] += correct ? 1 : 0;
                binConfidence.add(bin, conf);
                Map<String, String> meta = b.metadata().get(e);
                for (Group g : groups.values()) {
                    String v = meta.get(g.key);
                    if (v == null) {
                        g.missing++;
                    } else {
                        g.notLabel += v.equals(setup.classNames().get(label)) ? 0 : 1;
                        g.add(v, correct ? 1 : 0, 1, setup.params().maxValues());
                    }
                }
            }
            seen += n;
        }

        private float probability(float[] s, int base, int best, String id) {
            for (int c = 0; c < k; c++) {
                float v = s[base + c];
                if (v < -PROBABILITY_SLACK || v > 1 + PROBABILITY_SLACK) {
                    throw new AnalysisException("layer '" + setup.layer().name() + "' is read as probabilities, but example '"
                            + id + "' of data set '" + setup.dataName() + "' scores class " + c + " with " + v
                            + ", outside [0, 1]; set params.scores to logits");
                }
            }
            return s[base + best];
        }

        /** @return the largest softmax probability, 1 / sum_c exp(s_c - s_max), computed in double */
        private float softmaxMax(float[] s, int base, int best) {
            double max = s[base + best];
            double sum = 0;
            for (int c = 0; c < k; c++) {
                scratch[c] = Math.exp(s[base + c] - max);
                sum += scratch[c];
            }
            return (float) (1 / sum);
        }

        private void keep(int p, float c, int label) {
            int cap = setup.params().keepPredictions();
            if (kept == cap) {
                cut = true;
                return;
            }
            if (kept == predicted.length) {
                int size = (int) Math.min(cap, Math.max(1024L, 2L * predicted.length));
                predicted = Arrays.copyOf(predicted, size);
                confidence = Arrays.copyOf(confidence, size);
                labels = Arrays.copyOf(labels, size);
            }
            predicted[kept] = p;
            confidence[kept] = c;
            labels[kept] = label;
            kept++;
        }

        @Override
        public void merge(Accumulator other) {
            Evaluation o = (Evaluation) other;
            for (int i = 0; i < confusion.length; i++) {
                confusion[i] += o.confusion[i];
            }
            for (int i = 0; i < binCount.length; i++) {
                binCount[i] += o.binCount[i];
                binCorrect[i] += o.binCorrect[i];
            }
            binConfidence.merge(o.binConfidence);
            for (Group og : o.groups.values()) {
                groups.computeIfAbsent(og.key, Group::new).merge(og, setup.params().maxValues());
            }
            topKCorrect += o.topKCorrect;
            seen += o.seen;
            unlabelled += o.unlabelled;
            if (nonFinite == 0) {
                firstNonFinite = o.firstNonFinite;
            }
            nonFinite += o.nonFinite;
            // o's examples follow this one's: appended while there is room, so the kept ones stay the first of the data
            for (int i = 0; i < o.kept; i++) {
                keep(o.predicted[i], o.confidence[i], o.labels[i]);
            }
            cut |= o.cut;
        }

        @Override
        public AnalysisResult finish() {
            long n = 0;
            long correct = 0;
            for (int t = 0; t < k; t++) {
                for (int p = 0; p < k; p++) {
                    n += confusion[t * k + p];
                }
                correct += confusion[t * k + t];
            }
            String layer = setup.layer().name();
            String data = setup.dataName();
            if (n == 0) {
                throw new AnalysisException("data set '" + data + "' gave no labelled example with finite scores to evaluate ("
                        + seen + " examples, " + unlabelled + " unlabelled, " + nonFinite + " with NaN or infinite scores in '"
                        + layer + "')");
            }
            AnalysisResult.Builder r = AnalysisResult.builder();
            List<String> names = setup.classNames();
            double accuracy = (double) correct / n;
            Interval ci = wilson(correct, n);
            double topK = (double) topKCorrect / n;

            // confusion matrix and per-class metrics
            boolean fitsInt = Arrays.stream(confusion).allMatch(c -> c <= Integer.MAX_VALUE);
            Tensor cm = fitsInt ? Tensor.ofInts(Arrays.stream(confusion).mapToInt(c -> (int) c).toArray(), k, k)
                    : Tensor.ofFloats(toFloats(confusion), k, k);
            r.part(new Matrix("confusion", "Confusion matrix: true class x predicted class", Matrix.Axis.of("true", names),
                    Matrix.Axis.of("predicted", names), NdArray.of(cm, "true", "predicted"), "examples", null,
                    "examples of '" + data + "' by label (rows) and argmax of '" + layer + "' (columns); the diagonal is correct"));
            List<String> metrics = List.of("precision", "recall", "f1", "support");
            float[] pc = new float[k * metrics.size()];
            double[] recall = new double[k];
            for (int c = 0; c < k; c++) {
                long tp = confusion[c * k + c];
                long support = 0;
                long predictedAs = 0;
                for (int o = 0; o < k; o++) {
                    support += confusion[c * k + o];
                    predictedAs += confusion[o * k + c];
                }
                double precision = predictedAs == 0 ? Double.NaN : (double) tp / predictedAs;
                recall[c] = support == 0 ? Double.NaN : (double) tp / support;
                double f1 = tp == 0 ? (support == 0 && predictedAs == 0 ? Double.NaN : 0) : 2 * precision * recall[c] / (precision + recall[c]);
                pc[c * 4] = (float) precision;
                pc[c * 4 + 1] = (float) recall[c];
                pc[c * 4 + 2] = (float) f1;
                pc[c * 4 + 3] = support;
            }
            r.part(new Matrix("per-class", "Precision, recall and F1 per class", Matrix.Axis.of("class", names),
                    Matrix.Axis.of("metric", metrics), NdArray.of(Tensor.ofFloats(pc, k, metrics.size()), "class", "metric"),
                    "fraction (support: examples)", null, "precision = correct / predicted as the class, recall = correct / "
                    + "labelled as the class (support), F1 their harmonic mean; NaN where the denominator is 0"));

            // accuracy per metadata value
            Ids ids = new Ids();
            ids.unique("confusion");
            ids.unique("per-class");
            Ids keyIds = new Ids();
            List<String> used = new ArrayList<>();
            Map<String, Object> skipped = new LinkedHashMap<>();
            List<GroupTest> tests = new ArrayList<>();
            for (String key : keyOrder()) {
                Group g = groups.get(key);
                if (g == null || !g.skipped && g.counts.isEmpty()) {
                    skipped.put(key, "not in the metadata of any evaluated example");
                    continue;
                }
                if (setup.params().keys() == null && g.notLabel == 0) {
                    skipped.put(key, "its values are the class names of the labels (accuracy per class is the recall in per-class)");
                    continue;
                }
                if (g.skipped) {
                    skipped.put(key, (g.distinct.size() >= DISTINCT_CAP ? "at least " : "") + g.distinct.size()
                            + " distinct values > maxValues " + setup.params().maxValues());
                    continue;
                }
                used.add(key);
                List<String> values = new ArrayList<>(new TreeSet<>(g.counts.keySet()));
                String dim = Ids.dimension(key);
                if ("metric".equals(dim)) {
                    dim = "key_metric";
                }
                float[] m = new float[values.size() * 4];
                for (int i = 0; i < values.size(); i++) {
                    long[] c = g.counts.get(values.get(i));
                    Interval vi = wilson(c[0], c[1]);
                    m[i * 4] = (float) ((double) c[0] / c[1]);
                    m[i * 4 + 1] = (float) vi.low();
                    m[i * 4 + 2] = (float) vi.high();
                    m[i * 4 + 3] = c[1];
                }
                String prefix = keyIds.prefix(key);
                String id = ids.unique("accuracy-by-" + prefix);
                r.part(new Matrix(id, "Accuracy by " + key, Matrix.Axis.of(dim, values),
                        Matrix.Axis.of("metric", List.of("accuracy", "low", "high", "examples")),
                        NdArray.of(Tensor.ofFloats(m, values.size(), 4), dim, "metric"), "fraction (examples: count)", null,
                        "accuracy of the examples of '" + data + "' with each value of " + key + ", its 95% Wilson interval "
                                + "(low, high) and the number of examples" + (g.missing > 0 ? "; " + g.missing
                                + " examples without the key are left out" : "")));
                tests.addAll(tests(g, values, prefix, id));
            }
            // per key, the value whose accuracy differs most significantly from the rest's, strongest key first
            int m = tests.size();
            Map<String, List<GroupTest>> differing = new LinkedHashMap<>();
            tests.stream().filter(t -> t.differs(m)).forEach(t -> differing.computeIfAbsent(t.key, x -> new ArrayList<>()).add(t));
            List<Finding> notable = new ArrayList<>();
            differing.values().stream()
                    .map(list -> list.stream().min(Comparator.comparingDouble((GroupTest t) -> t.p)).orElseThrow())
                    .sorted(Comparator.comparingDouble((GroupTest t) -> t.p))
                    .forEach(t -> notable.add(t.finding(ids.unique(t.prefix + "-accuracy-differs"), m, data,
                            differing.get(t.key).size(), groups.get(t.key).counts.size())));

            // calibration
            int bins = binCount.length;
            double ece = 0;
            double meanConfidence = 0;
            List<Integer> filled = new ArrayList<>();
            float[] table = new float[bins * 3];
            List<String> binLabels = new ArrayList<>();
            double[] edges = new double[bins + 1];
            for (int i = 0; i <= bins; i++) {
                edges[i] = (double) i / bins;
            }
            for (int i = 0; i < bins; i++) {
                binLabels.add("[" + Numbers.sig3(edges[i]) + ", " + Numbers.sig3(edges[i + 1]) + (i == bins - 1 ? "]" : ")"));
                double conf = binCount[i] == 0 ? Double.NaN : binConfidence.mean(i);
                double acc = binCount[i] == 0 ? Double.NaN : (double) binCorrect[i] / binCount[i];
                table[i * 3] = binCount[i];
                table[i * 3 + 1] = (float) conf;
                table[i * 3 + 2] = (float) acc;
                if (binCount[i] > 0) {
                    filled.add(i);
                    ece += (double) binCount[i] / n * Math.abs(acc - conf);
                    meanConfidence += (double) binCount[i] / n * conf;
                }
            }
            float[] x = new float[filled.size()];
            float[] y = new float[filled.size()];
            float[] lo = new float[filled.size()];
            float[] hi = new float[filled.size()];
            for (int j = 0; j < filled.size(); j++) {
                int i = filled.get(j);
                Interval bi = wilson(binCorrect[i], binCount[i]);
                x[j] = table[i * 3 + 1];
                y[j] = table[i * 3 + 2];
                lo[j] = (float) bi.low();
                hi[j] = (float) bi.high();
            }
            String confidenceIs = setup.probabilities() ? "the largest value of '" + layer + "' (probabilities, as given)"
                    : "the largest softmax probability of '" + layer + "' (logits)";
            r.part(new Series("reliability", "Reliability: accuracy vs confidence", "mean confidence", "accuracy", List.of(
                    new Series.Curve("model", points(x), points(y), points(lo), points(hi)),
                    Series.Curve.of("ideal", new float[]{0, 1}, new float[]{0, 1})),
                    "ECE " + String.format(Locale.ROOT, "%.4f", ece) + " over " + bins + " equal-width confidence bins: the "
                            + "sum over bins of (examples in the bin / " + n + ") |accuracy - mean confidence|; one point per "
                            + "non-empty bin, band: the 95% Wilson interval of its accuracy; confidence: " + confidenceIs
                            + "; ideal: accuracy = confidence"));
            r.part(new Matrix("calibration-bins", "Calibration per confidence bin", new Matrix.Axis("bin", binLabels, edges),
                    Matrix.Axis.of("metric", List.of("examples", "confidence", "accuracy")),
                    NdArray.of(Tensor.ofFloats(table, bins, 3), "bin", "metric"), "examples; fraction", null,
                    "per equal-width confidence bin: examples, their mean confidence and accuracy (NaN where empty)"));

            // findings: warnings, then notable, then info
            String acc4 = f4(accuracy) + " (95% CI [" + f4(ci.low()) + ", " + f4(ci.high()) + "])";
            double chance = 1.0 / k;
            if (nonFinite > 0) {
                r.finding(new Finding(ids.unique("non-finite-scores"), Finding.Severity.WARNING, nonFinite + " of " + seen
                        + " examples of '" + data + "' have NaN or infinite scores in '" + layer + "' (first '" + firstNonFinite
                        + "'): they are left out of every count", new Finding.Strength("fraction of examples",
                        (double) nonFinite / seen, null, null), List.of(), List.of("confusion")));
            }
            if (ci.low() <= chance) {
                r.finding(new Finding(ids.unique("at-chance"), Finding.Severity.WARNING, "the model is at chance: accuracy "
                        + acc4 + " on " + n + " examples of '" + data + "' against 1/" + k + " = " + f4(chance)
                        + " for guessing: is the preprocessing right, and are the labels the model's classes?",
                        new Finding.Strength("accuracy", accuracy, ci, null), List.of(), List.of("confusion", "per-class")));
            }
            notable.forEach(r::finding);
            if (ece > ECE_LIMIT) {
                r.finding(new Finding(ids.unique("calibration"), Finding.Severity.NOTABLE, "the model is "
                        + (meanConfidence > accuracy ? "over" : "under") + "-confident on '" + data + "': expected calibration "
                        + "error " + f4(ece) + " over " + bins + " bins (mean confidence " + f4(meanConfidence) + ", accuracy "
                        + f4(accuracy) + ")", new Finding.Strength("ECE", ece, null, null), List.of(),
                        List.of("reliability", "calibration-bins")));
            }
            r.finding(new Finding(ids.unique("accuracy"), Finding.Severity.INFO, "accuracy " + acc4 + " on " + n
                    + " examples of '" + data + "'; top-" + setup.topK() + " " + f4(topK),
                    new Finding.Strength("accuracy", accuracy, ci, null), List.of(), List.of("confusion", "per-class")));
            if (cut) {
                r.finding(new Finding(ids.unique("predictions-cut"), Finding.Severity.INFO, "predictions kept for the first "
                        + kept + " of " + seen + " examples of '" + data + "' (params.keepPredictions); every count covers all",
                        null, List.of(), List.of()));
            }

            r.put("analyzer", "evaluate");
            r.put("data", data);
            r.put("layer", layer);
            r.put("scores", setup.probabilities() ? "probabilities (as given)" : "logits (softmax for the confidence)");
            r.put("examples", n);
            r.put("examplesRead", seen);
            r.put("unlabelledExamples", unlabelled);
            r.put("nonFiniteExamples", nonFinite);
            r.put("classes", k);
            r.put("classNames", names);
            r.put("correct", correct);
            r.put("accuracy", accuracy);
            r.put("accuracyInterval", Map.of("low", ci.low(), "high", ci.high(), "level", ci.level(), "method", ci.method()));
            r.put("chance", chance);
            r.put("topK", setup.topK());
            r.put("topKAccuracy", topK);
            r.put("bins", bins);
            r.put("ece", ece);
            r.put("meanConfidence", meanConfidence);
            r.put("keys", used);
            r.put("skippedKeys", skipped);
            r.put("groupTests", m);
            Map<String, Object> predictions = new LinkedHashMap<>();
            predictions.put("kept", kept);
            predictions.put("cut", cut);
            predictions.put("arrays", "predictions [example] int32 argmax class (-1: NaN or infinite scores), confidence "
                    + "[example] float32, labels [example] int32 (-1: unlabelled); element i is example i of '" + data + "'");
            r.put("predictions", predictions);
            Map<String, Object> definitions = new LinkedHashMap<>();
            definitions.put("accuracy", ACCURACY);
            definitions.put("interval", INTERVAL);
            definitions.put("topK", TOP_K + "; k = min(params.topK, classes)");
            definitions.put("confidence", confidenceIs);
            definitions.put("ece", ECE);
            definitions.put("groups", GROUP_TEST);
            r.put("definitions", definitions);
            r.array("predictions", Tensor.ofInts(Arrays.copyOf(predicted, kept), kept));
            r.array("confidence", Tensor.ofFloats(Arrays.copyOf(confidence, kept), kept));
            r.array("labels", Tensor.ofInts(Arrays.copyOf(labels, kept), kept));
            return r.build();
        }

        /** Keys in output order: the params' order; else the data's metadata keys in its order, then others sorted. */
        private List<String> keyOrder() {
            if (setup.params().keys() != null) {
                return setup.params().keys();
            }
            List<String> order = new ArrayList<>();
            for (String key : setup.infoKeys()) {
                if (groups.containsKey(key)) {
                    order.add(key);
                }
            }
            groups.keySet().stream().filter(key -> !order.contains(key)).sorted().forEach(order::add);
            return order;
        }

        private List<GroupTest> tests(Group g, List<String> values, String prefix, String matrixId) {
            List<GroupTest> out = new ArrayList<>();
            if (values.size() < 2) {
                return out;
            }
            long allCorrect = 0;
            long all = 0;
            for (long[] c : g.counts.values()) {
                allCorrect += c[0];
                all += c[1];
            }
            List<String> sides = values;
            if (values.size() == 2) {
                boolean p0 = POSITIVE.contains(values.get(0).toLowerCase(Locale.ROOT));
                boolean p1 = POSITIVE.contains(values.get(1).toLowerCase(Locale.ROOT));
                sides = List.of(p1 && !p0 ? values.get(1) : values.get(0));
            }
            for (String v : sides) {
                long[] c = g.counts.get(v);
                String other = values.size() == 2 ? values.get(values.get(0).equals(v) ? 1 : 0) : null;
                out.add(new GroupTest(g.key, prefix, v, other, c[0], c[1], allCorrect - c[0], all - c[1], matrixId));
            }
            return out;
        }
    }

    /** One value of a key against the rest (the other value, for two). */
    static final class GroupTest {
        final String key;
        /** the key as ids write it */
        final String prefix;
        final String value;
        /** the other value of a two-valued key, or null: the rest */
        final String other;
        final long correctA;
        final long nA;
        final long correctB;
        final long nB;
        final double p;
        final String matrixId;

        GroupTest(String key, String prefix, String value, String other, long correctA, long nA, long correctB, long nB,
                  String matrixId) {
            this.key = key;
            this.prefix = prefix;
            this.value = value;
            this.other = other;
            this.correctA = correctA;
            this.nA = nA;
            this.correctB = correctB;
            this.nB = nB;
            this.p = twoProportionP(correctA, nA, correctB, nB);
            this.matrixId = matrixId;
        }

        double adjusted(int tests) {
            return Math.min(1, p * tests);
        }

        boolean differs(int tests) {
            if (nA == 0 || nB == 0 || !(adjusted(tests) < GROUP_ALPHA)) {
                return false;
            }
            Interval a = wilson(correctA, nA);
            double rest = (double) correctB / nB;
            return rest < a.low() || rest > a.high();
        }

        /**
         * @param differ how many values of the key differ from the rest
         * @param values how many values the key has
         */
        Finding finding(String id, int tests, String data, int differ, int values) {
            double a = (double) correctA / nA;
            double b = (double) correctB / nB;
            Interval ia = wilson(correctA, nA);
            Interval ib = wilson(correctB, nB);
            String sideA = other == null ? key + "=" + value : value;
            String sideB = other == null ? "the other values" : other;
            double adj = adjusted(tests);
            String claim = "accuracy on '" + data + "' differs with " + key + ": " + sideA + " " + f4(a) + " (95% CI ["
                    + f4(ia.low()) + ", " + f4(ia.high()) + "], " + nA + " examples) vs " + sideB + " " + f4(b) + " (95% CI ["
                    + f4(ib.low()) + ", " + f4(ib.high()) + "], " + nB + " examples); p " + (adj == 0 ? "< 1e-300" : Numbers.sig3(adj))
                    + " after Bonferroni over " + tests + " test" + (tests == 1 ? "" : "s")
                    + (differ > 1 ? "; " + differ + " of the " + values + " values of " + key + " differ from the rest" : "");
            return new Finding(id, Finding.Severity.NOTABLE, claim, new Finding.Strength("accuracy difference ("
                    + sideA + " - " + sideB + ")", a - b, newcombe(correctA, nA, correctB, nB), null), List.of(), List.of(matrixId));
        }
    }

    /** @return the bin of a confidence: equal-width bins over [0, 1], the last one closed; out-of-range values clamp */
    static int bin(float confidence, int bins) {
        int b = (int) Math.floor((double) confidence * bins);
        return Math.max(0, Math.min(bins - 1, b));
    }

    /**
     * The 95% Wilson score interval of a proportion.
     *
     * @return the interval, or null when {@code n} is 0
     */
    static Interval wilson(long k, long n) {
        if (n <= 0) {
            return null;
        }
        double p = (double) k / n;
        double z2 = Z95 * Z95;
        double denom = 1 + z2 / n;
        double centre = (p + z2 / (2.0 * n)) / denom;
        double half = Z95 / denom * Math.sqrt(p * (1 - p) / n + z2 / (4.0 * n * n));
        return new Interval(Math.max(0, centre - half), Math.min(1, centre + half), 0.95, "Wilson score");
    }

    /** Newcombe's hybrid score interval (his method 10) of the difference of two proportions, from their Wilson intervals. */
    static Interval newcombe(long kA, long nA, long kB, long nB) {
        Interval a = wilson(kA, nA);
        Interval b = wilson(kB, nB);
        double pa = (double) kA / nA;
        double pb = (double) kB / nB;
        double d = pa - pb;
        double low = d - Math.sqrt((pa - a.low()) * (pa - a.low()) + (b.high() - pb) * (b.high() - pb));
        double high = d + Math.sqrt((a.high() - pa) * (a.high() - pa) + (pb - b.low()) * (pb - b.low()));
        return new Interval(low, high, 0.95, "Newcombe hybrid score (from Wilson intervals)");
    }

    /**
     * Two-sided p-value of the two-proportion z-test with the pooled proportion.
     *
     * @return p in [0, 1]; 1 when the pooled proportion is 0 or 1 (both groups all right or all wrong); NaN when a
     *         group is empty
     */
    static double twoProportionP(long kA, long nA, long kB, long nB) {
        if (nA == 0 || nB == 0) {
            return Double.NaN;
        }
        double pooled = (double) (kA + kB) / (nA + nB);
        double se = Math.sqrt(pooled * (1 - pooled) * (1.0 / nA + 1.0 / nB));
        if (!(se > 0)) {
            return 1;
        }
        double z = ((double) kA / nA - (double) kB / nB) / se;
        return Math.min(1, 2 * new NormalDistribution(null, 0, 1).cumulativeProbability(-Math.abs(z)));
    }

    private static NdArray points(float[] v) {
        return NdArray.of(Tensor.ofFloats(v, v.length), "point");
    }

    private static float[] toFloats(long[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return f;
    }

    private static String f4(double x) {
        return String.format(Locale.ROOT, "%.4f", x);
    }
}
