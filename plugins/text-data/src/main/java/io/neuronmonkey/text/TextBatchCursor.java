package io.neuronmonkey.text;

import io.neuronmonkey.api.data.Batch;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * One pass over a data set of known size: hands out consecutive batches of at most {@code batchSize} examples and
 * calls {@link #done()} once the last one has been read (or the pass failed).
 */
abstract class TextBatchCursor implements Iterator<Batch>, AutoCloseable {

    private final long size;
    private final int batchSize;
    private long offset;
    private boolean closed;

    TextBatchCursor(long size, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batchSize must be >= 1, found " + batchSize);
        }
        this.size = size;
        this.batchSize = batchSize;
    }

    @Override
    public final boolean hasNext() {
        boolean more = offset < size;
        if (!more) {
            close();
        }
        return more;
    }

    @Override
    public final Batch next() {
        if (!hasNext()) {
            throw new NoSuchElementException("the pass has ended after " + size + " examples");
        }
        int n = (int) Math.min(batchSize, size - offset);
        Batch b;
        try {
            b = read(offset, n);
        } catch (RuntimeException e) {
            close();
            throw e;
        }
        offset += n;
        if (offset >= size) {
            close();
        }
        return b;
    }

    /**
     * @param offset index of the first example
     * @param n      examples to read, >= 1
     * @return the batch
     */
    abstract Batch read(long offset, int n);

    /** Releases what the pass holds; called once. */
    void done() {
    }

    @Override
    public final void close() {
        if (!closed) {
            closed = true;
            done();
        }
    }
}
