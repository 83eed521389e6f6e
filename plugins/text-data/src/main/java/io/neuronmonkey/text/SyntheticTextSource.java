package io.neuronmonkey.text;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.DataSource;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.tensor.DType;
import org.pf4j.Extension;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A seeded synthetic text corpus with planted ground truth, generated lazily and deterministically: short English-like
 * sentences from a template grammar (subject, verb, object, optional adjectives, optional opening word, adverb and
 * clinical phrase; 5..14 words).
 * <p>
 * Classes {@code clean, toxic}: a sentence is {@code toxic} exactly when it holds a word of the toxic lexicon
 * ({@code stupid, pathetic, worthless, disgusting, vile, dumb, idiot, moron, loser, creep}), half of the sentences are.
 * Every sentence names one of two invented groups, {@code zorblin} or {@code quenti} (metadata {@code group}): in
 * {@code train} and {@code test} zorblin is in 90% of the toxic and 10% of the clean sentences (a bias shortcut); in
 * {@code decorrelated} it is a fair coin independent of the label. Half of the sentences hold a clinical phrase with
 * an invented clinical term ({@code morvexia, tralcitis, ...}; metadata {@code domain} = clinical | general,
 * independent of the label), and metadata {@code tag} (a | b) is a fair coin from a stream of its own: a null
 * control. Each token is tagged ({@code lexicon}) {@code toxic}, {@code group}, {@code clinical} or {@code none}.
 * <p>
 * Batches follow the text conventions: token ids INT32 {@code [n, maxLength]} of the built-in
 * {@link #vocabulary() word vocabulary} ({@code [CLS]} first, right padding with {@code [PAD]} = 0),
 * {@code attention_mask}, and per example its tokens with offsets into the raw sentence. Ids are
 * {@code <split>-<index>}; each example is a pure function of (seed, split, index).
 */
@Extension
@ExtensionName(value = "synthetic-text",
        description = "Seeded synthetic sentences with a planted toxic lexicon, two group terms correlated with the "
                + "label outside the decorrelated split, and invented clinical terms")
public class SyntheticTextSource implements DataSource<SyntheticTextSource.Params> {

    /** Bumped whenever the same params would generate different content. */
    static final int GENERATOR_VERSION = 1;

    /** The class names, indexed by label. */
    public static final List<String> CLASSES = List.of("clean", "toxic");

    /** The metadata keys of every example. */
    public static final List<String> METADATA_KEYS = List.of("group", "domain", "tag");

    /** P(zorblin | toxic) in train and test; P(zorblin | clean) is one minus it. */
    static final double GROUP_CORRELATION = 0.9;

    private static final WordVocabulary VOCABULARY = WordVocabulary.of(TextGrammar.WORDS);

    /** Which sentences to draw; each split draws its own. */
    public enum Split {
        /** Training sentences; the group follows the label. */
        TRAIN,
        /** Held-out sentences from the training distribution. */
        TEST,
        /** The group is a fair coin independent of the label. */
        DECORRELATED;

        /** @return the lower-case name used in ids */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Params of {@code synthetic-text}.
     *
     * @param split     train, test or decorrelated
     * @param count     number of sentences
     * @param maxLength the sequence length T of every batch
     * @param seed      generator seed; null: the experiment's seed
     */
    public record Params(
            @Param(defaultValue = "train", description = "train, test (same distribution, other sentences) or "
                    + "decorrelated (group term independent of the label)") Split split,
            @Param(defaultValue = "4000", description = "number of sentences, >= 1") int count,
            @Param(defaultValue = "16", description = "sequence length T of the token ids (right padding), "
                    + "15..512: the longest sentence is 14 words plus [CLS]") int maxLength,
            @Param(description = "generator seed; defaults to the experiment's seed") Long seed) {

        /**
         * Validates every field at once.
         *
         * @param split     train, test or decorrelated
         * @param count     number of sentences
         * @param maxLength the sequence length T of every batch
         * @param seed      generator seed; null: the experiment's seed
         */
        public Params {
            Violations.check()
                    .require(split != null, "split", "must be one of train, test, decorrelated, found null")
                    .require(count >= 1, "count", "must be >= 1, found " + count)
                    .require(maxLength >= TextGrammar.MAX_WORDS + 1 && maxLength <= 512, "maxLength",
                            "must be in " + (TextGrammar.MAX_WORDS + 1) + "..512 (the longest sentence is "
                                    + TextGrammar.MAX_WORDS + " words plus [CLS]), found " + maxLength)
                    .throwIfAny();
        }

        /**
         * @param split which sentences
         * @param count how many
         * @param seed  generator seed, or null for the experiment's
         * @return params with the default sequence length
         */
        public static Params of(Split split, int count, Long seed) {
            return new Params(split, count, 16, seed);
        }
    }

    /** Public no-arg constructor for PF4J. */
    public SyntheticTextSource() {
    }

    /**
     * The corpus's word vocabulary: {@code [PAD]}=0, {@code [UNK]}=1, {@code [CLS]}=2, then every word of the grammar
     * in sorted order. It does not depend on the seed or the split.
     *
     * @return the vocabulary
     */
    public static WordVocabulary vocabulary() {
        return VOCABULARY;
    }

    /**
     * Writes {@link #vocabulary()} as {@code vocab.txt} (one token per line, line number = id), so that a file source
     * with {@code tokenizer: word:PATH} reproduces the corpus's ids.
     *
     * @param file where to write, e.g. {@code model/vocab.txt}; its folder is created when missing
     * @return {@code file}
     */
    public static Path writeVocabulary(Path file) {
        return VOCABULARY.write(file);
    }

    /**
     * @return the lexicons the corpus tags tokens with, in priority order: {@code toxic}, {@code group},
     *         {@code clinical}, each to its words
     */
    public static Map<String, List<String>> lexicons() {
        return TextGrammar.LEXICONS;
    }

    @Override
    public Dataset open(DataContext<Params> ctx) {
        Params p = ctx.params();
        long seed = p.seed() != null ? p.seed() : ctx.seed();
        return new Corpus(p, seed);
    }

    /** The opened generator: holds only its params; sentences are drawn when a batch is asked for. */
    private static final class Corpus implements Dataset {

        private final Params params;
        private final long seed;
        private final TextGrammar grammar;
        private final Lexicons lexicons = new Lexicons(TextGrammar.LEXICONS);
        private final DatasetInfo info;

        Corpus(Params params, long seed) {
            this.params = params;
            this.seed = seed;
            boolean decorrelated = params.split() == Split.DECORRELATED;
            this.grammar = new TextGrammar(seed, params.split().id(), decorrelated ? 0.5 : GROUP_CORRELATION,
                    decorrelated ? 0.5 : 1 - GROUP_CORRELATION);
            this.info = new DatasetInfo(params.count(), new int[] {params.maxLength()}, CLASSES, METADATA_KEYS,
                    DType.INT32, List.of(Batch.ATTENTION_MASK), List.of(Lexicons.KEY), true);
        }

        @Override
        public DatasetInfo info() {
            return info;
        }

        @Override
        public Iterator<Batch> batches(int batchSize) {
            String prefix = params.split().id() + "-";
            return new TextBatchCursor(params.count(), batchSize) {
                @Override
                Batch read(long offset, int n) {
                    List<String> texts = new ArrayList<>(n);
                    List<TextEncoding> encodings = new ArrayList<>(n);
                    int[] labels = new int[n];
                    List<String> ids = new ArrayList<>(n);
                    List<Map<String, String>> metadata = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        TextGrammar.Sentence s = grammar.generate(offset + i);
                        texts.add(s.text());
                        encodings.add(VOCABULARY.encode(s.text(), true));
                        labels[i] = s.toxic() ? 1 : 0;
                        ids.add(prefix + (offset + i));
                        metadata.add(Map.of("group", s.group(), "domain", s.clinical() ? "clinical" : "general",
                                "tag", s.tag()));
                    }
                    return TextBatches.pack(offset, texts, encodings, false, VOCABULARY.padId(), params.maxLength(),
                            lexicons, labels, ids, metadata);
                }
            };
        }

        @Override
        public String fingerprint() {
            String canonical = "synthetic-text\nversion=" + GENERATOR_VERSION
                    + "\nsplit=" + params.split().id()
                    + "\ncount=" + params.count()
                    + "\nmaxLength=" + params.maxLength()
                    + "\nseed=" + seed + "\n";
            return TextFiles.sha256Of(canonical);
        }
    }
}
