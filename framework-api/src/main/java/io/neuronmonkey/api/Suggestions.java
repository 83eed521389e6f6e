package io.neuronmonkey.api;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * "Did you mean" suggestions for error messages: the known names closest to a misspelt one. A known name that
 * contains the wanted one (or the reverse) scores 1; otherwise the edit distance counts, against the whole name or
 * its last {@code /}-separated part (so {@code dense} finds {@code sequential/dense}), up to a third of the wanted
 * name's length (at least 2). Case is ignored.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public final class Suggestions {

    private Suggestions() {
    }

    /**
     * @param wanted the name that was not found, non-null
     * @param known  the valid names, non-null
     * @param max    at most this many suggestions
     * @return the closest known names, best first (ties in name order); empty when none is close
     */
    public static List<String> near(String wanted, Collection<String> known, int max) {
        String w = wanted.toLowerCase(Locale.ROOT);
        int limit = Math.max(2, w.length() / 3);
        return known.stream()
                .map(k -> new Scored(k, score(w, k.toLowerCase(Locale.ROOT), limit)))
                .filter(s -> s.score >= 0)
                .sorted(Comparator.comparingInt(Scored::score).thenComparing(Scored::name))
                .limit(max)
                .map(Scored::name)
                .toList();
    }

    private record Scored(String name, int score) {
    }

    private static int score(String w, String k, int limit) {
        if (k.contains(w) || w.contains(k)) {
            return 1;
        }
        String tail = k.substring(k.lastIndexOf('/') + 1);
        int d = Math.min(distance(w, k), distance(w, tail));
        return d <= limit ? d : -1;
    }

    /**
     * @param a a string
     * @param b another string
     * @return the Levenshtein distance between {@code a} and {@code b}
     */
    public static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int sub = prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                cur[j] = Math.min(sub, Math.min(prev[j] + 1, cur[j - 1] + 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
