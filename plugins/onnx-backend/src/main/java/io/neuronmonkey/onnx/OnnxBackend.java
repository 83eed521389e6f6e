package io.neuronmonkey.onnx;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelBackend;
import io.neuronmonkey.api.model.ModelContext;
import org.pf4j.Extension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loads {@code .onnx} files (as {@code torch.onnx.export} and {@code optimum-cli export onnx} write them) through ONNX
 * Runtime on the CPU. Every float node output that keeps the batch in its first axis is a layer; a run captures any
 * set of them by rewriting the model so that they are graph outputs (one cached session per fetch set), and
 * interventions are {@code Mul}/{@code Add} nodes inserted after the changed value, fed per row. ONNX Runtime's Java
 * API computes no gradients: gradient methods refuse, naming the gradient-free methods.
 */
@Extension
@ExtensionName(value = "onnx",
        description = "ONNX models (.onnx files exported from PyTorch, Hugging Face, Keras, ...) through ONNX Runtime (CPU)")
public class OnnxBackend implements ModelBackend<OnnxBackend.Params> {

    /** ONNX Runtime's graph optimization level for the sessions. */
    public enum Optimization {
        /** No rewriting: every node runs as written. */
        NONE,
        /** Constant folding, redundant node elimination and fusions that keep the numbers (ONNX Runtime's basic). */
        BASIC,
        /** Basic plus fusions of common op patterns (GELU, layer norm, attention). */
        EXTENDED,
        /** Every optimization, layout changes included. */
        ALL
    }

    /** Data layout the model expects for images; the data are always fed channels last. */
    public enum Layout {
        /** Channels first when the model's primary input is a rank-4 (or 3, 5) tensor that feeds a convolution or pool. */
        AUTO,
        /** Channels last, {@code [H, W, C]}: nothing to do. */
        NHWC,
        /** Channels first, {@code [C, H, W]}: the backend transposes the fed {@code [H, W, C]} examples. */
        NCHW
    }

    /**
     * Input preprocessing of a float primary input, in this order: {@code x * scale + shift}, then
     * {@code (x - mean[c]) / std[c]} over the last axis of the fed (channels last) example, then the layout transpose.
     *
     * @param scale  multiplies the fed values
     * @param shift  added after scaling
     * @param mean   per-channel mean subtracted (one per entry of the last axis), or null
     * @param std    per-channel standard deviation divided by (as many as the channels), or null
     * @param layout the layout the model expects
     */
    public record Preprocess(
            @Param(defaultValue = "1.0", description = "multiplies the fed values") double scale,
            @Param(defaultValue = "0.0", description = "added after scaling") double shift,
            @Param(description = "per-channel mean subtracted, one per entry of the fed example's last axis")
            List<Double> mean,
            @Param(description = "per-channel standard deviation divided by, as many as mean") List<Double> std,
            @Param(defaultValue = "auto", description = "the layout the model expects: auto (channels first when the"
                    + " input feeds a convolution), nchw or nhwc; data are always fed channels last")
            Layout layout) {

        /** No preprocessing; the layout found from the graph. */
        public static final Preprocess NONE = new Preprocess(1.0, 0.0, null, null, Layout.AUTO);

        /** Validates every field at once; copies the lists. */
        public Preprocess {
            layout = layout == null ? Layout.AUTO : layout;
            mean = mean == null ? null : List.copyOf(mean);
            std = std == null ? null : List.copyOf(std);
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
                    .throwIfAny();
        }

        /** @return true when the fed values are changed before the layout step */
        boolean changesValues() {
            return scale != 1.0 || shift != 0.0 || mean != null || std != null;
        }

        Preprocess withScaleShift(double newScale, double newShift) {
            return new Preprocess(newScale, newShift, mean, std, layout);
        }
    }

    /**
     * How to read and run the model.
     *
     * @param input        the primary model input (fed the batch's primary tensor); default: the only input, else
     *                     {@code input_ids}, else the one input not named {@code attention_mask},
     *                     {@code token_type_ids} or {@code position_ids}
     * @param logits       the pre-softmax value; default: the input of a final Softmax or LogSoftmax, else the
     *                     output named {@code logits}, else the first output
     * @param scale        preprocessing shorthand: the float input is fed as {@code x * scale + shift}
     * @param shift        preprocessing offset, see {@code scale}
     * @param preprocess   preprocessing of a float primary input
     * @param chunk        at most this many rows per ONNX Runtime run; models with a fixed batch size always run with
     *                     exactly that many rows, padded
     * @param shapes       per model input, the shape of one example (batch excluded) for the dimensions the file
     *                     leaves open, e.g. {@code {input_ids: [16]}}; empty for none
     * @param optimization ONNX Runtime's graph optimization level
     * @param threads      ONNX Runtime intra-op threads per session; 0 for its default (one per core)
     * @param sessions     at most this many ONNX Runtime sessions (one per set of captured layers and intervened
     *                     layers) are kept; the least recently used is closed beyond that
     * @param channelAxis  per value name, its channel axis counted with the batch as axis 0: {@code 1} for a
     *                     channels-first value, {@code -1} for channels last; replaces what the graph's ops imply
     */
    public record Params(
            @Param(description = "primary model input; default: the only input, else input_ids, else the one input"
                    + " not named attention_mask, token_type_ids or position_ids")
            String input,
            @Param(description = "pre-softmax logits value; default: the input of a final (Log)Softmax, else the"
                    + " output named logits, else the first output")
            String logits,
            @Param(defaultValue = "1.0", description = "input preprocessing: x * scale + shift (or preprocess.scale)")
            double scale,
            @Param(defaultValue = "0.0", description = "input preprocessing offset, added after scaling")
            double shift,
            @Param(description = "preprocessing of a float input: scale, shift, mean, std, layout (auto, nchw, nhwc)")
            Preprocess preprocess,
            @Param(defaultValue = "256", description = "rows per ONNX Runtime run; larger batches are split")
            int chunk,
            @Param(description = "per model input, one example's shape for the dimensions the file leaves open,"
                    + " e.g. {input_ids: [16]}")
            Map<String, List<Integer>> shapes,
            @Param(defaultValue = "basic", description = "ONNX Runtime graph optimization: none, basic, extended, all")
            Optimization optimization,
            @Param(defaultValue = "0", description = "ONNX Runtime intra-op threads per session; 0 = one per core")
            int threads,
            @Param(defaultValue = "8", description = "ONNX Runtime sessions kept (one per capture and intervention"
                    + " set); the least recently used is closed beyond that")
            int sessions,
            @Param(description = "per value name, its channel axis counted with the batch as axis 0 (1 = channels"
                    + " first, -1 = last), e.g. {conv1: 1}; overrides what the graph's ops imply")
            Map<String, Integer> channelAxis) {

        /** Validates every param at once; folds top-level scale/shift into {@link #preprocess}. */
        public Params {
            boolean topLevel = scale != 1.0 || shift != 0.0;
            boolean nested = preprocess != null && (preprocess.scale() != 1.0 || preprocess.shift() != 0.0);
            Violations v = Violations.check()
                    .require(input == null || !input.isBlank(), "input", "must be a model input name, found a blank string")
                    .require(logits == null || !logits.isBlank(), "logits", "must be a value name, found a blank string")
                    .require(Double.isFinite(scale) && scale != 0, "scale", "must be finite and non-zero, found " + scale)
                    .require(Double.isFinite(shift), "shift", "must be finite, found " + shift)
                    .require(!(topLevel && nested), "preprocess", "sets scale/shift, and so do the top-level keys"
                            + " 'scale'/'shift': keep one of them")
                    .require(chunk >= 1, "chunk", "must be >= 1, found " + chunk)
                    .require(threads >= 0, "threads", "must be >= 0 (0 = one per core), found " + threads)
                    .require(sessions >= 1, "sessions", "must be >= 1, found " + sessions);
            Map<String, List<Integer>> fixed = new LinkedHashMap<>();
            if (shapes != null) {
                for (Map.Entry<?, ?> e : ((Map<?, ?>) shapes).entrySet()) {
                    String key = String.valueOf(e.getKey());
                    List<Integer> dims = new ArrayList<>();
                    boolean ok = e.getValue() instanceof List<?>;
                    if (ok) {
                        for (Object d : (List<?>) e.getValue()) {
                            if (d instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                                    && n.doubleValue() >= 1 && n.doubleValue() < Integer.MAX_VALUE) {
                                dims.add(n.intValue());
                            } else {
                                ok = false;
                            }
                        }
                    }
                    v.require(ok, "shapes." + key, "must list one example's positive dimensions (batch excluded),"
                            + " e.g. [16], found " + e.getValue());
                    if (ok) {
                        fixed.put(key, List.copyOf(dims));
                    }
                }
            }
            Map<String, Integer> axes = new LinkedHashMap<>();
            if (channelAxis != null) {
                for (Map.Entry<?, ?> e : ((Map<?, ?>) channelAxis).entrySet()) {
                    String key = String.valueOf(e.getKey());
                    boolean ok = e.getValue() instanceof Number n && (n.doubleValue() == 1 || n.doubleValue() == -1);
                    v.require(ok, "channelAxis." + key, "must be 1 (channels first, as NCHW) or -1 (channels last),"
                            + " found " + e.getValue());
                    if (ok) {
                        axes.put(key, ((Number) e.getValue()).intValue());
                    }
                }
            }
            v.throwIfAny();
            channelAxis = Map.copyOf(axes);
            shapes = Map.copyOf(fixed);
            optimization = optimization == null ? Optimization.BASIC : optimization;
            preprocess = preprocess == null ? Preprocess.NONE : preprocess;
            if (topLevel) {
                preprocess = preprocess.withScaleShift(scale, shift);
            }
        }

        /** @return the defaults: inputs and logits from the graph, no preprocessing, chunks of 256 rows */
        public static Params defaults() {
            return new Params(null, null, 1.0, 0.0, null, 256, null, Optimization.BASIC, 0, 8, null);
        }
    }

    /** Creates the backend; models are loaded by {@link #load}. */
    public OnnxBackend() {
    }

    @Override
    public LoadedModel load(ModelContext<Params> ctx) {
        Path path = ctx.path().toAbsolutePath().normalize();
        Params params = ctx.params() == null ? Params.defaults() : ctx.params();
        if (!Files.exists(path)) {
            throw new ModelException("model path " + path + " does not exist");
        }
        if (Files.isDirectory(path)) {
            path = onlyOnnxFile(path);
        }
        return OnnxModel.load(path, params);
    }

    /** A folder (as optimum-cli writes one) stands for its single {@code .onnx} file, or its {@code model.onnx}. */
    private static Path onlyOnnxFile(Path dir) {
        List<Path> files;
        try (var s = Files.list(dir)) {
            files = s.filter(p -> p.getFileName().toString().endsWith(".onnx")).sorted().toList();
        } catch (java.io.IOException e) {
            throw new ModelException("cannot list model folder " + dir + ": " + e.getMessage(), e);
        }
        if (files.size() == 1) {
            return files.get(0);
        }
        Path model = dir.resolve("model.onnx");
        if (Files.isRegularFile(model)) {
            return model;
        }
        throw new ModelException("model folder " + dir + (files.isEmpty() ? " holds no .onnx file"
                : " holds " + files.size() + " .onnx files " + files.stream().map(p -> p.getFileName().toString()).toList()
                + " and no model.onnx") + "; set model path to the .onnx file");
    }
}
