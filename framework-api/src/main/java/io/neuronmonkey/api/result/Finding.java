package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;

import java.util.List;
import java.util.Objects;

/**
 * A claim an analysis makes, in one sentence, with its strength and the parts that are its evidence. The report opens
 * with the findings of every step.
 *
 * @param id       unique within its result, {@code [A-Za-z0-9_-]+}
 * @param severity how much it deserves attention
 * @param claim    one sentence, e.g. {@code conv2 #4 tracks the watermark (d 4.83)}; non-null
 * @param strength the number behind the claim, or null when the claim is a count or a fact
 * @param neurons  the neurons it is about, most important first; may be empty
 * @param evidence ids of parts of the same result that support it, most direct first; may be empty
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public record Finding(String id, Severity severity, String claim, Strength strength, List<NeuronRef> neurons,
                      List<String> evidence) {

    /**
     * Checks the fields.
     *
     * @param id unique within its result, {@code [A-Za-z0-9_-]+}
     * @param severity how much it deserves attention
     * @param claim one sentence, e.g. {@code conv2 #4 tracks the watermark (d 4.83)}; non-null
     * @param strength the number behind the claim, or null when the claim is a count or a fact
     * @param neurons the neurons it is about, most important first; may be empty
     * @param evidence ids of parts of the same result that support it, most direct first; may be empty
     */
    public Finding {
        ResultPart.checkId(id);
        Objects.requireNonNull(severity, "severity");
        Objects.requireNonNull(claim, "claim");
        neurons = List.copyOf(neurons);
        evidence = List.copyOf(evidence);
    }

    /** How much a finding deserves attention; the report lists warnings first. */
    public enum Severity {
        /** Something is wrong with the model, the data or the run (non-finite values, dead layers). */
        WARNING,
        /** What the analysis set out to find (a shortcut neuron, a concept neuron, a large shift). */
        NOTABLE,
        /** Worth knowing, no action implied. */
        INFO
    }

    /**
     * The number behind a claim.
     *
     * @param measure  what it is, e.g. {@code Cohen's d}; non-null
     * @param value    the estimate
     * @param interval an interval, or null
     * @param q        a q-value (false discovery rate), or null
     */
    public record Strength(String measure, double value, Interval interval, Double q) {

        /**
         * Checks the fields.
         *
         * @param measure what it is, e.g. {@code Cohen's d}; non-null
         * @param value the estimate
         * @param interval an interval, or null
         * @param q a q-value (false discovery rate), or null
         */
        public Strength {
            Objects.requireNonNull(measure, "measure");
        }
    }
}
