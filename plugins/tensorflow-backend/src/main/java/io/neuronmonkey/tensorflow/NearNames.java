package io.neuronmonkey.tensorflow;

import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** Suggests known names close to a misspelt one (edit distance or substring), for error messages. */
final class NearNames {

    private NearNames() {
    }

    /**
     * @param wanted the name that was not found
     * @param known  the valid names
     * @param max    at most this many suggestions
     * @return the closest known names, best first; empty when none is close
     */
    static List<String> near(String wanted, List<String> known, int max) {
        String w = wanted.toLowerCase(Locale.ROOT);
        int limit = Math.max(2, w.length() / 3);
        return known.stream()
                .map(k -> new Scored(k, score(w, k.toLowerCase(Locale.ROOT), limit)))
                .filter(s -> s.score >= 0)
                .sorted(Comparator.comparingInt((Scored s) -> s.score).thenComparing(s -> s.name))
                .limit(max)
                .map(s -> s.name)
                .toList();
    }

    private record Scored(String name, int score) {
    }

    /** @return the edit distance (substrings count as 1), or -1 when too far */
    private static int score(String w, String k, int limit) {
        if (k.contains(w) || w.contains(k)) {
            return 1;
        }
        String kTail = k.substring(k.lastIndexOf('/') + 1);
        int d = Math.min(distance(w, k), distance(w, kTail));
        return d <= limit ? d : -1;
    }

    static int distance(String a, String b) {
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
