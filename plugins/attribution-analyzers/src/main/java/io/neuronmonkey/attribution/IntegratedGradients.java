package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.List;
import java.util.Map;

/**
 * Integrated gradients: {@code (x - b) * integral over alpha in [0, 1] of dF/dx at b + alpha (x - b)}, the integral
 * taken by a {@link PathRule} with {@code steps} points, averaged over the reference inputs of the baselines. The
 * interpolation rows of a batch (examples x references x steps) are generated and differentiated in chunks of
 * {@code chunk} rows, one gradient call each, every row's target the neuron its example was assigned at the input;
 * so peak memory is bounded by the chunk and one batch of maps, whatever the steps.
 *
 * @param baselines the baselines (averaged)
 * @param rule      the quadrature rule
 * @param steps     points per path
 * @param chunk     the most interpolation rows per gradient call
 * @param mean      the selected examples' mean input, for the {@code mean} baseline; else null
 * @param seed      the run's seed (noise baselines)
 */
record IntegratedGradients(List<Baseline> baselines, PathRule rule, int steps, int chunk, float[] mean, long seed)
        implements AttributionMethod {

    /**
     * A batch's attributions with what completeness needs.
     *
     * @param maps  {@code [n, input shape...]}
     * @param sums  per example the sum of its map
     * @param delta per example {@code F(x) - mean over references of F(b)}
     */
    record Outcome(Tensor maps, double[] sums, double[] delta) {

        /** @return per example {@code |sum - delta| / max(|delta|, 1e-6)} */
        double[] errors() {
            double[] e = new double[sums.length];
            for (int i = 0; i < e.length; i++) {
                e[i] = Math.abs(sums[i] - delta[i]) / Math.max(Math.abs(delta[i]), 1e-6);
            }
            return e;
        }
    }

    /**
     * @param steps points per path
     * @return the same method with another number of steps
     */
    IntegratedGradients withSteps(int steps) {
        return new IntegratedGradients(baselines, rule, steps, chunk, mean, seed);
    }

    @Override
    public String name() {
        return "integrated gradients";
    }

    @Override
    public boolean needsGradients() {
        return true;
    }

    @Override
    public Tensor attribute(LoadedModel model, Batch batch, Target.Bound target, int[] targetRows) {
        return explain(model, batch, target, targetRows).maps();
    }

    /**
     * @param model      the model
     * @param batch      the examples
     * @param target     the target
     * @param targetRows each example's neuron, fixed at the input
     * @return the maps, their sums and {@code F(x) - F(baseline)} (one run of the model on inputs and references)
     */
    Outcome explain(LoadedModel model, Batch batch, Target.Bound target, int[] targetRows) {
        int n = batch.size();
        int rs = batch.inputs().rowSize();
        float[] x = batch.inputs().floats();
        List<float[]> refs = Baseline.inputs(baselines, batch, mean, seed);
        int k = refs.size();
        double[][] pw = rule.points(steps);
        double[] alpha = pw[0];
        double[] weight = pw[1];
        int perExample = k * steps;
        float[] acc = new float[n * k * rs];
        InputGradients.chunked(model, batch.modelInputs(), row -> row / perExample, InputGradients.exampleShape(batch),
                n * perExample, chunk, target.layer(),
                row -> targetRows[row / perExample],
                (first, count, buf) -> {
                    for (int i = 0; i < count; i++) {
                        int row = first + i;
                        int e = row / perExample;
                        float[] b = refs.get((row / steps) % k);
                        float a = (float) alpha[row % steps];
                        int o = e * rs;
                        for (int j = 0; j < rs; j++) {
                            buf[i * rs + j] = b[o + j] + a * (x[o + j] - b[o + j]);
                        }
                    }
                },
                (first, count, g) -> {
                    for (int i = 0; i < count; i++) {
                        int row = first + i;
                        float w = (float) weight[row % steps];
                        int o = (row / steps) * rs;
                        for (int j = 0; j < rs; j++) {
                            acc[o + j] += w * g[i * rs + j];
                        }
                    }
                });
        float[] maps = new float[n * rs];
        double[] sums = new double[n];
        for (int e = 0; e < n; e++) {
            for (int r = 0; r < k; r++) {
                float[] b = refs.get(r);
                int o = (e * k + r) * rs;
                for (int j = 0; j < rs; j++) {
                    maps[e * rs + j] += (x[e * rs + j] - b[e * rs + j]) * acc[o + j];
                }
            }
            double s = 0;
            for (int j = 0; j < rs; j++) {
                maps[e * rs + j] /= k;
                s += maps[e * rs + j];
            }
            sums[e] = s;
        }
        return new Outcome(Tensor.ofFloats(maps, batch.inputs().shape()), sums, delta(model, batch, target, targetRows, refs));
    }

    /** {@code F(x) - mean F(b)} per example, from one run of the model on the inputs followed by the references. */
    private static double[] delta(LoadedModel model, Batch batch, Target.Bound target, int[] targetRows, List<float[]> refs) {
        int n = batch.size();
        int rs = batch.inputs().rowSize();
        int k = refs.size();
        float[] all = new float[(k + 1) * n * rs];
        System.arraycopy(batch.inputs().floats(), 0, all, 0, n * rs);
        for (int r = 0; r < k; r++) {
            System.arraycopy(refs.get(r), 0, all, (r + 1) * n * rs, n * rs);
        }
        int[] shape = batch.inputs().shape();
        shape[0] = (k + 1) * n;
        Map<String, Tensor> run = model.run(TextAttribution.rowsOf(batch.modelInputs(), TextAttribution.repeatedRows(n, k + 1),
                Tensor.ofFloats(all, shape)), List.of(target.layer()), List.of());
        float[] f = Values.perNeuron(run.get(target.layer()));
        int c = target.neurons();
        double[] d = new double[n];
        for (int e = 0; e < n; e++) {
            double base = 0;
            for (int r = 0; r < k; r++) {
                base += f[((r + 1) * n + e) * c + targetRows[e]];
            }
            d[e] = f[e * c + targetRows[e]] - base / k;
        }
        return d;
    }
}
