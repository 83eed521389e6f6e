package io.neuronmonkey.api.analysis;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.ResultPart;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * What an analysis produced, in the result vocabulary of {@link io.neuronmonkey.api.result}: typed
 * {@link ResultPart}s and {@link Finding}s that the report and other tools read without a reader per analyzer; a
 * small JSON-like {@code summary} of run facts and method notes (the number of examples, thresholds, the definitions
 * used); and optional extra named arrays. Summary values are {@code null}, {@link String}, {@link Number},
 * {@link Boolean}, {@link List} or {@link Map} with string keys. The runtime writes it all as {@code result.json}
 * (with a schema version) plus one {@code .npy} per array. Immutable once built.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public final class AnalysisResult {

    private final Map<String, Object> summary;
    private final Map<String, Tensor> arrays;
    private final List<ResultPart> parts;
    private final List<Finding> findings;

    private AnalysisResult(Map<String, Object> summary, Map<String, Tensor> arrays, List<ResultPart> parts,
                           List<Finding> findings) {
        this.summary = Collections.unmodifiableMap(new LinkedHashMap<>(summary));
        this.arrays = Collections.unmodifiableMap(new LinkedHashMap<>(arrays));
        this.parts = List.copyOf(parts);
        this.findings = List.copyOf(findings);
        Set<String> ids = new HashSet<>();
        for (ResultPart p : this.parts) {
            if (!ids.add(p.id())) {
                throw new IllegalArgumentException("two result parts have the id '" + p.id() + "'");
            }
        }
        Set<String> findingIds = new HashSet<>();
        for (Finding f : this.findings) {
            if (!findingIds.add(f.id())) {
                throw new IllegalArgumentException("two findings have the id '" + f.id() + "'");
            }
            for (String e : f.evidence()) {
                if (!ids.contains(e)) {
                    throw new IllegalArgumentException("finding '" + f.id() + "' cites part '" + e
                            + "', which this result does not have; parts: " + ids);
                }
            }
        }
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @param summary a JSON-like tree
     * @param arrays  named arrays
     * @return a result holding both (used when reading results back from disk)
     */
    public static AnalysisResult of(Map<String, Object> summary, Map<String, Tensor> arrays) {
        return new AnalysisResult(summary, arrays, List.of(), List.of());
    }

    /**
     * @param summary  a JSON-like tree
     * @param arrays   extra named arrays
     * @param parts    typed parts, unique ids
     * @param findings findings whose evidence ids name parts in {@code parts}
     * @return a result holding all of them (used when reading results back from disk)
     */
    public static AnalysisResult of(Map<String, Object> summary, Map<String, Tensor> arrays, List<ResultPart> parts,
                                    List<Finding> findings) {
        return new AnalysisResult(summary, arrays, parts, findings);
    }

    /** @return the typed parts, in the order the analyzer added them */
    public List<ResultPart> parts() {
        return parts;
    }

    /** @return the findings, most important first as the analyzer ordered them */
    public List<Finding> findings() {
        return findings;
    }

    /**
     * @param id   a part id
     * @param type the expected part type
     * @param <T>  the part type
     * @return the part with that id and type, if present
     */
    public <T extends ResultPart> Optional<T> part(String id, Class<T> type) {
        return parts.stream().filter(p -> p.id().equals(id) && type.isInstance(p)).map(type::cast).findFirst();
    }

    /**
     * @param type a part type
     * @param <T>  the part type
     * @return every part of that type, in order
     */
    public <T extends ResultPart> List<T> parts(Class<T> type) {
        return parts.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** @return the summary tree, in insertion order */
    public Map<String, Object> summary() {
        return summary;
    }

    /** @return the named arrays, in insertion order */
    public Map<String, Tensor> arrays() {
        return arrays;
    }

    /**
     * @param name array name
     * @return the array, if present
     */
    public Optional<Tensor> array(String name) {
        return Optional.ofNullable(arrays.get(name));
    }

    /** Builds an {@link AnalysisResult}. */
    public static final class Builder {
        private final Map<String, Object> summary = new LinkedHashMap<>();
        private final Map<String, Tensor> arrays = new LinkedHashMap<>();
        private final List<ResultPart> parts = new ArrayList<>();
        private final List<Finding> findings = new ArrayList<>();

        private Builder() {
        }

        /**
         * @param part a typed part; its id must be new in this result
         * @return this builder
         */
        public Builder part(ResultPart part) {
            parts.add(java.util.Objects.requireNonNull(part, "part"));
            return this;
        }

        /**
         * @param finding a finding; its evidence must name parts of this result (checked by {@link #build})
         * @return this builder
         */
        public Builder finding(Finding finding) {
            findings.add(java.util.Objects.requireNonNull(finding, "finding"));
            return this;
        }

        /**
         * @param key   summary key
         * @param value a JSON-like value (see the class comment)
         * @return this builder
         */
        public Builder put(String key, Object value) {
            checkJsonLike(key, value);
            summary.put(key, value);
            return this;
        }

        /**
         * @param name   array name: letters, digits, '-', '_' (it becomes a file name)
         * @param tensor the array
         * @return this builder
         */
        public Builder array(String name, Tensor tensor) {
            if (!name.matches("[A-Za-z0-9_-]+")) {
                throw new IllegalArgumentException("array name '" + name + "' must match [A-Za-z0-9_-]+");
            }
            arrays.put(name, tensor);
            return this;
        }

        /** @return the result */
        public AnalysisResult build() {
            return new AnalysisResult(summary, arrays, parts, findings);
        }

        private static void checkJsonLike(String path, Object value) {
            if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean) {
                return;
            }
            if (value instanceof List<?> list) {
                for (int i = 0; i < list.size(); i++) {
                    checkJsonLike(path + "[" + i + "]", list.get(i));
                }
                return;
            }
            if (value instanceof Map<?, ?> map) {
                for (Map.Entry<?, ?> e : map.entrySet()) {
                    if (!(e.getKey() instanceof String k)) {
                        throw new IllegalArgumentException(path + ": map keys must be strings, found " + e.getKey());
                    }
                    checkJsonLike(path + "." + k, e.getValue());
                }
                return;
            }
            throw new IllegalArgumentException(path + ": " + value.getClass().getName()
                    + " is not JSON-like (use String, Number, Boolean, List, Map or put it in an array)");
        }
    }
}
