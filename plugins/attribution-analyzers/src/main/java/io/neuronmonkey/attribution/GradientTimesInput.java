package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;

/**
 * The gradient of the target at the input times the input, element by element.
 *
 * @param chunk the most rows per gradient call
 */
record GradientTimesInput(int chunk) implements AttributionMethod {

    @Override
    public String name() {
        return "gradient x input";
    }

    @Override
    public boolean needsGradients() {
        return true;
    }

    @Override
    public Tensor attribute(LoadedModel model, Batch batch, Target.Bound target, int[] targetRows) {
        float[] g = InputGradients.at(model, batch, target, targetRows, chunk);
        float[] x = batch.inputs().floats();
        for (int i = 0; i < g.length; i++) {
            g[i] *= x[i];
        }
        return Tensor.ofFloats(g, batch.inputs().shape());
    }
}
