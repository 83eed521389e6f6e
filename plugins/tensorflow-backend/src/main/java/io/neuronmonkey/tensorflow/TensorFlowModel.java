package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.Suggestions;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.model.PrunedModel;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.proto.DataType;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TInt64;
import org.tensorflow.types.TString;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A model's {@link AnalysisGraph} and a session ready to capture layers, intervene on them and differentiate
 * through them. Batches are split into runs of at most {@code chunk} rows (exactly the model's fixed batch size,
 * padded, when it has one). Thread-safe: TensorFlow sessions run concurrently; a read-write lock keeps
 * {@link #close()} and the building of gradient subgraphs away from running batches.
 */
final class TensorFlowModel implements LoadedModel {

    private final Graph graph;
    private final Session session;
    private final AutoCloseable owner;
    private final AnalysisGraph analysis;
    private final Map<String, LayerInfo> byName;
    private final Map<String, String> fetchable = new ConcurrentHashMap<>();
    private final Map<String, Gradients.Subgraph> gradients = new ConcurrentHashMap<>();
    private final int chunk;
    private final String description;
    private final Supplier<String> fingerprint;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private final TensorFlowBackend.Preprocess preprocess;
    private final List<LayerInfo> capturable;
    private final Map<String, Original> originals = new ConcurrentHashMap<>();
    private final TfInputs inputs;
    private volatile Map<String, List<String>> parameters;
    private volatile StructuralPruning.Source source;
    private boolean closed;

    /**
     * @param owner       closes graph and session (a SavedModelBundle, or both of them)
     * @param chunk       rows per TensorFlow run
     * @param fingerprint computes the model files' digest on first use
     * @param inputs      the model's inputs and the tensors they are fed through
     */
    TensorFlowModel(Graph graph, Session session, AutoCloseable owner, AnalysisGraph analysis, int chunk,
                    String description, Supplier<String> fingerprint, TensorFlowBackend.Preprocess preprocess,
                    TfInputs inputs) {
        this.inputs = inputs;
        this.graph = graph;
        this.session = session;
        this.owner = owner;
        this.analysis = analysis;
        this.chunk = analysis.fixedBatch > 0 ? analysis.fixedBatch : chunk;
        this.byName = analysis.layers.stream().collect(Collectors.toMap(LayerInfo::name, l -> l, (a, b) -> a,
                LinkedHashMap::new));
        this.description = description;
        this.fingerprint = fingerprint;
        this.preprocess = preprocess;
        this.capturable = analysis.captures.values().stream().map(AnalysisGraph.Capture::info).toList();
        analysis.captures.forEach((name, c) -> fetchable.put(name, c.fetch()));
    }

    /** Keeps the graph and signature the model was loaded from, for {@link #prune}. */
    void source(StructuralPruning.Source s) {
        this.source = s;
    }

    @Override
    public List<LayerInfo> layers() {
        return analysis.layers;
    }

    @Override
    public List<LayerInfo> capturable() {
        return capturable;
    }

    @Override
    public Optional<LayerInfo> layer(String name) {
        LayerInfo l = byName.get(name);
        if (l != null) {
            return Optional.of(l);
        }
        AnalysisGraph.Capture c = capture(name);
        return c == null ? Optional.empty() : Optional.of(c.info());
    }

    @Override
    public Optional<String> inputAdvice(int[] exampleShape) {
        return Preprocessing.advice(exampleShape, analysis.inputShape, preprocess, analysis.inputChannelAxis);
    }

    /**
     * @param name a capture name, a layer's path, or a model op ({@code op}, {@code op:index}, by its graph name or
     *             its name inside a Keras function)
     * @return the capture of that tensor, or null
     */
    private AnalysisGraph.Capture capture(String name) {
        AnalysisGraph.Capture c = analysis.captures.get(name);
        if (c != null) {
            return c;
        }
        for (LayerInfo l : analysis.layers) {
            if (l.path().equals(name)) {
                return analysis.captures.get(l.name());
            }
        }
        TensorRef ref = TensorRef.parse(name);
        String op = analysis.opNames.get(ref.op());
        if (op == null) {
            return null;
        }
        String prefix = analysis.raw.substring(0, analysis.raw.length() - (AnalysisGraph.SCOPE + "raw").length());
        String original = op.substring(prefix.length());
        String captured = analysis.byTensor.get(original + ":" + ref.index());
        return captured == null ? null : analysis.captures.get(captured);
    }

    @Override
    public int[] inputShape() {
        return analysis.inputShape.clone();
    }

    @Override
    public List<ModelInput> inputs() {
        return inputs.list();
    }

    @Override
    public String logitsLayer() {
        return analysis.logits;
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public String fingerprint() {
        return fingerprint.get();
    }

    @Override
    public boolean supportsGradients() {
        return true;
    }

    @Override
    public boolean supportsInterventions() {
        return true;
    }

    @Override
    public Map<String, Tensor> run(Tensor inputs, Collection<String> names) {
        return run(inputs, names, List.of());
    }

    @Override
    public Map<String, Tensor> run(Tensor inputs, Collection<String> names, List<Intervention> interventions) {
        return run(ModelInputs.of(inputs), names, interventions, Map.of());
    }

    @Override
    public Map<String, Tensor> run(ModelInputs inputs, Collection<String> names, List<Intervention> interventions) {
        return run(inputs, names, interventions, Map.of());
    }

    /** {@link #run(ModelInputs, Collection, List)} with extra tensors fed as they are (replacement parameters). */
    Map<String, Tensor> run(ModelInputs inputs, Collection<String> names, List<Intervention> interventions,
                            Map<String, TFloat32> constants) {
        List<String> wanted = new ArrayList<>(new LinkedHashSet<>(names));
        List<String> tensors = new ArrayList<>(wanted.size());
        for (String name : wanted) {
            tensors.add(resolve(name));
        }
        List<TfInputs.Fed> data = dataFeeds(inputs);
        List<RowFeed> feeds = interventionFeeds(interventions, inputs.rows());
        if (wanted.isEmpty()) {
            return Map.of();
        }
        // a fed tensor (token ids, a mask) cannot be fetched in the same run: it is what was fed
        Map<String, Tensor> asFed = new LinkedHashMap<>();
        List<String> fetched = new ArrayList<>();
        for (int i = 0; i < wanted.size(); i++) {
            TensorRef ref = TensorRef.parse(tensors.get(i));
            TfInputs.Fed f = data.stream().filter(d -> TensorRef.parse(d.tensor()).equals(ref)).findFirst()
                    .orElse(null);
            if (f != null) {
                asFed.put(wanted.get(i), TfInputs.asFed(f));
            } else {
                fetched.add(tensors.get(i));
            }
        }
        Tensor[] results = fetched.isEmpty() ? new Tensor[0]
                : execute(data, feeds, null, constants, fetched, "layers " + wanted);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0, j = 0; i < wanted.size(); i++) {
            Tensor fed = asFed.get(wanted.get(i));
            out.put(wanted.get(i), fed != null ? fed : results[j++]);
        }
        return out;
    }

    @Override
    public Tensor gradient(Tensor inputs, GradientTarget target, String wrt) {
        return gradient(inputs, target, wrt, List.of());
    }

    @Override
    public Tensor gradient(Tensor inputs, GradientTarget target, String wrt, List<Intervention> interventions) {
        return gradient(ModelInputs.of(inputs), target, wrt, interventions, Map.of());
    }

    @Override
    public Tensor gradient(ModelInputs inputs, GradientTarget target, String wrt, List<Intervention> interventions) {
        return gradient(inputs, target, wrt, interventions, Map.of());
    }

    /** {@link #gradient(ModelInputs, GradientTarget, String, List)} with extra tensors fed as they are. */
    Tensor gradient(ModelInputs inputs, GradientTarget target, String wrt, List<Intervention> interventions,
                    Map<String, TFloat32> constants) {
        List<TfInputs.Fed> data = dataFeeds(inputs);
        TensorRef t = TensorRef.parse(resolve(target.layer()));
        AnalysisGraph.Capture wc = capture(wrt);
        TensorRef w = wc != null ? TensorRef.parse(wc.model()) : TensorRef.parse(resolve(wrt));
        int[] toLast = wc != null ? wc.toLast() : null;
        requireFloat(wrt, w);
        int[] shape = shapeOf(target.layer(), t);
        int neurons = shape.length == 0 ? 1 : shape[shape.length - 1];
        String key = t.layerName() + "\u0000" + w.layerName();
        Gradients.Subgraph sub = gradients.get(key);
        if (sub == null) {
            lock.writeLock().lock();
            try {
                requireOpen();
                sub = gradients.computeIfAbsent(key, k -> Gradients.build(
                        new String[] {target.layer(), wrt}, graph, analysis.nodes, t, shape.length, neurons,
                        Arrays.stream(shape).reduce(1, Math::multiplyExact), w, toLast,
                        gradients.size(), description));
            } finally {
                lock.writeLock().unlock();
            }
        }
        int n = inputs.rows();
        float[] weights = new float[n * neurons];
        float predicted = 0f;
        switch (target.mode()) {
            case FIXED -> {
                float[] row = target.weights(neurons);
                for (int r = 0; r < n; r++) {
                    System.arraycopy(row, 0, weights, r * neurons, neurons);
                }
            }
            case PER_ROW -> {
                int[] index = target.indexPerRow();
                if (index.length != n) {
                    throw new ModelException("gradient target on '" + target.layer() + "' names " + index.length
                            + " neurons, one per row, for a batch of " + n);
                }
                for (int r = 0; r < n; r++) {
                    if (index[r] < 0 || index[r] >= neurons) {
                        throw new ModelException("gradient target row " + r + ": neuron " + index[r]
                                + " is outside layer '" + target.layer() + "' (0.." + (neurons - 1) + ")");
                    }
                    weights[r * neurons + index[r]] = 1f;
                }
            }
            case PREDICTED -> predicted = 1f;
        }
        List<RowFeed> feeds = new ArrayList<>(interventionFeeds(interventions, n));
        if (target.atPositions()) {
            feeds.add(unitFeed(target, sub, shape, neurons, n, weights));
            java.util.Arrays.fill(weights, 0f);
        }
        feeds.add(new RowFeed(sub.weights(), weights, new long[] {neurons}, 0f));
        return execute(data, feeds, new ScalarFeed(sub.predicted(), predicted), constants, List.of(sub.gradient()),
                "gradient of " + target + " w.r.t. '" + wrt + "'")[0];
    }

    /**
     * The per-unit weights of a target at positions: each row's neuron weights (as chosen by the mode) placed at
     * that row's position, position-major and neuron-minor as the layer is delivered.
     */
    private RowFeed unitFeed(GradientTarget target, Gradients.Subgraph sub, int[] shape, int neurons, int n,
                             float[] weights) {
        int units = Arrays.stream(shape).reduce(1, Math::multiplyExact);
        int positions = units / neurons;
        if (target.mode() == GradientTarget.Mode.PREDICTED) {
            throw new ModelException("gradient target " + target + ": a position applies to a fixed or per-row neuron,"
                    + " not to the predicted one");
        }
        int[] at = target.positionPerRow(n);
        float[] unit = new float[n * units];
        for (int r = 0; r < n; r++) {
            if (at[r] >= positions) {
                throw new ModelException("gradient target row " + r + ": position " + at[r] + " is outside layer '"
                        + target.layer() + "' " + Arrays.toString(shape) + " (0.." + (positions - 1) + ")");
            }
            System.arraycopy(weights, r * neurons, unit, r * units + at[r] * neurons, neurons);
        }
        return new RowFeed(sub.units(), unit, new long[] {units}, 0f);
    }

    /** Refuses a gradient with respect to an integer or string tensor, naming the float layers to use instead. */
    private void requireFloat(String wrt, TensorRef w) {
        DataType type;
        lock.readLock().lock();
        try {
            requireOpen();
            GraphOperation op = graph.operation(w.op());
            type = op == null ? DataType.DT_FLOAT : op.output(w.index()).dataType();
        } finally {
            lock.readLock().unlock();
        }
        if (type != DataType.DT_FLOAT) {
            List<String> floats = analysis.layers.stream().filter(l -> l.role() == LayerInfo.Role.HIDDEN)
                    .map(LayerInfo::name).limit(6).toList();
            throw new ModelException("model " + description + ": cannot take a gradient with respect to '" + wrt
                    + "': it is " + type + " (token ids, masks and text are not differentiable); take it with respect"
                    + " to a float layer fed by it, such as the embedding: " + (floats.isEmpty() ? logitsLayer()
                    : String.join(", ", floats)));
        }
    }

    /** The data feeds of a batch: checked against the model's inputs, the primary first. */
    private List<TfInputs.Fed> dataFeeds(ModelInputs in) {
        if (analysis.rawType == DataType.DT_FLOAT) {
            checkInput(in.primary());
        }
        return inputs.feeds(in.primary(), in.named(), description);
    }

    /** One fed placeholder with a row per example; {@code pad} fills padding rows. */
    private record RowFeed(String tensor, float[] data, long[] perRow, float pad) {
    }

    private record ScalarFeed(String tensor, float value) {
    }

    /**
     * The scale and shift feeds of the interventions, grouped by layer in list order: per row and channel, or, for a
     * layer with a {@link Intervention.Kind#PATCH} among them, per row, position and channel in the model's layout.
     */
    private List<RowFeed> interventionFeeds(List<Intervention> interventions, int n) {
        Map<String, List<Intervention>> byLayer = new LinkedHashMap<>();
        for (Intervention iv : interventions) {
            AnalysisGraph.Splice splice = analysis.splices.get(iv.layer());
            if (splice == null) {
                throw new ModelException("cannot intervene on '" + iv.layer() + "' in model " + description
                        + ": interventions apply to listed layers: " + String.join(", ", byName.keySet()));
            }
            if (iv.vector() != null && iv.vector().length != splice.neurons()) {
                throw new ModelException("steering vector for '" + iv.layer() + "' has " + iv.vector().length
                        + " entries, the layer has " + splice.neurons() + " neurons");
            }
            if (iv.kind() == Intervention.Kind.PATCH) {
                int rows = iv.rows() == null ? n : iv.rows().length;
                int[] layerShape = splice.info().shape();
                int[] expected = new int[layerShape.length + 1];
                expected[0] = rows;
                System.arraycopy(layerShape, 0, expected, 1, layerShape.length);
                if (!Arrays.equals(iv.patch().shape(), expected) || iv.patch().dtype() != DType.FLOAT32) {
                    throw new ModelException("patch of '" + iv.layer() + "' must be FLOAT32 "
                            + Arrays.toString(expected) + " (" + (iv.rows() == null ? "one row per batch row"
                            : "one row per listed row") + ", the layer channels last), found " + iv.patch().dtype()
                            + " " + Arrays.toString(iv.patch().shape()));
                }
            }
            byLayer.computeIfAbsent(iv.layer(), k -> new ArrayList<>()).add(iv);
        }
        List<RowFeed> feeds = new ArrayList<>();
        byLayer.forEach((layer, ivs) -> {
            AnalysisGraph.Splice splice = analysis.splices.get(layer);
            boolean full = ivs.stream().anyMatch(iv -> iv.kind() == Intervention.Kind.PATCH);
            int neurons = splice.neurons();
            int positions = full ? splice.info().positions() : 1;
            float[] scale = new float[n * positions * neurons];
            Arrays.fill(scale, 1f);
            float[] shift = new float[scale.length];
            Arrays.fill(shift, -0f);
            for (Intervention iv : ivs) {
                try {
                    if (full) {
                        iv.applyToPositions(scale, shift, n, positions, neurons);
                    } else {
                        iv.applyTo(scale, shift, n, neurons);
                    }
                } catch (IllegalArgumentException e) {
                    throw new ModelException("intervention " + iv + ": " + e.getMessage(), e);
                }
            }
            long[] perRow = splice.perRow();
            if (full) {
                perRow = splice.full();
                if (!splice.info().channelsLast()) {
                    scale = toModelLayout(scale, n, splice.info());
                    shift = toModelLayout(shift, n, splice.info());
                }
            }
            feeds.add(new RowFeed(splice.scale(), scale, perRow, 1f));
            feeds.add(new RowFeed(splice.shift(), shift, perRow, -0f));
        });
        return feeds;
    }

    /**
     * Moves channels-last rows ({@code [n, outer..., inner..., C]}) to the model's layout ({@code [n, outer..., C,
     * inner...]}, the channels at {@code info.channelAxis()}).
     */
    static float[] toModelLayout(float[] last, int n, LayerInfo info) {
        int[] model = info.modelShape();
        int ca = info.channelAxis();
        int c = model[ca];
        int outer = 1;
        for (int d = 0; d < ca; d++) {
            outer *= model[d];
        }
        int inner = 1;
        for (int d = ca + 1; d < model.length; d++) {
            inner *= model[d];
        }
        float[] out = new float[last.length];
        int row = outer * c * inner;
        for (int r = 0; r < n; r++) {
            int base = r * row;
            for (int o = 0; o < outer; o++) {
                for (int k = 0; k < c; k++) {
                    int dst = base + (o * c + k) * inner;
                    int src = base + o * inner * c + k;
                    for (int i = 0; i < inner; i++) {
                        out[dst + i] = last[src + i * c];
                    }
                }
            }
        }
        return out;
    }

    /**
     * Runs the batch in chunks, feeding the raw input, the given row feeds and the constants (the same tensor in
     * every chunk, owned by the caller), and joins the fetched tensors.
     */
    private Tensor[] execute(List<TfInputs.Fed> data, List<RowFeed> feeds, ScalarFeed scalar,
                             Map<String, TFloat32> constants, List<String> fetches, String what) {
        int n = data.get(0).data().rows();
        int fixed = analysis.fixedBatch;
        Accumulator[] acc = new Accumulator[fetches.size()];
        lock.readLock().lock();
        try {
            requireOpen();
            for (int from = 0; from < n || from == 0; from += chunk) {
                int m = Math.min(chunk, n - from);
                int rows = fixed > 0 ? fixed : m;
                List<org.tensorflow.Tensor> fed = new ArrayList<>();
                try {
                    Session.Runner runner = session.runner();
                    for (TfInputs.Fed d : data) {
                        org.tensorflow.Tensor x = slice(d, from, m, rows);
                        fed.add(x);
                        TensorRef ref = TensorRef.parse(d.tensor());
                        runner.feed(ref.op(), ref.index(), x);
                    }
                    for (RowFeed f : feeds) {
                        int per = Math.toIntExact(Arrays.stream(f.perRow()).reduce(1, (a, b) -> a * b));
                        long[] dims = new long[f.perRow().length + 1];
                        dims[0] = rows;
                        System.arraycopy(f.perRow(), 0, dims, 1, f.perRow().length);
                        TFloat32 t = slice(f.data(), from, m, rows, per, f.pad(), Shape.of(dims));
                        fed.add(t);
                        TensorRef ref = TensorRef.parse(f.tensor());
                        runner.feed(ref.op(), ref.index(), t);
                    }
                    for (Map.Entry<String, TFloat32> c : constants.entrySet()) {
                        TensorRef ref = TensorRef.parse(c.getKey());
                        runner.feed(ref.op(), ref.index(), c.getValue());
                    }
                    if (scalar != null) {
                        TFloat32 s = TFloat32.scalarOf(scalar.value());
                        fed.add(s);
                        runner.feed(scalar.tensor(), s);
                    }
                    for (String f : fetches) {
                        TensorRef ref = TensorRef.parse(f);
                        runner.fetch(ref.op(), ref.index());
                    }
                    try (Result result = runner.run()) {
                        for (int j = 0; j < fetches.size(); j++) {
                            if (acc[j] == null) {
                                acc[j] = new Accumulator(result.get(j), n, what);
                            }
                            acc[j].add(result.get(j), from, m, rows, what);
                        }
                    }
                } catch (ModelException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw new ModelException("running " + description + " for " + what + " failed: "
                            + e.getMessage(), e);
                } finally {
                    fed.forEach(org.tensorflow.Tensor::close);
                }
            }
        } finally {
            lock.readLock().unlock();
        }
        Tensor[] out = new Tensor[acc.length];
        for (int j = 0; j < acc.length; j++) {
            out[j] = acc[j].toTensor();
        }
        return out;
    }

    /**
     * Rows {@code [from, from + m)} of a data tensor as a TensorFlow tensor of {@code rows} rows (padded with zeros
     * or empty strings), of the fed tensor's type: INT32 data are widened for an INT64 input.
     */
    private static org.tensorflow.Tensor slice(TfInputs.Fed d, int from, int m, int rows) {
        Tensor t = d.data();
        long[] dims = Arrays.stream(t.shape()).asLongStream().toArray();
        dims[0] = rows;
        Shape shape = Shape.of(dims);
        int rs = t.rowSize();
        return switch (t.dtype()) {
            case FLOAT32 -> slice(t.floats(), from, m, rows, rs, 0f, shape);
            case INT32 -> {
                if (d.type() == DataType.DT_INT64) {
                    int[] src = t.ints();
                    long[] wide = new long[rows * rs];
                    for (int i = 0, j = from * rs, end = m * rs; i < end; i++, j++) {
                        wide[i] = src[j];
                    }
                    yield TInt64.tensorOf(shape, DataBuffers.of(wide, true, false));
                }
                if (rows == m) {
                    yield TInt32.tensorOf(shape, DataBuffers.of(t.ints(), true, false)
                            .slice((long) from * rs, (long) m * rs));
                }
                int[] padded = new int[rows * rs];
                System.arraycopy(t.ints(), from * rs, padded, 0, m * rs);
                yield TInt32.tensorOf(shape, DataBuffers.of(padded, true, false));
            }
            case INT64 -> {
                if (rows == m) {
                    yield TInt64.tensorOf(shape, DataBuffers.of(t.longs(), true, false)
                            .slice((long) from * rs, (long) m * rs));
                }
                long[] padded = new long[rows * rs];
                System.arraycopy(t.longs(), from * rs, padded, 0, m * rs);
                yield TInt64.tensorOf(shape, DataBuffers.of(padded, true, false));
            }
            case STRING -> {
                String[] part = new String[rows * rs];
                Arrays.fill(part, m * rs, part.length, "");
                System.arraycopy(t.strings(), from * rs, part, 0, m * rs);
                yield TString.tensorOf(shape, DataBuffers.ofObjects(part));
            }
        };
    }

    /** Rows {@code [from, from + m)} of a row-major array as a tensor of {@code rows} rows (zero-padded). */
    private static TFloat32 slice(float[] data, int from, int m, int rows, int rowSize, float pad, Shape shape) {
        if (rows == m) {
            return TFloat32.tensorOf(shape, org.tensorflow.ndarray.buffer.DataBuffers.of(data, true, false)
                    .slice((long) from * rowSize, (long) m * rowSize));
        }
        float[] padded = new float[rows * rowSize];
        Arrays.fill(padded, m * rowSize, padded.length, pad);
        System.arraycopy(data, from * rowSize, padded, 0, m * rowSize);
        return TFloat32.tensorOf(shape, org.tensorflow.ndarray.buffer.DataBuffers.of(padded, true, false));
    }

    /** Collects the first rows of each chunk's result into one array, in bulk. */
    private static final class Accumulator {
        private final int[] shape;
        private final int rowSize;
        private final float[] floats;
        private final int[] ints;
        private final long[] longs;

        Accumulator(org.tensorflow.Tensor first, int n, String what) {
            long[] dims = first.shape().asArray();
            if (dims.length == 0) {
                throw new ModelException(what + ": the fetched tensor is a scalar, not a batch");
            }
            shape = new int[dims.length];
            shape[0] = n;
            long size = n;
            for (int i = 1; i < dims.length; i++) {
                shape[i] = Math.toIntExact(dims[i]);
                size *= dims[i];
            }
            if (size > Integer.MAX_VALUE - 8) {
                throw new ModelException(what + " has " + size + " elements " + Arrays.toString(shape) + "; at most "
                        + (Integer.MAX_VALUE - 8) + " fit one array: use smaller batches");
            }
            rowSize = n == 0 ? 0 : (int) (size / n);
            DataType type = first.dataType();
            floats = type == DataType.DT_FLOAT ? new float[(int) size] : null;
            ints = type == DataType.DT_INT32 ? new int[(int) size] : null;
            longs = type == DataType.DT_INT64 ? new long[(int) size] : null;
            if (floats == null && ints == null && longs == null) {
                throw new ModelException(what + ": dtype " + type + "; only DT_FLOAT, DT_INT32 and DT_INT64 can be"
                        + " captured");
            }
        }

        /** Copies the first {@code m} of the run's {@code rows} rows to rows {@code [from, from + m)}. */
        void add(org.tensorflow.Tensor t, int from, int m, int rows, String what) {
            if (m <= 0) {
                return;
            }
            long[] dims = t.shape().asArray();
            long per = 1;
            for (int i = 1; i < dims.length; i++) {
                per *= dims[i];
            }
            if (per != rowSize || dims[0] != rows) {
                throw new ModelException(what + ": a run of " + rows + " rows returned shape " + Arrays.toString(dims)
                        + ", expected " + rows + " rows of " + rowSize + " values; does the layer keep the batch in its"
                        + " first axis? (a tensor over all tokens of a batch of texts does not: capture one per text)");
            }
            if (floats != null) {
                t.asRawTensor().data().asFloats().read(floats, from * rowSize, m * rowSize);
            } else if (ints != null) {
                t.asRawTensor().data().asInts().read(ints, from * rowSize, m * rowSize);
            } else {
                t.asRawTensor().data().asLongs().read(longs, from * rowSize, m * rowSize);
            }
        }

        Tensor toTensor() {
            return floats != null ? Tensor.ofFloats(floats, shape) : ints != null ? Tensor.ofInts(ints, shape)
                    : Tensor.ofLongs(longs, shape);
        }
    }

    private void checkInput(Tensor inputs) {
        int[] expected = analysis.inputShape;
        int[] s = inputs.shape();
        boolean ok = inputs.dtype() == DType.FLOAT32 && s.length == expected.length + 1;
        for (int i = 0; ok && i < expected.length; i++) {
            ok = s[i + 1] == expected[i];
        }
        if (!ok) {
            int[] example = s.length == 0 ? s : Arrays.copyOfRange(s, 1, s.length);
            throw new ModelException("input batch of model " + description + " must be FLOAT32 [n, "
                    + Arrays.stream(expected).mapToObj(String::valueOf).collect(Collectors.joining(", "))
                    + "], found " + inputs.dtype() + " " + Arrays.toString(s)
                    + inputAdvice(example).map(a -> "; " + a).orElse(""));
        }
    }

    /** The delivered shape (without batch) of a capturable tensor, or of any float op's static shape. */
    private int[] shapeOf(String name, TensorRef ref) {
        Optional<LayerInfo> l = layer(name);
        if (l.isPresent()) {
            return l.get().shape();
        }
        lock.readLock().lock();
        try {
            requireOpen();
            long[] dims = graph.operation(ref.op()).output(ref.index()).shape().asArray();
            if (dims == null || dims.length == 0 || Arrays.stream(dims).skip(1).anyMatch(d -> d < 0)) {
                throw new ModelException("gradient target '" + name + "' of model " + description
                        + " has no static shape apart from the batch dimension; use a listed layer");
            }
            return Arrays.stream(dims).skip(1).mapToInt(Math::toIntExact).toArray();
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Maps a layer name (a listed layer or its path, or any float op as {@code op} or {@code op:index}, by its
     * original name or its name inside a Keras function) to the graph tensor to fetch.
     */
    private String resolve(String name) {
        String known = fetchable.get(name);
        if (known != null) {
            return known;
        }
        AnalysisGraph.Capture c = capture(name);
        if (c != null) {
            fetchable.put(name, c.fetch());
            return c.fetch();
        }
        TensorRef ref = TensorRef.parse(name);
        String loop = analysis.loops.get(ref.op());
        if (loop != null) {
            throw insideLoop(name, loop);
        }
        String op = analysis.opNames.get(ref.op());
        lock.readLock().lock();
        try {
            GraphOperation g = closed || op == null ? null : graph.operation(op);
            if (g != null && ref.index() < g.numOutputs()) {
                DataType type = g.output(ref.index()).dataType();
                if (type != DataType.DT_FLOAT && type != DataType.DT_INT32 && type != DataType.DT_INT64) {
                    throw new ModelException("layer '" + name + "' of model " + description + " has dtype " + type
                            + "; only DT_FLOAT, DT_INT32 and DT_INT64 tensors can be captured");
                }
                String tensor = new TensorRef(op, ref.index()).layerName();
                fetchable.put(name, tensor);
                return tensor;
            }
        } finally {
            lock.readLock().unlock();
        }
        List<String> near = Suggestions.near(name, analysis.captures.keySet(), 5);
        throw new ModelException("unknown layer '" + name + "' in model " + description
                + (near.isEmpty() ? "" : "; did you mean " + String.join(", ", near) + "?")
                + " Layers: " + String.join(", ", byName.keySet())
                + " ('neuronmonkey inspect --all' lists every capturable op)");
    }

    /** The refusal of a tensor inside a loop, naming what can be captured instead. */
    private ModelException insideLoop(String name, String loop) {
        // the loop's outputs: a loop op's or a frame's Exit outputs, or the ops that take them
        java.util.function.Predicate<String> loopOutput = op -> {
            org.tensorflow.proto.NodeDef n = analysis.nodes.get(op);
            return n != null && (LayerSelector.WHILES.contains(n.getOp()) || n.getOp().equals("Exit"));
        };
        List<String> outputs = analysis.captures.values().stream().filter(c -> {
            org.tensorflow.proto.NodeDef n = analysis.nodes.get(TensorRef.parse(c.model()).op());
            return n != null && (loopOutput.test(n.getName()) || n.getInputList().stream()
                    .anyMatch(in -> !in.startsWith("^") && loopOutput.test(NodeDefs.opOf(in))));
        }).map(c -> c.info().name()).toList();
        List<String> listed = analysis.layers.stream().filter(l -> l.role() != LayerInfo.Role.INPUT)
                .map(LayerInfo::name).toList();
        return new ModelException("layer '" + name + "' of model " + description + " is inside the loop '" + loop
                + "' (computed anew at every step; TensorFlow can neither fetch nor differentiate a tensor inside a"
                + " loop): capture what is outside it: " + (outputs.isEmpty() ? "" : "the loop's outputs (the final"
                + " state) " + String.join(", ", outputs) + ", or ") + "the layers before and after it (the"
                + " embedding, the dense head) " + String.join(", ", listed));
    }

    @Override
    public Map<String, Long> parameterCounts() {
        Map<String, Long> out = new LinkedHashMap<>();
        parameterTensors().forEach((layer, tensors) -> {
            long count = 0;
            for (String t : tensors) {
                count += size(t);
            }
            out.put(layer, count);
        });
        return out;
    }

    @Override
    public LoadedModel randomized(Collection<String> names, long seed) {
        Map<String, List<String>> all = parameterTensors();
        String valid = all.entrySet().stream().map(e -> e.getKey() + " (" + e.getValue().size() + " tensors)")
                .collect(Collectors.joining(", "));
        List<String> chosen = new ArrayList<>(new LinkedHashSet<>(names));
        if (chosen.isEmpty()) {
            throw new ModelException("randomizing model " + description + " needs at least one layer; layers with "
                    + "parameters: " + valid);
        }
        Map<String, float[]> drawn = new LinkedHashMap<>();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        for (String layer : chosen) {
            List<String> tensors = all.get(layer);
            if (tensors == null) {
                throw new ModelException("cannot randomize layer '" + layer + "' of model " + description + ": "
                        + (byName.containsKey(layer) ? "it has no parameters of its own" : "no such layer")
                        + "; layers with parameters: " + valid);
            }
            for (String t : tensors) {
                Original o = original(t);
                drawn.put(t, Parameters.draw(o.size(), o.std(), seed, t));
                shapes.put(t, o.shape());
            }
        }
        return new RandomizedModel(this, chosen, seed, drawn, shapes);
    }

    @Override
    public PrunedModel prune(Map<String, int[]> removeByLayer, java.nio.file.Path outDir) {
        StructuralPruning.Source src = source;
        if (src == null) {
            throw new ModelException("model " + description + " keeps no source graph, so it cannot be pruned");
        }
        if (removeByLayer.isEmpty()) {
            throw new ModelException("pruning model " + description + " needs at least one layer with units to remove");
        }
        Map<String, String> original = new java.util.HashMap<>();
        analysis.byTensor.forEach((tensor, capture) -> original.putIfAbsent(capture, tensor));
        Map<String, TensorRef> tensors = new LinkedHashMap<>();
        Map<String, int[]> remove = new LinkedHashMap<>();
        String valid = analysis.layers.stream().filter(l -> l.role() == LayerInfo.Role.HIDDEN).map(LayerInfo::name)
                .collect(Collectors.joining(", "));
        removeByLayer.forEach((name, units) -> {
            LayerInfo l = byName.get(name);
            if (l == null || l.role() != LayerInfo.Role.HIDDEN || original.get(name) == null) {
                throw new ModelException("cannot prune layer '" + name + "' of model " + description + ": "
                        + (l == null ? "no such layer" : "it is the model's " + l.role().name().toLowerCase(java.util.Locale.ROOT))
                        + "; hidden layers: " + valid);
            }
            int[] sorted = Arrays.stream(units).distinct().sorted().toArray();
            if (sorted.length == 0 || sorted[0] < 0 || sorted[sorted.length - 1] >= l.neurons()
                    || sorted.length >= l.neurons()) {
                throw new ModelException("cannot prune layer '" + name + "' of model " + description + ": units "
                        + Arrays.toString(units) + " must be 1.." + (l.neurons() - 1) + " distinct indices in 0.."
                        + (l.neurons() - 1));
            }
            tensors.put(name, TensorRef.parse(original.get(name)));
            remove.put(name, sorted);
        });
        if (java.nio.file.Files.exists(outDir)) {
            boolean empty;
            try (java.util.stream.Stream<java.nio.file.Path> entries = java.nio.file.Files.isDirectory(outDir)
                    ? java.nio.file.Files.list(outDir) : java.util.stream.Stream.of(outDir)) {
                empty = entries.findAny().isEmpty();
            } catch (java.io.IOException e) {
                throw new ModelException("cannot read " + outDir + ": " + e.getMessage(), e);
            }
            if (!empty) {
                throw new ModelException("cannot write the pruned model to " + outDir + ": it exists and is not an"
                        + " empty folder (choose a new path; nothing is overwritten)");
            }
        }
        lock.readLock().lock();
        try {
            requireOpen();
            Map<String, String> names = new java.util.HashMap<>();
            original.forEach((capture, tensor) -> {
                TensorRef t = TensorRef.parse(tensor);
                if (t.index() == 0) {
                    names.putIfAbsent(t.op(), capture);
                }
            });
            return StructuralPruning.prune(src, session, analysis.opNames::get, tensors, names, remove, outDir,
                    description);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** What a parameter tensor's original values are like. */
    private record Original(int size, double std, long[] shape) {
    }

    /** A parameter tensor's element count: from its static shape, or from its values when the graph does not say. */
    private long size(String tensor) {
        lock.readLock().lock();
        try {
            requireOpen();
            TensorRef ref = TensorRef.parse(tensor);
            Shape shape = graph.operation(ref.op()).output(ref.index()).shape();
            if (!shape.isUnknown() && !shape.hasUnknownDimension()) {
                return shape.size();
            }
        } finally {
            lock.readLock().unlock();
        }
        return original(tensor).size();
    }

    private Map<String, List<String>> parameterTensors() {
        Map<String, List<String>> p = parameters;
        if (p == null) {
            p = Parameters.find(analysis);
            parameters = p;
        }
        return p;
    }

    /** Fetches a parameter tensor's values once, keeping their size, standard deviation and shape. */
    private Original original(String tensor) {
        Original o = originals.get(tensor);
        if (o != null) {
            return o;
        }
        lock.readLock().lock();
        try {
            requireOpen();
            TensorRef ref = TensorRef.parse(tensor);
            try (Result r = session.runner().fetch(ref.op(), ref.index()).run()) {
                org.tensorflow.Tensor t = r.get(0);
                float[] values = new float[Math.toIntExact(t.shape().size())];
                t.asRawTensor().data().asFloats().read(values);
                o = new Original(values.length, Parameters.std(values), t.shape().asArray());
            } catch (RuntimeException e) {
                throw new ModelException("reading parameter " + tensor + " of model " + description + " failed: "
                        + e.getMessage(), e);
            }
        } finally {
            lock.readLock().unlock();
        }
        originals.put(tensor, o);
        return o;
    }

    private void requireOpen() {
        if (closed) {
            throw new ModelException("model " + description + " is closed");
        }
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            owner.close();
        } catch (Exception e) {
            throw new ModelException("closing " + description + " failed: " + e.getMessage(), e);
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
