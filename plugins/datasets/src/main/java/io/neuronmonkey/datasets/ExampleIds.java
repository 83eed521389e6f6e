package io.neuronmonkey.datasets;

import java.util.AbstractList;
import java.util.RandomAccess;

/** The ids {@code prefix + (offset + i)} of a batch, made on demand instead of stored. */
final class ExampleIds extends AbstractList<String> implements RandomAccess {

    private final String prefix;
    private final long offset;
    private final int size;

    ExampleIds(String prefix, long offset, int size) {
        this.prefix = prefix;
        this.offset = offset;
        this.size = size;
    }

    @Override
    public String get(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("id " + index + " of " + size);
        }
        return prefix + (offset + index);
    }

    @Override
    public int size() {
        return size;
    }
}
