package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.RunEnvironment;

import java.nio.file.Path;

/**
 * What a {@link ModelBackend} gets to load a model.
 *
 * @param <P> the backend's params record
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface ModelContext<P extends Record> extends RunEnvironment {

    /** @return the model path, resolved against the experiment file's folder; it exists */
    Path path();

    /** @return the validated params bound from the {@code model:} section */
    P params();
}
