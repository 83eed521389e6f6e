package io.neuronmonkey.api.data;

import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Text batches: masks, selection of every part together, token offsets. */
class TextBatchTest {

    private static Tokens tokens(String text, String... words) {
        int[] s = new int[words.length + 1];
        int[] e = new int[words.length + 1];
        s[0] = -1;
        e[0] = -1;
        int from = 0;
        for (int i = 0; i < words.length; i++) {
            int at = text.indexOf(words[i], from);
            s[i + 1] = at;
            e[i + 1] = at + words[i].length();
            from = e[i + 1];
        }
        List<String> all = new java.util.ArrayList<>(List.of("[CLS]"));
        all.addAll(List.of(words));
        return new Tokens(text, all, s, e, Map.of());
    }

    private static Batch batch() {
        int[] ids = {2, 5, 6, 0, 2, 7, 8, 9};
        int[] mask = {1, 1, 1, 0, 1, 1, 1, 1};
        return new Batch(10, Tensor.ofInts(ids, 2, 4), new int[]{0, 1}, List.of("a", "b"), List.of(Map.of(), Map.of()),
                Map.of(Batch.ATTENTION_MASK, Tensor.ofInts(mask, 2, 4)),
                List.of(tokens("hi there", "hi", "there"), tokens("a b c", "a", "b", "c")));
    }

    @Test
    void theAttentionMaskTellsRealPositionsForLayersOfTheSequenceLength() {
        Batch b = batch();
        assertTrue(b.isText());
        assertArrayEquals(new boolean[]{true, true, true, false, true, true, true, true}, b.positionMask(4));
        assertNull(b.positionMask(1), "a pooled layer has no token positions");
        assertNull(b.positionMask(3), "a layer of another length is not token-level");
        Batch noMask = new Batch(0, b.inputs(), null, b.ids(), b.metadata(), Map.of(), b.tokens());
        assertArrayEquals(new boolean[]{true, true, true, false, true, true, true, true}, noMask.positionMask(4),
                "without a mask the token counts decide");
        Batch image = new Batch(0, Tensor.ofFloats(new float[8], 2, 4), null, b.ids(), b.metadata());
        assertNull(image.positionMask(4));
    }

    @Test
    void selectionKeepsInputsFeaturesAndTokensTogether() {
        Batch s = batch().select(new int[]{1});
        assertEquals(11, s.offset());
        assertArrayEquals(new int[]{2, 7, 8, 9}, s.inputs().ints());
        assertArrayEquals(new int[]{1, 1, 1, 1}, s.features().get(Batch.ATTENTION_MASK).ints());
        assertEquals("a b c", s.tokens().get(0).text());
        assertArrayEquals(new int[]{1}, s.labels());
        ModelInputs in = s.modelInputs();
        assertEquals(1, in.rows());
        assertEquals(List.of(Batch.ATTENTION_MASK), List.copyOf(in.named().keySet()));
        assertEquals("there", batch().tokens().get(0).surface(2));
        assertEquals("[CLS]", batch().tokens().get(0).surface(0));
    }

    @Test
    void tensorsOfEveryTypeSelectAndSlice() {
        Tensor l = Tensor.ofLongs(new long[]{1, 2, 3, 4, 5, 6}, 3, 2);
        assertArrayEquals(new long[]{5, 6, 1, 2}, l.select(new int[]{2, 0}).longs());
        assertArrayEquals(new long[]{3, 4}, l.rows(1, 2).longs());
        Tensor s = Tensor.ofStrings(new String[]{"x", "y", "z"}, 3);
        assertArrayEquals(new String[]{"z"}, s.rows(2, 3).strings());
        assertEquals(DType.STRING, s.select(new int[]{1, 1}).dtype());
        assertThrows(IllegalStateException.class, l::ints);
        assertThrows(IllegalArgumentException.class, () -> Tensor.ofStrings(new String[]{"a", null}, 2));
    }

    @Test
    void badPartsAreRefusedWithTheirCounts() {
        assertThrows(IllegalArgumentException.class, () -> new Tokens("ab", List.of("ab"), new int[]{0}, new int[]{5}, Map.of()));
        assertThrows(IllegalArgumentException.class, () -> new Tokens("ab", List.of("ab"), new int[]{0}, new int[]{2},
                Map.of("lexicon", List.of("none", "toxic"))));
        Batch b = batch();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Batch(0, b.inputs(), null,
                b.ids(), b.metadata(), Map.of(Batch.ATTENTION_MASK, Tensor.ofInts(new int[4], 1, 4)), b.tokens()));
        assertTrue(e.getMessage().contains("attention_mask"), e.getMessage());
    }
}
