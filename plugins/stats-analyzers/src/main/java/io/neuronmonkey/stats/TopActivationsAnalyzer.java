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
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.NdArray;
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
 * <p>
 * Per layer (id prefix {@code p}: the name with characters outside {@code [A-Za-z0-9_-]} as '_') the result holds an
 * example set {@code p-top} and, with {@code bottomK > 0}, {@code p-bottom}: one entry per neuron with its ranked
 * examples and, with {@code includeInputs}, their inputs as {@code [neuron, rank, <input dims>]}. The summary holds
 * the run facts and the rules for order, positions and regions.
 * <p>
 * <b>Text.</b> On a layer shaped {@code [T, D]} of a text batch the examples are tokens in context: padding positions
 * never count (max and mean over the real tokens, {@code first}/{@code last} the first/last real token), each kept
 * example records the token its value comes from (the argmax token for max and mean; its sequence position as
 * {@code position = [p]}, its text as metadata {@code token}) and a {@link ExampleSet.TextContext}: up to
 * {@code contextTokens} real tokens on each side with the neuron's activation at each. Only the kept examples hold
 * their window's values and a reference to their tokens, so memory stays neurons x (k + bottomK) x window. With
 * {@code distinctTexts: false} and max, every real token is a candidate of its own, so one example may hold several
 * ranks. Inputs are not copied for text (the contexts show them). On image data {@code first}/{@code last} are the
 * first/last position of a channel (row-major).
 */
@Extension
@ExtensionName(value = "top-activations",
        description = "Per neuron the top-k (and bottom-k) examples with values, ids, labels, metadata and conv argmax positions")
public final class TopActivationsAnalyzer implements StreamingAnalyzer<TopActivationsAnalyzer.Params> {

    /** How a neuron's positions (a conv channel's cells, a sequence's real tokens) become one value per example. */
    public enum Reduce {
        /** the mean over the (real) positions; the argmax position is recorded */
        MEAN,
        /** the max over the (real) positions, recorded with its position (the token that fired) */
        MAX,
        /** the value at the first (real) position */
        FIRST,
        /** the value at the last (real) position */
        LAST
    }

    /** Refuse to keep more input copies than this (bytes); {@code includeInputs: false} avoids the copies. */
    static final long MAX_INPUT_BYTES = 1L << 30;

    /**
     * Params of top-activations.
     *
     * @param k             examples kept per neuron with the highest values
     * @param bottomK       examples kept per neuron with the lowest values (0: none)
     * @param reduce        a neuron's value on an example: max or mean over its (real) positions, or its value at the
     *                      first or last (real) position
     * @param includeInputs keep a copy of each kept example's input
     * @param regionMargin  input pixels added on each side of the region a conv position covers
     * @param contextTokens text: real tokens kept on each side of the token that fired
     * @param distinctTexts text: one entry per example (its best token) rather than one per token (max only)
     */
    public record Params(
            @Param(defaultValue = "16", description = "top examples per neuron, 1..1000") int k,
            @Param(defaultValue = "0", description = "bottom examples per neuron, 0..1000") int bottomK,
            @Param(defaultValue = "max", description = "value per example over a neuron's positions (conv cells, real tokens; padding never counts): max (argmax position/token recorded), mean, first or last (image data: first/last position)") Reduce reduce,
            @Param(defaultValue = "true", description = "keep a copy of each kept example's input (memory: neurons x (k + bottomK) x input size)") boolean includeInputs,
            @Param(defaultValue = "1", description = "input pixels added around the region a conv position covers, 0..1000") int regionMargin,
            @Param(defaultValue = "8", description = "text: real tokens shown on each side of the token that fired, 0..1000") int contextTokens,
            @Param(defaultValue = "true", description = "text: keep one entry per example, its best token; false (with max): every token is a candidate, so an example may hold several ranks") boolean distinctTexts) implements java.io.Serializable {

        /** Checks every field. */
        public Params {
            Violations.check()
                    .require(k >= 1 && k <= 1000, "k", "must be between 1 and 1000, found " + k)
                    .require(bottomK >= 0 && bottomK <= 1000, "bottomK", "must be between 0 and 1000, found " + bottomK)
                    .require(reduce != null, "reduce", "must be mean, max, first or last")
                    .require(regionMargin >= 0 && regionMargin <= 1000, "regionMargin", "must be between 0 and 1000, found " + regionMargin)
                    .require(contextTokens >= 0 && contextTokens <= 1000, "contextTokens", "must be between 0 and 1000, found " + contextTokens)
                    .throwIfAny();
        }

        /**
         * The params of earlier releases: 8 context tokens, one entry per text.
         *
         * @param k             see the record
         * @param bottomK       see the record
         * @param reduce        see the record
         * @param includeInputs see the record
         * @param regionMargin  see the record
         */
        public Params(int k, int bottomK, Reduce reduce, boolean includeInputs, int regionMargin) {
            this(k, bottomK, reduce, includeInputs, regionMargin, 8, true);
        }
    }

    @Override
    public Accumulator start(AnalyzerContext<Params> ctx) {
        DatasetInfo info = ctx.data().map(d -> d.info()).orElse(null);
        List<String> classes = info == null ? List.of() : info.classNames();
        int[] inputShape = info == null ? null : info.exampleShape();
        Params p = ctx.params();
        if (p.includeInputs() && inputShape != null && !info.text()) {
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
    static final class Tops implements Accumulator, java.io.Serializable {

        private static final long serialVersionUID = 1L;
        private final Params params;
        private final List<LayerInfo> layers;
        private final List<String> classNames;
        private int[] inputShape;
        private final Map<String, Reducer> reducers = new LinkedHashMap<>();
        private final Map<String, BoundedHeaps> top = new LinkedHashMap<>();
        private final Map<String, BoundedHeaps> bottom = new LinkedHashMap<>();
        private final SharedInputs inputs = new SharedInputs();
        /** entries admitted in the current batch, whose ids are looked up when it is done */
        private final List<BoundedHeaps.Kept> admitted = new ArrayList<>();
        /** per example, its metadata as results carry it (sorted keys, parsed values), built once while results are built */
        private final Map<Long, Map<String, Object>> resultMetadata = new java.util.HashMap<>();
        /** metadata values parsed as JSON numbers where they are, memoized while results are built */
        private final Map<String, Object> parsedValues = new java.util.HashMap<>();
        private long examples;
        private long skippedNaN;
        /** true once a text batch was seen: no input copies, text contexts instead */
        private boolean text;

        Tops(Params params, List<LayerInfo> layers, List<String> classNames, int[] inputShape) {
            this.params = params;
            this.layers = List.copyOf(layers);
            this.classNames = List.copyOf(classNames);
            this.inputShape = inputShape == null ? null : inputShape.clone();
            for (LayerInfo l : layers) {
                reducers.put(l.name(), new Reducer(l, Reducer.Mode.valueOf(params.reduce().name())));
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
            text |= b.isText();
            if (params.includeInputs() && !b.isText()) {
                inputs.batch(b.inputs(), n);
            }
            for (LayerInfo l : layers) {
                Tensor act = ab.activation(l.name());
                boolean[] mask = b.isText() ? b.positionMask(l.positions()) : null;
                BoundedHeaps t = top.get(l.name());
                BoundedHeaps bt = bottom.get(l.name());
                if (mask != null && !params.distinctTexts() && params.reduce() == Reduce.MAX) {
                    everyToken(l, act, mask, b, t, bt);
                    continue;
                }
                Reducer red = reducers.get(l.name());
                float[] v = red.reduce(act, n, mask);
                boolean positioned = l.spatial() || mask != null;
                int nn = l.neurons();
                // top-k by threshold: one comparison per value against each neuron's bar (its k-th value once the
                // heap is full); the heaps see only the rare values at or past it. NaN fails both comparisons.
                float[] topBar = t.bars();
                float[] bottomBar = bt == null ? null : bt.bars();
                for (int e = 0; e < n; e++) {
                    long ex = b.offset() + e;
                    int row = e * nn;
                    for (int c = 0; c < nn; c++) {
                        float x = v[row + c];
                        boolean inTop = x >= topBar[c];
                        boolean inBottom = bottomBar != null && x <= bottomBar[c];
                        if (!(inTop | inBottom)) {
                            skippedNaN += x != x ? 1 : 0;
                            continue;
                        }
                        // the position is looked up only for a value a heap takes: ties at the bar (a channel that
                        // is 0 almost everywhere) are refused by example index alone, since one example is offered
                        // once per neuron here
                        if (inTop) {
                            offer(t, c, x, ex, positioned ? red : null, b, e, act, mask, l);
                        }
                        if (inBottom) {
                            offer(bt, c, x, ex, positioned ? red : null, b, e, act, mask, l);
                        }
                    }
                }
            }
            // ids are made for the entries still kept at the end of the batch, not for every entry admitted
            for (BoundedHeaps.Kept k : admitted) {
                k.resolveId();
            }
            admitted.clear();
            examples += n;
        }

        /** Text, max, {@code distinctTexts: false}: every real token of every example is a candidate. */
        private void everyToken(LayerInfo l, Tensor act, boolean[] mask, Batch b, BoundedHeaps t, BoundedHeaps bt) {
            float[] a = act.floats();
            int nn = l.neurons();
            int positions = l.positions();
            if (a.length != b.size() * positions * nn) {
                throw new AnalysisException("layer '" + l.name() + "' gave " + act + " for " + b.size() + " examples; expected "
                        + (long) positions * nn + " values per example");
            }
            for (int e = 0; e < b.size(); e++) {
                long ex = b.offset() + e;
                for (int p = 0; p < positions; p++) {
                    if (!mask[e * positions + p]) {
                        continue;
                    }
                    int off = (e * positions + p) * nn;
                    for (int c = 0; c < nn; c++) {
                        float x = a[off + c];
                        if (Float.isNaN(x)) {
                            skippedNaN++;
                            continue;
                        }
                        offer(t, c, x, ex, p, b, e, act, mask, l);
                        if (bt != null) {
                            offer(bt, c, x, ex, p, b, e, act, mask, l);
                        }
                    }
                }
            }
        }

        /** As {@link #offer(BoundedHeaps, int, float, long, int, Batch, int, Tensor, boolean[], LayerInfo)}, the
         *  position found by {@code red} (null: none) once the heap has taken the value. */
        private void offer(BoundedHeaps h, int c, float x, long ex, Reducer red, Batch b, int e, Tensor act, boolean[] mask,
                           LayerInfo l) {
            int slot = h.claim(c, x, ex, 0);
            if (slot < 0) {
                return;
            }
            int pos = red == null ? -1 : red.position(e, c);
            h.position(slot, pos);
            fill(h, slot, c, ex, pos, b, e, act, mask, l);
        }

        private void offer(BoundedHeaps h, int c, float x, long ex, int pos, Batch b, int e, Tensor act, boolean[] mask,
                           LayerInfo l) {
            int slot = h.claim(c, x, ex, pos);
            if (slot < 0) {
                return;
            }
            fill(h, slot, c, ex, pos, b, e, act, mask, l);
        }

        /** Writes a claimed slot's payload and restores the heap order. */
        private void fill(BoundedHeaps h, int slot, int c, long ex, int pos, Batch b, int e, Tensor act, boolean[] mask,
                          LayerInfo l) {
            BoundedHeaps.Kept k = h.payload(slot);
            k.id = null;
            k.idSource = b.ids();
            k.idRow = e;
            admitted.add(k);
            k.label = b.labels() == null ? -1 : b.labels()[e];
            k.metadata = b.metadata().get(e); // kept by reference: sources do not change a batch once handed out
            k.tokens = b.isText() ? b.tokens().get(e) : null;
            k.windowLength = 0;
            if (mask != null && pos >= 0 && pos < k.tokens.length()) {
                keepWindow(k, c, pos, e, act.floats(), mask, l);
            }
            if (params.includeInputs() && !b.isText()) {
                // one shared copy per kept example, not one per kept entry
                inputs.release(k.input);
                k.input = inputs.retain(e);
            }
            h.settle(c, slot);
        }

        /** Copies the neuron's values at the window around the firing token into the kept entry. */
        private void keepWindow(BoundedHeaps.Kept k, int c, int pos, int e, float[] act, boolean[] mask, LayerInfo l) {
            int positions = l.positions();
            int nn = l.neurons();
            int[] w = TextContexts.window(k.tokens, pos, params.contextTokens(), positions);
            int len = w[1] - w[0] + 1;
            if (k.window == null || k.window.length < len) {
                k.window = new float[2 * params.contextTokens() + 1];
            }
            for (int p = w[0], i = 0; p <= w[1]; p++, i++) {
                k.window[i] = mask[e * positions + p] ? act[(e * positions + p) * nn + c] : Float.NaN;
            }
            k.windowFirst = w[0];
            k.windowLength = len;
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
            // the heaps now hold rows of both stores: count again what they hold
            inputs.recount(count -> {
                for (BoundedHeaps h : top.values()) {
                    h.forEachKept(k -> count.accept(k.input));
                }
                for (BoundedHeaps h : bottom.values()) {
                    h.forEachKept(k -> count.accept(k.input));
                }
            });
            if (o.inputShape != null && o.examples > 0) {
                inputShape = o.inputShape;
            }
            text |= o.text;
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
            r.put("includeInputs", params.includeInputs() && !text);
            r.put("order", "top: largest value first, bottom: smallest first; equal values: smaller example index first");
            r.put("positionRule", "spatial layers: [row, col] in the layer's [H, W] of the channel's maximum (first in "
                    + "row-major order when tied), also when reduce is mean");
            r.put("regionRule", "input rows [floor(row*inputH/H), ceil((row+1)*inputH/H) - 1] and columns "
                    + "[floor(col*inputW/W), ceil((col+1)*inputW/W) - 1], widened by regionMargin=" + params.regionMargin()
                    + " input pixels on each side and clipped to the input; given as [top, left, bottom, right], inclusive");
            r.put("nanValuesSkipped", skippedNaN);
            if (text) {
                r.put("contextTokens", params.contextTokens());
                r.put("distinctTexts", params.distinctTexts());
                r.put("textRule", "layers with token positions: padding positions never count; each example records "
                        + "the token its value comes from (" + (params.reduce() == Reduce.FIRST ? "the first real token"
                        : params.reduce() == Reduce.LAST ? "the last real token" : "the argmax real token, the first when tied")
                        + ") as position [p] and metadata 'token', and a text context of up to " + params.contextTokens()
                        + " real tokens on each side: pieces are each token's text with the text since the previous token "
                        + "(special tokens by their token string), values the neuron's activation at each; "
                        + (params.distinctTexts() || params.reduce() != Reduce.MAX ? "one entry per example"
                        : "every real token is a candidate, so an example may hold several ranks (equal values: "
                        + "earlier token first)") + "; inputs are not copied for text; layers without token "
                        + "positions carry the example's text as metadata 'text'");
            }
            Ids ids = new Ids();
            for (LayerInfo l : layers) {
                String p = ids.prefix(l.name());
                r.part(exampleSet(l, ids.unique(p + "-top"), "top", top.get(l.name()), params.k()));
                if (params.bottomK() > 0) {
                    r.part(exampleSet(l, ids.unique(p + "-bottom"), "bottom", bottom.get(l.name()), params.bottomK()));
                }
            }
            resultMetadata.clear();
            return r.build();
        }

        private ExampleSet exampleSet(LayerInfo l, String id, String order, BoundedHeaps heaps, int k) {
            int nn = l.neurons();
            int inputSize = inputShape == null ? 0 : Arrays.stream(inputShape).reduce(1, (a, b) -> a * b);
            float[] inputs = params.includeInputs() && inputShape != null && !text ? new float[nn * k * inputSize] : null;
            if (inputs != null) {
                Arrays.fill(inputs, Float.NaN);
            }
            List<ExampleSet.NeuronExamples> neurons = new ArrayList<>(nn);
            for (int c = 0; c < nn; c++) {
                List<BoundedHeaps.Entry> list = heaps.sorted(c);
                List<ExampleSet.Example> examples = new ArrayList<>(list.size());
                for (int j = 0; j < list.size(); j++) {
                    BoundedHeaps.Entry en = list.get(j);
                    examples.add(example(l, j + 1, en));
                    if (inputs != null && en.kept().input != null && en.kept().input.data.length == inputSize) {
                        System.arraycopy(en.kept().input.data, 0, inputs, (c * k + j) * inputSize, inputSize);
                    }
                }
                neurons.add(new ExampleSet.NeuronExamples(c, examples));
            }
            NdArray in = null;
            if (inputs != null) {
                int[] shape = new int[2 + inputShape.length];
                shape[0] = nn;
                shape[1] = k;
                System.arraycopy(inputShape, 0, shape, 2, inputShape.length);
                in = new NdArray(Tensor.ofFloats(inputs, shape), inputDims(inputShape.length));
            }
            String value = value(l, neurons);
            return new ExampleSet(id, l.name() + ": " + order + " examples", l.name(), order, value, neurons, in, classNames);
        }

        /** @return what an example's value is: as always for image data, over the real tokens for token layers */
        private String value(LayerInfo l, List<ExampleSet.NeuronExamples> neurons) {
            boolean tokens = neurons.stream().flatMap(ne -> ne.examples().stream()).anyMatch(x -> x.text() != null);
            String mode = params.reduce().name().toLowerCase(Locale.ROOT);
            if (tokens) {
                return switch (params.reduce()) {
                    case MAX -> params.distinctTexts() ? "max over real tokens" : "activation at a real token";
                    case MEAN -> "mean over real tokens";
                    case FIRST -> "value at the first real token";
                    case LAST -> "value at the last real token";
                };
            }
            if (l.spatial()) {
                return params.reduce() == Reduce.FIRST || params.reduce() == Reduce.LAST
                        ? "value at the " + mode + " position" : mode + " over positions";
            }
            return "activation";
        }

        /** @return the entry's metadata with sorted keys and values parsed as JSON numbers where they are (a fresh map) */
        private Map<String, Object> metadata(BoundedHeaps.Kept kept) {
            Map<String, Object> metadata = new LinkedHashMap<>();
            if (kept.metadata != null) {
                new TreeMap<>(kept.metadata).forEach((key, v) -> metadata.put(key, v == null ? null
                        : parsedValues.computeIfAbsent(v, Numbers::parse)));
            }
            return metadata;
        }

        private ExampleSet.Example example(LayerInfo l, int rank, BoundedHeaps.Entry en) {
            int label = en.kept().label;
            BoundedHeaps.Kept kept = en.kept();
            kept.resolveId();
            // the same examples recur across neurons and layers: each one's metadata is sorted and parsed once
            Map<String, Object> metadata = kept.tokens != null ? metadata(kept)
                    : resultMetadata.computeIfAbsent(en.example(), x -> ExampleSet.Example.sharedMetadata(metadata(kept)));
            if (kept.tokens != null && kept.windowLength > 0) {
                float[] values = Arrays.copyOf(kept.window, kept.windowLength);
                ExampleSet.TextContext context = TextContexts.context(kept.tokens, kept.windowFirst, values, en.position());
                metadata.put("token", kept.tokens.surface(en.position()));
                return new ExampleSet.Example(rank, en.example(), kept.id, en.value(), label < 0 ? null : label,
                        metadata, new int[]{en.position()}, null, context);
            }
            if (kept.tokens != null) {
                metadata.put("text", kept.tokens.text());
            }
            int[] position = null;
            int[] region = null;
            if (l.spatial()) {
                int[] shape = l.shape();
                int row = en.position() / shape[1];
                int col = en.position() % shape[1];
                position = new int[]{row, col};
                if (inputShape != null && inputShape.length >= 2) {
                    region = region(row, col, shape[0], shape[1], inputShape[0], inputShape[1], params.regionMargin());
                }
            }
            return new ExampleSet.Example(rank, en.example(), en.kept().id, en.value(), label < 0 ? null : label,
                    metadata, position, region);
        }
    }

    /**
     * @param inputRank rank of one example's input
     * @return the dimension names of kept inputs: {@code neuron, rank} then {@code height, width, channel} for
     *         {@code [H, W, C]} inputs, {@code height, width} for {@code [H, W]}, {@code feature} for vectors, and
     *         {@code d0, d1, ...} otherwise
     */
    static List<String> inputDims(int inputRank) {
        List<String> dims = new ArrayList<>(List.of("neuron", "rank"));
        switch (inputRank) {
            case 3 -> dims.addAll(List.of("height", "width", "channel"));
            case 2 -> dims.addAll(List.of("height", "width"));
            case 1 -> dims.add("feature");
            default -> {
                for (int i = 0; i < inputRank; i++) {
                    dims.add("d" + i);
                }
            }
        }
        return dims;
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
}
