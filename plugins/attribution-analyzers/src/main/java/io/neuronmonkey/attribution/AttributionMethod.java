package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;

/**
 * One way to attribute a target to the input values, for a batch of examples. Implementations are stateless apart
 * from their settings, so the checks (model-parameter randomization, deletion curves) can call them again on a
 * changed model or other inputs.
 */
interface AttributionMethod {

    /** @return the method's name as users know it, e.g. {@code integrated gradients} */
    String name();

    /** @return true when the method needs the backend's gradients */
    boolean needsGradients();

    /**
     * @param model      the model (possibly a randomized view of it)
     * @param batch      the examples
     * @param target     what is explained
     * @param targetRows the neuron explained in each row ({@link Target.Bound#rows}), fixed at the input
     * @return one map per example, shaped like {@code batch.inputs()} ({@code [n, input shape...]} as fed)
     */
    Tensor attribute(LoadedModel model, Batch batch, Target.Bound target, int[] targetRows);
}
