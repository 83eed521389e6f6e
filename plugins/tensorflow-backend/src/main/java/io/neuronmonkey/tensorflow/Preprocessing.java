package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The in-graph preprocessing between the fed batch and the model's input: which shape is fed, how each step changes
 * it, and the ops (see {@link TensorFlowBackend.Preprocess} for the order). Every shape problem names the param that
 * fixes it.
 */
final class Preprocessing {

    private static final Set<DataType> INTEGERS = Set.of(DataType.DT_UINT8, DataType.DT_INT8, DataType.DT_UINT16,
            DataType.DT_INT16, DataType.DT_INT32, DataType.DT_INT64);
    private static final String S = AnalysisGraph.SCOPE + "preprocess/";

    /**
     * How the fed examples become the model's input.
     *
     * @param fed        the shape of one fed example
     * @param working    the example shape after resize and crop (where scaling and normalization apply)
     * @param reshapeTo  the reshape target ({@code [-1, model dims...]}) or null for none
     * @param fixedBatch the model's fixed batch size, or 0
     */
    record Plan(int[] fed, int[] working, int[] reshapeTo, int fixedBatch) {

        long[] fedDims() {
            return prepend(-1, Arrays.stream(fed).asLongStream().toArray());
        }
    }

    private Preprocessing() {
    }

    /**
     * @param model the model input's dimensions (batch included; -1 unknown), or null for an unknown rank
     * @param pre   the preprocessing
     * @param op    the input op, for messages
     * @param where the model, for messages
     * @return the plan
     * @throws ModelException naming the param when the shapes cannot fit
     */
    static Plan plan(long[] model, TensorFlowBackend.Preprocess pre, String op, String where) {
        if (model != null && model.length == 0) {
            throw new ModelException(where + ": input '" + op + "' is a scalar; it needs a batch dimension");
        }
        int fixed = model != null && model[0] > 0 ? Math.toIntExact(model[0]) : 0;
        int[] modelShape = null;
        if (model != null && Arrays.stream(model).skip(1).allMatch(d -> d >= 0)) {
            modelShape = Arrays.stream(model).skip(1).mapToInt(Math::toIntExact).toArray();
        }
        boolean nchw = pre.layout() == TensorFlowBackend.Layout.NCHW;
        int[] beforeLayout = modelShape;
        if (nchw && modelShape != null) {
            if (modelShape.length != 3) {
                throw new ModelException(where + ": preprocess.layout nchw needs a model input [C, H, W], '" + op
                        + "' has " + Arrays.toString(modelShape));
            }
            beforeLayout = new int[] {modelShape[1], modelShape[2], modelShape[0]};
        }
        boolean spatialSteps = pre.resize() != null || pre.centerCrop() != null;
        int[] fed;
        if (pre.fed() != null) {
            fed = pre.fed().stream().mapToInt(Integer::intValue).toArray();
        } else if (spatialSteps) {
            throw new ModelException(where + ": preprocess." + (pre.resize() != null ? "resize" : "centerCrop")
                    + " needs preprocess.fedShape, the shape of one example as the data deliver it (e.g. [256, 256, 3])");
        } else if (beforeLayout == null) {
            throw new ModelException(where + ": input '" + op + "' has shape " + describe(model)
                    + "; set model param preprocess.fedShape to the shape of one example, e.g. [224, 224, 3]");
        } else {
            fed = beforeLayout.clone();
            if (pre.grayscaleToRgb()) {
                if (fed.length != 3 || fed[2] != 3) {
                    throw new ModelException(where + ": preprocess.grayscaleToRgb makes 3 channels, but the model"
                            + " input '" + op + "' is " + Arrays.toString(modelShape) + "; drop grayscaleToRgb");
                }
                fed[2] = 1;
            }
        }
        // follow the steps
        int[] w = fed.clone();
        if (pre.grayscaleToRgb()) {
            if (!(w.length == 3 && w[2] == 1 || w.length == 2)) {
                throw new ModelException(where + ": preprocess.grayscaleToRgb needs fed examples [H, W, 1] or [H, W],"
                        + " found " + Arrays.toString(fed) + " (" + pre.fedKey() + ")");
            }
            w = new int[] {w[0], w[1], 3};
        }
        if (spatialSteps && w.length != 3) {
            throw new ModelException(where + ": preprocess.resize and centerCrop work on images [H, W, C]; the fed"
                    + " examples are " + Arrays.toString(w) + " (" + pre.fedKey() + ")");
        }
        if (pre.resize() != null) {
            w = new int[] {pre.resize().get(0), pre.resize().get(1), w[2]};
        }
        if (pre.centerCrop() != null) {
            int h = pre.centerCrop().get(0);
            int wd = pre.centerCrop().get(1);
            if (h > w[0] || wd > w[1]) {
                throw new ModelException(where + ": preprocess.centerCrop " + pre.centerCrop() + " is larger than the"
                        + " images it crops, " + w[0] + "x" + w[1] + (pre.resize() != null ? " (preprocess.resize)"
                        : " (" + pre.fedKey() + ")"));
            }
            w = new int[] {h, wd, w[2]};
        }
        if (pre.l2NormalizeAxis() != null) {
            int a = pre.l2NormalizeAxis();
            if (a > w.length || a < -w.length) {
                throw new ModelException(where + ": preprocess.l2NormalizeAxis " + a + " is outside examples of shape "
                        + Arrays.toString(w) + " (batch = axis 0): valid 1.." + w.length + " or -1..-" + w.length);
            }
        }
        int channels = w.length == 0 ? 1 : w[w.length - 1];
        if (pre.mean() != null && pre.mean().size() != channels || pre.std() != null && pre.std().size() != channels) {
            throw new ModelException(where + ": preprocess.mean/std have " + (pre.mean() != null ? pre.mean().size()
                    : pre.std().size()) + " values, the examples " + Arrays.toString(w) + " have " + channels
                    + " channels (last axis)");
        }
        if (nchw && w.length != 3) {
            throw new ModelException(where + ": preprocess.layout nchw needs fed examples [H, W, C], found "
                    + Arrays.toString(w));
        }
        int[] transposed = nchw ? new int[] {w[2], w[0], w[1]} : w;
        int[] reshapeTo = null;
        if (modelShape != null && !Arrays.equals(transposed, modelShape)) {
            if (count(transposed) != count(modelShape)) {
                String fix = spatialSteps ? "preprocess.resize / centerCrop" : pre.fed() != null ? pre.fedKey()
                        : "preprocess";
                throw new ModelException(where + ": fed examples " + Arrays.toString(fed) + (Arrays.equals(fed, w) ? ""
                        : " (after preprocessing " + Arrays.toString(w) + ")") + " cannot be reshaped to the model input "
                        + Arrays.toString(modelShape) + " of '" + op + "': the element counts differ (fix model param "
                        + fix + ")");
            }
            reshapeTo = prependInt(-1, modelShape);
        }
        return new Plan(fed, w, reshapeTo, fixed);
    }

    /**
     * The plan of an input fed as it is (token ids, text): the model's own example shape, no steps.
     *
     * @param model the model input's dimensions, batch included ({@code -1} unknown)
     * @return the plan
     */
    static Plan direct(long[] model) {
        int[] example = Arrays.stream(model).skip(1).mapToInt(d -> d < 0 ? -1 : Math.toIntExact(d)).toArray();
        return new Plan(example, example, null, model[0] > 0 ? Math.toIntExact(model[0]) : 0);
    }

    /**
     * Advice for data examples that do not match the fed shape.
     *
     * @param data         one example as the data deliver it
     * @param fed          the shape the model is fed
     * @param pre          the preprocessing in use
     * @param inputChannel the batched channel axis of the model input as its consumers use it, or null
     * @return a sentence naming the params that make the data fit, or empty
     */
    static Optional<String> advice(int[] data, int[] fed, TensorFlowBackend.Preprocess pre, Integer inputChannel) {
        if (Arrays.equals(data, fed)) {
            return Optional.empty();
        }
        if (pre.layout() == TensorFlowBackend.Layout.NHWC && data.length == 3 && fed.length == 3
                && data[2] == fed[0] && data[0] == fed[1] && data[1] == fed[2] && data[0] != data[2]) {
            return Optional.of("the model takes channels first" + (inputChannel != null && inputChannel == 1
                    ? " (its graph transposes or reads the input as NCHW)" : "") + ": set model param"
                    + " preprocess.layout: nchw (the data stay [H, W, C])");
        }
        if (!pre.grayscaleToRgb() && pre.fed() == null && data.length == 3 && fed.length == 3 && data[2] == 1
                && fed[2] == 3 && data[0] == fed[0] && data[1] == fed[1]) {
            return Optional.of("the data are grayscale and the model takes RGB: set model param"
                    + " preprocess.grayscaleToRgb: true");
        }
        if (count(data) == count(fed)) {
            return Optional.of("the element counts agree: set model param preprocess.fedShape: "
                    + Arrays.toString(data));
        }
        if (data.length == 3 && fed.length == 3 && data[2] == fed[2] && pre.resize() == null) {
            return Optional.of("the images differ in size: set model params preprocess.fedShape: "
                    + Arrays.toString(data) + " and preprocess.resize: [" + fed[0] + ", " + fed[1] + "] (bilinear),"
                    + " or resize on load (image-folder param size)");
        }
        return Optional.empty();
    }

    /** The preprocessing ops from {@code raw}; returns the tensor that replaces the model input. */
    static String build(String raw, TensorFlowBackend.Preprocess pre, Plan plan, DataType dtype, List<NodeDef> out) {
        String t = raw;
        int[] shape = plan.fed();
        if (pre.grayscaleToRgb()) {
            if (shape.length == 2) {
                out.add(NodeDefs.ints(S + "channel_axis", new int[] {-1}));
                out.add(NodeDefs.op(S + "channel", "ExpandDims", t, S + "channel_axis").putAttr("T", f32())
                        .putAttr("Tdim", NodeDefs.type(DataType.DT_INT32)).build());
                t = S + "channel";
            }
            out.add(NodeDefs.ints(S + "rgb_multiples", new int[] {1, 1, 1, 3}, 4));
            out.add(NodeDefs.op(S + "rgb", "Tile", t, S + "rgb_multiples").putAttr("T", f32())
                    .putAttr("Tmultiples", NodeDefs.type(DataType.DT_INT32)).build());
            t = S + "rgb";
        }
        if (pre.resize() != null) {
            out.add(NodeDefs.ints(S + "resize_size", new int[] {pre.resize().get(0), pre.resize().get(1)}, 2));
            out.add(NodeDefs.op(S + "resize", "ResizeBilinear", t, S + "resize_size").putAttr("T", f32())
                    .putAttr("align_corners", bool(false)).putAttr("half_pixel_centers", bool(true)).build());
            t = S + "resize";
        }
        if (pre.centerCrop() != null) {
            int h = pre.resize() != null ? pre.resize().get(0) : plan.fed()[0];
            int w = pre.resize() != null ? pre.resize().get(1) : plan.fed()[1];
            int ch = pre.centerCrop().get(0);
            int cw = pre.centerCrop().get(1);
            out.add(NodeDefs.ints(S + "crop_begin", new int[] {0, (h - ch) / 2, (w - cw) / 2, 0}, 4));
            out.add(NodeDefs.ints(S + "crop_size", new int[] {-1, ch, cw, -1}, 4));
            out.add(NodeDefs.op(S + "crop", "Slice", t, S + "crop_begin", S + "crop_size").putAttr("T", f32())
                    .putAttr("Index", NodeDefs.type(DataType.DT_INT32)).build());
            t = S + "crop";
        }
        if (pre.scale() != 1.0) {
            out.add(NodeDefs.fill(S + "scale_value", (float) pre.scale()));
            out.add(NodeDefs.binary(S + "scale", "Mul", t, S + "scale_value", DataType.DT_FLOAT));
            t = S + "scale";
        }
        if (pre.shift() != 0.0) {
            out.add(NodeDefs.fill(S + "shift_value", (float) pre.shift()));
            out.add(NodeDefs.binary(S + "shift", "AddV2", t, S + "shift_value", DataType.DT_FLOAT));
            t = S + "shift";
        }
        int rank = plan.working().length;
        if (pre.perImageStandardization() && rank > 0) {
            int[] axes = new int[rank];
            for (int i = 0; i < rank; i++) {
                axes[i] = i + 1;
            }
            String s = S + "standardize/";
            out.add(NodeDefs.ints(s + "axes", axes, rank));
            out.add(reduce(s + "mean", "Mean", t, s + "axes"));
            out.add(NodeDefs.binary(s + "centered", "Sub", t, s + "mean", DataType.DT_FLOAT));
            out.add(NodeDefs.op(s + "square", "Square", s + "centered").putAttr("T", f32()).build());
            out.add(reduce(s + "variance", "Mean", s + "square", s + "axes"));
            out.add(NodeDefs.op(s + "stddev", "Sqrt", s + "variance").putAttr("T", f32()).build());
            out.add(NodeDefs.fill(s + "min_stddev", (float) (1.0 / Math.sqrt(count(plan.working())))));
            out.add(NodeDefs.binary(s + "adjusted_stddev", "Maximum", s + "stddev", s + "min_stddev",
                    DataType.DT_FLOAT));
            out.add(NodeDefs.binary(s + "out", "RealDiv", s + "centered", s + "adjusted_stddev", DataType.DT_FLOAT));
            t = s + "out";
        }
        if (pre.l2NormalizeAxis() != null) {
            int a = pre.l2NormalizeAxis();
            int axis = a > 0 ? a : rank + 1 + a;
            String s = S + "l2_normalize/";
            out.add(NodeDefs.ints(s + "axis", new int[] {axis}, 1));
            out.add(NodeDefs.op(s + "square", "Square", t).putAttr("T", f32()).build());
            out.add(reduce(s + "sum", "Sum", s + "square", s + "axis"));
            out.add(NodeDefs.op(s + "norm", "Sqrt", s + "sum").putAttr("T", f32()).build());
            // a zero norm divides by one, as tf.keras.utils.normalize: the example stays zero
            out.add(NodeDefs.binary(s + "out", "DivNoNan", t, s + "norm", DataType.DT_FLOAT));
            t = s + "out";
        }
        if (pre.mean() != null) {
            out.add(NodeDefs.floats(S + "mean_value", floats(pre.mean()), pre.mean().size()));
            out.add(NodeDefs.binary(S + "mean", "Sub", t, S + "mean_value", DataType.DT_FLOAT));
            t = S + "mean";
        }
        if (pre.std() != null) {
            out.add(NodeDefs.floats(S + "std_value", floats(pre.std()), pre.std().size()));
            out.add(NodeDefs.binary(S + "std", "RealDiv", t, S + "std_value", DataType.DT_FLOAT));
            t = S + "std";
        }
        if (pre.layout() == TensorFlowBackend.Layout.NCHW) {
            out.add(NodeDefs.ints(S + "perm", new int[] {0, 3, 1, 2}, 4));
            out.add(NodeDefs.op(S + "nchw", "Transpose", t, S + "perm").putAttr("T", f32())
                    .putAttr("Tperm", NodeDefs.type(DataType.DT_INT32)).build());
            t = S + "nchw";
        }
        if (plan.reshapeTo() != null) {
            int[] to = plan.reshapeTo();
            out.add(NodeDefs.ints(S + "shape", to, to.length));
            out.add(NodeDefs.op(S + "reshape", "Reshape", t, S + "shape").putAttr("T", f32())
                    .putAttr("Tshape", NodeDefs.type(DataType.DT_INT32)).build());
            t = S + "reshape";
        }
        if (dtype != DataType.DT_FLOAT) {
            if (INTEGERS.contains(dtype)) {
                out.add(NodeDefs.op(S + "round", "Round", t).putAttr("T", f32()).build());
                t = S + "round";
            }
            out.add(NodeDefs.op(S + "cast", "Cast", t).putAttr("SrcT", f32()).putAttr("DstT", NodeDefs.type(dtype))
                    .putAttr("Truncate", bool(false)).build());
            t = S + "cast";
        }
        return t;
    }

    private static NodeDef reduce(String name, String type, String input, String axes) {
        return NodeDefs.op(name, type, input, axes).putAttr("T", f32()).putAttr("Tidx", NodeDefs.type(DataType.DT_INT32))
                .putAttr("keep_dims", bool(true)).build();
    }

    private static AttrValue f32() {
        return NodeDefs.type(DataType.DT_FLOAT);
    }

    private static AttrValue bool(boolean b) {
        return AttrValue.newBuilder().setB(b).build();
    }

    private static float[] floats(List<Double> values) {
        float[] f = new float[values.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = values.get(i).floatValue();
        }
        return f;
    }

    static long count(int[] shape) {
        long n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    static long[] prepend(long first, long[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
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

    /** @return the steps in use, in order, for the model's description */
    static List<String> steps(TensorFlowBackend.Preprocess pre) {
        List<String> s = new ArrayList<>();
        if (pre.grayscaleToRgb()) {
            s.add("grayscaleToRgb");
        }
        if (pre.resize() != null) {
            s.add("resize " + pre.resize());
        }
        if (pre.centerCrop() != null) {
            s.add("centerCrop " + pre.centerCrop());
        }
        if (pre.scale() != 1.0 || pre.shift() != 0.0) {
            s.add("x*" + pre.scale() + "+" + pre.shift());
        }
        if (pre.perImageStandardization()) {
            s.add("perImageStandardization");
        }
        if (pre.l2NormalizeAxis() != null) {
            s.add("l2Normalize axis " + pre.l2NormalizeAxis());
        }
        if (pre.mean() != null || pre.std() != null) {
            s.add("mean/std");
        }
        if (pre.layout() == TensorFlowBackend.Layout.NCHW) {
            s.add("nchw");
        }
        return s;
    }
}
