package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model ready to run. Holds native resources: close it. {@link #run} may be called from several threads.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface LoadedModel extends AutoCloseable {

    /** @return every layer that can be captured, in graph order; never empty */
    List<LayerInfo> layers();

    /**
     * @param name a layer name
     * @return the layer, or empty if the model has none of that name
     */
    default Optional<LayerInfo> layer(String name) {
        return layers().stream().filter(l -> l.name().equals(name)).findFirst();
    }

    /** @return the expected shape of one example, without the batch dimension */
    int[] inputShape();

    /** @return the name of the logits layer (pre-softmax output) */
    String logitsLayer();

    /**
     * Runs one batch and captures the given layers in a single model execution.
     *
     * @param inputs a FLOAT32 batch {@code [n, inputShape...]}
     * @param layers names from {@link #layers()}; may include {@link #logitsLayer()}
     * @return one tensor per requested name, shaped {@code [n, layer.shape...]}
     * @throws io.neuronmonkey.api.ModelException on an unknown layer or a failed run
     */
    Map<String, Tensor> run(Tensor inputs, Collection<String> layers);

    /** @return a short description of the format and source (for reports), non-null */
    String description();

    /** @return a SHA-256 hex digest of the model files, for provenance */
    String fingerprint();

    /** Releases native resources. Does not throw checked exceptions. */
    @Override
    void close();
}
