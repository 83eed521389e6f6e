package io.neuronmonkey.attribution;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Text pieces for the attribution tests: a word-level corpus as a {@link Dataset} (token ids INT32 {@code [n, T]},
 * attention mask, {@link Tokens} with offsets and a {@code lexicon} tag) and a small text model with known weights
 * computed by plain loops ({@link TinyTextModel}: token + position embedding, masked mean pooling, a ReLU layer,
 * logits), with interventions and hand-derived gradients.
 */
final class TextFixtures {

    /** Sequence length. */
    static final int T = 8;
    /** The vocabulary: id = index. */
    static final List<String> VOCAB = List.of("[PAD]", "[UNK]", "[CLS]", "the", "cat", "is", "nice", "idiot", "stupid",
            "zorblin", "quenti", "very", "dog");
    /** The toxic lexicon. */
    static final List<String> TOXIC = List.of("idiot", "stupid");

    private TextFixtures() {
    }

    /** @return the id of a word, [UNK] when it is not in the vocabulary */
    static int id(String word) {
        int i = VOCAB.indexOf(word);
        return i < 0 ? 1 : i;
    }

    /**
     * A seeded corpus: sentences of 2 to 6 words ([CLS] first), toxic when they hold a toxic word, with a group term
     * (metadata {@code group}) drawn so that zorblin goes with toxic in {@code bias} of the cases.
     *
     * @param count examples
     * @param seed  the seed
     * @param bias  chance that the group is zorblin for a toxic sentence (and quenti for a clean one)
     * @return the data
     */
    static TextData corpus(int count, long seed, double bias) {
        Random random = new Random(seed);
        List<String> plain = List.of("the", "cat", "is", "nice", "very", "dog");
        List<String> texts = new ArrayList<>();
        int[] labels = new int[count];
        List<Map<String, String>> meta = new ArrayList<>();
        for (int e = 0; e < count; e++) {
            boolean toxic = random.nextBoolean();
            boolean zorblin = random.nextDouble() < (toxic ? bias : 1 - bias);
            List<String> words = new ArrayList<>();
            int len = 1 + random.nextInt(4);
            for (int w = 0; w < len; w++) {
                words.add(plain.get(random.nextInt(plain.size())));
            }
            words.add(random.nextInt(words.size() + 1), zorblin ? "zorblin" : "quenti");
            if (toxic) {
                words.add(random.nextInt(words.size() + 1), TOXIC.get(random.nextInt(TOXIC.size())));
            }
            texts.add(String.join(" ", words));
            labels[e] = toxic ? 1 : 0;
            meta.add(Map.of("group", zorblin ? "zorblin" : "quenti"));
        }
        return new TextData(texts, labels, meta);
    }

    /** A text data set held in memory, tokenized by words. */
    static final class TextData implements Dataset {
        final List<String> texts;
        final int[] labels;
        final List<Map<String, String>> metadata;

        TextData(List<String> texts, int[] labels, List<Map<String, String>> metadata) {
            this.texts = List.copyOf(texts);
            this.labels = labels.clone();
            this.metadata = List.copyOf(metadata);
        }

        @Override
        public DatasetInfo info() {
            return new DatasetInfo(texts.size(), new int[] {T}, List.of("clean", "toxic"), List.of("group"), DType.INT32,
                    List.of(Batch.ATTENTION_MASK), List.of("lexicon"), true);
        }

        @Override
        public Iterator<Batch> batches(int batchSize) {
            return new Iterator<>() {
                int next;

                @Override
                public boolean hasNext() {
                    return next < texts.size();
                }

                @Override
                public Batch next() {
                    int from = next;
                    int to = Math.min(texts.size(), from + batchSize);
                    next = to;
                    return batch(from, to);
                }
            };
        }

        Batch batch(int from, int to) {
            int n = to - from;
            int[] ids = new int[n * T];
            int[] mask = new int[n * T];
            List<Tokens> tokens = new ArrayList<>();
            List<String> exampleIds = new ArrayList<>();
            for (int e = 0; e < n; e++) {
                Tokens t = tokenize(texts.get(from + e));
                tokens.add(t);
                for (int i = 0; i < t.length(); i++) {
                    ids[e * T + i] = id(t.tokens().get(i));
                    mask[e * T + i] = 1;
                }
                exampleIds.add("t" + (from + e));
            }
            Map<String, Tensor> features = new LinkedHashMap<>();
            features.put(Batch.ATTENTION_MASK, Tensor.ofInts(mask, n, T));
            return new Batch(from, Tensor.ofInts(ids, n, T), java.util.Arrays.copyOfRange(labels, from, to), exampleIds,
                    metadata.subList(from, to), features, tokens);
        }

        @Override
        public String fingerprint() {
            return Integer.toHexString(texts.hashCode());
        }
    }

    /** @return [CLS] and the words of the text (at most T tokens), with offsets and lexicon tags */
    static Tokens tokenize(String text) {
        List<String> toks = new ArrayList<>(List.of("[CLS]"));
        List<Integer> starts = new ArrayList<>(List.of(-1));
        List<Integer> ends = new ArrayList<>(List.of(-1));
        int i = 0;
        while (i < text.length() && toks.size() < T) {
            while (i < text.length() && text.charAt(i) == ' ') {
                i++;
            }
            int s = i;
            while (i < text.length() && text.charAt(i) != ' ') {
                i++;
            }
            if (i > s) {
                toks.add(text.substring(s, i));
                starts.add(s);
                ends.add(i);
            }
        }
        List<String> lexicon = toks.stream().map(w -> TOXIC.contains(w) ? "toxic"
                : w.equals("zorblin") || w.equals("quenti") ? "group" : "none").toList();
        return new Tokens(text, toks, starts.stream().mapToInt(Integer::intValue).toArray(),
                ends.stream().mapToInt(Integer::intValue).toArray(), Map.of("lexicon", lexicon));
    }

    /**
     * A text classifier with known, partly planted weights (a toxic unit and a group-term bias unit in {@code hidden}): {@code embedding[p] = E[id_p] + P[p]} ({@code [T, D]}), {@code pooled} =
     * the mean of the embedding over real tokens ({@code [D]}), {@code hidden = relu(pooled . A + a)} ({@code [H]}),
     * {@code logits = hidden . W + b} ({@code [2]}). Interventions apply to {@code embedding} and {@code hidden};
     * gradients of a logit with respect to {@code embedding}, {@code pooled} or {@code hidden} are derived by hand.
     */
    static class TinyTextModel implements LoadedModel {
        static final int D = 6;
        static final int H = 5;
        final float[] e;
        final float[] p;
        final float[] a;
        final float[] abias;
        final float[] w;
        final float[] wbias;

        TinyTextModel(long seed) {
            Random r = new Random(seed);
            e = gaussian(r, VOCAB.size() * D, 1);
            p = gaussian(r, T * D, 0.3);
            a = gaussian(r, D * H, 1);
            abias = gaussian(r, H, 0.5);
            w = gaussian(r, H * 2, 1);
            wbias = gaussian(r, 2, 0.1);
            // planted: embedding dimension 0 counts toxic words, dimension 1 the group term zorblin; hidden unit 0
            // reads dimension 0 alone (the toxic unit), unit 1 dimension 1 alone (the bias unit); both push the toxic
            // logit, the other units hardly matter
            for (int v = 0; v < VOCAB.size(); v++) {
                e[v * D] = TOXIC.contains(VOCAB.get(v)) ? 4f : 0f;
                e[v * D + 1] = VOCAB.get(v).equals("zorblin") ? 4f : 0f;
            }
            for (int t = 0; t < T; t++) {
                p[t * D] = 0f;
                p[t * D + 1] = 0f;
            }
            for (int d = 0; d < D; d++) {
                for (int h = 0; h < 2; h++) {
                    a[d * H + h] = d == h ? 2f : 0f;
                }
            }
            abias[0] = 0f;
            abias[1] = 0f;
            for (int h = 2; h < H; h++) {
                w[h * 2] *= 0.05f;
                w[h * 2 + 1] *= 0.05f;
            }
            w[0] = -1f;
            w[1] = 3f;
            w[2] = -1f;
            w[3] = 2f;
            wbias[0] = 0f;
            wbias[1] = -2f;
        }

        private static float[] gaussian(Random r, int n, double sd) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (r.nextGaussian() * sd);
            }
            return v;
        }

        @Override
        public List<LayerInfo> layers() {
            return List.of(new LayerInfo("input_ids", "Placeholder", new int[] {T}, LayerInfo.Role.INPUT),
                    new LayerInfo("embedding", "AddV2", new int[] {T, D}, LayerInfo.Role.HIDDEN),
                    new LayerInfo("pooled", "Mean", new int[] {D}, LayerInfo.Role.HIDDEN),
                    new LayerInfo("hidden", "Relu", new int[] {H}, LayerInfo.Role.HIDDEN),
                    new LayerInfo("logits", "BiasAdd", new int[] {2}, LayerInfo.Role.LOGITS));
        }

        @Override
        public List<ModelInput> inputs() {
            return List.of(new ModelInput("input_ids", DType.INT32, new int[] {T}, true),
                    new ModelInput(Batch.ATTENTION_MASK, DType.INT32, new int[] {T}, false));
        }

        @Override
        public int[] inputShape() {
            return new int[] {T};
        }

        @Override
        public String logitsLayer() {
            return "logits";
        }

        @Override
        public boolean supportsGradients() {
            return true;
        }

        @Override
        public boolean supportsInterventions() {
            return true;
        }

        @Override
        public Map<String, Tensor> run(Tensor inputs, Collection<String> layers) {
            throw new ModelException("the tiny text model needs input_ids and attention_mask by name");
        }

        /** The forward values of a batch under interventions. */
        private record Forward(int n, float[] emb, int[] mask, float[] pooled, float[] z, float[] hidden, float[] hScale,
                               float[] logits) {
        }

        private Forward forward(ModelInputs in, List<Intervention> interventions) {
            Tensor ids = in.primary();
            Tensor m = in.named().get(Batch.ATTENTION_MASK);
            if (ids.dtype() != DType.INT32 || m == null) {
                throw new ModelException("the tiny text model needs INT32 input_ids and an attention_mask, found " + ids
                        + " and " + m);
            }
            int n = ids.rows();
            int[] id = ids.ints();
            int[] mask = m.ints();
            float[] emb = new float[n * T * D];
            for (int i = 0; i < n * T; i++) {
                for (int d = 0; d < D; d++) {
                    emb[i * D + d] = e[id[i] * D + d] + p[(i % T) * D + d];
                }
            }
            apply(emb, "embedding", T, D, n, interventions);
            float[] pooled = new float[n * D];
            for (int r = 0; r < n; r++) {
                int len = 0;
                for (int t = 0; t < T; t++) {
                    if (mask[r * T + t] != 0) {
                        len++;
                        for (int d = 0; d < D; d++) {
                            pooled[r * D + d] += emb[(r * T + t) * D + d];
                        }
                    }
                }
                for (int d = 0; d < D; d++) {
                    pooled[r * D + d] /= Math.max(1, len);
                }
            }
            float[] z = new float[n * H];
            float[] hidden = new float[n * H];
            for (int r = 0; r < n; r++) {
                for (int h = 0; h < H; h++) {
                    double s = abias[h];
                    for (int d = 0; d < D; d++) {
                        s += pooled[r * D + d] * a[d * H + h];
                    }
                    z[r * H + h] = (float) s;
                    hidden[r * H + h] = (float) Math.max(0, s);
                }
            }
            float[] hScale = apply(hidden, "hidden", 1, H, n, interventions);
            float[] logits = new float[n * 2];
            for (int r = 0; r < n; r++) {
                for (int c = 0; c < 2; c++) {
                    double s = wbias[c];
                    for (int h = 0; h < H; h++) {
                        s += hidden[r * H + h] * w[h * 2 + c];
                    }
                    logits[r * 2 + c] = (float) s;
                }
            }
            return new Forward(n, emb, mask, pooled, z, hidden, hScale, logits);
        }

        /** Applies the interventions on one layer in place; returns the scale used (all ones without any). */
        private static float[] apply(float[] values, String layer, int positions, int neurons, int n, List<Intervention> ivs) {
            float[] scale = new float[values.length];
            float[] shift = new float[values.length];
            java.util.Arrays.fill(scale, 1f);
            for (Intervention iv : ivs) {
                if (iv.layer().equals(layer)) {
                    iv.applyToPositions(scale, shift, n, positions, neurons);
                } else if (!iv.layer().equals("embedding") && !iv.layer().equals("hidden")) {
                    throw new ModelException("the tiny text model intervenes on embedding and hidden, not " + iv.layer());
                }
            }
            for (int i = 0; i < values.length; i++) {
                values[i] = values[i] * scale[i] + shift[i];
            }
            return scale;
        }

        @Override
        public Map<String, Tensor> run(ModelInputs inputs, Collection<String> layers, List<Intervention> interventions) {
            Forward f = forward(inputs, interventions);
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String l : layers) {
                out.put(l, switch (l) {
                    case "embedding" -> Tensor.ofFloats(f.emb(), f.n(), T, D);
                    case "pooled" -> Tensor.ofFloats(f.pooled(), f.n(), D);
                    case "hidden" -> Tensor.ofFloats(f.hidden(), f.n(), H);
                    case "logits" -> Tensor.ofFloats(f.logits(), f.n(), 2);
                    default -> throw new ModelException("unknown layer " + l);
                });
            }
            return out;
        }

        @Override
        public Tensor gradient(ModelInputs inputs, GradientTarget target, String wrt, List<Intervention> interventions) {
            if (!target.layer().equals("logits")) {
                throw new ModelException("the tiny text model differentiates logits only");
            }
            Forward f = forward(inputs, interventions);
            int n = f.n();
            float[] weights = new float[n * 2];
            if (target.mode() == GradientTarget.Mode.PER_ROW) {
                int[] idx = target.indexPerRow();
                for (int r = 0; r < n; r++) {
                    weights[r * 2 + idx[r]] = 1f;
                }
            } else {
                float[] row = target.weights(2);
                for (int r = 0; r < n; r++) {
                    System.arraycopy(row, 0, weights, r * 2, 2);
                }
            }
            float[] gh = new float[n * H];
            for (int r = 0; r < n; r++) {
                for (int h = 0; h < H; h++) {
                    gh[r * H + h] = weights[r * 2] * w[h * 2] + weights[r * 2 + 1] * w[h * 2 + 1];
                }
            }
            if (wrt.equals("hidden")) {
                return Tensor.ofFloats(gh, n, H);
            }
            float[] gp = new float[n * D];
            for (int r = 0; r < n; r++) {
                for (int d = 0; d < D; d++) {
                    double s = 0;
                    for (int h = 0; h < H; h++) {
                        float relu = f.z()[r * H + h] > 0 ? 1f : 0f;
                        s += a[d * H + h] * relu * f.hScale()[r * H + h] * gh[r * H + h];
                    }
                    gp[r * D + d] = (float) s;
                }
            }
            if (wrt.equals("pooled")) {
                return Tensor.ofFloats(gp, n, D);
            }
            if (!wrt.equals("embedding")) {
                throw new ModelException("the tiny text model differentiates w.r.t. embedding, pooled or hidden, not " + wrt);
            }
            float[] ge = new float[n * T * D];
            for (int r = 0; r < n; r++) {
                int len = 0;
                for (int t = 0; t < T; t++) {
                    len += f.mask()[r * T + t] != 0 ? 1 : 0;
                }
                for (int t = 0; t < T; t++) {
                    if (f.mask()[r * T + t] != 0) {
                        for (int d = 0; d < D; d++) {
                            ge[(r * T + t) * D + d] = gp[r * D + d] / len;
                        }
                    }
                }
            }
            return Tensor.ofFloats(ge, n, T, D);
        }

        @Override
        public String description() {
            return "tiny text model (test)";
        }

        @Override
        public String fingerprint() {
            return "tiny-text";
        }

        @Override
        public void close() {
        }
    }
}
