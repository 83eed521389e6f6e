package io.neuronmonkey.api.visual;

import io.neuronmonkey.api.ApiStatus;

/**
 * A file a visualizer wrote.
 *
 * @param stepId    the step that wrote it
 * @param file      path relative to the run's output folder, '/'-separated (e.g. {@code hist/census-conv1.png})
 * @param title     a human-readable caption
 * @param mediaType e.g. {@code image/png}, {@code image/svg+xml}, {@code text/html}
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public record Artifact(String stepId, String file, String title, String mediaType) {
}
