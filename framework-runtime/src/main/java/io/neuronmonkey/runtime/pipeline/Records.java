package io.neuronmonkey.runtime.pipeline;

import java.lang.reflect.RecordComponent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Turns bound params records back into plain maps, defaults included, for provenance. */
final class Records {

    private Records() {
    }

    /** An insertion-ordered map from alternating keys and values (JSON output keeps the order). */
    static Map<String, Object> ordered(Object... keysAndValues) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            m.put((String) keysAndValues[i], keysAndValues[i + 1]);
        }
        return m;
    }

    static Object toMap(Object value) {
        if (value == null || value instanceof String || value instanceof Number || value instanceof Boolean) {
            return value;
        }
        if (value instanceof Enum<?> e) {
            return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
        }
        if (value instanceof List<?> list) {
            return list.stream().map(Records::toMap).toList();
        }
        if (value instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), toMap(v)));
            return out;
        }
        if (value instanceof Record r) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (RecordComponent c : r.getClass().getRecordComponents()) {
                try {
                    var acc = c.getAccessor();
                    acc.setAccessible(true);
                    out.put(c.getName(), toMap(acc.invoke(r)));
                } catch (ReflectiveOperationException | RuntimeException e) {
                    out.put(c.getName(), "<unreadable>");
                }
            }
            return out;
        }
        return String.valueOf(value);
    }
}
