package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;

/**
 * One typed piece of a result. The set of kinds is closed so that every reader (report, visualizers, Python) knows
 * them all; an analyzer combines them.
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public sealed interface ResultPart permits NeuronTable, Ranking, ExampleSet, Matrix, Series, InputMaps {

    /** @return unique within its result, {@code [A-Za-z0-9_-]+}; it names the part's files and anchors */
    String id();

    /** @return a human-readable title, non-null */
    String title();

    /** @return the kind as written in {@code result.json}: {@code neuron-table}, {@code ranking}, ... */
    default String kind() {
        return Kinds.of(this);
    }

    /**
     * Checks an id.
     *
     * @param id an id
     * @return the id
     * @throws IllegalArgumentException when it is not {@code [A-Za-z0-9_-]+} or longer than 120 characters
     */
    static String checkId(String id) {
        if (id == null || !id.matches("[A-Za-z0-9_-]{1,120}")) {
            throw new IllegalArgumentException("part id '" + id + "' must match [A-Za-z0-9_-]{1,120}");
        }
        return id;
    }

    /** Kind names. */
    final class Kinds {
        private Kinds() {
        }

        static String of(ResultPart p) {
            if (p instanceof NeuronTable) {
                return "neuron-table";
            } else if (p instanceof Ranking) {
                return "ranking";
            } else if (p instanceof ExampleSet) {
                return "example-set";
            } else if (p instanceof Matrix) {
                return "matrix";
            } else if (p instanceof Series) {
                return "series";
            }
            return "input-maps";
        }
    }
}
