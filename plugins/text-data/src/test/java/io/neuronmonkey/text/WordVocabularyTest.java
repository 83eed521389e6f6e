package io.neuronmonkey.text;

import io.neuronmonkey.api.DataException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WordVocabularyTest {

    @TempDir
    Path dir;

    @Test
    void wordsAreRunsOfLettersDigitsAndApostrophesLookedUpLowerCased() {
        WordVocabulary v = WordVocabulary.of(List.of("don't", "stop", "the", "2nd", "café"));
        String text = "Don't STOP, the 2nd-test! Café?";
        TextEncoding e = v.encode(text, true);
        assertEquals(List.of("[CLS]", "don't", "stop", "the", "2nd", "[UNK]", "café"), e.tokens());
        assertArrayEquals(new int[] {2, 3, 4, 5, 6, 1, 7}, e.ids());
        assertArrayEquals(new int[] {-1, 0, 6, 12, 16, 20, 26}, e.starts());
        assertArrayEquals(new int[] {-1, 5, 10, 15, 19, 24, 30}, e.ends());
        assertNull(e.typeIds());
        TextEncoding plain = v.encode(text, false);
        assertEquals(6, plain.length(), "no [CLS] without special tokens");
        assertEquals(3, plain.ids()[0]);
        assertEquals(0, v.encode(" ,.;- ", false).length(), "punctuation is no token");
    }

    @Test
    void readsAFileWhoseLineNumbersAreIds() throws Exception {
        Path f = Files.writeString(dir.resolve("vocab.txt"), "[PAD]\n[UNK]\nhello\nworld\n");
        WordVocabulary v = WordVocabulary.read(f);
        assertEquals(4, v.size());
        assertEquals(-1, v.clsId(), "no [CLS] listed");
        assertArrayEquals(new int[] {2, 3, 1}, v.encode("Hello world again", true).ids(),
                "without [CLS] in the vocabulary no special token is added");
        assertEquals("world", v.token(3));
    }

    @Test
    void refusesAVocabularyWithoutUnknownOrWithARepeatedToken() throws Exception {
        Path noUnk = Files.writeString(dir.resolve("a.txt"), "[PAD]\nhello\n");
        DataException e = assertThrows(DataException.class, () -> WordVocabulary.read(noUnk));
        assertTrue(e.getMessage().contains("a.txt") && e.getMessage().contains("[UNK]"), e.getMessage());
        Path twice = Files.writeString(dir.resolve("b.txt"), "[PAD]\n[UNK]\nhello\nhello\n");
        e = assertThrows(DataException.class, () -> WordVocabulary.read(twice));
        assertTrue(e.getMessage().contains("line 4") && e.getMessage().contains("line 3"), e.getMessage());
        e = assertThrows(DataException.class, () -> WordVocabulary.of(List.of("Hello")));
        assertTrue(e.getMessage().contains("lower case"), e.getMessage());
    }
}
