package io.neuronmonkey.concepts;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.ExampleFilter;
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

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.BiPredicate;

/**
 * A model with a planted polysemantic neuron, exported as a SavedModel built from TensorFlow ops:
 * {@code x [28, 28, 1] -> features = relu6(conv 6x6 SAME + b) [28, 28, 3] -> global max pool [3]
 * -> mixed = relu(pool W) [3] -> logits [2] -> probs}. The feature channels are hand-made detectors on synthetic
 * shapes: channel 0 a centre-surround 3x3 spot detector (the watermark patch: a 3x3 square of 1 on dark ground),
 * channel 1 a detector of the diagonal stripes of period 4 of the {@code striped} texture, channel 2 the mean
 * brightness of a 6x6 window. The dense layer mixes them: {@code mixed #0 = ch0 + ch1} (two unrelated
 * features: polysemantic), {@code mixed #1 = ch0 + 0.5 ch2} (the watermark only: monosemantic),
 * {@code mixed #2 = ch2}.
 */
final class PolysemanticityModels {

    /** Kernel side. */
    static final int K = 6;

    private PolysemanticityModels() {
    }

    /** @return the {@code [6, 6, 1, 3]} kernel, row-major */
    static float[] kernel() {
        float[] k = new float[K * K * 3];
        for (int i = 0; i < K; i++) {
            for (int j = 0; j < K; j++) {
                int at = (i * K + j) * 3;
                boolean centre = i >= 1 && i <= 3 && j >= 1 && j <= 3;
                boolean ring = !centre && i <= 4 && j <= 4;
                k[at] = centre ? 4f : ring ? -4f : 0f;
                int d = (i + j) % 4;
                k[at + 1] = d == 0 ? 8f : d == 2 ? -8f : 0f;
                k[at + 2] = 1f / (K * K);
            }
        }
        return k;
    }

    /** @return the feature biases */
    static float[] bias() {
        return new float[] {-26f, -24.8f, 0f};
    }

    /** @return the {@code [3, 3]} mixing weights (row: feature channel, column: mixed neuron) */
    static float[] mixing() {
        return new float[] {
                1f, 1f, 0f,
                1f, 0f, 0f,
                0f, 0.5f, 1f};
    }

    /** Exports the model (signature x -> probs). */
    static void export(Path dir) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 28, 28, 1)));
            Operand<TFloat32> features = tf.withName("features").nn.relu6(tf.withName("features_bias").nn.biasAdd(
                    tf.withName("features_conv").nn.conv2d(x, tf.constant(Shape.of(K, K, 1, 3), DataBuffers.of(kernel())),
                            List.of(1L, 1L, 1L, 1L), "SAME"),
                    tf.constant(Shape.of(3), DataBuffers.of(bias()))));
            Operand<TFloat32> pool = tf.withName("pool").max(features, tf.constant(new int[] {1, 2}));
            Operand<TFloat32> mixed = tf.withName("mixed").nn.relu(tf.withName("mixed_bias").nn.biasAdd(
                    tf.withName("mixed_matmul").linalg.matMul(pool, tf.constant(Shape.of(3, 3), DataBuffers.of(mixing()))),
                    tf.constant(Shape.of(3), DataBuffers.of(new float[3]))));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.withName("out_matmul").linalg.matMul(mixed,
                    tf.constant(Shape.of(3, 2), DataBuffers.of(new float[] {1f, -1f, 0.5f, 0.5f, -1f, 1f}))),
                    tf.constant(Shape.of(2), DataBuffers.of(new float[2])));
            Operand<TFloat32> probs = tf.withName("probs").nn.softmax(logits);
            try (Session s = new Session(g)) {
                Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("x", x).output("probs", probs).build();
                SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig, s)).export();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A data set without the examples a predicate drops, e.g. those where two planted features would co-occur.
     *
     * @param data the data set
     * @param drop (batch, row) to true for the rows left out
     * @return the filtered view, same info
     */
    static Dataset without(Dataset data, BiPredicate<Batch, Integer> drop) {
        return new Dataset() {
            public DatasetInfo info() {
                return data.info();
            }

            public Iterator<Batch> batches(int batchSize) {
                Iterator<Batch> source = data.batches(batchSize);
                return new Iterator<>() {
                    Batch next;

                    public boolean hasNext() {
                        while (next == null && source.hasNext()) {
                            Batch b = source.next();
                            int[] rows = new int[b.size()];
                            int m = 0;
                            for (int r = 0; r < b.size(); r++) {
                                if (!drop.test(b, r)) {
                                    rows[m++] = r;
                                }
                            }
                            next = m == 0 ? null : ExampleFilter.select(b, java.util.Arrays.copyOf(rows, m));
                        }
                        return next != null;
                    }

                    public Batch next() {
                        if (!hasNext()) {
                            throw new NoSuchElementException();
                        }
                        Batch b = next;
                        next = null;
                        return b;
                    }
                };
            }

            public String fingerprint() {
                return data.fingerprint() + "-filtered";
            }

            public void close() {
                data.close();
            }
        };
    }
}
