package io.neuronmonkey.api.visual;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Finding;

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
 * @param steps            how every step of the run stands when the visualizer runs (earlier steps have ended,
 *                         this one is {@code running}, later ones {@code pending}), in run order
 * @param findings         what the runtime itself found about the run so far (e.g. NaN or infinite values in a data
 *                         set's inputs), most important first; evidence lists are empty
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record RunSummary(String experiment, String configYaml, String modelDescription, List<LayerInfo> layers,
                         Map<String, DatasetInfo> data, Map<String, Object> provenance, List<StepState> steps,
                         List<Finding> findings) {

    /**
     * Defensive copies that keep the callers' order.
     *
     * @param experiment experiment name
     * @param configYaml the experiment file's text
     * @param modelDescription the model's description; empty when there is no model
     * @param layers the model's layers; empty when there is no model
     * @param data data set name to its info
     * @param provenance versions, hashes, seed and start time, as written to {@code provenance.json}
     * @param steps how every step of the run stands when the visualizer runs (earlier steps have ended,
     *             this one is {@code running}, later ones {@code pending}), in run order
     * @param findings what the runtime itself found about the run so far (e.g. NaN or infinite values in a data
     *                set's inputs), most important first; evidence lists are empty
     */
    public RunSummary {
        steps = List.copyOf(steps);
        findings = List.copyOf(findings);
        layers = List.copyOf(layers);
        data = Collections.unmodifiableMap(new LinkedHashMap<>(data));
        provenance = Collections.unmodifiableMap(new LinkedHashMap<>(provenance));
    }

    /**
     * The run summary of earlier releases, without step states.
     *
     * @param experiment       experiment name
     * @param configYaml       the experiment file's text
     * @param modelDescription the model's description
     * @param layers           the model's layers
     * @param data             data set name to its info
     * @param provenance       provenance
     */
    public RunSummary(String experiment, String configYaml, String modelDescription, List<LayerInfo> layers,
                      Map<String, DatasetInfo> data, Map<String, Object> provenance) {
        this(experiment, configYaml, modelDescription, layers, data, provenance, List.of(), List.of());
    }

    /**
     * One step as the run stands.
     *
     * @param id        step id
     * @param extension the analyzer or visualizer name
     * @param state     {@code completed}, {@code failed}, {@code skipped}, {@code running} or {@code pending}
     * @param seconds   how long it ran; 0 when it has not
     * @param error     why it failed or was skipped; null otherwise
     */
    public record StepState(String id, String extension, String state, double seconds, String error) {
    }
}
