package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;

import java.util.List;
import java.util.Objects;

/**
 * Neurons ranked on one score, best first.
 *
 * @param id          part id
 * @param title       title, e.g. {@code neurons that track watermark}
 * @param score       what the score is, e.g. {@code Cohen's d (watermark yes vs no)}; non-null
 * @param entries     the ranked neurons, best first
 * @param description how the ranking was made; may be empty
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public record Ranking(String id, String title, String score, List<Entry> entries, String description)
        implements ResultPart {

    /**
     * Checks the fields.
     *
     * @param id part id
     * @param title title, e.g. {@code neurons that track watermark}
     * @param score what the score is, e.g. {@code Cohen's d (watermark yes vs no)}; non-null
     * @param entries the ranked neurons, best first
     * @param description how the ranking was made; may be empty
     */
    public Ranking {
        ResultPart.checkId(id);
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(score, "score");
        entries = List.copyOf(entries);
        description = description == null ? "" : description;
    }

    /**
     * One ranked neuron.
     *
     * @param neuron   the neuron
     * @param score    its score (may be infinite; not NaN)
     * @param interval an interval around the score, or null
     * @param p        a p-value in [0, 1], or null
     * @param q        a q-value (false discovery rate) in [0, 1], or null
     * @param note     a short note, e.g. the contrast or the value that moved; may be empty
     */
    public record Entry(NeuronRef neuron, double score, Interval interval, Double p, Double q, String note) {

        /**
         * Checks the fields.
         *
         * @param neuron the neuron
         * @param score its score (may be infinite; not NaN)
         * @param interval an interval around the score, or null
         * @param p a p-value in [0, 1], or null
         * @param q a q-value (false discovery rate) in [0, 1], or null
         * @param note a short note, e.g. the contrast or the value that moved; may be empty
         */
        public Entry {
            Objects.requireNonNull(neuron, "neuron");
            if (Double.isNaN(score)) {
                throw new IllegalArgumentException(neuron + ": a ranked score must not be NaN");
            }
            note = note == null ? "" : note;
        }

        /**
         * @param neuron the neuron
         * @param score  its score
         * @return an entry without interval or p-values
         */
        public static Entry of(NeuronRef neuron, double score) {
            return new Entry(neuron, score, null, null, null, "");
        }
    }
}
