package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.PrunedModel;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

/**
 * Structural pruning of a model graph, exported as a SavedModel. The graph the model was loaded from (functions
 * inlined) is frozen (every variable read becomes a constant holding its value, read in one session run), then for
 * each layer the removed units are cut out of the op that produces them (a {@code MatMul} kernel's columns, a
 * {@code Conv2D} filter's output channels) and carried through every consumer: channel-wise ops ({@code BiasAdd},
 * {@code FusedBatchNorm} scale/offset/mean/variance, element-wise ops with a per-channel constant) lose the same
 * entries, channel-preserving ops (activations, {@code Identity}, pooling) pass them on, a {@code Reshape} that
 * flattens a {@code [positions..., channels]} tensor turns each removed channel into its rows at every position
 * (position-major, channel-minor) and gets its constant shape fixed, and the next {@code MatMul} kernel loses those
 * rows, the next {@code Conv2D} filter those input channels. A layer whose units reach any other op (or a model
 * output) is not cut; its units are zeroed by a constant mask multiplied after the layer instead. Stale
 * {@code _output_shapes} attributes are dropped; the node names stay, so the exported model has the same layers.
 */
final class StructuralPruning {

    /** Ops whose output has the input's channels at the same indices of its last axis. */
    private static final Set<String> PASS = Set.of("Relu", "Relu6", "Elu", "Selu", "Tanh", "Sigmoid", "LeakyRelu",
            "Softplus", "Softsign", "Identity", "StopGradient", "MaxPool", "MaxPoolV2", "AvgPool", "Neg", "Abs", "Square");
    /** Element-wise binary ops: a per-channel constant operand loses the removed channels. */
    private static final Set<String> BINARY = Set.of("Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum",
            "BiasAdd");
    private static final Set<String> BATCH_NORMS = Set.of("FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3");
    private static final Set<String> VARIABLES = Set.of("VariableV2", "Variable");

    /**
     * Where a model came from: the graph it was loaded from and its signature.
     *
     * @param def     the graph, functions inlined, with the original node names
     * @param inputs  signature input key to tensor
     * @param outputs signature output key to tensor
     * @param path    the model's files, for their size
     * @param primary the input fed the data's primary tensor
     * @param primaryName the input layer's name for users
     */
    record Source(GraphDef def, Map<String, TensorRef> inputs, Map<String, TensorRef> outputs, Path path,
                  TensorRef primary, String primaryName) {
    }

    private final Source source;
    private final String where;
    private final Map<String, NodeDef> nodes = new LinkedHashMap<>();
    /** Values and shapes of the float constants, decoded once and kept as they are cut. */
    private final Map<String, float[]> values = new HashMap<>();
    private final Map<String, long[]> shapes = new HashMap<>();
    private final Set<String> frozen = new HashSet<>();
    private final Map<String, TensorRef> outputs;
    private final Map<String, TensorRef> inputs;

    private StructuralPruning(Source source, String where) {
        this.source = source;
        this.where = where;
        this.outputs = new LinkedHashMap<>(source.outputs());
        this.inputs = new LinkedHashMap<>(source.inputs());
    }

    /**
     * @param source    the model's graph and signature
     * @param session   a session holding the model's variables
     * @param fetchName the session's name of an op of {@code source.def()}
     * @param layers    layer name to its tensor in {@code source.def()}
     * @param names     op of {@code source.def()} to the name its output 0 has for users (a layer's name, a Keras
     *                  name inside an inlined function): the exported ops take these names where they are free, so
     *                  the model loads again with the same layer names
     * @param remove    layer name to the sorted, distinct unit indices removed
     * @param outDir    an absent or empty folder
     * @param where     the model, for messages
     * @return what was written
     */
    static PrunedModel prune(Source source, Session session, UnaryOperator<String> fetchName,
                             Map<String, TensorRef> layers, Map<String, String> names, Map<String, int[]> remove,
                             Path outDir, String where) {
        StructuralPruning p = new StructuralPruning(source, where);
        p.freeze(session, fetchName);
        long before = p.parameters();
        long frozen = p.frozenBytes();
        List<String> structural = new ArrayList<>();
        Map<String, String> masked = new LinkedHashMap<>();
        Map<String, List<Integer>> removed = new LinkedHashMap<>();
        for (Map.Entry<String, int[]> e : remove.entrySet()) {
            TensorRef t = layers.get(e.getKey());
            removed.put(e.getKey(), Arrays.stream(e.getValue()).boxed().toList());
            String refused = p.cut(t, e.getValue());
            if (refused == null) {
                structural.add(e.getKey());
            } else {
                masked.put(e.getKey(), refused);
                p.mask(t, e.getValue());
            }
        }
        long after = p.parameters();
        p.finish(names);
        p.export(outDir);
        return new PrunedModel(outDir, removed, structural, masked, before, after, bytes(source.path()), frozen,
                bytes(outDir));
    }

    // ---------------------------------------------------------------------------------------------------- freezing

    /** Replaces every variable read the outputs need by a constant of its value, and drops what is left unused. */
    private void freeze(Session session, UnaryOperator<String> fetchName) {
        Map<String, NodeDef> all = new LinkedHashMap<>();
        source.def().getNodeList().forEach(n -> all.put(n.getName(), n));
        Set<String> keep = NodeDefs.ancestors(all, roots());
        List<String> reads = new ArrayList<>();
        for (NodeDef n : all.values()) {
            if (!keep.contains(n.getName())) {
                continue;
            }
            if (VARIABLES.contains(n.getOp()) || n.getOp().equals("ReadVariableOp")) {
                if (n.getAttrOrDefault("dtype", AttrValue.getDefaultInstance()).getType() != DataType.DT_FLOAT) {
                    throw new ModelException(where + ": cannot prune: variable '" + n.getName() + "' is "
                            + n.getAttrOrThrow("dtype").getType() + "; only float variables can be frozen");
                }
                reads.add(n.getName());
            } else if (n.getOp().startsWith("Resource") || n.getOp().equals("VarHandleOp")
                    && all.values().stream().anyMatch(c -> keep.contains(c.getName()) && !c.getOp().equals("ReadVariableOp")
                    && c.getInputList().stream().anyMatch(i -> NodeDefs.opOf(i).equals(n.getName())))) {
                throw new ModelException(where + ": cannot prune: op '" + n.getName() + "' (" + n.getOp()
                        + ") uses a variable other than by reading it; only graphs whose variables are read can be"
                        + " frozen");
            }
        }
        Map<String, NodeDef> replaced = new HashMap<>();
        if (!reads.isEmpty()) {
            Session.Runner runner = session.runner();
            for (String r : reads) {
                String name = fetchName.apply(r);
                if (name == null) {
                    throw new ModelException(where + ": cannot prune: the session has no op for variable '" + r + "'");
                }
                runner.fetch(name, 0);
            }
            try (Result res = runner.run()) {
                for (int i = 0; i < reads.size(); i++) {
                    org.tensorflow.Tensor t = res.get(i);
                    float[] v = new float[Math.toIntExact(t.shape().size())];
                    t.asRawTensor().data().asFloats().read(v);
                    long[] dims = t.shape().asArray();
                    replaced.put(reads.get(i), NodeDefs.floats(reads.get(i), v, dims));
                    values.put(reads.get(i), v);
                    shapes.put(reads.get(i), dims);
                    frozen.add(reads.get(i));
                }
            } catch (RuntimeException e) {
                throw new ModelException(where + ": cannot prune: reading the variables failed: " + e.getMessage(), e);
            }
        }
        Map<String, NodeDef> next = new LinkedHashMap<>();
        for (NodeDef n : all.values()) {
            NodeDef r = replaced.get(n.getName());
            next.put(n.getName(), r != null ? r : n);
        }
        Set<String> needed = NodeDefs.ancestors(next, roots());
        for (NodeDef n : next.values()) {
            if (needed.contains(n.getName())) {
                nodes.put(n.getName(), n.toBuilder().removeAttr("_output_shapes").build());
            }
        }
    }

    private List<String> roots() {
        return outputs.values().stream().map(TensorRef::op).distinct().toList();
    }

    /** Parameter values: every frozen variable and every other float constant of more than one element. */
    private long parameters() {
        long n = 0;
        for (NodeDef d : nodes.values()) {
            if (!d.getOp().equals("Const") || d.getAttrOrThrow("dtype").getType() != DataType.DT_FLOAT) {
                continue;
            }
            long size = 1;
            for (long x : shape(d.getName())) {
                size *= x;
            }
            if (size > 1 || frozen.contains(d.getName())) {
                n += size;
            }
        }
        return n;
    }

    // ----------------------------------------------------------------------------------------------------- cutting

    /** Planned changes of one layer's cut, applied only when the whole walk succeeds. */
    private static final class Plan {
        /** constant node to its cuts, in order */
        final Map<String, List<AxisCut>> cuts = new LinkedHashMap<>();
        /** reshape's shape constant node to its new values */
        final Map<String, int[]> reshapes = new LinkedHashMap<>();
    }

    /** Indices removed from one axis of a constant. */
    private record AxisCut(int axis, Set<Integer> removed) {
    }

    /** A tensor whose last axis lost {@code removed} of its {@code width} entries. */
    private record Cut(String tensor, Set<Integer> removed, long width) {
    }

    /**
     * Cuts the units out of the graph.
     *
     * @return null when done, else why the layer cannot be cut (the graph is then unchanged)
     */
    private String cut(TensorRef layer, int[] units) {
        Map<String, long[]> outShapes = staticShapes();
        Map<String, List<String[]>> consumers = consumers();
        Plan plan = new Plan();
        Set<Integer> removed = new TreeSet<>();
        Arrays.stream(units).forEach(removed::add);
        // up from the layer to the op that makes its units
        String t = name(layer);
        Set<String> walked = new HashSet<>();
        String start = null;
        while (start == null) {
            NodeDef n = nodes.get(TensorRef.parse(t).op());
            if (n == null || !walked.add(n.getName())) {
                return "no op produces '" + t + "'";
            }
            switch (n.getOp()) {
                case "MatMul" -> {
                    if (n.getAttrOrDefault("transpose_a", AttrValue.getDefaultInstance()).getB()) {
                        return "its MatMul '" + n.getName() + "' transposes its input";
                    }
                    String w = constant(n.getInput(1), consumers);
                    if (w == null) {
                        return "the kernel of MatMul '" + n.getName() + "' is not a constant of its own";
                    }
                    boolean tb = n.getAttrOrDefault("transpose_b", AttrValue.getDefaultInstance()).getB();
                    plan(plan, w, tb ? 0 : 1, removed);
                    start = n.getName() + ":0";
                }
                case "Conv2D" -> {
                    if (!nhwc(n)) {
                        return "Conv2D '" + n.getName() + "' is channels first (NCHW)";
                    }
                    String f = constant(n.getInput(1), consumers);
                    if (f == null) {
                        return "the filter of Conv2D '" + n.getName() + "' is not a constant of its own";
                    }
                    plan(plan, f, 3, removed);
                    start = n.getName() + ":0";
                }
                default -> {
                    if (PASS.contains(n.getOp()) || BINARY.contains(n.getOp()) || BATCH_NORMS.contains(n.getOp())) {
                        String data = dataInput(n);
                        if (data == null) {
                            return "op '" + n.getName() + "' (" + n.getOp() + ") has no single data input";
                        }
                        t = data;
                    } else {
                        return "its units come from op '" + n.getName() + "' (" + n.getOp() + "), which cannot be cut";
                    }
                }
            }
        }
        long[] startShape = outShapes.get(start);
        if (startShape == null || startShape.length == 0 || startShape[startShape.length - 1] <= 0) {
            return "the static shape of '" + start + "' is unknown";
        }
        long width = startShape[startShape.length - 1];
        if (removed.size() >= width) {
            return "every unit would be removed";
        }
        // down through every consumer
        Deque<Cut> todo = new ArrayDeque<>();
        todo.add(new Cut(start, removed, width));
        Map<String, Cut> done = new HashMap<>();
        Set<String> outputTensors = new HashSet<>();
        outputs.values().forEach(o -> outputTensors.add(name(o)));
        while (!todo.isEmpty()) {
            Cut c = todo.poll();
            if (done.containsKey(c.tensor())) {
                continue;
            }
            done.put(c.tensor(), c);
            if (outputTensors.contains(c.tensor())) {
                return "its units reach the model output '" + c.tensor() + "'";
            }
            for (String[] use : consumers.getOrDefault(c.tensor(), List.of())) {
                NodeDef n = nodes.get(use[0]);
                int at = Integer.parseInt(use[1]);
                String refused = follow(n, at, c, plan, consumers, outShapes, done, todo);
                if (refused != null) {
                    return refused;
                }
            }
        }
        apply(plan);
        return null;
    }

    /** One consumer of a cut tensor: plans its cuts and queues its cut outputs; null, or why not. */
    private String follow(NodeDef n, int at, Cut c, Plan plan, Map<String, List<String[]>> consumers,
                          Map<String, long[]> outShapes, Map<String, Cut> done, Deque<Cut> todo) {
        String op = n.getOp();
        String out0 = n.getName() + ":0";
        if (PASS.contains(op)) {
            if (at != 0) {
                return "op '" + n.getName() + "' (" + op + ") takes the units as its parameter " + at;
            }
            if (op.contains("Pool") && (!nhwc(n) || !poolsWithinChannels(n))) {
                return "pool '" + n.getName() + "' is channels first (NCHW) or pools across channels";
            }
            todo.add(new Cut(out0, c.removed(), c.width()));
            return null;
        }
        if (BINARY.contains(op)) {
            if (op.equals("BiasAdd") && (at != 0 || !nhwc(n))) {
                return "BiasAdd '" + n.getName() + "' adds the units as its bias, or is channels first";
            }
            String other = n.getInput(1 - at);
            Cut otherCut = done.get(name(TensorRef.parse(other)));
            if (otherCut != null) {
                if (!otherCut.removed().equals(c.removed())) {
                    return "op '" + n.getName() + "' (" + op + ") combines tensors cut at different units";
                }
            } else {
                String k = constant(other, consumers);
                if (k == null) {
                    return "op '" + n.getName() + "' (" + op + ") combines the units with '" + other
                            + "', which is neither a constant nor cut alike";
                }
                long[] s = shape(k);
                long size = Arrays.stream(s).reduce(1, (a, b) -> a * b);
                if (size == c.width() && s.length >= 1 && s[s.length - 1] == c.width()) {
                    plan(plan, k, s.length - 1, c.removed());
                } else if (size != 1) {
                    return "op '" + n.getName() + "' (" + op + ") combines the units with a constant of shape "
                            + Arrays.toString(s) + ", not one value per unit";
                }
            }
            todo.add(new Cut(out0, c.removed(), c.width()));
            return null;
        }
        if (BATCH_NORMS.contains(op)) {
            if (at != 0 || !nhwc(n)) {
                return "batch norm '" + n.getName() + "' normalizes the units as a parameter, or is channels first";
            }
            for (int i = 1; i <= 4; i++) {
                String k = constant(n.getInput(i), consumers);
                if (k == null) {
                    return "batch norm '" + n.getName() + "' input " + i + " is not a constant of its own";
                }
                if (shape(k).length == 1 && shape(k)[0] == c.width()) {
                    plan(plan, k, 0, c.removed());
                } else if (shape(k).length != 1 || shape(k)[0] != 0) {
                    return "batch norm '" + n.getName() + "' input " + i + " has shape " + Arrays.toString(shape(k));
                }
            }
            for (String tensor : consumers.keySet()) {
                TensorRef r = TensorRef.parse(tensor);
                if (r.op().equals(n.getName()) && r.index() > 0) {
                    return "batch norm '" + n.getName() + "' output " + r.index() + " is used";
                }
            }
            todo.add(new Cut(out0, c.removed(), c.width()));
            return null;
        }
        if (op.equals("MatMul")) {
            if (at != 0 || n.getAttrOrDefault("transpose_a", AttrValue.getDefaultInstance()).getB()) {
                return "MatMul '" + n.getName() + "' takes the units as its kernel or transposed";
            }
            String w = constant(n.getInput(1), consumers);
            if (w == null) {
                return "the kernel of MatMul '" + n.getName() + "' is not a constant of its own";
            }
            boolean tb = n.getAttrOrDefault("transpose_b", AttrValue.getDefaultInstance()).getB();
            plan(plan, w, tb ? 1 : 0, c.removed());
            return null;
        }
        if (op.equals("Conv2D")) {
            if (at != 0 || !nhwc(n)) {
                return "Conv2D '" + n.getName() + "' takes the units as its filter, or is channels first";
            }
            String f = constant(n.getInput(1), consumers);
            if (f == null) {
                return "the filter of Conv2D '" + n.getName() + "' is not a constant of its own";
            }
            plan(plan, f, 2, c.removed());
            return null;
        }
        if (op.equals("Reshape") && at == 0) {
            return reshape(n, c, plan, consumers, outShapes, todo);
        }
        return "its units reach op '" + n.getName() + "' (" + op + "), which cannot be cut";
    }

    /** A reshape of a cut tensor: a flatten to {@code [batch, positions * channels]} or one keeping the last axis. */
    private String reshape(NodeDef n, Cut c, Plan plan, Map<String, List<String[]>> consumers,
                           Map<String, long[]> outShapes, Deque<Cut> todo) {
        NodeDef shapeNode = nodes.get(TensorRef.parse(n.getInput(1)).op());
        long[] target = shapeNode == null ? null : NodeDefs.intConstant(shapeNode);
        long[] in = outShapes.get(name(TensorRef.parse(n.getInput(0))));
        if (target == null || in == null || consumers.getOrDefault(name(TensorRef.parse(n.getInput(1))), List.of()).size() != 1) {
            return "reshape '" + n.getName() + "' has no constant shape of its own or an unknown input shape";
        }
        long positions = 1;
        for (int i = 1; i < in.length - 1; i++) {
            if (in[i] <= 0) {
                return "reshape '" + n.getName() + "' input has an unknown shape " + Arrays.toString(in);
            }
            positions *= in[i];
        }
        int k = c.removed().size();
        int[] next = Arrays.stream(target).mapToInt(Math::toIntExact).toArray();
        if (target.length == 2 && in.length >= 2 && (target[1] == positions * c.width())) {
            Set<Integer> flat = new TreeSet<>();
            for (long p = 0; p < positions; p++) {
                for (int r : c.removed()) {
                    flat.add(Math.toIntExact(p * c.width() + r));
                }
            }
            next[1] = Math.toIntExact(positions * (c.width() - k));
            plan.reshapes.put(shapeNode.getName(), next);
            todo.add(new Cut(n.getName() + ":0", flat, positions * c.width()));
            return null;
        }
        if (target.length >= 1 && target[target.length - 1] == c.width()) {
            next[next.length - 1] = Math.toIntExact(c.width() - k);
            plan.reshapes.put(shapeNode.getName(), next);
            todo.add(new Cut(n.getName() + ":0", c.removed(), c.width()));
            return null;
        }
        return "reshape '" + n.getName() + "' to " + Arrays.toString(target) + " mixes the units with other axes";
    }

    private static void plan(Plan plan, String constant, int axis, Set<Integer> removed) {
        plan.cuts.computeIfAbsent(constant, x -> new ArrayList<>()).add(new AxisCut(axis, removed));
    }

    private void apply(Plan plan) {
        plan.cuts.forEach((k, cuts) -> {
            float[] v = values(k);
            long[] s = shape(k);
            for (AxisCut cut : cuts) {
                long[] ns = s.clone();
                ns[cut.axis()] -= cut.removed().size();
                v = cutAxis(v, s, cut.axis(), cut.removed());
                s = ns;
            }
            values.put(k, v);
            shapes.put(k, s);
            nodes.put(k, NodeDefs.floats(k, v, s));
        });
        plan.reshapes.forEach((k, target) -> nodes.put(k, NodeDefs.ints(k, target, target.length)));
    }

    /**
     * @param v       row-major values of shape {@code s}
     * @param axis    the axis cut
     * @param removed indices along it
     * @return the values without those indices, copied in blocks
     */
    static float[] cutAxis(float[] v, long[] s, int axis, Set<Integer> removed) {
        int outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= (int) s[i];
        }
        int inner = 1;
        for (int i = axis + 1; i < s.length; i++) {
            inner *= (int) s[i];
        }
        int n = (int) s[axis];
        int kept = n - removed.size();
        float[] out = new float[outer * kept * inner];
        int o = 0;
        for (int a = 0; a < outer; a++) {
            int runStart = -1;
            for (int i = 0; i <= n; i++) {
                boolean keep = i < n && !removed.contains(i);
                if (keep && runStart < 0) {
                    runStart = i;
                } else if (!keep && runStart >= 0) {
                    int len = (i - runStart) * inner;
                    System.arraycopy(v, (a * n + runStart) * inner, out, o, len);
                    o += len;
                    runStart = -1;
                }
            }
        }
        return out;
    }

    /** Zeroes the units after the layer: a constant mask multiplied in, the layer's consumers rerouted to it. */
    private void mask(TensorRef layer, int[] units) {
        long[] s = staticShapes().get(name(layer));
        if (s == null || s.length == 0 || s[s.length - 1] <= 0) {
            throw new ModelException(where + ": cannot prune '" + layer.layerName() + "': its static shape is unknown,"
                    + " so not even a mask can be built");
        }
        int width = Math.toIntExact(s[s.length - 1]);
        float[] m = new float[width];
        Arrays.fill(m, 1f);
        for (int u : units) {
            m[u] = 0f;
        }
        String base = layer.op() + "/pruning_mask";
        String maskConst = base + "/values";
        String tensor = name(layer);
        DataType type = DataType.DT_FLOAT;
        for (NodeDef n : new ArrayList<>(nodes.values())) {
            NodeDef.Builder b = null;
            for (int i = 0; i < n.getInputCount(); i++) {
                String in = n.getInput(i);
                if (!in.startsWith("^") && name(TensorRef.parse(in)).equals(tensor)) {
                    if (b == null) {
                        b = n.toBuilder();
                    }
                    b.setInput(i, base);
                }
            }
            if (b != null) {
                nodes.put(n.getName(), b.build());
            }
        }
        outputs.replaceAll((k, v) -> name(v).equals(tensor) ? new TensorRef(base, 0) : v);
        nodes.put(maskConst, NodeDefs.floats(maskConst, m, width));
        nodes.put(base, NodeDefs.binary(base, "Mul", layer.layerName(), maskConst, type));
    }

    // ------------------------------------------------------------------------------------------------------ export

    /** @return the size of the frozen, not yet cut model written as {@link #export} writes it (to a scratch folder) */
    private long frozenBytes() {
        Path scratch = null;
        try {
            scratch = Files.createTempDirectory("neuronmonkey-frozen");
            Path dir = scratch.resolve("model");
            export(dir);
            return bytes(dir);
        } catch (IOException e) {
            throw new ModelException(where + ": cannot create a scratch folder to measure the frozen model: "
                    + e.getMessage(), e);
        } finally {
            if (scratch != null) {
                deleteTree(scratch);
            }
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            root.toFile().deleteOnExit();
        }
    }

    /**
     * Readies the graph for export: a signature output that is an {@code Identity} (what inlining leaves under a call's
     * name) points at the identity's input, ops take their users' names, and what the outputs do not need goes.
     */
    private void finish(Map<String, String> names) {
        outputs.replaceAll((k, t) -> {
            TensorRef r = t;
            for (int depth = 0; depth < 16; depth++) {
                NodeDef n = nodes.get(r.op());
                if (n == null || !n.getOp().equals("Identity") || r.index() != 0) {
                    break;
                }
                r = TensorRef.parse(n.getInput(0));
            }
            return r;
        });
        Map<String, String> rename = new HashMap<>();
        Set<String> taken = new HashSet<>(nodes.keySet());
        Map<String, String> all = new LinkedHashMap<>(names);
        if (source.primary().index() == 0) {
            all.put(source.primary().op(), source.primaryName());
        }
        all.forEach((op, name) -> {
            if (nodes.containsKey(op) && !op.equals(name) && name.matches("[A-Za-z0-9.][A-Za-z0-9_.\\-/]*")
                    && !taken.contains(name)) {
                rename.put(op, name);
                taken.add(name);
            }
        });
        Map<String, NodeDef> renamed = new LinkedHashMap<>();
        for (NodeDef n : nodes.values()) {
            NodeDef.Builder b = n.toBuilder().setName(rename.getOrDefault(n.getName(), n.getName()));
            for (int i = 0; i < n.getInputCount(); i++) {
                String in = n.getInput(i);
                boolean control = in.startsWith("^");
                TensorRef r = TensorRef.parse(in);
                String op = rename.getOrDefault(r.op(), r.op());
                b.setInput(i, control ? "^" + op : new TensorRef(op, r.index()).layerName());
            }
            renamed.put(b.getName(), b.build());
        }
        nodes.clear();
        outputs.replaceAll((k, t) -> new TensorRef(rename.getOrDefault(t.op(), t.op()), t.index()));
        inputs.replaceAll((k, t) -> new TensorRef(rename.getOrDefault(t.op(), t.op()), t.index()));
        Set<String> needed = NodeDefs.ancestors(renamed, roots());
        renamed.forEach((name, n) -> {
            if (needed.contains(name)) {
                nodes.put(name, n);
            }
        });
    }

    private void export(Path dir) {
        GraphDef def = GraphDef.newBuilder().mergeFrom(source.def()).clearNode().addAllNode(nodes.values()).build();
        try (Graph g = new Graph()) {
            try {
                g.importGraphDef(def);
            } catch (RuntimeException e) {
                throw new ModelException(where + ": the pruned graph does not import: " + e.getMessage(), e);
            }
            try (Session s = new Session(g)) {
                Signature.Builder sig = Signature.builder().key(Signature.DEFAULT_KEY);
                inputs.forEach((k, t) -> sig.input(k, g.operation(t.op()).output(t.index())));
                outputs.forEach((k, t) -> sig.output(k, g.operation(t.op()).output(t.index())));
                SavedModelBundle.exporter(dir.toString()).withTags(TensorFlowBackend.TAG)
                        .withFunction(SessionFunction.create(sig.build(), s)).export();
            } catch (IOException | RuntimeException e) {
                throw new ModelException(where + ": writing the pruned SavedModel to " + dir + " failed: "
                        + e.getMessage(), e);
            }
        }
    }

    // ----------------------------------------------------------------------------------------------------- helpers

    /** @return static output shapes ({@code op:index} to dims, -1 unknown) from TensorFlow's shape inference */
    private Map<String, long[]> staticShapes() {
        GraphDef def = GraphDef.newBuilder().mergeFrom(source.def()).clearNode().addAllNode(nodes.values()).build();
        Map<String, long[]> out = new HashMap<>();
        try (Graph g = new Graph()) {
            g.importGraphDef(def);
            for (NodeDef n : nodes.values()) {
                org.tensorflow.GraphOperation op = g.operation(n.getName());
                for (int i = 0; op != null && i < op.numOutputs(); i++) {
                    org.tensorflow.ndarray.Shape s = op.output(i).shape();
                    if (!s.isUnknown()) {
                        out.put(n.getName() + ":" + i, s.asArray());
                    }
                }
            }
        } catch (RuntimeException e) {
            throw new ModelException(where + ": cannot prune: the frozen graph does not import: " + e.getMessage(), e);
        }
        return out;
    }

    /** @return tensor ({@code op:index}) to its data consumers as {op, input index} */
    private Map<String, List<String[]>> consumers() {
        Map<String, List<String[]>> out = new HashMap<>();
        for (NodeDef n : nodes.values()) {
            for (int i = 0; i < n.getInputCount(); i++) {
                String in = n.getInput(i);
                if (!in.startsWith("^")) {
                    out.computeIfAbsent(name(TensorRef.parse(in)), x -> new ArrayList<>())
                            .add(new String[] {n.getName(), String.valueOf(i)});
                }
            }
        }
        return out;
    }

    /**
     * @return the float constant behind an input, through {@code Identity} ops, when it and every op on the way
     *         have this one consumer; else null
     */
    private String constant(String input, Map<String, List<String[]>> consumers) {
        String t = name(TensorRef.parse(input));
        for (int depth = 0; depth < 16; depth++) {
            if (consumers.getOrDefault(t, List.of()).size() != 1) {
                return null;
            }
            NodeDef n = nodes.get(TensorRef.parse(t).op());
            if (n == null) {
                return null;
            }
            if (n.getOp().equals("Const")) {
                return n.getAttrOrThrow("dtype").getType() == DataType.DT_FLOAT ? n.getName() : null;
            }
            if (!n.getOp().equals("Identity")) {
                return null;
            }
            t = name(TensorRef.parse(n.getInput(0)));
        }
        return null;
    }

    /** @return the one non-constant data input of a channel-wise op, or null */
    private String dataInput(NodeDef n) {
        if (PASS.contains(n.getOp()) || BATCH_NORMS.contains(n.getOp()) || n.getOp().equals("BiasAdd")) {
            return n.getInput(0);
        }
        List<String> data = Stream.of(n.getInput(0), n.getInput(1))
                .filter(i -> !"Const".equals(opType(i))).toList();
        return data.size() == 1 ? data.get(0) : null;
    }

    private String opType(String input) {
        String t = input;
        for (int depth = 0; depth < 16; depth++) {
            NodeDef n = nodes.get(TensorRef.parse(t).op());
            if (n == null || !n.getOp().equals("Identity")) {
                return n == null ? null : n.getOp();
            }
            t = n.getInput(0);
        }
        return null;
    }

    /** @return true when a pool's window and stride span one channel (from its attrs or constant inputs) */
    private boolean poolsWithinChannels(NodeDef n) {
        for (int i = 0; i < 2; i++) {
            String attr = i == 0 ? "ksize" : "strides";
            List<Long> list = n.getAttrOrDefault(attr, AttrValue.getDefaultInstance()).getList().getIList();
            long[] v = !list.isEmpty() ? list.stream().mapToLong(Long::longValue).toArray()
                    : n.getInputCount() > i + 1 && nodes.get(TensorRef.parse(n.getInput(i + 1)).op()) != null
                    ? NodeDefs.intConstant(nodes.get(TensorRef.parse(n.getInput(i + 1)).op())) : null;
            if (v == null || v.length == 0 || v[v.length - 1] != 1) {
                return false;
            }
        }
        return true;
    }

    private static boolean nhwc(NodeDef n) {
        String f = n.getAttrOrDefault("data_format", AttrValue.getDefaultInstance()).getS().toStringUtf8();
        return f.isEmpty() || f.equals("NHWC") || f.equals("NWC");
    }

    private static String name(TensorRef t) {
        return t.op() + ":" + t.index();
    }

    private float[] values(String constant) {
        float[] v = values.get(constant);
        if (v == null) {
            TensorProto t = nodes.get(constant).getAttrOrThrow("value").getTensor();
            long size = Arrays.stream(shape(constant)).reduce(1, (a, b) -> a * b);
            v = new float[Math.toIntExact(size)];
            if (!t.getTensorContent().isEmpty()) {
                ByteBuffer b = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
                b.asFloatBuffer().get(v);
            } else if (t.getFloatValCount() > 0) {
                for (int i = 0; i < v.length; i++) {
                    v[i] = t.getFloatVal(Math.min(i, t.getFloatValCount() - 1));
                }
            }
            values.put(constant, v);
        }
        return v;
    }

    private long[] shape(String constant) {
        long[] s = shapes.get(constant);
        if (s == null) {
            TensorShapeProto p = nodes.get(constant).getAttrOrThrow("value").getTensor().getTensorShape();
            s = p.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
            shapes.put(constant, s);
        }
        return s;
    }

    /** @return the bytes of a file, or of every file under a folder */
    static long bytes(Path path) {
        if (path == null || !Files.exists(path)) {
            return 0;
        }
        try (Stream<Path> files = Files.walk(path)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            throw new ModelException("cannot measure the size of " + path + ": " + e.getMessage(), e);
        }
    }
}
