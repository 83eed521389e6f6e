package io.neuronmonkey.api.data;

import io.neuronmonkey.api.ApiStatus;

import java.util.List;

/**
 * What a data set holds.
 *
 * @param size         number of examples, or -1 when unknown in advance
 * @param exampleShape shape of one example without the batch dimension (for images {@code [H, W, C]})
 * @param classNames   label names indexed by label; empty when the data has no labels
 * @param metadataKeys keys present in every example's metadata, in a stable order; may be empty
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record DatasetInfo(long size, int[] exampleShape, List<String> classNames, List<String> metadataKeys) {

    /**
     * Defensive copies.
     *
     * @param size number of examples, or -1 when unknown in advance
     * @param exampleShape shape of one example without the batch dimension (for images {@code [H, W, C]})
     * @param classNames label names indexed by label; empty when the data has no labels
     * @param metadataKeys keys present in every example's metadata, in a stable order; may be empty
     */
    public DatasetInfo {
        exampleShape = exampleShape.clone();
        classNames = List.copyOf(classNames);
        metadataKeys = List.copyOf(metadataKeys);
    }

    /** @return the exampleShape, a copy (the record keeps its own) */
    @Override
    public int[] exampleShape() {
        return exampleShape.clone();
    }
}
