package io.neuronmonkey.api.data;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A batch of consecutive examples.
 *
 * <p><b>Text.</b> A text batch has its token ids (INT32 or INT64 {@code [n, T]}) or its raw text (STRING {@code [n]})
 * as {@code inputs}, further model inputs such as {@link #ATTENTION_MASK} and {@link #TOKEN_TYPE_IDS} in
 * {@code features}, and per example its {@link Tokens}. Padding positions are those whose attention mask is 0; they
 * never enter a statistic ({@link #positionMask(int)}).
 *
 * @param offset   index of the first example in the data set, >= 0
 * @param inputs   the primary input {@code [n, exampleShape...]}: FLOAT32 for images and vectors, token ids or text
 * @param labels   class index per example ({@code -1} where unknown); length n; null when the data has no labels
 * @param ids      a stable id per example, length n
 * @param metadata per example a map of metadata key to value (strings), length n; empty maps when none
 * @param features further model inputs by name, each {@code [n, ...]}; empty when none
 * @param tokens   per example its tokens, length n; null when the data are not text
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record Batch(long offset, Tensor inputs, int[] labels, List<String> ids, List<Map<String, String>> metadata,
                    Map<String, Tensor> features, List<Tokens> tokens) {

    /** The feature name of the attention mask (INT32 or INT64 {@code [n, T]}, 1 for a real token, 0 for padding). */
    public static final String ATTENTION_MASK = "attention_mask";

    /** The feature name of the token type (segment) ids of two-sentence models. */
    public static final String TOKEN_TYPE_IDS = "token_type_ids";

    /**
     * Checks that every per-example list and feature has n entries.
     *
     * @param offset index of the first example in the data set, >= 0
     * @param inputs the primary input {@code [n, exampleShape...]}
     * @param labels class index per example ({@code -1} where unknown); length n; null when the data has no labels
     * @param ids a stable id per example, length n
     * @param metadata per example a map of metadata key to value (strings), length n; empty maps when none
     * @param features further model inputs by name, each {@code [n, ...]}; null or empty when none
     * @param tokens per example its tokens, length n; null when the data are not text
     */
    public Batch {
        int n = inputs.rows();
        if (labels != null && labels.length != n || ids.size() != n || metadata.size() != n) {
            throw new IllegalArgumentException("batch of " + n + " examples has " + (labels == null ? "no" : labels.length)
                    + " labels, " + ids.size() + " ids, " + metadata.size() + " metadata entries");
        }
        features = features == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(features));
        for (Map.Entry<String, Tensor> e : features.entrySet()) {
            if (e.getValue().rows() != n) {
                throw new IllegalArgumentException("batch of " + n + " examples has feature '" + e.getKey() + "' with "
                        + e.getValue().rows() + " rows");
            }
        }
        if (tokens != null) {
            tokens = List.copyOf(tokens);
            if (tokens.size() != n) {
                throw new IllegalArgumentException("batch of " + n + " examples has " + tokens.size() + " token lists");
            }
        }
    }

    /**
     * A batch of one input per example and no text.
     *
     * @param offset index of the first example in the data set, >= 0
     * @param inputs the input {@code [n, exampleShape...]}
     * @param labels class index per example; null when the data has no labels
     * @param ids a stable id per example, length n
     * @param metadata per example a map of metadata key to value, length n
     */
    public Batch(long offset, Tensor inputs, int[] labels, List<String> ids, List<Map<String, String>> metadata) {
        this(offset, inputs, labels, ids, metadata, Map.of(), null);
    }

    /** @return number of examples */
    public int size() {
        return inputs.rows();
    }

    /** @return true if labels are present */
    public boolean hasLabels() {
        return labels != null;
    }

    /** @return true when the examples are text with their {@link #tokens()} */
    public boolean isText() {
        return tokens != null;
    }

    /** @return what a model run is fed: the primary input and the features by name */
    public ModelInputs modelInputs() {
        return new ModelInputs(inputs, features);
    }

    /**
     * Which positions of a layer are real tokens. A layer has token positions when the batch is text and the layer's
     * positions (every axis but the channel axis) number the sequence length {@code T}; then position {@code p} of
     * example {@code e} is real when its attention mask is 1 (or, without a mask, when {@code p} is below the
     * example's token count).
     *
     * @param positions the positions per neuron of a layer ({@code LayerInfo.positions()})
     * @return per example and position ({@code e * positions + p}) true for a real token; null when the layer has no
     *         token positions (image data, a pooled layer), so every position counts
     */
    public boolean[] positionMask(int positions) {
        if (tokens == null || positions <= 1) {
            return null;
        }
        int n = size();
        Tensor mask = features.get(ATTENTION_MASK);
        if (mask != null) {
            if (mask.rank() != 2 || mask.dim(1) != positions) {
                return null;
            }
            boolean[] out = new boolean[n * positions];
            if (mask.dtype() == DType.INT64) {
                long[] m = mask.longs();
                for (int i = 0; i < out.length; i++) {
                    out[i] = m[i] != 0;
                }
            } else if (mask.dtype() == DType.INT32) {
                int[] m = mask.ints();
                for (int i = 0; i < out.length; i++) {
                    out[i] = m[i] != 0;
                }
            } else {
                float[] m = mask.floats();
                for (int i = 0; i < out.length; i++) {
                    out[i] = m[i] != 0f;
                }
            }
            return out;
        }
        if (inputs.rank() != 2 || inputs.dim(1) != positions) {
            return null;
        }
        boolean[] out = new boolean[n * positions];
        for (int e = 0; e < n; e++) {
            int len = Math.min(tokens.get(e).length(), positions);
            java.util.Arrays.fill(out, e * positions, e * positions + len, true);
        }
        return out;
    }

    /**
     * @param rows rows to keep, ascending
     * @return a batch of those rows (offset of the first kept row), every input, feature and token list with them
     * @since 0.4.0
     */
    public Batch select(int[] rows) {
        int[] l = labels == null ? null : new int[rows.length];
        List<String> i = new ArrayList<>(rows.length);
        List<Map<String, String>> m = new ArrayList<>(rows.length);
        List<Tokens> t = tokens == null ? null : new ArrayList<>(rows.length);
        for (int k = 0; k < rows.length; k++) {
            if (l != null) {
                l[k] = labels[rows[k]];
            }
            i.add(ids.get(rows[k]));
            m.add(metadata.get(rows[k]));
            if (t != null) {
                t.add(tokens.get(rows[k]));
            }
        }
        Map<String, Tensor> f = new LinkedHashMap<>();
        features.forEach((k, v) -> f.put(k, v.select(rows)));
        return new Batch(offset + (rows.length == 0 ? 0 : rows[0]), inputs.select(rows), l, i, m, f, t);
    }

    /**
     * @param from first row, inclusive
     * @param to   last row, exclusive
     * @return the batch of rows {@code [from, to)}
     * @since 0.4.0
     */
    public Batch slice(int from, int to) {
        int[] rows = new int[to - from];
        for (int k = 0; k < rows.length; k++) {
            rows[k] = from + k;
        }
        return select(rows);
    }
}
