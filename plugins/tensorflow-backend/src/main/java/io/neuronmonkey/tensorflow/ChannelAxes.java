package io.neuronmonkey.tensorflow;

import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.NodeDef;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.ToIntFunction;

/**
 * Finds, from a graph's ops, the channel axis of each float tensor (batched axis index; absent where the graph does
 * not say). Ops with a {@code data_format} ({@code Conv2D}, {@code DepthwiseConv2dNative}, {@code MaxPool},
 * {@code AvgPool}, {@code BiasAdd}, {@code FusedBatchNorm*}, the 3-D variants) define it: {@code NC...} puts the
 * channels at axis 1, {@code N...C} (the default) last. Elementwise ops ({@code Relu}, {@code Add}, {@code Mul},
 * {@code Identity}, ...) keep it from an input of their own rank; a {@code Transpose} with a constant permutation
 * moves it (the transposes that ONNX converters insert around channels-last kernels). Given axes (user overrides)
 * replace what the graph says and flow on the same way. Elsewhere (reshapes, matmuls, reductions) the axis is
 * unknown, and the caller takes the last axis.
 */
final class ChannelAxes {

    /** Ops whose {@code data_format} attr names the layout of their output 0. */
    private static final Set<String> FORMATTED = Set.of("Conv2D", "DepthwiseConv2dNative", "Conv2DBackpropInput",
            "Conv3D", "MaxPool", "MaxPoolV2", "AvgPool", "MaxPool3D", "AvgPool3D", "BiasAdd", "FusedBatchNorm",
            "FusedBatchNormV2", "FusedBatchNormV3", "SpaceToDepth", "DepthToSpace");

    /** Elementwise ops whose output keeps the layout of an input of the same rank. */
    private static final Set<String> ELEMENTWISE = Set.of(
            "Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Softplus", "Softsign", "LeakyRelu", "Gelu",
            "Identity", "StopGradient", "Snapshot", "PreventGradient", "CheckNumerics", "EnsureShape",
            "Neg", "Abs", "Exp", "Log", "Log1p", "Sqrt", "Rsqrt", "Square", "Reciprocal", "Erf", "Floor", "Ceil",
            "Round", "Sign", "Cast", "ClipByValue", "Pad", "PadV2", "MirrorPad",
            "Add", "AddV2", "AddN", "Sub", "Mul", "RealDiv", "Div", "DivNoNan", "Maximum", "Minimum",
            "SquaredDifference", "Pow", "SelectV2", "Select", "BiasAddV1");

    private ChannelAxes() {
    }

    /**
     * @param nodes     the graph's nodes
     * @param rank      the rank (batch included) of a tensor {@code op:index}, or -1 when unknown
     * @param overrides tensor ({@code op:index}) to its batched channel axis, from the user
     * @return tensor ({@code op:index}) to its batched channel axis, for every tensor whose axis is known
     */
    static Map<String, Integer> infer(List<NodeDef> nodes, ToIntFunction<String> rank, Map<String, Integer> overrides) {
        Map<String, NodeDef> byName = new HashMap<>();
        nodes.forEach(n -> byName.put(n.getName(), n));
        Map<String, Integer> axes = new HashMap<>();
        for (NodeDef n : topological(nodes, byName)) {
            String out = n.getName() + ":0";
            Integer axis = overrides.containsKey(out) ? overrides.get(out) : axisOf(n, byName, axes, rank);
            if (axis != null) {
                axes.put(out, axis);
            }
            for (Map.Entry<String, Integer> o : overrides.entrySet()) {
                if (o.getKey().startsWith(n.getName() + ":") && !o.getKey().equals(out)
                        && TensorRef.parse(o.getKey()).op().equals(n.getName())) {
                    axes.put(o.getKey(), o.getValue());
                }
            }
        }
        return axes;
    }

    /**
     * The channel axis of a tensor's consumers' view: for the model input, where a consumer puts its channels once
     * it has moved them (the input of a {@code Transpose} feeding a channels-last kernel is channels first).
     *
     * @param tensor a tensor {@code op:index}
     * @param nodes  the graph's nodes
     * @param rank   ranks, as for {@link #infer}
     * @return the batched channel axis of {@code tensor} implied by its consumers, or null
     */
    static Integer fromConsumers(String tensor, List<NodeDef> nodes, Map<String, Integer> axes,
                                 ToIntFunction<String> rank) {
        Map<String, NodeDef> byName = new HashMap<>();
        Map<String, List<NodeDef>> consumers = new HashMap<>();
        for (NodeDef n : nodes) {
            byName.put(n.getName(), n);
            if (n.getInputCount() > 0 && !n.getInput(0).startsWith("^")) {
                TensorRef in = TensorRef.parse(n.getInput(0));
                consumers.computeIfAbsent(in.op() + ":" + in.index(), k -> new ArrayList<>()).add(n);
            }
        }
        return fromConsumers(TensorRef.parse(tensor).op() + ":" + TensorRef.parse(tensor).index(), byName, consumers,
                rank, 0);
    }

    private static Integer fromConsumers(String tensor, Map<String, NodeDef> byName,
                                         Map<String, List<NodeDef>> consumers, ToIntFunction<String> rank, int depth) {
        if (depth > 16) {
            return null;
        }
        for (NodeDef n : consumers.getOrDefault(tensor, List.of())) {
            String out = n.getName() + ":0";
            if (FORMATTED.contains(n.getOp())) {
                String format = n.getAttrOrDefault("data_format", AttrValue.getDefaultInstance()).getS().toStringUtf8();
                int r = rank.applyAsInt(tensor);
                return r < 2 ? null : format.startsWith("NC") ? Integer.valueOf(1) : Integer.valueOf(r - 1);
            }
            if (n.getOp().equals("Transpose")) {
                long[] perm = permutation(n, byName);
                Integer after = fromConsumers(out, byName, consumers, rank, depth + 1);
                if (perm != null && after != null && after < perm.length) {
                    return (int) perm[after];
                }
            } else if (ELEMENTWISE.contains(n.getOp()) && rank.applyAsInt(tensor) == rank.applyAsInt(out)) {
                Integer after = fromConsumers(out, byName, consumers, rank, depth + 1);
                if (after != null) {
                    return after;
                }
            }
        }
        return null;
    }

    private static Integer axisOf(NodeDef n, Map<String, NodeDef> byName, Map<String, Integer> axes,
                                  ToIntFunction<String> rank) {
        String op = n.getOp();
        int outRank = rank.applyAsInt(n.getName() + ":0");
        if (outRank < 2) {
            return null;
        }
        if (FORMATTED.contains(op)) {
            String format = n.getAttrOrDefault("data_format", AttrValue.getDefaultInstance()).getS().toStringUtf8();
            return format.startsWith("NC") ? Integer.valueOf(1) : Integer.valueOf(outRank - 1);
        }
        if (op.equals("Transpose")) {
            Integer in = axes.get(input(n, 0));
            long[] perm = permutation(n, byName);
            if (in == null || perm == null) {
                return null;
            }
            for (int i = 0; i < perm.length; i++) {
                if (perm[i] == in) {
                    return i;
                }
            }
            return null;
        }
        if (ELEMENTWISE.contains(op) || op.equals("ConcatV2")) {
            int count = op.equals("ConcatV2") ? n.getInputCount() - 1 : n.getInputCount();
            Integer found = null;
            for (int i = 0; i < count; i++) {
                String in = n.getInput(i);
                if (in.startsWith("^")) {
                    continue;
                }
                String t = input(n, i);
                Integer a = axes.get(t);
                if (a == null || rank.applyAsInt(t) != outRank) {
                    continue;
                }
                if (found != null && !found.equals(a)) {
                    return null;
                }
                found = a;
            }
            return found;
        }
        return null;
    }

    private static String input(NodeDef n, int i) {
        TensorRef ref = TensorRef.parse(n.getInput(i));
        return ref.op() + ":" + ref.index();
    }

    /** @return the constant permutation of a Transpose (looking through Identity), or null */
    private static long[] permutation(NodeDef transpose, Map<String, NodeDef> byName) {
        if (transpose.getInputCount() < 2) {
            return null;
        }
        NodeDef p = byName.get(TensorRef.parse(transpose.getInput(1)).op());
        for (int hops = 0; p != null && p.getOp().equals("Identity") && hops < 8; hops++) {
            p = byName.get(TensorRef.parse(p.getInput(0)).op());
        }
        return p == null ? null : NodeDefs.intConstant(p);
    }

    /** @return the nodes in an order where every data input comes first */
    static List<NodeDef> topological(List<NodeDef> nodes) {
        Map<String, NodeDef> byName = new HashMap<>();
        nodes.forEach(n -> byName.put(n.getName(), n));
        return topological(nodes, byName);
    }

    /** Nodes in an order where every data input comes first (cycles, as in loops, keep their graph order). */
    private static List<NodeDef> topological(List<NodeDef> nodes, Map<String, NodeDef> byName) {
        Map<String, Integer> pending = new HashMap<>();
        Map<String, List<NodeDef>> consumers = new HashMap<>();
        for (NodeDef n : nodes) {
            int count = 0;
            for (String in : n.getInputList()) {
                String op = TensorRef.parse(in).op();
                if (!in.startsWith("^") && byName.containsKey(op)) {
                    count++;
                    consumers.computeIfAbsent(op, k -> new ArrayList<>()).add(n);
                }
            }
            pending.put(n.getName(), count);
        }
        ArrayDeque<NodeDef> ready = new ArrayDeque<>();
        nodes.stream().filter(n -> pending.get(n.getName()) == 0).forEach(ready::add);
        List<NodeDef> order = new ArrayList<>(nodes.size());
        java.util.Set<String> done = new java.util.HashSet<>();
        while (!ready.isEmpty()) {
            NodeDef n = ready.poll();
            if (!done.add(n.getName())) {
                continue;
            }
            order.add(n);
            for (NodeDef c : consumers.getOrDefault(n.getName(), List.of())) {
                if (pending.merge(c.getName(), -1, Integer::sum) == 0) {
                    ready.add(c);
                }
            }
        }
        for (NodeDef n : nodes) {
            if (!done.contains(n.getName())) {
                order.add(n);
            }
        }
        return order;
    }
}
