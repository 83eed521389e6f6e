package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExampleFilterTest {

    @Test
    void filtersByMetadataAndClassAndKeepsRowsIntact() {
        try (Dataset d = TestSupport.shapes("decorrelated", 300)) {
            List<float[]> all = new ArrayList<>();
            List<Map<String, String>> meta = new ArrayList<>();
            List<Integer> labels = new ArrayList<>();
            d.batches(64).forEachRemaining(b -> {
                for (int r = 0; r < b.size(); r++) {
                    all.add(java.util.Arrays.copyOfRange(b.inputs().floats(), r * 784, (r + 1) * 784));
                    meta.add(b.metadata().get(r));
                    labels.add(b.labels()[r]);
                }
            });
            ExampleFilter ex = new ExampleFilter(d, Map.of("watermark", "on", "class", "!square"), 40, "s");
            int kept = 0;
            for (Iterator<Batch> it = ex.batches(16); it.hasNext(); ) {
                Batch b = it.next();
                assertTrue(b.size() <= 16);
                for (int r = 0; r < b.size(); r++) {
                    int index = Integer.parseInt(b.ids().get(r).substring(b.ids().get(r).lastIndexOf('-') + 1));
                    assertEquals("on", meta.get(index).get("watermark"));
                    assertTrue(labels.get(index) != 1, "square excluded");
                    assertEquals(labels.get(index), b.labels()[r]);
                    assertArrayEquals(all.get(index), java.util.Arrays.copyOfRange(b.inputs().floats(), r * 784, (r + 1) * 784));
                    kept++;
                }
            }
            long expected = java.util.stream.IntStream.range(0, 300)
                    .filter(i -> meta.get(i).get("watermark").equals("on") && labels.get(i) != 1).count();
            assertEquals(Math.min(40, expected), kept);
            assertThrows(AnalysisException.class, () -> new ExampleFilter(d, Map.of("colour", "red"), 1, "s"));
            AnalysisException e = assertThrows(AnalysisException.class, () -> new ExampleFilter(d, Map.of("class", "hexagon"), 1, "s"));
            assertTrue(e.getMessage().contains("circle"), e.getMessage());
        }
    }
}
