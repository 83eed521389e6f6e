package io.neuronmonkey.text;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One whole pass of a text data set, concatenated; checks offsets, shapes and the padding conventions on the way. */
record TextPass(int[] ids, int[] mask, int[] typeIds, int[] labels, List<String> exampleIds,
                List<Map<String, String>> metadata, List<Tokens> tokens, int length) {

    static TextPass of(Dataset ds, int batchSize) {
        int t = ds.info().exampleShape()[0];
        int size = Math.toIntExact(ds.info().size());
        int[] ids = new int[size * t];
        int[] mask = new int[size * t];
        boolean types = ds.info().features().contains(Batch.TOKEN_TYPE_IDS);
        int[] typeIds = types ? new int[size * t] : null;
        int[] labels = ds.info().classNames().isEmpty() ? null : new int[size];
        List<String> exampleIds = new ArrayList<>();
        List<Map<String, String>> metadata = new ArrayList<>();
        List<Tokens> tokens = new ArrayList<>();
        long offset = 0;
        Iterator<Batch> it = ds.batches(batchSize);
        while (it.hasNext()) {
            Batch b = it.next();
            assertEquals(offset, b.offset(), "batch offset");
            assertTrue(b.isText(), "a text batch carries tokens");
            assertEquals(DType.INT32, b.inputs().dtype());
            assertArrayEquals(new int[] {b.size(), t}, b.inputs().shape(), "ids shape");
            Tensor m = b.features().get(Batch.ATTENTION_MASK);
            assertArrayEquals(new int[] {b.size(), t}, m.shape(), "mask shape");
            assertEquals(ds.info().features(), List.copyOf(b.features().keySet()), "features as the info lists them");
            System.arraycopy(b.inputs().ints(), 0, ids, (int) offset * t, b.size() * t);
            System.arraycopy(m.ints(), 0, mask, (int) offset * t, b.size() * t);
            if (types) {
                System.arraycopy(b.features().get(Batch.TOKEN_TYPE_IDS).ints(), 0, typeIds, (int) offset * t,
                        b.size() * t);
            }
            if (labels != null) {
                System.arraycopy(b.labels(), 0, labels, (int) offset, b.size());
            }
            exampleIds.addAll(b.ids());
            metadata.addAll(b.metadata());
            tokens.addAll(b.tokens());
            offset += b.size();
        }
        assertEquals(size, offset, "examples in one pass");
        return new TextPass(ids, mask, typeIds, labels, exampleIds, metadata, tokens, t);
    }

    /**
     * @param e an example
     * @return its ids row
     */
    int[] row(int e) {
        return java.util.Arrays.copyOfRange(ids, e * length, (e + 1) * length);
    }

    /**
     * @param e an example
     * @return its attention mask row
     */
    int[] maskRow(int e) {
        return java.util.Arrays.copyOfRange(mask, e * length, (e + 1) * length);
    }
}
