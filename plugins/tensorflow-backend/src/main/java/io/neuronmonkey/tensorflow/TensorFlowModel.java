package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * A TensorFlow graph and session ready to capture layers. Thread-safe: TensorFlow sessions run concurrently, and a
 * read-write lock keeps {@link #close()} from freeing the session under a running batch.
 */
final class TensorFlowModel implements LoadedModel {

    private final Graph graph;
    private final Session session;
    private final AutoCloseable owner;
    private final TensorRef input;
    private final int[] inputShape;
    private final String logits;
    private final List<LayerInfo> layers;
    private final Map<String, LayerInfo> byName;
    private final Map<String, TensorRef> fetchable = new ConcurrentHashMap<>();
    private final float scale;
    private final float shift;
    private final String description;
    private final Supplier<String> fingerprint;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    /**
     * @param owner       closes graph and session (a SavedModelBundle, or both of them)
     * @param fingerprint computes the model files' digest on first use
     */
    TensorFlowModel(Graph graph, Session session, AutoCloseable owner, TensorRef input, String logits,
                    List<LayerInfo> layers, double scale, double shift, String description,
                    Supplier<String> fingerprint) {
        this.graph = graph;
        this.session = session;
        this.owner = owner;
        this.input = input;
        this.logits = logits;
        this.layers = List.copyOf(layers);
        this.byName = this.layers.stream().collect(Collectors.toMap(LayerInfo::name, l -> l, (a, b) -> a,
                LinkedHashMap::new));
        this.inputShape = byName.get(input.layerName()).shape();
        this.scale = (float) scale;
        this.shift = (float) shift;
        this.description = description;
        this.fingerprint = fingerprint;
        for (LayerInfo l : this.layers) {
            fetchable.put(l.name(), TensorRef.parse(l.name()));
        }
    }

    @Override
    public List<LayerInfo> layers() {
        return layers;
    }

    @Override
    public int[] inputShape() {
        return inputShape.clone();
    }

    @Override
    public String logitsLayer() {
        return logits;
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
    public Map<String, Tensor> run(Tensor inputs, Collection<String> names) {
        List<String> wanted = new ArrayList<>(new LinkedHashSet<>(names));
        List<TensorRef> refs = new ArrayList<>(wanted.size());
        for (String name : wanted) {
            refs.add(resolve(name));
        }
        checkInput(inputs);
        if (wanted.isEmpty()) {
            return Map.of();
        }
        float[] x = preprocess(inputs.floats());
        // TensorFlow refuses to fetch a fed tensor: the input layer is the (preprocessed) batch itself
        Tensor fed = x == inputs.floats() ? inputs : Tensor.ofFloats(x, inputs.shape());
        List<Integer> fetched = new ArrayList<>();
        for (int i = 0; i < refs.size(); i++) {
            if (!refs.get(i).equals(input)) {
                fetched.add(i);
            }
        }
        Tensor[] results = new Tensor[wanted.size()];
        if (!fetched.isEmpty()) {
            lock.readLock().lock();
            try {
                if (closed) {
                    throw new ModelException("model " + description + " is closed");
                }
                try (TFloat32 feed = TfTensors.floats(x, inputs.shape())) {
                    Session.Runner runner = session.runner().feed(input.op(), input.index(), feed);
                    for (int i : fetched) {
                        runner.fetch(refs.get(i).op(), refs.get(i).index());
                    }
                    try (Result result = runner.run()) {
                        for (int j = 0; j < fetched.size(); j++) {
                            int i = fetched.get(j);
                            results[i] = TfTensors.toTensor(result.get(j), "layer '" + wanted.get(i) + "'");
                        }
                    }
                } catch (ModelException e) {
                    throw e;
                } catch (RuntimeException e) {
                    throw new ModelException("running " + description + " for layers " + wanted + " failed: "
                            + e.getMessage(), e);
                }
            } finally {
                lock.readLock().unlock();
            }
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < wanted.size(); i++) {
            out.put(wanted.get(i), results[i] != null ? results[i] : fed);
        }
        return out;
    }

    private float[] preprocess(float[] x) {
        if (scale == 1f && shift == 0f) {
            return x;
        }
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i] * scale + shift;
        }
        return y;
    }

    private void checkInput(Tensor inputs) {
        int[] s = inputs.shape();
        boolean ok = inputs.dtype() == DType.FLOAT32 && s.length == inputShape.length + 1;
        for (int i = 0; ok && i < inputShape.length; i++) {
            ok = s[i + 1] == inputShape[i];
        }
        if (!ok) {
            throw new ModelException("input batch of model " + description + " must be FLOAT32 [n, "
                    + Arrays.stream(inputShape).mapToObj(String::valueOf).collect(Collectors.joining(", "))
                    + "], found " + inputs.dtype() + " " + Arrays.toString(s));
        }
    }

    /** Maps a layer name (a listed layer, or any float op as {@code op} or {@code op:index}) to its tensor. */
    private TensorRef resolve(String name) {
        TensorRef known = fetchable.get(name);
        if (known != null) {
            return known;
        }
        TensorRef ref = TensorRef.parse(name);
        lock.readLock().lock();
        try {
            GraphOperation op = closed ? null : graph.operation(ref.op());
            if (op != null && ref.index() < op.numOutputs()) {
                DataType type = op.output(ref.index()).dataType();
                if (type != DataType.DT_FLOAT && type != DataType.DT_INT32) {
                    throw new ModelException("layer '" + name + "' of model " + description + " has dtype " + type
                            + "; only DT_FLOAT and DT_INT32 tensors can be captured");
                }
                fetchable.put(name, ref);
                return ref;
            }
        } finally {
            lock.readLock().unlock();
        }
        List<String> near = NearNames.near(name, List.copyOf(byName.keySet()), 5);
        throw new ModelException("unknown layer '" + name + "' in model " + description
                + (near.isEmpty() ? "" : "; did you mean " + String.join(", ", near) + "?")
                + " Layers: " + String.join(", ", byName.keySet()));
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
