package io.neuronmonkey.concepts;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The activations of chosen examples at several layers, one value per neuron and example (spatial layers reduced
 * over positions by max or mean), collected with one model run per batch for all layers together.
 *
 * @param layers  the layers, in the order asked
 * @param values  per layer a row-major {@code [examples, neurons]} matrix
 * @param labels  per example its label ({@code -1} when unknown)
 * @param ids     per example its id
 * @param metadata per example its metadata
 */
record LayerActivations(List<LayerInfo> layers, Map<String, float[]> values, int[] labels, List<String> ids,
                        List<Map<String, String>> metadata) {

    /** How a spatial layer becomes one value per neuron. */
    enum Reduce {
        MAX, MEAN
    }

    /** @return the number of examples */
    int examples() {
        return labels.length;
    }

    /**
     * @param layer a layer name
     * @return its {@code [examples, neurons]} values
     */
    float[] of(String layer) {
        float[] v = values.get(layer);
        if (v == null) {
            throw new IllegalArgumentException("no activations collected for layer '" + layer + "'");
        }
        return v;
    }

    /**
     * Runs the model over the filtered examples and keeps every layer's reduced values.
     *
     * @param model     the model
     * @param filter    the examples
     * @param layers    the layers
     * @param reduce    the reduction over positions
     * @param batchSize examples per model run
     * @param step      the step id, for messages
     * @return the activations; at least one example
     * @throws AnalysisException when the filter keeps no example
     */
    static LayerActivations collect(LoadedModel model, ExampleFilter filter, List<LayerInfo> layers, Reduce reduce,
                                    int batchSize, String step) {
        List<String> names = layers.stream().map(LayerInfo::name).toList();
        Map<String, List<float[]>> chunks = new LinkedHashMap<>();
        names.forEach(n -> chunks.put(n, new ArrayList<>()));
        List<int[]> labelChunks = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        List<Map<String, String>> meta = new ArrayList<>();
        int total = 0;
        for (Iterator<Batch> it = filter.batches(batchSize); it.hasNext(); ) {
            Batch b = it.next();
            Map<String, Tensor> run = model.run(b.modelInputs(), names, List.of());
            for (LayerInfo l : layers) {
                chunks.get(l.name()).add(reduce(run.get(l.name()), l.neurons(), reduce));
            }
            int[] lab = b.hasLabels() ? b.labels() : filled(b.size());
            labelChunks.add(lab);
            ids.addAll(b.ids());
            meta.addAll(b.metadata());
            total += b.size();
        }
        if (total == 0) {
            throw new AnalysisException("step '" + step + "': no example matches " + filter.describe());
        }
        Map<String, float[]> values = new LinkedHashMap<>();
        for (LayerInfo l : layers) {
            values.put(l.name(), concat(chunks.get(l.name()), total * l.neurons()));
        }
        int[] labels = new int[total];
        int at = 0;
        for (int[] c : labelChunks) {
            System.arraycopy(c, 0, labels, at, c.length);
            at += c.length;
        }
        return new LayerActivations(List.copyOf(layers), values, labels, List.copyOf(ids), List.copyOf(meta));
    }

    /**
     * @param t       a captured layer {@code [n, positions..., neurons]}
     * @param neurons neurons per position
     * @param reduce  max or mean over positions
     * @return {@code [n, neurons]}
     */
    static float[] reduce(Tensor t, int neurons, Reduce reduce) {
        int n = t.rows();
        int positions = n == 0 ? 0 : t.rowSize() / neurons;
        float[] v = t.floats();
        if (positions == 1) {
            return Arrays.copyOf(v, n * neurons);
        }
        float[] out = new float[n * neurons];
        for (int r = 0; r < n; r++) {
            int o = r * neurons;
            if (reduce == Reduce.MAX) {
                System.arraycopy(v, r * positions * neurons, out, o, neurons);
            }
            for (int p = reduce == Reduce.MAX ? 1 : 0; p < positions; p++) {
                int base = (r * positions + p) * neurons;
                for (int c = 0; c < neurons; c++) {
                    out[o + c] = reduce == Reduce.MAX ? Math.max(out[o + c], v[base + c]) : out[o + c] + v[base + c];
                }
            }
            if (reduce == Reduce.MEAN) {
                for (int c = 0; c < neurons; c++) {
                    out[o + c] /= positions;
                }
            }
        }
        return out;
    }

    private static int[] filled(int n) {
        int[] a = new int[n];
        Arrays.fill(a, -1);
        return a;
    }

    private static float[] concat(List<float[]> parts, int size) {
        float[] out = new float[size];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
