package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;
import org.pf4j.ExtensionPoint;

/**
 * Reads one model format. Referenced from YAML by its {@link io.neuronmonkey.api.ExtensionName} under
 * {@code model.backend}; every key of the {@code model:} section other than {@code backend} and {@code path} is
 * bound to {@code P}.
 *
 * @param <P> the immutable params record of this backend ({@link io.neuronmonkey.api.NoParams} for none)
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface ModelBackend<P extends Record> extends ExtensionPoint {

    /**
     * Loads the model.
     *
     * @param ctx where the model is and the bound params; non-null
     * @return the loaded model; the caller closes it
     * @throws io.neuronmonkey.api.ModelException if the model cannot be read, naming the path and the reason
     */
    LoadedModel load(ModelContext<P> ctx);
}
