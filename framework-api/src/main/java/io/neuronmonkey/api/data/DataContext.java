package io.neuronmonkey.api.data;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.RunEnvironment;

/**
 * What a {@link DataSource} gets to open a data set.
 *
 * @param <P> the source's params record
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface DataContext<P extends Record> extends RunEnvironment {

    /** @return the name of the data set in the experiment ({@code data.<name>}) */
    String name();

    /** @return the validated params */
    P params();
}
