package io.neuronmonkey.api.data;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.tensor.DType;

import java.util.List;
import java.util.Objects;

/**
 * What a data set holds.
 *
 * @param size         number of examples, or -1 when unknown in advance
 * @param exampleShape shape of one example of the primary input without the batch dimension (for images
 *                     {@code [H, W, C]}, for token ids {@code [T]}, for raw text {@code []})
 * @param classNames   label names indexed by label; empty when the data has no labels
 * @param metadataKeys keys present in every example's metadata, in a stable order; may be empty
 * @param inputType    the element type of the primary input
 * @param features     the names of the further inputs every batch carries ({@link Batch#features()}); may be empty
 * @param tokenKeys    for text, the per-token metadata keys of every example's {@link Tokens#tags()}; may be empty
 * @param text         true when every batch carries {@link Batch#tokens()}
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record DatasetInfo(long size, int[] exampleShape, List<String> classNames, List<String> metadataKeys,
                          DType inputType, List<String> features, List<String> tokenKeys, boolean text) {

    /**
     * Defensive copies.
     *
     * @param size number of examples, or -1 when unknown in advance
     * @param exampleShape shape of one example of the primary input without the batch dimension
     * @param classNames label names indexed by label; empty when the data has no labels
     * @param metadataKeys keys present in every example's metadata, in a stable order; may be empty
     * @param inputType the element type of the primary input
     * @param features the names of the further inputs every batch carries; may be empty
     * @param tokenKeys for text, the per-token metadata keys; may be empty
     * @param text true when every batch carries tokens
     */
    public DatasetInfo {
        exampleShape = exampleShape.clone();
        classNames = List.copyOf(classNames);
        metadataKeys = List.copyOf(metadataKeys);
        Objects.requireNonNull(inputType, "inputType");
        features = List.copyOf(features);
        tokenKeys = List.copyOf(tokenKeys);
    }

    /**
     * Float examples of one input, not text.
     *
     * @param size number of examples, or -1 when unknown in advance
     * @param exampleShape shape of one example without the batch dimension
     * @param classNames label names indexed by label; empty when the data has no labels
     * @param metadataKeys keys present in every example's metadata; may be empty
     */
    public DatasetInfo(long size, int[] exampleShape, List<String> classNames, List<String> metadataKeys) {
        this(size, exampleShape, classNames, metadataKeys, DType.FLOAT32, List.of(), List.of(), false);
    }

    /** @return the example shape, a copy */
    @Override
    public int[] exampleShape() {
        return exampleShape.clone();
    }
}
