package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.TensorFlow;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.PlaceholderWithDefault;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds, once per (target tensor, wrt tensor) pair, the subgraph for {@code d sum(weights * target) / d wrt}: the
 * per-row neuron weights are a fed placeholder, so one graph serves every neuron, class and mode. Before asking
 * TensorFlow's C++ gradient registry it refuses paths through ops whose gradient is known to be wrong or missing.
 */
final class Gradients {

    /** Ops without a C++ gradient that models keep when TensorFlow runs functional control flow. */
    private static final Set<String> FUNCTIONAL = Set.of("While", "StatelessWhile", "If", "StatelessIf", "Case",
            "StatelessCase", "PartitionedCall", "StatefulPartitionedCall");

    private static boolean customRegistered;

    /**
     * One gradient subgraph.
     *
     * @param weights   placeholder {@code [n, neurons]} of per-row neuron weights
     * @param predicted placeholder-with-default scalar: 1 adds a one-hot weight on each row's arg-max neuron
     * @param gradient  the gradient tensor, shaped like the wrt tensor
     * @param units     placeholder-with-default {@code [n, positions * neurons]} (zeros unless fed) of per-row
     *                  weights of every unit (position-major, neuron-minor), for targets at one position
     */
    record Subgraph(String weights, String predicted, String gradient, String units) {
    }

    private Gradients() {
    }

    /**
     * @param names    the target's and the wrt layer's names as the user gave them, for messages
     * @param graph    the analysis graph (write-locked by the caller)
     * @param nodes    the forward graph's nodes by name, for path checks
     * @param target   target tensor name, channels last
     * @param rank     the target's rank without the batch: a neuron's value is its sum over every axis but the last
     * @param neurons  neurons of the target
     * @param units    values of the target per row (positions times neurons)
     * @param wrt      tensor to differentiate with respect to, in the model's layout
     * @param toLast   the permutation (batch included) that delivers the wrt tensor channels last, or null
     * @param id       unique number for the subgraph's name scope
     * @param where    the model, for messages
     * @return the subgraph's tensor names
     * @throws ModelException naming the op when the gradient cannot be computed correctly
     */
    @SuppressWarnings("unchecked")
    static Subgraph build(String[] names, Graph graph, Map<String, NodeDef> nodes, TensorRef target, int rank,
                          int neurons, int units, TensorRef wrt, int[] toLast, int id, String where) {
        registerCustomGradients();
        String cannot = where + ": cannot differentiate '" + names[0] + "' with respect to '" + names[1] + "': ";
        refuseUnsupported(nodes, target.op(), wrt.op(), cannot);
        Ops tf = Ops.create(graph).withSubScope("neuronmonkey_gradient_" + id);
        Output<TFloat32> t = (Output<TFloat32>) (Output<?>) graph.operation(target.op()).output(target.index());
        Operand<TFloat32> v;
        if (rank >= 2) {
            int[] positions = new int[rank - 1];
            for (int i = 0; i < positions.length; i++) {
                positions[i] = i + 1;
            }
            v = tf.reduceSum(t, tf.constant(positions));
        } else {
            v = tf.reshape(t, tf.constant(new int[] {-1, neurons}));
        }
        Placeholder<TFloat32> w = tf.withName("weights").placeholder(TFloat32.class,
                Placeholder.shape(Shape.of(-1, neurons)));
        PlaceholderWithDefault<TFloat32> flag = tf.withName("predicted").placeholderWithDefault(tf.constant(0f),
                Shape.scalar());
        Operand<TFloat32> oneHot = tf.stopGradient(tf.oneHot(tf.math.argMax(v, tf.constant(1), TInt32.class),
                tf.constant(neurons), tf.constant(1f), tf.constant(0f)));
        Operand<TFloat32> weights = tf.math.add(w, tf.math.mul(flag, oneHot));
        PlaceholderWithDefault<TFloat32> unitWeights = tf.withName("unit_weights").placeholderWithDefault(
                tf.fill(tf.constant(new int[] {1, units}), tf.constant(0f)), Shape.of(-1, units));
        Operand<TFloat32> atUnits = tf.reduceSum(tf.math.mul(tf.reshape(t, tf.constant(new int[] {-1, units})),
                unitWeights), tf.constant(new int[] {0, 1}));
        Operand<TFloat32> y = tf.withName("objective").math.add(tf.reduceSum(tf.math.mul(v, weights),
                tf.constant(new int[] {0, 1})), atUnits);
        Output<?> x = graph.operation(wrt.op()).output(wrt.index());
        Output<?> grad;
        try {
            grad = graph.addGradients(y.asOutput(), new Output<?>[] {x})[0];
        } catch (RuntimeException e) {
            throw new ModelException(cannot + e.getMessage(), e);
        }
        String name;
        try {
            name = grad.op().name() + ":" + grad.index();
        } catch (IllegalStateException e) {
            throw new ModelException(cannot + "TensorFlow found no gradient path", e);
        }
        if (toLast != null) {
            Operand<TFloat32> last = tf.withName("channels_last").linalg.transpose((Output<TFloat32>) (Output<?>) grad,
                    tf.constant(toLast));
            name = last.asOutput().op().name() + ":0";
        }
        return new Subgraph(w.op().name(), flag.op().name(), name, unitWeights.op().name());
    }

    /** Walks the ops between wrt and target and refuses those whose gradient TensorFlow gets wrong or lacks. */
    private static void refuseUnsupported(Map<String, NodeDef> nodes, String target, String wrt, String cannot) {
        Map<String, Boolean> onPath = new HashMap<>();
        if (!dependsOn(target, wrt, nodes, onPath, 0)) {
            throw new ModelException(cannot + "it does not depend on it (is the wrt layer after the target?)");
        }
        for (String op : NodeDefs.ancestors(nodes, List.of(target))) {
            if (!dependsOn(op, wrt, nodes, onPath, 0)) {
                continue;
            }
            NodeDef n = nodes.get(op);
            if (n == null) {
                continue;
            }
            List<Long> dilations = n.getAttrOrDefault("dilations", AttrValue.getDefaultInstance()).getList().getIList();
            if ((n.getOp().equals("Conv2D") || n.getOp().equals("DepthwiseConv2dNative"))
                    && dilations.stream().anyMatch(d -> d != 1)) {
                throw new ModelException(cannot + "the path runs through op '" + op + "' (" + n.getOp() + " with dilations "
                        + dilations + "), whose TensorFlow C++ gradient is wrong or crashes the JVM; take gradients"
                        + " with respect to a layer after it");
            }
            if (FUNCTIONAL.contains(n.getOp())) {
                throw new ModelException(cannot + "the path runs through op '" + op + "' (" + n.getOp() + "), functional"
                        + " control flow that TensorFlow's C++ gradient registry cannot differentiate");
            }
        }
    }

    private static boolean dependsOn(String op, String wrt, Map<String, NodeDef> nodes, Map<String, Boolean> memo,
                                     int depth) {
        if (op.equals(wrt)) {
            return true;
        }
        Boolean known = memo.get(op);
        if (known != null) {
            return known;
        }
        NodeDef n = nodes.get(op);
        boolean result = false;
        if (n != null && depth < 10_000) {
            memo.put(op, false);
            for (String in : n.getInputList()) {
                if (!in.startsWith("^") && dependsOn(NodeDefs.opOf(in), wrt, nodes, memo, depth + 1)) {
                    result = true;
                    break;
                }
            }
        }
        memo.put(op, result);
        return result;
    }

    /**
     * Registers the gradients TensorFlow's C++ registry lacks and models need: the sparse softmax cross-entropy
     * ({@code d loss / d logits = grad_loss * backprop}; none for the integer labels). Once per JVM.
     */
    @SuppressWarnings("unchecked")
    static synchronized void registerCustomGradients() {
        if (customRegistered) {
            return;
        }
        customRegistered = true;
        TensorFlow.registerCustomGradient("SparseSoftmaxCrossEntropyWithLogits", (tf, op, grads) -> {
            Operand<TFloat32> gradLoss = (Operand<TFloat32>) (Operand<?>) grads.get(0);
            Operand<TFloat32> backprop = (Operand<TFloat32>) (Operand<?>) op.output(1);
            Operand<?> features = tf.math.mul(tf.expandDims(gradLoss, tf.constant(-1)), backprop);
            return List.of(features, tf.zerosLike(op.input(1)));
        });
    }
}
