package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.LayerInfo;
import org.tensorflow.Graph;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Rewrites a model's graph into the one NeuronMonkey runs: only the ops the output needs; a float placeholder for
 * the raw batch, followed by the preprocessing ops, in place of the model's input placeholder; and after every
 * listed layer a splice {@code y = x * scale + shift} whose {@code PlaceholderWithDefault} inputs default to
 * {@code 1} and {@code -0.0} (the exact identities of IEEE multiplication and addition), so the unmodified path is
 * bit for bit the original while an intervention is one feed away. The rewritten graph is imported next to the
 * original (SavedModels, sharing its restored variables by {@code shared_name}) or into a fresh graph.
 */
final class AnalysisGraph {

    /** Name scope of the nodes the backend adds. */
    static final String SCOPE = "neuronmonkey/";

    /** Variable-holding ops whose copies must share the original's resource. */
    private static final Set<String> STATEFUL_RESOURCES = Set.of("VarHandleOp", "VariableV2", "Variable",
            "HashTableV2", "MutableHashTableV2", "MutableHashTableOfTensorsV2", "MutableDenseHashTableV2");

    private static final Set<DataType> FLOATS = Set.of(DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_HALF,
            DataType.DT_BFLOAT16);
    private static final Set<DataType> INTEGERS = Set.of(DataType.DT_UINT8, DataType.DT_INT8, DataType.DT_UINT16,
            DataType.DT_INT16, DataType.DT_INT32, DataType.DT_INT64);

    /**
     * The feeds that change one layer.
     *
     * @param scale   the scale placeholder (graph name)
     * @param shift   the shift placeholder (graph name)
     * @param perRow  the feed's dimensions per row ({@code [1, 1, C]} for spatial layers, else the layer's shape)
     * @param neurons neurons of the layer
     */
    record Splice(String scale, String shift, long[] perRow, int neurons) {
    }

    final List<LayerInfo> layers;
    /** Layer name to the graph tensor that shows it (after its splice). */
    final Map<String, String> fetch = new HashMap<>();
    /** Layer name to its splice. */
    final Map<String, Splice> splices = new HashMap<>();
    /** Any op name a user may write (graph names, names inside functions) to the imported op's name. */
    final Map<String, String> opNames = new HashMap<>();
    /** The imported nodes (names and inputs as imported): the forward graph, for checks along gradient paths. */
    final Map<String, NodeDef> nodes = new LinkedHashMap<>();
    final String raw;
    final int[] inputShape;
    /** The model's fixed batch size, or 0 when the batch dimension is free. */
    final int fixedBatch;
    final String logits;

    private AnalysisGraph(List<LayerInfo> layers, String raw, int[] inputShape, int fixedBatch, String logits) {
        this.layers = layers;
        this.raw = raw;
        this.inputShape = inputShape;
        this.fixedBatch = fixedBatch;
        this.logits = logits;
    }

    /**
     * @param def        the (inlined) model graph
     * @param inlined    what inlining did (names inside functions), possibly nothing
     * @param input      the model's input placeholder
     * @param inputName  the input layer's name for users
     * @param output     the output tensor
     * @param logits     the logits tensor, or null for the default (the input of a Softmax output)
     * @param preprocess the preprocessing
     * @param target     the graph to import into
     * @param prefix     import prefix ({@code ""} or e.g. {@code "nm"})
     * @param where      the model, for messages
     * @return the rewritten graph, imported
     */
    static AnalysisGraph build(GraphDef def, FunctionInliner.Result inlined, TensorRef input, String inputName,
                               TensorRef output, TensorRef logits, TensorFlowBackend.Preprocess preprocess,
                               Graph target, String prefix, String where) {
        Map<String, NodeDef> all = new LinkedHashMap<>();
        for (NodeDef n : def.getNodeList()) {
            all.put(n.getName(), n);
        }
        NodeDef ph = all.get(input.op());
        if (ph == null || !ph.getOp().startsWith("Placeholder") || input.index() != 0) {
            throw new ModelException(where + ": input '" + input.layerName() + "' must be a placeholder, found "
                    + (ph == null ? "nothing" : "a " + ph.getOp() + " op"));
        }
        DataType dtype = ph.getAttrOrThrow("dtype").getType();
        if (!FLOATS.contains(dtype) && !INTEGERS.contains(dtype)) {
            throw new ModelException(where + ": input '" + input.op() + "' has dtype " + dtype
                    + "; only float and integer inputs can be fed");
        }
        long[] modelDims = dims(ph.getAttrOrDefault("shape", AttrValue.getDefaultInstance()).getShape());
        List<String> roots = new ArrayList<>(List.of(output.op()));
        if (logits != null) {
            roots.add(logits.op());
        }
        Set<String> keep = NodeDefs.ancestors(all, roots);
        if (!keep.contains(input.op())) {
            throw new ModelException(where + ": output '" + output.layerName() + "' does not depend on input '"
                    + input.op() + "'");
        }
        Layouts layout = Layouts.of(modelDims, preprocess, input.op(), where);

        // the forward graph with the preprocessing in place of the input placeholder
        List<NodeDef> forward = new ArrayList<>();
        String rawName = SCOPE + "raw";
        forward.add(NodeDefs.placeholder(rawName, DataType.DT_FLOAT, layout.rawDims()));
        String prepared = preprocessing(rawName, preprocess, layout, dtype, forward);
        boolean functions = false;
        for (NodeDef n : all.values()) {
            if (!keep.contains(n.getName())) {
                continue;
            }
            if (n.getName().equals(input.op())) {
                forward.add(NodeDefs.op(n.getName(), "Identity", prepared).putAttr("T", NodeDefs.type(dtype)).build());
                continue;
            }
            forward.add(shareResource(n));
            functions |= callsFunctions(n, def);
        }
        GraphDef.Builder rewritten = def.toBuilder().clearNode().addAllNode(forward);
        if (!functions) {
            rewritten.clearLibrary();
        }
        GraphDef prepared3 = rewritten.build();

        // select the layers on a scratch import (static shapes come from TensorFlow's shape inference)
        List<LayerInfo> selected;
        TensorRef out;
        TensorRef lg;
        Function<String, String> scope = op -> {
            String local = inlined.localNames().get(op);
            return local == null ? null : KerasNames.scope(local);
        };
        try (Graph scratch = new Graph()) {
            importInto(scratch, prepared3, "", where);
            LayerSelector sel = new LayerSelector(scratch, scope);
            out = inlined.calls() > 0 ? sel.throughIdentities(output) : output;
            lg = logits != null ? logits : sel.defaultLogits(out);
            sel.staticShape(out, "output");
            sel.staticShape(lg, "logits");
            selected = sel.select(new TensorRef(rawName, 0), lg, out);
        }
        List<LayerInfo> layers = new ArrayList<>();
        Map<String, TensorRef> tensorOf = new HashMap<>();
        for (LayerInfo l : selected) {
            TensorRef ref = TensorRef.parse(l.name());
            if (l.role() == LayerInfo.Role.INPUT) {
                l = new LayerInfo(inputName, "Placeholder", l.shape(), LayerInfo.Role.INPUT, input.layerName());
            }
            layers.add(l);
            tensorOf.put(l.name(), ref);
        }
        if (inlined.calls() > 0) {
            layers = KerasNames.rename(layers, inlined.localNames(), tensorOf);
        }

        // splice every layer
        String p = prefix.isEmpty() ? "" : prefix + "/";
        Map<String, String> reroute = new HashMap<>();
        List<NodeDef> splices = new ArrayList<>();
        String logitsName = layers.stream().filter(l -> l.role() == LayerInfo.Role.LOGITS).findFirst()
                .map(LayerInfo::name).orElseThrow();
        AnalysisGraph g = new AnalysisGraph(List.copyOf(layers), p + rawName, layout.rawShape(),
                layout.fixedBatch(), logitsName);
        for (int i = 0; i < layers.size(); i++) {
            LayerInfo l = layers.get(i);
            TensorRef t = tensorOf.get(l.name());
            String s = SCOPE + "splice_" + i + "/";
            int[] shape = l.shape();
            long[] perRow = l.spatial() ? new long[] {1, 1, shape[2]} : Arrays.stream(shape).asLongStream().toArray();
            long[] dflt = prepend(1, perRow);
            long[] fed = prepend(-1, perRow);
            splices.add(NodeDefs.fill(s + "one", 1f, dflt));
            splices.add(NodeDefs.fill(s + "negative_zero", -0f, dflt));
            splices.add(NodeDefs.placeholderWithDefault(s + "scale", s + "one", DataType.DT_FLOAT, fed));
            splices.add(NodeDefs.placeholderWithDefault(s + "shift", s + "negative_zero", DataType.DT_FLOAT, fed));
            splices.add(NodeDefs.binary(s + "mul", "Mul", t.layerName(), s + "scale", DataType.DT_FLOAT));
            splices.add(NodeDefs.binary(s + "out", "AddV2", s + "mul", s + "shift", DataType.DT_FLOAT));
            reroute.put(t.op() + ":" + t.index(), s + "out");
            g.fetch.put(l.name(), p + s + "out");
            g.splices.put(l.name(), new Splice(p + s + "scale", p + s + "shift", perRow, l.neurons()));
        }
        GraphDef.Builder fin = prepared3.toBuilder().clearNode();
        for (NodeDef n : prepared3.getNodeList()) {
            NodeDef.Builder b = n.toBuilder().clearInput();
            for (String in : n.getInputList()) {
                String key = in.startsWith("^") ? null : TensorRef.parse(in).op() + ":" + TensorRef.parse(in).index();
                b.addInput(key != null && reroute.containsKey(key) ? reroute.get(key) : in);
            }
            fin.addNode(b);
        }
        fin.addAllNode(splices);
        GraphDef finalDef = fin.build();
        importInto(target, finalDef, prefix, where);
        for (NodeDef n : finalDef.getNodeList()) {
            NodeDef.Builder imported = n.toBuilder().setName(p + n.getName()).clearInput();
            n.getInputList().forEach(in -> imported.addInput(in.startsWith("^") ? "^" + p + in.substring(1) : p + in));
            g.nodes.put(p + n.getName(), imported.build());
            g.opNames.put(n.getName(), p + n.getName());
        }
        inlined.localNames().forEach((full, local) -> {
            if (g.opNames.containsKey(full)) {
                g.opNames.putIfAbsent(local, p + full);
            }
        });
        return g;
    }

    private static void importInto(Graph target, GraphDef def, String prefix, String where) {
        try {
            if (prefix.isEmpty()) {
                target.importGraphDef(def);
            } else {
                target.importGraphDef(def, prefix);
            }
        } catch (RuntimeException e) {
            throw new ModelException(where + ": TensorFlow refused the rewritten graph: " + e.getMessage(), e);
        }
    }

    /** The preprocessing ops from {@code raw}; returns the tensor that replaces the model input. */
    private static String preprocessing(String raw, TensorFlowBackend.Preprocess pre, Layouts layout, DataType dtype,
                                        List<NodeDef> out) {
        String t = raw;
        String s = SCOPE + "preprocess/";
        if (pre.scale() != 1.0) {
            out.add(NodeDefs.fill(s + "scale_value", (float) pre.scale()));
            out.add(NodeDefs.binary(s + "scale", "Mul", t, s + "scale_value", DataType.DT_FLOAT));
            t = s + "scale";
        }
        if (pre.shift() != 0.0) {
            out.add(NodeDefs.fill(s + "shift_value", (float) pre.shift()));
            out.add(NodeDefs.binary(s + "shift", "AddV2", t, s + "shift_value", DataType.DT_FLOAT));
            t = s + "shift";
        }
        if (pre.mean() != null) {
            out.add(NodeDefs.floats(s + "mean_value", floats(pre.mean()), pre.mean().size()));
            out.add(NodeDefs.binary(s + "mean", "Sub", t, s + "mean_value", DataType.DT_FLOAT));
            t = s + "mean";
        }
        if (pre.std() != null) {
            out.add(NodeDefs.floats(s + "std_value", floats(pre.std()), pre.std().size()));
            out.add(NodeDefs.binary(s + "std", "RealDiv", t, s + "std_value", DataType.DT_FLOAT));
            t = s + "std";
        }
        if (pre.layout() == TensorFlowBackend.Layout.NCHW) {
            out.add(NodeDefs.ints(s + "perm", new int[] {0, 3, 1, 2}, 4));
            out.add(NodeDefs.op(s + "nchw", "Transpose", t, s + "perm").putAttr("T", NodeDefs.type(DataType.DT_FLOAT))
                    .putAttr("Tperm", NodeDefs.type(DataType.DT_INT32)).build());
            t = s + "nchw";
        }
        if (layout.reshapeTo() != null) {
            int[] to = layout.reshapeTo();
            out.add(NodeDefs.ints(s + "shape", to, to.length));
            out.add(NodeDefs.op(s + "reshape", "Reshape", t, s + "shape").putAttr("T", NodeDefs.type(DataType.DT_FLOAT))
                    .putAttr("Tshape", NodeDefs.type(DataType.DT_INT32)).build());
            t = s + "reshape";
        }
        if (dtype != DataType.DT_FLOAT) {
            if (INTEGERS.contains(dtype)) {
                out.add(NodeDefs.op(s + "round", "Round", t).putAttr("T", NodeDefs.type(DataType.DT_FLOAT)).build());
                t = s + "round";
            }
            out.add(NodeDefs.op(s + "cast", "Cast", t).putAttr("SrcT", NodeDefs.type(DataType.DT_FLOAT))
                    .putAttr("DstT", NodeDefs.type(dtype)).putAttr("Truncate", AttrValue.newBuilder().setB(false)
                            .build()).build());
            t = s + "cast";
        }
        return t;
    }

    /** Copies of variables must reach the restored resource: name it explicitly when the original relied on its node name. */
    private static NodeDef shareResource(NodeDef n) {
        if (STATEFUL_RESOURCES.contains(n.getOp())
                && n.getAttrOrDefault("shared_name", AttrValue.getDefaultInstance()).getS().isEmpty()) {
            return n.toBuilder().putAttr("shared_name", AttrValue.newBuilder()
                    .setS(com.google.protobuf.ByteString.copyFromUtf8(n.getName())).build()).build();
        }
        return n;
    }

    private static boolean callsFunctions(NodeDef n, GraphDef def) {
        if (FunctionInliner.CALL_OPS.contains(n.getOp())) {
            return true;
        }
        for (AttrValue a : n.getAttrMap().values()) {
            if (a.hasFunc() || a.getList().getFuncCount() > 0) {
                return true;
            }
        }
        return def.getLibrary().getFunctionList().stream().anyMatch(f -> f.getSignature().getName().equals(n.getOp()));
    }

    private static float[] floats(List<Double> values) {
        float[] f = new float[values.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = values.get(i).floatValue();
        }
        return f;
    }

    private static long[] prepend(long first, long[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    /** @return the dimensions (batch included), {@code -1} for unknown ones; null for an unknown rank */
    static long[] dims(TensorShapeProto shape) {
        if (shape.getUnknownRank()) {
            return null;
        }
        return shape.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
    }

    /**
     * How the fed examples relate to the model's input.
     *
     * @param rawShape   the shape of one fed example
     * @param reshapeTo  the reshape target ({@code [-1, model dims...]}) or null for none
     * @param fixedBatch the model's fixed batch size, or 0
     */
    private record Layouts(int[] rawShape, int[] reshapeTo, int fixedBatch) {

        static Layouts of(long[] model, TensorFlowBackend.Preprocess pre, String op, String where) {
            if (model != null && model.length == 0) {
                throw new ModelException(where + ": input '" + op + "' is a scalar; it needs a batch dimension");
            }
            int fixed = model != null && model[0] > 0 ? Math.toIntExact(model[0]) : 0;
            int[] modelShape = null;
            if (model != null && Arrays.stream(model).skip(1).allMatch(d -> d >= 0)) {
                modelShape = Arrays.stream(model).skip(1).mapToInt(Math::toIntExact).toArray();
            }
            int[] afterLayout = modelShape;
            if (pre.layout() == TensorFlowBackend.Layout.NCHW && modelShape != null) {
                if (modelShape.length != 3) {
                    throw new ModelException(where + ": preprocess.layout nchw needs a model input [C, H, W], '" + op
                            + "' has " + Arrays.toString(modelShape));
                }
                afterLayout = new int[] {modelShape[1], modelShape[2], modelShape[0]};
            }
            int[] raw = pre.reshape() != null ? pre.reshape().stream().mapToInt(Integer::intValue).toArray()
                    : afterLayout;
            if (raw == null) {
                throw new ModelException(where + ": input '" + op + "' has shape " + describe(model)
                        + "; set model param preprocess.reshape to the shape of one example, e.g. [224, 224, 3]");
            }
            if (pre.layout() == TensorFlowBackend.Layout.NCHW && raw.length != 3) {
                throw new ModelException(where + ": preprocess.layout nchw needs fed examples [H, W, C], found "
                        + Arrays.toString(raw));
            }
            if (pre.mean() != null && pre.mean().size() != raw[raw.length - 1]
                    || pre.std() != null && pre.std().size() != raw[raw.length - 1]) {
                throw new ModelException(where + ": preprocess.mean/std have " + (pre.mean() != null
                        ? pre.mean().size() : pre.std().size()) + " values, the fed examples " + Arrays.toString(raw)
                        + " have " + raw[raw.length - 1] + " channels (last axis)");
            }
            int[] transposed = pre.layout() == TensorFlowBackend.Layout.NCHW
                    ? new int[] {raw[2], raw[0], raw[1]} : raw;
            int[] reshapeTo = null;
            if (modelShape != null && !Arrays.equals(transposed, modelShape)) {
                if (Arrays.stream(transposed).asLongStream().reduce(1, (a, b) -> a * b)
                        != Arrays.stream(modelShape).asLongStream().reduce(1, (a, b) -> a * b)) {
                    throw new ModelException(where + ": fed examples " + Arrays.toString(raw) + " cannot be reshaped to"
                            + " the model input " + Arrays.toString(modelShape) + " of '" + op + "': the element"
                            + " counts differ (fix model param preprocess.reshape)");
                }
                reshapeTo = prependInt(-1, modelShape);
            }
            return new Layouts(raw, reshapeTo, fixed);
        }

        long[] rawDims() {
            return prepend(-1, Arrays.stream(rawShape).asLongStream().toArray());
        }

        private static int[] prependInt(int first, int[] rest) {
            int[] out = new int[rest.length + 1];
            out[0] = first;
            System.arraycopy(rest, 0, out, 1, rest.length);
            return out;
        }

        private static String describe(long[] dims) {
            return dims == null ? "of unknown rank" : Arrays.stream(dims).mapToObj(d -> d < 0 ? "?" : String.valueOf(d))
                    .collect(Collectors.joining(", ", "[", "]"));
        }
    }
}
