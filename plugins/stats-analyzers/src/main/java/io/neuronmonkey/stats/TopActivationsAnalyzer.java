package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * For each neuron of the chosen layers, the examples that activate it most (and optionally least): value, example
 * index and id, label, metadata, and for conv channels the position of the maximum and the input region it covers.
 * Exact: bounded heaps per neuron ({@link BoundedHeaps}), ties broken by example index (earlier wins), merged by heap
 * union, so the result is the same however the data is split. With {@code includeInputs} a copy of each kept
 * example's input is kept, so pictures can be drawn; memory is neurons x (k + bottomK) x input size, independent of
 * the number of examples.
 */
@Extension
@ExtensionName(value = "top-activations",
        description = "Per neuron the top-k (and bottom-k) examples with values, ids, labels, metadata and conv argmax positions")
public final class TopActivationsAnalyzer implements StreamingAnalyzer<TopActivationsAnalyzer.Params> {

    /** How the spatial positions of a conv channel are reduced to one value per example. */
    public enum Reduce { MEAN, MAX }

    /** Refuse to keep more input copies than this (bytes); {@code includeInputs: false} avoids the copies. */
    static final long MAX_INPUT_BYTES = 1L << 30;

    /**
     * Params of top-activations.
     *
     * @param k             examples kept per neuron with the highest values
     * @param bottomK       examples kept per neuron with the lowest values (0: none)
     * @param reduce        a conv channel's value on an example: max or mean over its positions
     * @param includeInputs keep a copy of each kept example's input
     * @param regionMargin  input pixels added on each side of the region a conv position covers
     */
    public record Params(
            @Param(defaultValue = "16", description = "top examples per neuron, 1..1000") int k,
            @Param(defaultValue = "0", description = "bottom examples per neuron, 0..1000") int bottomK,
            @Param(defaultValue = "max", description = "conv channel value per example: max (argmax position recorded) or mean over positions") Reduce reduce,
            @Param(defaultValue = "true", description = "keep a copy of each kept example's input (memory: neurons x (k + bottomK) x input size)") boolean includeInputs,
            @Param(defaultValue = "1", description = "input pixels added around the region a conv position covers, 0..1000") int regionMargin) {

        /** Checks every field. */
        public Params {
            Violations.check()
                    .require(k >= 1 && k <= 1000, "k", "must be between 1 and 1000, found " + k)
                    .require(bottomK >= 0 && bottomK <= 1000, "bottomK", "must be between 0 and 1000, found " + bottomK)
                    .require(reduce != null, "reduce", "must be mean or max")
                    .require(regionMargin >= 0 && regionMargin <= 1000, "regionMargin", "must be between 0 and 1000, found " + regionMargin)
                    .throwIfAny();
        }
    }

    @Override
    public Accumulator start(AnalyzerContext<Params> ctx) {
        DatasetInfo info = ctx.data().map(d -> d.info()).orElse(null);
        List<String> classes = info == null ? List.of() : info.classNames();
        int[] inputShape = info == null ? null : info.exampleShape();
        Params p = ctx.params();
        if (p.includeInputs() && inputShape != null) {
            long perExample = 4L * Arrays.stream(inputShape).asLongStream().reduce(1, (a, b) -> a * b);
            long neurons = ctx.layers().stream().mapToLong(LayerInfo::neurons).sum();
            long bytes = neurons * (p.k() + p.bottomK()) * perExample;
            if (bytes > MAX_INPUT_BYTES) {
                throw new AnalysisException("step '" + ctx.stepId() + "': keeping the inputs of " + (p.k() + p.bottomK())
                        + " examples for each of " + neurons + " neurons needs " + (bytes >> 20) + " MiB (limit "
                        + (MAX_INPUT_BYTES >> 20) + " MiB); lower k/bottomK, choose fewer layers or set includeInputs: false");
            }
        }
        return new Tops(p, ctx.layers(), classes, inputShape);
    }

    /** The accumulator: top and bottom heaps per layer. */
    static final class Tops implements Accumulator {
        private final Params params;
        private final List<LayerInfo> layers;
        private final List<String> classNames;
        private int[] inputShape;
        private final Map<String, Reducer> reducers = new LinkedHashMap<>();
        private final Map<String, BoundedHeaps> top = new LinkedHashMap<>();
        private final Map<String, BoundedHeaps> bottom = new LinkedHashMap<>();
        private long examples;
        private long skippedNaN;

        Tops(Params params, List<LayerInfo> layers, List<String> classNames, int[] inputShape) {
            this.params = params;
            this.layers = List.copyOf(layers);
            this.classNames = List.copyOf(classNames);
            this.inputShape = inputShape == null ? null : inputShape.clone();
            for (LayerInfo l : layers) {
                reducers.put(l.name(), new Reducer(l, params.reduce() == Reduce.MAX));
                top.put(l.name(), new BoundedHeaps(l.neurons(), params.k(), true));
                if (params.bottomK() > 0) {
                    bottom.put(l.name(), new BoundedHeaps(l.neurons(), params.bottomK(), false));
                }
            }
        }

        @Override
        public void accept(ActivationBatch ab) {
            Batch b = ab.batch();
            int n = b.size();
            int[] shape = b.inputs().shape();
            int[] exampleShape = Arrays.copyOfRange(shape, 1, shape.length);
            if (inputShape == null || n > 0 && !Arrays.equals(inputShape, exampleShape)) {
                inputShape = exampleShape;
            }
            for (LayerInfo l : layers) {
                Reducer red = reducers.get(l.name());
                float[] v = red.reduce(ab.activation(l.name()), n);
                int[] arg = red.argmax();
                boolean spatial = l.spatial();
                int nn = l.neurons();
                BoundedHeaps t = top.get(l.name());
                BoundedHeaps bt = bottom.get(l.name());
                for (int e = 0; e < n; e++) {
                    long ex = b.offset() + e;
                    for (int c = 0; c < nn; c++) {
                        float x = v[e * nn + c];
                        if (Float.isNaN(x)) {
                            skippedNaN++;
                            continue;
                        }
                        int pos = spatial ? arg[e * nn + c] : -1;
                        offer(t, c, x, ex, pos, b, e);
                        if (bt != null) {
                            offer(bt, c, x, ex, pos, b, e);
                        }
                    }
                }
            }
            examples += n;
        }

        private void offer(BoundedHeaps h, int c, float x, long ex, int pos, Batch b, int e) {
            int slot = h.claim(c, x, ex, pos);
            if (slot < 0) {
                return;
            }
            BoundedHeaps.Kept k = h.payload(slot);
            k.id = b.ids().get(e);
            k.label = b.labels() == null ? -1 : b.labels()[e];
            k.metadata = b.metadata().get(e); // kept by reference: sources do not change a batch once handed out
            if (params.includeInputs()) {
                int rs = b.inputs().rowSize();
                if (k.input == null || k.input.length != rs) {
                    k.input = new float[rs];
                }
                System.arraycopy(b.inputs().floats(), e * rs, k.input, 0, rs);
            }
            h.settle(c, slot);
        }

        @Override
        public void merge(Accumulator other) {
            Tops o = (Tops) other;
            for (LayerInfo l : layers) {
                top.get(l.name()).merge(o.top.get(l.name()));
                if (params.bottomK() > 0) {
                    bottom.get(l.name()).merge(o.bottom.get(l.name()));
                }
            }
            if (o.inputShape != null && o.examples > 0) {
                inputShape = o.inputShape;
            }
            examples += o.examples;
            skippedNaN += o.skippedNaN;
        }

        @Override
        public AnalysisResult finish() {
            AnalysisResult.Builder r = AnalysisResult.builder();
            r.put("analyzer", "top-activations");
            r.put("k", params.k());
            r.put("bottomK", params.bottomK());
            r.put("reduce", params.reduce().name().toLowerCase(Locale.ROOT));
            r.put("examples", examples);
            r.put("classNames", classNames);
            r.put("inputShape", inputShape == null ? null : Arrays.stream(inputShape).boxed().toList());
            r.put("includeInputs", params.includeInputs());
            r.put("order", "top: largest value first, bottom: smallest first; equal values: smaller example index first");
            r.put("positionRule", "spatial layers: [row, col] in the layer's [H, W] of the channel's maximum (first in "
                    + "row-major order when tied), also when reduce is mean");
            r.put("regionRule", "input rows [floor(row*inputH/H), ceil((row+1)*inputH/H) - 1] and columns "
                    + "[floor(col*inputW/W), ceil((col+1)*inputW/W) - 1], widened by regionMargin=" + params.regionMargin()
                    + " input pixels on each side and clipped to the input; given as [top, left, bottom, right], inclusive");
            r.put("nanValuesSkipped", skippedNaN);
            List<Object> out = new ArrayList<>();
            for (LayerInfo l : layers) {
                out.add(layer(l, r));
            }
            r.put("layers", out);
            return r.build();
        }

        private Map<String, Object> layer(LayerInfo l, AnalysisResult.Builder r) {
            String prefix = arrayName(l.name());
            Map<String, Object> arrays = new LinkedHashMap<>();
            List<List<BoundedHeaps.Entry>> tops = new ArrayList<>();
            List<List<BoundedHeaps.Entry>> bottoms = new ArrayList<>();
            for (int c = 0; c < l.neurons(); c++) {
                tops.add(top.get(l.name()).sorted(c));
                bottoms.add(params.bottomK() > 0 ? bottom.get(l.name()).sorted(c) : List.of());
            }
            emitArrays(l, "top", tops, params.k(), prefix, arrays, r);
            if (params.bottomK() > 0) {
                emitArrays(l, "bottom", bottoms, params.bottomK(), prefix, arrays, r);
            }
            List<Object> neurons = new ArrayList<>();
            for (int c = 0; c < l.neurons(); c++) {
                Map<String, Object> nm = new LinkedHashMap<>();
                nm.put("index", c);
                nm.put("top", entries(l, tops.get(c)));
                if (params.bottomK() > 0) {
                    nm.put("bottom", entries(l, bottoms.get(c)));
                }
                neurons.add(nm);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", l.name());
            m.put("opType", l.opType());
            m.put("shape", Arrays.stream(l.shape()).boxed().toList());
            m.put("spatial", l.spatial());
            m.put("neurons", l.neurons());
            m.put("arrays", arrays);
            m.put("neuronStats", neurons);
            return m;
        }

        /** Values [neurons, k] (NaN where fewer than k), example indices [neurons, k] (-1), inputs, positions. */
        private void emitArrays(LayerInfo l, String which, List<List<BoundedHeaps.Entry>> lists, int k, String prefix,
                                Map<String, Object> arrays, AnalysisResult.Builder r) {
            int nn = l.neurons();
            float[] values = new float[nn * k];
            int[] examples = new int[nn * k];
            Arrays.fill(values, Float.NaN);
            Arrays.fill(examples, -1);
            int inputSize = inputShape == null ? 0 : Arrays.stream(inputShape).reduce(1, (a, b) -> a * b);
            float[] inputs = params.includeInputs() && inputShape != null ? new float[nn * k * inputSize] : null;
            if (inputs != null) {
                Arrays.fill(inputs, Float.NaN);
            }
            int[] positions = l.spatial() ? new int[nn * k * 2] : null;
            if (positions != null) {
                Arrays.fill(positions, -1);
            }
            int w = l.spatial() ? l.shape()[1] : 1;
            for (int c = 0; c < nn; c++) {
                List<BoundedHeaps.Entry> list = lists.get(c);
                for (int j = 0; j < list.size(); j++) {
                    BoundedHeaps.Entry en = list.get(j);
                    values[c * k + j] = en.value();
                    examples[c * k + j] = en.example() > Integer.MAX_VALUE ? -1 : (int) en.example();
                    if (inputs != null && en.kept().input != null && en.kept().input.length == inputSize) {
                        System.arraycopy(en.kept().input, 0, inputs, (c * k + j) * inputSize, inputSize);
                    }
                    if (positions != null) {
                        positions[(c * k + j) * 2] = en.position() / w;
                        positions[(c * k + j) * 2 + 1] = en.position() % w;
                    }
                }
            }
            r.array(prefix + "-" + which + "-values", Tensor.ofFloats(values, nn, k));
            arrays.put(which + "Values", prefix + "-" + which + "-values");
            r.array(prefix + "-" + which + "-examples", Tensor.ofInts(examples, nn, k));
            arrays.put(which + "Examples", prefix + "-" + which + "-examples");
            if (inputs != null) {
                int[] shape = new int[2 + inputShape.length];
                shape[0] = nn;
                shape[1] = k;
                System.arraycopy(inputShape, 0, shape, 2, inputShape.length);
                r.array(prefix + "-" + which + "-inputs", Tensor.ofFloats(inputs, shape));
                arrays.put(which + "Inputs", prefix + "-" + which + "-inputs");
            }
            if (positions != null) {
                r.array(prefix + "-" + which + "-positions", Tensor.ofInts(positions, nn, k, 2));
                arrays.put(which + "Positions", prefix + "-" + which + "-positions");
            }
        }

        private List<Object> entries(LayerInfo l, List<BoundedHeaps.Entry> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (int j = 0; j < list.size(); j++) {
                BoundedHeaps.Entry en = list.get(j);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("rank", j + 1);
                m.put("value", (double) en.value());
                m.put("example", en.example());
                m.put("id", en.kept().id);
                int label = en.kept().label;
                m.put("label", label);
                m.put("className", label >= 0 && label < classNames.size() ? classNames.get(label) : null);
                m.put("metadata", en.kept().metadata == null ? Map.of() : new TreeMap<>(en.kept().metadata));
                if (l.spatial()) {
                    int[] shape = l.shape();
                    int row = en.position() / shape[1];
                    int col = en.position() % shape[1];
                    m.put("position", List.of(row, col));
                    if (inputShape != null && inputShape.length >= 2) {
                        m.put("region", Arrays.stream(region(row, col, shape[0], shape[1], inputShape[0], inputShape[1],
                                params.regionMargin())).boxed().toList());
                    }
                }
                out.add(m);
            }
            return out;
        }
    }

    /**
     * The input pixels a feature-map cell covers under a proportional mapping, widened by {@code margin} and clipped.
     *
     * @return {top, left, bottom, right}, inclusive input coordinates
     */
    static int[] region(int row, int col, int h, int w, int inputH, int inputW, int margin) {
        int top = (int) ((long) row * inputH / h) - margin;
        int bottom = (int) (((long) (row + 1) * inputH + h - 1) / h) - 1 + margin;
        int left = (int) ((long) col * inputW / w) - margin;
        int right = (int) (((long) (col + 1) * inputW + w - 1) / w) - 1 + margin;
        return new int[]{Math.max(0, top), Math.max(0, left), Math.min(inputH - 1, bottom), Math.min(inputW - 1, right)};
    }

    /** A layer name as an array-name prefix: characters outside [A-Za-z0-9_-] become '_'. */
    static String arrayName(String layer) {
        return layer.replaceAll("[^A-Za-z0-9_-]", "_");
    }
}
