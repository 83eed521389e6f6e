package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.neuronmonkey.attribution.InputFixtures.CLASSES;
import static io.neuronmonkey.attribution.InputFixtures.PIXELS;
import static io.neuronmonkey.attribution.InputFixtures.SIDE;
import static io.neuronmonkey.attribution.InputFixtures.W;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * On a linear model {@code logits = x W + b} with known weights every method has a closed form: the gradient of
 * logit c is the column {@code W[:, c]}, so saliency is {@code |W[:, c]|}, gradient x input is {@code W[:, c] * x}
 * and integrated gradients is {@code W[:, c] * (x - baseline)} for every rule (the weights of each rule sum to 1).
 */
class LinearModelAttributionTest {

    static final float TOL = 2e-5f;
    static final int N = 7;

    static Batch batch() {
        Random r = new Random(5);
        float[] x = new float[N * PIXELS];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.nextFloat();
        }
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            ids.add("lin-" + i);
        }
        return new Batch(0, Tensor.ofFloats(x, N, SIDE, SIDE, 1), new int[N], ids, Collections.nCopies(N, Map.of()));
    }

    static final DatasetInfo INFO = new DatasetInfo(N, new int[] {SIDE, SIDE, 1}, List.of("a", "b", "c"), List.of());

    static float w(int pixel, int c) {
        return W[pixel * CLASSES + c];
    }

    static void assertClose(float expected, float actual, String what) {
        assertEquals(expected, actual, TOL * Math.max(1, Math.abs(expected)), what);
    }

    @Test
    void integratedGradientsIsTheWeightTimesInputMinusBaselineForEveryRule(@TempDir Path dir) {
        try (LoadedModel m = InputFixtures.linearModel(dir.resolve("linear"))) {
            Batch b = batch();
            float[] x = b.inputs().floats();
            for (String target : List.of("class:b", "predicted")) {
                Target.Bound t = Target.parse(target).orElseThrow().resolve(m, INFO, "s");
                int[] rows = t.rows(m, b, null);
                for (PathRule rule : PathRule.values()) {
                    for (double base : new double[] {0, 0.3}) {
                        Baseline baseline = Baseline.parse(base == 0 ? "zero" : "constant:" + base).orElseThrow();
                        IntegratedGradients ig = new IntegratedGradients(List.of(baseline), rule, 5, 8, null, 42);
                        IntegratedGradients.Outcome o = ig.explain(m, b, t, rows);
                        float[] maps = o.maps().floats();
                        for (int e = 0; e < N; e++) {
                            double delta = 0;
                            for (int p = 0; p < PIXELS; p++) {
                                float expected = w(p, rows[e]) * (x[e * PIXELS + p] - (float) base);
                                delta += expected;
                                assertClose(expected, maps[e * PIXELS + p], rule + " " + baseline + " " + target + " example " + e);
                            }
                            assertEquals(delta, o.delta()[e], 1e-4 * Math.max(1, Math.abs(delta)), "F(x) - F(b)");
                            assertEquals(o.sums()[e], o.delta()[e], 1e-4 * Math.max(1, Math.abs(delta)), "completeness");
                        }
                    }
                }
            }
            // several baselines are averaged: W (x - mean of the references)
            Target.Bound t = Target.parse("class:2").orElseThrow().resolve(m, INFO, "s");
            int[] rows = t.rows(m, b, null);
            List<Baseline> several = List.of(Baseline.parse("noise:3").orElseThrow(), Baseline.parse("constant:1").orElseThrow());
            List<float[]> refs = Baseline.inputs(several, b, null, 42);
            assertEquals(4, refs.size());
            float[] maps = new IntegratedGradients(several, PathRule.MIDDLE, 3, 5, null, 42).attribute(m, b, t, rows).floats();
            for (int i = 0; i < N * PIXELS; i++) {
                float meanRef = 0;
                for (float[] r : refs) {
                    meanRef += r[i] / refs.size();
                }
                assertClose(w(i % PIXELS, 2) * (x[i] - meanRef), maps[i], "averaged baselines, element " + i);
                assertEquals(1f, refs.get(3)[i]);
            }
        }
    }

    @Test
    void saliencyIsTheWeightColumnAndGradientTimesInputIsWeightTimesInput(@TempDir Path dir) {
        try (LoadedModel m = InputFixtures.linearModel(dir.resolve("linear"))) {
            Batch b = batch();
            float[] x = b.inputs().floats();
            Target.Bound t = Target.parse("class:c").orElseThrow().resolve(m, INFO, "s");
            int[] rows = t.rows(m, b, null);
            float[] signed = new Saliency(false, 3).attribute(m, b, t, rows).floats();
            float[] abs = new Saliency(true, 100).attribute(m, b, t, rows).floats();
            float[] gxi = new GradientTimesInput(4).attribute(m, b, t, rows).floats();
            for (int i = 0; i < N * PIXELS; i++) {
                float wi = w(i % PIXELS, 2);
                assertClose(wi, signed[i], "signed saliency " + i);
                assertClose(Math.abs(wi), abs[i], "|saliency| " + i);
                assertClose(wi * x[i], gxi[i], "gradient x input " + i);
            }
        }
    }
}
