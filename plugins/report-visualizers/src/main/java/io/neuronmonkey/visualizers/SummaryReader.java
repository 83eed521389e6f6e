package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.OutputException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the JSON-like summary trees of analysis results. Absent values read as empty (lists, maps, strings) or NaN
 * (numbers); a value of the wrong type fails with an {@link OutputException} naming the step, the analyzer and the
 * path of the bad value.
 *
 * @param stepId   the step that produced the result
 * @param analyzer the analyzer name, for messages
 */
record SummaryReader(String stepId, String analyzer) {

    OutputException error(String path, String what) {
        return new OutputException("step '" + stepId + "': " + analyzer + " summary " + path + " " + what);
    }

    double number(Map<String, Object> m, String key, String path) {
        Object v = m.get(key);
        if (v == null) {
            return Double.NaN;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw error(path, "must be a number, found " + describe(v));
    }

    /** @return the number as an int, or {@code fallback} when absent */
    int integer(Map<String, Object> m, String key, String path, int fallback) {
        double v = number(m, key, path);
        return Double.isNaN(v) ? fallback : (int) v;
    }

    /** @return the value as text (numbers and booleans too), or {@code ""} when absent */
    String string(Map<String, Object> m, String key, String path) {
        Object v = m.get(key);
        if (v == null) {
            return "";
        }
        if (v instanceof Map<?, ?> || v instanceof List<?>) {
            throw error(path, "must be a single value, found " + describe(v));
        }
        return String.valueOf(v);
    }

    List<Object> list(Map<String, Object> m, String key, String path) {
        Object v = m.get(key);
        if (v == null) {
            return List.of();
        }
        if (v instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        throw error(path, "must be a list, found " + describe(v));
    }

    Map<String, Object> map(Map<String, Object> m, String key, String path) {
        Object v = m.get(key);
        return v == null ? Map.of() : asMap(v, path);
    }

    Map<String, Object> asMap(Object v, String path) {
        if (v instanceof Map<?, ?> raw) {
            Map<String, Object> out = new LinkedHashMap<>();
            raw.forEach((k, val) -> out.put(String.valueOf(k), val));
            return out;
        }
        throw error(path, "must be a map, found " + describe(v));
    }

    /** @return every element of the list {@code key} as a map, with paths {@code path[i]} in messages */
    List<Map<String, Object>> maps(Map<String, Object> m, String key, String path) {
        List<Object> l = list(m, key, path);
        List<Map<String, Object>> out = new ArrayList<>(l.size());
        for (int i = 0; i < l.size(); i++) {
            out.add(asMap(l.get(i), path + "[" + i + "]"));
        }
        return out;
    }

    /** @return a map of single values as text (nulls dropped), in the summary's order */
    Map<String, String> strings(Map<String, Object> m, String key, String path) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : map(m, key, path).entrySet()) {
            if (e.getValue() != null) {
                out.put(e.getKey(), string(Map.of(e.getKey(), e.getValue()), e.getKey(), path + "." + e.getKey()));
            }
        }
        return out;
    }

    /** @return a list of single values as text */
    List<String> stringList(Map<String, Object> m, String key, String path) {
        List<String> out = new ArrayList<>();
        for (Object o : list(m, key, path)) {
            out.add(String.valueOf(o));
        }
        return List.copyOf(out);
    }

    List<Integer> ints(Map<String, Object> m, String key, String path) {
        List<Integer> out = new ArrayList<>();
        List<Object> l = list(m, key, path);
        for (int i = 0; i < l.size(); i++) {
            if (!(l.get(i) instanceof Number n)) {
                throw error(path + "[" + i + "]", "must be a number, found " + describe(l.get(i)));
            }
            out.add(n.intValue());
        }
        return List.copyOf(out);
    }

    /** @return the list of numbers, or null when absent */
    int[] intArray(Map<String, Object> m, String key, String path) {
        return m.get(key) == null ? null : ints(m, key, path).stream().mapToInt(Integer::intValue).toArray();
    }

    double[] doubles(Map<String, Object> m, String key, String path) {
        List<Object> l = list(m, key, path);
        double[] out = new double[l.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(l.get(i) instanceof Number n)) {
                throw error(path + "[" + i + "]", "must be a number, found " + describe(l.get(i)));
            }
            out[i] = n.doubleValue();
        }
        return out;
    }

    /** @return a map of numbers (e.g. quantiles), in the summary's order; empty when absent */
    Map<String, Double> numbers(Map<String, Object> m, String key, String path) {
        Map<String, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : map(m, key, path).entrySet()) {
            out.put(e.getKey(), number(Map.of(e.getKey(), e.getValue() == null ? Double.NaN : e.getValue()),
                    e.getKey(), path + "." + e.getKey()));
        }
        return out;
    }

    static String describe(Object v) {
        return v == null ? "null" : v.getClass().getSimpleName() + " '" + v + "'";
    }
}
