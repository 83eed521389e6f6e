package io.neuronmonkey.stats;

import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Text examples built by hand for the text tests: sentences of a small vocabulary with offsets and per-token tags
 * {@code lexicon} (toxic, group, clinical, none) and {@code swear} (yes for the toxic lexicon, no otherwise),
 * token-level activations {@code [T, D]} with planted neurons, and padded batches whose padding
 * positions hold large values (so any padding that leaks into a statistic shows).
 * <p>
 * Neurons of the token layer: 0 is 0 on every real token (a dead rectifier) and 7 on padding; 1 fires on tokens of
 * the {@code toxic} lexicon (3 + noise) and is small elsewhere; 2 is a Gaussian (negative half the time); 3 is a
 * rectified value on a coarse grid (ties). Padding: 7, 9, +-50, 100.
 */
final class TextBatches {

    static final int D = 4;
    static final int POOLED = 3;
    static final List<String> CLASSES = List.of("clean", "toxic");
    static final List<String> WORDS = List.of("the", "cat", "sat", "vile", "nasty", "zorblin", "quenti", "tibula",
            "on", "mat", "rude");
    static final Map<String, String> LEXICON = Map.of("vile", "toxic", "nasty", "toxic", "rude", "toxic",
            "zorblin", "group", "quenti", "group", "tibula", "clinical");

    /** One example: its tokens, label, metadata, the real rows of the token layer and the pooled layer's values. */
    record Example(Tokens tokens, int label, Map<String, String> metadata, float[][] act, float[] pooled) {
        int length() {
            return tokens.length();
        }
    }

    private TextBatches() {
    }

    /** @return the token layer of sequence length t */
    static LayerInfo tokenLayer(int t) {
        return new LayerInfo("block1/mlp", "Relu", new int[]{t, D}, LayerInfo.Role.HIDDEN);
    }

    /** The pooled layer (one position per example: never masked). */
    static final LayerInfo POOLED_LAYER = new LayerInfo("pooled", "Relu", new int[]{POOLED}, LayerInfo.Role.HIDDEN);

    /**
     * @param n      examples
     * @param minLen shortest sequence (tokens, [CLS] included), >= 1
     * @param maxLen longest sequence
     * @return seeded examples of minLen..maxLen tokens
     */
    static List<Example> examples(int n, int minLen, int maxLen, long seed) {
        Random r = new Random(seed);
        List<Example> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int len = minLen + r.nextInt(maxLen - minLen + 1);
            List<String> toks = new ArrayList<>();
            List<String> lex = new ArrayList<>();
            int[] starts = new int[len];
            int[] ends = new int[len];
            StringBuilder text = new StringBuilder(r.nextBoolean() ? "" : "  ");
            toks.add("[CLS]");
            lex.add("none");
            starts[0] = -1;
            ends[0] = -1;
            boolean toxic = false;
            for (int p = 1; p < len; p++) {
                if (p > 1) {
                    text.append(r.nextInt(4) == 0 ? ", " : " ");
                }
                String w = WORDS.get(r.nextInt(WORDS.size()));
                starts[p] = text.length();
                text.append(w);
                ends[p] = text.length();
                toks.add(w);
                String tag = LEXICON.getOrDefault(w, "none");
                lex.add(tag);
                toxic |= tag.equals("toxic");
            }
            text.append(r.nextBoolean() ? "." : "");
            List<String> swear = lex.stream().map(x -> x.equals("toxic") ? "yes" : "no").toList();
            Tokens t = new Tokens(text.toString(), toks, starts, ends, Map.of("lexicon", lex, "swear", swear));
            float[][] act = new float[len][D];
            for (int p = 0; p < len; p++) {
                act[p][0] = 0f;
                act[p][1] = lex.get(p).equals("toxic") ? (float) (3 + 0.5 * r.nextGaussian())
                        : (float) Math.max(0, 0.3 * r.nextGaussian());
                act[p][2] = (float) r.nextGaussian();
                act[p][3] = Math.max(0, Math.round(r.nextGaussian() * 2) / 2f);
            }
            float[] pooled = new float[POOLED];
            for (int c = 0; c < POOLED; c++) {
                pooled[c] = (float) Math.max(0, r.nextGaussian() + (c == 0 && toxic ? 1 : 0));
            }
            Map<String, String> meta = Map.of("group", r.nextBoolean() ? "zorblin" : "quenti",
                    "tag", r.nextBoolean() ? "a" : "b");
            out.add(new Example(t, toxic ? 1 : 0, meta, act, pooled));
        }
        return out;
    }

    /** The value a padding position of neuron c holds: large, so that a leak shows. */
    static float padding(int c, int p) {
        return switch (c) {
            case 0 -> 7f;
            case 1 -> 9f;
            case 2 -> p % 2 == 0 ? 50f : -50f;
            default -> 100f;
        };
    }

    /**
     * @param examples   the examples
     * @param t          the padded length (>= the longest example)
     * @param batchSizes batch sizes, cycled
     * @return right-padded batches with attention masks, token ids, tokens; activations of the token and pooled layers
     */
    static List<ActivationBatch> padded(List<Example> examples, int t, int... batchSizes) {
        List<ActivationBatch> out = new ArrayList<>();
        int done = 0;
        int bi = 0;
        while (done < examples.size()) {
            int b = Math.min(batchSizes[bi++ % batchSizes.length], examples.size() - done);
            out.add(batch(examples.subList(done, done + b), done, t));
            done += b;
        }
        return out;
    }

    /** @return each example alone, unpadded: a batch of one with T = its length */
    static List<ActivationBatch> singles(List<Example> examples) {
        List<ActivationBatch> out = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            out.add(batch(examples.subList(i, i + 1), i, examples.get(i).length()));
        }
        return out;
    }

    /** @return one batch of the examples, padded to t, its first example at the offset */
    static ActivationBatch batch(List<Example> ex, long offset, int t) {
        int n = ex.size();
        int[] ids = new int[n * t];
        int[] mask = new int[n * t];
        float[] act = new float[n * t * D];
        float[] pooled = new float[n * POOLED];
        int[] labels = new int[n];
        List<String> exampleIds = new ArrayList<>();
        List<Map<String, String>> meta = new ArrayList<>();
        List<Tokens> tokens = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            Example x = ex.get(e);
            for (int p = 0; p < t; p++) {
                boolean real = p < x.length();
                mask[e * t + p] = real ? 1 : 0;
                ids[e * t + p] = real ? 2 + WORDS.indexOf(x.tokens().tokens().get(p)) + 1 : 0;
                for (int c = 0; c < D; c++) {
                    act[(e * t + p) * D + c] = real ? x.act()[p][c] : padding(c, p);
                }
            }
            System.arraycopy(x.pooled(), 0, pooled, e * POOLED, POOLED);
            labels[e] = x.label();
            exampleIds.add("s-" + (offset + e));
            meta.add(x.metadata());
            tokens.add(x.tokens());
        }
        Batch batch = new Batch(offset, Tensor.ofInts(ids, n, t), labels, exampleIds, meta,
                Map.of(Batch.ATTENTION_MASK, Tensor.ofInts(mask, n, t)), tokens);
        return new ActivationBatch(batch, Map.of("block1/mlp", Tensor.ofFloats(act, n, t, D),
                POOLED_LAYER.name(), Tensor.ofFloats(pooled, n, POOLED)));
    }
}
