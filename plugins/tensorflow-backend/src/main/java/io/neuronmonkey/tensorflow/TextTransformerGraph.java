package io.neuronmonkey.tensorflow;

import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Max;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Sum;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.math.Mean;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The demo text model as a TensorFlow graph: a small post-norm transformer encoder over token ids.
 *
 * <pre>
 * input_ids [T], attention_mask [T]
 * token_embedding   = token_table[input_ids]                                              [T, d]
 * embedding         = token_embedding + position_table                                    [T, d]
 * x                 = layerNorm(embedding)
 * per block b:
 *   b/attention     = multi-head self-attention of x (padding keys masked out), projected [T, d]
 *   h               = layerNorm(x + b/attention)
 *   b/mlp           = relu(h W1 + b1)                                                     [T, m]
 *   b/residual      = layerNorm(h + b/mlp W2 + b2), the block output, the next x          [T, d]
 * pooled            = mean of the last block's output over the real tokens                [d]
 * logits            = pooled Wc + bc                                                      [classes]
 * probabilities     = softmax(logits)
 * </pre>
 *
 * <p>The ops are chosen so that the backend's layer selection (activation, bias-add, matmul and add outputs on the
 * path from the input, embedding lookups and named identities included) lists exactly the layers above under those
 * names: projections
 * inside a layer are {@code Einsum}s with {@code Add} biases, the attention softmax is written out ({@code Exp},
 * {@code RealDiv}), residual sums are {@code AddN} (which does not hide the layer feeding it), a layer norm ends in a
 * {@code BiasAdd} of its beta where its output is a listed layer ({@code b/residual}) and in an {@code Add} elsewhere,
 * and {@code pooled} is a named {@code Identity} of the masked mean. Variables are named
 * {@code token_table}, {@code position_table}, {@code embedding_gamma}, {@code block1/query_w}, ....
 */
final class TextTransformerGraph {

    /** Layer norm's variance epsilon. */
    static final float NORM_EPSILON = 1e-5f;

    /** What a padding key adds to an attention score before the softmax. */
    static final float MASKED = -1e9f;

    final Ops tf;
    final Placeholder<TInt32> inputIds;
    final Placeholder<TInt32> attentionMask;
    final Operand<TFloat32> logits;
    final Operand<TFloat32> probabilities;
    final List<Variable<TFloat32>> variables = new ArrayList<>();

    /**
     * The architecture.
     *
     * @param vocabulary token ids are {@code 0..vocabulary-1}
     * @param length     the sequence length T
     * @param dim        model width d
     * @param heads      attention heads; divides {@code dim}
     * @param mlp        hidden units of each block's MLP
     * @param blocks     encoder blocks, >= 1
     * @param classes    number of classes (logits)
     */
    record Spec(int vocabulary, int length, int dim, int heads, int mlp, int blocks, int classes) {

        /** @return the width of one head */
        int headDim() {
            return dim / heads;
        }

        /** @return the listed layer names, in graph order after the input */
        List<String> layerNames() {
            List<String> names = new ArrayList<>(List.of("token_embedding", "embedding"));
            for (int b = 1; b <= blocks; b++) {
                names.addAll(List.of("block" + b + "/attention", "block" + b + "/mlp", "block" + b + "/residual"));
            }
            names.addAll(List.of("pooled", "logits", "probabilities"));
            return names;
        }

        /** @return variable names, in the order of {@link #shapes()} */
        List<String> variableNames() {
            List<String> names = new ArrayList<>(List.of("token_table", "position_table", "embedding_gamma",
                    "embedding_beta"));
            for (int b = 1; b <= blocks; b++) {
                for (String v : BLOCK_VARIABLES) {
                    names.add("block" + b + "/" + v);
                }
            }
            names.add("logits_w");
            names.add("logits_b");
            return names;
        }

        /** @return the shape of each variable, in {@link #variableNames()} order */
        long[][] shapes() {
            List<long[]> s = new ArrayList<>(List.of(new long[] {vocabulary, dim}, new long[] {length, dim},
                    new long[] {dim}, new long[] {dim}));
            long h = heads;
            long k = headDim();
            for (int b = 1; b <= blocks; b++) {
                s.addAll(List.of(
                        new long[] {dim, h, k}, new long[] {h, k},      // query
                        new long[] {dim, h, k}, new long[] {h, k},      // key
                        new long[] {dim, h, k}, new long[] {h, k},      // value
                        new long[] {h, k, dim}, new long[] {dim},       // attention output
                        new long[] {dim}, new long[] {dim},             // norm1 gamma, beta
                        new long[] {dim, mlp}, new long[] {mlp},        // mlp hidden
                        new long[] {mlp, dim}, new long[] {dim},        // mlp output
                        new long[] {dim}, new long[] {dim}));           // norm2 gamma, beta
            }
            s.add(new long[] {dim, classes});
            s.add(new long[] {classes});
            return s.toArray(long[][]::new);
        }

        /**
         * @return embeddings ~ N(0, 1/d), projections ~ N(0, 1/fan-in) (2/fan-in before the ReLU), layer norm gammas
         *         1, every bias and beta 0, drawn from {@code rng} in variable order
         */
        float[][] initialWeights(Random rng) {
            long[][] shapes = shapes();
            List<String> names = variableNames();
            float[][] w = new float[shapes.length][];
            for (int i = 0; i < shapes.length; i++) {
                w[i] = new float[Math.toIntExact(size(shapes[i]))];
                String name = names.get(i);
                if (name.endsWith("gamma")) {
                    java.util.Arrays.fill(w[i], 1f);
                    continue;
                }
                double std;
                if (name.endsWith("_table")) {
                    std = Math.sqrt(1.0 / dim);
                } else if (name.endsWith("_w")) {
                    long fanIn = name.endsWith("output_w") ? (long) heads * headDim() : shapes[i][0];
                    std = Math.sqrt((name.endsWith("mlp_w") ? 2.0 : 1.0) / fanIn);
                } else {
                    continue;
                }
                for (int j = 0; j < w[i].length; j++) {
                    w[i][j] = (float) (rng.nextGaussian() * std);
                }
            }
            return w;
        }

        /** @return the number of trainable parameters */
        long parameters() {
            long n = 0;
            for (long[] s : shapes()) {
                n += size(s);
            }
            return n;
        }

        private static long size(long[] shape) {
            long size = 1;
            for (long d : shape) {
                size *= d;
            }
            return size;
        }
    }

    /** Variables of one block, in {@link Spec#variableNames()} order. */
    private static final List<String> BLOCK_VARIABLES = List.of("query_w", "query_b", "key_w", "key_b", "value_w",
            "value_b", "output_w", "output_b", "norm1_gamma", "norm1_beta", "mlp_w", "mlp_b", "mlp_out_w", "mlp_out_b",
            "norm2_gamma", "norm2_beta");

    /**
     * Builds the forward graph with variables initialized to {@code weights}.
     *
     * @param graph   an empty graph
     * @param spec    the architecture
     * @param weights initial values in {@link Spec#variableNames()} order
     */
    TextTransformerGraph(Graph graph, Spec spec, float[][] weights) {
        tf = Ops.create(graph);
        long[][] shapes = spec.shapes();
        List<String> names = spec.variableNames();
        // one sub-scope per block, made once: asking for a scope name again makes it unique (block1_1)
        List<Ops> blockScopes = new ArrayList<>();
        for (int b = 1; b <= spec.blocks(); b++) {
            blockScopes.add(tf.withSubScope("block" + b));
        }
        for (int i = 0; i < shapes.length; i++) {
            String name = names.get(i);
            int slash = name.indexOf('/');
            Ops scope = slash < 0 ? tf : blockScopes.get(Integer.parseInt(name.substring("block".length(), slash)) - 1);
            String local = name.substring(slash + 1);
            variables.add(scope.withName(local).variable(scope.withName(local + "_init")
                    .constant(Shape.of(shapes[i]), DataBuffers.of(weights[i]))));
        }
        int t = spec.length();
        inputIds = tf.withName("input_ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, t)));
        attentionMask = tf.withName("attention_mask").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, t)));
        Operand<TFloat32> mask = tf.withName("mask_float").dtypes.cast(attentionMask, TFloat32.class);

        Operand<TFloat32> tokens = tf.withName("token_embedding").gather(variables.get(0), inputIds, tf.constant(0));
        Operand<TFloat32> embedding = tf.withName("embedding").math.add(tokens, variables.get(1));
        Operand<TFloat32> x = layerNorm(tf, embedding, variables.get(2), variables.get(3), "embedding_norm", false);

        // [n, T] mask -> [n, 1, 1, T] additive score bias: 0 for a real key, MASKED for padding
        Operand<TFloat32> keyBias = tf.withName("key_bias").reshape(
                tf.withName("key_bias_scaled").math.mul(
                        tf.withName("key_padding").math.sub(tf.constant(1f), mask), tf.constant(MASKED)),
                tf.constant(new int[] {-1, 1, 1, t}));
        for (int b = 1; b <= spec.blocks(); b++) {
            int v = 4 + (b - 1) * BLOCK_VARIABLES.size();
            x = block(blockScopes.get(b - 1), x, keyBias, spec, variables.subList(v, v + BLOCK_VARIABLES.size()));
        }

        // mean over the real tokens: sum(x * mask) / sum(mask)
        Operand<TFloat32> weighted = tf.withName("pool_weighted").math.mul(x,
                tf.withName("pool_mask").expandDims(mask, tf.constant(-1)));
        Operand<TFloat32> sum = tf.withName("pool_sum").sum(weighted, tf.constant(1));
        Operand<TFloat32> count = tf.withName("pool_count").sum(mask, tf.constant(1), Sum.keepDims(true));
        Operand<TFloat32> mean = tf.withName("pool_mean").math.realDiv(sum, count);
        Operand<TFloat32> pooled = tf.withName("pooled").identity(mean);

        int last = variables.size() - 2;
        logits = tf.withName("logits").nn.biasAdd(
                tf.withName("logits_matmul").linalg.matMul(pooled, variables.get(last)), variables.get(last + 1));
        probabilities = tf.withName("probabilities").nn.softmax(logits);
    }

    /** One encoder block; {@code s} is scoped to the block's name. */
    private static Operand<TFloat32> block(Ops s, Operand<TFloat32> x, Operand<TFloat32> keyBias, Spec spec,
                                           List<Variable<TFloat32>> v) {
        Operand<TFloat32> q = project(s, x, v.get(0), v.get(1), "query");
        Operand<TFloat32> k = project(s, x, v.get(2), v.get(3), "key");
        Operand<TFloat32> val = project(s, x, v.get(4), v.get(5), "value");
        Operand<TFloat32> scores = s.withName("scores").math.mul(
                s.withName("scores_raw").linalg.einsum(List.of(q, k), "bqhk,bthk->bhqt"),
                s.constant((float) (1 / Math.sqrt(spec.headDim()))));
        Operand<TFloat32> masked = s.withName("scores_masked").math.add(scores, keyBias);
        // softmax over the keys, written out so that no Softmax op shows up as a layer
        Operand<TFloat32> shift = s.withName("scores_max").stopGradient(
                s.withName("scores_max_raw").max(masked, s.constant(-1), Max.keepDims(true)));
        Operand<TFloat32> exp = s.withName("attention_exp").math.exp(s.withName("scores_shifted").math.sub(masked, shift));
        Operand<TFloat32> weights = s.withName("attention_weights").math.realDiv(exp,
                s.withName("attention_total").sum(exp, s.constant(-1), Sum.keepDims(true)));
        Operand<TFloat32> context = s.withName("context").linalg.einsum(List.of(weights, val), "bhqt,bthk->bqhk");
        Operand<TFloat32> attention = s.withName("attention").nn.biasAdd(
                s.withName("attention_projection").linalg.einsum(List.of(context, v.get(6)), "bqhk,hkd->bqd"), v.get(7));
        Operand<TFloat32> h = layerNorm(s, s.withName("attention_sum").math.addN(List.of(x, attention)), v.get(8),
                v.get(9), "norm1", false);
        Operand<TFloat32> mlp = s.withName("mlp").nn.relu(s.withName("mlp_pre").math.add(
                s.withName("mlp_projection").linalg.einsum(List.of(h, v.get(10)), "btd,dm->btm"), v.get(11)));
        Operand<TFloat32> out = s.withName("mlp_out").math.add(
                s.withName("mlp_out_projection").linalg.einsum(List.of(mlp, v.get(12)), "btm,md->btd"), v.get(13));
        return layerNorm(s, s.withName("mlp_sum").math.addN(List.of(h, out)), v.get(14), v.get(15), "residual", true);
    }

    private static Operand<TFloat32> project(Ops s, Operand<TFloat32> x, Operand<TFloat32> w, Operand<TFloat32> b,
                                             String name) {
        return s.withName(name).math.add(s.withName(name + "_projection").linalg.einsum(List.of(x, w), "btd,dhk->bthk"),
                b);
    }

    /**
     * Layer norm over the last axis, {@code gamma * (x - mean) / sqrt(var + eps) + beta}.
     *
     * @param listed true to end in a {@code BiasAdd} named {@code name} (a listed layer), false to end in an
     *               {@code AddV2} the layer selection passes over
     */
    private static Operand<TFloat32> layerNorm(Ops s, Operand<TFloat32> x, Operand<TFloat32> gamma,
                                               Operand<TFloat32> beta, String name, boolean listed) {
        Operand<TInt32> axis = s.constant(-1);
        Operand<TFloat32> centered = s.withName(name + "_centered").math.sub(x,
                s.withName(name + "_mean").math.mean(x, axis, Mean.keepDims(true)));
        Operand<TFloat32> variance = s.withName(name + "_variance").math.mean(
                s.withName(name + "_squared").math.square(centered), axis, Mean.keepDims(true));
        Operand<TFloat32> normalized = s.withName(name + "_normalized").math.mul(centered,
                s.withName(name + "_rsqrt").math.rsqrt(s.withName(name + "_variance_eps").math.add(variance,
                        s.constant(NORM_EPSILON))));
        Operand<TFloat32> scaled = s.withName(name + "_scaled").math.mul(normalized, gamma);
        return listed ? s.withName(name).nn.biasAdd(scaled, beta) : s.withName(name).math.add(scaled, beta);
    }
}
