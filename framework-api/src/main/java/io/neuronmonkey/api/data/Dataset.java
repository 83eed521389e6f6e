package io.neuronmonkey.api.data;

import io.neuronmonkey.api.ApiStatus;

import java.util.Iterator;

/**
 * An opened data set that can be read in batches any number of times, always in the same order.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface Dataset extends AutoCloseable {

    /** @return shape, size, class names and metadata keys */
    DatasetInfo info();

    /**
     * Reads the data from the start. Each call starts a new, independent pass; passes yield identical batches.
     *
     * @param batchSize maximum examples per batch, >= 1; the last batch may be smaller
     * @return the batches in order
     */
    Iterator<Batch> batches(int batchSize);

    /**
     * @return a SHA-256 hex digest identifying the content: of the files read, or of the generator and its params
     */
    String fingerprint();

    /** Releases files and buffers. Does not throw checked exceptions. */
    @Override
    default void close() {
    }
}
