package io.neuronmonkey.text;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Named word lists that tag tokens: a token's {@link #KEY} value is the name of the first listed lexicon holding the
 * word the token lies in (compared lower-cased), else {@link #NONE}. A sub-word token takes the tag of its whole word
 * (the run of letters, digits and apostrophes of the text around it); a special token is {@link #NONE}.
 */
final class Lexicons {

    /** The per-token metadata key. */
    static final String KEY = "lexicon";

    /** The tag of a token in no lexicon. */
    static final String NONE = "none";

    private final Map<String, Set<String>> lists;

    /** @param lists lexicon name to its words (any case), in priority order */
    Lexicons(Map<String, ? extends Iterable<String>> lists) {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        lists.forEach((name, words) -> {
            java.util.HashSet<String> lower = new java.util.HashSet<>();
            words.forEach(w -> lower.add(w.toLowerCase(Locale.ROOT)));
            m.put(name, Set.copyOf(lower));
        });
        this.lists = m;
    }

    /** @return true when no lexicon is given, so tokens carry no tags */
    boolean isEmpty() {
        return lists.isEmpty();
    }

    /**
     * @param word a word
     * @return the name of the first lexicon holding it (lower-cased), or {@link #NONE}
     */
    String tagOf(String word) {
        String w = word.toLowerCase(Locale.ROOT);
        for (Map.Entry<String, Set<String>> e : lists.entrySet()) {
            if (e.getValue().contains(w)) {
                return e.getKey();
            }
        }
        return NONE;
    }

    /**
     * @param text     the raw text
     * @param encoding its tokens
     * @param length   how many leading tokens to tag
     * @return one tag per token
     */
    List<String> tags(String text, TextEncoding encoding, int length) {
        List<String> out = new ArrayList<>(length);
        int[] starts = encoding.starts();
        int[] ends = encoding.ends();
        for (int i = 0; i < length; i++) {
            if (starts[i] < 0 || ends[i] <= starts[i]) {
                out.add(NONE);
                continue;
            }
            int s = starts[i];
            int e = ends[i];
            while (s > 0 && WordVocabulary.isWordChar(text.codePointBefore(s))) {
                s -= Character.charCount(text.codePointBefore(s));
            }
            while (e < text.length() && WordVocabulary.isWordChar(text.codePointAt(e))) {
                e += Character.charCount(text.codePointAt(e));
            }
            out.add(tagOf(text.substring(s, e).strip()));
        }
        return out;
    }
}
