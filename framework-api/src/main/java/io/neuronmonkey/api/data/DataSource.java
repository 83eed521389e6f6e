package io.neuronmonkey.api.data;

import io.neuronmonkey.api.ApiStatus;
import org.pf4j.ExtensionPoint;

/**
 * Opens a data set. Referenced from YAML by its {@link io.neuronmonkey.api.ExtensionName} under
 * {@code data.<name>.source}; {@code data.<name>.params} is bound to {@code P}.
 *
 * @param <P> the immutable params record of this source
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface DataSource<P extends Record> extends ExtensionPoint {

    /**
     * @param ctx params and run environment; non-null
     * @return the opened data set; the caller closes it
     * @throws io.neuronmonkey.api.DataException if files are missing or malformed, naming the file and the problem
     */
    Dataset open(DataContext<P> ctx);
}
