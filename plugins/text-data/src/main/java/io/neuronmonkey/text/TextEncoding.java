package io.neuronmonkey.text;

import java.util.List;

/**
 * One text as a tokenizer encoded it, before padding: the ids of its tokens in sequence order and where each token
 * sits in the text.
 *
 * @param ids     the token ids, one per token
 * @param typeIds the token type (segment) ids, one per token, or null when the tokenizer gives none
 * @param tokens  the token strings, special tokens included
 * @param starts  per token the index of its first character in the text, or -1 for a special token
 * @param ends    per token the index after its last character in the text, or -1 for a special token
 */
public record TextEncoding(int[] ids, int[] typeIds, List<String> tokens, int[] starts, int[] ends) {

    /**
     * Checks that every per-token array has one entry per token.
     *
     * @param ids the token ids
     * @param typeIds the token type ids, or null
     * @param tokens the token strings
     * @param starts first character per token, or -1
     * @param ends index after the last character per token, or -1
     */
    public TextEncoding {
        tokens = List.copyOf(tokens);
        int n = tokens.size();
        if (ids.length != n || starts.length != n || ends.length != n || typeIds != null && typeIds.length != n) {
            throw new IllegalArgumentException(n + " tokens need " + n + " ids, type ids and offsets, found " + ids.length
                    + " ids, " + (typeIds == null ? "no" : typeIds.length) + " type ids, " + starts.length
                    + " starts and " + ends.length + " ends");
        }
    }

    /** @return the number of tokens */
    public int length() {
        return ids.length;
    }

    /**
     * @param length tokens to keep, 0..{@link #length()}
     * @return the first {@code length} tokens
     */
    public TextEncoding truncated(int length) {
        if (length >= ids.length) {
            return this;
        }
        return new TextEncoding(java.util.Arrays.copyOf(ids, length),
                typeIds == null ? null : java.util.Arrays.copyOf(typeIds, length), tokens.subList(0, length),
                java.util.Arrays.copyOf(starts, length), java.util.Arrays.copyOf(ends, length));
    }
}
