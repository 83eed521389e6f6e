package io.neuronmonkey.api.visual;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run as a report shows it.
 *
 * @param experiment       experiment name
 * @param configYaml       the experiment file's text
 * @param modelDescription the model's description; empty when there is no model
 * @param layers           the model's layers; empty when there is no model
 * @param data             data set name to its info
 * @param provenance       versions, hashes, seed and start time, as written to {@code provenance.json}
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record RunSummary(String experiment, String configYaml, String modelDescription, List<LayerInfo> layers,
                         Map<String, DatasetInfo> data, Map<String, Object> provenance) {

    /** Defensive copies that keep the callers' order. */
    public RunSummary {
        layers = List.copyOf(layers);
        data = Collections.unmodifiableMap(new LinkedHashMap<>(data));
        provenance = Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
    }
}
