package io.neuronmonkey.api.model;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model ready to run. Holds native resources: close it. {@link #run} may be called from several threads.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface LoadedModel extends AutoCloseable {

    /** @return the model's layers (its activations worth probing), in graph order; never empty */
    List<LayerInfo> layers();

    /**
     * Every tensor {@link #run} can capture: the {@link #layers()} and, where the backend can, every other float
     * output of the model's ops (pre-activation sums, bias additions, ...), in graph order.
     *
     * @return the capturable tensors, a superset of {@link #layers()}; the default is {@link #layers()}
     * @since 0.2.0
     */
    default List<LayerInfo> capturable() {
        return layers();
    }

    /**
     * @param name a layer name, or the name of another {@linkplain #capturable() capturable} tensor
     * @return the layer, or empty if the model has none of that name
     */
    default Optional<LayerInfo> layer(String name) {
        return layers().stream().filter(l -> l.name().equals(name)).findFirst()
                .or(() -> capturable().stream().filter(l -> l.name().equals(name)).findFirst());
    }

    /** @return the expected shape of one example, without the batch dimension */
    int[] inputShape();

    /**
     * Advice for data whose examples do not have {@link #inputShape()}: the backend param that would make them fit
     * (for example a reshape when the element counts agree, or a layout change when they are transposed).
     *
     * @param exampleShape the shape of one example as the data deliver it
     * @return a sentence naming the param and its value, or empty when the backend has none
     * @since 0.2.0
     */
    default Optional<String> inputAdvice(int[] exampleShape) {
        return Optional.empty();
    }

    /**
     * The inputs the model takes. Exactly one is {@linkplain ModelInput#primary() primary}: it is fed the batch's
     * primary tensor; every other input is fed the named tensor of its name ({@link ModelInputs}).
     *
     * @return the inputs; the default is one FLOAT32 input of {@link #inputShape()} named as the input layer
     * @since 0.4.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.4.0")
    default List<ModelInput> inputs() {
        String name = layers().stream().filter(l -> l.role() == LayerInfo.Role.INPUT).map(LayerInfo::name).findFirst()
                .orElse("input");
        return List.of(new ModelInput(name, io.neuronmonkey.api.tensor.DType.FLOAT32, inputShape(), true));
    }

    /** @return the name of the logits layer (pre-softmax output) */
    String logitsLayer();

    /**
     * Runs one batch and captures the given layers in a single model execution.
     *
     * @param inputs a FLOAT32 batch {@code [n, inputShape...]}
     * @param layers names from {@link #capturable()} (which includes {@link #layers()} and {@link #logitsLayer()})
     * @return one tensor per requested name, shaped {@code [n, layer.shape...]}
     * @throws io.neuronmonkey.api.ModelException on an unknown layer or a failed run
     */
    Map<String, Tensor> run(Tensor inputs, Collection<String> layers);

    /**
     * Runs one batch with interventions applied (each layer's output changed as {@code x * scale + shift} before
     * its consumers see it) and captures the given layers, in one model execution. With no interventions the result
     * equals {@link #run(Tensor, Collection)} exactly.
     *
     * @param inputs        a FLOAT32 batch {@code [n, inputShape...]}
     * @param layers        layers to capture (a captured intervened layer shows its changed values)
     * @param interventions changes to apply; may be empty
     * @return one tensor per requested name
     * @throws io.neuronmonkey.api.ModelException if the backend cannot intervene on a layer, saying why
     */
    default Map<String, Tensor> run(Tensor inputs, Collection<String> layers, List<Intervention> interventions) {
        if (interventions.isEmpty()) {
            return run(inputs, layers);
        }
        throw new io.neuronmonkey.api.ModelException(description() + ": this backend does not support interventions");
    }

    /**
     * Gradient of a target with respect to the input or a layer, for every row of the batch. The backend may split
     * the batch internally to bound memory.
     *
     * @param inputs a FLOAT32 batch {@code [n, inputShape...]}
     * @param target what to differentiate
     * @param wrt    the layer to differentiate with respect to (the input layer's name for input gradients)
     * @return d target / d wrt, shaped {@code [n, wrt.shape...]}
     * @throws io.neuronmonkey.api.ModelException when the gradient cannot be computed, naming the op and the reason
     */
    default Tensor gradient(Tensor inputs, GradientTarget target, String wrt) {
        throw new io.neuronmonkey.api.ModelException(description() + ": this backend does not compute gradients");
    }

    /**
     * Gradient of a target under interventions: the model is changed as in {@link #run(Tensor, Collection, List)}
     * and the gradient is that of the changed model (for example an attribution with a suspected shortcut neuron
     * ablated). With no interventions it equals {@link #gradient(Tensor, GradientTarget, String)}.
     *
     * @param inputs        a FLOAT32 batch {@code [n, inputShape...]}
     * @param target        what to differentiate
     * @param wrt           the layer to differentiate with respect to
     * @param interventions changes to apply; may be empty
     * @return d target / d wrt of the changed model, shaped {@code [n, wrt.shape...]}
     */
    default Tensor gradient(Tensor inputs, GradientTarget target, String wrt, List<Intervention> interventions) {
        if (interventions.isEmpty()) {
            return gradient(inputs, target, wrt);
        }
        throw new io.neuronmonkey.api.ModelException(description() + ": this backend does not compute gradients under interventions");
    }

    /**
     * Runs one batch of named, typed inputs (token ids with an attention mask, several tensors) with interventions
     * and captures the given layers in one model execution. The default feeds the primary tensor alone to
     * {@link #run(Tensor, Collection, List)}, which is right for every single-input model.
     *
     * @param inputs        the primary batch and the named ones
     * @param layers        layers to capture
     * @param interventions changes to apply; may be empty
     * @return one tensor per requested name
     * @throws io.neuronmonkey.api.ModelException when an input is missing or of the wrong type, naming both sides
     * @since 0.4.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.4.0")
    default Map<String, Tensor> run(ModelInputs inputs, Collection<String> layers, List<Intervention> interventions) {
        return run(inputs.primary(), layers, interventions);
    }

    /**
     * Gradient of a target for a batch of named, typed inputs, as {@link #gradient(Tensor, GradientTarget, String,
     * List)}. With integer inputs (token ids) the gradient is taken with respect to a float layer such as the
     * embedding. The default feeds the primary tensor alone.
     *
     * @param inputs        the primary batch and the named ones
     * @param target        what to differentiate
     * @param wrt           the layer to differentiate with respect to
     * @param interventions changes to apply; may be empty
     * @return d target / d wrt, shaped {@code [n, wrt.shape...]}
     * @since 0.4.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.4.0")
    default Tensor gradient(ModelInputs inputs, GradientTarget target, String wrt, List<Intervention> interventions) {
        return gradient(inputs.primary(), target, wrt, interventions);
    }

    /** @return true when {@link #gradient} is implemented */
    default boolean supportsGradients() {
        return false;
    }

    /** @return true when {@link #run(Tensor, Collection, List)} accepts interventions */
    default boolean supportsInterventions() {
        return false;
    }

    /**
     * The layers whose own parameters (weights, biases, batch-norm scales: those that feed the layer and no earlier
     * listed layer) could be re-drawn by {@link #randomized}, in graph order, with how many parameter values each has.
     *
     * @return layer name to its parameter count; empty when the backend cannot tell or cannot randomize
     * @since 0.3.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.3.0")
    default Map<String, Long> parameterCounts() {
        return Map.of();
    }

    /**
     * A view of this model whose parameters of the given layers are re-drawn at random (seeded; each parameter
     * tensor drawn from a normal distribution with mean zero and the original tensor's standard deviation), for the
     * model-parameter randomization sanity check of attributions. The view shares this model's native resources:
     * closing it releases only what it added; it must not outlive this model.
     *
     * @param layers names from {@link #parameterCounts()}
     * @param seed   the seed of the new values
     * @return the randomized model
     * @throws io.neuronmonkey.api.ModelException when the backend cannot randomize, or a layer has no parameters
     * @since 0.3.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.3.0")
    default LoadedModel randomized(Collection<String> layers, long seed) {
        throw new io.neuronmonkey.api.ModelException(description() + ": this backend cannot randomize parameters");
    }

    /**
     * Writes a smaller copy of this model with the given units removed: cut out of the producing layer's weights and
     * its consumers' inputs where the graph allows it (structural pruning), else zeroed by a constant mask, as the
     * result says per layer. A removed unit is gone from every channel-wise op after it (activation, batch norm,
     * pooling) up to the next op that mixes units, so the copy computes what this model computes with the units
     * zeroed right before that op (the same as zeroing the layer itself when the ops between map 0 to 0, as ReLU and
     * pooling do). The copy loads again through the same backend with the same layer names; a structurally pruned
     * layer is just narrower. This model is left unchanged.
     *
     * @param removeByLayer layer name to the unit (neuron, channel) indices to remove; at least one layer
     * @param outDir        a folder that does not exist yet or is empty; the model is written into it
     * @return what was written and how
     * @throws io.neuronmonkey.api.ModelException when the backend cannot prune, or a layer or index is invalid
     * @since 0.5.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.5.0")
    default PrunedModel prune(Map<String, int[]> removeByLayer, java.nio.file.Path outDir) {
        throw new io.neuronmonkey.api.ModelException(description() + ": this backend cannot prune models");
    }

    /** @return a short description of the format and source (for reports), non-null */
    String description();

    /** @return a SHA-256 hex digest of the model files, for provenance */
    String fingerprint();

    /** Releases native resources. Does not throw checked exceptions. */
    @Override
    void close();
}
