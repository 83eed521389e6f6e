package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeMap;

/**
 * Folds per-token attributions of text examples, batch by batch, into the parts a report shows as highlighted text:
 * <ul>
 *   <li>{@code tokens} ({@link ExampleSet}): per explained class the {@code keep} examples with the largest value
 *       (the attribution total), each with its tokens and their attributions ({@link ExampleSet.TextContext}, the
 *       focus on the token of largest |attribution|);</li>
 *   <li>{@code token-ranking} ({@link Matrix}): tokens by their mean attribution over every occurrence (95% t
 *       interval, mean |attribution|, occurrences), and {@code token-ranking-<class>} per explained class when the
 *       class differs between examples;</li>
 *   <li>{@code token-tags} ({@link Matrix}): the same per value of each per-token metadata key (e.g.
 *       {@code lexicon=toxic});</li>
 *   <li>a finding {@code tokens} naming the top tokens.</li>
 * </ul>
 * Memory: the kept examples plus one accumulator per distinct token.
 */
final class TokenAttributions {

    /** Per token (or tag value): sum, sum of squares, sum of |.|, occurrences. */
    private static final class Stat {
        double sum;
        double sumSq;
        double sumAbs;
        long n;

        void add(double v) {
            sum += v;
            sumSq += v * v;
            sumAbs += Math.abs(v);
            n++;
        }

        double mean() {
            return sum / n;
        }
    }

    private record Kept(double value, long index, String id, int label, Map<String, String> metadata,
                        ExampleSet.TextContext text) {
    }

    private final String targetLayer;
    private final List<String> classNames;
    private final boolean perRowTarget;
    private final int keep;
    private final int ranked;
    private final Map<Integer, PriorityQueue<Kept>> kept = new TreeMap<>();
    /** Class -1: every example; else the examples explaining that class. */
    private final Map<Integer, Map<String, Stat>> tokens = new TreeMap<>();
    private final Map<String, Stat> tags = new TreeMap<>();
    private long examples;

    /**
     * @param targetLayer  the layer of the explained neuron (the logits for classes)
     * @param classNames   the explained layer's neuron names (class names), may be shorter than the layer
     * @param perRowTarget true when each example explains its own class ({@code predicted}, {@code label})
     * @param keep         examples kept per explained class in {@code tokens}
     * @param ranked       the most tokens listed in a ranking
     */
    TokenAttributions(String targetLayer, List<String> classNames, boolean perRowTarget, int keep, int ranked) {
        this.targetLayer = targetLayer;
        this.classNames = classNames;
        this.perRowTarget = perRowTarget;
        this.keep = keep;
        this.ranked = ranked;
    }

    /**
     * Per example and real token the sum over the last axis of a layer's attribution {@code [n, T, D]}; padding
     * (by the batch's position mask) and positions past the example's tokens are NaN.
     *
     * @param maps      {@code [n * T * D]} attributions
     * @param n         examples
     * @param positions T
     * @param batch     the examples
     * @return {@code [n * T]} token attributions
     */
    static float[] perToken(float[] maps, int n, int positions, Batch batch) {
        int d = maps.length / (n * positions);
        boolean[] real = batch.positionMask(positions);
        float[] out = new float[n * positions];
        for (int e = 0; e < n; e++) {
            int len = batch.tokens().get(e).length();
            for (int p = 0; p < positions; p++) {
                int i = e * positions + p;
                if (p >= len || real != null && !real[i]) {
                    out[i] = Float.NaN;
                    continue;
                }
                double s = 0;
                for (int j = i * d; j < (i + 1) * d; j++) {
                    s += maps[j];
                }
                out[i] = (float) s;
            }
        }
        return out;
    }

    /**
     * Folds one batch.
     *
     * @param batch     the examples (text)
     * @param indices   per row its index in the data set
     * @param rows      per row the explained neuron
     * @param perToken  {@code [n * T]} token attributions, NaN where there is no real token
     * @param positions T
     * @param values    per row the value it is ranked by in {@code tokens} (e.g. the sum of its attributions)
     */
    void accept(Batch batch, long[] indices, int[] rows, float[] perToken, int positions, double[] values) {
        for (int e = 0; e < batch.size(); e++) {
            Tokens t = batch.tokens().get(e);
            int len = Math.min(t.length(), positions);
            float[] v = new float[len];
            int focus = 0;
            for (int i = 0; i < len; i++) {
                v[i] = perToken[e * positions + i];
                if (Float.isNaN(v[i])) {
                    continue;
                }
                if (Float.isNaN(v[focus]) || Math.abs(v[i]) > Math.abs(v[focus])) {
                    focus = i;
                }
                String token = t.tokens().get(i);
                tokens.computeIfAbsent(-1, k -> new HashMap<>()).computeIfAbsent(token, k -> new Stat()).add(v[i]);
                if (perRowTarget) {
                    tokens.computeIfAbsent(rows[e], k -> new HashMap<>()).computeIfAbsent(token, k -> new Stat()).add(v[i]);
                }
                for (Map.Entry<String, List<String>> tag : t.tags().entrySet()) {
                    tags.computeIfAbsent(tag.getKey() + "=" + tag.getValue().get(i), k -> new Stat()).add(v[i]);
                }
            }
            examples++;
            if (keep == 0 || len == 0) {
                continue;
            }
            List<String> pieces = TextAttribution.pieces(t).subList(0, len);
            Kept k = new Kept(values[e], indices[e], batch.ids().get(e), batch.hasLabels() ? batch.labels()[e] : -1,
                    batch.metadata().get(e), new ExampleSet.TextContext(pieces, v, focus, 0));
            PriorityQueue<Kept> q = kept.computeIfAbsent(rows[e], c -> new PriorityQueue<>(Comparator.comparingDouble(Kept::value)));
            q.add(k);
            if (q.size() > keep) {
                q.poll();
            }
        }
    }

    /**
     * Adds the parts and the finding.
     *
     * @param r      the result
     * @param layer  the layer attributed to, e.g. {@code embedding}
     * @param method what the values are, e.g. {@code integrated gradients of logit 'toxic' at embedding}
     * @param value  what an example's ranking value is
     */
    void finish(AnalysisResult.Builder r, String layer, String method, String value) {
        List<ExampleSet.NeuronExamples> neurons = new ArrayList<>();
        kept.forEach((c, q) -> {
            List<Kept> list = new ArrayList<>(q);
            list.sort(Comparator.comparingDouble(Kept::value).reversed());
            List<ExampleSet.Example> ex = new ArrayList<>();
            for (int i = 0; i < list.size(); i++) {
                Kept k = list.get(i);
                ex.add(new ExampleSet.Example(i + 1, k.index(), k.id(), k.value(), k.label() < 0 ? null : k.label(),
                        new LinkedHashMap<>(k.metadata()), null, null, k.text()));
            }
            neurons.add(new ExampleSet.NeuronExamples(c, ex));
        });
        r.part(new ExampleSet("tokens", "token attributions at " + layer + " (" + method + ")", targetLayer, "top", value,
                neurons, null, classNames));
        r.put("tokenExamples", examples);
        Map<String, Stat> all = tokens.getOrDefault(-1, Map.of());
        List<String> top = ranking(r, "token-ranking", "tokens by mean attribution (" + method + ")", all);
        if (perRowTarget) {
            tokens.forEach((c, stats) -> {
                if (c >= 0) {
                    String name = InputAttribution.className(c, classNames);
                    ranking(r, "token-ranking-" + RowBlocks.idOf(name), "tokens by mean attribution where the explained class is '"
                            + name + "' (" + method + ")", stats);
                }
            });
        }
        if (!tags.isEmpty()) {
            r.part(matrix("token-tags", "mean token attribution per token metadata value (" + method + ")", "tag",
                    new ArrayList<>(tags.keySet()), tags));
        }
        if (!top.isEmpty()) {
            Stat best = all.get(top.get(0));
            r.finding(new Finding("tokens", Finding.Severity.INFO, "tokens with the largest mean attribution ("
                    + method + "): " + String.join(", ", top.stream().limit(5).map(t -> "'" + t + "' "
                    + RowBlocks.fmt(all.get(t).mean()) + " (n=" + all.get(t).n + ")").toList()),
                    new Finding.Strength("mean attribution of '" + top.get(0) + "'", best.mean(),
                            RowBlocks.tInterval(best.sum, best.sumSq, best.n), null), List.of(),
                    List.of("token-ranking", "tokens")));
        }
    }

    /** Adds a ranking matrix of the tokens with the largest mean attribution; returns them in order. */
    private List<String> ranking(AnalysisResult.Builder r, String id, String title, Map<String, Stat> stats) {
        List<String> order = new ArrayList<>(stats.keySet());
        order.sort(Comparator.comparingDouble((String t) -> -stats.get(t).mean()).thenComparing(t -> t));
        List<String> rows = order.subList(0, Math.min(ranked, order.size()));
        if (!rows.isEmpty()) {
            r.part(matrix(id, title, "token", rows, stats));
        }
        return rows;
    }

    private static Matrix matrix(String id, String title, String axis, List<String> rows, Map<String, Stat> stats) {
        List<String> cols = List.of("mean", "low", "high", "meanAbs", "count");
        float[] v = new float[rows.size() * cols.size()];
        for (int i = 0; i < rows.size(); i++) {
            Stat s = stats.get(rows.get(i));
            Interval ci = RowBlocks.tInterval(s.sum, s.sumSq, s.n);
            float[] row = {(float) s.mean(), (float) ci.low(), (float) ci.high(), (float) (s.sumAbs / s.n), s.n};
            System.arraycopy(row, 0, v, i * cols.size(), cols.size());
        }
        return new Matrix(id, title, Matrix.Axis.of(axis, rows), Matrix.Axis.of("measure", cols),
                NdArray.of(Tensor.ofFloats(v, rows.size(), cols.size()), axis, "measure"), "attribution", null,
                "mean: the mean attribution of every occurrence (real tokens only, padding never counted); low, high: its"
                        + " 95% Student t interval (infinite for one occurrence); meanAbs: mean |attribution|; count:"
                        + " occurrences");
    }
}
