package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Map;
import java.util.Objects;

/**
 * What one model run is fed: the primary batch (images, vectors, token ids or raw text) and, for models with several
 * inputs, further tensors by name (for example {@code attention_mask}, {@code token_type_ids}). Every tensor has the
 * same number of rows.
 *
 * <p>The backend feeds each named tensor to the model input of that name (after the backend's own renames) and the
 * primary tensor to the one model input no named tensor matches. Named tensors no model input asks for are not fed:
 * an attention mask still tells analyzers which positions are padding.
 *
 * @param primary the primary batch {@code [n, ...]}, non-null
 * @param named   further inputs by name, each {@code [n, ...]}; empty for a single-input model
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.4.0")
public record ModelInputs(Tensor primary, Map<String, Tensor> named) {

    /**
     * Checks that every tensor has the primary's row count.
     *
     * @param primary the primary batch {@code [n, ...]}, non-null
     * @param named   further inputs by name, each {@code [n, ...]}
     */
    public ModelInputs {
        Objects.requireNonNull(primary, "primary");
        named = named == null ? Map.of() : Map.copyOf(named);
        for (Map.Entry<String, Tensor> e : named.entrySet()) {
            if (e.getValue().rows() != primary.rows()) {
                throw new IllegalArgumentException("input '" + e.getKey() + "' has " + e.getValue().rows()
                        + " rows, the primary input " + primary.rows());
            }
        }
    }

    /**
     * @param primary the only input
     * @return inputs of a single-input model
     */
    public static ModelInputs of(Tensor primary) {
        return new ModelInputs(primary, Map.of());
    }

    /** @return the number of rows */
    public int rows() {
        return primary.rows();
    }

    /**
     * @param rows rows to keep, in order
     * @return the same inputs restricted to those rows
     */
    public ModelInputs select(int[] rows) {
        Map<String, Tensor> n = new java.util.LinkedHashMap<>();
        named.forEach((k, v) -> n.put(k, v.select(rows)));
        return new ModelInputs(primary.select(rows), n);
    }

    /**
     * @param replacement a new primary batch with the same rows
     * @return these inputs with the primary replaced (for example by perturbed images), the named ones kept
     */
    public ModelInputs withPrimary(Tensor replacement) {
        return new ModelInputs(replacement, named);
    }
}
