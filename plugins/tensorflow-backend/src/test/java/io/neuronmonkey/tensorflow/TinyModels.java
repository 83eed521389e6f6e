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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/**
 * Two tiny models with known weights, built with TensorFlow ops, plus naive Java loops computing what they should
 * output. MLP: x[4] -> hidden = relu(x W1 + b1)[3] -> logits = hidden W2 + b2 [2] -> probs = softmax.
 * CNN: x[5,5,2] -> conv = relu(conv3x3 SAME + b)[5,5,3] -> pool = maxpool 2x2 VALID [2,2,3] -> flatten[12]
 * -> logits = flat W + b [2] -> probs = softmax.
 */
final class TinyModels {

    final float[] w1 = random(4 * 3, 1);
    final float[] b1 = random(3, 2);
    final float[] w2 = random(3 * 2, 3);
    final float[] b2 = random(2, 4);
    final float[] kernel = random(3 * 3 * 2 * 3, 5);
    final float[] convBias = random(3, 6);
    final float[] dense = random(12 * 2, 7);
    final float[] denseBias = random(2, 8);

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    /** Exports the MLP (weights as variables) as a SavedModel with signature serving_default: x -> probs. */
    void exportMlp(Path dir) throws IOException {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.of(-1, 4)));
            Operand<TFloat32> vw1 = tf.withName("w1").variable(tf.constant(Shape.of(4, 3), DataBuffers.of(w1)));
            Operand<TFloat32> vb1 = tf.withName("b1").variable(tf.constant(Shape.of(3), DataBuffers.of(b1)));
            Operand<TFloat32> vw2 = tf.withName("w2").variable(tf.constant(Shape.of(3, 2), DataBuffers.of(w2)));
            Operand<TFloat32> vb2 = tf.withName("b2").variable(tf.constant(Shape.of(2), DataBuffers.of(b2)));
            Operand<TFloat32> hidden = tf.withName("hidden").nn.relu(tf.withName("fc1_bias").nn.biasAdd(
                    tf.withName("fc1_matmul").linalg.matMul(x, vw1), vb1));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(
                    tf.withName("out_matmul").linalg.matMul(hidden, vw2), vb2);
            Operand<TFloat32> probs = tf.withName("probs").nn.softmax(logits);
            try (Session s = new Session(g)) {
                s.initialize();
                Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("x", x).output("probs", probs)
                        .build();
                SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig, s)).export();
            }
        }
    }

    /**
     * Writes the MLP with constant weights as a frozen GraphDef: input {@code x} of the given dtype and batch size
     * ({@code -1} for free), cast to float inside the model; output {@code probs}.
     */
    void writeMlp(Path file, long batch, org.tensorflow.proto.DataType dtype) throws IOException {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Operand<TFloat32> x;
            if (dtype == org.tensorflow.proto.DataType.DT_FLOAT) {
                x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(batch, 4)));
            } else {
                Operand<org.tensorflow.types.TUint8> raw = tf.withName("x").placeholder(
                        org.tensorflow.types.TUint8.class, Placeholder.shape(Shape.of(batch, 4)));
                x = tf.withName("to_float").dtypes.cast(raw, TFloat32.class);
            }
            Operand<TFloat32> hidden = tf.withName("hidden").nn.relu(tf.nn.biasAdd(tf.linalg.matMul(x,
                    tf.constant(Shape.of(4, 3), DataBuffers.of(w1))), tf.constant(Shape.of(3), DataBuffers.of(b1))));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.linalg.matMul(hidden,
                    tf.constant(Shape.of(3, 2), DataBuffers.of(w2))), tf.constant(Shape.of(2), DataBuffers.of(b2)));
            tf.withName("probs").nn.softmax(logits);
            Files.write(file, g.toGraphDef().toByteArray());
        }
    }

    /** The CNN as a frozen GraphDef whose input is channels first, {@code [-1, 2, 5, 5]}, transposed inside. */
    void writeCnnNchw(Path file) throws IOException {
        writeCnn(file, true, 1);
    }

    /** The CNN with its 3x3 convolution dilated by 2 (a graph whose input gradient must be refused). */
    void writeDilatedCnn(Path file) throws IOException {
        writeCnn(file, false, 2);
    }

    /** Writes the CNN (weights as constants) as a frozen GraphDef. */
    void writeCnn(Path file) throws IOException {
        writeCnn(file, false, 1);
    }

    private void writeCnn(Path file, boolean nchw, long dilation) throws IOException {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Operand<TFloat32> x;
            if (nchw) {
                Placeholder<TFloat32> in = tf.withName("x").placeholder(TFloat32.class,
                        Placeholder.shape(Shape.of(-1, 2, 5, 5)));
                x = tf.withName("to_nhwc").linalg.transpose(in, tf.constant(new int[] {0, 2, 3, 1}));
            } else {
                x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 5, 5, 2)));
            }
            Operand<TFloat32> conv = tf.withName("conv").nn.relu(tf.withName("conv_bias").nn.biasAdd(
                    tf.withName("conv_conv").nn.conv2d(x, tf.constant(Shape.of(3, 3, 2, 3), DataBuffers.of(kernel)),
                            List.of(1L, 1L, 1L, 1L), "SAME",
                            org.tensorflow.op.nn.Conv2d.dilations(List.of(1L, dilation, dilation, 1L))),
                    tf.constant(Shape.of(3), DataBuffers.of(convBias))));
            Operand<TFloat32> pool = tf.withName("pool").nn.maxPool(conv, tf.constant(new int[] {1, 2, 2, 1}),
                    tf.constant(new int[] {1, 2, 2, 1}), "VALID");
            Operand<TFloat32> flat = tf.withName("flatten").reshape(pool, tf.constant(new int[] {-1, 12}));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(
                    tf.withName("out_matmul").linalg.matMul(flat, tf.constant(Shape.of(12, 2), DataBuffers.of(dense))),
                    tf.constant(Shape.of(2), DataBuffers.of(denseBias)));
            tf.withName("probs").nn.softmax(logits);
            Files.write(file, g.toGraphDef().toByteArray());
        }
    }

    /**
     * A fixed batch of 2 rows: {@code logits = x W2} ({@code x [2, 3]}), {@code loss} = sparse softmax
     * cross-entropy of the logits against the labels {@code [0, 1]}: a loss output whose gradient TensorFlow's C++
     * registry does not have.
     */
    void writeSparseLoss(Path file) throws IOException {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Operand<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(2, 3)));
            Operand<TFloat32> logits = tf.withName("logits").linalg.matMul(x,
                    tf.constant(Shape.of(3, 2), DataBuffers.of(w2)));
            tf.withName("loss").nn.sparseSoftmaxCrossEntropyWithLogits(logits, tf.constant(new int[] {0, 1}));
            Files.write(file, g.toGraphDef().toByteArray());
        }
    }

    // ---- naive references -------------------------------------------------------------------------------------

    float[] mlpHidden(float[] x, int n) {
        return relu(matmul(x, n, 4, w1, 3, b1));
    }

    float[] mlpLogits(float[] x, int n) {
        return matmul(mlpHidden(x, n), n, 3, w2, 2, b2);
    }

    float[] cnnConv(float[] x, int n) {
        float[] out = new float[n * 5 * 5 * 3];
        for (int e = 0; e < n; e++) {
            for (int i = 0; i < 5; i++) {
                for (int j = 0; j < 5; j++) {
                    for (int o = 0; o < 3; o++) {
                        double s = convBias[o];
                        for (int di = 0; di < 3; di++) {
                            for (int dj = 0; dj < 3; dj++) {
                                int r = i + di - 1;
                                int c = j + dj - 1;
                                if (r < 0 || r >= 5 || c < 0 || c >= 5) {
                                    continue;
                                }
                                for (int ch = 0; ch < 2; ch++) {
                                    s += x[((e * 5 + r) * 5 + c) * 2 + ch] * kernel[((di * 3 + dj) * 2 + ch) * 3 + o];
                                }
                            }
                        }
                        out[((e * 5 + i) * 5 + j) * 3 + o] = (float) Math.max(0, s);
                    }
                }
            }
        }
        return out;
    }

    float[] cnnPool(float[] x, int n) {
        return poolOf(cnnConv(x, n), n);
    }

    /** Max-pools a conv activation {@code [n, 5, 5, 3]} to {@code [n, 2, 2, 3]}. */
    static float[] poolOf(float[] conv, int n) {
        float[] out = new float[n * 2 * 2 * 3];
        for (int e = 0; e < n; e++) {
            for (int i = 0; i < 2; i++) {
                for (int j = 0; j < 2; j++) {
                    for (int o = 0; o < 3; o++) {
                        float m = Float.NEGATIVE_INFINITY;
                        for (int di = 0; di < 2; di++) {
                            for (int dj = 0; dj < 2; dj++) {
                                m = Math.max(m, conv[((e * 5 + 2 * i + di) * 5 + 2 * j + dj) * 3 + o]);
                            }
                        }
                        out[((e * 2 + i) * 2 + j) * 3 + o] = m;
                    }
                }
            }
        }
        return out;
    }

    float[] cnnLogits(float[] x, int n) {
        return matmul(cnnPool(x, n), n, 12, dense, 2, denseBias);
    }

    /** The logits from a (possibly changed) conv activation {@code [n, 5, 5, 3]}. */
    float[] cnnLogitsFromConv(float[] conv, int n) {
        return matmul(poolOf(conv, n), n, 12, dense, 2, denseBias);
    }

    static float[] matmul(float[] a, int n, int in, float[] w, int out, float[] bias) {
        float[] y = new float[n * out];
        for (int e = 0; e < n; e++) {
            for (int o = 0; o < out; o++) {
                double s = bias[o];
                for (int i = 0; i < in; i++) {
                    s += a[e * in + i] * w[i * out + o];
                }
                y[e * out + o] = (float) s;
            }
        }
        return y;
    }

    static float[] relu(float[] a) {
        float[] y = a.clone();
        for (int i = 0; i < y.length; i++) {
            y[i] = Math.max(0, y[i]);
        }
        return y;
    }

    static float[] softmax(float[] logits, int n) {
        int k = logits.length / n;
        float[] p = new float[logits.length];
        for (int e = 0; e < n; e++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                max = Math.max(max, logits[e * k + c]);
            }
            double sum = 0;
            for (int c = 0; c < k; c++) {
                sum += Math.exp(logits[e * k + c] - max);
            }
            for (int c = 0; c < k; c++) {
                p[e * k + c] = (float) (Math.exp(logits[e * k + c] - max) / sum);
            }
        }
        return p;
    }
}
