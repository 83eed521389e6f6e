package io.neuronmonkey.stats;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;

import java.lang.reflect.RecordComponent;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Results as plain trees (maps, lists, strings, numbers) so that two results can be compared by value: records by
 * their components, arrays and tensors by shape, dtype and contents (NaN equals NaN, as {@link Float#equals} has it).
 * Numbers in maps (summaries, metadata) are compared by value, since JSON does not keep Long apart from Integer.
 */
final class ResultTrees {

    private ResultTrees() {
    }

    /** Asserts equal parts, findings, extra arrays and summaries. */
    static void assertSameResult(AnalysisResult expected, AnalysisResult actual) {
        assertEquals(tree(expected.parts()), tree(actual.parts()), "parts");
        assertEquals(tree(expected.findings()), tree(actual.findings()), "findings");
        assertEquals(tree(expected.arrays()), tree(actual.arrays()), "arrays");
        assertEquals(tree(expected.summary()), tree(actual.summary()), "summary");
    }

    static Object tree(Object o) {
        if (o == null || o instanceof String || o instanceof Boolean) {
            return o;
        }
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        if (o instanceof Enum<?> e) {
            return e.name();
        }
        if (o instanceof NdArray a) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("dims", a.dims());
            m.put("tensor", tree(a.data()));
            return m;
        }
        if (o instanceof Tensor t) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("shape", Arrays.toString(t.shape()));
            m.put("dtype", t.dtype().name());
            List<Object> values = new ArrayList<>(t.size());
            if (t.dtype() == DType.FLOAT32) {
                for (float f : t.floats()) {
                    values.add(f);
                }
            } else {
                for (int i : t.ints()) {
                    values.add(i);
                }
            }
            m.put("values", values);
            return m;
        }
        if (o instanceof int[] a) {
            return Arrays.stream(a).boxed().toList();
        }
        if (o instanceof float[] a) {
            List<Object> values = new ArrayList<>(a.length);
            for (float f : a) {
                values.add(f);
            }
            return values;
        }
        if (o instanceof double[] a) {
            return Arrays.stream(a).boxed().toList();
        }
        if (o instanceof List<?> l) {
            return l.stream().map(ResultTrees::tree).toList();
        }
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> out = new TreeMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), tree(v)));
            return out;
        }
        if (o instanceof Record r) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("@type", r.getClass().getSimpleName());
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                try {
                    m.put(c.getName(), tree(c.getAccessor().invoke(r)));
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            }
            return m;
        }
        throw new IllegalArgumentException("no tree for " + o.getClass());
    }
}
