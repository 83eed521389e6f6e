package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelBackend;
import io.neuronmonkey.api.model.ModelContext;
import org.pf4j.Extension;
import org.tensorflow.Graph;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.MetaGraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.SignatureDef;
import org.tensorflow.proto.TensorInfo;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Loads TensorFlow models through TensorFlow Java: a SavedModel directory (tag {@code serve}; TF1-style graphs such
 * as TensorFlow Java exports, and Keras/TF2 SavedModels, whose function calls are inlined so every layer is a graph
 * op) or a frozen GraphDef {@code .pb} file. The model is rewritten into an {@link AnalysisGraph}: preprocessing in
 * front of the input, an intervention splice after every listed layer; gradients are built on demand.
 */
@Extension
@ExtensionName(value = "tensorflow",
        description = "TensorFlow SavedModel directories and frozen GraphDef .pb files (TensorFlow Java, CPU)")
public class TensorFlowBackend implements ModelBackend<TensorFlowBackend.Params> {

    /** The SavedModel tag loaded. */
    static final String TAG = "serve";

    /**
     * How to read the model.
     *
     * @param signature  the SavedModel signature that names input and output
     * @param input      input placeholder ({@code op} or {@code op:index}) or signature input key; overrides the
     *                   signature's; required for .pb
     * @param output     output tensor or signature output key; overrides the signature's; required for .pb
     * @param logits     pre-softmax tensor; by default the input of a Softmax output, else the output itself
     * @param scale      preprocessing shorthand: the input batch is fed as {@code x * scale + shift}
     * @param shift      preprocessing offset, see {@code scale}
     * @param preprocess preprocessing applied in the graph in front of the model input
     * @param chunk      at most this many rows per TensorFlow run; larger batches are split (models with a fixed
     *                   batch dimension always run with exactly that many rows, padded)
     */
    public record Params(
            @Param(defaultValue = "serving_default", description = "SavedModel signature key naming input and output")
            String signature,
            @Param(description = "input placeholder op (or op:index, or signature input key); overrides the"
                    + " signature; required for .pb")
            String input,
            @Param(description = "output op (or op:index, or signature output key); overrides the signature;"
                    + " required for .pb")
            String output,
            @Param(description = "pre-softmax logits op; default: the input of a Softmax output, else the output")
            String logits,
            @Param(defaultValue = "1.0", description = "input preprocessing: x * scale + shift (or preprocess.scale)")
            double scale,
            @Param(defaultValue = "0.0", description = "input preprocessing offset, added after scaling")
            double shift,
            @Param(description = "input preprocessing in the graph: scale, shift, mean, std, layout, reshape")
            Preprocess preprocess,
            @Param(defaultValue = "256", description = "rows per TensorFlow run; larger batches are split")
            int chunk) {

        /** Validates every param at once; folds top-level scale/shift into {@link #preprocess}. */
        public Params {
            if (signature == null) {
                signature = Signature.DEFAULT_KEY;
            }
            boolean topLevel = scale != 1.0 || shift != 0.0;
            boolean nested = preprocess != null && (preprocess.scale() != 1.0 || preprocess.shift() != 0.0);
            Violations.check()
                    .require(!signature.isBlank(), "signature", "must not be blank")
                    .require(input == null || !input.isBlank(), "input", "must be an op name, found a blank string")
                    .require(output == null || !output.isBlank(), "output", "must be an op name, found a blank string")
                    .require(logits == null || !logits.isBlank(), "logits", "must be an op name, found a blank string")
                    .require(Double.isFinite(scale) && scale != 0, "scale", "must be finite and non-zero, found " + scale)
                    .require(Double.isFinite(shift), "shift", "must be finite, found " + shift)
                    .require(!(topLevel && nested), "preprocess", "sets scale/shift, and so do the top-level keys"
                            + " 'scale'/'shift': keep one of them")
                    .require(chunk >= 1, "chunk", "must be >= 1, found " + chunk)
                    .throwIfAny();
            if (preprocess == null) {
                preprocess = Preprocess.NONE;
            }
            if (topLevel) {
                preprocess = new Preprocess(scale, shift, preprocess.mean(), preprocess.std(), preprocess.layout(),
                        preprocess.reshape());
            }
        }

        /**
         * The parameters of earlier releases: no nested preprocessing, default chunk.
         *
         * @param signature signature key
         * @param input     input op or key, or null
         * @param output    output op or key, or null
         * @param logits    logits op, or null
         * @param scale     input scale
         * @param shift     input shift
         */
        public Params(String signature, String input, String output, String logits, double scale, double shift) {
            this(signature, input, output, logits, scale, shift, null, 256);
        }

        /** @return the defaults: signature serving_default, names from the signature, no preprocessing */
        public static Params defaults() {
            return new Params(Signature.DEFAULT_KEY, null, null, null, 1.0, 0.0);
        }
    }

    /** Data layout the model expects for images. */
    public enum Layout {
        /** Channels last, {@code [H, W, C]}: what NeuronMonkey's data sources deliver; nothing to do. */
        NHWC,
        /** Channels first, {@code [C, H, W]}: the backend transposes the fed {@code [H, W, C]} examples. */
        NCHW
    }

    /**
     * Input preprocessing, built as graph ops between the fed batch and the model's input, in this order:
     * {@code x * scale + shift}, then {@code (x - mean[c]) / std[c]} over the last axis of the fed data, then the
     * layout transpose, then a reshape to the model's input shape, then a cast to the model's input dtype (rounding
     * for integer inputs).
     *
     * @param scale   multiplies the fed values
     * @param shift   added after scaling
     * @param mean    per-channel mean subtracted (one per entry of the fed data's last axis), or null
     * @param std     per-channel standard deviation divided by (same length as the channels), or null
     * @param layout  the layout the model expects; the data is always fed channels last
     * @param reshape the shape of one example as fed (e.g. {@code [28, 28, 1]} for a model taking {@code [784]});
     *                null means the model's own input shape (after the layout change)
     */
    public record Preprocess(
            @Param(defaultValue = "1.0", description = "multiply the fed values by this")
            double scale,
            @Param(defaultValue = "0.0", description = "then add this")
            double shift,
            @Param(description = "then subtract this per channel (last axis of the fed data)")
            List<Double> mean,
            @Param(description = "then divide by this per channel")
            List<Double> std,
            @Param(defaultValue = "nhwc", description = "the layout the model expects: nhwc or nchw (data is fed"
                    + " channels last)")
            Layout layout,
            @Param(description = "shape of one example as fed, reshaped to the model input; default: the model's")
            List<Integer> reshape) {

        /** No preprocessing. */
        public static final Preprocess NONE = new Preprocess(1.0, 0.0, null, null, Layout.NHWC, null);

        /** Validates every field at once; copies the lists. */
        public Preprocess {
            layout = layout == null ? Layout.NHWC : layout;
            mean = mean == null ? null : List.copyOf(mean);
            std = std == null ? null : List.copyOf(std);
            reshape = reshape == null ? null : List.copyOf(reshape);
            Violations.check()
                    .require(Double.isFinite(scale) && scale != 0, "scale", "must be finite and non-zero, found " + scale)
                    .require(Double.isFinite(shift), "shift", "must be finite, found " + shift)
                    .require(mean == null || !mean.isEmpty() && mean.stream().allMatch(Double::isFinite), "mean",
                            "must be a non-empty list of finite numbers, found " + mean)
                    .require(std == null || !std.isEmpty() && std.stream().allMatch(d -> Double.isFinite(d) && d > 0),
                            "std", "must be a non-empty list of positive numbers, found " + std)
                    .require(mean == null || std == null || mean.size() == std.size(), "std",
                            "must have as many values as mean (" + (mean == null ? 0 : mean.size()) + "), found "
                                    + (std == null ? 0 : std.size()))
                    .require(reshape == null || !reshape.isEmpty() && reshape.stream().allMatch(d -> d >= 1),
                            "reshape", "must list positive dimensions of one example, e.g. [28, 28, 1], found "
                                    + reshape)
                    .throwIfAny();
        }

        /** @return true when the fed batch reaches the model unchanged (apart from a possible cast) */
        boolean identity() {
            return scale == 1.0 && shift == 0.0 && mean == null && std == null && layout == Layout.NHWC
                    && reshape == null;
        }
    }

    /** Creates the backend; models are loaded by {@link #load}. */
    public TensorFlowBackend() {
    }

    @Override
    public LoadedModel load(ModelContext<Params> ctx) {
        requireUnsafeAccess();
        NativeLogging.quiet();
        Path path = ctx.path().toAbsolutePath().normalize();
        Params params = ctx.params() == null ? Params.defaults() : ctx.params();
        if (!Files.exists(path)) {
            throw new ModelException("model path " + path + " does not exist");
        }
        if (Files.isDirectory(path)) {
            return loadSavedModel(path, params);
        }
        if (path.getFileName().toString().endsWith(".pb")) {
            return loadFrozen(path, params);
        }
        throw new ModelException("model path " + path + " is neither a SavedModel directory nor a frozen GraphDef"
                + " file ending in .pb");
    }

    private static LoadedModel loadSavedModel(Path dir, Params params) {
        if (!Files.isRegularFile(dir.resolve("saved_model.pb")) && !Files.isRegularFile(dir.resolve("saved_model.pbtxt"))) {
            throw new ModelException("model directory " + dir + " is not a SavedModel: it has no saved_model.pb");
        }
        SavedModelBundle bundle;
        try {
            bundle = SavedModelBundle.loader(dir.toString()).withTags(TAG).load();
        } catch (RuntimeException e) {
            throw new ModelException("cannot load SavedModel " + dir + " with tag '" + TAG + "': " + e.getMessage(), e);
        }
        try {
            MetaGraphDef meta = bundle.metaGraphDef();
            Map<String, SignatureDef> signatures = new TreeMap<>();
            meta.getSignatureDefMap().forEach((k, v) -> {
                if (!k.startsWith("__")) {
                    signatures.put(k, v);
                }
            });
            SignatureDef sig = signatures.get(params.signature());
            String key = params.signature();
            if (sig == null && signatures.size() == 1 && params.signature().equals(Signature.DEFAULT_KEY)) {
                key = signatures.keySet().iterator().next();
                sig = signatures.get(key);
            }
            if (sig == null && (params.input() == null || params.output() == null)) {
                throw new ModelException("SavedModel " + dir + " has no signature '" + params.signature()
                        + "'; available: " + (signatures.isEmpty() ? "none" : String.join(", ", signatures.keySet()))
                        + " (set model param 'signature', or 'input' and 'output')");
            }
            Map<String, TensorInfo> inputs = sig == null ? Map.of() : sig.getInputsMap();
            Map<String, TensorInfo> outputs = sig == null ? Map.of() : sig.getOutputsMap();
            String where = "SavedModel " + dir + (sig == null ? "" : " signature " + key);
            return build(bundle.graph(), bundle.session(), bundle, meta.getGraphDef(), inputs, outputs, params,
                    where, dir, "nm");
        } catch (RuntimeException e) {
            bundle.close();
            throw e;
        }
    }

    private static LoadedModel loadFrozen(Path file, Params params) {
        GraphDef def;
        try {
            def = GraphDef.parseFrom(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new ModelException("cannot read frozen GraphDef " + file + ": " + e.getMessage(), e);
        }
        String where = "frozen GraphDef " + file;
        if (params.input() == null || params.output() == null) {
            throw new ModelException(where + " has no signature: set model params 'input' and 'output' (missing: "
                    + (params.input() == null ? "input" : "")
                    + (params.input() == null && params.output() == null ? ", " : "")
                    + (params.output() == null ? "output" : "") + "); placeholders in the graph: "
                    + String.join(", ", NodeDefs.placeholders(def)) + "; unconsumed float ops: "
                    + String.join(", ", NodeDefs.floatSinks(def, 10)));
        }
        Graph g = new Graph();
        Session session = null;
        try {
            session = new Session(g);
            Session s = session;
            AutoCloseable owner = () -> {
                s.close();
                g.close();
            };
            return build(g, session, owner, def, Map.of(), Map.of(), params, where, file, "");
        } catch (RuntimeException e) {
            if (session != null) {
                session.close();
            }
            g.close();
            throw e;
        }
    }

    /**
     * Inlines the function calls the outputs depend on, chooses input, output and logits, and builds the
     * {@link AnalysisGraph} in {@code g}.
     */
    private static LoadedModel build(Graph g, Session session, AutoCloseable owner, GraphDef def,
                                     Map<String, TensorInfo> inputs, Map<String, TensorInfo> outputs, Params params,
                                     String where, Path path, String prefix) {
        List<String> targets = new ArrayList<>();
        outputs.values().forEach(t -> targets.add(t.getName()));
        Set<String> ops = def.getNodeList().stream().map(NodeDef::getName).collect(Collectors.toSet());
        for (String p : Arrays.asList(params.output(), params.logits())) {
            if (p != null && ops.contains(TensorRef.parse(p).op())) {
                targets.add(p);
            }
        }
        FunctionInliner.Result inlined = FunctionInliner.inline(def, targets);
        Names names = new Names(inlined, where);
        TensorRef input;
        String inputName;
        if (params.input() != null) {
            input = names.tensor(params.input(), inputs, "input");
            inputName = inputs.containsKey(params.input()) && inlined.calls() > 0 ? params.input() : input.layerName();
        } else if (inputs.size() == 1) {
            Map.Entry<String, TensorInfo> only = inputs.entrySet().iterator().next();
            input = names.tensor(only.getValue().getName(), Map.of(), "input");
            inputName = inlined.calls() > 0 ? only.getKey() : input.layerName();
        } else {
            throw new ModelException(where + " has " + inputs.size() + " inputs " + describe(inputs)
                    + "; set model param 'input' to one of them");
        }
        TensorRef output = params.output() != null ? names.tensor(params.output(), outputs, "output")
                : chooseOutput(names, outputs, where);
        TensorRef logits = params.logits() != null ? names.tensor(params.logits(), outputs, "logits")
                : outputs.containsKey("logits") ? names.tensor(outputs.get("logits").getName(), Map.of(), "logits")
                : null;
        if (output.equals(logits)) {
            logits = null;
        }
        AnalysisGraph analysis = AnalysisGraph.build(inlined.graph(), inlined, input, inputName, output, logits,
                params.preprocess(), g, prefix, where);
        LayerInfo last = analysis.layers.stream().filter(l -> l.role() == LayerInfo.Role.OUTPUT).findFirst()
                .orElseGet(() -> analysis.layers.stream().filter(l -> l.role() == LayerInfo.Role.LOGITS).findFirst()
                        .orElseThrow());
        String description = where + ": input " + inputName + " " + dims(analysis.inputShape) + " -> "
                + last.name() + " " + dims(last.shape())
                + (inlined.calls() > 0 ? " (" + inlined.calls() + " function calls inlined)" : "");
        Supplier<String> fingerprint = new Supplier<>() {
            private String value;

            @Override
            public synchronized String get() {
                if (value == null) {
                    value = ModelFiles.sha256(path);
                }
                return value;
            }
        };
        return new TensorFlowModel(g, session, owner, analysis, params.chunk(), description, fingerprint);
    }

    /** Several outputs: prefer the probabilities (a Softmax, or the key "probabilities"), else the one non-logits. */
    private static TensorRef chooseOutput(Names names, Map<String, TensorInfo> outputs, String where) {
        if (outputs.size() == 1) {
            return names.tensor(outputs.values().iterator().next().getName(), Map.of(), "output");
        }
        for (TensorInfo t : outputs.values()) {
            TensorRef ref = names.tensor(t.getName(), Map.of(), "output");
            if (names.isSoftmax(ref)) {
                return ref;
            }
        }
        if (outputs.containsKey("probabilities")) {
            return names.tensor(outputs.get("probabilities").getName(), Map.of(), "output");
        }
        List<String> others = outputs.keySet().stream().filter(k -> !k.equals("logits")).toList();
        if (others.size() == 1) {
            return names.tensor(outputs.get(others.get(0)).getName(), Map.of(), "output");
        }
        throw new ModelException(where + " has " + outputs.size() + " outputs " + describe(outputs)
                + "; set model param 'output' to one of them");
    }

    /** Resolves names users and signatures give (op, op:index, signature key, name inside a function). */
    private static final class Names {
        private final FunctionInliner.Result inlined;
        private final Map<String, NodeDef> nodes = new HashMap<>();
        private final Map<String, String> byLocal = new HashMap<>();
        private final String where;

        Names(FunctionInliner.Result inlined, String where) {
            this.inlined = inlined;
            this.where = where;
            inlined.graph().getNodeList().forEach(n -> nodes.put(n.getName(), n));
            inlined.localNames().forEach((full, local) -> byLocal.merge(local, full, (a, b) -> a));
        }

        TensorRef tensor(String value, Map<String, TensorInfo> keyed, String field) {
            TensorRef ref = TensorRef.parse(value);
            if (!nodes.containsKey(ref.op()) && keyed.containsKey(value)) {
                ref = TensorRef.parse(keyed.get(value).getName());
            }
            if (!nodes.containsKey(ref.op()) && byLocal.containsKey(ref.op())) {
                ref = new TensorRef(byLocal.get(ref.op()), ref.index());
            }
            if (!nodes.containsKey(ref.op())) {
                GraphDef def = inlined.graph();
                List<String> candidates = field.equals("input") ? NodeDefs.placeholders(def)
                        : NodeDefs.floatSinks(def, 10);
                throw new ModelException("model param '" + field + "' names op '" + ref.op() + "', which " + where
                        + " does not have; " + (field.equals("input") ? "placeholders: " : "unconsumed float ops: ")
                        + String.join(", ", candidates));
            }
            return TensorRef.parse(inlined.resolve(ref.layerName()));
        }

        boolean isSoftmax(TensorRef ref) {
            NodeDef n = nodes.get(ref.op());
            for (int hops = 0; n != null && hops < 16; hops++) {
                if (n.getOp().equals("Softmax")) {
                    return true;
                }
                if (!n.getOp().equals("Identity") || n.getInputCount() == 0) {
                    return false;
                }
                n = nodes.get(NodeDefs.opOf(n.getInput(0)));
            }
            return false;
        }
    }

    private static String describe(Map<String, TensorInfo> tensors) {
        return tensors.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().getName())
                .collect(Collectors.joining(", ", "[", "]"));
    }

    private static String dims(int[] shape) {
        return Arrays.stream(shape).mapToObj(String::valueOf).collect(Collectors.joining(",", "[", "]"));
    }

    /**
     * TensorFlow Java's ndarray reads tensor memory through {@code sun.misc.Unsafe}. When the JVM runs a named main
     * module without {@code jdk.unsupported} in the boot layer, ndarray silently falls back to a path that returned
     * wrong (zero) values in our measurements: refuse instead of computing garbage.
     */
    static void requireUnsafeAccess() {
        if (ModuleLayer.boot().findModule("jdk.unsupported").isEmpty()) {
            throw new ModelException("the TensorFlow backend needs the JDK module jdk.unsupported, which this JVM did not "
                    + "resolve; start the runtime with --add-modules ALL-DEFAULT (the neuronmonkey launcher does)");
        }
    }
}
