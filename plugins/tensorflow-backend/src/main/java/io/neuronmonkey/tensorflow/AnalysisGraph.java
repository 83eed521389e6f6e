package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.LayerInfo;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToIntFunction;
import java.util.stream.Collectors;

/**
 * Rewrites a model's graph into the one NeuronMonkey runs: only the ops the output needs; a float placeholder for
 * the raw batch, followed by the preprocessing ops, in place of the model's input placeholder; and after every
 * listed layer a splice {@code y = x * scale + shift} whose {@code PlaceholderWithDefault} inputs default to
 * {@code 1} and {@code -0.0} (the exact identities of IEEE multiplication and addition), so the unmodified path is
 * bit for bit the original while an intervention is one feed away (its scale and shift broadcast along the layer's
 * channel axis). Every other float op output is capturable too; each capturable tensor the model computes channels
 * first (see {@link ChannelAxes}) gets a Transpose that delivers it channels last, off the model's path. The rewritten
 * graph is imported next to the original (SavedModels, sharing its restored variables by {@code shared_name}) or
 * into a fresh graph.
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
    /** Input types fed as they are (token ids, raw text): no preprocessing, no cast. */
    static final Set<DataType> DIRECT = Set.of(DataType.DT_INT32, DataType.DT_INT64, DataType.DT_STRING);

    /**
     * The feeds that change one layer.
     *
     * @param scale   the scale placeholder (graph name)
     * @param shift   the shift placeholder (graph name)
     * @param perRow  the per-channel feed's dimensions per row, in the model's layout: 1 everywhere but the channel
     *                axis
     * @param full    the full feed's dimensions per row (one value per position and channel), in the model's layout
     * @param neurons neurons of the layer
     * @param info    the layer as delivered (channels last, with the model's channel axis)
     */
    record Splice(String scale, String shift, long[] perRow, long[] full, int neurons, LayerInfo info) {
    }

    /**
     * A capturable tensor.
     *
     * @param info   what users see (the delivered shape is channels last)
     * @param model  the tensor in the model's own layout (after the splice, for a listed layer): what gradients are
     *               taken with respect to
     * @param fetch  the tensor to fetch: {@code model}, or a channels-last transpose of it
     * @param toLast the permutation (batch included) from the model's layout to channels last, or null
     */
    record Capture(LayerInfo info, String model, String fetch, int[] toLast) {
    }

    final List<LayerInfo> layers;
    /** Every capturable tensor by name (the layers among them), in graph order. */
    final Map<String, Capture> captures = new LinkedHashMap<>();
    /** Model tensors ({@code op:index} before the import prefix) to the name of their capture. */
    final Map<String, String> byTensor = new HashMap<>();
    /** Layer name to its splice. */
    final Map<String, Splice> splices = new HashMap<>();
    /** Any op name a user may write (graph names, names inside functions) to the imported op's name. */
    final Map<String, String> opNames = new HashMap<>();
    /** The imported nodes (names and inputs as imported): the forward graph, for checks along gradient paths. */
    final Map<String, NodeDef> nodes = new LinkedHashMap<>();
    final String raw;
    /** The element type of {@link #raw}: DT_FLOAT, or the model input's own type for a directly fed input. */
    final DataType rawType;
    final int[] inputShape;
    /** The model's fixed batch size, or 0 when the batch dimension is free. */
    final int fixedBatch;
    final String logits;
    /** The model input's batched channel axis as its consumers use it, or null when the graph does not say. */
    final Integer inputChannelAxis;
    /** Ops inside a loop (see {@link LayerSelector#loops()}) to their loop: they cannot be captured. */
    final Map<String, String> loops = new HashMap<>();
    /** User overrides that named nothing in the graph, for an error message. */
    final List<String> unknownOverrides = new ArrayList<>();

    private AnalysisGraph(List<LayerInfo> layers, String raw, DataType rawType, int[] inputShape, int fixedBatch,
                          String logits, Integer inputChannelAxis) {
        this.layers = layers;
        this.raw = raw;
        this.rawType = rawType;
        this.inputShape = inputShape;
        this.fixedBatch = fixedBatch;
        this.logits = logits;
        this.inputChannelAxis = inputChannelAxis;
    }

    /**
     * @param def         the (inlined) model graph
     * @param inlined     what inlining did (names inside functions), possibly nothing
     * @param input       the model's input placeholder
     * @param inputName   the input layer's name for users
     * @param output      the output tensor
     * @param logits      the logits tensor, or null for the default (the input of a (Log)Softmax output)
     * @param preprocess  the preprocessing (statistics files already read)
     * @param channelAxis user overrides: layer or op name to batched channel axis (negative from the end)
     * @param target      the graph to import into
     * @param prefix      import prefix ({@code ""} or e.g. {@code "nm"})
     * @param where       the model, for messages
     * @return the rewritten graph, imported
     */
    static AnalysisGraph build(GraphDef def, FunctionInliner.Result inlined, TensorRef input, String inputName,
                               TensorRef output, TensorRef logits, TensorFlowBackend.Preprocess preprocess,
                               Map<String, Integer> channelAxis, Graph target, String prefix, String where) {
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
        if (!FLOATS.contains(dtype) && !INTEGERS.contains(dtype) && dtype != DataType.DT_STRING) {
            throw new ModelException(where + ": input '" + input.op() + "' has dtype " + dtype
                    + "; only float, integer and string inputs can be fed");
        }
        long[] modelDims = dims(ph.getAttrOrDefault("shape", AttrValue.getDefaultInstance()).getShape());
        boolean direct = DIRECT.contains(dtype);
        if (direct && !preprocess.equals(TensorFlowBackend.Preprocess.NONE)) {
            throw new ModelException(where + ": input '" + input.op() + "' is " + dtype + " (token ids or text):"
                    + " model params scale, shift and preprocess apply only to a float input; remove them");
        }
        if (direct && (modelDims == null || modelDims.length == 0)) {
            throw new ModelException(where + ": input '" + input.op() + "' has " + (modelDims == null
                    ? "an unknown rank" : "no batch dimension") + "; it needs a batch dimension in front");
        }
        List<String> roots = new ArrayList<>(List.of(output.op()));
        if (logits != null) {
            roots.add(logits.op());
        }
        Set<String> keep = NodeDefs.ancestors(all, roots);
        if (!keep.contains(input.op())) {
            throw new ModelException(where + ": output '" + output.layerName() + "' does not depend on input '"
                    + input.op() + "'");
        }
        Preprocessing.Plan plan = direct ? Preprocessing.direct(modelDims)
                : Preprocessing.plan(modelDims, preprocess, input.op(), where);
        DataType rawType = direct ? dtype : DataType.DT_FLOAT;

        // the forward graph with the preprocessing in place of the input placeholder
        List<NodeDef> forward = new ArrayList<>();
        String rawName = SCOPE + "raw";
        forward.add(NodeDefs.placeholder(rawName, rawType, plan.fedDims()));
        String prepared = direct ? rawName : Preprocessing.build(rawName, preprocess, plan, dtype, forward);
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
        List<LayerSelector.Candidate> candidates;
        Map<String, String> loops = new HashMap<>();
        Map<String, Integer> ranks = new HashMap<>();
        Function<String, String> scope = op -> {
            String local = inlined.localNames().get(op);
            return local == null ? null : KerasNames.scope(local);
        };
        try (Graph scratch = new Graph()) {
            importInto(scratch, prepared3, "", where);
            LayerSelector sel = new LayerSelector(scratch, scope);
            TensorRef out = inlined.calls() > 0 ? sel.throughIdentities(output) : output;
            TensorRef lg = logits != null ? logits : sel.defaultLogits(out);
            sel.staticShape(out, "output");
            sel.staticShape(lg, "logits");
            selected = sel.select(new TensorRef(rawName, 0), lg, out, direct);
            candidates = sel.capturable(new TensorRef(rawName, 0), plan.fixedBatch(), SCOPE);
            loops.putAll(sel.loops());
            for (NodeDef n : prepared3.getNodeList()) {
                GraphOperation op = scratch.operation(n.getName());
                for (int i = 0; op != null && i < op.numOutputs(); i++) {
                    org.tensorflow.ndarray.Shape shape = op.output(i).shape();
                    ranks.put(n.getName() + ":" + i, shape.isUnknown() ? -1 : shape.numDimensions());
                }
            }
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

        // channel axes: the graph's, with the user's overrides flowing on from the tensors they name
        ToIntFunction<String> rank = t -> ranks.getOrDefault(t, -1);
        Map<String, String> byLocal = new HashMap<>();
        inlined.localNames().forEach((full, local) -> byLocal.putIfAbsent(local, full));
        Map<String, Integer> overrides = new HashMap<>();
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, Integer> o : channelAxis.entrySet()) {
            TensorRef t = tensorOf.get(o.getKey());
            if (t == null) {
                TensorRef named = TensorRef.parse(o.getKey());
                String op = all.containsKey(named.op()) ? named.op() : byLocal.get(named.op());
                t = op == null ? null : new TensorRef(op, named.index());
            }
            String key = t == null ? null : t.op() + ":" + t.index();
            if (key == null || rank.applyAsInt(key) < 0) {
                unknown.add(o.getKey());
                continue;
            }
            int r = rank.applyAsInt(key);
            int axis = o.getValue() < 0 ? r + o.getValue() : o.getValue();
            if (axis < 1 || axis >= r) {
                throw new ModelException(where + ": model param channelAxis." + o.getKey() + " is " + o.getValue()
                        + ", but its output has rank " + r + " (batch included): valid 1.." + (r - 1) + " or -1..-"
                        + (r - 1));
            }
            overrides.put(key, axis);
        }
        if (preprocess.layout() == TensorFlowBackend.Layout.NCHW) {
            overrides.putIfAbsent(rawName + ":0", 3); // fed images are [H, W, C]; the layout step moves the axis on
        }
        List<NodeDef> forwardNodes = prepared3.getNodeList();
        Map<String, Integer> axes = ChannelAxes.infer(forwardNodes, rank, overrides);
        String modelInput = input.op() + ":0";
        Integer inputAxis = axes.containsKey(modelInput) ? axes.get(modelInput)
                : ChannelAxes.fromConsumers(modelInput, forwardNodes, axes, rank);
        if (inputAxis != null && !axes.containsKey(modelInput)) {
            // what the model's first consumers make of its input (a converter's Transpose in front of a
            // channels-last conv) flows on like an override
            Map<String, Integer> seeded = new HashMap<>(overrides);
            seeded.put(modelInput, inputAxis);
            axes = ChannelAxes.infer(forwardNodes, rank, seeded);
        }

        String p = prefix.isEmpty() ? "" : prefix + "/";
        String logitsName = layers.stream().filter(l -> l.role() == LayerInfo.Role.LOGITS).findFirst()
                .map(LayerInfo::name).orElseThrow();
        AnalysisGraph g = new AnalysisGraph(List.of(), p + rawName, rawType, plan.fed(), plan.fixedBatch(),
                logitsName, inputAxis);
        g.unknownOverrides.addAll(unknown);
        g.loops.putAll(loops);
        inlined.localNames().forEach((full, local) -> {
            if (loops.containsKey(full)) {
                g.loops.putIfAbsent(local, loops.get(full));
            }
        });

        // splice every layer; give every capturable tensor in a channels-first layout a channels-last view
        Map<String, String> reroute = new HashMap<>();
        List<NodeDef> added = new ArrayList<>();
        List<LayerInfo> finalLayers = new ArrayList<>();
        Map<String, LayerInfo> layerByTensor = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            LayerInfo l = layers.get(i);
            TensorRef t = tensorOf.get(l.name());
            String key = t.op() + ":" + t.index();
            int[] modelShape = l.shape();
            if (l.role() == LayerInfo.Role.INPUT && direct) {
                // token ids and text are fed as they are: nothing to splice, the fed tensor is the capture
                LayerInfo info = l.withChannels(modelShape.length - 1, modelShape);
                finalLayers.add(info);
                g.captures.put(info.name(), new Capture(info, p + key, p + key, null));
                g.byTensor.put(key, info.name());
                layerByTensor.put(key, info);
                continue;
            }
            Integer batched = l.role() == LayerInfo.Role.INPUT ? null : axes.get(key);
            int ca = modelShape.length == 0 ? -1 : batched == null ? modelShape.length - 1 : batched - 1;
            String s = SCOPE + "splice_" + i + "/";
            long[] perRow = new long[modelShape.length];
            Arrays.fill(perRow, 1);
            int neurons = 1;
            if (modelShape.length == 1) {
                perRow[0] = modelShape[0];
                neurons = modelShape[0];
            } else if (modelShape.length > 1) {
                perRow[ca] = modelShape[ca];
                neurons = modelShape[ca];
            }
            long[] dflt = Preprocessing.prepend(1, perRow);
            // positions are left unknown so that a feed may be per channel or per position (a patch)
            long[] fed = Preprocessing.prepend(-1, perRow);
            for (int d = 0; modelShape.length > 1 && d < modelShape.length; d++) {
                fed[d + 1] = d == ca ? perRow[d] : -1;
            }
            added.add(NodeDefs.fill(s + "one", 1f, dflt));
            added.add(NodeDefs.fill(s + "negative_zero", -0f, dflt));
            added.add(NodeDefs.placeholderWithDefault(s + "scale", s + "one", DataType.DT_FLOAT, fed));
            added.add(NodeDefs.placeholderWithDefault(s + "shift", s + "negative_zero", DataType.DT_FLOAT, fed));
            added.add(NodeDefs.binary(s + "mul", "Mul", t.layerName(), s + "scale", DataType.DT_FLOAT));
            added.add(NodeDefs.binary(s + "out", "AddV2", s + "mul", s + "shift", DataType.DT_FLOAT));
            reroute.put(key, s + "out");
            LayerInfo info = channelsLast(l, ca);
            g.splices.put(info.name(), new Splice(p + s + "scale", p + s + "shift", perRow,
                    Arrays.stream(modelShape).asLongStream().toArray(), neurons, info));
            finalLayers.add(info);
            String fetch = view(s + "out", info, SCOPE + "channels_last_" + i, added);
            g.captures.put(info.name(), new Capture(info, p + s + "out", p + fetch, toLast(info)));
            g.byTensor.put(key, info.name());
            layerByTensor.put(key, info);
        }
        Set<String> used = new HashSet<>(g.captures.keySet());
        int c = 0;
        Map<String, Capture> others = new LinkedHashMap<>();
        for (LayerSelector.Candidate cand : candidates) {
            String key = cand.ref().op() + ":" + cand.ref().index();
            if (layerByTensor.containsKey(key)) {
                continue;
            }
            String local = inlined.localNames().get(cand.ref().op());
            String name = local != null && byLocal.get(local).equals(cand.ref().op())
                    ? new TensorRef(local, cand.ref().index()).layerName() : cand.ref().layerName();
            if (!used.add(name)) {
                name = cand.ref().layerName();
                if (!used.add(name)) {
                    continue;
                }
            }
            Integer batched = axes.get(key);
            int[] shape = cand.shape();
            int ca = shape.length == 0 ? -1 : batched == null ? shape.length - 1 : batched - 1;
            LayerInfo info = channelsLast(new LayerInfo(name, cand.opType(), shape, LayerInfo.Role.HIDDEN,
                    local != null ? new TensorRef(local, cand.ref().index()).layerName() : cand.ref().layerName()), ca);
            String fetch = view(cand.ref().layerName(), info, SCOPE + "channels_last_op_" + c++, added);
            others.put(name, new Capture(info, p + cand.ref().layerName(), p + fetch, toLast(info)));
            g.byTensor.put(key, name);
        }
        // graph order: every capture sorted by where its tensor's op comes in a topological order of the graph
        Map<String, Integer> order = new HashMap<>();
        List<NodeDef> topological = ChannelAxes.topological(forwardNodes);
        for (int i = 0; i < topological.size(); i++) {
            order.put(topological.get(i).getName(), i);
        }
        Map<String, Capture> merged = new LinkedHashMap<>(g.captures);
        merged.putAll(others);
        List<Map.Entry<String, Capture>> sorted = new ArrayList<>(merged.entrySet());
        List<String> layerOrder = finalLayers.stream().map(LayerInfo::name).toList();
        sorted.sort(java.util.Comparator.comparingInt(e -> {
            String name = e.getKey();
            if (layerOrder.contains(name) && tensorOf.containsKey(name)) {
                return order.getOrDefault(tensorOf.get(name).op(), -1);
            }
            return order.getOrDefault(TensorRef.parse(e.getValue().model().substring(p.length())).op(), -1);
        }));
        g.captures.clear();
        sorted.forEach(e -> g.captures.put(e.getKey(), e.getValue()));

        GraphDef.Builder fin = prepared3.toBuilder().clearNode();
        for (NodeDef n : prepared3.getNodeList()) {
            NodeDef.Builder b = n.toBuilder().clearInput();
            for (String in : n.getInputList()) {
                String key = in.startsWith("^") ? null : TensorRef.parse(in).op() + ":" + TensorRef.parse(in).index();
                b.addInput(key != null && reroute.containsKey(key) ? reroute.get(key) : in);
            }
            fin.addNode(b);
        }
        fin.addAllNode(added);
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
        return g.withLayers(finalLayers);
    }

    private AnalysisGraph withLayers(List<LayerInfo> finalLayers) {
        AnalysisGraph g = new AnalysisGraph(List.copyOf(finalLayers), raw, rawType, inputShape, fixedBatch, logits,
                inputChannelAxis);
        g.captures.putAll(captures);
        g.byTensor.putAll(byTensor);
        g.splices.putAll(splices);
        g.opNames.putAll(opNames);
        g.nodes.putAll(nodes);
        g.unknownOverrides.addAll(unknownOverrides);
        g.loops.putAll(loops);
        return g;
    }

    /** @return the layer with its shape moved to channels last, its channel axis kept as the model's */
    private static LayerInfo channelsLast(LayerInfo l, int channelAxis) {
        int[] model = l.shape();
        if (model.length < 2 || channelAxis == model.length - 1) {
            return l.withChannels(model.length - 1, model);
        }
        int[] last = new int[model.length];
        for (int i = 0, j = 0; i < model.length; i++) {
            if (i != channelAxis) {
                last[j++] = model[i];
            }
        }
        last[model.length - 1] = model[channelAxis];
        return l.withChannels(channelAxis, last);
    }

    /** @return the permutation (batch included) from the model's layout to channels last, or null when it is one */
    private static int[] toLast(LayerInfo info) {
        if (info.channelsLast()) {
            return null;
        }
        int rank = info.shape().length + 1;
        int[] perm = new int[rank];
        int ca = info.channelAxis() + 1;
        for (int i = 0, j = 0; i < rank; i++) {
            if (i != ca) {
                perm[j++] = i;
            }
        }
        perm[rank - 1] = ca;
        return perm;
    }

    /** Adds a channels-last transpose of {@code tensor} when {@code info} is channels first; returns what to fetch. */
    private static String view(String tensor, LayerInfo info, String name, List<NodeDef> added) {
        int[] perm = toLast(info);
        if (perm == null) {
            return tensor;
        }
        added.add(NodeDefs.ints(name + "/perm", perm, perm.length));
        added.add(NodeDefs.op(name, "Transpose", tensor, name + "/perm").putAttr("T", NodeDefs.type(DataType.DT_FLOAT))
                .putAttr("Tperm", NodeDefs.type(DataType.DT_INT32)).build());
        return name;
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

    /** @return the dimensions (batch included), {@code -1} for unknown ones; null for an unknown rank */
    static long[] dims(TensorShapeProto shape) {
        if (shape.getUnknownRank()) {
            return null;
        }
        return shape.getDimList().stream().mapToLong(TensorShapeProto.Dim::getSize).toArray();
    }
}
