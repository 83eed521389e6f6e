package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;

import java.util.Objects;

/**
 * One neuron of one layer: a channel of a spatial layer, a unit of a dense one.
 *
 * @param layer  the layer name as in YAML {@code layers:}, non-null
 * @param neuron the neuron index within the layer, {@code >= 0}
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public record NeuronRef(String layer, int neuron) implements Comparable<NeuronRef> {

    /**
     * Checks the fields.
     *
     * @param layer the layer name as in YAML {@code layers:}, non-null
     * @param neuron the neuron index within the layer, {@code >= 0}
     */
    public NeuronRef {
        Objects.requireNonNull(layer, "layer");
        if (neuron < 0) {
            throw new IllegalArgumentException("neuron index must be >= 0, found " + neuron);
        }
    }

    @Override
    public int compareTo(NeuronRef o) {
        int c = layer.compareTo(o.layer);
        return c != 0 ? c : Integer.compare(neuron, o.neuron);
    }

    /** @return {@code layer #neuron}, as the report writes it */
    @Override
    public String toString() {
        return layer + " #" + neuron;
    }
}
