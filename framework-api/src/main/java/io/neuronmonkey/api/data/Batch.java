package io.neuronmonkey.api.data;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.List;
import java.util.Map;

/**
 * A batch of consecutive examples.
 *
 * @param offset   index of the first example in the data set, >= 0
 * @param inputs   FLOAT32 tensor {@code [n, exampleShape...]}
 * @param labels   class index per example ({@code -1} where unknown); length n; null when the data has no labels
 * @param ids      a stable id per example, length n
 * @param metadata per example a map of metadata key to value (strings), length n; empty maps when none
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record Batch(long offset, Tensor inputs, int[] labels, List<String> ids, List<Map<String, String>> metadata) {

    /**
     * Checks that every per-example list has n entries.
     *
     * @param offset index of the first example in the data set, >= 0
     * @param inputs FLOAT32 tensor {@code [n, exampleShape...]}
     * @param labels class index per example ({@code -1} where unknown); length n; null when the data has no labels
     * @param ids a stable id per example, length n
     * @param metadata per example a map of metadata key to value (strings), length n; empty maps when none
     */
    public Batch {
        int n = inputs.rows();
        if (labels != null && labels.length != n || ids.size() != n || metadata.size() != n) {
            throw new IllegalArgumentException("batch of " + n + " examples has " + (labels == null ? "no" : labels.length)
                    + " labels, " + ids.size() + " ids, " + metadata.size() + " metadata entries");
        }
    }

    /** @return number of examples */
    public int size() {
        return inputs.rows();
    }

    /** @return true if labels are present */
    public boolean hasLabels() {
        return labels != null;
    }
}
