package io.neuronmonkey.api.visual;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.analysis.AnalysisResult;

import java.util.List;
import java.util.Optional;

/**
 * What an earlier step left behind.
 *
 * @param stepId    the step id
 * @param kind      {@code analyzer} or {@code visualizer}
 * @param extension the extension name (e.g. {@code activation-stats})
 * @param data      the data set name the step read; null if none
 * @param result    the analysis result (analyzers only)
 * @param artifacts files written by the step (visualizers only), in order
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record StepOutput(String stepId, String kind, String extension, String data,
                         Optional<AnalysisResult> result, List<Artifact> artifacts) {

    /**
     * Defensive copy.
     *
     * @param stepId the step id
     * @param kind {@code analyzer} or {@code visualizer}
     * @param extension the extension name (e.g. {@code activation-stats})
     * @param data the data set name the step read; null if none
     * @param result the analysis result (analyzers only)
     * @param artifacts files written by the step (visualizers only), in order
     */
    public StepOutput {
        artifacts = List.copyOf(artifacts);
    }
}
