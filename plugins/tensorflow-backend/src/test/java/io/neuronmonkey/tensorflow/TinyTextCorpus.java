package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.api.train.TrainerContext;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A small seeded text corpus for the text model's tests: {@code [CLS]} then 2..6 filler words, a group word and, for
 * a toxic sentence, one toxic word, at random places; label toxic exactly when a toxic word is present. The group word
 * is {@code zorblin} for {@code bias} of the toxic and {@code 1 - bias} of the clean sentences ({@code bias = 0.5}:
 * independent of the label). A word is written {@code [UNK]} with probability 0.02 (id 1).
 */
final class TinyTextCorpus {

    /** Token ids: line number = id. */
    static final List<String> VOCABULARY = List.of("[PAD]", "[UNK]", "[CLS]", "a", "bird", "cat", "dog", "eats",
            "food", "likes", "nasty", "park", "quenti", "rotten", "sees", "the", "today", "vile", "zorblin");

    static final List<String> FILLER = List.of("a", "bird", "cat", "dog", "eats", "food", "likes", "park", "sees",
            "the", "today");

    static final List<String> TOXIC = List.of("nasty", "rotten", "vile");

    private TinyTextCorpus() {
    }

    /** One tokenized sentence. */
    record Sentence(List<String> words, int label, String group) {
    }

    /** @return {@code count} sentences drawn from {@code seed} */
    static List<Sentence> sentences(int count, long seed, double bias) {
        Random r = new Random(seed);
        List<Sentence> out = new ArrayList<>();
        for (int e = 0; e < count; e++) {
            int label = r.nextInt(2);
            boolean zorblin = r.nextDouble() < (label == 1 ? bias : 1 - bias);
            List<String> words = new ArrayList<>();
            int fill = 2 + r.nextInt(5);
            for (int i = 0; i < fill; i++) {
                words.add(FILLER.get(r.nextInt(FILLER.size())));
            }
            words.add(r.nextInt(words.size() + 1), zorblin ? "zorblin" : "quenti");
            if (label == 1) {
                words.add(r.nextInt(words.size() + 1), TOXIC.get(r.nextInt(TOXIC.size())));
            }
            for (int i = 0; i < words.size(); i++) {
                if (r.nextDouble() < 0.02 && !TOXIC.contains(words.get(i))) {
                    words.set(i, "[UNK]");
                }
            }
            words.add(0, "[CLS]");
            out.add(new Sentence(words, label, zorblin ? "zorblin" : "quenti"));
        }
        return out;
    }

    /** @return the sentences as a text data set of length {@code length} (right padding with id 0) */
    static Dataset dataset(List<Sentence> sentences, int length) {
        return new TextDataset(sentences, length);
    }

    /** @return a data set of {@code count} sentences */
    static Dataset dataset(int count, long seed, double bias, int length) {
        return dataset(sentences(count, seed, bias), length);
    }

    /**
     * @param sentences the sentences
     * @param length    the sequence length
     * @return token ids {@code [n, length]}, then the attention mask {@code [n, length]}
     */
    static int[][] encode(List<Sentence> sentences, int length) {
        int[] ids = new int[sentences.size() * length];
        int[] mask = new int[sentences.size() * length];
        for (int e = 0; e < sentences.size(); e++) {
            List<String> w = sentences.get(e).words();
            for (int p = 0; p < Math.min(w.size(), length); p++) {
                ids[e * length + p] = VOCABULARY.indexOf(w.get(p));
                mask[e * length + p] = 1;
            }
        }
        return new int[][] {ids, mask};
    }

    private record TextDataset(List<Sentence> sentences, int length) implements Dataset {
        @Override
        public DatasetInfo info() {
            return new DatasetInfo(sentences.size(), new int[] {length}, List.of("clean", "toxic"), List.of("group"),
                    DType.INT32, List.of(Batch.ATTENTION_MASK), List.of(), true);
        }

        @Override
        public Iterator<Batch> batches(int batchSize) {
            List<Batch> out = new ArrayList<>();
            for (int from = 0; from < sentences.size(); from += batchSize) {
                List<Sentence> part = sentences.subList(from, Math.min(sentences.size(), from + batchSize));
                int n = part.size();
                int[][] enc = encode(part, length);
                List<String> ids = new ArrayList<>();
                List<Map<String, String>> meta = new ArrayList<>();
                List<Tokens> tokens = new ArrayList<>();
                int[] labels = new int[n];
                for (int i = 0; i < n; i++) {
                    Sentence s = part.get(i);
                    ids.add("s" + (from + i));
                    meta.add(Map.of("group", s.group()));
                    labels[i] = s.label();
                    tokens.add(tokens(s.words().subList(0, Math.min(length, s.words().size()))));
                }
                out.add(new Batch(from, Tensor.ofInts(enc[0], n, length), labels, ids, meta,
                        Map.of(Batch.ATTENTION_MASK, Tensor.ofInts(enc[1], n, length)), tokens));
            }
            return out.iterator();
        }

        private static Tokens tokens(List<String> words) {
            StringBuilder text = new StringBuilder();
            int[] starts = new int[words.size()];
            int[] ends = new int[words.size()];
            for (int i = 0; i < words.size(); i++) {
                if (words.get(i).equals("[CLS]")) {
                    starts[i] = -1;
                    ends[i] = -1;
                    continue;
                }
                if (!text.isEmpty()) {
                    text.append(' ');
                }
                starts[i] = text.length();
                text.append(words.get(i).equals("[UNK]") ? "blorp" : words.get(i));
                ends[i] = text.length();
            }
            return new Tokens(text.toString(), words, starts, ends, Map.of());
        }

        @Override
        public String fingerprint() {
            return "tiny-text-" + sentences.size();
        }
    }

    /** A trainer context over the tiny corpus. */
    record Trainer(TextTransformerTrainer.Params params, Dataset trainData, Map<String, Dataset> evaluationData,
                   Path outputDir, long seed) implements TrainerContext<TextTransformerTrainer.Params> {
        @Override
        public Path resolve(String p) {
            return outputDir.resolve(p);
        }

        @Override
        public ProgressReporter progress() {
            return new ProgressReporter() {
                @Override
                public void start(String task, long total) {
                }

                @Override
                public void advance(long done) {
                }
            };
        }
    }
}
