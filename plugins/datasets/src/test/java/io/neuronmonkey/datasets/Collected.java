package io.neuronmonkey.datasets;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One whole pass of a data set, concatenated; checks batch offsets, sizes and shapes on the way. */
record Collected(float[] inputs, int[] labels, List<String> ids, List<Map<String, String>> metadata) {

    static Collected pass(Dataset ds, int batchSize) {
        long size = ds.info().size();
        int[] shape = ds.info().exampleShape();
        int row = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] x = new float[Math.toIntExact(size * row)];
        int[] y = ds.info().classNames().isEmpty() ? null : new int[Math.toIntExact(size)];
        List<String> ids = new ArrayList<>();
        List<Map<String, String>> meta = new ArrayList<>();
        long offset = 0;
        Iterator<Batch> it = ds.batches(batchSize);
        while (it.hasNext()) {
            Batch b = it.next();
            assertEquals(offset, b.offset(), "batch offset");
            assertTrue(b.size() == batchSize || offset + b.size() == size, "only the last batch may be short");
            int[] expected = new int[shape.length + 1];
            expected[0] = b.size();
            System.arraycopy(shape, 0, expected, 1, shape.length);
            assertArrayEquals(expected, b.inputs().shape(), "batch shape");
            System.arraycopy(b.inputs().floats(), 0, x, (int) offset * row, b.size() * row);
            if (y == null) {
                assertNull(b.labels(), "no labels expected");
            } else {
                System.arraycopy(b.labels(), 0, y, (int) offset, b.size());
            }
            ids.addAll(b.ids());
            meta.addAll(b.metadata());
            offset += b.size();
        }
        assertEquals(size, offset, "examples in one pass");
        return new Collected(x, y, ids, meta);
    }
}
