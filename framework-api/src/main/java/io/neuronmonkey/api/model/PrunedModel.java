package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link LoadedModel#prune} wrote: a smaller model whose removed units are cut out of the weights where the
 * graph allows it (structurally) and zeroed by a constant mask where it does not.
 *
 * @param path             the exported model (a folder the backend loads again, with the same layer names)
 * @param removed          layer name to the removed unit (neuron, channel) indices, ascending
 * @param structural       the layers whose units were cut out of the weights (the layer is narrower)
 * @param masked           layer name to the reason it could not be cut, for the layers pruned by a constant mask
 *                         instead (same width, the units' outputs multiplied by zero)
 * @param parametersBefore parameter values of the unpruned model (weights, biases, normalization statistics)
 * @param parametersAfter  parameter values of the exported model
 * @param bytesBefore      size on disk of the unpruned model's files, as it was loaded
 * @param bytesFrozen      size on disk of the unpruned model written the way the pruned one is (the fair baseline
 *                         for {@code bytesAfter}: a format change alone can shrink or grow a model)
 * @param bytesAfter       size on disk of the exported model's files
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.5.0")
public record PrunedModel(Path path, Map<String, List<Integer>> removed, List<String> structural,
                          Map<String, String> masked, long parametersBefore, long parametersAfter, long bytesBefore,
                          long bytesFrozen, long bytesAfter) {

    /**
     * Copies the collections, keeping their order.
     *
     * @param path             the exported model
     * @param removed          layer name to the removed unit indices
     * @param structural       the layers cut out of the weights
     * @param masked           layer name to the reason it was masked instead
     * @param parametersBefore parameter values of the unpruned model
     * @param parametersAfter  parameter values of the exported model
     * @param bytesBefore      size on disk of the unpruned model's files
     * @param bytesFrozen      size on disk of the unpruned model written the way the pruned one is
     * @param bytesAfter       size on disk of the exported model's files
     */
    public PrunedModel {
        if (path == null) {
            throw new IllegalArgumentException("a pruned model needs the path it was written to");
        }
        removed = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(removed));
        structural = List.copyOf(structural);
        masked = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(masked));
    }

    /** @return parameter values removed, {@code parametersBefore - parametersAfter} */
    public long parametersRemoved() {
        return parametersBefore - parametersAfter;
    }
}
