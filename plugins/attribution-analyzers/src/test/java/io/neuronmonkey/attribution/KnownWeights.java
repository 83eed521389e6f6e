package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.tensor.Tensor;
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

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A tiny MLP with known weights, exported as a SavedModel with TensorFlow ops: x[4] -> hidden = relu(x W1 + b1)[5]
 * -> logits = hidden W2 + b2 [3] -> probs = softmax; and an in-memory data set of random inputs for it.
 */
final class KnownWeights {

    static final int IN = 4;
    static final int HIDDEN = 5;
    static final int OUT = 3;

    final float[] w1 = random(IN * HIDDEN, 11);
    final float[] b1 = random(HIDDEN, 12);
    final float[] w2 = random(HIDDEN * OUT, 13);
    final float[] b2 = random(OUT, 14);

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    /** Exports the MLP to {@code dir}. */
    void export(Path dir) throws java.io.IOException {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, IN)));
            Operand<TFloat32> vw1 = tf.withName("w1").variable(tf.constant(Shape.of(IN, HIDDEN), DataBuffers.of(w1)));
            Operand<TFloat32> vb1 = tf.withName("b1").variable(tf.constant(Shape.of(HIDDEN), DataBuffers.of(b1)));
            Operand<TFloat32> vw2 = tf.withName("w2").variable(tf.constant(Shape.of(HIDDEN, OUT), DataBuffers.of(w2)));
            Operand<TFloat32> vb2 = tf.withName("b2").variable(tf.constant(Shape.of(OUT), DataBuffers.of(b2)));
            Operand<TFloat32> hidden = tf.withName("hidden").nn.relu(tf.withName("fc1_bias").nn.biasAdd(
                    tf.withName("fc1_matmul").linalg.matMul(x, vw1), vb1));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(
                    tf.withName("out_matmul").linalg.matMul(hidden, vw2), vb2);
            Operand<TFloat32> probs = tf.withName("probs").nn.softmax(logits);
            try (Session s = new Session(g)) {
                s.initialize();
                Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("x", x).output("probs", probs).build();
                SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig, s)).export();
            }
        }
    }

    /** @return relu(x W1 + b1) of one input, by a naive loop */
    float[] hidden(float[] x, int offset) {
        float[] h = new float[HIDDEN];
        for (int j = 0; j < HIDDEN; j++) {
            double s = b1[j];
            for (int i = 0; i < IN; i++) {
                s += x[offset + i] * w1[i * HIDDEN + j];
            }
            h[j] = (float) Math.max(0, s);
        }
        return h;
    }

    /**
     * @param count examples
     * @param seed  seed of the inputs (normal, scale 2)
     * @return labelled examples (label = index mod 3), no metadata
     */
    static Dataset data(int count, long seed) {
        float[] x = random(count * IN, seed);
        for (int i = 0; i < x.length; i++) {
            x[i] *= 2;
        }
        return new Dataset() {
            public DatasetInfo info() {
                return new DatasetInfo(count, new int[] {IN}, List.of("a", "b", "c"), List.of());
            }

            public Iterator<Batch> batches(int batchSize) {
                List<Batch> out = new ArrayList<>();
                for (int from = 0; from < count; from += batchSize) {
                    int n = Math.min(batchSize, count - from);
                    int[] labels = new int[n];
                    List<String> ids = new ArrayList<>();
                    List<Map<String, String>> meta = new ArrayList<>();
                    for (int r = 0; r < n; r++) {
                        labels[r] = (from + r) % OUT;
                        ids.add("x-" + (from + r));
                        meta.add(Map.of());
                    }
                    out.add(new Batch(from, Tensor.ofFloats(java.util.Arrays.copyOfRange(x, from * IN, (from + n) * IN), n, IN),
                            labels, ids, meta));
                }
                return out.iterator();
            }

            public String fingerprint() {
                return "known-weights-" + seed;
            }
        };
    }
}
