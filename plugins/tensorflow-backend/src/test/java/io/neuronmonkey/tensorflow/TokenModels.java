package io.neuronmonkey.tensorflow;

import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.family.TNumber;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A tiny text classifier with known weights, built with TensorFlow ops, and naive Java loops computing what it should
 * output: token ids {@code [n, T]} and an attention mask {@code [n, T]} -> {@code embedding} = table[ids]
 * {@code [T, D]} -> {@code pooled} = mean of the embeddings over real tokens {@code [D]} -> {@code logits} = pooled W
 * + b {@code [C]} -> {@code probabilities}. The pooled mean is named by an {@code Identity}, as a trainer names a layer
 * whatever op computes it.
 */
final class TokenModels {

    static final int T = 5;
    static final int V = 7;
    static final int D = 3;
    static final int C = 2;

    final float[] table = TinyModels.random(V * D, 21);
    final float[] weights = TinyModels.random(D * C, 22);
    final float[] bias = TinyModels.random(C, 23);

    /**
     * Exports the model as a SavedModel with signature inputs {@code input_ids} (INT32, or INT64 when {@code wide})
     * and {@code attention_mask} (INT32), outputs {@code probabilities} and {@code logits}.
     *
     * @param batch the batch dimension of both inputs: -1 for free, or a fixed size
     */
    void export(Path dir, boolean wide, long batch) throws IOException {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Operand<TFloat32> vt = tf.withName("table").variable(tf.constant(Shape.of(V, D), DataBuffers.of(table)));
            Operand<TFloat32> vw = tf.withName("w").variable(tf.constant(Shape.of(D, C), DataBuffers.of(weights)));
            Operand<TFloat32> vb = tf.withName("b").variable(tf.constant(Shape.of(C), DataBuffers.of(bias)));
            Operand<?>[] io = build(tf, wide, batch, vt, vw, vb);
            try (Session s = new Session(g)) {
                s.initialize();
                Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("input_ids", io[0])
                        .input("attention_mask", io[1]).output("probabilities", io[2]).output("logits", io[3]).build();
                SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig, s)).export();
            }
        }
    }

    /** Writes the INT32 model with constant weights as a frozen GraphDef (placeholders input_ids, attention_mask). */
    void writeFrozen(Path file) throws IOException {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            build(tf, false, -1, tf.constant(Shape.of(V, D), DataBuffers.of(table)),
                    tf.constant(Shape.of(D, C), DataBuffers.of(weights)), tf.constant(Shape.of(C), DataBuffers.of(bias)));
            java.nio.file.Files.write(file, g.toGraphDef().toByteArray());
        }
    }

    /** @return ids, mask, probabilities and logits */
    private static Operand<?>[] build(Ops tf, boolean wide, long batch, Operand<TFloat32> vt, Operand<TFloat32> vw,
                                      Operand<TFloat32> vb) {
        Operand<? extends TNumber> ids = wide
                ? tf.withName("input_ids").placeholder(TInt64.class, Placeholder.shape(Shape.of(batch, T)))
                : tf.withName("input_ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(batch, T)));
        Placeholder<TInt32> mask = tf.withName("attention_mask").placeholder(TInt32.class,
                Placeholder.shape(Shape.of(batch, T)));
        Operand<TFloat32> embedding = tf.withName("embedding").gather(vt, ids, tf.constant(0));
        Operand<TFloat32> m = tf.dtypes.cast(mask, TFloat32.class);
        Operand<TFloat32> masked = tf.math.mul(embedding, tf.expandDims(m, tf.constant(-1)));
        Operand<TFloat32> count = tf.math.maximum(tf.reduceSum(m, tf.constant(1), org.tensorflow.op.core.ReduceSum
                .keepDims(true)), tf.constant(1f));
        Operand<TFloat32> pooled = tf.withName("pooled").identity(tf.math.div(tf.reduceSum(masked, tf.constant(1)),
                count));
        Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.linalg.matMul(pooled, vw), vb);
        Operand<TFloat32> probs = tf.withName("probabilities").nn.softmax(logits);
        return new Operand<?>[] {ids, mask, probs, logits};
    }

    /** @return the embeddings {@code [n, T, D]} */
    float[] embedding(int[] ids, int n) {
        float[] out = new float[n * T * D];
        for (int i = 0; i < n * T; i++) {
            System.arraycopy(table, ids[i] * D, out, i * D, D);
        }
        return out;
    }

    /** @return the mean embedding over real tokens {@code [n, D]} (zero for an example without any) */
    float[] pooled(int[] ids, int[] mask, int n) {
        float[] out = new float[n * D];
        for (int e = 0; e < n; e++) {
            double count = 0;
            double[] sum = new double[D];
            for (int t = 0; t < T; t++) {
                if (mask[e * T + t] != 0) {
                    count++;
                    for (int d = 0; d < D; d++) {
                        sum[d] += table[ids[e * T + t] * D + d];
                    }
                }
            }
            for (int d = 0; d < D; d++) {
                out[e * D + d] = (float) (sum[d] / Math.max(count, 1));
            }
        }
        return out;
    }

    /** @return the logits {@code [n, C]} */
    float[] logits(int[] ids, int[] mask, int n) {
        return head(pooled(ids, mask, n), n);
    }

    /** @return the logits {@code [n, C]} of pooled embeddings {@code [n, D]} */
    float[] head(float[] p, int n) {
        float[] out = new float[n * C];
        for (int e = 0; e < n; e++) {
            for (int c = 0; c < C; c++) {
                double z = bias[c];
                for (int d = 0; d < D; d++) {
                    z += p[e * D + d] * weights[d * C + c];
                }
                out[e * C + c] = (float) z;
            }
        }
        return out;
    }

    /**
     * d logits[class] / d embedding in closed form: {@code mask[t] * W[d, class] / max(sum(mask), 1)}.
     *
     * @return {@code [n, T, D]}
     */
    float[] logitGradient(int[] mask, int n, int cls) {
        float[] out = new float[n * T * D];
        for (int e = 0; e < n; e++) {
            int count = 0;
            for (int t = 0; t < T; t++) {
                count += mask[e * T + t] != 0 ? 1 : 0;
            }
            for (int t = 0; t < T; t++) {
                for (int d = 0; d < D; d++) {
                    out[(e * T + t) * D + d] = mask[e * T + t] * weights[d * C + cls] / Math.max(count, 1);
                }
            }
        }
        return out;
    }
}
