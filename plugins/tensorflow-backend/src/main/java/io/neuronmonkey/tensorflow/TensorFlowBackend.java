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

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * Loads TensorFlow models through TensorFlow Java: a SavedModel directory (tag {@code serve}, TF1-style graphs such
 * as TensorFlow Java exports) or a frozen GraphDef {@code .pb} file.
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
     * @param signature the SavedModel signature that names input and output
     * @param input     input placeholder ({@code op} or {@code op:index}); overrides the signature's; required for .pb
     * @param output    output tensor; overrides the signature's; required for .pb
     * @param logits    pre-softmax tensor; by default the input of a Softmax output, else the output itself
     * @param scale     preprocessing: the input batch is fed as {@code x * scale + shift}
     * @param shift     preprocessing offset, see {@code scale}
     */
    public record Params(
            @Param(defaultValue = "serving_default", description = "SavedModel signature key naming input and output")
            String signature,
            @Param(description = "input placeholder op (or op:index); overrides the signature; required for .pb")
            String input,
            @Param(description = "output op (or op:index); overrides the signature; required for .pb")
            String output,
            @Param(description = "pre-softmax logits op; default: the input of a Softmax output, else the output")
            String logits,
            @Param(defaultValue = "1.0", description = "input preprocessing: x * scale + shift")
            double scale,
            @Param(defaultValue = "0.0", description = "input preprocessing offset, added after scaling")
            double shift) {

        /** Validates every param at once. */
        public Params {
            if (signature == null) {
                signature = Signature.DEFAULT_KEY;
            }
            Violations.check()
                    .require(!signature.isBlank(), "signature", "must not be blank")
                    .require(input == null || !input.isBlank(), "input", "must be an op name, found a blank string")
                    .require(output == null || !output.isBlank(), "output", "must be an op name, found a blank string")
                    .require(logits == null || !logits.isBlank(), "logits", "must be an op name, found a blank string")
                    .require(Double.isFinite(scale) && scale != 0, "scale", "must be finite and non-zero, found " + scale)
                    .require(Double.isFinite(shift), "shift", "must be finite, found " + shift)
                    .throwIfAny();
        }

        /** @return the defaults: signature serving_default, names from the signature, no preprocessing */
        public static Params defaults() {
            return new Params(Signature.DEFAULT_KEY, null, null, null, 1.0, 0.0);
        }
    }

    /** Creates the backend; models are loaded by {@link #load}. */
    public TensorFlowBackend() {
    }

    @Override
    public LoadedModel load(ModelContext<Params> ctx) {
        requireUnsafeAccess();
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
            List<Signature> signatures = bundle.signatures().stream()
                    .filter(s -> !s.key().startsWith("__")).toList();
            Optional<Signature> sig = signatures.stream().filter(s -> s.key().equals(params.signature()))
                    .findFirst();
            if (sig.isEmpty() && (params.input() == null || params.output() == null)) {
                throw new ModelException("SavedModel " + dir + " has no signature '" + params.signature()
                        + "'; available: " + (signatures.isEmpty() ? "none" : signatures.stream().map(Signature::key)
                        .collect(Collectors.joining(", "))) + " (set model param 'signature', or 'input' and"
                        + " 'output')");
            }
            Map<String, Signature.TensorDescription> inputs = sig.map(Signature::getInputs).orElse(Map.of());
            Map<String, Signature.TensorDescription> outputs = sig.map(Signature::getOutputs).orElse(Map.of());
            String where = "SavedModel " + dir + sig.map(s -> " signature " + s.key()).orElse("");
            LayerSelector graph = new LayerSelector(bundle.graph());
            TensorRef input = chooseInput(graph, inputs, params, where);
            TensorRef output = chooseOutput(graph, outputs, params, where);
            TensorRef logits = null;
            if (params.logits() == null && outputs.containsKey("logits")) {
                TensorRef keyed = tensor(graph, outputs.get("logits").name, "logits", where);
                logits = keyed.equals(output) ? null : keyed;
            }
            return build(bundle.graph(), bundle.session(), bundle, graph, input, output, logits, params, where, dir);
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
        Graph g = new Graph();
        try {
            g.importGraphDef(def);
        } catch (RuntimeException e) {
            g.close();
            throw new ModelException("cannot import frozen GraphDef " + file + " (is it a GraphDef .pb?): "
                    + e.getMessage(), e);
        }
        Session session = null;
        try {
            LayerSelector graph = new LayerSelector(g);
            if (params.input() == null || params.output() == null) {
                throw new ModelException("frozen GraphDef " + file + " has no signature: set model params 'input'"
                        + " and 'output' (missing: " + (params.input() == null ? "input" : "")
                        + (params.input() == null && params.output() == null ? ", " : "")
                        + (params.output() == null ? "output" : "") + "); placeholders in the graph: "
                        + String.join(", ", graph.placeholders()) + "; unconsumed float ops: "
                        + String.join(", ", graph.sinks(10)));
            }
            String where = "frozen GraphDef " + file;
            TensorRef input = tensor(graph, params.input(), "input", where);
            TensorRef output = tensor(graph, params.output(), "output", where);
            session = new Session(g);
            Session s = session;
            AutoCloseable owner = () -> {
                s.close();
                g.close();
            };
            return build(g, session, owner, graph, input, output, null, params, where, file);
        } catch (RuntimeException e) {
            if (session != null) {
                session.close();
            }
            g.close();
            throw e;
        }
    }

    private static LoadedModel build(Graph g, Session session, AutoCloseable owner, LayerSelector graph,
                                     TensorRef input, TensorRef output, TensorRef keyedLogits, Params params,
                                     String where, Path path) {
        TensorRef logits = params.logits() != null ? tensor(graph, params.logits(), "logits", where)
                : keyedLogits != null ? keyedLogits
                : graph.defaultLogits(output);
        int[] inShape = graph.staticShape(input, "input");
        int[] outShape = graph.staticShape(output, "output");
        graph.staticShape(logits, "logits");
        List<LayerInfo> layers = graph.select(input, logits, output);
        String description = where + ": input " + input.layerName() + " " + dims(inShape) + " -> "
                + output.layerName() + " " + dims(outShape);
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
        return new TensorFlowModel(g, session, owner, input, logits.layerName(), layers,
                params.scale(), params.shift(), description, fingerprint);
    }

    private static TensorRef chooseInput(LayerSelector graph, Map<String, Signature.TensorDescription> inputs,
                                         Params params, String where) {
        if (params.input() != null) {
            return fromParamOrKey(graph, params.input(), inputs, "input", where);
        }
        if (inputs.size() != 1) {
            throw new ModelException(where + " has " + inputs.size() + " inputs " + describe(inputs)
                    + "; set model param 'input' to one of them");
        }
        return tensor(graph, inputs.values().iterator().next().name, "input", where);
    }

    private static TensorRef chooseOutput(LayerSelector graph, Map<String, Signature.TensorDescription> outputs,
                                          Params params, String where) {
        if (params.output() != null) {
            return fromParamOrKey(graph, params.output(), outputs, "output", where);
        }
        List<TensorRef> refs = outputs.values().stream().map(d -> tensor(graph, d.name, "output", where)).toList();
        if (refs.size() == 1) {
            return refs.get(0);
        }
        // several outputs: prefer the probabilities (a Softmax, or the key "probabilities"), else the one non-logits
        Optional<TensorRef> softmax = refs.stream()
                .filter(r -> !graph.defaultLogits(r).equals(r)).findFirst();
        if (softmax.isPresent()) {
            return softmax.get();
        }
        if (outputs.containsKey("probabilities")) {
            return TensorRef.parse(outputs.get("probabilities").name);
        }
        List<String> others = outputs.keySet().stream().filter(k -> !k.equals("logits")).toList();
        if (others.size() == 1) {
            return TensorRef.parse(outputs.get(others.get(0)).name);
        }
        throw new ModelException(where + " has " + outputs.size() + " outputs " + describe(outputs)
                + "; set model param 'output' to one of them");
    }

    /** An op name (or op:index) of the graph, or else a key of the signature's inputs/outputs. */
    private static TensorRef fromParamOrKey(LayerSelector graph, String value,
                                            Map<String, Signature.TensorDescription> keyed, String field,
                                            String where) {
        TensorRef ref = TensorRef.parse(value);
        if (!graph.hasOp(ref.op()) && keyed.containsKey(value)) {
            return TensorRef.parse(keyed.get(value).name);
        }
        return tensor(graph, value, field, where);
    }

    private static TensorRef tensor(LayerSelector graph, String value, String field, String where) {
        TensorRef ref = TensorRef.parse(value);
        if (!graph.hasOp(ref.op())) {
            List<String> candidates = field.equals("input") ? graph.placeholders() : graph.sinks(10);
            throw new ModelException("model param '" + field + "' names op '" + ref.op() + "', which " + where
                    + " does not have; " + (field.equals("input") ? "placeholders: " : "unconsumed float ops: ")
                    + String.join(", ", candidates));
        }
        return ref;
    }

    private static String describe(Map<String, Signature.TensorDescription> tensors) {
        return tensors.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().name)
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
