package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Random;

/**
 * The mean gradient over {@code samples} noisy copies of each input, {@code x + N(0, (sigma * (max - min))^2)} with
 * max and min the example's own range, then its absolute value if asked. The noise is seeded per example id, so an
 * example gets the same maps in whichever batch it comes; the copies of a whole batch go to the model together, in
 * chunks of at most {@code chunk} rows.
 *
 * @param samples  noisy copies per example, >= 1
 * @param sigma    the noise's standard deviation as a fraction of the example's value range, >= 0
 * @param absolute true for the absolute value of the mean gradient
 * @param seed     the run's seed
 * @param chunk    the most rows per gradient call
 */
record SmoothGrad(int samples, double sigma, boolean absolute, long seed, int chunk) implements AttributionMethod {

    @Override
    public String name() {
        return "smoothgrad";
    }

    @Override
    public boolean needsGradients() {
        return true;
    }

    @Override
    public Tensor attribute(LoadedModel model, Batch batch, Target.Bound target, int[] targetRows) {
        int n = batch.size();
        int rs = batch.inputs().rowSize();
        float[] x = batch.inputs().floats();
        float[] spread = new float[n];
        for (int r = 0; r < n; r++) {
            float lo = Float.POSITIVE_INFINITY;
            float hi = Float.NEGATIVE_INFINITY;
            for (int i = r * rs; i < (r + 1) * rs; i++) {
                lo = Math.min(lo, x[i]);
                hi = Math.max(hi, x[i]);
            }
            spread[r] = (float) (sigma * (hi - lo));
        }
        Random[] noise = new Random[n];
        for (int r = 0; r < n; r++) {
            noise[r] = new Random(seed * 0x9E3779B97F4A7C15L + batch.ids().get(r).hashCode());
        }
        float[] sum = new float[n * rs];
        InputGradients.chunked(model, batch.modelInputs(), row -> row / samples, InputGradients.exampleShape(batch),
                n * samples, chunk, target.layer(),
                row -> targetRows[row / samples],
                (first, count, buf) -> {
                    for (int i = 0; i < count; i++) {
                        int e = (first + i) / samples;
                        Random random = noise[e];
                        for (int j = 0; j < rs; j++) {
                            buf[i * rs + j] = spread[e] == 0 ? x[e * rs + j] : x[e * rs + j] + spread[e] * (float) random.nextGaussian();
                        }
                    }
                },
                (first, count, g) -> {
                    for (int i = 0; i < count; i++) {
                        int o = ((first + i) / samples) * rs;
                        for (int j = 0; j < rs; j++) {
                            sum[o + j] += g[i * rs + j];
                        }
                    }
                });
        float inv = 1f / samples;
        for (int i = 0; i < sum.length; i++) {
            sum[i] = absolute ? Math.abs(sum[i] * inv) : sum[i] * inv;
        }
        return Tensor.ofFloats(sum, batch.inputs().shape());
    }
}
