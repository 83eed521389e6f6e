package io.neuronmonkey.text;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TextFileSourcesTest {

    @TempDir
    Path dir;

    private Dataset csv(String path, String delimiter, String textColumn, String labelColumn, List<String> classes,
                        List<String> metadataColumns, String tokenizer, int maxLength, boolean truncate,
                        Map<String, String> lexicons) {
        return new TextCsvSource().open(TestKit.dataContext(new TextCsvSource.Params(path, delimiter, textColumn,
                labelColumn, classes, metadataColumns, tokenizer, maxLength, truncate, lexicons, true), dir));
    }

    private Dataset csv(String path, String labelColumn, String tokenizer, int maxLength) {
        return csv(path, null, "text", labelColumn, null, null, tokenizer, maxLength, true, null);
    }

    private Dataset jsonl(String path, String labelColumn, List<String> classes, String tokenizer, int maxLength) {
        return new TextJsonlSource().open(TestKit.dataContext(new TextJsonlSource.Params(path, "text", labelColumn,
                classes, null, tokenizer, maxLength, true, null, true), dir));
    }

    private Dataset lines(String path, String tokenizer, int maxLength, boolean truncate) {
        return new TextLinesSource().open(TestKit.dataContext(new TextLinesSource.Params(path, tokenizer, maxLength,
                truncate, null, true), dir));
    }

    private Path write(String name, String content) throws Exception {
        return Files.writeString(dir.resolve(name), content, StandardCharsets.UTF_8);
    }

    private void vocab(String... words) throws Exception {
        WordVocabulary.of(List.of(words)).write(dir.resolve("vocab.txt"));
    }

    /** The synthetic corpus, written to files of every format, reads back with the corpus's own ids. */
    @Test
    void everyFormatReadsBackTheSyntheticCorpusWithItsIds() throws Exception {
        SyntheticTextSource.writeVocabulary(dir.resolve("model/vocab.txt"));
        TextPass corpus;
        try (Dataset ds = new SyntheticTextSource().open(TestKit.dataContext(
                SyntheticTextSource.Params.of(SyntheticTextSource.Split.DECORRELATED, 60, 8L), dir))) {
            corpus = TextPass.of(ds, 16);
        }
        List<String> classes = SyntheticTextSource.CLASSES;
        StringBuilder csv = new StringBuilder("text,label,group\n");
        StringBuilder tsv = new StringBuilder("group\ttext\tlabel\n");
        StringBuilder jsonl = new StringBuilder();
        StringBuilder txt = new StringBuilder();
        ObjectMapper json = new ObjectMapper();
        for (int e = 0; e < 60; e++) {
            String text = corpus.tokens().get(e).text();
            String label = classes.get(corpus.labels()[e]);
            String group = corpus.metadata().get(e).get("group");
            csv.append('"').append(text.replace("\"", "\"\"")).append("\",").append(label).append(',').append(group)
                    .append('\n');
            tsv.append(group).append('\t').append(text).append('\t').append(label).append('\n');
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("text", text);
            row.put("label", label);
            row.put("group", group);
            jsonl.append(json.writeValueAsString(row)).append('\n');
            txt.append(text).append('\n');
        }
        write("corpus.csv", csv.toString());
        write("corpus.tsv", tsv.toString());
        write("corpus.jsonl", jsonl.toString());
        write("corpus.txt", txt.toString());
        List<Dataset> sets = List.of(csv("corpus.csv", "label", "word:model/vocab.txt", 16),
                csv("corpus.tsv", "label", "word:model/vocab.txt", 16),
                jsonl("corpus.jsonl", "label", classes, "word:model/vocab.txt", 16),
                lines("corpus.txt", "word:model/vocab.txt", 16, true));
        for (Dataset ds : sets) {
            try (ds) {
                TextPass p = TextPass.of(ds, 7);
                boolean labelled = !ds.info().classNames().isEmpty();
                assertArrayEquals(corpus.ids(), p.ids(), "token ids as the corpus's");
                assertArrayEquals(corpus.mask(), p.mask(), "attention mask as the corpus's");
                for (int e = 0; e < 60; e++) {
                    Tokens a = corpus.tokens().get(e);
                    Tokens b = p.tokens().get(e);
                    assertEquals(a.text(), b.text());
                    assertEquals(a.tokens(), b.tokens());
                    assertArrayEquals(a.starts(), b.starts());
                    assertArrayEquals(a.ends(), b.ends());
                    if (labelled) {
                        assertEquals(corpus.labels()[e], p.labels()[e]);
                        assertEquals(Map.of("group", corpus.metadata().get(e).get("group")), p.metadata().get(e));
                        assertEquals("row-" + e, p.exampleIds().get(e));
                    } else {
                        assertEquals("line-" + (e + 1), p.exampleIds().get(e));
                        assertEquals(Map.of(), p.metadata().get(e));
                    }
                }
            }
        }
    }

    @Test
    void csvCellsMayHoldQuotesDelimitersAndLineBreaks() throws Exception {
        vocab("hello", "world", "the", "stupid", "cat", "sat", "here", "plain", "text");
        write("reviews.csv", "id,text,label,lang\n"
                + "1,\"Hello, world\",pos,en\n"
                + "\n"
                + "2,\"The stupid cat\nsat \"\"here\"\"\",neg,en\n"
                + "3,  plain text  ,pos,fr\n");
        try (Dataset ds = csv("reviews.csv", "label", "word:vocab.txt", 6)) {
            DatasetInfo info = ds.info();
            assertEquals(3, info.size());
            assertEquals(List.of("neg", "pos"), info.classNames(), "the sorted distinct labels");
            assertEquals(List.of("id", "lang"), info.metadataKeys(), "every other column");
            assertEquals(List.of(Batch.ATTENTION_MASK), info.features());
            assertEquals(DType.INT32, info.inputType());
            assertArrayEquals(new int[] {6}, info.exampleShape());
            assertTrue(info.text());
            TextPass p = TextPass.of(ds, 2);
            assertEquals(List.of("Hello, world", "The stupid cat\nsat \"here\"", "plain text"),
                    p.tokens().stream().map(Tokens::text).toList());
            assertArrayEquals(new int[] {1, 0, 1}, p.labels());
            assertEquals(List.of(Map.of("id", "1", "lang", "en"), Map.of("id", "2", "lang", "en"),
                    Map.of("id", "3", "lang", "fr")), p.metadata());
            assertArrayEquals(new int[] {2, 3, 4, 0, 0, 0}, p.row(0));
            assertArrayEquals(new int[] {2, 5, 6, 7, 8, 9}, p.row(1));
            assertArrayEquals(new int[] {2, 10, 11, 0, 0, 0}, p.row(2));
            assertArrayEquals(new int[] {1, 1, 1, 0, 0, 0}, p.maskRow(0));
            Tokens t = p.tokens().get(1);
            assertEquals("sat", t.surface(4));
            assertEquals("here", t.surface(5));
        }
        try (Dataset ds = csv("reviews.csv", null, "text", "label", List.of("pos", "neg"), List.of("lang"),
                "word:vocab.txt", 6, true, null)) {
            TextPass p = TextPass.of(ds, 8);
            assertArrayEquals(new int[] {0, 1, 0}, p.labels(), "labels index the given classes");
            assertEquals(List.of("lang"), ds.info().metadataKeys());
            assertEquals(Map.of("lang", "fr"), p.metadata().get(2));
        }
    }

    @Test
    void tsvByExtensionOrByDelimiter() throws Exception {
        vocab("hi", "there", "bye");
        write("a.tsv", "text\tlabel\nhi, there\tyes\nbye\tno\n");
        write("b.txt", "text;label\nhi, there;yes\nbye;no\n");
        for (Dataset ds : List.of(csv("a.tsv", "label", "word:vocab.txt", 4),
                csv("b.txt", ";", "text", "label", null, null, "word:vocab.txt", 4, true, null))) {
            try (ds) {
                TextPass p = TextPass.of(ds, 8);
                assertEquals("hi, there", p.tokens().get(0).text());
                assertArrayEquals(new int[] {2, 3, 4, 0}, p.row(0));
                assertArrayEquals(new int[] {1, 0}, p.labels());
            }
        }
    }

    @Test
    void jsonlFieldsBecomeTextLabelAndMetadata() throws Exception {
        vocab("hello", "world", "the", "cat");
        write("d.jsonl", "{\"text\": \"Hello world\", \"label\": 1, \"score\": 0.5}\n"
                + "\n"
                + "{\"text\": \"the cat\", \"label\": 0, \"tags\": [\"a\", \"b\"], \"source\": null}\n");
        try (Dataset ds = jsonl("d.jsonl", "label", null, "word:vocab.txt", 4)) {
            assertEquals(List.of("0", "1"), ds.info().classNames());
            assertEquals(List.of("score", "tags", "source"), ds.info().metadataKeys(), "every field any line has");
            TextPass p = TextPass.of(ds, 8);
            assertArrayEquals(new int[] {1, 0}, p.labels());
            assertEquals(Map.of("score", "0.5", "tags", "", "source", ""), p.metadata().get(0));
            assertEquals(Map.of("score", "", "tags", "[\"a\",\"b\"]", "source", ""), p.metadata().get(1));
            assertArrayEquals(new int[] {2, 3, 4, 0}, p.row(0));
            assertArrayEquals(new int[] {2, 5, 6, 0}, p.row(1));
        }
    }

    @Test
    void lexiconsTagEveryTokenWithTheFirstListedLexiconHoldingItsWord() throws Exception {
        vocab("the", "stupid", "cat", "sat", "dog");
        write("toxic.txt", "# insults\nSTUPID\ncat\n\n");
        write("pets.txt", "cat\ndog\n");
        write("t.txt", "The stupid cat sat.\nA dog\n");
        Map<String, String> lexicons = new LinkedHashMap<>();
        lexicons.put("toxic", "toxic.txt");
        lexicons.put("pets", "pets.txt");
        try (Dataset ds = new TextLinesSource().open(TestKit.dataContext(new TextLinesSource.Params("t.txt",
                "word:vocab.txt", 8, true, lexicons, true), dir))) {
            assertEquals(List.of("lexicon"), ds.info().tokenKeys());
            TextPass p = TextPass.of(ds, 8);
            assertEquals(List.of("none", "none", "toxic", "toxic", "none"), p.tokens().get(0).tags().get("lexicon"));
            assertEquals(List.of("none", "none", "pets"), p.tokens().get(1).tags().get("lexicon"));
        }
        // sub-word tokens take the tag of their whole word
        Path tokenizer = TokenizerFiles.wordPiece(dir.resolve("tok/tokenizer.json"));
        write("cats.txt", "cats\n");
        write("c.txt", "The cats playing.\n");
        try (Dataset ds = new TextLinesSource().open(TestKit.dataContext(new TextLinesSource.Params("c.txt",
                "hf:" + dir.relativize(tokenizer), 10, true, Map.of("cats", "cats.txt"), true), dir))) {
            Tokens t = TextPass.of(ds, 1).tokens().get(0);
            assertEquals(List.of("[CLS]", "the", "cat", "##s", "play", "##ing", ".", "[SEP]"), t.tokens());
            assertEquals(List.of("none", "none", "cats", "cats", "none", "none", "none", "none"), t.tags().get("lexicon"));
        }
    }

    @Test
    void huggingFaceTokenizersPadWithTheirPadIdAndGiveTokenTypeIds() throws Exception {
        Path tokenizer = TokenizerFiles.bpe(dir.resolve("bpe/tokenizer.json"));
        write("b.csv", "text,label\nlower newest,a\nlows,b\n");
        try (Dataset ds = csv("b.csv", "label", "bpe/tokenizer.json", 6)) {
            assertEquals(List.of(Batch.ATTENTION_MASK, Batch.TOKEN_TYPE_IDS), ds.info().features());
            TextPass p = TextPass.of(ds, 2);
            assertArrayEquals(new int[] {1, 14, 20, 2, 21, 21}, p.row(0), "<s> lower newest </s> <pad> <pad>");
            assertArrayEquals(new int[] {1, 12, 9, 2, 21, 21}, p.row(1), "<s> low s </s> <pad> <pad>");
            assertArrayEquals(new int[] {1, 1, 1, 1, 0, 0}, p.maskRow(1));
            assertArrayEquals(new int[12], p.typeIds());
            assertEquals(List.of("<s>", "low", "s", "</s>"), p.tokens().get(1).tokens());
        }
        try (Dataset ds = csv("b.csv", "label", "bpe/tokenizer.json", 3)) {
            assertEquals(2, ((TextFileDataset) ds).truncated(), "4 and 4 tokens, more than 3");
            TextPass p = TextPass.of(ds, 2);
            assertArrayEquals(new int[] {1, 14, 2}, p.row(0), "cut the tokenizer's way: <s> lower </s>");
            assertArrayEquals(new int[] {1, 12, 2}, p.row(1), "<s> low </s>");
            assertEquals(List.of("<s>", "lower", "</s>"), p.tokens().get(0).tokens());
            assertArrayEquals(new int[] {1, 1, 1}, p.maskRow(0));
        }
        assertTrue(Files.exists(tokenizer));
    }

    @Test
    void tokenizerNoneDeliversTheRawTextAsStrings() throws Exception {
        write("r.txt", "first line\n\nsecond line\n");
        try (Dataset ds = lines("r.txt", "none", 128, true)) {
            DatasetInfo info = ds.info();
            assertEquals(DType.STRING, info.inputType());
            assertArrayEquals(new int[0], info.exampleShape());
            assertEquals(List.of(), info.features());
            assertTrue(info.text());
            Batch b = ds.batches(8).next();
            assertEquals(DType.STRING, b.inputs().dtype());
            assertArrayEquals(new String[] {"first line", "second line"}, b.inputs().strings());
            assertEquals(List.of("line-1", "line-3"), b.ids());
            assertEquals("second line", b.tokens().get(1).text());
            assertEquals(0, b.tokens().get(1).length());
            assertNull(b.labels());
        }
    }

    @Test
    void longExamplesAreCutWithOneCountingWarningOrRefused() throws Exception {
        vocab("the", "stupid", "cat", "sat", "here", "ok");
        write("long.csv", "text\nok\nthe stupid cat sat here\nthe cat sat\n");
        try (Dataset ds = csv("long.csv", null, "word:vocab.txt", 3)) {
            TextFileDataset t = (TextFileDataset) ds;
            assertEquals(2, t.truncated(), "[CLS] the stupid cat sat here (6) and [CLS] the cat sat (4) have more than 3");
            assertTrue(t.warning().contains("2 of 3 examples") && t.warning().contains("truncated to 3"), t.warning());
            TextPass p = TextPass.of(ds, 8);
            assertArrayEquals(new int[] {2, 3, 4}, p.row(1), "[CLS] the stupid");
            assertEquals(3, p.tokens().get(1).length());
            assertArrayEquals(new int[] {1, 1, 1}, p.maskRow(1));
        }
        try (Dataset ds = csv("long.csv", null, "word:vocab.txt", 5)) {
            TextFileDataset t = (TextFileDataset) ds;
            assertEquals(1, t.truncated());
            assertTrue(t.warning().contains("1 of 3 examples") && t.warning().contains("row-1")
                    && t.warning().contains("has 6") && t.warning().contains("maxLength 5"), t.warning());
        }
        try (Dataset ds = csv("long.csv", null, "word:vocab.txt", 6)) {
            assertNull(((TextFileDataset) ds).warning(), "nothing cut, nothing said");
        }
        DataException e = assertThrows(DataException.class, () -> csv("long.csv", null, "text", null, null, null,
                "word:vocab.txt", 5, false, null));
        assertTrue(e.getMessage().contains("row-1") && e.getMessage().contains("has 6 tokens")
                && e.getMessage().contains("maxLength 5") && e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void badInputIsRefusedNamingWhatWasWrong() throws Exception {
        vocab("hello");
        write("r.csv", "id,body,label\n1,hello,pos\n2,hello,neg\n");
        DataException e = assertThrows(DataException.class, () -> csv("r.csv", "label", "word:vocab.txt", 8));
        assertTrue(e.getMessage().contains("text column 'text'") && e.getMessage().contains("columns found: id, body, label"),
                e.getMessage());
        e = assertThrows(DataException.class, () -> csv("r.csv", null, "body", "label", List.of("pos"), null,
                "word:vocab.txt", 8, true, null));
        assertTrue(e.getMessage().contains("label 'neg'") && e.getMessage().contains("line 3")
                && e.getMessage().contains("[pos]"), e.getMessage());
        e = assertThrows(DataException.class, () -> csv("r.csv", null, "body", "stars", null, null, "word:vocab.txt", 8,
                true, null));
        assertTrue(e.getMessage().contains("label column 'stars'") && e.getMessage().contains("id, body, label"),
                e.getMessage());
        write("w.csv", "text,label\nhello,pos\nhello,a,b\n");
        e = assertThrows(DataException.class, () -> csv("w.csv", "label", "word:vocab.txt", 8));
        assertTrue(e.getMessage().contains("line 3 has 3 cells") && e.getMessage().contains("header has 2"),
                e.getMessage());

        write("j.jsonl", "{\"text\": \"hello\"}\n{\"body\": \"hello\", \"x\": 1}\n");
        e = assertThrows(DataException.class, () -> jsonl("j.jsonl", null, null, "word:vocab.txt", 8));
        assertTrue(e.getMessage().contains("line 2 has no text field 'text'") && e.getMessage().contains("body, x"),
                e.getMessage());
        write("k.jsonl", "{\"text\": \"hello\"}\n[1, 2]\n");
        e = assertThrows(DataException.class, () -> jsonl("k.jsonl", null, null, "word:vocab.txt", 8));
        assertTrue(e.getMessage().contains("line 2 is a JSON array"), e.getMessage());
        write("m.jsonl", "{\"text\": \"hello\"\n");
        e = assertThrows(DataException.class, () -> jsonl("m.jsonl", null, null, "word:vocab.txt", 8));
        assertTrue(e.getMessage().contains("line 1 is not valid JSON"), e.getMessage());

        write("t.txt", "hello\n");
        TokenizerFiles.wordPiece(dir.resolve("tokenizer.json"));
        e = assertThrows(DataException.class, () -> lines("t.txt", "word:tokenizer.json", 8, true));
        assertTrue(e.getMessage().contains("tokenizer.json") && e.getMessage().contains("has no [UNK] token"),
                e.getMessage());
        e = assertThrows(DataException.class, () -> lines("t.txt", "hf:vocab.txt", 8, true));
        assertTrue(e.getMessage().contains("vocab.txt is not a Hugging Face tokenizer.json"), e.getMessage());
        e = assertThrows(DataException.class, () -> lines("t.txt", "word:missing.txt", 8, true));
        assertTrue(e.getMessage().contains("missing.txt") && e.getMessage().contains("params.tokenizer"), e.getMessage());
        e = assertThrows(DataException.class, () -> lines("nothere.txt", "word:vocab.txt", 8, true));
        assertTrue(e.getMessage().contains("nothere.txt") && e.getMessage().contains("params.path"), e.getMessage());
        write("blank.txt", "\n\n");
        e = assertThrows(DataException.class, () -> lines("blank.txt", "word:vocab.txt", 8, true));
        assertTrue(e.getMessage().contains("holds no examples"), e.getMessage());
        write("two words.txt", "hello there\n");
        e = assertThrows(DataException.class, () -> new TextLinesSource().open(TestKit.dataContext(
                new TextLinesSource.Params("t.txt", "word:vocab.txt", 8, true, Map.of("x", "two words.txt"), true), dir)));
        assertTrue(e.getMessage().contains("lexicon 'x'") && e.getMessage().contains("line 1")
                && e.getMessage().contains("not one word"), e.getMessage());
    }

    @Test
    void paramsRefuseEveryBadFieldAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class, () -> new TextCsvSource.Params(" ", "ab",
                "text", "text", List.of(), null, "bert", 0, true, Map.of("none", "x.txt"), true));
        List<String> fields = new ArrayList<>();
        e.violations().forEach(v -> fields.add(v.field()));
        assertEquals(List.of("path", "tokenizer", "maxLength", "classes", "lexicons", "labelColumn", "delimiter"), fields);
        assertTrue(e.getMessage().contains("word:PATH") && e.getMessage().contains("none"), e.getMessage());
        InvalidParamsException noLabel = assertThrows(InvalidParamsException.class, () -> new TextJsonlSource.Params(
                "a.jsonl", "text", null, List.of("a"), null, "none", 8, true, null, true));
        assertEquals("classes", noLabel.violations().get(0).field());
    }

    @Test
    void fingerprintFollowsTheFileTheTokenizerAndTheOptions() throws Exception {
        vocab("hello", "world");
        write("f.txt", "hello world\n");
        String a;
        try (Dataset ds = lines("f.txt", "word:vocab.txt", 8, true)) {
            a = ds.fingerprint();
        }
        try (Dataset ds = lines("f.txt", "word:vocab.txt", 8, true)) {
            assertEquals(a, ds.fingerprint());
        }
        try (Dataset ds = lines("f.txt", "word:vocab.txt", 9, true)) {
            assertNotEquals(a, ds.fingerprint(), "another length");
        }
        vocab("world", "hello");
        try (Dataset ds = lines("f.txt", "word:vocab.txt", 8, true)) {
            assertNotEquals(a, ds.fingerprint(), "another vocabulary");
        }
        write("f.txt", "hello  world\n");
        try (Dataset ds = lines("f.txt", "word:vocab.txt", 8, true)) {
            assertNotEquals(a, ds.fingerprint(), "another file");
        }
    }
}
