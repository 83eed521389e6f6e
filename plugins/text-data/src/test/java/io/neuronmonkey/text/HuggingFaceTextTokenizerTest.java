package io.neuronmonkey.text;

import io.neuronmonkey.api.DataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HuggingFaceTextTokenizerTest {

    @TempDir
    Path dir;

    /** Every non-special token's offsets cover text that, cleaned the tokenizer's way, spells the token. */
    private static void assertOffsetsSpell(String text, TextEncoding e, boolean lowerCase, String prefix) {
        for (int i = 0; i < e.length(); i++) {
            if (e.starts()[i] < 0) {
                continue;
            }
            String surface = text.substring(e.starts()[i], e.ends()[i]);
            String token = e.tokens().get(i);
            String bare = token.startsWith(prefix) ? token.substring(prefix.length()) : token;
            String expected = lowerCase ? surface.toLowerCase(java.util.Locale.ROOT) : surface;
            if (!bare.equals("[UNK]") && !bare.equals("<unk>")) {
                assertEquals(bare, expected.strip(), "token " + i + " '" + token + "' of '" + text + "'");
            }
        }
    }

    @Test
    void wordPieceGivesTheIdsAndOffsetsWorkedOutByHand() throws Exception {
        HuggingFaceTextTokenizer t = HuggingFaceTextTokenizer.load(TokenizerFiles.wordPiece(dir.resolve("tokenizer.json")),
                5, "tokenizer");
        String text = "The cats playing.";
        TextEncoding e = t.encode(text, true);
        assertEquals(List.of("[CLS]", "the", "cat", "##s", "play", "##ing", ".", "[SEP]"), e.tokens());
        assertArrayEquals(new int[] {2, 4, 5, 8, 6, 7, 9, 3}, e.ids());
        assertArrayEquals(new int[] {-1, 0, 4, 7, 9, 13, 16, -1}, e.starts());
        assertArrayEquals(new int[] {-1, 3, 7, 8, 13, 16, 17, -1}, e.ends());
        assertArrayEquals(new int[8], e.typeIds());
        assertOffsetsSpell(text, e, true, "##");
        assertArrayEquals(new int[] {4, 5, 8, 6, 7, 9}, t.encode(text, false).ids(), "without special tokens");
        assertArrayEquals(new int[] {2, 4, 5, 8, 3}, t.truncate(text, e, true, 5).ids(),
                "truncation cuts the text's tokens and keeps [CLS] and [SEP]");
        assertEquals(0, t.padId(), "[PAD] is 0");
        assertTrue(t.hasTypeIds());
    }

    @Test
    void bpeMergesByRankAndPadsWithItsPadToken() throws Exception {
        HuggingFaceTextTokenizer t = HuggingFaceTextTokenizer.load(TokenizerFiles.bpe(dir.resolve("bpe.tokenizer.json")),
                16, "tokenizer");
        String text = "lower newest lows x";
        TextEncoding e = t.encode(text, true);
        // lower: l o w e r -> lo w e r -> low e r -> low er -> lower; newest: e s, es t, n e, ne w, new est;
        // lows: lo w s -> low s; x is unknown
        assertEquals(List.of("<s>", "lower", "newest", "low", "s", "<unk>", "</s>"), e.tokens());
        assertArrayEquals(new int[] {1, 14, 20, 12, 9, 0, 2}, e.ids());
        assertArrayEquals(new int[] {-1, 0, 6, 13, 16, 18, -1}, e.starts());
        assertArrayEquals(new int[] {-1, 5, 12, 16, 17, 19, -1}, e.ends());
        assertOffsetsSpell(text, e, false, "");
        assertEquals(21, t.padId(), "the <pad> token's id");
    }

    @Test
    void unigramPicksTheMostProbableSegmentation() throws Exception {
        HuggingFaceTextTokenizer t = HuggingFaceTextTokenizer.load(TokenizerFiles.unigram(dir.resolve("uni.json")), 16,
                "tokenizer");
        String text = "hello worlds";
        TextEncoding e = t.encode(text, true);
        // ▁hello (-2) beats ▁hel lo (-8); ▁world s (-5.5) is the only segmentation of ▁worlds
        assertEquals(List.of("\u2581hello", "\u2581world", "s"), e.tokens());
        assertArrayEquals(new int[] {2, 3, 6}, e.ids());
        assertArrayEquals(new int[] {0, 5, 11}, e.starts());
        assertArrayEquals(new int[] {5, 11, 12}, e.ends());
        assertOffsetsSpell(text, e, false, "\u2581");
    }

    @Test
    void offsetsAreJavaStringIndicesPastCharactersOutsideTheBasicPlane() throws Exception {
        HuggingFaceTextTokenizer t = HuggingFaceTextTokenizer.load(TokenizerFiles.wordPiece(dir.resolve("tokenizer.json")),
                16, "tokenizer");
        String text = "Dog \uD83D\uDC15 cat"; // the dog emoji is two Java chars
        TextEncoding e = t.encode(text, false);
        assertArrayEquals(new int[] {10, 1, 5}, e.ids());
        assertArrayEquals(new int[] {0, 4, 7}, e.starts());
        assertArrayEquals(new int[] {3, 6, 10}, e.ends());
        assertEquals("cat", text.substring(e.starts()[2], e.ends()[2]));
        assertEquals("\uD83D\uDC15", text.substring(e.starts()[1], e.ends()[1]));
    }

    @Test
    void aFileThatIsNotATokenizerIsRefusedNamingItAndWhatWasExpected() throws Exception {
        Path text = Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n[UNK]\nhello\n");
        DataException e = assertThrows(DataException.class, () -> HuggingFaceTextTokenizer.load(text, 8, "tokenizer"));
        assertTrue(e.getMessage().contains(text.toString()) && e.getMessage().contains("not a Hugging Face tokenizer.json")
                && e.getMessage().contains("not JSON"), e.getMessage());
        Path config = Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 768}");
        e = assertThrows(DataException.class, () -> HuggingFaceTextTokenizer.load(config, 8, "tokenizer"));
        assertTrue(e.getMessage().contains("config.json") && e.getMessage().contains("no \"model\" object")
                && e.getMessage().contains("[hidden_size]"), e.getMessage());
        Path odd = Files.writeString(dir.resolve("odd.json"), "{\"model\": {\"type\": \"Magic\"}}");
        e = assertThrows(DataException.class, () -> HuggingFaceTextTokenizer.load(odd, 8, "tokenizer"));
        assertTrue(e.getMessage().contains("model type is 'Magic'") && e.getMessage().contains("WordPiece, BPE, Unigram"),
                e.getMessage());
        Path broken = Files.writeString(dir.resolve("broken.json"), "{\"model\": {\"type\": \"BPE\", \"vocab\": 3}}");
        e = assertThrows(DataException.class, () -> HuggingFaceTextTokenizer.load(broken, 8, "tokenizer"));
        assertTrue(e.getMessage().contains("broken.json") && e.getMessage().contains("could not be loaded"),
                e.getMessage());
        e = assertThrows(DataException.class, () -> HuggingFaceTextTokenizer.load(dir.resolve("none.json"), 8,
                "tokenizer"));
        assertTrue(e.getMessage().contains("not found") && e.getMessage().contains("params.tokenizer"), e.getMessage());
    }
}
