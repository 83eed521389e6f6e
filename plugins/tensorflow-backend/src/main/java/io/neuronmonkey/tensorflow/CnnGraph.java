package io.neuronmonkey.tensorflow;

import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.types.TFloat32;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The demo CNN as a TensorFlow graph: conv 3x3 SAME + relu, maxpool 2, conv 3x3 SAME + relu, maxpool 2, flatten,
 * dense + relu, dense (logits), softmax. Layer ops are named {@code images, conv1, pool1, conv2, pool2, dense1,
 * logits, probabilities}; the variables are {@code <layer>_w} and {@code <layer>_b}.
 */
final class CnnGraph {

    final Ops tf;
    final Placeholder<TFloat32> images;
    final Operand<TFloat32> logits;
    final Operand<TFloat32> probabilities;
    final List<Variable<TFloat32>> variables = new ArrayList<>();

    /**
     * The architecture: input {@code [H, W, C]}, then either two conv + pool blocks ({@code conv}) or none (an MLP on
     * the flattened input), then the hidden dense layers and the logits.
     *
     * @param height        input height
     * @param width         input width
     * @param channels      input channels
     * @param conv          true for the CNN, false for an MLP
     * @param conv1Channels first conv's channels (CNN only)
     * @param conv2Channels second conv's channels (CNN only)
     * @param hidden        units of each hidden dense layer (dense1, dense2, ...)
     * @param classes       number of classes (logits)
     */
    record Spec(int height, int width, int channels, boolean conv, int conv1Channels, int conv2Channels,
                List<Integer> hidden, int classes) {

        Spec {
            hidden = List.copyOf(hidden);
        }

        int pooledHeight() {
            return (height + 3) / 4;
        }

        int pooledWidth() {
            return (width + 3) / 4;
        }

        int flat() {
            return conv ? pooledHeight() * pooledWidth() * conv2Channels : height * width * channels;
        }

        /** @return variable names, in the order of {@link #shapes()} */
        List<String> variableNames() {
            List<String> names = new ArrayList<>();
            if (conv) {
                names.addAll(List.of("conv1_w", "conv1_b", "conv2_w", "conv2_b"));
            }
            for (int i = 1; i <= hidden.size(); i++) {
                names.add("dense" + i + "_w");
                names.add("dense" + i + "_b");
            }
            names.add("logits_w");
            names.add("logits_b");
            return names;
        }

        /** @return the shape of each variable, in {@link #variableNames()} order */
        long[][] shapes() {
            List<long[]> s = new ArrayList<>();
            if (conv) {
                s.addAll(List.of(new long[] {3, 3, channels, conv1Channels}, new long[] {conv1Channels},
                        new long[] {3, 3, conv1Channels, conv2Channels}, new long[] {conv2Channels}));
            }
            long in = flat();
            for (int units : hidden) {
                s.add(new long[] {in, units});
                s.add(new long[] {units});
                in = units;
            }
            s.add(new long[] {in, classes});
            s.add(new long[] {classes});
            return s.toArray(long[][]::new);
        }

        /** @return He-normal weights (std sqrt(2 / fan-in)) and zero biases, drawn from {@code rng} */
        float[][] initialWeights(Random rng) {
            long[][] shapes = shapes();
            float[][] w = new float[shapes.length][];
            for (int i = 0; i < shapes.length; i++) {
                long size = 1;
                for (long d : shapes[i]) {
                    size *= d;
                }
                w[i] = new float[Math.toIntExact(size)];
                if (shapes[i].length > 1) {
                    long fanIn = size / shapes[i][shapes[i].length - 1];
                    double std = Math.sqrt(2.0 / fanIn);
                    for (int j = 0; j < w[i].length; j++) {
                        w[i][j] = (float) (rng.nextGaussian() * std);
                    }
                }
            }
            return w;
        }

        /** @return the number of trainable parameters */
        long parameters() {
            long n = 0;
            for (long[] s : shapes()) {
                long size = 1;
                for (long d : s) {
                    size *= d;
                }
                n += size;
            }
            return n;
        }
    }

    /**
     * Builds the forward graph with variables initialized to {@code weights}.
     *
     * @param graph   an empty graph
     * @param spec    the architecture
     * @param weights initial values in {@link #VARIABLES} order
     */
    CnnGraph(Graph graph, Spec spec, float[][] weights) {
        tf = Ops.create(graph);
        long[][] shapes = spec.shapes();
        List<String> names = spec.variableNames();
        for (int i = 0; i < shapes.length; i++) {
            variables.add(tf.withName(names.get(i)).variable(
                    tf.withName(names.get(i) + "_init").constant(Shape.of(shapes[i]), DataBuffers.of(weights[i]))));
        }
        images = tf.withName("images").placeholder(TFloat32.class,
                Placeholder.shape(Shape.of(-1, spec.height(), spec.width(), spec.channels())));
        Operand<TFloat32> x = images;
        int var = 0;
        if (spec.conv()) {
            Operand<TFloat32> conv1 = conv(images, 0, "conv1");
            Operand<TFloat32> pool1 = pool(conv1, "pool1");
            Operand<TFloat32> conv2 = conv(pool1, 2, "conv2");
            x = pool(conv2, "pool2");
            var = 4;
        }
        x = tf.withName("flatten").reshape(x, tf.constant(new int[] {-1, spec.flat()}));
        for (int i = 1; i <= spec.hidden().size(); i++, var += 2) {
            x = tf.withName("dense" + i).nn.relu(dense(x, var, "dense" + i));
        }
        logits = tf.withName("logits").nn.biasAdd(
                tf.withName("logits_matmul").linalg.matMul(x, variables.get(var)), variables.get(var + 1));
        probabilities = tf.withName("probabilities").nn.softmax(logits);
    }

    private Operand<TFloat32> conv(Operand<TFloat32> x, int var, String name) {
        Operand<TFloat32> c = tf.withName(name + "_conv").nn.conv2d(x, variables.get(var), List.of(1L, 1L, 1L, 1L),
                "SAME");
        return tf.withName(name).nn.relu(tf.withName(name + "_bias").nn.biasAdd(c, variables.get(var + 1)));
    }

    private Operand<TFloat32> pool(Operand<TFloat32> x, String name) {
        return tf.withName(name).nn.maxPool(x, tf.constant(new int[] {1, 2, 2, 1}),
                tf.constant(new int[] {1, 2, 2, 1}), "SAME");
    }

    private Operand<TFloat32> dense(Operand<TFloat32> x, int var, String name) {
        return tf.withName(name + "_bias").nn.biasAdd(
                tf.withName(name + "_matmul").linalg.matMul(x, variables.get(var)), variables.get(var + 1));
    }
}
