package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;

/**
 * The gradient of the target at the input, its absolute value or signed.
 *
 * @param absolute true for {@code |gradient|}
 * @param chunk    the most rows per gradient call
 */
record Saliency(boolean absolute, int chunk) implements AttributionMethod {

    @Override
    public String name() {
        return "saliency";
    }

    @Override
    public boolean needsGradients() {
        return true;
    }

    @Override
    public Tensor attribute(LoadedModel model, Batch batch, Target.Bound target, int[] targetRows) {
        float[] g = InputGradients.at(model, batch, target, targetRows, chunk);
        if (absolute) {
            for (int i = 0; i < g.length; i++) {
                g[i] = Math.abs(g[i]);
            }
        }
        return Tensor.ofFloats(g, batch.inputs().shape());
    }
}
