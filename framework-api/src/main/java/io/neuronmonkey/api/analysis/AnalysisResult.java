package io.neuronmonkey.api.analysis;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What an analysis produced: a JSON-like summary tree (written as {@code result.json}) and named arrays (written as
 * {@code <name>.npy}). Summary values are {@code null}, {@link String}, {@link Number}, {@link Boolean},
 * {@link List} or {@link Map} with string keys, nested freely. Immutable once built.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public final class AnalysisResult {

    private final Map<String, Object> summary;
    private final Map<String, Tensor> arrays;

    private AnalysisResult(Map<String, Object> summary, Map<String, Tensor> arrays) {
        this.summary = Collections.unmodifiableMap(new LinkedHashMap<>(summary));
        this.arrays = Collections.unmodifiableMap(new LinkedHashMap<>(arrays));
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
        return new AnalysisResult(summary, arrays);
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

        private Builder() {
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
            return new AnalysisResult(summary, arrays);
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
