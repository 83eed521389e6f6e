package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TFloat32;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A {@link TensorFlowModel} with the parameter tensors of some layers replaced by drawn values: every run and
 * gradient of the parent's session feeds them in place of the originals, so the graph and the restored variables
 * stay as they are. Closing the view releases its own tensors, never the parent.
 */
final class RandomizedModel implements LoadedModel {

    private final TensorFlowModel parent;
    private final List<String> layers;
    private final long seed;
    private final Map<String, float[]> drawn;
    private final Map<String, TFloat32> feeds = new LinkedHashMap<>();
    private final String description;
    private final ReadWriteLock lock = new ReentrantReadWriteLock();
    private boolean closed;

    /**
     * @param parent the model whose session runs the view
     * @param layers the randomized layers
     * @param seed   the seed the values were drawn with
     * @param drawn  parameter tensor ({@code op:index}) to its new values
     * @param shapes parameter tensor to its shape
     */
    RandomizedModel(TensorFlowModel parent, List<String> layers, long seed, Map<String, float[]> drawn,
                    Map<String, long[]> shapes) {
        this.parent = parent;
        this.layers = List.copyOf(layers);
        this.seed = seed;
        this.drawn = Map.copyOf(drawn);
        this.description = parent.description() + " (randomized: " + String.join(", ", layers) + "; seed " + seed
                + ")";
        try {
            drawn.forEach((tensor, values) -> feeds.put(tensor,
                    TFloat32.tensorOf(Shape.of(shapes.get(tensor)), DataBuffers.of(values, true, false))));
        } catch (RuntimeException e) {
            feeds.values().forEach(TFloat32::close);
            throw new ModelException("preparing " + description + " failed: " + e.getMessage(), e);
        }
    }

    /** @return the drawn values by parameter tensor ({@code op:index}), for checks */
    Map<String, float[]> drawn() {
        return drawn;
    }

    @Override
    public List<LayerInfo> layers() {
        return parent.layers();
    }

    @Override
    public List<LayerInfo> capturable() {
        return parent.capturable();
    }

    @Override
    public Optional<LayerInfo> layer(String name) {
        return parent.layer(name);
    }

    @Override
    public int[] inputShape() {
        return parent.inputShape();
    }

    @Override
    public List<ModelInput> inputs() {
        return parent.inputs();
    }

    @Override
    public Optional<String> inputAdvice(int[] exampleShape) {
        return parent.inputAdvice(exampleShape);
    }

    @Override
    public String logitsLayer() {
        return parent.logitsLayer();
    }

    @Override
    public Map<String, Tensor> run(Tensor inputs, Collection<String> names) {
        return run(inputs, names, List.of());
    }

    @Override
    public Map<String, Tensor> run(Tensor inputs, Collection<String> names, List<Intervention> interventions) {
        return run(ModelInputs.of(inputs), names, interventions);
    }

    @Override
    public Map<String, Tensor> run(ModelInputs inputs, Collection<String> names, List<Intervention> interventions) {
        lock.readLock().lock();
        try {
            requireOpen();
            return parent.run(inputs, names, interventions, feeds);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public Tensor gradient(Tensor inputs, GradientTarget target, String wrt) {
        return gradient(inputs, target, wrt, List.of());
    }

    @Override
    public Tensor gradient(Tensor inputs, GradientTarget target, String wrt, List<Intervention> interventions) {
        return gradient(ModelInputs.of(inputs), target, wrt, interventions);
    }

    @Override
    public Tensor gradient(ModelInputs inputs, GradientTarget target, String wrt, List<Intervention> interventions) {
        lock.readLock().lock();
        try {
            requireOpen();
            return parent.gradient(inputs, target, wrt, interventions, feeds);
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public boolean supportsGradients() {
        return parent.supportsGradients();
    }

    @Override
    public boolean supportsInterventions() {
        return parent.supportsInterventions();
    }

    @Override
    public Map<String, Long> parameterCounts() {
        return parent.parameterCounts();
    }

    /**
     * @return the parent randomized at this view's layers and the given ones, every one drawn with {@code seed}
     *         (with this view's seed, this view's layers keep their values)
     */
    @Override
    public LoadedModel randomized(Collection<String> more, long seed) {
        Set<String> all = new LinkedHashSet<>(layers);
        all.addAll(more);
        return parent.randomized(all, seed);
    }

    @Override
    public String description() {
        return description;
    }

    /** @return a digest of the parent's fingerprint, the randomized layers and the seed */
    @Override
    public String fingerprint() {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((parent.fingerprint() + "\u0000randomized\u0000" + String.join("\u0000", layers) + "\u0000"
                    + seed).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private void requireOpen() {
        if (closed) {
            throw new ModelException("model " + description + " is closed");
        }
    }

    /** Releases the drawn tensors; the parent stays open. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                feeds.values().forEach(TFloat32::close);
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
