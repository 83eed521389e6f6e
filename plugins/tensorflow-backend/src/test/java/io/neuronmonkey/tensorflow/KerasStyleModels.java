package io.neuronmonkey.tensorflow;

import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.FunctionDefLibrary;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NameAttrList;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TString;
import org.tensorflow.types.family.TType;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a SavedModel laid out the way TF 2.x Keras {@code model.save} does, without Python: the top level holds
 * only placeholders, {@code VarHandleOp}s and {@code StatefulPartitionedCall}s; signature {@code serving_default}
 * (and {@code serve}) call {@code __inference_signature_wrapper_*}, which calls {@code __inference__wrapped_model_*}
 * through a nested {@code StatefulPartitionedCall}; the layers live flat inside that function as
 * {@code sequential/<layer>/<op>}. The model: input [8, 8, 2] -> conv2d (3x3 SAME, relu) [8, 8, 4] ->
 * batch_normalization (FusedBatchNormV3, inference) -> max_pooling2d (MaxPool 2x2) [4, 4, 4] -> flatten [64] ->
 * dense (relu) [5] -> dense_1 (softmax) [3]. The wrapped-model body is built with TensorFlow ops and converted by
 * TensorFlow itself ({@link ConcreteFunction}), so its {@code node:out_arg:i} references are TensorFlow's own.
 */
final class KerasStyleModels {

    static final String WRAPPED = "__inference__wrapped_model_1517";
    static final String WRAPPER = "__inference_signature_wrapper_1822";

    /** Variables in Keras naming, with their shapes. */
    final Map<String, long[]> shapes = new LinkedHashMap<>();
    final Map<String, float[]> values = new LinkedHashMap<>();
    private final Map<String, Ops> scopes = new java.util.HashMap<>();

    KerasStyleModels() {
        add("conv2d/kernel", 3, 3, 2, 4);
        add("conv2d/bias", 4);
        add("batch_normalization/gamma", 4);
        add("batch_normalization/beta", 4);
        add("batch_normalization/moving_mean", 4);
        add("batch_normalization/moving_variance", 4);
        add("dense/kernel", 64, 5);
        add("dense/bias", 5);
        add("dense_1/kernel", 5, 3);
        add("dense_1/bias", 3);
        float[] variance = values.get("batch_normalization/moving_variance");
        for (int i = 0; i < variance.length; i++) {
            variance[i] = 0.5f + Math.abs(variance[i]);
        }
    }

    private void add(String name, long... shape) {
        long size = 1;
        for (long d : shape) {
            size *= d;
        }
        shapes.put(name, shape);
        values.put(name, TinyModels.random(Math.toIntExact(size), 100 + values.size()));
    }

    static String resourceArg(String variable) {
        return "sequential_" + variable.replace('/', '_') + "_resource";
    }

    /** Writes the SavedModel (graph, function library, signatures, variables checkpoint) to {@code dir}. */
    void export(Path dir) throws IOException {
        FunctionDef wrapped = wrappedModel();
        FunctionDef wrapper = signatureWrapper(wrapped.getSignature());
        GraphDef.Builder top = GraphDef.newBuilder().setLibrary(FunctionDefLibrary.newBuilder()
                .addFunction(wrapped).addFunction(wrapper));
        top.addNode(NodeDefs.placeholder("serving_default_input_1", DataType.DT_FLOAT, -1, 8, 8, 2));
        top.addNode(NodeDefs.placeholder("serve_input_1", DataType.DT_FLOAT, -1, 8, 8, 2));
        for (Map.Entry<String, long[]> v : shapes.entrySet()) {
            top.addNode(NodeDefs.op(v.getKey(), "VarHandleOp").putAttr("dtype", NodeDefs.type(DataType.DT_FLOAT))
                    .putAttr("shape", AttrValue.newBuilder().setShape(NodeDefs.shape(v.getValue())).build())
                    .putAttr("shared_name", AttrValue.newBuilder().setS(com.google.protobuf.ByteString
                            .copyFromUtf8(v.getKey())).build()));
        }
        top.addNode(call("StatefulPartitionedCall", WRAPPER, "serving_default_input_1", wrapper.getSignature()));
        top.addNode(call("StatefulPartitionedCall_1", WRAPPER, "serve_input_1", wrapper.getSignature()));
        try (Graph g = new Graph()) {
            g.importGraphDef(top.build());
            Ops tf = Ops.create(g);
            for (Map.Entry<String, long[]> v : shapes.entrySet()) {
                tf.withSubScope("init").assignVariableOp(g.output(v.getKey()), tf.constant(Shape.of(v.getValue()),
                        DataBuffers.of(values.get(v.getKey()))));
            }
            addSaver(g, tf);
            try (Session s = new Session(g)) {
                Session.Runner r = s.runner();
                g.operations().forEachRemaining(op -> {
                    if (op.type().equals("AssignVariableOp") && !op.name().startsWith("save/")) {
                        r.addTarget(op);
                    }
                });
                r.run();
                Signature serving = Signature.builder().key("serving_default")
                        .input("input_1", g.output("serving_default_input_1"))
                        .output("output_0", g.output("StatefulPartitionedCall")).build();
                Signature serve = Signature.builder().key("serve").input("input_1", g.output("serve_input_1"))
                        .output("output_0", g.output("StatefulPartitionedCall_1")).build();
                SavedModelBundle.exporter(dir.toString())
                        .withFunctions(SessionFunction.create(serving, s), SessionFunction.create(serve, s)).export();
            }
        }
    }

    /** The Keras-style layers as a TensorFlow function taking the input and one resource handle per variable. */
    @SuppressWarnings("unchecked")
    private FunctionDef wrappedModel() {
        scopes.clear();
        try (Graph body = new Graph()) {
            Ops tf = Ops.create(body);
            Placeholder<TFloat32> input = tf.withName("input_1").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.of(-1, 8, 8, 2)));
            Signature.Builder sig = Signature.builder().key(WRAPPED).input("input_1", input);
            Map<String, Operand<TFloat32>> w = new LinkedHashMap<>();
            for (String v : shapes.keySet()) {
                Output<? extends TType> handle = body.opBuilder("Placeholder", resourceArg(v), tf.scope())
                        .setAttr("dtype", DataType.DT_RESOURCE).setAttr("shape", Shape.scalar()).build().output(0);
                sig.input(resourceArg(v), handle);
                String layer = v.substring(0, v.indexOf('/'));
                w.put(v, at(tf, "sequential/" + layer + "/ReadVariableOp_" + w.size())
                        .readVariableOp(handle, TFloat32.class));
            }
            Operand<TFloat32> x = at(tf, "sequential/conv2d/Relu").nn.relu(
                    at(tf, "sequential/conv2d/BiasAdd").nn.biasAdd(
                            at(tf, "sequential/conv2d/Conv2D").nn.conv2d(input, w.get("conv2d/kernel"),
                                    List.of(1L, 1L, 1L, 1L), "SAME"), w.get("conv2d/bias")));
            x = at(tf, "sequential/batch_normalization/FusedBatchNormV3").nn.fusedBatchNorm(x,
                    w.get("batch_normalization/gamma"), w.get("batch_normalization/beta"),
                    w.get("batch_normalization/moving_mean"), w.get("batch_normalization/moving_variance"),
                    FusedBatchNorm.epsilon(1e-3f), FusedBatchNorm.isTraining(false)).y();
            x = (Operand<TFloat32>) (Operand<?>) body.opBuilder("MaxPool", "sequential/max_pooling2d/MaxPool",
                    scope(tf, "sequential/max_pooling2d").scope()).addInput(x.asOutput()).setAttr("ksize", new long[] {1, 2, 2, 1})
                    .setAttr("strides", new long[] {1, 2, 2, 1}).setAttr("padding", "VALID").build().output(0);
            x = at(tf, "sequential/flatten/Reshape").reshape(x,
                    at(tf, "sequential/flatten/Const").constant(new int[] {-1, 64}));
            x = at(tf, "sequential/dense/Relu").nn.relu(at(tf, "sequential/dense/BiasAdd").nn.biasAdd(
                    at(tf, "sequential/dense/MatMul").linalg.matMul(x, w.get("dense/kernel")),
                    w.get("dense/bias")));
            x = at(tf, "sequential/dense_1/Softmax").nn.softmax(at(tf, "sequential/dense_1/BiasAdd").nn
                    .biasAdd(at(tf, "sequential/dense_1/MatMul").linalg.matMul(x, w.get("dense_1/kernel")),
                            w.get("dense_1/bias")));
            Operand<TFloat32> out = tf.withName("Identity").identity(x);
            try (ConcreteFunction f = ConcreteFunction.create(sig.output("output_0", out).build(), body)) {
                FunctionDef def = f.getFunctionDef();
                return def.toBuilder().setSignature(def.getSignature().toBuilder().setName(WRAPPED)).build();
            }
        }
    }

    /**
     * @return ops naming the next op {@code path} (scopes separated by slashes); each scope is created once, as
     *         TensorFlow Java makes a repeated sub-scope name unique
     */
    private Ops at(Ops tf, String path) {
        int slash = path.lastIndexOf('/');
        return scope(tf, path.substring(0, slash)).withName(path.substring(slash + 1));
    }

    private Ops scope(Ops tf, String path) {
        Ops known = scopes.get(path);
        if (known == null) {
            int slash = path.lastIndexOf('/');
            known = slash < 0 ? tf.withSubScope(path) : scope(tf, path.substring(0, slash))
                    .withSubScope(path.substring(slash + 1));
            scopes.put(path, known);
        }
        return known;
    }

    /** {@code output_0 = Identity(StatefulPartitionedCall(f=wrapped_model, args...))}, written as Keras writes it. */
    private static FunctionDef signatureWrapper(OpDef wrapped) {
        OpDef.Builder sig = wrapped.toBuilder().setName(WRAPPER).setIsStateful(true);
        NodeDef.Builder call = NodeDefs.op("StatefulPartitionedCall", "StatefulPartitionedCall");
        AttrValue.ListValue.Builder tin = AttrValue.ListValue.newBuilder();
        for (OpDef.ArgDef a : wrapped.getInputArgList()) {
            call.addInput(a.getName());
            tin.addType(a.getType());
        }
        call.putAttr("Tin", AttrValue.newBuilder().setList(tin).build())
                .putAttr("Tout", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
                        .addType(DataType.DT_FLOAT)).build())
                .putAttr("f", AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName(WRAPPED)).build());
        NodeDef identity = NodeDefs.op("Identity", "Identity", "StatefulPartitionedCall:output:0")
                .putAttr("T", NodeDefs.type(DataType.DT_FLOAT)).build();
        return FunctionDef.newBuilder().setSignature(sig).addNodeDef(call).addNodeDef(identity)
                .putRet(wrapped.getOutputArg(0).getName(), "Identity:output:0").build();
    }

    /** A top-level call of the wrapper: the input placeholder, then the variable handles in argument order. */
    private static NodeDef call(String name, String function, String input, OpDef signature) {
        NodeDef.Builder b = NodeDefs.op(name, "StatefulPartitionedCall");
        AttrValue.ListValue.Builder tin = AttrValue.ListValue.newBuilder();
        for (OpDef.ArgDef a : signature.getInputArgList()) {
            tin.addType(a.getType());
            b.addInput(a.getType() == DataType.DT_RESOURCE ? variableOf(a.getName()) : input);
        }
        return b.putAttr("Tin", AttrValue.newBuilder().setList(tin).build())
                .putAttr("Tout", AttrValue.newBuilder().setList(AttrValue.ListValue.newBuilder()
                        .addType(DataType.DT_FLOAT)).build())
                .putAttr("f", AttrValue.newBuilder().setFunc(NameAttrList.newBuilder().setName(function)).build())
                .build();
    }

    private static String variableOf(String arg) {
        String v = arg.substring("sequential_".length(), arg.length() - "_resource".length());
        for (String layer : List.of("batch_normalization", "dense_1", "dense", "conv2d")) {
            if (v.startsWith(layer + "_")) {
                return layer + "/" + v.substring(layer.length() + 1);
            }
        }
        throw new IllegalArgumentException(arg);
    }

    /** TF1-style saver nodes ({@code save/filename}, {@code save/control_dependency}, {@code save/restore_all}). */
    private void addSaver(Graph g, Ops top) {
        Ops tf = top.withSubScope("save");
        Operand<TString> file = tf.withName("filename").placeholder(TString.class);
        String[] names = shapes.keySet().toArray(new String[0]);
        String[] slices = new String[names.length];
        java.util.Arrays.fill(slices, "");
        List<Operand<?>> reads = new ArrayList<>();
        List<Class<? extends TType>> types = new ArrayList<>();
        for (String n : names) {
            reads.add(tf.readVariableOp(g.output(n), TFloat32.class));
            types.add(TFloat32.class);
        }
        Operand<TString> tensorNames = tf.constant(org.tensorflow.ndarray.StdArrays.ndCopyOf(names));
        Operand<TString> shapeAndSlices = tf.constant(org.tensorflow.ndarray.StdArrays.ndCopyOf(slices));
        var save = tf.train.save(file, tensorNames, shapeAndSlices, reads);
        tf.withControlDependencies(List.of(save)).withName("control_dependency").identity(file);
        var restore = tf.train.restore(file, tensorNames, shapeAndSlices, types);
        List<org.tensorflow.op.Op> assigns = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            assigns.add(tf.assignVariableOp(g.output(names[i]), restore.tensors().get(i)));
        }
        tf.withControlDependencies(assigns).withName("restore_all").noOp();
    }
}
