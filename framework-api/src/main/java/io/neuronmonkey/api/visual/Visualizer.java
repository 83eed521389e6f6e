package io.neuronmonkey.api.visual;

import io.neuronmonkey.api.ApiStatus;
import org.pf4j.ExtensionPoint;

/**
 * Draws pictures or reports from the results of earlier steps. Referenced from YAML by its
 * {@link io.neuronmonkey.api.ExtensionName} under {@code steps[i].visualizer}.
 *
 * @param <P> the immutable params record ({@link io.neuronmonkey.api.NoParams} for none)
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface Visualizer<P extends Record> extends ExtensionPoint {

    /**
     * @param ctx the inputs, run summary and output functions; non-null
     * @throws io.neuronmonkey.api.OutputException when the pictures cannot be made or written
     */
    void render(VisualizerContext<P> ctx);
}
