package io.neuronmonkey.text;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Packs encoded texts into a text batch by the project's conventions: token ids INT32 {@code [n, T]} padded on the
 * right with the tokenizer's pad id, {@link Batch#ATTENTION_MASK} INT32 {@code [n, T]} (1 real token, 0 padding),
 * {@link Batch#TOKEN_TYPE_IDS} when the tokenizer gives them (0 on padding), and one {@link Tokens} per example
 * listing its real tokens (position i = token i) with their {@link Lexicons#KEY} tags when lexicons are given.
 */
final class TextBatches {

    private TextBatches() {
    }

    /**
     * @param offset    index of the first example
     * @param texts     the raw texts, one per example
     * @param encodings their encodings, at most {@code maxLength} tokens each (truncate before)
     * @param typeIds   whether to deliver {@link Batch#TOKEN_TYPE_IDS}
     * @param padId     the id of padding positions
     * @param maxLength T, the sequence length of the batch
     * @param lexicons  per-token tags, or null for none
     * @param labels    class per example, or null
     * @param ids       example ids
     * @param metadata  per example its metadata
     * @return the batch
     */
    static Batch pack(long offset, List<String> texts, List<TextEncoding> encodings, boolean typeIds, int padId,
                      int maxLength, Lexicons lexicons, int[] labels, List<String> ids,
                      List<Map<String, String>> metadata) {
        int n = texts.size();
        int[] tokenIds = new int[n * maxLength];
        int[] mask = new int[n * maxLength];
        int[] types = typeIds ? new int[n * maxLength] : null;
        if (padId != 0) {
            java.util.Arrays.fill(tokenIds, padId);
        }
        List<Tokens> tokens = new ArrayList<>(n);
        for (int e = 0; e < n; e++) {
            TextEncoding enc = encodings.get(e);
            int len = enc.length();
            if (len > maxLength) {
                throw new IllegalArgumentException("example " + ids.get(e) + " has " + len + " tokens, more than "
                        + maxLength + "; truncate it first");
            }
            int row = e * maxLength;
            System.arraycopy(enc.ids(), 0, tokenIds, row, len);
            java.util.Arrays.fill(mask, row, row + len, 1);
            if (types != null) {
                System.arraycopy(enc.typeIds(), 0, types, row, len);
            }
            Map<String, List<String>> tags = lexicons == null || lexicons.isEmpty() ? Map.of()
                    : Map.of(Lexicons.KEY, lexicons.tags(texts.get(e), enc, len));
            tokens.add(new Tokens(texts.get(e), enc.tokens(), enc.starts(), enc.ends(), tags));
        }
        Map<String, Tensor> features = new LinkedHashMap<>();
        features.put(Batch.ATTENTION_MASK, Tensor.ofInts(mask, n, maxLength));
        if (types != null) {
            features.put(Batch.TOKEN_TYPE_IDS, Tensor.ofInts(types, n, maxLength));
        }
        return new Batch(offset, Tensor.ofInts(tokenIds, n, maxLength), labels, ids, metadata, features, tokens);
    }
}
