package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.LayerInfo;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Picks the layers a user wants to probe from a graph: activation-producing ops on a path from the input to the
 * output, with float outputs of static shape apart from the batch dimension, in graph order. A linear op (conv,
 * matmul, bias-add, batch-norm) whose only consumer on the path is the bias/activation that follows is left out:
 * the activation after it is the interesting layer. Embedding lookups (a gather from a table that does not depend on
 * the input) are layers; so is an {@code Identity} its author named, whatever op feeds it (which is then left out).
 * Ops inside a loop are never layers.
 */
final class LayerSelector {

    /** Op types whose output is a layer worth probing. */
    static final Set<String> LAYER_TYPES = Set.of(
            "Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "Softplus", "LeakyRelu",
            "MaxPool", "MaxPoolV2", "AvgPool", "Conv2D", "DepthwiseConv2dNative", "BiasAdd", "MatMul",
            "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "Add", "AddV2",
            "GatherV2", "Gather", "ResourceGather");

    /** Lookups that are a layer (an embedding) when their table does not depend on the input. */
    private static final Set<String> LOOKUPS = Set.of("GatherV2", "Gather", "ResourceGather");

    /** Linear ops that are hidden when the op that follows them finishes the same layer. */
    private static final Set<String> LINEAR = Set.of(
            "Conv2D", "DepthwiseConv2dNative", "MatMul", "BiasAdd", "Add", "AddV2",
            "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3");

    /** Ops that finish the layer of a linear op feeding them. */
    private static final Set<String> FOLLOW_UPS = Set.of(
            "BiasAdd", "Add", "AddV2", "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3",
            "Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh", "Softplus", "LeakyRelu");

    private static final Set<String> PASS_THROUGH = Set.of("Identity", "StopGradient", "Snapshot");

    private final Graph graph;
    private final List<NodeDef> nodes;
    private final Map<String, Integer> index = new HashMap<>();
    private final int[][] inputs;
    private final List<List<Integer>> consumers = new ArrayList<>();
    private final Function<String, String> scope;
    /** Ops inside a TF1 while frame (between its Enter and Exit ops), by index. */
    private final BitSet inFrame;
    /** Every op inside a loop (frame members by graph name, loop-body nodes by their name in the body) to its loop. */
    private final Map<String, String> loops = new LinkedHashMap<>();

    /** Ops that open a TF1 while frame, and that leave it. */
    private static final Set<String> ENTERS = Set.of("Enter", "RefEnter");
    private static final Set<String> EXITS = Set.of("Exit", "RefExit");
    /** Functional loops: the body and condition are library functions. */
    static final Set<String> WHILES = Set.of("While", "StatelessWhile");

    /** A selector for plain graphs: a linear op followed by its activation is one layer. */
    LayerSelector(Graph graph) {
        this(graph, op -> null);
    }

    /**
     * @param scope the layer scope of an op (e.g. its Keras layer), or null when unknown; a linear op is hidden
     *              behind the op that follows it only when both have the same scope
     */
    LayerSelector(Graph graph, Function<String, String> scope) {
        this.graph = graph;
        this.scope = scope;
        GraphDef def = graph.toGraphDef();
        this.nodes = def.getNodeList();
        for (int i = 0; i < nodes.size(); i++) {
            index.put(nodes.get(i).getName(), i);
            consumers.add(new ArrayList<>());
        }
        inputs = new int[nodes.size()][];
        for (int i = 0; i < nodes.size(); i++) {
            inputs[i] = nodes.get(i).getInputList().stream()
                    .filter(s -> !s.startsWith("^"))
                    .mapToInt(s -> index.getOrDefault(TensorRef.parse(s).op(), -1))
                    .filter(j -> j >= 0)
                    .toArray();
            for (int j : inputs[i]) {
                consumers.get(j).add(i);
            }
        }
        inFrame = frames();
        functionalLoops(def);
    }

    /**
     * Marks the ops of TF1 while frames: everything an {@code Enter} op reaches through data or control edges before
     * an {@code Exit} (whose output is outside the loop again).
     */
    private BitSet frames() {
        List<List<Integer>> all = new ArrayList<>();
        for (int i = 0; i < nodes.size(); i++) {
            all.add(new ArrayList<>());
        }
        for (int i = 0; i < nodes.size(); i++) {
            for (String in : nodes.get(i).getInputList()) {
                Integer j = index.get(TensorRef.parse(in.startsWith("^") ? in.substring(1) : in).op());
                if (j != null) {
                    all.get(j).add(i);
                }
            }
        }
        BitSet inside = new BitSet(nodes.size());
        for (int e = 0; e < nodes.size(); e++) {
            NodeDef enter = nodes.get(e);
            if (!ENTERS.contains(enter.getOp()) || inside.get(e)) {
                continue;
            }
            String frame = enter.getAttrOrDefault("frame_name", org.tensorflow.proto.AttrValue.getDefaultInstance())
                    .getS().toStringUtf8();
            ArrayDeque<Integer> todo = new ArrayDeque<>(List.of(e));
            inside.set(e);
            while (!todo.isEmpty()) {
                int i = todo.poll();
                loops.putIfAbsent(nodes.get(i).getName(), frame.isEmpty() ? enter.getName() : frame);
                for (int c : all.get(i)) {
                    if (!inside.get(c) && !EXITS.contains(nodes.get(c).getOp())) {
                        inside.set(c);
                        todo.add(c);
                    }
                }
            }
        }
        return inside;
    }

    /** Records the nodes of every functional loop's body and condition (and the functions they call) by name. */
    private void functionalLoops(GraphDef def) {
        Map<String, org.tensorflow.proto.FunctionDef> library = new HashMap<>();
        def.getLibrary().getFunctionList().forEach(f -> library.put(f.getSignature().getName(), f));
        for (NodeDef n : nodes) {
            if (!WHILES.contains(n.getOp())) {
                continue;
            }
            ArrayDeque<String> todo = new ArrayDeque<>();
            for (String attr : List.of("body", "cond")) {
                todo.add(n.getAttrOrDefault(attr, org.tensorflow.proto.AttrValue.getDefaultInstance()).getFunc()
                        .getName());
            }
            java.util.Set<String> seen = new java.util.HashSet<>();
            while (!todo.isEmpty()) {
                org.tensorflow.proto.FunctionDef f = library.get(todo.poll());
                if (f == null || !seen.add(f.getSignature().getName())) {
                    continue;
                }
                for (NodeDef b : f.getNodeDefList()) {
                    if (!index.containsKey(b.getName())) {
                        loops.putIfAbsent(b.getName(), n.getName());
                    }
                    loops.putIfAbsent(n.getName() + "/" + b.getName(), n.getName());
                    if (library.containsKey(b.getOp())) {
                        todo.add(b.getOp());
                    }
                    b.getAttrMap().values().forEach(a -> {
                        if (a.hasFunc()) {
                            todo.add(a.getFunc().getName());
                        }
                    });
                }
            }
        }
    }

    /**
     * @return every op inside a loop, by the name a user would give it (a frame member's graph name, a loop body
     *         node's name in its function, also prefixed by the loop op's name), to the loop's name
     */
    Map<String, String> loops() {
        return loops;
    }

    /** Ops whose input is the logits of their output. */
    static final Set<String> SOFTMAXES = Set.of("Softmax", "LogSoftmax");

    /**
     * One float tensor that can be captured.
     *
     * @param ref    the tensor
     * @param opType its op's type
     * @param shape  its static shape without the batch dimension
     */
    record Candidate(TensorRef ref, String opType, int[] shape) {
    }

    /**
     * The logits of an output by default: the input of a Softmax or LogSoftmax output (looking through Identity
     * ops), otherwise the output itself.
     */
    TensorRef defaultLogits(TensorRef output) {
        TensorRef t = output;
        for (int hops = 0; hops < 16; hops++) {
            NodeDef n = nodes.get(index.get(t.op()));
            if (SOFTMAXES.contains(n.getOp())) {
                return TensorRef.parse(n.getInput(0));
            }
            if (!PASS_THROUGH.contains(n.getOp()) || n.getInputCount() == 0) {
                break;
            }
            t = TensorRef.parse(n.getInput(0));
        }
        return output;
    }

    /** @return the tensor behind a chain of pass-through ops (Identity) ending at {@code output} */
    TensorRef throughIdentities(TensorRef output) {
        TensorRef t = output;
        for (int hops = 0; hops < 64; hops++) {
            NodeDef n = nodes.get(index.get(t.op()));
            if (!PASS_THROUGH.contains(n.getOp()) || n.getInputCount() == 0) {
                return t;
            }
            t = TensorRef.parse(n.getInput(0));
        }
        return t;
    }

    /**
     * @return the static shape without the batch dimension
     * @throws ModelException if the tensor is not float or its shape is not static apart from the batch dimension
     */
    int[] staticShape(TensorRef ref, String role) {
        Output<?> out = output(ref);
        if (out.dataType() != DataType.DT_FLOAT) {
            throw new ModelException(role + " '" + ref.layerName() + "' has dtype " + out.dataType()
                    + "; it must be DT_FLOAT");
        }
        return unbatched(out.shape()).orElseThrow(() -> new ModelException(role + " '" + ref.layerName()
                + "' has shape " + out.shape() + "; it must be static apart from the batch dimension"));
    }

    /** @return the shape without the batch dimension, unknown dimensions as -1 */
    private int[] exampleShape(TensorRef ref) {
        long[] dims = output(ref).shape().asArray();
        return Arrays.stream(dims).skip(1).mapToInt(d -> d < 0 ? -1 : Math.toIntExact(d)).toArray();
    }

    boolean isFloat(TensorRef ref) {
        GraphOperation op = graph.operation(ref.op());
        return op != null && ref.index() < op.numOutputs() && op.output(ref.index()).dataType() == DataType.DT_FLOAT;
    }

    Output<?> output(TensorRef ref) {
        GraphOperation op = graph.operation(ref.op());
        if (op == null || ref.index() >= op.numOutputs()) {
            throw new ModelException("graph has no tensor '" + ref.layerName() + "'");
        }
        return op.output(ref.index());
    }

    private static Optional<int[]> unbatched(Shape s) {
        if (s.isUnknown() || s.numDimensions() < 1) {
            return Optional.empty();
        }
        long[] dims = s.asArray();
        int[] out = new int[dims.length - 1];
        for (int i = 1; i < dims.length; i++) {
            if (dims[i] < 0) {
                return Optional.empty();
            }
            out[i - 1] = Math.toIntExact(dims[i]);
        }
        return Optional.of(out);
    }

    /**
     * @param input  the input placeholder
     * @param logits the logits tensor
     * @param output the output tensor (may equal logits)
     * @param direct true when the input is fed as it is (token ids, text): any dtype, unknown dimensions kept as -1
     * @return the layers in graph order; input, logits and output always among them
     */
    List<LayerInfo> select(TensorRef input, TensorRef logits, TensorRef output, boolean direct) {
        int in = index.get(input.op());
        BitSet forward = walk(in, i -> consumers.get(i).stream().mapToInt(Integer::intValue).toArray());
        BitSet backward = walk(index.get(output.op()), i -> inputs[i]);
        backward.or(walk(index.get(logits.op()), i -> inputs[i]));
        BitSet onPath = (BitSet) forward.clone();
        onPath.and(backward);
        onPath.set(in);
        onPath.set(index.get(logits.op()));
        onPath.set(index.get(output.op()));

        List<LayerInfo> layers = new ArrayList<>();
        for (int i = onPath.nextSetBit(0); i >= 0; i = onPath.nextSetBit(i + 1)) {
            NodeDef n = nodes.get(i);
            String name = n.getName();
            if (name.equals(input.op())) {
                layers.add(new LayerInfo(input.layerName(), n.getOp(), direct ? exampleShape(input)
                        : staticShape(input, "input"), LayerInfo.Role.INPUT));
            }
            if (name.equals(logits.op())) {
                layers.add(new LayerInfo(logits.layerName(), n.getOp(), staticShape(logits, "logits"),
                        LayerInfo.Role.LOGITS));
            }
            if (name.equals(output.op()) && !output.equals(logits)) {
                layers.add(new LayerInfo(output.layerName(), n.getOp(), staticShape(output, "output"),
                        LayerInfo.Role.OUTPUT));
            }
            if (name.equals(input.op()) || name.equals(logits.op()) || name.equals(output.op())
                    || inFrame.get(i) || !isLayer(i, onPath)) {
                continue;
            }
            TensorRef ref = new TensorRef(name, 0);
            if (isFloat(ref)) {
                unbatched(output(ref).shape()).ifPresent(shape ->
                        layers.add(new LayerInfo(name, n.getOp(), shape, LayerInfo.Role.HIDDEN)));
            }
        }
        return layers;
    }

    /**
     * @param input      the input placeholder
     * @param fixedBatch the model's fixed batch size, or 0
     * @param internal   name prefix of ops the backend added, left out
     * @return every float output of an op that depends on the input and has a static shape apart from a batch
     *         dimension in front (free, or the fixed batch size), in graph order; the input itself and constants excluded
     */
    List<Candidate> capturable(TensorRef input, int fixedBatch, String internal) {
        int in = index.get(input.op());
        BitSet forward = walk(in, i -> consumers.get(i).stream().mapToInt(Integer::intValue).toArray());
        List<Candidate> out = new ArrayList<>();
        for (int i = forward.nextSetBit(0); i >= 0; i = forward.nextSetBit(i + 1)) {
            NodeDef n = nodes.get(i);
            if (i == in || n.getName().startsWith(internal) || n.getOp().equals("Const") || inFrame.get(i)) {
                continue;
            }
            GraphOperation op = graph.operation(n.getName());
            for (int k = 0; op != null && k < op.numOutputs(); k++) {
                Output<?> o = op.output(k);
                if (o.dataType() != DataType.DT_FLOAT) {
                    continue;
                }
                Shape s = o.shape();
                if (s.isUnknown() || s.numDimensions() < 1 || s.size(0) >= 0 && s.size(0) != fixedBatch) {
                    continue;
                }
                int index = k;
                unbatched(s).ifPresent(shape -> out.add(new Candidate(new TensorRef(n.getName(), index), n.getOp(),
                        shape)));
            }
        }
        return out;
    }

    /** Names TensorFlow gives identities nobody named. */
    private static final java.util.regex.Pattern UNNAMED = java.util.regex.Pattern.compile("Identity(_\\d+)?");

    /**
     * @return true for an {@code Identity} op its author named (e.g. {@code tf.withName("pooled").identity(x)}):
     *         the way to name a layer whatever op computes it; the backend's own ops excluded
     */
    private boolean namedIdentity(int i) {
        NodeDef n = nodes.get(i);
        if (!n.getOp().equals("Identity") || inputs[i].length == 0 || n.getName().startsWith(AnalysisGraph.SCOPE)
                || nodes.get(inputs[i][0]).getName().startsWith(AnalysisGraph.SCOPE)) {
            return false;
        }
        return !UNNAMED.matcher(n.getName().substring(n.getName().lastIndexOf('/') + 1)).matches();
    }

    private boolean isLayer(int i, BitSet onPath) {
        String type = nodes.get(i).getOp();
        if (namedIdentity(i)) {
            return true;
        }
        if (!LAYER_TYPES.contains(type)) {
            return false;
        }
        int[] onward = consumers.get(i).stream().mapToInt(Integer::intValue).filter(onPath::get).toArray();
        if (onward.length == 1 && namedIdentity(onward[0])) {
            return false; // the named identity after it is the layer
        }
        if (LOOKUPS.contains(type)) {
            return inputs[i].length > 0 && !onPath.get(inputs[i][0]);
        }
        if ((type.equals("Add") || type.equals("AddV2"))
                && Arrays.stream(inputs[i]).noneMatch(j -> LAYER_TYPES.contains(nodes.get(j).getOp())
                || namedIdentity(j))) {
            return false;
        }
        if (LINEAR.contains(type)) {
            int[] next = consumers.get(i).stream().mapToInt(Integer::intValue).filter(onPath::get).toArray();
            return !(next.length == 1 && FOLLOW_UPS.contains(nodes.get(next[0]).getOp())
                    && Objects.equals(scope.apply(nodes.get(i).getName()), scope.apply(nodes.get(next[0]).getName())));
        }
        return true;
    }

    private BitSet walk(int start, java.util.function.IntFunction<int[]> next) {
        BitSet seen = new BitSet(nodes.size());
        ArrayDeque<Integer> todo = new ArrayDeque<>();
        seen.set(start);
        todo.add(start);
        while (!todo.isEmpty()) {
            for (int j : next.apply(todo.poll())) {
                if (!seen.get(j)) {
                    seen.set(j);
                    todo.add(j);
                }
            }
        }
        return seen;
    }
}
