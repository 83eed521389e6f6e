package io.neuronmonkey.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.onnx.proto.Onnx.AttributeProto;
import io.neuronmonkey.onnx.proto.Onnx.GraphProto;
import io.neuronmonkey.onnx.proto.Onnx.ModelProto;
import io.neuronmonkey.onnx.proto.Onnx.NodeProto;
import io.neuronmonkey.onnx.proto.Onnx.StringStringEntryProto;
import io.neuronmonkey.onnx.proto.Onnx.TensorProto;
import io.neuronmonkey.onnx.proto.Onnx.TensorShapeProto;
import io.neuronmonkey.onnx.proto.Onnx.TypeProto;
import io.neuronmonkey.onnx.proto.Onnx.ValueInfoProto;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An ONNX model's graph as NeuronMonkey reads it (which values depend on the inputs, who produces and consumes them,
 * which are computed channels first) and the rewrites it runs: requested values made graph outputs (transposed to
 * channels last where the model computes them channels first), {@code x * scale + shift} spliced after intervened
 * values with the scale and shift as extra inputs, and the fed channels-last images transposed to the model's layout.
 */
final class OnnxGraph {

    /** Prefix of every name the rewrites add; ONNX names are free strings, so it cannot clash with an export's. */
    static final String PREFIX = "nm::";

    /** Ops whose output is channels first by the operator's definition (ONNX convolutions, pools and norms are NCHW). */
    static final Set<String> CHANNELS_FIRST_OPS = Set.of("Conv", "ConvTranspose", "ConvInteger", "QLinearConv",
            "BatchNormalization", "InstanceNormalization", "LRN", "MaxPool", "AveragePool", "LpPool",
            "GlobalAveragePool", "GlobalMaxPool", "GlobalLpPool", "MaxUnpool", "DepthToSpace", "SpaceToDepth");

    /** Ops that keep their input's layout when output and input have the same shape. */
    static final Set<String> LAYOUT_KEEPING_OPS = Set.of("Relu", "LeakyRelu", "PRelu", "Sigmoid", "Tanh",
            "HardSigmoid", "HardSwish", "Elu", "Selu", "Celu", "Gelu", "Mish", "Softplus", "Softsign",
            "ThresholdedRelu", "Clip", "Dropout", "Identity", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Erf",
            "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Cast", "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min",
            "Sum", "Mean", "Where", "Shrink", "Pad", "Resize", "Upsample", "Concat");

    /** Ops that keep the channels first when they keep the batch and channel axes and merge or split the others. */
    static final Set<String> RESHAPES = Set.of("Reshape", "Flatten");

    /** Ops whose output is a probability distribution over the logits they take. */
    static final Set<String> SOFTMAXES = Set.of("Softmax", "LogSoftmax");

    final ModelProto model;
    final GraphProto graph;
    final String where;
    /** The graph's inputs that are not initializers, in order. */
    final List<ValueInfoProto> inputs = new ArrayList<>();
    /** Every node output (non-empty names) to the index of its node. */
    final Map<String, Integer> producer = new LinkedHashMap<>();
    /** The node outputs that depend on a graph input, in graph order. */
    final List<String> dependent = new ArrayList<>();
    final Set<String> outputs = new HashSet<>();

    private OnnxGraph(ModelProto model, String where) {
        this.model = model;
        this.graph = model.getGraph();
        this.where = where;
        Set<String> initializers = new HashSet<>();
        graph.getInitializerList().forEach(t -> initializers.add(t.getName()));
        Set<String> live = new HashSet<>();
        for (ValueInfoProto in : graph.getInputList()) {
            if (!initializers.contains(in.getName())) {
                inputs.add(in);
                live.add(in.getName());
            }
        }
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto node = graph.getNode(i);
            boolean fromInput = false;
            for (String in : node.getInputList()) {
                fromInput |= live.contains(in);
            }
            fromInput |= subgraphsRead(node, live);
            for (String out : node.getOutputList()) {
                if (!out.isEmpty()) {
                    producer.put(out, i);
                    if (fromInput) {
                        live.add(out);
                        dependent.add(out);
                    }
                }
            }
        }
        graph.getOutputList().forEach(o -> outputs.add(o.getName()));
    }

    /** @return true when a subgraph of the node (If, Loop, Scan) reads one of the values from the outer scope */
    private static boolean subgraphsRead(NodeProto node, Set<String> values) {
        for (AttributeProto a : node.getAttributeList()) {
            List<GraphProto> subs = new ArrayList<>(a.getGraphsList());
            if (a.hasG()) {
                subs.add(a.getG());
            }
            for (GraphProto g : subs) {
                for (NodeProto n : g.getNodeList()) {
                    for (String in : n.getInputList()) {
                        if (values.contains(in)) {
                            return true;
                        }
                    }
                    if (subgraphsRead(n, values)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /**
     * Reads and checks an ONNX file; initializers stored in external data files (models over 2 GB are saved so) are
     * read into the model, since the rewritten models are handed to ONNX Runtime as bytes.
     *
     * @param file the .onnx file
     * @return the graph
     * @throws ModelException when the file is not an ONNX model, saying why
     */
    static OnnxGraph read(Path file) {
        String where = "ONNX model " + file;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new ModelException("cannot read " + where + ": " + e.getMessage(), e);
        } catch (OutOfMemoryError e) {
            throw new ModelException("cannot read " + where + ": it does not fit in memory (raise -Xmx)", e);
        }
        ModelProto model;
        try {
            model = ModelProto.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new ModelException(file + " is not an ONNX model: it does not parse as an ONNX ModelProto ("
                    + e.getMessage() + "); export one with torch.onnx.export or optimum-cli export onnx", e);
        }
        if (!model.hasGraph() || model.getIrVersion() <= 0 || model.getOpsetImportCount() == 0
                || model.getGraph().getNodeCount() == 0) {
            throw new ModelException(file + " is not an ONNX model: " + (model.getIrVersion() <= 0
                    ? "it has no IR version" : model.getOpsetImportCount() == 0 ? "it imports no operator set"
                    : !model.hasGraph() ? "it has no graph" : "its graph has no nodes")
                    + "; export one with torch.onnx.export or optimum-cli export onnx");
        }
        model = inlineExternalData(model, file.toAbsolutePath().getParent(), where);
        OnnxGraph g = new OnnxGraph(model, where);
        if (g.inputs.isEmpty()) {
            throw new ModelException(where + " has no graph input apart from its initializers: nothing to feed");
        }
        return g;
    }

    private static ModelProto inlineExternalData(ModelProto model, Path dir, String where) {
        boolean external = model.getGraph().getInitializerList().stream()
                .anyMatch(t -> t.getDataLocation() == TensorProto.DataLocation.EXTERNAL);
        if (!external) {
            return model;
        }
        GraphProto.Builder g = model.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            TensorProto t = g.getInitializer(i);
            if (t.getDataLocation() != TensorProto.DataLocation.EXTERNAL) {
                continue;
            }
            Map<String, String> info = new HashMap<>();
            for (StringStringEntryProto e : t.getExternalDataList()) {
                info.put(e.getKey(), e.getValue());
            }
            String location = info.get("location");
            if (location == null) {
                throw new ModelException(where + ": initializer '" + t.getName() + "' is stored externally without a location");
            }
            Path data = dir.resolve(location).normalize();
            try (RandomAccessFile f = new RandomAccessFile(data.toFile(), "r")) {
                long offset = Long.parseLong(info.getOrDefault("offset", "0"));
                long length = info.containsKey("length") ? Long.parseLong(info.get("length")) : f.length() - offset;
                byte[] raw = new byte[Math.toIntExact(length)];
                f.seek(offset);
                f.readFully(raw);
                g.setInitializer(i, t.toBuilder().clearExternalData().clearDataLocation()
                        .setRawData(ByteString.copyFrom(raw)).build());
            } catch (IOException | NumberFormatException | ArithmeticException e) {
                throw new ModelException(where + ": cannot read the external data of initializer '" + t.getName()
                        + "' from " + data + ": " + e.getMessage(), e);
            }
        }
        return model.toBuilder().setGraph(g).build();
    }

    /** @return the dimensions of a value's declared tensor type (-1 for unknown or symbolic), or null if none */
    static long[] declaredDims(ValueInfoProto v) {
        if (!v.hasType() || !v.getType().hasTensorType() || !v.getType().getTensorType().hasShape()) {
            return null;
        }
        TensorShapeProto s = v.getType().getTensorType().getShape();
        long[] dims = new long[s.getDimCount()];
        for (int i = 0; i < dims.length; i++) {
            TensorShapeProto.Dimension d = s.getDim(i);
            dims[i] = d.hasDimValue() && d.getDimValue() > 0 ? d.getDimValue() : -1;
        }
        return dims;
    }

    /** @return the symbolic name of a declared dimension, or null */
    static String dimName(ValueInfoProto v, int axis) {
        TensorShapeProto.Dimension d = v.getType().getTensorType().getShape().getDim(axis);
        return d.hasDimParam() ? d.getDimParam() : null;
    }

    /** @return the ONNX element type of a value's declared tensor type, or 0 */
    static int elemType(ValueInfoProto v) {
        return v.hasType() && v.getType().hasTensorType() ? v.getType().getTensorType().getElemType() : 0;
    }

    NodeProto producerOf(String value) {
        Integer i = producer.get(value);
        return i == null ? null : graph.getNode(i);
    }

    /**
     * Which values are computed channels first: outputs of convolutions, pools and norms, values of the same shape
     * that layout-keeping ops (activations, element-wise arithmetic) compute from a channels-first value, and
     * reshapes of one that keep its batch and channel axes ({@code [n, C, H, W]} to {@code [n, C, H * W]}).
     *
     * @param shapes     each value's dimensions with the batch (values of rank 3 or more are candidates)
     * @param firstInput the primary input when it is channels first, else null
     * @return the channels-first values
     */
    Set<String> channelsFirst(Map<String, long[]> shapes, String firstInput) {
        Set<String> first = new HashSet<>();
        if (firstInput != null) {
            first.add(firstInput);
        }
        for (NodeProto n : graph.getNodeList()) {
            for (String out : n.getOutputList()) {
                long[] s = shapes.get(out);
                if (s == null || s.length < 3) {
                    continue;
                }
                boolean definition = CHANNELS_FIRST_OPS.contains(n.getOpType()) && n.getOutput(0).equals(out);
                boolean kept = false;
                if (LAYOUT_KEEPING_OPS.contains(n.getOpType())) {
                    for (String in : n.getInputList()) {
                        kept |= first.contains(in) && java.util.Arrays.equals(shapes.get(in), s);
                    }
                    if (n.getOpType().equals("Concat")) {
                        long axis = intAttribute(n, "axis", 0);
                        kept = n.getInputList().stream().allMatch(first::contains) && (axis == 1 || axis == 1 - s.length);
                    }
                }
                if (RESHAPES.contains(n.getOpType()) && n.getInputCount() > 0 && first.contains(n.getInput(0))) {
                    // [n, C, H, W] -> [n, C, H * W]: the spatial axes merged, the channels where they were
                    long[] in = shapes.get(n.getInput(0));
                    kept = in != null && in.length >= 3 && in[0] == s[0] && in[1] == s[1];
                }
                if (definition || kept) {
                    first.add(out);
                }
            }
        }
        return first;
    }

    /**
     * @param input the primary input
     * @return true when the input reaches a convolution, pool or norm as its data input through layout-keeping ops
     */
    boolean feedsChannelsFirstOp(String input) {
        Set<String> reached = new HashSet<>(Set.of(input));
        for (NodeProto n : graph.getNodeList()) {
            if (n.getInputCount() == 0 || !reached.contains(n.getInput(0))
                    && n.getInputList().stream().noneMatch(reached::contains)) {
                continue;
            }
            if (CHANNELS_FIRST_OPS.contains(n.getOpType()) && reached.contains(n.getInput(0))) {
                return true;
            }
            if (LAYOUT_KEEPING_OPS.contains(n.getOpType()) && !n.getOpType().equals("Concat")) {
                n.getOutputList().forEach(reached::add);
            }
        }
        return false;
    }

    static long intAttribute(NodeProto n, String name, long fallback) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a.getI();
            }
        }
        return fallback;
    }

    /**
     * What a rewritten model holds.
     *
     * @param fedLayout the primary input fed channels last and transposed to the model's layout, or null
     * @param fedRank   rank of that input with the batch
     * @param captures  values to make graph outputs, each with whether to transpose it to channels last
     * @param splices   values to change as {@code x * scale + shift}, with the rank of the fed scale and shift
     */
    record Plan(String fedLayout, int fedRank, Map<String, Capture> captures, Map<String, Integer> splices) {
    }

    /**
     * @param rank   the value's rank with the batch
     * @param toLast transpose a channels-first value to channels last
     */
    record Capture(int rank, boolean toLast) {
    }

    /** @return the name the rewritten model feeds the channels-last images under */
    static String fedName(String input) {
        return PREFIX + "fed::" + input;
    }

    /** @return the graph output a captured value is fetched as */
    String outputName(String value, Capture c) {
        if (c.toLast()) {
            return PREFIX + "last::" + value;
        }
        return producer.containsKey(value) ? value : PREFIX + "copy::" + value;
    }

    static String scaleName(String value) {
        return PREFIX + "scale::" + value;
    }

    static String shiftName(String value) {
        return PREFIX + "shift::" + value;
    }

    /**
     * Builds the model a plan describes. The original outputs are dropped unless captured, so ONNX Runtime computes
     * what the captures need and nothing else.
     *
     * @param plan what to add
     * @return the serialized model
     */
    byte[] rewrite(Plan plan) {
        GraphProto.Builder g = graph.toBuilder();
        List<NodeProto> nodes = new ArrayList<>(graph.getNodeList());
        if (plan.fedLayout() != null) {
            String input = plan.fedLayout();
            int r = plan.fedRank();
            for (int i = 0; i < g.getInputCount(); i++) {
                if (g.getInput(i).getName().equals(input)) {
                    ValueInfoProto in = g.getInput(i);
                    ValueInfoProto.Builder fed = in.toBuilder().setName(fedName(input));
                    if (in.hasType() && in.getType().getTensorType().hasShape()) {
                        TensorShapeProto s = in.getType().getTensorType().getShape();
                        TensorShapeProto.Builder moved = TensorShapeProto.newBuilder().addDim(s.getDim(0));
                        for (int d = 2; d < r; d++) {
                            moved.addDim(s.getDim(d));
                        }
                        moved.addDim(s.getDim(1));
                        fed.getTypeBuilder().getTensorTypeBuilder().setShape(moved);
                    }
                    g.setInput(i, fed);
                }
            }
            long[] perm = new long[r];
            perm[1] = r - 1;
            for (int d = 2; d < r; d++) {
                perm[d] = d - 1;
            }
            nodes.add(0, transpose(fedName(input), input, perm, PREFIX + "layout"));
        }
        for (Map.Entry<String, Integer> e : plan.splices().entrySet()) {
            String value = e.getKey();
            String original = PREFIX + "orig::" + value;
            String scaled = PREFIX + "scaled::" + value;
            int at = -1;
            for (int i = 0; i < nodes.size() && at < 0; i++) {
                int k = nodes.get(i).getOutputList().indexOf(value);
                if (k >= 0) {
                    nodes.set(i, nodes.get(i).toBuilder().setOutput(k, original).build());
                    at = i;
                }
            }
            if (at < 0) {
                throw new ModelException(where + ": cannot intervene on '" + value + "', which no node computes");
            }
            nodes.add(at + 1, NodeProto.newBuilder().setOpType("Mul").setName(PREFIX + "mul::" + value)
                    .addInput(original).addInput(scaleName(value)).addOutput(scaled).build());
            nodes.add(at + 2, NodeProto.newBuilder().setOpType("Add").setName(PREFIX + "add::" + value)
                    .addInput(scaled).addInput(shiftName(value)).addOutput(value).build());
            g.addInput(floatInput(scaleName(value), e.getValue()));
            g.addInput(floatInput(shiftName(value), e.getValue()));
        }
        g.clearOutput();
        for (Map.Entry<String, Capture> e : plan.captures().entrySet()) {
            String value = e.getKey();
            Capture c = e.getValue();
            String out = outputName(value, c);
            if (c.toLast()) {
                long[] perm = new long[c.rank()];
                for (int d = 1; d < c.rank() - 1; d++) {
                    perm[d] = d + 1;
                }
                perm[c.rank() - 1] = 1;
                nodes.add(transpose(value, out, perm, PREFIX + "to-last::" + value));
            } else if (!out.equals(value)) {
                nodes.add(NodeProto.newBuilder().setOpType("Identity").setName(out).addInput(value).addOutput(out).build());
            }
            g.addOutput(ValueInfoProto.newBuilder().setName(out).setType(TypeProto.newBuilder()
                    .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
        }
        g.clearNode().addAllNode(nodes);
        return model.toBuilder().setGraph(g).build().toByteArray();
    }

    /**
     * The probe model: every input-dependent node output is a graph output (of undeclared type), so that one run
     * tells each value's element type and shape.
     *
     * @return the serialized model
     */
    byte[] probe(Collection<String> values) {
        GraphProto.Builder g = graph.toBuilder().clearOutput();
        for (String v : values) {
            g.addOutput(ValueInfoProto.newBuilder().setName(v));
        }
        return model.toBuilder().setGraph(g).build().toByteArray();
    }

    private static NodeProto transpose(String in, String out, long[] perm, String name) {
        AttributeProto.Builder p = AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS);
        for (long d : perm) {
            p.addInts(d);
        }
        return NodeProto.newBuilder().setOpType("Transpose").setName(name).addInput(in).addOutput(out)
                .addAttribute(p).build();
    }

    private static ValueInfoProto floatInput(String name, int rank) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (int d = 0; d < rank; d++) {
            s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(PREFIX + name + "::" + d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
    }

    /** @return "opset 17" style summary of the standard operator set imported, for descriptions */
    String opsets() {
        StringBuilder b = new StringBuilder();
        model.getOpsetImportList().forEach(o -> {
            if (b.length() > 0) {
                b.append(", ");
            }
            b.append(o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx") ? "opset" : o.getDomain())
                    .append(' ').append(o.getVersion());
        });
        return b.toString();
    }
}
