package io.neuronmonkey.text;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.testkit.TestKit;
import io.neuronmonkey.text.SyntheticTextSource.Params;
import io.neuronmonkey.text.SyntheticTextSource.Split;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticTextSourceTest {

    /** The planted lexicons as this test knows them, written out independently of the generator. */
    private static final Set<String> TOXIC = Set.of("stupid", "pathetic", "worthless", "disgusting", "vile", "dumb",
            "idiot", "moron", "loser", "creep");
    private static final Set<String> GROUPS = Set.of("zorblin", "quenti");
    private static final Set<String> CLINICAL = Set.of("morvexia", "tralcitis", "nephrandol", "ostrafen", "cardulon",
            "pulmexa", "glossomab", "dermavine");

    @TempDir
    Path dir;

    private TextPass all(Params p, int batchSize) {
        try (Dataset ds = new SyntheticTextSource().open(TestKit.dataContext(p, dir))) {
            return TextPass.of(ds, batchSize);
        }
    }

    /** Lower-cased words of a text split at every character that is not a letter. */
    private static List<String> naiveWords(String text) {
        List<String> out = new ArrayList<>();
        for (String w : text.toLowerCase(Locale.ROOT).split("[^a-z]+")) {
            if (!w.isEmpty()) {
                out.add(w);
            }
        }
        return out;
    }

    @Test
    void sameSeedGivesTheSameBatchesForAnyBatchSizeOthersDiffer() {
        Params p = Params.of(Split.TRAIN, 150, 3L);
        TextPass reference = all(p, 1);
        for (int batch : new int[] {7, 64, 150}) {
            TextPass c = all(p, batch);
            assertArrayEquals(reference.ids(), c.ids(), "ids, batch size " + batch);
            assertArrayEquals(reference.mask(), c.mask(), "mask, batch size " + batch);
            assertArrayEquals(reference.labels(), c.labels(), "labels, batch size " + batch);
            assertEquals(reference.exampleIds(), c.exampleIds(), "ids, batch size " + batch);
            assertEquals(reference.metadata(), c.metadata(), "metadata, batch size " + batch);
            assertEquals(texts(reference), texts(c), "texts, batch size " + batch);
        }
        assertEquals("train-0", reference.exampleIds().get(0));
        assertEquals(texts(all(Params.of(Split.TRAIN, 150, 42L), 32)), texts(all(Params.of(Split.TRAIN, 150, null), 32)),
                "the seed defaults to the run's (the test kit's 42)");
        List<String> otherSeed = texts(all(Params.of(Split.TRAIN, 150, 4L), 32));
        List<String> otherSplit = texts(all(Params.of(Split.TEST, 150, 3L), 32));
        assertTrue(differing(texts(reference), otherSeed) > 100, "another seed draws other sentences");
        assertTrue(differing(texts(reference), otherSplit) > 100, "another split draws other sentences");
        assertFalse(Arrays.equals(reference.ids(), all(new Params(Split.TRAIN, 150, 20, 3L), 32).ids()),
                "a longer sequence pads differently");
    }

    private static List<String> texts(TextPass pass) {
        return pass.tokens().stream().map(Tokens::text).toList();
    }

    private static int differing(List<String> a, List<String> b) {
        int n = 0;
        for (int i = 0; i < a.size(); i++) {
            n += a.get(i).equals(b.get(i)) ? 0 : 1;
        }
        return n;
    }

    @Test
    void labelIsToxicExactlyWhenTheTextHoldsAToxicWord() {
        for (Split split : Split.values()) {
            TextPass pass = all(Params.of(split, 2000, 7L), 128);
            int toxic = 0;
            for (int e = 0; e < pass.labels().length; e++) {
                String text = pass.tokens().get(e).text();
                boolean hasToxic = naiveWords(text).stream().anyMatch(TOXIC::contains);
                assertEquals(hasToxic ? 1 : 0, pass.labels()[e], split + " '" + text + "'");
                toxic += pass.labels()[e];
            }
            assertEquals(0.5, toxic / 2000.0, 0.04, split + ": half of the sentences are toxic");
        }
    }

    @Test
    void groupFollowsTheLabelInTrainAndTestAndIsAFairCoinInDecorrelated() {
        for (Split split : Split.values()) {
            TextPass pass = all(Params.of(split, 4000, 11L), 256);
            int[] zorblin = new int[2];
            int[] byLabel = new int[2];
            int[] clinical = new int[2];
            int tagA = 0;
            for (int e = 0; e < 4000; e++) {
                String text = pass.tokens().get(e).text();
                List<String> words = naiveWords(text);
                String group = pass.metadata().get(e).get("group");
                List<String> groupWords = words.stream().filter(GROUPS::contains).toList();
                assertEquals(List.of(group), groupWords, "one group term, the metadata's: '" + text + "'");
                boolean hasClinical = words.stream().anyMatch(CLINICAL::contains);
                assertEquals(hasClinical ? "clinical" : "general", pass.metadata().get(e).get("domain"), text);
                int y = pass.labels()[e];
                byLabel[y]++;
                zorblin[y] += group.equals("zorblin") ? 1 : 0;
                clinical[y] += hasClinical ? 1 : 0;
                tagA += pass.metadata().get(e).get("tag").equals("a") ? 1 : 0;
            }
            double zToxic = zorblin[1] / (double) byLabel[1];
            double qClean = 1 - zorblin[0] / (double) byLabel[0];
            double expected = split == Split.DECORRELATED ? 0.5 : 0.9;
            // binomial standard error at n ~ 2000 is <= 0.012; 0.04 is more than three of them
            assertEquals(expected, zToxic, 0.04, split + ": P(zorblin | toxic)");
            assertEquals(expected, qClean, 0.04, split + ": P(quenti | clean)");
            assertEquals(0, clinical[1] / (double) byLabel[1] - clinical[0] / (double) byLabel[0], 0.05,
                    split + ": the clinical domain is independent of the label");
            assertEquals(0.5, tagA / 4000.0, 0.03, split + ": tag is a fair coin");
        }
    }

    @Test
    void tokensMapBackToTheTextAndPaddingFollowsTheMask() {
        WordVocabulary vocab = SyntheticTextSource.vocabulary();
        TextPass pass = all(Params.of(Split.DECORRELATED, 500, 5L), 33);
        Set<Integer> lengths = new HashSet<>();
        Set<String> firstWords = new HashSet<>();
        for (int e = 0; e < 500; e++) {
            Tokens t = pass.tokens().get(e);
            int[] ids = pass.row(e);
            int[] mask = pass.maskRow(e);
            int n = t.length();
            lengths.add(n - 1);
            assertEquals("[CLS]", t.tokens().get(0));
            assertEquals(2, ids[0], "[CLS] has id 2");
            assertEquals(-1, t.start(0));
            assertEquals(-1, t.end(0));
            List<String> words = naiveWords(t.text());
            assertEquals(words.size(), n - 1, "one token per word: '" + t.text() + "'");
            firstWords.add(words.get(0));
            for (int i = 0; i < 16; i++) {
                assertEquals(i < n ? 1 : 0, mask[i], "mask at " + i);
                if (i >= n) {
                    assertEquals(0, ids[i], "padding id at " + i);
                }
            }
            for (int i = 1; i < n; i++) {
                String surface = t.text().substring(t.start(i), t.end(i));
                assertEquals(words.get(i - 1), surface.toLowerCase(Locale.ROOT), "token " + i + " of '" + t.text() + "'");
                assertEquals(surface.toLowerCase(Locale.ROOT), t.tokens().get(i));
                assertEquals(vocab.tokens().indexOf(t.tokens().get(i)), ids[i], "id of " + t.tokens().get(i));
                String word = t.tokens().get(i);
                String expected = TOXIC.contains(word) ? "toxic" : GROUPS.contains(word) ? "group"
                        : CLINICAL.contains(word) ? "clinical" : "none";
                assertEquals(expected, t.tag("lexicon", i), "lexicon of " + word);
            }
            assertEquals("none", t.tag("lexicon", 0), "[CLS] is in no lexicon");
        }
        assertEquals(5, lengths.stream().mapToInt(Integer::intValue).min().orElseThrow(), "shortest sentence");
        assertEquals(14, lengths.stream().mapToInt(Integer::intValue).max().orElseThrow(), "longest sentence");
        assertTrue(lengths.size() == 10, "every length 5..14 occurs: " + lengths);
        assertTrue(firstWords.size() > 10, "sentences open in many ways: " + firstWords);
    }

    @Test
    void infoDescribesATextDataSet() {
        try (Dataset ds = new SyntheticTextSource().open(TestKit.dataContext(new Params(Split.TEST, 10, 24, 1L), dir))) {
            DatasetInfo info = ds.info();
            assertEquals(10, info.size());
            assertArrayEquals(new int[] {24}, info.exampleShape());
            assertEquals(List.of("clean", "toxic"), info.classNames());
            assertEquals(List.of("group", "domain", "tag"), info.metadataKeys());
            assertEquals(DType.INT32, info.inputType());
            assertEquals(List.of(Batch.ATTENTION_MASK), info.features());
            assertEquals(List.of("lexicon"), info.tokenKeys());
            assertTrue(info.text());
        }
    }

    @Test
    void fingerprintFollowsGeneratorParamsAndSeed() {
        String a = fingerprint(Params.of(Split.TRAIN, 10, 1L));
        assertEquals(a, fingerprint(Params.of(Split.TRAIN, 10, 1L)));
        assertNotEquals(a, fingerprint(Params.of(Split.TEST, 10, 1L)));
        assertNotEquals(a, fingerprint(Params.of(Split.TRAIN, 11, 1L)));
        assertNotEquals(a, fingerprint(Params.of(Split.TRAIN, 10, 2L)));
        assertNotEquals(a, fingerprint(new Params(Split.TRAIN, 10, 17, 1L)));
    }

    private String fingerprint(Params p) {
        try (Dataset ds = new SyntheticTextSource().open(TestKit.dataContext(p, dir))) {
            return ds.fingerprint();
        }
    }

    @Test
    void vocabularyIsTheSpecialTokensThenTheSortedWordsAndRoundTripsThroughVocabTxt() throws Exception {
        WordVocabulary v = SyntheticTextSource.vocabulary();
        assertEquals(List.of("[PAD]", "[UNK]", "[CLS]"), v.tokens().subList(0, 3));
        List<String> words = v.tokens().subList(3, v.size());
        List<String> sorted = new ArrayList<>(words);
        sorted.sort(null);
        assertEquals(sorted, words, "words in sorted order");
        assertEquals(words.size(), new HashSet<>(words).size(), "each word once");
        assertTrue(words.containsAll(TOXIC) && words.containsAll(GROUPS) && words.containsAll(CLINICAL));
        assertEquals(List.of("toxic", "group", "clinical"), List.copyOf(SyntheticTextSource.lexicons().keySet()));
        assertEquals(TOXIC, Set.copyOf(SyntheticTextSource.lexicons().get("toxic")));
        assertEquals(GROUPS, Set.copyOf(SyntheticTextSource.lexicons().get("group")));
        assertEquals(CLINICAL, Set.copyOf(SyntheticTextSource.lexicons().get("clinical")));
        Path file = SyntheticTextSource.writeVocabulary(dir.resolve("model/vocab.txt"));
        List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        assertEquals(v.tokens(), lines, "one token per line, line number = id");
        assertEquals(v.tokens(), WordVocabulary.read(file).tokens());
        // every word of a large sample is in the vocabulary (no [UNK])
        TextPass pass = all(Params.of(Split.TRAIN, 1000, 9L), 100);
        assertTrue(Arrays.stream(pass.ids()).noneMatch(id -> id == 1), "no unknown word");
        Set<String> used = new HashSet<>();
        pass.tokens().forEach(t -> used.addAll(t.tokens()));
        used.remove("[CLS]");
        assertEquals(new HashSet<>(words), used, "the vocabulary is exactly the grammar's words");
    }

    @Test
    void paramsRefuseAShortSequenceAndNoSplit() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class, () -> new Params(null, 0, 10, null));
        List<String> fields = e.violations().stream().map(InvalidParamsException.Violation::field).toList();
        assertEquals(List.of("split", "count", "maxLength"), fields);
        assertTrue(e.getMessage().contains("15..512"), e.getMessage());
    }
}
