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
import java.util.LinkedHashMap;
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
     * @param signature   the SavedModel signature that names input and output
     * @param input       input placeholder ({@code op} or {@code op:index}) or signature input key; overrides the
     *                    signature's; inferred for a .pb with one float placeholder
     * @param output      output tensor or signature output key; overrides the signature's; inferred for a .pb with
     *                    one unconsumed float output
     * @param logits      pre-softmax tensor; by default the input of a Softmax or LogSoftmax output, else the output
     * @param scale       preprocessing shorthand: the input batch is fed as {@code x * scale + shift}
     * @param shift       preprocessing offset, see {@code scale}
     * @param preprocess  preprocessing applied in the graph in front of the model input
     * @param chunk       at most this many rows per TensorFlow run; larger batches are split (models with a fixed
     *                    batch dimension always run with exactly that many rows, padded)
     * @param channelAxis per layer (or op) name, the channel axis of its output counted with the batch as axis 0
     *                    ({@code 1} for NCHW, {@code -1} for the last), replacing what the graph says; empty for none
     * @param primaryInput the model input fed the batch's primary tensor (signature input key or placeholder op),
     *                    the same as {@code input}; by default the only input, else the first one that is not an
     *                    attention mask, token type ids or mask
     * @param inputNames  per model input (signature key or placeholder op), the name of the data's named tensor
     *                    that feeds it, where the two differ; empty for none
     */
    public record Params(
            @Param(defaultValue = "serving_default", description = "SavedModel signature key naming input and output")
            String signature,
            @Param(description = "input placeholder op (or op:index, or signature input key); overrides the"
                    + " signature; inferred for a .pb with one float placeholder")
            String input,
            @Param(description = "output op (or op:index, or signature output key); overrides the signature;"
                    + " inferred for a .pb with one unconsumed float output")
            String output,
            @Param(description = "pre-softmax logits op; default: the input of a (Log)Softmax output, else the output")
            String logits,
            @Param(defaultValue = "1.0", description = "input preprocessing: x * scale + shift (or preprocess.scale)")
            double scale,
            @Param(defaultValue = "0.0", description = "input preprocessing offset, added after scaling")
            double shift,
            @Param(description = "input preprocessing in the graph: fedShape, grayscaleToRgb, resize, centerCrop,"
                    + " scale, shift, perImageStandardization, l2NormalizeAxis, mean, std, meanStdFile, layout")
            Preprocess preprocess,
            @Param(defaultValue = "256", description = "rows per TensorFlow run; larger batches are split")
            int chunk,
            @Param(description = "per layer name, its channel axis counted with the batch as axis 0 (1 = NCHW,"
                    + " -1 = last), e.g. {conv1: 1}; overrides what the graph's data_format says")
            Map<String, Integer> channelAxis,
            @Param(description = "the model input fed the data's primary tensor (signature input key or placeholder"
                    + " op; same as 'input'); default: the only input, else the first not named attention_mask,"
                    + " token_type_ids or mask")
            String primaryInput,
            @Param(description = "per model input, the name of the data's named tensor feeding it where they differ,"
                    + " e.g. {mask: attention_mask}")
            Map<String, String> inputNames) {

        /** Validates every param at once; folds top-level scale/shift into {@link #preprocess}. */
        public Params {
            if (signature == null) {
                signature = Signature.DEFAULT_KEY;
            }
            boolean topLevel = scale != 1.0 || shift != 0.0;
            boolean nested = preprocess != null && (preprocess.scale() != 1.0 || preprocess.shift() != 0.0);
            Violations v = Violations.check()
                    .require(!signature.isBlank(), "signature", "must not be blank")
                    .require(input == null || !input.isBlank(), "input", "must be an op name, found a blank string")
                    .require(output == null || !output.isBlank(), "output", "must be an op name, found a blank string")
                    .require(logits == null || !logits.isBlank(), "logits", "must be an op name, found a blank string")
                    .require(Double.isFinite(scale) && scale != 0, "scale", "must be finite and non-zero, found " + scale)
                    .require(Double.isFinite(shift), "shift", "must be finite, found " + shift)
                    .require(!(topLevel && nested), "preprocess", "sets scale/shift, and so do the top-level keys"
                            + " 'scale'/'shift': keep one of them")
                    .require(chunk >= 1, "chunk", "must be >= 1, found " + chunk)
                    .require(primaryInput == null || !primaryInput.isBlank(), "primaryInput", "must be a model input"
                            + " name, found a blank string")
                    .require(primaryInput == null || input == null || primaryInput.equals(input), "primaryInput",
                            "names '" + primaryInput + "' but 'input' names '" + input + "': keep one of them");
            Map<String, String> renames = new LinkedHashMap<>();
            if (inputNames != null) {
                for (Map.Entry<?, ?> e : ((Map<?, ?>) inputNames).entrySet()) {
                    String key = String.valueOf(e.getKey());
                    boolean named = e.getValue() instanceof String str && !str.isBlank() && !key.isBlank();
                    v.require(named, "inputNames." + key, "must map a model input to the name of a data tensor,"
                            + " e.g. {mask: attention_mask}, found " + e.getValue());
                    if (named) {
                        renames.put(key, (String) e.getValue());
                    }
                }
            }
            Map<String, Integer> axes = new LinkedHashMap<>();
            if (channelAxis != null) {
                for (Map.Entry<?, ?> e : ((Map<?, ?>) channelAxis).entrySet()) {
                    Object value = e.getValue();
                    String key = String.valueOf(e.getKey());
                    boolean integral = value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                            && Math.abs(n.doubleValue()) < 64;
                    v.require(integral, "channelAxis." + key, "must be an axis number such as 1 (NCHW) or -1"
                            + " (last), found " + value);
                    v.require(!integral || ((Number) value).intValue() != 0, "channelAxis." + key,
                            "axis 0 is the batch; the channels of an NCHW layer are axis 1, the last axis is -1");
                    if (integral) {
                        axes.put(key, ((Number) value).intValue());
                    }
                }
            }
            v.throwIfAny();
            channelAxis = Map.copyOf(axes);
            inputNames = Map.copyOf(renames);
            if (input == null) {
                input = primaryInput;
            }
            if (primaryInput == null) {
                primaryInput = input;
            }
            if (preprocess == null) {
                preprocess = Preprocess.NONE;
            }
            if (topLevel) {
                preprocess = preprocess.withScaleShift(scale, shift);
            }
        }

        /**
         * The parameters of the release before named inputs: the primary input is {@code input}, no renames.
         *
         * @param signature   signature key
         * @param input       input op or key, or null
         * @param output      output op or key, or null
         * @param logits      logits op, or null
         * @param scale       input scale
         * @param shift       input shift
         * @param preprocess  preprocessing, or null
         * @param chunk       rows per run
         * @param channelAxis channel-axis overrides, or null
         */
        public Params(String signature, String input, String output, String logits, double scale, double shift,
                      Preprocess preprocess, int chunk, Map<String, Integer> channelAxis) {
            this(signature, input, output, logits, scale, shift, preprocess, chunk, channelAxis, null, null);
        }

        /**
         * @param newInput  the primary input, or null
         * @param newOutput the output, or null
         * @return these params with input and output replaced (scale and shift already folded into preprocess)
         */
        Params withInputOutput(String newInput, String newOutput) {
            return new Params(signature, newInput, newOutput, logits, 1.0, 0.0, preprocess, chunk, channelAxis,
                    newInput, inputNames);
        }

        /**
         * The parameters of the first release with preprocessing: no channel-axis overrides.
         *
         * @param signature  signature key
         * @param input      input op or key, or null
         * @param output     output op or key, or null
         * @param logits     logits op, or null
         * @param scale      input scale
         * @param shift      input shift
         * @param preprocess preprocessing, or null
         * @param chunk      rows per run
         */
        public Params(String signature, String input, String output, String logits, double scale, double shift,
                      Preprocess preprocess, int chunk) {
            this(signature, input, output, logits, scale, shift, preprocess, chunk, null);
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

    /** What a statistics file's second array holds. */
    public enum Spread {
        /** Standard deviations: divide by them. */
        STD,
        /** Variances: divide by {@code sqrt(var + epsilon)}. */
        VAR
    }

    /**
     * Per-channel mean and spread read from a file: a JSON object (e.g. a model's own {@code scaling.json}) whose
     * {@code meanKey} and {@code spreadKey} hold numbers or nested lists of numbers, or a {@code .npy} array of shape
     * {@code [2, C]} (row 0 the mean, row 1 the spread).
     *
     * @param file      the file, relative to the experiment; null for none
     * @param spread    what the spread values are: {@code std} or {@code var}; required with a file
     * @param meanKey   JSON key of the means
     * @param spreadKey JSON key of the spreads; default {@code std} or {@code var}, as {@code spread}
     * @param epsilon   added to variances before the square root
     */
    public record MeanStdFile(
            @Param(description = "JSON or .npy file with per-channel mean and std or var") String file,
            @Param(description = "what the file's spread holds: std or var (required with a file)") Spread spread,
            @Param(defaultValue = "mean", description = "JSON key of the means") String meanKey,
            @Param(description = "JSON key of the spreads; default: std or var, as spread") String spreadKey,
            @Param(defaultValue = "0.0", description = "added to variances before the square root") double epsilon) {

        /** Validates every field at once. */
        public MeanStdFile {
            meanKey = meanKey == null ? "mean" : meanKey;
            Violations.check()
                    .require(file == null || !file.isBlank(), "file", "must be a file path, found a blank string")
                    .require(file == null || spread != null, "spread", "must say what the file holds: std or var")
                    .require(Double.isFinite(epsilon) && epsilon >= 0, "epsilon", "must be >= 0, found " + epsilon)
                    .throwIfAny();
            if (spreadKey == null && spread != null) {
                spreadKey = spread.name().toLowerCase(java.util.Locale.ROOT);
            }
        }
    }

    /**
     * Input preprocessing, built as graph ops between the fed batch and the model's input, in this order:
     * grayscale to RGB, bilinear resize, center crop, {@code x * scale + shift}, per-image standardization,
     * per-example L2 normalization, {@code (x - mean[c]) / std[c]} over the last axis, the layout transpose, a reshape
     * to the model's input shape (when the element counts agree), then a cast to the model's input dtype (rounding for
     * integer inputs).
     *
     * @param scale                   multiplies the fed values
     * @param shift                   added after scaling
     * @param mean                    per-channel mean subtracted (one per entry of the last axis), or null
     * @param std                     per-channel standard deviation divided by (as many as the channels), or null
     * @param layout                  the layout the model expects; the data is always fed channels last
     * @param reshape                 the old name of {@code fedShape}, still accepted
     * @param fedShape                the shape of one example as the data deliver it (e.g. {@code [28, 28, 1]} for a
     *                                model taking {@code [784]}); null means what the model's input implies
     * @param grayscaleToRgb          repeat a single channel three times ({@code [H, W, 1]} to {@code [H, W, 3]})
     * @param resize                  {@code [height, width]} to resize the fed images to (bilinear, half-pixel
     *                                centers, as {@code tf.image.resize}), or null
     * @param centerCrop              {@code [height, width]} of the centered crop taken after any resize, or null
     * @param perImageStandardization each example to zero mean and unit variance over all its values, as
     *                                {@code tf.image.per_image_standardization}
     * @param l2NormalizeAxis         divide each example by its L2 norm along this axis (counted with the batch as
     *                                axis 0, as {@code tf.keras.utils.normalize(x, axis)}); null for none
     * @param meanStdFile             per-channel mean and std (or var) read from a file, instead of mean/std lists
     */
    public record Preprocess(
            @Param(defaultValue = "1.0", description = "multiply the fed values by this")
            double scale,
            @Param(defaultValue = "0.0", description = "then add this")
            double shift,
            @Param(description = "then subtract this per channel (last axis)")
            List<Double> mean,
            @Param(description = "then divide by this per channel")
            List<Double> std,
            @Param(defaultValue = "nhwc", description = "the layout the model expects: nhwc or nchw (data is fed"
                    + " channels last)")
            Layout layout,
            @Param(description = "old name of fedShape")
            List<Integer> reshape,
            @Param(description = "shape of one example as the data deliver it, e.g. [28, 28, 1]; reshaped to the"
                    + " model input when the element counts agree")
            List<Integer> fedShape,
            @Param(defaultValue = "false", description = "repeat one channel three times: [H, W, 1] to [H, W, 3]")
            boolean grayscaleToRgb,
            @Param(description = "[height, width] to resize fed images to, bilinear (as tf.image.resize)")
            List<Integer> resize,
            @Param(description = "[height, width] of a centered crop, after any resize")
            List<Integer> centerCrop,
            @Param(defaultValue = "false", description = "per example: zero mean, unit variance (as"
                    + " tf.image.per_image_standardization)")
            boolean perImageStandardization,
            @Param(description = "per example: divide by the L2 norm along this axis, batch = axis 0 (as"
                    + " tf.keras.utils.normalize(x, axis))")
            Integer l2NormalizeAxis,
            @Param(description = "per-channel mean and std or var from a file: {file, spread: std|var, meanKey,"
                    + " spreadKey, epsilon}")
            MeanStdFile meanStdFile) {

        /** No preprocessing. */
        public static final Preprocess NONE = new Preprocess(1.0, 0.0, null, null, Layout.NHWC, null);

        /** Validates every field at once; copies the lists. */
        public Preprocess {
            layout = layout == null ? Layout.NHWC : layout;
            mean = mean == null ? null : List.copyOf(mean);
            std = std == null ? null : List.copyOf(std);
            reshape = reshape == null ? null : List.copyOf(reshape);
            fedShape = fedShape == null ? null : List.copyOf(fedShape);
            resize = resize == null ? null : List.copyOf(resize);
            centerCrop = centerCrop == null ? null : List.copyOf(centerCrop);
            if (meanStdFile != null && meanStdFile.file() == null) {
                meanStdFile = null;
            }
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
                    .require(fedShape == null || !fedShape.isEmpty() && fedShape.stream().allMatch(d -> d >= 1),
                            "fedShape", "must list positive dimensions of one example, e.g. [28, 28, 1], found "
                                    + fedShape)
                    .require(reshape == null || fedShape == null, "reshape", "is the old name of fedShape, which is"
                            + " also set: keep fedShape")
                    .require(resize == null || resize.size() == 2 && resize.stream().allMatch(d -> d >= 1), "resize",
                            "must be [height, width] of positive sizes, found " + resize)
                    .require(centerCrop == null || centerCrop.size() == 2 && centerCrop.stream().allMatch(d -> d >= 1),
                            "centerCrop", "must be [height, width] of positive sizes, found " + centerCrop)
                    .require(l2NormalizeAxis == null || l2NormalizeAxis != 0, "l2NormalizeAxis", "axis 0 is the"
                            + " batch; normalize each example along axis 1.. or -1 (the last)")
                    .require(meanStdFile == null || mean == null && std == null, "meanStdFile", "and mean/std both"
                            + " give the per-channel statistics: keep one")
                    .throwIfAny();
        }

        /**
         * The preprocessing of earlier releases.
         *
         * @param scale   multiplies the fed values
         * @param shift   added after scaling
         * @param mean    per-channel mean, or null
         * @param std     per-channel standard deviation, or null
         * @param layout  the layout the model expects
         * @param reshape the shape of one example as fed, or null
         */
        public Preprocess(double scale, double shift, List<Double> mean, List<Double> std, Layout layout,
                          List<Integer> reshape) {
            this(scale, shift, mean, std, layout, reshape, null, false, null, null, false, null, null);
        }

        /** @return the shape of one example as fed ({@code fedShape}, or its old name {@code reshape}), or null */
        List<Integer> fed() {
            return fedShape != null ? fedShape : reshape;
        }

        /** @return the key the user wrote for the fed shape, for messages */
        String fedKey() {
            return reshape != null ? "preprocess.reshape" : "preprocess.fedShape";
        }

        Preprocess withScaleShift(double newScale, double newShift) {
            return new Preprocess(newScale, newShift, mean, std, layout, reshape, fedShape, grayscaleToRgb, resize,
                    centerCrop, perImageStandardization, l2NormalizeAxis, meanStdFile);
        }

        /** @return a copy with the statistics read from {@link #meanStdFile()} as mean/std lists */
        Preprocess withMeanStd(List<Double> newMean, List<Double> newStd) {
            return new Preprocess(scale, shift, newMean, newStd, layout, reshape, fedShape, grayscaleToRgb, resize,
                    centerCrop, perImageStandardization, l2NormalizeAxis, null);
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
        if (params.preprocess().meanStdFile() != null) {
            MeanStdFile f = params.preprocess().meanStdFile();
            StatsFile.MeanStd stats = StatsFile.read(ctx.resolve(f.file()), f);
            params = new Params(params.signature(), params.input(), params.output(), params.logits(), 1.0, 0.0,
                    params.preprocess().withMeanStd(stats.mean(), stats.std()), params.chunk(), params.channelAxis(),
                    params.primaryInput(), params.inputNames());
        }
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
            requireVariables(dir, meta.getGraphDef());
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

    private static final java.util.Set<String> VARIABLE_OPS = java.util.Set.of("VarHandleOp", "VariableV2", "Variable");

    /**
     * A SavedModel whose graph holds variables loads without its {@code variables/} folder, and fails only at its
     * first run ("uninitialized value"): say so when it is loaded, so that validation catches it.
     */
    static void requireVariables(Path dir, GraphDef def) {
        List<String> variables = def.getNodeList().stream().filter(n -> VARIABLE_OPS.contains(n.getOp()))
                .map(NodeDef::getName).toList();
        if (variables.isEmpty()) {
            return;
        }
        Path index = dir.resolve("variables").resolve("variables.index");
        if (!Files.isRegularFile(index)) {
            throw new ModelException("SavedModel " + dir + " holds " + variables.size() + " variable(s) (e.g. '"
                    + variables.get(0) + "') but " + (Files.isDirectory(dir.resolve("variables"))
                    ? "its variables/ folder has no variables.index" : "has no variables/ folder")
                    + ": its weights are missing; copy the whole SavedModel directory, variables/ included");
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
            params = FrozenGraphs.infer(def, params, where);
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
        Map<String, TensorRef> specs = new LinkedHashMap<>();
        new TreeMap<>(inputs).forEach((k, t) -> specs.put(k, names.tensor(t.getName(), Map.of(), "input")));
        TensorRef input;
        String inputName;
        String primaryName;
        if (params.primaryInput() != null) {
            input = names.tensor(params.primaryInput(), inputs, "input");
            inputName = inputs.containsKey(params.primaryInput()) && inlined.calls() > 0 ? params.primaryInput()
                    : input.layerName();
            TensorRef chosen = input;
            primaryName = specs.entrySet().stream().filter(e -> e.getValue().equals(chosen)).map(Map.Entry::getKey)
                    .findFirst().orElse(params.primaryInput());
        } else {
            primaryName = TfInputs.primary(new ArrayList<>(specs.keySet()));
            if (primaryName == null) {
                throw new ModelException(where + " has " + inputs.size() + " inputs " + describe(inputs)
                        + ", all of them masks; set model param 'primaryInput' to the one fed the data's primary"
                        + " tensor");
            }
            input = specs.get(primaryName);
            inputName = inlined.calls() > 0 ? primaryName : input.layerName();
        }
        TensorRef output = params.output() != null ? names.tensor(params.output(), outputs, "output")
                : chooseOutput(names, outputs, where);
        TensorRef logits = params.logits() != null ? names.tensor(params.logits(), outputs, "logits")
                : outputs.containsKey("logits") ? names.tensor(outputs.get("logits").getName(), Map.of(), "logits")
                : null;
        if (output.equals(logits)) {
            logits = null;
        }
        if (inputs.isEmpty()) {
            // a frozen graph: its inputs are the placeholders its outputs need
            Map<String, NodeDef> byName = new HashMap<>();
            inlined.graph().getNodeList().forEach(n -> byName.put(n.getName(), n));
            List<String> roots = new ArrayList<>(List.of(output.op()));
            if (logits != null) {
                roots.add(logits.op());
            }
            Set<String> needed = NodeDefs.ancestors(byName, roots);
            for (NodeDef n : inlined.graph().getNodeList()) {
                if (n.getOp().equals("Placeholder") && needed.contains(n.getName())) {
                    specs.put(n.getName(), new TensorRef(n.getName(), 0));
                }
            }
        }
        Map<String, TensorRef> signatureInputs = new LinkedHashMap<>(specs);
        if (signatureInputs.isEmpty() || !signatureInputs.containsValue(input)) {
            signatureInputs.put(input.op(), input);
        }
        TensorRef primaryTensor = input;
        specs.entrySet().removeIf(e -> e.getValue().equals(primaryTensor));
        AnalysisGraph analysis = AnalysisGraph.build(inlined.graph(), inlined, input, inputName, output, logits,
                params.preprocess(), params.channelAxis(), g, prefix, where);
        TfInputs modelInputs = TfInputs.of(primaryName, analysis, inlined.graph(), specs, params.inputNames(),
                where);
        if (!analysis.unknownOverrides.isEmpty()) {
            List<String> known = new ArrayList<>(analysis.captures.keySet());
            String name = analysis.unknownOverrides.get(0);
            List<String> near = io.neuronmonkey.api.Suggestions.near(name, known, 5);
            throw new ModelException(where + ": model param channelAxis names '" + String.join("', '",
                    analysis.unknownOverrides) + "', which the model does not have" + (near.isEmpty() ? ""
                    : "; near: " + String.join(", ", near)) + " ('neuronmonkey inspect --all' lists every name)");
        }
        LayerInfo last = analysis.layers.stream().filter(l -> l.role() == LayerInfo.Role.OUTPUT).findFirst()
                .orElseGet(() -> analysis.layers.stream().filter(l -> l.role() == LayerInfo.Role.LOGITS).findFirst()
                        .orElseThrow());
        List<String> steps = Preprocessing.steps(params.preprocess());
        String description = where + ": input " + inputName + " " + dims(analysis.inputShape)
                + (modelInputs.others().isEmpty() ? "" : " + " + modelInputs.others().stream()
                .map(f -> f.input().name()).collect(Collectors.joining(", ")))
                + (steps.isEmpty() ? "" : " (" + String.join(", ", steps) + ")") + " -> "
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
        Map<String, TensorRef> signatureOutputs = new LinkedHashMap<>();
        outputs.forEach((k, t) -> signatureOutputs.put(k, names.tensor(t.getName(), Map.of(), "output")));
        if (!signatureOutputs.containsValue(output)) {
            signatureOutputs.put("output", output);
        }
        if (logits != null && !signatureOutputs.containsValue(logits)) {
            signatureOutputs.put("logits", logits);
        }
        TensorFlowModel model = new TensorFlowModel(g, session, owner, analysis, params.chunk(), description,
                fingerprint, params.preprocess(), modelInputs);
        model.source(new StructuralPruning.Source(inlined.graph(), signatureInputs, signatureOutputs, path, input,
                inputName));
        return model;
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
                if (LayerSelector.SOFTMAXES.contains(n.getOp())) {
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
