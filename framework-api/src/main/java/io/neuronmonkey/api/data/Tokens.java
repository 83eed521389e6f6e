package io.neuronmonkey.api.data;

import io.neuronmonkey.api.ApiStatus;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One text example as the model sees it: the raw text, its tokens in sequence order (position {@code i} of a
 * token-level layer is token {@code i}), where each token sits in the text, and per-token metadata (for example
 * which lexicon a token belongs to). Only real tokens are listed: padding positions of the batch are not tokens.
 *
 * @param text   the raw text, non-null
 * @param tokens the token strings (special tokens such as {@code [CLS]} included), non-null
 * @param starts per token the index of its first character in {@code text}, or -1 for a special token
 * @param ends   per token the index after its last character in {@code text}, or -1 for a special token
 * @param tags   per-token metadata: key to one value per token (for example {@code lexicon -> [none, toxic, ...]});
 *               empty when there is none
 * @serial exclude (serializable only to travel between the engine's processes; not a stable format)
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.4.0")
public record Tokens(String text, List<String> tokens, int[] starts, int[] ends, Map<String, List<String>> tags) implements Serializable {

    /**
     * Checks that every per-token array has one entry per token and every offset lies in the text.
     *
     * @param text   the raw text, non-null
     * @param tokens the token strings, non-null
     * @param starts per token its first character in {@code text}, or -1 for a special token
     * @param ends   per token the index after its last character, or -1 for a special token
     * @param tags   per-token metadata, one value per token for each key
     */
    public Tokens {
        Objects.requireNonNull(text, "text");
        tokens = List.copyOf(tokens);
        starts = starts.clone();
        ends = ends.clone();
        tags = tags == null ? Map.of() : Map.copyOf(tags);
        int n = tokens.size();
        if (starts.length != n || ends.length != n) {
            throw new IllegalArgumentException(n + " tokens need " + n + " offsets, found " + starts.length + " starts and "
                    + ends.length + " ends");
        }
        for (int i = 0; i < n; i++) {
            boolean special = starts[i] == -1 && ends[i] == -1;
            if (!special && (starts[i] < 0 || ends[i] < starts[i] || ends[i] > text.length())) {
                throw new IllegalArgumentException("token " + i + " '" + tokens.get(i) + "' has offsets [" + starts[i] + ", "
                        + ends[i] + ") outside the text of " + text.length() + " characters");
            }
        }
        for (Map.Entry<String, List<String>> e : tags.entrySet()) {
            if (e.getValue().size() != n) {
                throw new IllegalArgumentException("token metadata '" + e.getKey() + "' has " + e.getValue().size()
                        + " values for " + n + " tokens");
            }
        }
    }

    /** @return the number of real tokens */
    public int length() {
        return tokens.size();
    }

    /**
     * @param i a token index
     * @return the text the token covers, or the token string for a special token
     */
    public String surface(int i) {
        return starts[i] < 0 ? tokens.get(i) : text.substring(starts[i], ends[i]);
    }

    /**
     * @param key a per-token metadata key
     * @param i   a token index
     * @return the token's value for the key, or null when the key is absent
     */
    public String tag(String key, int i) {
        List<String> v = tags.get(key);
        return v == null ? null : v.get(i);
    }

    /** @return per token its first character, a copy */
    @Override
    public int[] starts() {
        return starts.clone();
    }

    /** @return per token the index after its last character, a copy */
    @Override
    public int[] ends() {
        return ends.clone();
    }

    /**
     * @param i a token index
     * @return its first character, or -1 for a special token
     */
    public int start(int i) {
        return starts[i];
    }

    /**
     * @param i a token index
     * @return the index after its last character, or -1 for a special token
     */
    public int end(int i) {
        return ends[i];
    }
}
