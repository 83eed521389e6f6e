package io.neuronmonkey.stats;

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
import io.neuronmonkey.api.tensor.Tensor;
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
 * Neurons are ranked by |d| per layer and across layers. Labels are the key {@code class}.
 */
@Extension
@ExtensionName(value = "activation-breakdown",
        description = "Mean activation per neuron per class and metadata value, with Cohen's d effect sizes and rankings")
public final class ActivationBreakdownAnalyzer implements StreamingAnalyzer<ActivationBreakdownAnalyzer.Params> {

    /** How the spatial positions of a conv channel are reduced to one value per example. */
    public enum Reduce { MEAN, MAX }

    /** The key under which labels are broken down. */
    static final String CLASS_KEY = "class";
    /** Values read as "present": when a two-valued key has exactly one of them, it is the first side of the contrast. */
    static final Set<String> POSITIVE = Set.of("on", "true", "yes", "1", "present", "positive");
    /** Distinct values remembered for a key that has too many, only to say how many. */
    static final int DISTINCT_CAP = 1000;

    /**
     * Params of activation-breakdown.
     *
     * @param keys      metadata keys to break down by ({@code class} for labels); null: every key with at most
     *                  {@code maxValues} distinct values, and {@code class} when the data has labels
     * @param maxValues keys with more distinct values are skipped (memory: values x neurons per key)
     * @param reduce    a conv channel's value on an example: max or mean over its positions
     * @param top       neurons listed in each ranking
     */
    public record Params(
            @Param(description = "metadata keys ('class' for labels); default: every key with at most maxValues distinct values") List<String> keys,
            @Param(defaultValue = "12", description = "keys with more distinct values are skipped, 2..1000") int maxValues,
            @Param(defaultValue = "max", description = "conv channel value per example: max or mean over positions (a small patch is diluted by a mean)") Reduce reduce,
            @Param(defaultValue = "10", description = "neurons listed per ranking, 1..100000") int top) {

        /** Checks every field. */
        public Params {
            keys = keys == null ? null : List.copyOf(keys);
            Violations.check()
                    .require(keys == null || !keys.isEmpty(), "keys", "must name at least one key, or be left out")
                    .require(keys == null || keys.stream().noneMatch(k -> k.isBlank()), "keys", "must not contain blank keys")
                    .require(keys == null || new LinkedHashSet<>(keys).size() == keys.size(), "keys", "must not repeat a key, found " + keys)
                    .require(maxValues >= 2 && maxValues <= 1000, "maxValues", "must be between 2 and 1000, found " + maxValues)
                    .require(reduce != null, "reduce", "must be mean or max")
                    .require(top >= 1 && top <= 100_000, "top", "must be between 1 and 100000, found " + top)
                    .throwIfAny();
        }
    }

    @Override
    public Accumulator start(AnalyzerContext<Params> ctx) {
        DatasetInfo info = ctx.data().map(d -> d.info()).orElse(null);
        return new Breakdown(ctx.params(), ctx.layers(), info == null ? List.of() : info.classNames(),
                info == null ? List.of() : info.metadataKeys());
    }

    /** Per key: its values (in order of discovery) and per layer and value the exact moments of every neuron. */
    static final class KeyStats {
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
    static final class Breakdown implements Accumulator {
        private final Params params;
        private final List<LayerInfo> layers;
        private final List<String> classNames;
        private final List<String> infoKeys;
        private final List<Reducer> reducers = new ArrayList<>();
        private final Map<String, KeyStats> keys = new LinkedHashMap<>();
        private long examples;
        private long nonFinite;
        private int[][] scratch = new int[0][];
        private int scratchRows;

        Breakdown(Params params, List<LayerInfo> layers, List<String> classNames, List<String> infoKeys) {
            this.params = params;
            this.layers = List.copyOf(layers);
            this.classNames = List.copyOf(classNames);
            this.infoKeys = List.copyOf(infoKeys);
            for (LayerInfo l : layers) {
                reducers.add(new Reducer(l, params.reduce() == Reduce.MAX));
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
            Batch b = ab.batch();
            int n = b.size();
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
                float[] v = reducers.get(l).reduce(ab.activation(layers.get(l).name()), n);
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
                    int[] idx = scratch[k];
                    List<ExactMoments> ms = s.moments.get(l);
                    for (int e = 0; e < n; e++) {
                        if (idx[e] < 0) {
                            continue;
                        }
                        ExactMoments m = ms.get(idx[e]);
                        int base = e * nn;
                        for (int c = 0; c < nn; c++) {
                            float x = v[base + c];
                            if (Float.isFinite(x)) {
                                m.add(c, x);
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
                            : "not in the metadata of any example");
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
            r.put("effectSize", "Cohen's d = (mean A - mean B) / pooled std, pooled std = sqrt(((nA-1) varA + (nB-1) varB) "
                    + "/ (nA + nB - 2)), sample variances; two values: A vs B where A is the value among "
                    + new TreeSet<>(POSITIVE) + " when exactly one is, otherwise the first in sorted order; more values: "
                    + "each value (A) vs all other examples with the key (B); +-Infinity when both groups are constant "
                    + "and differ, NaN (not ranked) when a group is empty");
            r.put("valueOrder", "class: label order; other keys: sorted (String order)");
            r.put("nonFiniteValuesSkipped", nonFinite);
            List<Object> layerList = new ArrayList<>();
            Map<String, List<Ranked>> overall = new LinkedHashMap<>();
            for (int l = 0; l < layers.size(); l++) {
                LayerInfo layer = layers.get(l);
                List<Object> keyList = new ArrayList<>();
                for (Contrast ct : contrasts) {
                    keyList.add(ct.layer(l, layer, r, overall.computeIfAbsent(ct.s.key, k -> new ArrayList<>())));
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", layer.name());
                m.put("opType", layer.opType());
                m.put("shape", java.util.Arrays.stream(layer.shape()).boxed().toList());
                m.put("neurons", layer.neurons());
                m.put("keys", keyList);
                layerList.add(m);
            }
            r.put("layers", layerList);
            List<Object> overallList = new ArrayList<>();
            for (Contrast ct : contrasts) {
                List<Ranked> all = overall.get(ct.s.key);
                if (all == null || ct.order.length < 2) {
                    continue;
                }
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("key", ct.s.key);
                m.put("contrast", ct.contrast());
                m.put("ranking", rank(all).stream().limit(params.top()).map(x -> x.json(true)).toList());
                overallList.add(m);
            }
            r.put("overall", overallList);
            return r.build();
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
                if (order.length == 2) {
                    return s.values.get(order[a]) + " vs " + s.values.get(order[b]);
                }
                return order.length > 2 ? "each value vs the rest" : null;
            }

            Map<String, Object> layer(int l, LayerInfo layer, AnalysisResult.Builder r, List<Ranked> overall) {
                int nn = layer.neurons();
                int nv = order.length;
                List<ExactMoments> ms = s.moments.get(l);
                float[] means = new float[nv * nn];
                float[] stds = new float[nv * nn];
                double[][] mean = new double[nv][nn];
                double[][] var = new double[nv][nn];
                long[][] cnt = new long[nv][nn];
                BigInteger[] totS1 = new BigInteger[nn];
                BigInteger[] totS2 = new BigInteger[nn];
                long[] totN = new long[nn];
                java.util.Arrays.fill(totS1, BigInteger.ZERO);
                java.util.Arrays.fill(totS2, BigInteger.ZERO);
                BigInteger[][] s1 = new BigInteger[nv][nn];
                BigInteger[][] s2 = new BigInteger[nv][nn];
                for (int j = 0; j < nv; j++) {
                    ExactMoments m = ms.get(order[j]);
                    for (int c = 0; c < nn; c++) {
                        cnt[j][c] = m.count(c);
                        s1[j][c] = m.sumUnits(c);
                        s2[j][c] = m.squareUnits(c);
                        mean[j][c] = cnt[j][c] == 0 ? Double.NaN : ExactMoments.mean(s1[j][c], cnt[j][c]);
                        var[j][c] = ExactMoments.variance(s1[j][c], s2[j][c], cnt[j][c]);
                        means[j * nn + c] = (float) mean[j][c];
                        stds[j * nn + c] = cnt[j][c] == 0 ? Float.NaN : (float) Math.sqrt(var[j][c]);
                        totS1[c] = totS1[c].add(s1[j][c]);
                        totS2[c] = totS2[c].add(s2[j][c]);
                        totN[c] += cnt[j][c];
                    }
                }
                String prefix = TopActivationsAnalyzer.arrayName(layer.name()) + "-" + TopActivationsAnalyzer.arrayName(s.key);
                Map<String, Object> arrays = new LinkedHashMap<>();
                r.array(prefix + "-means", Tensor.ofFloats(means, nv, nn));
                arrays.put("means", prefix + "-means");
                r.array(prefix + "-std", Tensor.ofFloats(stds, nv, nn));
                arrays.put("std", prefix + "-std");
                List<Ranked> ranking = new ArrayList<>();
                if (nv == 2) {
                    float[] effect = new float[nn];
                    for (int c = 0; c < nn; c++) {
                        double d = cohen(mean[a][c], var[a][c], cnt[a][c], mean[b][c], var[b][c], cnt[b][c]);
                        effect[c] = (float) d;
                        ranking.add(new Ranked(layer.name(), l, c, null, d, mean[a][c], mean[b][c], Math.sqrt(var[a][c]),
                                Math.sqrt(var[b][c])));
                    }
                    r.array(prefix + "-effect", Tensor.ofFloats(effect, nn));
                    arrays.put("effect", prefix + "-effect");
                } else if (nv > 2) {
                    float[] effect = new float[nv * nn];
                    Ranked[] best = new Ranked[nn];
                    for (int j = 0; j < nv; j++) {
                        for (int c = 0; c < nn; c++) {
                            long nRest = totN[c] - cnt[j][c];
                            BigInteger r1 = totS1[c].subtract(s1[j][c]);
                            BigInteger r2 = totS2[c].subtract(s2[j][c]);
                            double mRest = nRest == 0 ? Double.NaN : ExactMoments.mean(r1, nRest);
                            double vRest = ExactMoments.variance(r1, r2, nRest);
                            double d = cohen(mean[j][c], var[j][c], cnt[j][c], mRest, vRest, nRest);
                            effect[j * nn + c] = (float) d;
                            Ranked x = new Ranked(layer.name(), l, c, s.values.get(order[j]), d, mean[j][c], mRest,
                                    Math.sqrt(var[j][c]), Math.sqrt(vRest));
                            if (!Double.isNaN(d) && (best[c] == null || Math.abs(d) > Math.abs(best[c].effect))) {
                                best[c] = x;
                            }
                        }
                    }
                    for (Ranked x : best) {
                        if (x != null) {
                            ranking.add(x);
                        }
                    }
                    r.array(prefix + "-effect", Tensor.ofFloats(effect, nv, nn));
                    arrays.put("effect", prefix + "-effect");
                }
                overall.addAll(ranking);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("key", s.key);
                List<Object> values = new ArrayList<>();
                for (int j = 0; j < nv; j++) {
                    values.add(Map.of("value", s.values.get(order[j]), "count", s.counts.get(order[j])[0]));
                }
                m.put("values", values);
                m.put("contrast", contrast());
                if (nv >= 2) {
                    m.put("ranking", rank(ranking).stream().limit(params.top()).map(x -> x.json(false)).toList());
                }
                m.put("arrays", arrays);
                return m;
            }
        }
    }

    /** A neuron's effect size for one key (and, for keys with more than two values, the value it is largest for). */
    record Ranked(String layer, int layerIndex, int neuron, String value, double effect, double meanA, double meanB,
                  double stdA, double stdB) {

        Map<String, Object> json(boolean withLayer) {
            Map<String, Object> m = new LinkedHashMap<>();
            if (withLayer) {
                m.put("layer", layer);
            }
            m.put("neuron", neuron);
            if (value != null) {
                m.put("value", value);
            }
            m.put("effectSize", effect);
            m.put("meanA", meanA);
            m.put("meanB", meanB);
            m.put("diff", meanA - meanB);
            m.put("stdA", stdA);
            m.put("stdB", stdB);
            return m;
        }
    }

    /** By |d| descending (NaN dropped), then layer order, then neuron index. */
    static List<Ranked> rank(List<Ranked> all) {
        return all.stream().filter(x -> !Double.isNaN(x.effect()))
                .sorted(Comparator.comparingDouble((Ranked x) -> -Math.abs(x.effect()))
                        .thenComparingInt(Ranked::layerIndex).thenComparingInt(Ranked::neuron))
                .toList();
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
