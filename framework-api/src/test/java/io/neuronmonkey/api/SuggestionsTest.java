package io.neuronmonkey.api;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SuggestionsTest {

    @Test
    void editDistanceIsLevenshtein() {
        assertEquals(3, Suggestions.distance("kitten", "sitting"));
        assertEquals(0, Suggestions.distance("", ""));
        assertEquals(4, Suggestions.distance("", "conv"));
    }

    @Test
    void substringsRankFirstThenCloseNamesAndFarOnesAreLeftOut() {
        List<String> known = List.of("conv1", "conv2", "dense1", "sequential/dense", "probabilities");
        assertEquals(List.of("conv1", "conv2"), Suggestions.near("conv3", known, 5));
        assertEquals(List.of("dense1", "sequential/dense"), Suggestions.near("dense", known, 5));
        assertEquals(List.of("sequential/dense"), Suggestions.near("dence", List.of("sequential/dense", "pool"), 5),
                "the last path part counts: 'dence' is one edit from 'dense'");
        assertEquals(List.of(), Suggestions.near("histogram", known, 5));
        assertEquals(List.of("conv1"), Suggestions.near("CONV3", known, 1), "case is ignored; max is honoured");
    }
}
