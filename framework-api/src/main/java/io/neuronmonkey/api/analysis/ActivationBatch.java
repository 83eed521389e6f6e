package io.neuronmonkey.api.analysis;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Map;

/**
 * A batch of examples together with the activations captured for it.
 *
 * @param batch       the examples (inputs, labels, ids, metadata)
 * @param activations layer name to activations {@code [n, layer.shape...]}
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.1.0")
public record ActivationBatch(Batch batch, Map<String, Tensor> activations) {

    /**
     * Unmodifiable view of the activations.
     *
     * @param batch the examples (inputs, labels, ids, metadata)
     * @param activations layer name to activations {@code [n, layer.shape...]}
     */
    public ActivationBatch {
        activations = Map.copyOf(activations);
    }

    /**
     * @param layer a layer name of the step
     * @return its activations
     * @throws AnalysisException if the layer was not captured
     */
    public Tensor activation(String layer) {
        Tensor t = activations.get(layer);
        if (t == null) {
            throw new AnalysisException("layer '" + layer + "' was not captured; captured: " + activations.keySet());
        }
        return t;
    }

    /** @return number of examples */
    public int size() {
        return batch.size();
    }
}
