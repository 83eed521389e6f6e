package io.neuronmonkey.attribution;

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
import java.util.List;

/**
 * Tiny models with known weights for occlusion and Grad-CAM, exported as SavedModels built from TensorFlow ops. All
 * weights are small multiples of 1/8, so float32 sums of a few products are exact and tests compare exactly.
 * <ul>
 *   <li>linear: {@code x [6] -> logits = x W + b [3] -> probs};</li>
 *   <li>cam: {@code x [4, 4, 1] -> cam = relu(conv1x1(x) + k_b) [4, 4, 2] -> gap = mean over positions [2]
 *       -> logits = gap V + v_b [3] -> probs}.</li>
 * </ul>
 */
final class CamModels {

    /** Linear weights {@code [6, 3]}, row-major. */
    static final float[] LINEAR_W = {
            0.5f, -1.25f, 2f,
            -0.75f, 1f, 0.125f,
            1.5f, 0.25f, -2f,
            -1f, 0.375f, 0.75f,
            0.625f, -0.5f, 1.125f,
            2.25f, -1.5f, -0.25f};
    /** Linear biases {@code [3]}. */
    static final float[] LINEAR_B = {0.25f, -0.5f, 1f};
    /** 1x1 kernel: one weight per output channel. */
    static final float[] KERNEL = {1.5f, -0.75f};
    /** Conv biases. */
    static final float[] KERNEL_B = {-0.25f, 0.5f};
    /** Dense weights {@code [2, 3]} after the global average pool. */
    static final float[] DENSE = {
            1.25f, -0.5f, 2f,
            -1.5f, 0.75f, 0.5f};
    /** Dense biases. */
    static final float[] DENSE_B = {0.125f, -0.25f, 0f};

    private CamModels() {
    }

    /** Exports the linear model (signature x -> probs). */
    static void exportLinear(Path dir) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 6)));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.withName("matmul").linalg.matMul(x,
                    tf.constant(Shape.of(6, 3), DataBuffers.of(LINEAR_W))), tf.constant(Shape.of(3), DataBuffers.of(LINEAR_B)));
            export(g, tf, x, tf.withName("probs").nn.softmax(logits), dir);
        }
    }

    /** Exports the Grad-CAM model (signature x -> probs). */
    static void exportCam(Path dir) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.of(-1, 4, 4, 1)));
            Operand<TFloat32> cam = tf.withName("cam").nn.relu(tf.withName("cam_bias").nn.biasAdd(
                    tf.withName("cam_conv").nn.conv2d(x, tf.constant(Shape.of(1, 1, 1, 2), DataBuffers.of(KERNEL)),
                            List.of(1L, 1L, 1L, 1L), "VALID"),
                    tf.constant(Shape.of(2), DataBuffers.of(KERNEL_B))));
            Operand<TFloat32> gap = tf.withName("gap").math.mean(cam, tf.constant(new int[] {1, 2}));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.withName("dense").linalg.matMul(gap,
                    tf.constant(Shape.of(2, 3), DataBuffers.of(DENSE))), tf.constant(Shape.of(3), DataBuffers.of(DENSE_B)));
            export(g, tf, x, tf.withName("probs").nn.softmax(logits), dir);
        }
    }

    private static void export(Graph g, Ops tf, Placeholder<TFloat32> x, Operand<TFloat32> probs, Path dir) {
        try (Session s = new Session(g)) {
            Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("x", x).output("probs", probs).build();
            SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig, s)).export();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /**
     * @param x the inputs {@code [n, 4, 4, 1]} flat
     * @param n rows
     * @return the cam layer {@code [n, 4, 4, 2]} by a naive loop
     */
    static float[] camLayer(float[] x, int n) {
        float[] a = new float[n * 16 * 2];
        for (int p = 0; p < n * 16; p++) {
            for (int c = 0; c < 2; c++) {
                a[p * 2 + c] = Math.max(0, x[p] * KERNEL[c] + KERNEL_B[c]);
            }
        }
        return a;
    }
}
