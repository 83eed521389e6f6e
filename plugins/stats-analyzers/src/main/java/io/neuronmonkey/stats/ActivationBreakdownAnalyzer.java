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
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import org.apache.commons.math3.distribution.TDistribution;
import org.pf4j.Extension;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Mean activation of each neuron per class and per metadata value, with effect sizes (Cohen's d), so that neurons
 * tied to a label or to a planted feature (the demo data's watermark) stand out. Per layer, key and value: count,
 * mean and standard deviation per neuron from exact sums ({@link ExactMoments}: identical however the data is split).
 * Two-valued keys get d of one value against the other; keys with more values get d of each value against the rest.
 * Labels are the key {@code class}.
 * <p>
 * Per used key {@code K} (id prefix {@code k}: the key with characters outside {@code [A-Za-z0-9_-]} as '_') the result
 * holds a ranking {@code k-ranking} of the neurons of all layers by |d|, each with the 95% interval of d (normal
 * approximation of Hedges &amp; Olkin), the two-sided Welch t-test p-value and the Benjamini-Hochberg q-value over every
 * neuron tested for the key; per layer (prefix {@code p}) a neuron table {@code p-k-effect} of d (and the group means
 * and standard deviations for two values) and a matrix {@code p-k-means} of value x neuron means. A key whose best
 * neuron has |d| &gt;= 0.8 at q &lt; 0.05 gives a finding: notable, or info for {@code class}, whose neurons track the
 * labels by design.
 * <p>
 * <b>Text.</b> Padding positions ({@code Batch.positionMask} false) never enter a mean: max and mean are over the real
 * tokens, {@code first}/{@code last} take the first/last real token. With {@code reduce: token} every real token of a
 * token-level layer is an observation, and a key may be per token ({@code Tokens.tags}, for example {@code lexicon}
 * = toxic|group|clinical|none) as well as per example (every token of an example has the example's value): "which
 * neurons fire on tokens of this lexicon vs others", with the same effect sizes, tests and findings. A token key
 * applies to layers with token positions only; on text data a key that is neither an example metadata key nor a
 * token key is refused. On image data {@code first}/{@code last} are the first/last position of a channel and
 * {@code token} makes every position an observation.
 */
@Extension
@ExtensionName(value = "activation-breakdown",
        description = "Mean activation per neuron per class and metadata value, with Cohen's d effect sizes and rankings")
public final class ActivationBreakdownAnalyzer implements StreamingAnalyzer<ActivationBreakdownAnalyzer.Params> {

    /** How a neuron's positions (a conv channel's cells, a sequence's real tokens) become observations. */
    public enum Reduce {
        /** one value per example: the mean over its (real) positions */
        MEAN,
        /** one value per example: the max over its (real) positions */
        MAX,
        /** one value per example: the value at its first (real) position */
        FIRST,
        /** one value per example: the value at its last (real) position */
        LAST,
        /** every (real) position is an observation; token keys group tokens */
        TOKEN
    }

    /** The key under which labels are broken down. */
    static final String CLASS_KEY = "class";
    /** Values read as "present": when a two-valued key has exactly one of them, it is the first side of the contrast. */
    static final Set<String> POSITIVE = Set.of("on", "true", "yes", "1", "present", "positive");
    /** Distinct values remembered for a key that has too many, only to say how many. */
    static final int DISTINCT_CAP = 1000;
    /** Two-sided 95% normal quantile. */
    static final double Z95 = 1.959963984540054;
    /** |d| from which a neuron is said to track a key (Cohen's "large" effect). */
    static final double LARGE_EFFECT = 0.8;
    /** q-value below which a tracking neuron becomes a finding. */
    static final double FDR = 0.05;
    /** The effect-size definition, as the summary states it. */
    static final String EFFECT_SIZE = "Cohen's d = (mean A - mean B) / pooled std, pooled std = sqrt(((nA-1) varA + (nB-1) varB) "
            + "/ (nA + nB - 2)), sample variances; two values: A vs B where A is the value among "
            + new TreeSet<>(POSITIVE) + " when exactly one is, otherwise the first in sorted order; more values: "
            + "each value (A) vs all other examples with the key (B); +-Infinity when both groups are constant "
            + "and differ, NaN (not ranked) when a group is empty";

    /**
     * Params of activation-breakdown.
     *
     * @param keys      metadata keys to break down by ({@code class} for labels); null: every key with at most
     *                  {@code maxValues} distinct values, and {@code class} when the data has labels
     * @param maxValues keys with more distinct values are skipped (memory: values x neurons per key)
     * @param reduce    how positions become observations: max, mean, first, last (one value per example) or token
     *                  (every real token is an observation, so per-token keys can be used)
     * @param top       neurons listed in each ranking
     */
    public record Params(
            @Param(description = "metadata keys ('class' for labels; with reduce token also per-token keys such as lexicon); default: every key with at most maxValues distinct values") List<String> keys,
            @Param(defaultValue = "12", description = "keys with more distinct values are skipped, 2..1000") int maxValues,
            @Param(defaultValue = "max", description = "observations over a neuron's positions (conv cells, real tokens; padding never counts): max, mean (a small patch is diluted by a mean), first, last (image data: first/last position), or token (every real token is an observation; allows per-token keys)") Reduce reduce,
            @Param(defaultValue = "10", description = "neurons listed per ranking, 1..100000") int top) implements java.io.Serializable {

        /** Checks every field. */
        public Params {
            keys = keys == null ? null : List.copyOf(keys);
            Violations.check()
                    .require(keys == null || !keys.isEmpty(), "keys", "must name at least one key, or be left out")
                    .require(keys == null || keys.stream().noneMatch(k -> k.isBlank()), "keys", "must not contain blank keys")
                    .require(keys == null || new LinkedHashSet<>(keys).size() == keys.size(), "keys", "must not repeat a key, found " + keys)
                    .require(maxValues >= 2 && maxValues <= 1000, "maxValues", "must be between 2 and 1000, found " + maxValues)
                    .require(reduce != null, "reduce", "must be mean, max, first, last or token")
                    .require(top >= 1 && top <= 100_000, "top", "must be between 1 and 100000, found " + top)
                    .throwIfAny();
        }
    }

    @Override
    public Accumulator start(AnalyzerContext<Params> ctx) {
        DatasetInfo info = ctx.data().map(d -> d.info()).orElse(null);
        if (info != null) {
            checkKeys(ctx.params(), info);
        }
        return new Breakdown(ctx.params(), ctx.layers(), info == null ? List.of() : info.classNames(),
                info == null ? List.of() : info.metadataKeys(), info == null ? List.of() : info.tokenKeys());
    }

    /**
     * On text data every named key must be {@code class}, an example metadata key or a token key; a token key (one
     * that is not also example metadata) needs {@code reduce: token}.
     */
    static void checkKeys(Params p, DatasetInfo info) {
        if (p.keys() == null) {
            return;
        }
        Violations v = Violations.check();
        for (String k : p.keys()) {
            boolean meta = CLASS_KEY.equals(k) || info.metadataKeys().contains(k);
            boolean token = info.tokenKeys().contains(k);
            v.require(!info.text() || meta || token, "keys", "'" + k + "' is neither an example metadata key "
                    + info.metadataKeys() + " (or 'class') nor a token key " + info.tokenKeys());
            v.require(!token || meta || p.reduce() == Reduce.TOKEN, "keys", "'" + k + "' is a per-token key (token keys "
                    + info.tokenKeys() + "); it needs reduce: token, found reduce: " + p.reduce().name().toLowerCase(Locale.ROOT));
        }
        v.throwIfAny();
    }

    /** Per key: its values (in order of discovery) and per layer and value the exact moments of every neuron. */
    static final class KeyStats implements java.io.Serializable {

        private static final long serialVersionUID = 1L;
        final String key;
        final Map<String, Integer> index = new HashMap<>();
        final List<String> values = new ArrayList<>();
        final List<long[]> counts = new ArrayList<>();
        /** per layer, per value index: moments with one slot per neuron */
        final List<List<ExactMoments>> moments = new ArrayList<>();
        boolean skipped;
        final Set<String> distinct = new TreeSet<>();

        KeyStats(String key, int layers) {
            this.key = key;
            for (int i = 0; i < layers; i++) {
                moments.add(new ArrayList<>());
            }
        }

        /** @return the index of value, adding it if new; -1 once the key has too many values */
        int indexOf(String value, List<LayerInfo> layers, int maxValues) {
            Integer i = index.get(value);
            if (i != null) {
                return i;
            }
            if (skipped) {
                if (distinct.size() < DISTINCT_CAP) {
                    distinct.add(value);
                }
                return -1;
            }
            if (values.size() == maxValues) {
                skip(value);
                return -1;
            }
            index.put(value, values.size());
            values.add(value);
            counts.add(new long[1]);
            for (int l = 0; l < layers.size(); l++) {
                moments.get(l).add(new ExactMoments(layers.get(l).neurons()));
            }
            return values.size() - 1;
        }

        void skip(String extra) {
            skipped = true;
            distinct.addAll(values);
            if (extra != null) {
                distinct.add(extra);
            }
            index.clear();
            values.clear();
            counts.clear();
            moments.forEach(List::clear);
        }
    }

    /** The accumulator. */
    static final class Breakdown implements Accumulator, java.io.Serializable {

        private static final long serialVersionUID = 1L;
        private final Params params;
        private final List<LayerInfo> layers;
        private final List<String> classNames;
        private final List<String> infoKeys;
        /** keys whose values are per token (from the data set's info and the batches' token tags) */
        private final Set<String> tokenKeys = new LinkedHashSet<>();
        private final List<Reducer> reducers = new ArrayList<>();
        private final Map<String, KeyStats> keys = new LinkedHashMap<>();
        private long examples;
        private long nonFinite;
        private int[][] scratch = new int[0][];
        private final GroupedMoments grouped = new GroupedMoments();
        private int scratchRows;
        /** reduce token: real tokens observed and padding positions left out (first layer with token positions) */
        private long tokens;
        private long padding;
        private final Set<String> tokenKeyLayersSkipped = new TreeSet<>();
        /** true once a text batch was seen */
        private boolean text;

        Breakdown(Params params, List<LayerInfo> layers, List<String> classNames, List<String> infoKeys) {
            this(params, layers, classNames, infoKeys, List.of());
        }

        Breakdown(Params params, List<LayerInfo> layers, List<String> classNames, List<String> infoKeys,
                  List<String> tokenKeys) {
            this.params = params;
            this.layers = List.copyOf(layers);
            this.classNames = List.copyOf(classNames);
            this.infoKeys = List.copyOf(infoKeys);
            this.tokenKeys.addAll(tokenKeys);
            this.tokenKeys.removeAll(infoKeys);
            for (LayerInfo l : layers) {
                reducers.add(params.reduce() == Reduce.TOKEN ? null : new Reducer(l, Reducer.Mode.valueOf(params.reduce().name())));
            }
            if (params.keys() != null) {
                for (String k : params.keys()) {
                    keys.put(k, new KeyStats(k, layers.size()));
                }
            }
        }

        private String classValue(int label) {
            return label < classNames.size() ? classNames.get(label) : "label-" + label;
        }

        @Override
        public void accept(ActivationBatch ab) {
            if (params.reduce() == Reduce.TOKEN) {
                acceptTokens(ab);
                return;
            }
            Batch b = ab.batch();
            int n = b.size();
            text |= b.isText();
            if (params.keys() == null) {
                if (b.hasLabels()) {
                    keys.computeIfAbsent(CLASS_KEY, k -> new KeyStats(k, layers.size()));
                }
                for (Map<String, String> m : b.metadata()) {
                    for (String k : m.keySet()) {
                        if (!keys.containsKey(k)) {
                            keys.put(k, new KeyStats(k, layers.size()));
                        }
                    }
                }
            }
            List<KeyStats> ks = new ArrayList<>(keys.values());
            if (scratch.length < ks.size() || scratchRows < n) {
                scratchRows = Math.max(scratchRows, n);
                scratch = new int[ks.size()][scratchRows];
            }
            for (int k = 0; k < ks.size(); k++) {
                KeyStats s = ks.get(k);
                int[] idx = scratch[k];
                for (int e = 0; e < n; e++) {
                    String v;
                    if (CLASS_KEY.equals(s.key) && !b.metadata().get(e).containsKey(CLASS_KEY)) {
                        int label = b.hasLabels() ? b.labels()[e] : -1;
                        v = label >= 0 ? classValue(label) : null;
                    } else {
                        v = b.metadata().get(e).get(s.key);
                    }
                    idx[e] = v == null ? -1 : s.indexOf(v, layers, params.maxValues());
                    if (idx[e] >= 0) {
                        s.counts.get(idx[e])[0]++;
                    }
                }
                if (s.skipped) {
                    java.util.Arrays.fill(idx, 0, n, -1);
                }
            }
            for (int l = 0; l < layers.size(); l++) {
                int nn = layers.get(l).neurons();
                boolean[] mask = b.isText() ? b.positionMask(layers.get(l).positions()) : null;
                float[] v = reducers.get(l).reduce(ab.activation(layers.get(l).name()), n, mask);
                for (int e = 0; e < n; e++) {
                    for (int c = 0; c < nn; c++) {
                        if (!Float.isFinite(v[e * nn + c])) {
                            nonFinite++;
                        }
                    }
                }
                for (int k = 0; k < ks.size(); k++) {
                    KeyStats s = ks.get(k);
                    if (s.skipped) {
                        continue;
                    }
                    // rows grouped by the key's value, neuron-major runs: exact sums in bulk
                    grouped.add(v, n, nn, scratch[k], s.moments.get(l));
                }
            }
            examples += n;
        }

        /** The example's value of an example-level key: its metadata, or for {@code class} its label. */
        private String exampleValue(Batch b, int e, String key) {
            if (CLASS_KEY.equals(key) && !b.metadata().get(e).containsKey(CLASS_KEY)) {
                int label = b.hasLabels() ? b.labels()[e] : -1;
                return label >= 0 ? classValue(label) : null;
            }
            return b.metadata().get(e).get(key);
        }

        /**
         * Reduce token: every real position of a layer is an observation, grouped by a token key's value at that
         * token or by the example's value of an example key.
         */
        private void acceptTokens(ActivationBatch ab) {
            Batch b = ab.batch();
            int n = b.size();
            text |= b.isText();
            if (b.isText()) {
                for (Tokens t : b.tokens()) {
                    for (String k : t.tags().keySet()) {
                        if (!infoKeys.contains(k)) {
                            tokenKeys.add(k);
                        }
                    }
                }
            }
            if (params.keys() == null) {
                if (b.hasLabels()) {
                    keys.computeIfAbsent(CLASS_KEY, k -> new KeyStats(k, layers.size()));
                }
                for (Map<String, String> m : b.metadata()) {
                    for (String k : m.keySet()) {
                        keys.computeIfAbsent(k, x -> new KeyStats(x, layers.size()));
                    }
                }
                for (String k : tokenKeys) {
                    keys.computeIfAbsent(k, x -> new KeyStats(x, layers.size()));
                }
            }
            List<KeyStats> ks = new ArrayList<>(keys.values());
            // per key and example: the value index of an example key, or per token the value index of a token key
            int[][] exampleIdx = new int[ks.size()][];
            int[][][] tokenIdx = new int[ks.size()][][];
            for (int k = 0; k < ks.size(); k++) {
                KeyStats s = ks.get(k);
                if (tokenKeys.contains(s.key)) {
                    tokenIdx[k] = new int[n][];
                    for (int e = 0; e < n; e++) {
                        Tokens t = b.isText() ? b.tokens().get(e) : null;
                        int len = t == null ? 0 : t.length();
                        int[] idx = new int[len];
                        for (int p = 0; p < len; p++) {
                            String v = t.tag(s.key, p);
                            idx[p] = v == null ? -1 : s.indexOf(v, layers, params.maxValues());
                            if (idx[p] >= 0) {
                                s.counts.get(idx[p])[0]++;
                            }
                        }
                        tokenIdx[k][e] = idx;
                    }
                } else {
                    exampleIdx[k] = new int[n];
                    for (int e = 0; e < n; e++) {
                        String v = exampleValue(b, e, s.key);
                        exampleIdx[k][e] = v == null ? -1 : s.indexOf(v, layers, params.maxValues());
                        if (exampleIdx[k][e] >= 0) {
                            s.counts.get(exampleIdx[k][e])[0]++;
                        }
                    }
                }
            }
            boolean counted = false;
            for (int l = 0; l < layers.size(); l++) {
                LayerInfo layer = layers.get(l);
                int nn = layer.neurons();
                int positions = layer.positions();
                Tensor t = ab.activation(layer.name());
                if (t.size() != (long) n * nn * positions) {
                    throw new AnalysisException("layer '" + layer.name() + "' gave " + t + " for " + n
                            + " examples; expected " + (long) positions * nn + " values per example");
                }
                float[] a = t.floats();
                boolean[] mask = b.isText() ? b.positionMask(positions) : null;
                if (mask != null && !counted) {
                    counted = true;
                    for (boolean real : mask) {
                        if (real) {
                            tokens++;
                        } else {
                            padding++;
                        }
                    }
                }
                for (int i = 0; i < a.length; i++) {
                    if (!Float.isFinite(a[i]) && (mask == null || mask[i / nn])) {
                        nonFinite++;
                    }
                }
                for (int k = 0; k < ks.size(); k++) {
                    KeyStats s = ks.get(k);
                    if (s.skipped) {
                        continue;
                    }
                    boolean perToken = tokenIdx[k] != null;
                    if (perToken && mask == null) {
                        tokenKeyLayersSkipped.add(layer.name());
                        continue;
                    }
                    List<ExactMoments> ms = s.moments.get(l);
                    for (int e = 0; e < n; e++) {
                        int[] tok = perToken ? tokenIdx[k][e] : null;
                        int ei = perToken ? -1 : exampleIdx[k][e];
                        if (!perToken && ei < 0) {
                            continue;
                        }
                        for (int p = 0; p < positions; p++) {
                            if (mask != null && !mask[e * positions + p]) {
                                continue;
                            }
                            int vi = perToken ? p < tok.length ? tok[p] : -1 : ei;
                            if (vi < 0) {
                                continue;
                            }
                            ExactMoments m = ms.get(vi);
                            int base = (e * positions + p) * nn;
                            for (int c = 0; c < nn; c++) {
                                float x = a[base + c];
                                if (Float.isFinite(x)) {
                                    m.add(c, x);
                                }
                            }
                        }
                    }
                }
            }
            examples += n;
        }

        @Override
        public void merge(Accumulator other) {
            Breakdown o = (Breakdown) other;
            for (KeyStats os : o.keys.values()) {
                KeyStats s = keys.computeIfAbsent(os.key, k -> new KeyStats(k, layers.size()));
                if (s.skipped || os.skipped) {
                    if (!s.skipped) {
                        s.skip(null);
                    }
                    for (String v : os.skipped ? os.distinct : os.values) {
                        if (s.distinct.size() < DISTINCT_CAP) {
                            s.distinct.add(v);
                        }
                    }
                    continue;
                }
                for (int j = 0; j < os.values.size(); j++) {
                    int i = s.indexOf(os.values.get(j), layers, params.maxValues());
                    if (i < 0) {
                        for (String v : os.values) {
                            if (s.distinct.size() < DISTINCT_CAP) {
                                s.distinct.add(v);
                            }
                        }
                        break;
                    }
                    s.counts.get(i)[0] += os.counts.get(j)[0];
                    for (int l = 0; l < layers.size(); l++) {
                        s.moments.get(l).get(i).merge(os.moments.get(l).get(j));
                    }
                }
            }
            examples += o.examples;
            nonFinite += o.nonFinite;
            tokens += o.tokens;
            padding += o.padding;
            text |= o.text;
            tokenKeys.addAll(o.tokenKeys);
            tokenKeyLayersSkipped.addAll(o.tokenKeyLayersSkipped);
        }

        /** Keys in output order: class, then the data's metadata keys in its order, then others sorted. */
        private List<String> keyOrder() {
            List<String> order = new ArrayList<>();
            if (params.keys() != null) {
                return params.keys();
            }
            if (keys.containsKey(CLASS_KEY)) {
                order.add(CLASS_KEY);
            }
            for (String k : infoKeys) {
                if (keys.containsKey(k) && !order.contains(k)) {
                    order.add(k);
                }
            }
            keys.keySet().stream().filter(k -> !order.contains(k)).sorted().forEach(order::add);
            return order;
        }

        @Override
        public AnalysisResult finish() {
            AnalysisResult.Builder r = AnalysisResult.builder();
            List<String> used = new ArrayList<>();
            Map<String, Object> skipped = new LinkedHashMap<>();
            List<Contrast> contrasts = new ArrayList<>();
            for (String key : keyOrder()) {
                KeyStats s = keys.get(key);
                if (s == null || !s.skipped && s.values.isEmpty()) {
                    skipped.put(key, CLASS_KEY.equals(key) ? "the data has no labels and no 'class' metadata"
                            : tokenKeys.contains(key) && params.reduce() != Reduce.TOKEN
                            ? "a per-token key: needs reduce token" : "not in the metadata of any example");
                } else if (s.skipped) {
                    skipped.put(key, (s.distinct.size() >= DISTINCT_CAP ? "at least " : "") + s.distinct.size()
                            + " distinct values > maxValues " + params.maxValues());
                } else {
                    used.add(key);
                    contrasts.add(new Contrast(s, classOrder(s)));
                }
            }
            r.put("analyzer", "activation-breakdown");
            r.put("reduce", params.reduce().name().toLowerCase(Locale.ROOT));
            r.put("examples", examples);
            r.put("keys", used);
            r.put("skippedKeys", skipped);
            r.put("effectSize", EFFECT_SIZE);
            r.put("valueOrder", "class: label order; other keys: sorted (String order)");
            r.put("nonFiniteValuesSkipped", nonFinite);
            if (params.reduce() == Reduce.TOKEN) {
                Map<String, Object> obs = new LinkedHashMap<>();
                obs.put("observation", "every real token of a layer with token positions (every position of other "
                        + "multi-position layers, every example of one-position layers); padding never counts");
                obs.put("sequences", examples);
                obs.put("tokens", tokens);
                obs.put("paddingPositionsExcluded", padding);
                obs.put("tokenKeys", used.stream().filter(tokenKeys::contains).toList());
                obs.put("tokenKeyRule", "a token key groups tokens by their own value; an example key gives every token "
                        + "of an example the example's value; value counts: tokens for a token key, examples otherwise");
                if (!tokenKeyLayersSkipped.isEmpty()) {
                    obs.put("tokenKeysNotApplied", "layers without token positions: " + tokenKeyLayersSkipped);
                }
                r.put("observed", obs);
            }
            Map<String, Object> values = new LinkedHashMap<>();
            for (Contrast ct : contrasts) {
                List<Object> vc = new ArrayList<>();
                for (int j : ct.order) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("value", ct.s.values.get(j));
                    m.put("count", ct.s.counts.get(j)[0]);
                    vc.add(m);
                }
                values.put(ct.s.key, vc);
            }
            r.put("values", values);

            Ids ids = new Ids();
            Ids layerIds = new Ids();
            List<String> layerPrefix = layers.stream().map(l -> layerIds.prefix(l.name())).toList();
            Ids keyIds = new Ids();
            List<Finding> notable = new ArrayList<>();
            List<Finding> info = new ArrayList<>();
            for (Contrast ct : contrasts) {
                String k = keyIds.prefix(ct.s.key);
                List<Effect> all = new ArrayList<>();
                List<List<Effect>> perLayer = new ArrayList<>();
                double[][][] means = new double[layers.size()][][];
                for (int l = 0; l < layers.size(); l++) {
                    means[l] = ct.means(l);
                    List<Effect> effects = ct.effects(l);
                    perLayer.add(effects);
                    all.addAll(effects);
                }
                double[] q = benjaminiHochberg(all.stream().mapToDouble(t -> t.p).toArray());
                for (int i = 0; i < all.size(); i++) {
                    all.get(i).q = q[i];
                }
                boolean contrasted = ct.order.length >= 2;
                String rankingId = contrasted ? ids.unique(k + "-ranking") : null;
                List<Effect> ranked = contrasted ? rank(ct.rankable(perLayer)) : List.of();
                if (contrasted) {
                    r.part(new Ranking(rankingId, "Neurons that track " + ct.s.key
                            + (ct.order.length == 2 ? " (" + ct.contrast() + ")" : ""),
                            "Cohen's d (" + (ct.order.length == 2 ? ct.contrast() : "value vs rest") + ")",
                            ranked.stream().limit(params.top()).map(t -> t.entry(ct.s.key)).toList(),
                            rankingDescription(ct)));
                }
                String[] effectIds = new String[layers.size()];
                for (int l = 0; l < layers.size(); l++) {
                    LayerInfo layer = layers.get(l);
                    String p = layerPrefix.get(l) + "-" + k;
                    if (contrasted) {
                        effectIds[l] = ids.unique(p + "-effect");
                        r.part(ct.effectTable(effectIds[l], layer, perLayer.get(l)));
                    }
                    int nn = layer.neurons();
                    int nv = ct.order.length;
                    float[] mv = new float[nv * nn];
                    List<String> labels = new ArrayList<>(nv);
                    for (int j = 0; j < nv; j++) {
                        labels.add(ct.s.values.get(ct.order[j]));
                        for (int c = 0; c < nn; c++) {
                            mv[j * nn + c] = (float) means[l][j][c];
                        }
                    }
                    String dim = Ids.dimension(ct.s.key);
                    if ("neuron".equals(dim)) {
                        dim = "key_neuron";
                    }
                    r.part(new Matrix(ids.unique(p + "-means"), layer.name() + ": mean per " + ct.s.key,
                            Matrix.Axis.of(dim, labels), Matrix.Axis.neurons(nn),
                            NdArray.of(Tensor.ofFloats(mv, nv, nn), dim, "neuron"), "mean activation", layer.name(),
                            "mean of the " + reduced(layer) + " over the examples with each value of " + ct.s.key
                                    + " (non-finite values skipped; NaN where a value has no example)"));
                }
                if (!ranked.isEmpty()) {
                    Effect best = ranked.get(0);
                    if (Math.abs(best.d) >= LARGE_EFFECT && !Double.isNaN(best.q) && best.q < FDR) {
                        List<NeuronRef> neurons = ranked.stream().filter(t -> Math.abs(t.d) >= LARGE_EFFECT).limit(5)
                                .map(t -> new NeuronRef(t.layer, t.neuron)).toList();
                        String contrast = ct.order.length == 2 ? ct.contrast() : best.value + " vs rest";
                        Finding f = new Finding(ids.unique(k + "-tracks"),
                                CLASS_KEY.equals(ct.s.key) ? Finding.Severity.INFO : Finding.Severity.NOTABLE,
                                new NeuronRef(best.layer, best.neuron) + " tracks " + ct.s.key + " (" + contrast
                                        + "): Cohen's d " + Numbers.sig3(best.d),
                                new Finding.Strength("Cohen's d", best.d, best.interval, best.q), neurons,
                                List.of(rankingId, effectIds[best.layerIndex]));
                        (f.severity() == Finding.Severity.INFO ? info : notable).add(f);
                    }
                }
            }
            Comparator<Finding> byEffect = Comparator.comparingDouble(f -> -Math.abs(f.strength().value()));
            notable.stream().sorted(byEffect).forEach(r::finding);
            info.stream().sorted(byEffect).forEach(r::finding);
            return r.build();
        }

        private String reduced(LayerInfo layer) {
            boolean old = params.reduce() == Reduce.MEAN || params.reduce() == Reduce.MAX;
            if (old && !text || layer.positions() == 1) {
                return layer.spatial() ? params.reduce().name().toLowerCase(Locale.ROOT) + " over positions" : "activation";
            }
            String where = text ? "real token" : "position";
            return switch (params.reduce()) {
                case MEAN -> "mean over " + where + "s";
                case MAX -> "max over " + where + "s";
                case FIRST -> "value at the first " + where;
                case LAST -> "value at the last " + where;
                case TOKEN -> "activation at each " + where;
            };
        }

        private String rankingDescription(Contrast ct) {
            String family = ct.order.length == 2 ? "every neuron" : "every neuron and value";
            return "neurons of every layer by |d|, at most " + params.top() + (ct.order.length > 2
                    ? "; each neuron with the value it is most distinct for (value vs the other examples with the key)"
                    : "") + ". interval: 95% confidence interval of d by the normal approximation (Hedges & Olkin), "
                    + "d +- 1.96 sqrt((nA + nB) / (nA nB) + d^2 / (2 (nA + nB))), none when d is infinite; p: two-sided "
                    + "Welch t-test (Welch-Satterthwaite degrees of freedom) from the exact means and sample variances; "
                    + "q: Benjamini-Hochberg over the p-values of " + family + " of every layer tested for "
                    + ct.s.key + " (not only the ones listed)";
        }

        /** Value indices in output order. */
        private int[] classOrder(KeyStats s) {
            List<Integer> idx = new ArrayList<>();
            for (int i = 0; i < s.values.size(); i++) {
                idx.add(i);
            }
            Comparator<Integer> cmp = Comparator.comparing(s.values::get);
            if (CLASS_KEY.equals(s.key)) {
                cmp = Comparator.comparingInt((Integer i) -> {
                    int c = classNames.indexOf(s.values.get(i));
                    return c < 0 ? Integer.MAX_VALUE : c;
                }).thenComparing(s.values::get);
            }
            idx.sort(cmp);
            return idx.stream().mapToInt(Integer::intValue).toArray();
        }

        /** One key's output: values in order, and which is A for two values. */
        final class Contrast {
            final KeyStats s;
            final int[] order;
            final int a;
            final int b;

            Contrast(KeyStats s, int[] order) {
                this.s = s;
                this.order = order;
                if (order.length == 2) {
                    boolean p0 = POSITIVE.contains(s.values.get(order[0]).toLowerCase(Locale.ROOT));
                    boolean p1 = POSITIVE.contains(s.values.get(order[1]).toLowerCase(Locale.ROOT));
                    a = p1 && !p0 ? 1 : 0;
                    b = 1 - a;
                } else {
                    a = -1;
                    b = -1;
                }
            }

            String contrast() {
                return s.values.get(order[a]) + " vs " + s.values.get(order[b]);
            }

            /** @return the mean of every neuron of layer l per value, {@code [value (output order)][neuron]}; NaN when empty */
            double[][] means(int l) {
                int nn = layers.get(l).neurons();
                double[][] mean = new double[order.length][nn];
                for (int j = 0; j < order.length; j++) {
                    ExactMoments m = s.moments.get(l).get(order[j]);
                    for (int c = 0; c < nn; c++) {
                        mean[j][c] = m.count(c) == 0 ? Double.NaN : m.mean(c);
                    }
                }
                return mean;
            }

            /**
             * @return the effects of layer l: two values, one per neuron (A vs B); more values, one per value (output
             *         order) and neuron (value vs the rest), value-major; none for one value
             */
            List<Effect> effects(int l) {
                LayerInfo layer = layers.get(l);
                int nn = layer.neurons();
                int nv = order.length;
                List<Effect> out = new ArrayList<>();
                if (nv < 2) {
                    return out;
                }
                List<ExactMoments> ms = s.moments.get(l);
                BigInteger[][] s1 = new BigInteger[nv][nn];
                BigInteger[][] s2 = new BigInteger[nv][nn];
                long[][] cnt = new long[nv][nn];
                for (int j = 0; j < nv; j++) {
                    ExactMoments m = ms.get(order[j]);
                    for (int c = 0; c < nn; c++) {
                        cnt[j][c] = m.count(c);
                        s1[j][c] = m.sumUnits(c);
                        s2[j][c] = m.squareUnits(c);
                    }
                }
                if (nv == 2) {
                    for (int c = 0; c < nn; c++) {
                        out.add(Effect.of(layer.name(), l, c, null, s1[a][c], s2[a][c], cnt[a][c], s1[b][c], s2[b][c], cnt[b][c]));
                    }
                    return out;
                }
                for (int j = 0; j < nv; j++) {
                    for (int c = 0; c < nn; c++) {
                        BigInteger r1 = BigInteger.ZERO;
                        BigInteger r2 = BigInteger.ZERO;
                        long rn = 0;
                        for (int o = 0; o < nv; o++) {
                            if (o != j) {
                                r1 = r1.add(s1[o][c]);
                                r2 = r2.add(s2[o][c]);
                                rn += cnt[o][c];
                            }
                        }
                        out.add(Effect.of(layer.name(), l, c, s.values.get(order[j]), s1[j][c], s2[j][c], cnt[j][c], r1, r2, rn));
                    }
                }
                return out;
            }

            /** @return per neuron the test to rank: its only one, or (more values) the one of largest |d| */
            List<Effect> rankable(List<List<Effect>> perLayer) {
                if (order.length == 2) {
                    return perLayer.stream().flatMap(List::stream).toList();
                }
                List<Effect> out = new ArrayList<>();
                for (int l = 0; l < perLayer.size(); l++) {
                    int nn = layers.get(l).neurons();
                    List<Effect> effects = perLayer.get(l);
                    for (int c = 0; c < nn; c++) {
                        Effect best = null;
                        for (int j = 0; j < order.length; j++) {
                            Effect t = effects.get(j * nn + c);
                            if (!Double.isNaN(t.d) && (best == null || Math.abs(t.d) > Math.abs(best.d))) {
                                best = t;
                            }
                        }
                        if (best != null) {
                            out.add(best);
                        }
                    }
                }
                return out;
            }

            NeuronTable effectTable(String id, LayerInfo layer, List<Effect> effects) {
                int nn = layer.neurons();
                List<NeuronTable.Column> cols = new ArrayList<>();
                String ci = "; interval: 95% normal approximation (Hedges & Olkin), d itself where d is infinite";
                if (order.length == 2) {
                    String va = s.values.get(order[a]);
                    String vb = s.values.get(order[b]);
                    cols.add(dColumn("d", "Cohen's d of " + s.key + "=" + va + " vs " + s.key + "=" + vb + ci, effects, 0, nn));
                    cols.add(perNeuron("meanA", "activation", "mean where " + s.key + "=" + va, effects, t -> t.meanA));
                    cols.add(perNeuron("meanB", "activation", "mean where " + s.key + "=" + vb, effects, t -> t.meanB));
                    cols.add(perNeuron("stdA", "activation", "sample std (n - 1) where " + s.key + "=" + va, effects, t -> t.stdA));
                    cols.add(perNeuron("stdB", "activation", "sample std (n - 1) where " + s.key + "=" + vb, effects, t -> t.stdB));
                } else {
                    for (int j = 0; j < order.length; j++) {
                        String v = s.values.get(order[j]);
                        cols.add(dColumn("d:" + v, "Cohen's d of " + s.key + "=" + v + " vs the other values" + ci,
                                effects, j * nn, nn));
                    }
                }
                return new NeuronTable(id, layer.name() + ": effect of " + s.key, layer.name(), nn, cols, List.of(),
                        "per neuron of " + layer.name() + ", Cohen's d with the pooled sample std ("
                                + (order.length == 2 ? contrast() : "each value vs the rest") + ")");
            }

            private NeuronTable.Column dColumn(String name, String description, List<Effect> effects, int from, int nn) {
                float[] d = new float[nn];
                float[] lo = new float[nn];
                float[] hi = new float[nn];
                for (int c = 0; c < nn; c++) {
                    Effect t = effects.get(from + c);
                    d[c] = (float) t.d;
                    lo[c] = (float) (t.interval == null ? t.d : t.interval.low());
                    hi[c] = (float) (t.interval == null ? t.d : t.interval.high());
                }
                return new NeuronTable.Column(name, "Cohen's d", description, NdArray.perNeuron(d), NdArray.perNeuron(lo),
                        NdArray.perNeuron(hi));
            }

            private NeuronTable.Column perNeuron(String name, String unit, String description, List<Effect> effects,
                                                 java.util.function.ToDoubleFunction<Effect> f) {
                float[] v = new float[effects.size()];
                for (int c = 0; c < v.length; c++) {
                    v[c] = (float) f.applyAsDouble(effects.get(c));
                }
                return new NeuronTable.Column(name, unit, description, NdArray.perNeuron(v), null, null);
            }
        }
    }

    /**
     * One neuron's contrast for one key: A (a value) against B (the other value, or the rest), with Cohen's d, its
     * interval, the Welch p-value and, once every test of the key is known, the Benjamini-Hochberg q-value.
     */
    static final class Effect {
        final String layer;
        final int layerIndex;
        final int neuron;
        /** the value tested against the rest, or null for a two-valued key */
        final String value;
        final double d;
        final Interval interval;
        final double p;
        final double meanA;
        final double meanB;
        final double stdA;
        final double stdB;
        double q = Double.NaN;

        private Effect(String layer, int layerIndex, int neuron, String value, double d, Interval interval, double p,
                     double meanA, double meanB, double stdA, double stdB) {
            this.layer = layer;
            this.layerIndex = layerIndex;
            this.neuron = neuron;
            this.value = value;
            this.d = d;
            this.interval = interval;
            this.p = p;
            this.meanA = meanA;
            this.meanB = meanB;
            this.stdA = stdA;
            this.stdB = stdB;
        }

        /** From exact sums (units of {@link ExactMoments}) of both groups. */
        static Effect of(String layer, int layerIndex, int neuron, String value, BigInteger sA, BigInteger sqA, long nA,
                       BigInteger sB, BigInteger sqB, long nB) {
            double meanA = nA == 0 ? Double.NaN : ExactMoments.mean(sA, nA);
            double meanB = nB == 0 ? Double.NaN : ExactMoments.mean(sB, nB);
            double varA = ExactMoments.variance(sA, sqA, nA);
            double varB = ExactMoments.variance(sB, sqB, nB);
            double d = cohen(meanA, varA, nA, meanB, varB, nB);
            return new Effect(layer, layerIndex, neuron, value, d, cohenInterval(d, nA, nB),
                    welchP(meanA, varA, nA, meanB, varB, nB), meanA, meanB,
                    nA == 0 ? Double.NaN : Math.sqrt(varA), nB == 0 ? Double.NaN : Math.sqrt(varB));
        }

        Ranking.Entry entry(String key) {
            String note = value != null ? key + "=" + value + " vs rest"
                    : "mean " + Numbers.sig3(meanA) + " vs " + Numbers.sig3(meanB);
            return new Ranking.Entry(new NeuronRef(layer, neuron), d, interval, Double.isNaN(p) ? null : p,
                    Double.isNaN(q) ? null : q, note);
        }
    }

    /** By |d| descending (NaN dropped), then layer order, then neuron index. */
    static List<Effect> rank(List<Effect> all) {
        return all.stream().filter(x -> !Double.isNaN(x.d))
                .sorted(Comparator.comparingDouble((Effect x) -> -Math.abs(x.d))
                        .thenComparingInt(x -> x.layerIndex).thenComparingInt(x -> x.neuron))
                .toList();
    }

    /**
     * The 95% confidence interval of Cohen's d by the normal approximation of Hedges &amp; Olkin:
     * {@code d +- z sqrt((nA + nB) / (nA nB) + d^2 / (2 (nA + nB)))}.
     *
     * @return the interval, or null when d is not finite or a group is empty
     */
    static Interval cohenInterval(double d, long nA, long nB) {
        if (!Double.isFinite(d) || nA < 1 || nB < 1) {
            return null;
        }
        double n = (double) nA + nB;
        double se = Math.sqrt(n / ((double) nA * nB) + d * d / (2 * n));
        return new Interval(d - Z95 * se, d + Z95 * se, 0.95, "normal approximation (Hedges & Olkin)");
    }

    /**
     * Two-sided p-value of Welch's t-test from the groups' means, sample variances and counts, with the
     * Welch-Satterthwaite degrees of freedom.
     *
     * @return the p-value in [0, 1]; 0 (or 1 when the means are equal) when both variances are 0; NaN below two
     *         values in a group
     */
    static double welchP(double meanA, double varA, long nA, double meanB, double varB, long nB) {
        if (nA < 2 || nB < 2 || Double.isNaN(meanA) || Double.isNaN(meanB)) {
            return Double.NaN;
        }
        double sa = varA / nA;
        double sb = varB / nB;
        double se2 = sa + sb;
        double diff = meanA - meanB;
        if (!(se2 > 0)) {
            return diff == 0 ? 1 : 0;
        }
        double t = diff / Math.sqrt(se2);
        double ra = sa / se2;
        double rb = sb / se2;
        double df = 1 / (ra * ra / (nA - 1) + rb * rb / (nB - 1));
        return Math.min(1, 2 * new TDistribution(null, df).cumulativeProbability(-Math.abs(t)));
    }

    /**
     * Benjamini-Hochberg q-values (adjusted p-values): {@code q_(i) = min over j >= i of min(1, m p_(j) / j)} over the
     * m p-values sorted ascending.
     *
     * @param p p-values; NaN entries are not tests (they do not count in m and get NaN)
     * @return one q-value per p-value, same order
     */
    static double[] benjaminiHochberg(double[] p) {
        Integer[] idx = java.util.stream.IntStream.range(0, p.length).filter(i -> !Double.isNaN(p[i])).boxed()
                .toArray(Integer[]::new);
        java.util.Arrays.sort(idx, Comparator.comparingDouble(i -> p[i]));
        double[] q = new double[p.length];
        java.util.Arrays.fill(q, Double.NaN);
        int m = idx.length;
        double running = 1;
        for (int k = m - 1; k >= 0; k--) {
            running = Math.min(running, (double) m * p[idx[k]] / (k + 1));
            q[idx[k]] = running;
        }
        return q;
    }

    /**
     * Cohen's d with the pooled sample standard deviation.
     *
     * @return NaN when a group is empty or there are fewer than 3 values; +-Infinity when the pooled variance is 0
     *         and the means differ
     */
    static double cohen(double meanA, double varA, long nA, double meanB, double varB, long nB) {
        if (nA < 1 || nB < 1 || nA + nB < 3) {
            return Double.NaN;
        }
        double pooled = ((nA - 1) * varA + (nB - 1) * varB) / (nA + nB - 2);
        double diff = meanA - meanB;
        if (!(pooled > 0)) {
            return diff == 0 ? 0 : diff > 0 ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
        }
        return diff / Math.sqrt(pooled);
    }
}
