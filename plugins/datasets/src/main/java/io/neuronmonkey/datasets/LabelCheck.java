package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;

import java.util.List;

/** Checks integer labels against the class names and supplies the default names {@code "0".."max"}. */
final class LabelCheck {

    private int max = -1;
    private long count;

    /**
     * @param labels a chunk of labels
     * @param first  index of its first label in the data set
     * @param file   where they came from, for messages
     */
    void accept(int[] labels, int n, long first, Object file) {
        for (int i = 0; i < n; i++) {
            int v = labels[i];
            if (v < -1) {
                throw new DataException("label " + v + " at index " + (first + i) + " in " + file
                        + " is not a class index; labels must be >= 0 (or -1 for unknown)");
            }
            if (v > max) {
                max = v;
            }
        }
        count += n;
    }

    /**
     * @param given the class names from params, or null
     * @param file  where the labels came from, for messages
     * @return the class names: {@code given}, or {@code "0".."max label"}
     */
    List<String> classNames(List<String> given, Object file) {
        if (given == null) {
            return DataFiles.numberedClasses(max + 1);
        }
        if (max >= given.size()) {
            throw new DataException("labels in " + file + " go up to " + max + " but params.classNames has "
                    + given.size() + " names (valid labels 0.." + (given.size() - 1) + ")");
        }
        return List.copyOf(given);
    }

    long count() {
        return count;
    }
}
