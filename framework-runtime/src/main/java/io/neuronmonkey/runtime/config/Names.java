package io.neuronmonkey.runtime.config;

import io.neuronmonkey.api.Suggestions;

import java.util.Collection;
import java.util.List;

/** Messages for unknown names, with the API's {@link Suggestions}. */
public final class Names {

    private Names() {
    }

    /** "unknown analyzer 'x'; did you mean 'y'? known: a, b" style text. */
    public static String unknown(String what, String wanted, Collection<String> known) {
        List<String> near = Suggestions.near(wanted, known, 3);
        StringBuilder sb = new StringBuilder("unknown ").append(what).append(" '").append(wanted).append("'");
        if (!near.isEmpty()) {
            sb.append("; did you mean ").append(String.join(" or ", near.stream().map(n -> "'" + n + "'").toList())).append("?");
        }
        sb.append(near.isEmpty() ? "; " : " ");
        sb.append(known.isEmpty() ? "none is available" : "known: " + String.join(", ", known.stream().sorted().toList()));
        return sb.toString();
    }
}
