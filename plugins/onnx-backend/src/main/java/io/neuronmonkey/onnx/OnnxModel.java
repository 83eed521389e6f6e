package io.neuronmonkey.onnx;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;
import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.Suggestions;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.onnx.proto.Onnx.NodeProto;
import io.neuronmonkey.onnx.proto.Onnx.TensorProto;
import io.neuronmonkey.onnx.proto.Onnx.ValueInfoProto;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * An ONNX model ready to capture layers and intervene on them. Every run uses a session of a rewritten copy of the
 * model whose graph outputs are exactly the requested values (channels-first values transposed to channels last by
 * an added {@code Transpose}); intervened values get {@code Mul}/{@code Add} nodes fed the per-row scale and shift.
 * Runs without interventions use the capture session alone, so they compute exactly what the model computes.
 * Batches are split into runs of at most {@code chunk} rows (exactly the model's fixed batch size, padded, when the
 * file fixes one). Thread-safe: ONNX Runtime sessions run concurrently.
 */
final class OnnxModel implements LoadedModel {

    /** Input names that are, by the convention of exported language models, features and not the primary input. */
    static final Set<String> FEATURE_NAMES = Set.of("attention_mask", "token_type_ids", "position_ids");

    /** Values made outputs of one probe run: bounds the probe's memory for models with thousands of values. */
    static final int PROBE_GROUP = 256;

    /** What gradient methods are told: ONNX Runtime's inference API has no automatic differentiation. */
    static final String NO_GRADIENTS = "ONNX Runtime's Java API computes no gradients, so gradient methods"
            + " (integrated-gradients, saliency, neuron-conductance, ...) cannot run on the onnx backend; the"
            + " gradient-free methods work through interventions: occlusion, ablation, activation-patching, steering";

    /** One capturable value: the layer as analyzers see it, its rank with the batch, and its layout. */
    private record Value(LayerInfo info, int rank, boolean channelsFirst, boolean graphInput) {
    }

    /**
     * One model input.
     *
     * @param onnxType the ONNX element type
     * @param dims     the model's dimensions with the batch: -1 where any size is accepted
     * @param model    one example's shape in the model's layout (the shapes param filling open dimensions)
     * @param example  one example's shape as fed (channels last when the backend transposes the input)
     */
    private record Input(String name, int onnxType, long[] dims, int[] model, int[] example, ModelInput api) {
    }

    private final OrtEnvironment env;
    private final OnnxGraph graph;
    private final OnnxBackend.Preprocess preprocess;
    private final List<LayerInfo> layers;
    private final Map<String, Value> values;
    private final List<Input> inputs;
    private final List<ModelInput> modelInputs;
    private final Input primary;
    private final String fedLayout;
    private final int fixedBatch;
    private final int chunk;
    private final String logits;
    private final String description;
    private final Path file;
    private final Sessions sessions;
    private volatile String fingerprint;
    private volatile boolean closed;

    private OnnxModel(OrtEnvironment env, OnnxGraph graph, OnnxBackend.Params params, List<Input> inputs, Input primary,
                      String fedLayout, int fixedBatch, Map<String, Value> values, String logits, Path file,
                      Sessions sessions) {
        this.env = env;
        this.graph = graph;
        this.preprocess = params.preprocess();
        this.inputs = inputs;
        this.modelInputs = inputs.stream().map(Input::api).toList();
        this.primary = primary;
        this.fedLayout = fedLayout;
        this.fixedBatch = fixedBatch;
        this.chunk = fixedBatch > 0 ? fixedBatch : params.chunk();
        this.values = values;
        this.layers = values.values().stream().map(Value::info).toList();
        this.logits = logits;
        this.file = file;
        this.sessions = sessions;
        LayerInfo last = layers.stream().filter(l -> l.role() == LayerInfo.Role.OUTPUT).findFirst()
                .orElse(values.get(logits).info());
        String producer = graph.model.getProducerName().isEmpty() ? ""
                : graph.model.getProducerName() + " " + graph.model.getProducerVersion() + ", ";
        this.description = "ONNX model " + file + " (" + producer + graph.opsets() + ", IR " + graph.model.getIrVersion()
                + "): " + inputs.stream().map(i -> i.api().toString()).collect(Collectors.joining(", "))
                + (fedLayout != null ? " (fed channels last, transposed to NCHW)" : "")
                + (preprocess.changesValues() ? " (" + String.join(", ", steps(preprocess)) + ")" : "")
                + " -> " + last.name() + " " + Arrays.toString(last.shape())
                + (fixedBatch > 0 ? ", fixed batch " + fixedBatch : "");
    }

    private static List<String> steps(OnnxBackend.Preprocess p) {
        List<String> s = new ArrayList<>();
        if (p.scale() != 1.0 || p.shift() != 0.0) {
            s.add("x * " + p.scale() + " + " + p.shift());
        }
        if (p.mean() != null) {
            s.add("- mean " + p.mean());
        }
        if (p.std() != null) {
            s.add("/ std " + p.std());
        }
        return s;
    }

    /**
     * Reads the file, chooses the inputs and logits, and probes every value's type and shape with one run.
     *
     * @param file   the .onnx file
     * @param params the backend params
     * @return the model
     */
    static OnnxModel load(Path file, OnnxBackend.Params params) {
        OnnxGraph graph = OnnxGraph.read(file);
        String where = graph.where;
        OrtEnvironment env = OrtEnvironment.getEnvironment(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR, "neuronmonkey");
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        Sessions sessions = null;
        try {
            options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
            options.setOptimizationLevel(switch (params.optimization()) {
                case NONE -> OrtSession.SessionOptions.OptLevel.NO_OPT;
                case BASIC -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
                case EXTENDED -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
                case ALL -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
            });
            if (params.threads() > 0) {
                options.setIntraOpNumThreads(params.threads());
            }
            sessions = new Sessions(env, options, params.sessions(), where);
            return build(env, graph, params, file, sessions);
        } catch (OrtException e) {
            close(sessions, options);
            throw new ModelException(where + ": ONNX Runtime cannot load it: " + e.getMessage(), e);
        } catch (RuntimeException e) {
            close(sessions, options);
            throw e;
        }
    }

    private static void close(Sessions sessions, OrtSession.SessionOptions options) {
        if (sessions != null) {
            sessions.close();
        } else {
            options.close();
        }
    }

    private static OnnxModel build(OrtEnvironment env, OnnxGraph graph, OnnxBackend.Params params, Path file,
                                   Sessions sessions) throws OrtException {
        String where = graph.where;
        for (String named : params.shapes().keySet()) {
            if (graph.inputs.stream().noneMatch(i -> i.getName().equals(named))) {
                throw new ModelException(where + ": model param shapes names input '" + named + "', which the model"
                        + " does not have; inputs: " + graph.inputs.stream().map(ValueInfoProto::getName).toList());
            }
        }
        String primaryName = choosePrimary(graph, params.input(), where);
        ValueInfoProto primaryInfo = graph.inputs.stream().filter(i -> i.getName().equals(primaryName)).findFirst()
                .orElseThrow();
        long[] primaryDims = OnnxGraph.declaredDims(primaryInfo);
        boolean firstInput = primaryDims != null && primaryDims.length >= 3
                && OnnxGraph.elemType(primaryInfo) == TensorProto.DataType.FLOAT_VALUE
                && graph.feedsChannelsFirstOp(primaryName);
        boolean transpose = primaryDims != null && primaryDims.length >= 3
                && OnnxGraph.elemType(primaryInfo) == TensorProto.DataType.FLOAT_VALUE
                && (params.preprocess().layout() == OnnxBackend.Layout.NCHW
                || params.preprocess().layout() == OnnxBackend.Layout.AUTO && firstInput);
        if (params.preprocess().layout() == OnnxBackend.Layout.NCHW && !transpose) {
            throw new ModelException(where + ": preprocess.layout nchw needs a float input of rank 3 or more with"
                    + " the batch ([n, C, H, W]); '" + primaryName + "' is " + describe(primaryInfo));
        }
        // a symbolic dimension fixed for one input (e.g. 'sequence' of input_ids) is fixed for every input that has it
        Map<String, Integer> symbols = new HashMap<>();
        for (ValueInfoProto in : graph.inputs) {
            List<Integer> given = params.shapes().get(in.getName());
            long[] declared = OnnxGraph.declaredDims(in);
            if (given != null && declared != null && declared.length == given.size() + 1) {
                for (int d = 1; d < declared.length; d++) {
                    String symbol = OnnxGraph.dimName(in, d);
                    if (symbol != null) {
                        symbols.putIfAbsent(symbol, given.get(d - 1));
                    }
                }
            }
        }
        int fixed = 0;
        List<Input> inputs = new ArrayList<>();
        Input primary = null;
        for (ValueInfoProto in : graph.inputs) {
            Input input = input(in, in.getName().equals(primaryName), transpose && in.getName().equals(primaryName),
                    params.shapes().get(in.getName()), symbols, where);
            if (input.dims()[0] > 0) {
                if (fixed > 0 && fixed != input.dims()[0]) {
                    throw new ModelException(where + ": inputs fix different batch sizes (" + fixed + " and "
                            + input.dims()[0] + " for '" + in.getName() + "')");
                }
                fixed = Math.toIntExact(input.dims()[0]);
            }
            inputs.add(input);
            if (input.api().primary()) {
                primary = input;
            }
        }
        Input prim = primary;
        List<Double> stats = params.preprocess().mean() != null ? params.preprocess().mean() : params.preprocess().std();
        if (stats != null && prim.onnxType() == TensorProto.DataType.FLOAT_VALUE) {
            int channels = prim.example().length == 0 ? 1 : prim.example()[prim.example().length - 1];
            if (stats.size() != channels && stats.size() != 1) {
                throw new ModelException(where + ": preprocess." + (params.preprocess().mean() != null ? "mean" : "std")
                        + " has " + stats.size() + " values; the fed examples " + Arrays.toString(prim.example())
                        + " have " + channels + " channels (the last axis): give one value per channel");
            }
        }
        if ((params.preprocess().changesValues()) && prim.onnxType() != TensorProto.DataType.FLOAT_VALUE) {
            throw new ModelException(where + ": preprocessing (scale, shift, mean, std) applies to a float input;"
                    + " '" + prim.name() + "' takes " + typeName(prim.onnxType()));
        }

        // probe runs: every input-dependent value's type and shape, with a batch whose size marks the batch axis;
        // in groups, so that a large model never holds all its values at once
        int rows = fixed > 0 ? fixed : 2;
        Map<String, long[]> shapes = new HashMap<>();
        Map<String, Boolean> floats = new HashMap<>();
        List<String> candidates = graph.dependent;
        Map<String, OnnxTensor> feed = new LinkedHashMap<>();
        try (OrtSession.SessionOptions probeOptions = probeOptions()) {
            for (Input in : inputs) {
                feed.put(in.name(), probeTensor(env, in, rows));
            }
            for (int from = 0; from < candidates.size(); from += PROBE_GROUP) {
                List<String> group = candidates.subList(from, Math.min(candidates.size(), from + PROBE_GROUP));
                try (OrtSession probe = env.createSession(graph.probe(group), probeOptions);
                     OrtSession.Result r = probe.run(feed)) {
                    for (Map.Entry<String, OnnxValue> e : r) {
                        if (e.getValue() instanceof OnnxTensor t) {
                            shapes.put(e.getKey(), t.getInfo().getShape());
                            floats.put(e.getKey(), t.getInfo().type == OnnxJavaType.FLOAT);
                        }
                    }
                }
            }
        } catch (OrtException e) {
            throw new ModelException(where + ": ONNX Runtime cannot run it on a probe batch of " + rows
                    + " rows (inputs " + inputs.stream().map(i -> i.name() + " " + Arrays.toString(i.model()))
                    .toList() + "): " + e.getMessage(), e);
        } finally {
            feed.values().forEach(OnnxTensor::close);
        }
        shapes.put(prim.name(), prepend(rows, prim.model()));
        Set<String> first = graph.channelsFirst(shapes, firstInput ? prim.name() : null);
        for (Map.Entry<String, Integer> e : params.channelAxis().entrySet()) {
            long[] s = shapes.get(e.getKey());
            if (s == null || !graph.producer.containsKey(e.getKey()) && !e.getKey().equals(prim.name())) {
                List<String> near = Suggestions.near(e.getKey(), graph.dependent, 5);
                throw new ModelException(where + ": model param channelAxis names '" + e.getKey() + "', which is not"
                        + " a value the model computes from its inputs" + (near.isEmpty() ? "" : "; near: "
                        + String.join(", ", near)));
            }
            if (e.getValue() == 1 && s.length < 3) {
                throw new ModelException(where + ": model param channelAxis." + e.getKey() + " is 1, but the value"
                        + " has rank " + s.length + " with the batch; channels first needs [n, C, positions...]");
            }
            if (e.getValue() == 1) {
                first.add(e.getKey());
            } else {
                first.remove(e.getKey());
            }
        }

        Map<String, Value> values = new LinkedHashMap<>();
        if (prim.onnxType() == TensorProto.DataType.FLOAT_VALUE) {
            values.put(prim.name(), value(prim.name(), "Input", prim.name(), shapes.get(prim.name()), firstInput,
                    LayerInfo.Role.INPUT, true));
        }
        for (String v : candidates) {
            long[] s = shapes.get(v);
            if (s == null || !Boolean.TRUE.equals(floats.get(v)) || s.length == 0 || s[0] != rows) {
                continue;
            }
            NodeProto n = graph.producerOf(v);
            String op = n.getDomain().isEmpty() || n.getDomain().equals("ai.onnx") ? n.getOpType()
                    : n.getDomain() + "." + n.getOpType();
            values.put(v, value(v, op, n.getName().isEmpty() ? v : n.getName(), s, first.contains(v),
                    LayerInfo.Role.HIDDEN, false));
        }
        String logits = chooseLogits(graph, values, params.logits(), where);
        for (Map.Entry<String, Value> e : values.entrySet()) {
            LayerInfo.Role role = e.getKey().equals(logits) ? LayerInfo.Role.LOGITS
                    : graph.outputs.contains(e.getKey()) ? LayerInfo.Role.OUTPUT : e.getValue().info().role();
            LayerInfo i = e.getValue().info();
            if (role != i.role()) {
                e.setValue(new Value(new LayerInfo(i.name(), i.opType(), i.shape(), role, i.path(), i.channelAxis()),
                        e.getValue().rank(), e.getValue().channelsFirst(), e.getValue().graphInput()));
            }
        }
        return new OnnxModel(env, graph, params, inputs, prim, transpose ? prim.name() : null, fixed, values, logits,
                file, sessions);
    }

    private static OrtSession.SessionOptions probeOptions() throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR);
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
        return o;
    }

    private static Value value(String name, String op, String path, long[] dims, boolean channelsFirst,
                               LayerInfo.Role role, boolean graphInput) {
        int[] model = new int[dims.length - 1];
        for (int d = 1; d < dims.length; d++) {
            model[d - 1] = Math.toIntExact(dims[d]);
        }
        LayerInfo info;
        if (channelsFirst && model.length >= 2) {
            int[] last = new int[model.length];
            System.arraycopy(model, 1, last, 0, model.length - 1);
            last[model.length - 1] = model[0];
            info = new LayerInfo(name, op, last, role, path, 0);
        } else {
            info = new LayerInfo(name, op, model, role, path, model.length - 1);
        }
        return new Value(info, dims.length, channelsFirst && model.length >= 2, graphInput);
    }

    /** The primary input: the param, the only input, input_ids, or the one input that is not a known feature. */
    private static String choosePrimary(OnnxGraph graph, String param, String where) {
        List<String> names = graph.inputs.stream().map(ValueInfoProto::getName).toList();
        if (param != null) {
            if (!names.contains(param)) {
                throw new ModelException(where + ": model param input names '" + param + "', which the model does"
                        + " not take; inputs: " + names);
            }
            return param;
        }
        if (names.size() == 1) {
            return names.get(0);
        }
        if (names.contains("input_ids")) {
            return "input_ids";
        }
        List<String> others = names.stream().filter(n -> !FEATURE_NAMES.contains(n)).toList();
        if (others.size() == 1) {
            return others.get(0);
        }
        throw new ModelException(where + " takes " + names.size() + " inputs " + names + "; set model param 'input'"
                + " to the one the batch's primary tensor feeds (the others are fed the batch's named features)");
    }

    private static Input input(ValueInfoProto in, boolean primary, boolean transpose, List<Integer> given,
                               Map<String, Integer> symbols, String where) {
        int type = OnnxGraph.elemType(in);
        DType dtype = switch (type) {
            case TensorProto.DataType.FLOAT_VALUE -> DType.FLOAT32;
            case TensorProto.DataType.INT64_VALUE -> DType.INT64;
            case TensorProto.DataType.INT32_VALUE, TensorProto.DataType.BOOL_VALUE -> DType.INT32;
            case TensorProto.DataType.STRING_VALUE -> DType.STRING;
            default -> throw new ModelException(where + ": input '" + in.getName() + "' takes " + typeName(type)
                    + "; the onnx backend feeds float32, int64, int32, bool and string inputs");
        };
        long[] dims = OnnxGraph.declaredDims(in);
        if (dims == null) {
            if (given == null) {
                throw new ModelException(where + ": input '" + in.getName() + "' declares no shape; set model param"
                        + " shapes: {" + in.getName() + ": [...]} to one example's shape");
            }
            dims = new long[given.size() + 1];
            Arrays.fill(dims, -1);
        }
        if (dims.length == 0) {
            throw new ModelException(where + ": input '" + in.getName() + "' is a scalar; it needs a batch dimension");
        }
        int[] example = new int[dims.length - 1];
        if (given != null && given.size() != example.length) {
            throw new ModelException(where + ": model param shapes." + in.getName() + " has " + given.size()
                    + " dimensions; the input's example has " + example.length + " (" + describe(in) + ")");
        }
        for (int d = 1; d < dims.length; d++) {
            if (given != null) {
                if (dims[d] > 0 && dims[d] != given.get(d - 1)) {
                    throw new ModelException(where + ": model param shapes." + in.getName() + " is " + given
                            + ", but the model fixes dimension " + d + " to " + dims[d] + " (" + describe(in) + ")");
                }
                example[d - 1] = given.get(d - 1);
            } else if (dims[d] > 0) {
                example[d - 1] = Math.toIntExact(dims[d]);
            } else {
                String symbol = OnnxGraph.declaredDims(in) == null ? null : OnnxGraph.dimName(in, d);
                if (symbol != null && symbols.containsKey(symbol)) {
                    example[d - 1] = symbols.get(symbol);
                    continue;
                }
                throw new ModelException(where + ": input '" + in.getName() + "' leaves dimension " + d
                        + (symbol == null ? "" : " ('" + symbol + "')") + " open (" + describe(in) + "); set model"
                        + " param shapes: {" + in.getName() + ": [...]} to one example's shape, e.g. the text"
                        + " source's maxLength for a sequence");
            }
        }
        int[] open = new int[example.length];
        for (int d = 0; d < example.length; d++) {
            open[d] = dims[d + 1] > 0 ? example[d] : -1;
        }
        int[] fed = transpose ? Layouts.firstToLast(example) : example;
        int[] apiShape = transpose ? Layouts.firstToLast(open) : open;
        return new Input(in.getName(), type, dims, example, fed, new ModelInput(in.getName(), dtype, apiShape, primary));
    }

    private static String chooseLogits(OnnxGraph graph, Map<String, Value> values, String param, String where) {
        if (param != null) {
            if (!values.containsKey(param)) {
                List<String> near = Suggestions.near(param, values.keySet(), 5);
                throw new ModelException(where + ": model param logits names '" + param + "', which is not a float"
                        + " value with a batch axis" + (near.isEmpty() ? "" : "; near: " + String.join(", ", near)));
            }
            return param;
        }
        List<String> outs = graph.graph.getOutputList().stream().map(ValueInfoProto::getName).toList();
        for (String o : outs) {
            NodeProto n = graph.producerOf(o);
            if (n != null && OnnxGraph.SOFTMAXES.contains(n.getOpType()) && values.containsKey(n.getInput(0))) {
                return n.getInput(0);
            }
        }
        if (values.containsKey("logits")) {
            return "logits";
        }
        for (String o : outs) {
            if (values.containsKey(o)) {
                return o;
            }
        }
        throw new ModelException(where + ": none of its outputs " + outs + " is a float value with a batch axis;"
                + " set model param logits to the pre-softmax value");
    }

    private static OnnxTensor probeTensor(OrtEnvironment env, Input in, int rows) throws OrtException {
        long[] shape = prepend(rows, in.model());
        int size = 1;
        for (long d : shape) {
            size = Math.multiplyExact(size, Math.toIntExact(d));
        }
        return switch (in.onnxType()) {
            case TensorProto.DataType.FLOAT_VALUE -> OnnxTensor.createTensor(env, FloatBuffer.wrap(new float[size]), shape);
            case TensorProto.DataType.INT64_VALUE -> {
                long[] ones = new long[size];
                Arrays.fill(ones, 1L);
                yield OnnxTensor.createTensor(env, LongBuffer.wrap(ones), shape);
            }
            case TensorProto.DataType.INT32_VALUE -> {
                int[] ones = new int[size];
                Arrays.fill(ones, 1);
                yield OnnxTensor.createTensor(env, IntBuffer.wrap(ones), shape);
            }
            case TensorProto.DataType.BOOL_VALUE -> {
                ByteBuffer b = ByteBuffer.allocateDirect(size);
                for (int i = 0; i < size; i++) {
                    b.put(i, (byte) 1);
                }
                yield OnnxTensor.createTensor(env, b, shape, OnnxJavaType.BOOL);
            }
            default -> {
                String[] empty = new String[size];
                Arrays.fill(empty, "");
                yield OnnxTensor.createTensor(env, empty, shape);
            }
        };
    }

    static long[] prepend(long first, int[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        for (int i = 0; i < rest.length; i++) {
            out[i + 1] = rest[i];
        }
        return out;
    }

    private static String describe(ValueInfoProto in) {
        long[] d = OnnxGraph.declaredDims(in);
        return typeName(OnnxGraph.elemType(in)) + " " + (d == null ? "of unknown shape" : Arrays.toString(d));
    }

    static String typeName(int onnxType) {
        TensorProto.DataType t = TensorProto.DataType.forNumber(onnxType);
        return t == null ? "element type " + onnxType : t.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public List<LayerInfo> layers() {
        return layers;
    }

    @Override
    public Optional<LayerInfo> layer(String name) {
        Value v = values.get(name);
        return v == null ? Optional.empty() : Optional.of(v.info());
    }

    @Override
    public int[] inputShape() {
        return primary.example().clone();
    }

    @Override
    public List<ModelInput> inputs() {
        return modelInputs;
    }

    @Override
    public Optional<String> inputAdvice(int[] exampleShape) {
        int[] expected = primary.example();
        if (exampleShape.length != expected.length || exampleShape.length < 2) {
            return Optional.empty();
        }
        if (fedLayout != null && Arrays.equals(Layouts.firstToLast(exampleShape), expected)) {
            return Optional.of("the data deliver channels first; set model param preprocess.layout: nhwc to feed"
                    + " them untransposed");
        }
        if (fedLayout == null && Arrays.equals(exampleShape, Layouts.firstToLast(expected))) {
            return Optional.of("the model takes channels first; set model param preprocess.layout: nchw to"
                    + " transpose the channels-last data");
        }
        return Optional.empty();
    }

    @Override
    public String logitsLayer() {
        return logits;
    }

    @Override
    public boolean supportsInterventions() {
        return true;
    }

    @Override
    public boolean supportsGradients() {
        return false;
    }

    @Override
    public Tensor gradient(Tensor inputs, GradientTarget target, String wrt) {
        throw new ModelException(description + ": " + NO_GRADIENTS);
    }

    @Override
    public Tensor gradient(Tensor inputs, GradientTarget target, String wrt, List<Intervention> interventions) {
        throw new ModelException(description + ": " + NO_GRADIENTS);
    }

    @Override
    public Tensor gradient(ModelInputs inputs, GradientTarget target, String wrt, List<Intervention> interventions) {
        throw new ModelException(description + ": " + NO_GRADIENTS);
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public String fingerprint() {
        String f = fingerprint;
        if (f == null) {
            f = sha256(file);
            fingerprint = f;
        }
        return f;
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
            return java.util.HexFormat.of().formatHex(md.digest());
        } catch (IOException e) {
            throw new ModelException("cannot read " + file + " for its fingerprint: " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }

    @Override
    public Map<String, Tensor> run(Tensor inputs, Collection<String> names) {
        return run(ModelInputs.of(inputs), names, List.of());
    }

    @Override
    public Map<String, Tensor> run(Tensor inputs, Collection<String> names, List<Intervention> interventions) {
        return run(ModelInputs.of(inputs), names, interventions);
    }

    @Override
    public Map<String, Tensor> run(ModelInputs batch, Collection<String> names, List<Intervention> interventions) {
        List<String> wanted = new ArrayList<>(new LinkedHashSet<>(names));
        Map<String, OnnxGraph.Capture> captures = new TreeMap<>();
        Map<String, String> valueOf = new LinkedHashMap<>();
        for (String name : wanted) {
            Value v = resolve(name);
            valueOf.put(name, v.info().name());
            captures.put(v.info().name(), new OnnxGraph.Capture(v.rank(), v.channelsFirst()));
        }
        Map<String, Tensor> feeds = feeds(batch);
        int n = batch.rows();
        Map<String, Splice> splices = splices(interventions, n);
        if (wanted.isEmpty()) {
            return Map.of();
        }
        if (n == 0) {
            Map<String, Tensor> empty = new LinkedHashMap<>();
            for (String name : wanted) {
                int[] shape = resolve(name).info().shape();
                empty.put(name, Tensor.ofFloats(new float[0], Layouts.prepend(0, shape)));
            }
            return empty;
        }
        Map<String, Integer> spliceRanks = new TreeMap<>();
        splices.forEach((k, s) -> spliceRanks.put(k, values.get(k).rank()));
        OnnxGraph.Plan plan = new OnnxGraph.Plan(fedLayout, primary.dims().length, captures, spliceRanks);
        String key = "captures " + captures.keySet() + (spliceRanks.isEmpty() ? "" : " intervened " + spliceRanks.keySet());
        Map<String, float[]> out = new LinkedHashMap<>();
        Map<String, int[]> shapes = new LinkedHashMap<>();
        try (Sessions.Lease lease = sessions.acquire(key, () -> graph.rewrite(plan))) {
            Set<String> fetch = new LinkedHashSet<>();
            captures.forEach((name, c) -> fetch.add(graph.outputName(name, c)));
            for (int from = 0; from < n; from += chunk) {
                int m = Math.min(chunk, n - from);
                int rows = fixedBatch > 0 ? fixedBatch : m;
                Map<String, OnnxTensor> fed = new LinkedHashMap<>();
                try {
                    for (Input in : inputs) {
                        fed.put(in == primary && fedLayout != null ? OnnxGraph.fedName(in.name()) : in.name(),
                                tensor(in, feeds.get(in.name()), from, m, rows));
                    }
                    for (Map.Entry<String, Splice> e : splices.entrySet()) {
                        Splice s = e.getValue();
                        fed.put(OnnxGraph.scaleName(e.getKey()), floats(s.scale(), from, m, rows, s.perRow(), 1f,
                                prepend(rows, s.shape())));
                        fed.put(OnnxGraph.shiftName(e.getKey()), floats(s.shift(), from, m, rows, s.perRow(), -0f,
                                prepend(rows, s.shape())));
                    }
                    try (OrtSession.Result r = lease.session.run(fed, fetch)) {
                        for (Map.Entry<String, OnnxGraph.Capture> e : captures.entrySet()) {
                            String name = e.getKey();
                            OnnxTensor t = (OnnxTensor) r.get(graph.outputName(name, e.getValue())).orElseThrow();
                            collect(name, t, from, m, n, out, shapes);
                        }
                    }
                } catch (OrtException e) {
                    throw new ModelException("running " + description + " for layers " + wanted + " failed: "
                            + e.getMessage(), e);
                } finally {
                    fed.values().forEach(OnnxTensor::close);
                }
            }
        }
        Map<String, Tensor> result = new LinkedHashMap<>();
        for (String name : wanted) {
            String value = valueOf.get(name);
            result.put(name, Tensor.ofFloats(out.get(value), shapes.get(value)));
        }
        return result;
    }

    /** Copies the first {@code m} rows of a run's output into the batch's array, in bulk. */
    private void collect(String name, OnnxTensor t, int from, int m, int n, Map<String, float[]> out,
                         Map<String, int[]> shapes) {
        long[] dims = t.getInfo().getShape();
        if (t.getInfo().type != OnnxJavaType.FLOAT) {
            throw new ModelException("layer '" + name + "' of " + description + " is " + t.getInfo().type
                    + ", not float");
        }
        long per = 1;
        for (int d = 1; d < dims.length; d++) {
            per *= dims[d];
        }
        int[] shape = shapes.get(name);
        if (shape == null) {
            if ((long) n * per > Integer.MAX_VALUE - 8) {
                throw new ModelException("layer '" + name + "' for " + n + " rows has " + (long) n * per
                        + " values, more than one array holds: use smaller batches");
            }
            shape = new int[dims.length];
            shape[0] = n;
            for (int d = 1; d < dims.length; d++) {
                shape[d] = Math.toIntExact(dims[d]);
            }
            shapes.put(name, shape);
            out.put(name, new float[Math.toIntExact(n * per)]);
        }
        int rowSize = n == 0 ? 0 : out.get(name).length / n;
        if (dims.length == 0 || per != rowSize || dims[0] < m) {
            throw new ModelException("layer '" + name + "' of " + description + ": a run returned shape "
                    + Arrays.toString(dims) + ", expected " + m + " rows of " + rowSize + " values");
        }
        t.getFloatBuffer().get(out.get(name), from * rowSize, m * rowSize);
    }

    private Value resolve(String name) {
        Value v = values.get(name);
        if (v != null) {
            return v;
        }
        for (Value l : values.values()) {
            if (l.info().path().equals(name)) {
                return l;
            }
        }
        List<String> near = Suggestions.near(name, values.keySet(), 5);
        throw new ModelException("unknown layer '" + name + "' in " + description
                + (near.isEmpty() ? "" : "; did you mean " + String.join(", ", near) + "?")
                + " Layers: " + (values.size() <= 40 ? String.join(", ", values.keySet())
                : values.size() + " ('neuronmonkey inspect' lists them)"));
    }

    /** Matches the batch's tensors to the model's inputs, checking dtype and shape, naming both sides on a mismatch. */
    private Map<String, Tensor> feeds(ModelInputs batch) {
        Map<String, Tensor> out = new HashMap<>();
        for (Input in : inputs) {
            Tensor t = in.api().primary() ? batch.primary() : batch.named().get(in.name());
            if (t == null) {
                throw new ModelException(description + ": model input '" + in.name() + "' (" + in.api().dtype() + " "
                        + shapeText(in.api().shape()) + ") is not fed: the batch has the primary tensor "
                        + batch.primary().dtype() + " " + Arrays.toString(batch.primary().shape())
                        + (batch.named().isEmpty() ? " and no named inputs" : " and named inputs "
                        + new TreeSet<>(batch.named().keySet())) + "; a data source with that feature, or a model"
                        + " without that input, fits");
            }
            checkShape(in, t);
            if (in.api().primary() && in.onnxType() == TensorProto.DataType.FLOAT_VALUE && preprocess.changesValues()) {
                t = preprocessed(t);
            }
            out.put(in.name(), t);
        }
        return out;
    }

    private void checkShape(Input in, Tensor t) {
        boolean typeOk = switch (in.onnxType()) {
            case TensorProto.DataType.FLOAT_VALUE -> t.dtype() == DType.FLOAT32;
            case TensorProto.DataType.STRING_VALUE -> t.dtype() == DType.STRING;
            default -> t.dtype() == DType.INT32 || t.dtype() == DType.INT64;
        };
        int[] s = t.shape();
        int[] expected = in.api().shape();
        boolean shapeOk = s.length == expected.length + 1;
        for (int d = 0; shapeOk && d < expected.length; d++) {
            shapeOk = expected[d] < 0 || s[d + 1] == expected[d];
        }
        if (!typeOk || !shapeOk) {
            int[] example = s.length == 0 ? s : Arrays.copyOfRange(s, 1, s.length);
            throw new ModelException("model input '" + in.name() + "' of " + description + " takes "
                    + in.api().dtype() + " [n, " + Arrays.stream(expected).mapToObj(d -> d < 0 ? "any" : String.valueOf(d))
                    .collect(Collectors.joining(", ")) + "]; the batch's " + (in.api().primary() ? "primary tensor"
                    : "input '" + in.name() + "'") + " is " + t.dtype() + " " + Arrays.toString(s)
                    + (in.api().primary() ? inputAdvice(example).map(a -> "; " + a).orElse("") : ""));
        }
    }

    /** {@code (x * scale + shift - mean[c]) / std[c]}, channels the last axis of the fed example. */
    private Tensor preprocessed(Tensor t) {
        float[] x = t.floats();
        float[] y = new float[x.length];
        int channels = t.rank() <= 1 ? 1 : t.dim(t.rank() - 1);
        float scale = (float) preprocess.scale();
        float shift = (float) preprocess.shift();
        float[] mean = new float[channels];
        float[] std = new float[channels];
        for (int c = 0; c < channels; c++) {
            List<Double> m = preprocess.mean();
            List<Double> s = preprocess.std();
            mean[c] = m == null ? 0f : (float) (double) m.get(m.size() == 1 ? 0 : c);
            std[c] = s == null ? 1f : (float) (double) s.get(s.size() == 1 ? 0 : c);
        }
        for (int i = 0; i < x.length; i++) {
            int c = i % channels;
            y[i] = (x[i] * scale + shift - mean[c]) / std[c];
        }
        return Tensor.ofFloats(y, t.shape());
    }

    /**
     * The scale and shift of one intervened value, in the model's layout: per row and channel (shaped to broadcast
     * over the positions) or, with a patch among the interventions, per row, position and channel.
     */
    private record Splice(float[] scale, float[] shift, int[] shape, int perRow) {
    }

    private Map<String, Splice> splices(List<Intervention> interventions, int n) {
        Map<String, List<Intervention>> byLayer = new LinkedHashMap<>();
        for (Intervention iv : interventions) {
            Value v = values.get(iv.layer());
            if (v == null) {
                resolve(iv.layer());
                v = values.values().stream().filter(l -> l.info().path().equals(iv.layer())).findFirst().orElseThrow();
                throw new ModelException("cannot intervene on '" + iv.layer() + "': name the layer as "
                        + "'" + v.info().name() + "'");
            }
            if (v.graphInput()) {
                throw new ModelException("cannot intervene on '" + iv.layer() + "' in " + description + ": it is the"
                        + " model input; interventions apply to node outputs (the other layers), and the input is"
                        + " changed by changing the data (occlusion does so)");
            }
            if (iv.vector() != null && iv.vector().length != v.info().neurons()) {
                throw new ModelException("steering vector for '" + iv.layer() + "' has " + iv.vector().length
                        + " entries, the layer has " + v.info().neurons() + " neurons");
            }
            if (iv.kind() == Intervention.Kind.PATCH) {
                int rows = iv.rows() == null ? n : iv.rows().length;
                int[] expected = new int[v.info().shape().length + 1];
                expected[0] = rows;
                System.arraycopy(v.info().shape(), 0, expected, 1, expected.length - 1);
                if (!Arrays.equals(iv.patch().shape(), expected) || iv.patch().dtype() != DType.FLOAT32) {
                    throw new ModelException("patch of '" + iv.layer() + "' must be FLOAT32 " + Arrays.toString(expected)
                            + " (" + (iv.rows() == null ? "one row per batch row" : "one row per listed row")
                            + ", the layer channels last), found " + iv.patch().dtype() + " "
                            + Arrays.toString(iv.patch().shape()));
                }
            }
            byLayer.computeIfAbsent(v.info().name(), k -> new ArrayList<>()).add(iv);
        }
        Map<String, Splice> out = new TreeMap<>();
        byLayer.forEach((layer, ivs) -> {
            LayerInfo info = values.get(layer).info();
            boolean full = ivs.stream().anyMatch(iv -> iv.kind() == Intervention.Kind.PATCH);
            int neurons = info.neurons();
            int positions = full ? info.positions() : 1;
            float[] scale = new float[n * positions * neurons];
            Arrays.fill(scale, 1f);
            float[] shift = new float[scale.length];
            Arrays.fill(shift, -0f);
            for (Intervention iv : ivs) {
                try {
                    iv.applyToPositions(scale, shift, n, positions, neurons);
                } catch (IllegalArgumentException e) {
                    throw new ModelException("intervention " + iv + ": " + e.getMessage(), e);
                }
            }
            int[] model = info.modelShape();
            int[] shape;
            if (full) {
                shape = model;
                if (!info.channelsLast()) {
                    scale = Layouts.toModelLayout(scale, n, info);
                    shift = Layouts.toModelLayout(shift, n, info);
                }
            } else {
                shape = new int[model.length];
                Arrays.fill(shape, 1);
                if (model.length > 0) {
                    shape[info.channelAxis()] = neurons;
                }
            }
            out.put(layer, new Splice(scale, shift, shape, scale.length / Math.max(n, 1)));
        });
        return out;
    }

    /** Rows {@code [from, from + m)} of one fed tensor as the model input's type, padded to {@code rows}. */
    private OnnxTensor tensor(Input in, Tensor t, int from, int m, int rows) throws OrtException {
        int per = t.rowSize();
        long[] shape = Arrays.stream(t.shape()).asLongStream().toArray();
        shape[0] = rows;
        int total = rows * per;
        switch (in.onnxType()) {
            case TensorProto.DataType.FLOAT_VALUE -> {
                return floats(t.floats(), from, m, rows, per, 0f, shape);
            }
            case TensorProto.DataType.INT64_VALUE -> {
                if (t.dtype() == DType.INT64 && rows == m) {
                    return OnnxTensor.createTensor(env, LongBuffer.wrap(t.longs(), from * per, m * per).slice(), shape);
                }
                long[] v = new long[total];
                if (t.dtype() == DType.INT64) {
                    System.arraycopy(t.longs(), from * per, v, 0, m * per);
                } else {
                    int[] src = t.ints();
                    for (int i = 0, j = from * per; i < m * per; i++, j++) {
                        v[i] = src[j];
                    }
                }
                return OnnxTensor.createTensor(env, LongBuffer.wrap(v), shape);
            }
            case TensorProto.DataType.INT32_VALUE -> {
                if (t.dtype() == DType.INT32 && rows == m) {
                    return OnnxTensor.createTensor(env, IntBuffer.wrap(t.ints(), from * per, m * per).slice(), shape);
                }
                int[] v = new int[total];
                if (t.dtype() == DType.INT32) {
                    System.arraycopy(t.ints(), from * per, v, 0, m * per);
                } else {
                    long[] src = t.longs();
                    for (int i = 0, j = from * per; i < m * per; i++, j++) {
                        v[i] = Math.toIntExact(src[j]);
                    }
                }
                return OnnxTensor.createTensor(env, IntBuffer.wrap(v), shape);
            }
            case TensorProto.DataType.BOOL_VALUE -> {
                ByteBuffer b = ByteBuffer.allocateDirect(total);
                for (int i = 0, j = from * per; i < m * per; i++, j++) {
                    boolean on = t.dtype() == DType.INT32 ? t.ints()[j] != 0 : t.longs()[j] != 0;
                    b.put(i, (byte) (on ? 1 : 0));
                }
                return OnnxTensor.createTensor(env, b, shape, OnnxJavaType.BOOL);
            }
            default -> {
                String[] v = new String[total];
                Arrays.fill(v, "");
                System.arraycopy(t.strings(), from * per, v, 0, m * per);
                return OnnxTensor.createTensor(env, v, shape);
            }
        }
    }

    private OnnxTensor floats(float[] data, int from, int m, int rows, int per, float pad, long[] shape)
            throws OrtException {
        if (rows == m) {
            return OnnxTensor.createTensor(env, FloatBuffer.wrap(data, from * per, m * per).slice(), shape);
        }
        float[] padded = new float[rows * per];
        Arrays.fill(padded, m * per, padded.length, pad);
        System.arraycopy(data, from * per, padded, 0, m * per);
        return OnnxTensor.createTensor(env, FloatBuffer.wrap(padded), shape);
    }

    private static String shapeText(int[] shape) {
        return Arrays.stream(shape).mapToObj(d -> d < 0 ? "any" : String.valueOf(d))
                .collect(Collectors.joining(", ", "[n, ", "]"));
    }

    /** @return sessions built so far, for tests of the session cache */
    int sessionsBuilt() {
        return sessions.created();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        sessions.close();
    }

    @Override
    public String toString() {
        return description;
    }
}
