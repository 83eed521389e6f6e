package io.neuronmonkey.runtime.config;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/** Suggestions for misspelt names: substring matches first, then small edit distances. */
public final class Names {

    private Names() {
    }

    public static List<String> near(String wanted, Collection<String> known, int max) {
        String w = wanted.toLowerCase(Locale.ROOT);
        int limit = Math.max(2, w.length() / 3);
        return known.stream()
                .filter(k -> {
                    String kl = k.toLowerCase(Locale.ROOT);
                    return kl.contains(w) || w.contains(kl) || distance(w, kl) <= limit;
                })
                .sorted(Comparator.comparingInt((String k) -> distance(w, k.toLowerCase(Locale.ROOT))).thenComparing(k -> k))
                .limit(max)
                .toList();
    }

    /** "unknown analyzer 'x'; did you mean 'y'? known: a, b" style text. */
    public static String unknown(String what, String wanted, Collection<String> known) {
        List<String> near = near(wanted, known, 3);
        StringBuilder sb = new StringBuilder("unknown ").append(what).append(" '").append(wanted).append("'");
        if (!near.isEmpty()) {
            sb.append("; did you mean ").append(String.join(" or ", near.stream().map(n -> "'" + n + "'").toList())).append("?");
        }
        sb.append(near.isEmpty() ? "; " : " ");
        sb.append(known.isEmpty() ? "none is available" : "known: " + String.join(", ", known.stream().sorted().toList()));
        return sb.toString();
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
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }
}
