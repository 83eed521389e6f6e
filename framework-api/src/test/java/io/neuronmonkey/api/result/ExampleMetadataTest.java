package io.neuronmonkey.api.result;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ExampleMetadataTest {

    @Test
    void sharedMetadataIsKeptByReferenceAndAnyOtherMapIsCopiedInItsOrder() {
        Map<String, Object> source = new LinkedHashMap<>();
        source.put("shape", "circle");
        source.put("a", 1);
        source.put("watermark", true);
        Map<String, Object> shared = ExampleSet.Example.sharedMetadata(source);
        ExampleSet.Example one = new ExampleSet.Example(1, 3, "x3", 0.5, 2, shared, null, null);
        ExampleSet.Example two = new ExampleSet.Example(2, 3, "x3", 0.4, 2, shared, null, null);
        assertSame(shared, one.metadata());
        assertSame(shared, two.metadata());
        assertSame(shared, ExampleSet.Example.sharedMetadata(shared));
        // a plain map is copied: later changes to it do not reach the example
        ExampleSet.Example copied = new ExampleSet.Example(1, 4, "x4", 0.3, null, source, null, null);
        assertNotSame(source, copied.metadata());
        source.put("late", "no");
        assertEquals(List.of("shape", "a", "watermark"), List.copyOf(copied.metadata().keySet()));
        assertEquals(List.of("shape", "a", "watermark"), List.copyOf(one.metadata().keySet()));
        assertEquals(Map.of("shape", "circle", "a", 1, "watermark", true), one.metadata());
        assertThrows(UnsupportedOperationException.class, () -> one.metadata().put("b", 2));
        assertEquals(Map.of(), new ExampleSet.Example(1, 0, "x0", 0, null, null, null, null).metadata());
    }
}
