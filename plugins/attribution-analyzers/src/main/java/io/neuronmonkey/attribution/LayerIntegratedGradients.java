package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Integrated gradients in the activation space of a layer: with {@code h} the layer's output at the input and
 * {@code b} a baseline activation, the path {@code b + alpha (h - b)} is fed by patching the layer
 * ({@link Intervention#patch}, one row per path point), the gradient of the target is taken with respect to the same
 * layer under that patch, and the attribution is {@code (h - b) * integral of the gradient}, the integral taken by a
 * {@link PathRule}. Completeness holds in that space: the attributions sum to {@code F(h) - F(b)}, {@code F(b)}
 * computed with the baseline patched in. This is what attributes a text model's output to its tokens (the layer is
 * the embedding) or an image model's output to a hidden layer's units.
 * <p>
 * Baselines: {@code zero}, {@code constant:V}, {@code mean} (the mean activation of the selected examples per
 * position and neuron, over real tokens only for text). At padding positions the baseline is the activation itself,
 * so padding never moves along the path and gets exactly zero attribution. Rows are generated and differentiated in
 * chunks of {@code chunk} rows, one gradient call each.
 *
 * @param layer     the layer attributed to
 * @param info      its description (shape, positions)
 * @param baselines the baselines (averaged)
 * @param rule      the quadrature rule
 * @param steps     points per path
 * @param chunk     the most path rows per gradient call
 * @param mean      the mean activation {@code [positions * neurons]} for the {@code mean} baseline; else null
 */
record LayerIntegratedGradients(String layer, LayerInfo info, List<Baseline> baselines, PathRule rule, int steps, int chunk,
                                float[] mean) {

    /** The baselines that make sense in a layer's activation space, for messages. */
    static final String FORMS = "zero, constant:V, mean";

    /**
     * @param b a baseline
     * @return true when it can be used over a layer
     */
    static boolean supports(Baseline b) {
        return b.kind() == Baseline.Kind.ZERO || b.kind() == Baseline.Kind.CONSTANT || b.kind() == Baseline.Kind.MEAN;
    }

    /**
     * @param steps points per path
     * @return the same method with another number of steps
     */
    LayerIntegratedGradients withSteps(int steps) {
        return new LayerIntegratedGradients(layer, info, baselines, rule, steps, chunk, mean);
    }

    /**
     * @param model      the model
     * @param batch      the examples
     * @param target     the target
     * @param targetRows each example's neuron, fixed at the input
     * @return the attributions {@code [n, layer shape...]}, their sums and {@code F(h) - mean F(b)}
     */
    IntegratedGradients.Outcome explain(LoadedModel model, Batch batch, Target.Bound target, int[] targetRows) {
        int n = batch.size();
        ModelInputs in = batch.modelInputs();
        LinkedHashSet<String> capture = new LinkedHashSet<>(List.of(layer, target.layer()));
        Map<String, Tensor> run = model.run(in, capture, List.of());
        Tensor acts = run.get(layer);
        float[] h = acts.floats();
        int rs = acts.rowSize();
        int[] rowShape = java.util.Arrays.copyOfRange(acts.shape(), 1, acts.rank());
        float[] fh = target.values(run, targetRows);
        List<float[]> refs = references(batch, h, rs);
        int k = refs.size();
        double[][] pw = rule.points(steps);
        double[] alpha = pw[0];
        double[] weight = pw[1];
        int perExample = k * steps;
        int total = n * perExample;
        float[] acc = new float[n * k * rs];
        float[] full = null;
        for (int first = 0; first < total; first += chunk) {
            int count = Math.min(chunk, total - first);
            float[] buf = count == chunk ? (full == null ? full = new float[chunk * rs] : full) : new float[count * rs];
            int[] source = new int[count];
            int[] neuron = new int[count];
            for (int i = 0; i < count; i++) {
                int row = first + i;
                int e = row / perExample;
                float[] b = refs.get((row / steps) % k);
                float a = (float) alpha[row % steps];
                int o = e * rs;
                for (int j = 0; j < rs; j++) {
                    buf[i * rs + j] = b[o + j] + a * (h[o + j] - b[o + j]);
                }
                source[i] = e;
                neuron[i] = targetRows[e];
            }
            Tensor g = model.gradient(in.select(source), GradientTarget.perRow(target.layer(), neuron), layer,
                    List.of(Intervention.patch(layer, Tensor.ofFloats(buf, shape(count, rowShape)))));
            float[] gv = g.floats();
            if (gv.length != count * rs) {
                throw new AnalysisException(model.description() + ": the gradient w.r.t. '" + layer + "' has "
                        + gv.length + " values for " + count + " rows of " + rs);
            }
            for (int i = 0; i < count; i++) {
                int row = first + i;
                float w = (float) weight[row % steps];
                int o = (row / steps) * rs;
                for (int j = 0; j < rs; j++) {
                    acc[o + j] += w * gv[i * rs + j];
                }
            }
        }
        float[] maps = new float[n * rs];
        double[] sums = new double[n];
        for (int e = 0; e < n; e++) {
            for (int r = 0; r < k; r++) {
                float[] b = refs.get(r);
                int o = (e * k + r) * rs;
                for (int j = 0; j < rs; j++) {
                    maps[e * rs + j] += (h[e * rs + j] - b[e * rs + j]) * acc[o + j];
                }
            }
            double s = 0;
            for (int j = 0; j < rs; j++) {
                maps[e * rs + j] /= k;
                s += maps[e * rs + j];
            }
            sums[e] = s;
        }
        return new IntegratedGradients.Outcome(Tensor.ofFloats(maps, shape(n, rowShape)), sums,
                delta(model, in, target, targetRows, refs, fh, rowShape));
    }

    /** {@code F(h) - mean F(b)}: one run with every reference patched in. */
    private double[] delta(LoadedModel model, ModelInputs in, Target.Bound target, int[] targetRows, List<float[]> refs,
                           float[] fh, int[] rowShape) {
        int n = in.rows();
        int k = refs.size();
        int rs = refs.get(0).length / Math.max(1, n);
        float[] all = new float[k * n * rs];
        int[] source = new int[k * n];
        int[] neuron = new int[k * n];
        for (int r = 0; r < k; r++) {
            System.arraycopy(refs.get(r), 0, all, r * n * rs, n * rs);
            for (int e = 0; e < n; e++) {
                source[r * n + e] = e;
                neuron[r * n + e] = targetRows[e];
            }
        }
        Map<String, Tensor> run = model.run(in.select(source), List.of(target.layer()),
                List.of(Intervention.patch(layer, Tensor.ofFloats(all, shape(k * n, rowShape)))));
        float[] fb = target.values(run, neuron);
        double[] d = new double[n];
        for (int e = 0; e < n; e++) {
            double base = 0;
            for (int r = 0; r < k; r++) {
                base += fb[r * n + e];
            }
            d[e] = fh[e] - base / k;
        }
        return d;
    }

    /** The reference activations of a batch, one per baseline, padding positions equal to the activation. */
    private List<float[]> references(Batch batch, float[] h, int rs) {
        int n = batch.size();
        int positions = info.positions();
        int neurons = rs / positions;
        boolean[] real = batch.positionMask(positions);
        List<float[]> out = new ArrayList<>();
        for (Baseline b : baselines) {
            float[] ref = new float[n * rs];
            switch (b.kind()) {
                case ZERO -> {
                }
                case CONSTANT -> java.util.Arrays.fill(ref, (float) b.value());
                case MEAN -> {
                    for (int e = 0; e < n; e++) {
                        System.arraycopy(mean, 0, ref, e * rs, rs);
                    }
                }
                default -> throw new AnalysisException("baseline " + b + " cannot be used over layer '" + layer
                        + "'; use " + FORMS);
            }
            if (real != null) {
                for (int i = 0; i < real.length; i++) {
                    if (!real[i]) {
                        System.arraycopy(h, i * neurons, ref, i * neurons, neurons);
                    }
                }
            }
            out.add(ref);
        }
        return out;
    }

    /**
     * The mean activation of a layer over the selected examples, per position and neuron; for text over the real
     * tokens at each position (0 where no example has one).
     *
     * @param model     the model
     * @param examples  the selected examples
     * @param layer     the layer
     * @param batchSize examples per run
     * @return {@code [positions * neurons]}
     */
    static float[] meanActivation(LoadedModel model, ExampleFilter examples, LayerInfo layer, int batchSize) {
        int positions = layer.positions();
        int neurons = layer.neurons();
        double[] sum = new double[positions * neurons];
        long[] count = new long[positions];
        for (Iterator<Batch> it = examples.batches(batchSize); it.hasNext(); ) {
            Batch b = it.next();
            float[] h = model.run(b.modelInputs(), List.of(layer.name()), List.of()).get(layer.name()).floats();
            boolean[] real = b.positionMask(positions);
            for (int e = 0; e < b.size(); e++) {
                for (int p = 0; p < positions; p++) {
                    int i = e * positions + p;
                    if (real != null && !real[i]) {
                        continue;
                    }
                    count[p]++;
                    for (int c = 0; c < neurons; c++) {
                        sum[p * neurons + c] += h[i * neurons + c];
                    }
                }
            }
        }
        float[] mean = new float[sum.length];
        for (int p = 0; p < positions; p++) {
            for (int c = 0; c < neurons; c++) {
                mean[p * neurons + c] = count[p] == 0 ? 0f : (float) (sum[p * neurons + c] / count[p]);
            }
        }
        return mean;
    }

    private static int[] shape(int rows, int[] rowShape) {
        int[] s = new int[rowShape.length + 1];
        s[0] = rows;
        System.arraycopy(rowShape, 0, s, 1, rowShape.length);
        return s;
    }
}
