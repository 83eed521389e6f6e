package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.List;

/** Gradients of a per-row target with respect to the model's input, in chunks of bounded size. */
final class InputGradients {

    private InputGradients() {
    }

    /**
     * @param model a model
     * @return the name of its input layer (role INPUT)
     * @throws AnalysisException when the model lists none
     */
    static String inputLayer(LoadedModel model) {
        return model.layers().stream().filter(l -> l.role() == LayerInfo.Role.INPUT).map(LayerInfo::name).findFirst()
                .orElseThrow(() -> new AnalysisException(model.description() + ": the model lists no input layer to"
                        + " attribute to"));
    }

    /**
     * Receives the gradient of consecutive rows.
     */
    interface Sink {
        /**
         * @param first    the first row of the chunk
         * @param count    rows in the chunk
         * @param gradient {@code [count * rowSize]} gradients, valid during the call only
         */
        void accept(int first, int count, float[] gradient);
    }

    /**
     * Feeds {@code rows} made by {@code fill} to the model in chunks of at most {@code chunk} rows, one gradient call
     * per chunk, each row's target the neuron {@code neuron[row]} of {@code layer}.
     *
     * @param model  the model
     * @param base   the batch's model inputs (named inputs are copied from each row's example)
     * @param example the example (row of {@code base}) of each row
     * @param shape  one row's input shape
     * @param rows   the number of rows
     * @param chunk  the most rows per gradient call
     * @param layer  the target's layer
     * @param neuron the neuron of each row
     * @param fill   writes rows {@code [first, first + count)} into a buffer (row-major, from offset 0)
     * @param sink   receives each chunk's gradient
     */
    static void chunked(LoadedModel model, ModelInputs base, java.util.function.IntUnaryOperator example, int[] shape,
                        int rows, int chunk, String layer, java.util.function.IntUnaryOperator neuron, Filler fill, Sink sink) {
        String input = inputLayer(model);
        int rs = 1;
        for (int d : shape) {
            rs *= d;
        }
        float[] full = null;
        for (int first = 0; first < rows; first += chunk) {
            int count = Math.min(chunk, rows - first);
            float[] buf = count == chunk ? (full == null ? full = new float[chunk * rs] : full) : new float[count * rs];
            fill.fill(first, count, buf);
            int[] idx = new int[count];
            int[] of = new int[count];
            for (int i = 0; i < count; i++) {
                idx[i] = neuron.applyAsInt(first + i);
                of[i] = example.applyAsInt(first + i);
            }
            int[] s = new int[shape.length + 1];
            s[0] = count;
            System.arraycopy(shape, 0, s, 1, shape.length);
            Tensor g = model.gradient(TextAttribution.rowsOf(base, of, Tensor.ofFloats(buf, s)), GradientTarget.perRow(layer, idx),
                    input, List.of());
            sink.accept(first, count, g.floats());
        }
    }

    /** Writes rows into a buffer. */
    interface Filler {
        /**
         * @param first the first row
         * @param count rows to write
         * @param buf   at least {@code count * rowSize} values, row 0 at offset 0
         */
        void fill(int first, int count, float[] buf);
    }

    /**
     * The plain gradient of each example's target at the input.
     *
     * @param model  the model
     * @param batch  the examples
     * @param target the target
     * @param rows   each example's neuron
     * @param chunk  the most rows per gradient call
     * @return {@code [n * rowSize]} gradients
     */
    static float[] at(LoadedModel model, Batch batch, Target.Bound target, int[] rows, int chunk) {
        int n = batch.size();
        int rs = batch.inputs().rowSize();
        float[] x = batch.inputs().floats();
        float[] out = new float[n * rs];
        chunked(model, batch.modelInputs(), r -> r, exampleShape(batch), n, chunk, target.layer(), r -> rows[r],
                (first, count, buf) -> System.arraycopy(x, first * rs, buf, 0, count * rs),
                (first, count, g) -> System.arraycopy(g, 0, out, first * rs, count * rs));
        return out;
    }

    /** @return the shape of one example of the batch */
    static int[] exampleShape(Batch batch) {
        int[] s = batch.inputs().shape();
        return java.util.Arrays.copyOfRange(s, 1, s.length);
    }
}
