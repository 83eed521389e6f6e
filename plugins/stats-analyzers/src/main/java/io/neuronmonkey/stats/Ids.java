package io.neuronmonkey.stats;

import java.util.HashSet;
import java.util.Set;

/**
 * Part and finding ids of one result. Ids are built from layer names and metadata keys, which may hold any character,
 * so they are sanitized to {@code [A-Za-z0-9_-]} ({@link #sanitize}); {@link #prefix} keeps the prefixes of distinct
 * names distinct ({@code a/b} and {@code a_b} would both become {@code a_b}: the second gets {@code a_b_2}), and
 * {@link #unique} keeps every id of the result distinct, so a result is never refused for a repeated id.
 */
final class Ids {

    private final Set<String> prefixes = new HashSet<>();
    private final Set<String> ids = new HashSet<>();

    /** @return {@code name} with every character outside {@code [A-Za-z0-9_-]} replaced by '_' ({@code _} when empty) */
    static String sanitize(String name) {
        String s = name.replaceAll("[^A-Za-z0-9_-]", "_");
        return s.isEmpty() ? "_" : s;
    }

    /** @return the sanitized name, or with {@code _2}, {@code _3}, ... when another name of this result already has it */
    String prefix(String name) {
        String base = sanitize(name);
        String p = base;
        for (int i = 2; !prefixes.add(p); i++) {
            p = base + "_" + i;
        }
        return p;
    }

    /** @return {@code id}, or with {@code -2}, {@code -3}, ... when this result already has it */
    String unique(String id) {
        String p = id;
        for (int i = 2; !ids.add(p); i++) {
            p = id + "-" + i;
        }
        return p;
    }

    /**
     * A name usable as an array dimension ({@code [a-z][a-zA-Z0-9_]*}): the name itself when it already is one,
     * otherwise with other characters replaced by '_', a lower-case first letter and a leading {@code k} when it
     * does not start with a letter.
     */
    static String dimension(String name) {
        if (name.matches("[a-z][a-zA-Z0-9_]*")) {
            return name;
        }
        String s = name.replaceAll("[^a-zA-Z0-9_]", "_");
        if (s.isEmpty() || !Character.isLetter(s.charAt(0)) || s.charAt(0) > 'z') {
            s = "k" + s;
        }
        return Character.toLowerCase(s.charAt(0)) + s.substring(1);
    }
}
