package io.neuronmonkey.concepts;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.DatasetInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The value of a field per example, as probes and group comparisons read it: {@code class} is the label's class
 * name, any other field a metadata key. Examples without a value are left out and counted.
 *
 * @param field    the field
 * @param values   the distinct values kept, in the order of their group index
 * @param counts   per value its number of examples
 * @param rows     the examples kept (indices into the activations), ascending
 * @param group    per kept example the index of its value in {@code values}
 * @param missing  examples left out for having no value
 */
record ProbeFields(String field, List<String> values, int[] counts, int[] rows, int[] group, int missing) {

    /** The pseudo-field of the label's class name. */
    static final String CLASS = "class";

    /**
     * Checks that the field exists in the data.
     *
     * @param field the field
     * @param info  the data's description
     * @param param the param that named it, for messages
     * @param step  the step id
     * @throws AnalysisException when it is neither {@code class} (on labelled data) nor a metadata key
     */
    static void check(String field, DatasetInfo info, String param, String step) {
        if (field.equals(CLASS)) {
            if (info.classNames().isEmpty()) {
                throw new AnalysisException("step '" + step + "': " + param + " 'class' needs labelled data, and the data has no class names");
            }
            return;
        }
        if (!info.metadataKeys().contains(field)) {
            throw new AnalysisException("step '" + step + "': " + param + " '" + field + "' is not a metadata key of the data; valid: class"
                    + (info.metadataKeys().isEmpty() ? "" : ", " + String.join(", ", info.metadataKeys())));
        }
    }

    /**
     * Reads the field of every example.
     *
     * @param field   the field
     * @param labels  per example its label, -1 when unknown
     * @param meta    per example its metadata
     * @param classes label index to class name
     * @param keep    the values to keep, in this order, or null for every value found (classes in label order, other
     *                values sorted)
     * @return the values; possibly fewer than two distinct ones (see {@link #requireTwo})
     */
    static ProbeFields read(String field, int[] labels, List<Map<String, String>> meta, List<String> classes, List<String> keep) {
        int n = labels.length;
        String[] v = new String[n];
        TreeMap<String, Integer> found = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            if (field.equals(CLASS)) {
                v[i] = labels[i] >= 0 && labels[i] < classes.size() ? classes.get(labels[i]) : null;
            } else {
                v[i] = meta.get(i).get(field);
            }
            if (v[i] != null && (keep == null || keep.contains(v[i]))) {
                found.merge(v[i], 1, Integer::sum);
            }
        }
        List<String> order = keep != null ? keep : field.equals(CLASS) ? classes : new ArrayList<>(found.keySet());
        List<String> values = order.stream().filter(found::containsKey).toList();
        int[] counts = values.stream().mapToInt(found::get).toArray();
        int kept = 0;
        for (int c : counts) {
            kept += c;
        }
        int[] rows = new int[kept];
        int[] group = new int[kept];
        int at = 0;
        int missing = 0;
        for (int i = 0; i < n; i++) {
            int g = v[i] == null ? -1 : values.indexOf(v[i]);
            if (g >= 0) {
                rows[at] = i;
                group[at++] = g;
            } else if (v[i] == null) {
                missing++;
            }
        }
        return new ProbeFields(field, List.copyOf(values), counts, rows, group, missing);
    }

    /**
     * @param what the role of the field, e.g. {@code probe target} or {@code group field}
     * @param step the step id
     * @throws AnalysisException when fewer than two values are present, naming the field, the value and its count
     */
    void requireTwo(String what, String step) {
        if (values.isEmpty()) {
            throw new AnalysisException("step '" + step + "': " + what + " '" + field + "' has no value on any of the "
                    + (missing + rows.length) + " examples selected");
        }
        if (values.size() == 1) {
            throw new AnalysisException("step '" + step + "': " + what + " '" + field + "' has a single value '"
                    + values.get(0) + "' (all " + counts[0] + " examples with a value); it needs at least two values"
                    + " (check 'where' and the data)");
        }
    }

    /** @return the number of examples kept */
    int size() {
        return rows.length;
    }
}
