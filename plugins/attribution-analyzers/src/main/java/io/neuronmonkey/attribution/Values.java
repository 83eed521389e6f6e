package io.neuronmonkey.attribution;

import io.neuronmonkey.api.tensor.Tensor;

/** Bulk reductions of captured layers, channels last ({@code [n, positions..., neurons]}). */
final class Values {

    private Values() {
    }

    /**
     * @param layer a captured layer {@code [n, ..., neurons]}
     * @return {@code [n * neurons]}: each row's neuron values summed over positions (a vector layer as it is)
     */
    static float[] perNeuron(Tensor layer) {
        int n = layer.rows();
        int neurons = layer.rank() == 1 ? 1 : layer.dim(layer.rank() - 1);
        int positions = n == 0 ? 0 : layer.rowSize() / neurons;
        float[] v = layer.floats();
        if (positions == 1) {
            return v.length == n * neurons ? v.clone() : java.util.Arrays.copyOf(v, n * neurons);
        }
        float[] out = new float[n * neurons];
        for (int r = 0; r < n; r++) {
            int o = r * neurons;
            for (int p = 0; p < positions; p++) {
                int base = (r * positions + p) * neurons;
                for (int c = 0; c < neurons; c++) {
                    out[o + c] += v[base + c];
                }
            }
        }
        return out;
    }
}
