package io.neuronmonkey.concepts;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One concept as declared under {@code concepts:}: a name and where its examples come from, exactly one of
 * {@code where:} (a metadata filter on the step's data), {@code data:} (another data set of the experiment) or
 * {@code label:} (a class of the step's data).
 *
 * @param name    the concept name, {@code [A-Za-z0-9_-]+}
 * @param kind    where the examples come from
 * @param where   the metadata filter (kind {@link Kind#WHERE}), else empty
 * @param source  the data set name (kind {@link Kind#DATA}) or class name (kind {@link Kind#LABEL}), else null
 */
record ConceptSpec(String name, Kind kind, Map<String, String> where, String source) {

    /** Where a concept's examples come from. */
    enum Kind {
        /** examples of the step's data that pass a metadata filter */
        WHERE,
        /** every example of another data set */
        DATA,
        /** examples of the step's data with one label */
        LABEL
    }

    /** The keys a concept declaration may have. */
    static final List<String> KEYS = List.of("where", "data", "label");

    /** Copies the filter. */
    ConceptSpec {
        where = Map.copyOf(where);
    }

    /** @return e.g. {@code where watermark=on}, {@code data set 'stripes'}, {@code label square} */
    String describe() {
        return switch (kind) {
            case WHERE -> "where " + String.join(", ", where.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .map(e -> e.getKey() + "=" + e.getValue()).toList());
            case DATA -> "data set '" + source + "'";
            case LABEL -> "label " + source;
        };
    }

    /**
     * Parses the {@code concepts:} mapping.
     *
     * @param concepts concept name to its declaration, as bound from YAML
     * @param problems where each problem goes, as a message naming the concept
     * @return the concepts, in the order given; those with problems left out
     */
    static List<ConceptSpec> parse(Map<String, ?> concepts, List<String> problems) {
        List<ConceptSpec> out = new ArrayList<>();
        if (concepts == null) {
            return out;
        }
        for (Map.Entry<String, ?> e : concepts.entrySet()) {
            parse(String.valueOf(e.getKey()), e.getValue(), problems).ifPresent(out::add);
        }
        return out;
    }

    private static Optional<ConceptSpec> parse(String name, Object decl, List<String> problems) {
        String valid = "e.g. {where: {watermark: on}}, {data: stripes} or {label: square}";
        if (!name.matches("[A-Za-z0-9_-]+")) {
            problems.add("concept name '" + name + "' must match [A-Za-z0-9_-]+ (it names result parts)");
            return Optional.empty();
        }
        if (!(decl instanceof Map<?, ?> map) || map.size() != 1 || !KEYS.contains(String.valueOf(map.keySet().iterator().next()))) {
            problems.add("concept '" + name + "' needs exactly one of " + KEYS + ", " + valid + "; found " + decl);
            return Optional.empty();
        }
        String key = String.valueOf(map.keySet().iterator().next());
        Object value = map.values().iterator().next();
        if (key.equals("where")) {
            if (!(value instanceof Map<?, ?> w) || w.isEmpty()) {
                problems.add("concept '" + name + "': 'where' must be a non-empty metadata filter, e.g. {watermark: on}; found " + value);
                return Optional.empty();
            }
            Map<String, String> filter = new LinkedHashMap<>();
            w.forEach((k, v) -> filter.put(String.valueOf(k), String.valueOf(v)));
            return Optional.of(new ConceptSpec(name, Kind.WHERE, filter, null));
        }
        if (value == null || value instanceof Map<?, ?> || value instanceof List<?> || String.valueOf(value).isBlank()) {
            problems.add("concept '" + name + "': '" + key + "' must name a " + (key.equals("data") ? "data set" : "class")
                    + ", " + valid + "; found " + value);
            return Optional.empty();
        }
        return Optional.of(new ConceptSpec(name, key.equals("data") ? Kind.DATA : Kind.LABEL, Map.of(), String.valueOf(value)));
    }
}
