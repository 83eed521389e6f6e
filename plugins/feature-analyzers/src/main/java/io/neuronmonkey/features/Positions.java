package io.neuronmonkey.features;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * Feature visualization at one position of a spatial layer: where each neuron peaks over the data, the receptive
 * field of a position (found from the model's own gradients), and how an image's energy splits between the field,
 * a region inside it and the rest.
 */
final class Positions {

    /** Random inputs per neuron whose gradients make up the receptive field. */
    static final int FIELD_PROBES = 8;

    private Positions() {
    }

    /**
     * Each neuron's largest value over the data at every position.
     *
     * @param max      per neuron, the largest value at each position (row-major over the grid)
     * @param position per neuron, the position of its overall largest value (the peak of its top example)
     */
    record Peaks(float[][] max, int[] position) {

        /** @return per neuron, its largest value over the data at the given position */
        float[] maxAt(int[] positions) {
            float[] out = new float[positions.length];
            for (int k = 0; k < positions.length; k++) {
                out[k] = max[k][positions[k]];
            }
            return out;
        }
    }

    /** What a {@link #scan} does with each batch: the layer's output and the rows of it to use (the first ones). */
    interface BatchOutput {
        void accept(io.neuronmonkey.api.tensor.Tensor layerOutput, int rows);
    }

    /**
     * Runs the model over the data's first {@code limit} examples, batch by batch, and hands each batch's output of
     * the layer to {@code perBatch}.
     *
     * @return the examples seen
     */
    static long scan(Dataset data, LoadedModel model, LayerInfo layer, int limit, int batchSize, BatchOutput perBatch) {
        int seen = 0;
        Iterator<Batch> it = data.batches(Math.max(1, batchSize));
        while (it.hasNext() && seen < limit) {
            Batch b = it.next();
            int n = Math.min(b.size(), limit - seen);
            Batch use = n < b.size() ? b.slice(0, n) : b;
            perBatch.accept(model.run(use.modelInputs(), List.of(layer.name()), List.of()).get(layer.name()), n);
            seen += n;
        }
        return seen;
    }

    /**
     * @param data      the data
     * @param model     the model
     * @param layer     a spatial layer
     * @param neurons   the neurons
     * @param limit     the most examples
     * @param batchSize rows per run
     * @return the peaks, in one pass over the data
     */
    static Peaks peaks(Dataset data, LoadedModel model, LayerInfo layer, List<Integer> neurons, int limit, int batchSize) {
        int positions = layer.positions();
        int c = layer.neurons();
        float[][] max = new float[neurons.size()][positions];
        for (float[] m : max) {
            Arrays.fill(m, Float.NEGATIVE_INFINITY);
        }
        long seen = scan(data, model, layer, limit, batchSize, (t, n) -> {
            float[] a = t.floats();
            for (int r = 0; r < n; r++) {
                for (int q = 0; q < positions; q++) {
                    int base = (r * positions + q) * c;
                    for (int k = 0; k < neurons.size(); k++) {
                        max[k][q] = Math.max(max[k][q], a[base + neurons.get(k)]);
                    }
                }
            }
        });
        if (seen == 0) {
            throw new IllegalArgumentException("position: max needs data to find each neuron's peak, and the data has no examples");
        }
        int[] at = new int[neurons.size()];
        for (int k = 0; k < at.length; k++) {
            for (int q = 1; q < positions; q++) {
                at[k] = max[k][q] > max[k][at[k]] ? q : at[k];
            }
        }
        return new Peaks(max, at);
    }

    /**
     * @param layer    a layer shaped {@code [rows, cols, neurons]}
     * @param position {@code [row, col]}
     * @param count    neurons
     * @return the flat position, once per neuron
     */
    static int[] fixed(LayerInfo layer, List<String> position, int count) {
        int rows = layer.shape()[0];
        int cols = layer.shape()[1];
        int r = Integer.parseInt(position.get(0));
        int c = Integer.parseInt(position.get(1));
        if (r >= rows || c >= cols) {
            throw new IllegalArgumentException("position: " + position + " lies outside the " + rows + " x " + cols
                    + " grid of layer " + layer.name() + " (rows 0.." + (rows - 1) + ", cols 0.." + (cols - 1) + ")");
        }
        int[] out = new int[count];
        Arrays.fill(out, r * cols + c);
        return out;
    }

    /**
     * The receptive field of each neuron's position: the input pixels where the gradient of the neuron's value at
     * the position is non-zero for at least one of {@link #FIELD_PROBES} seeded random inputs (uniform in [0, 1]).
     *
     * @param model     the model
     * @param layer     the tensor whose units are differentiated (the layer, or its pre-activation)
     * @param neurons   the neurons
     * @param positions each neuron's position
     * @param shape     the input shape {@code [h, w, c]}
     * @param seed      the run's seed
     * @return per neuron, a mask over the {@code h * w} pixels
     */
    static boolean[][] fields(LoadedModel model, String layer, List<Integer> neurons, int[] positions, int[] shape,
                              long seed) {
        int k = neurons.size();
        int pixels = shape[0] * shape[1];
        int size = pixels * shape[2];
        int rows = k * FIELD_PROBES;
        Random random = new Random(seed ^ 0x5DEECE66DL);
        float[] x = new float[rows * size];
        for (int i = 0; i < x.length; i++) {
            x[i] = random.nextFloat();
        }
        int[] neuron = new int[rows];
        int[] at = new int[rows];
        for (int r = 0; r < rows; r++) {
            neuron[r] = neurons.get(r / FIELD_PROBES);
            at[r] = positions[r / FIELD_PROBES];
        }
        String input = model.layers().stream().filter(l -> l.role() == LayerInfo.Role.INPUT).map(LayerInfo::name)
                .findFirst().orElseThrow(() -> new IllegalStateException(model.description() + " names no input layer"));
        float[] g = model.gradient(Tensor.ofFloats(x, rows, shape[0], shape[1], shape[2]),
                GradientTarget.perRowAtPositions(layer, neuron, at), input).floats();
        boolean[][] out = new boolean[k][pixels];
        for (int r = 0; r < rows; r++) {
            for (int q = 0; q < pixels; q++) {
                for (int ch = 0; ch < shape[2]; ch++) {
                    if (g[r * size + q * shape[2] + ch] != 0) {
                        out[r / FIELD_PROBES][q] = true;
                    }
                }
            }
        }
        return out;
    }

    /**
     * Energy shares of one image (energy = sum of squares of the given values, e.g. deviations from a start image).
     *
     * @param img    images {@code [.., h, w, c]}
     * @param offset start of the image
     * @param shape  {@code [h, w, c]}
     * @param field  the receptive field's pixels
     * @param region [top, left, bottom, right] inclusive, or null
     * @return {field energy share, field area share} and, with a region, {region energy share of the field, region
     *         area share of the field}; 0 where the denominator is 0
     */
    static double[] shares(float[] img, int offset, int[] shape, boolean[] field, List<Integer> region) {
        int h = shape[0];
        int w = shape[1];
        int c = shape[2];
        double all = 0;
        double inField = 0;
        double inBoth = 0;
        int fieldArea = 0;
        int bothArea = 0;
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                boolean f = field[i * w + j];
                boolean r = region != null && i >= region.get(0) && i <= region.get(2) && j >= region.get(1) && j <= region.get(3);
                double e = 0;
                for (int ch = 0; ch < c; ch++) {
                    double v = img[offset + (i * w + j) * c + ch];
                    e += v * v;
                }
                all += e;
                if (f) {
                    inField += e;
                    fieldArea++;
                    if (r) {
                        inBoth += e;
                        bothArea++;
                    }
                }
            }
        }
        double fieldShare = all == 0 ? 0 : inField / all;
        double fieldAreaShare = (double) fieldArea / (h * w);
        if (region == null) {
            return new double[] {fieldShare, fieldAreaShare};
        }
        return new double[] {fieldShare, fieldAreaShare, inField == 0 ? 0 : inBoth / inField,
                fieldArea == 0 ? 0 : (double) bothArea / fieldArea};
    }
}
