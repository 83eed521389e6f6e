package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.tensorflow.TensorFlowBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Occlusion against a naive loop (one model run per occluded copy) on the demo CNN, against the closed form
 * {@code w_i x_i} on a linear model, and on the watermark the demo CNN learned as a shortcut for squares.
 */
class OcclusionTest {

    static LoadedModel cnn;

    @BeforeAll
    static void load() {
        cnn = TestSupport.demoModel();
    }

    @AfterAll
    static void close() {
        cnn.close();
    }

    /** The plain definition: every window run alone, differences averaged per pixel. */
    private static float[] naive(LoadedModel model, Batch b, Target.Bound target, int[] rows, int patch, int stride,
                                 float value) {
        int n = b.size();
        int h = b.inputs().dim(1);
        int w = b.inputs().dim(2);
        int ch = b.inputs().dim(3);
        int rs = h * w * ch;
        float[] x = b.inputs().floats();
        float[] out = new float[n * rs];
        for (int e = 0; e < n; e++) {
            float[] one = java.util.Arrays.copyOfRange(x, e * rs, (e + 1) * rs);
            float base = target.values(model.run(Tensor.ofFloats(one, 1, h, w, ch), List.of(target.layer())),
                    new int[] {rows[e]})[0];
            double[] sum = new double[h * w];
            int[] count = new int[h * w];
            for (int r0 = 0; ; r0 += stride) {
                for (int c0 = 0; ; c0 += stride) {
                    float[] occ = one.clone();
                    for (int r = r0; r < r0 + patch && r < h; r++) {
                        for (int c = c0; c < c0 + patch && c < w; c++) {
                            for (int k = 0; k < ch; k++) {
                                occ[(r * w + c) * ch + k] = value;
                            }
                        }
                    }
                    float f = target.values(model.run(Tensor.ofFloats(occ, 1, h, w, ch), List.of(target.layer())),
                            new int[] {rows[e]})[0];
                    for (int r = r0; r < r0 + patch && r < h; r++) {
                        for (int c = c0; c < c0 + patch && c < w; c++) {
                            sum[r * w + c] += base - f;
                            count[r * w + c]++;
                        }
                    }
                    if (c0 + patch >= w) {
                        break;
                    }
                }
                if (r0 + patch >= h) {
                    break;
                }
            }
            for (int p = 0; p < h * w; p++) {
                for (int k = 0; k < ch; k++) {
                    out[e * rs + p * ch + k] = count[p] == 0 ? 0 : (float) (sum[p] / count[p]);
                }
            }
        }
        return out;
    }

    @Test
    void batchedMapsEqualTheNaiveLoopOnTheDemoCnn() {
        try (Dataset d = TestSupport.shapes("test", 3)) {
            Batch b = d.batches(3).next();
            Target.Bound predicted = Target.parse("predicted").orElseThrow().resolve(cnn, d.info(), "t");
            int[] rows = predicted.rows(cnn, b, null);
            for (int[] ps : new int[][] {{4, 2}, {3, 3}}) {
                // a chunk that does not divide the windows per example: chunks straddle examples
                Tensor fast = new Occlusion(ps[0], ps[1], 0f, 50).attribute(cnn, b, predicted, rows);
                assertArrayEquals(b.inputs().shape(), fast.shape());
                float[] slow = naive(cnn, b, predicted, rows, ps[0], ps[1], 0f);
                assertArrayEquals(slow, fast.floats(), 1e-5f, "patch " + ps[0] + " stride " + ps[1]);
                float max = 0;
                for (float v : slow) {
                    max = Math.max(max, Math.abs(v));
                }
                assertTrue(max > 0.1f, "occlusion changes the logit somewhere: " + max);
            }
        }
    }

    @Test
    void onALinearModelPatchOneWithValueZeroIsWeightTimesInput(@TempDir Path dir) {
        CamModels.exportLinear(dir.resolve("linear"));
        try (LoadedModel linear = TestSupport.loadModel(dir.resolve("linear"), TensorFlowBackend.Params.defaults())) {
            int n = 5;
            float[] x = new float[n * 6];
            java.util.Random rnd = new java.util.Random(3);
            for (int i = 0; i < x.length; i++) {
                x[i] = (rnd.nextInt(33) - 16) / 8f;
            }
            Batch b = new Batch(0, Tensor.ofFloats(x, n, 6), null, Collections.nCopies(n, "e"),
                    Collections.nCopies(n, Map.of()));
            int[] rows = {0, 1, 2, 1, 0};
            Target.Bound logit = new Target.Bound(Target.parse("label").orElseThrow(), "logits", 3, -1);
            Tensor map = new Occlusion(1, 1, 0f, 7).attribute(linear, b, logit, rows);
            assertArrayEquals(new int[] {n, 6}, map.shape());
            float[] expected = new float[n * 6];
            for (int e = 0; e < n; e++) {
                for (int i = 0; i < 6; i++) {
                    // + 0f turns a -0 product into the 0 a difference of equal logits gives
                    expected[e * 6 + i] = CamModels.LINEAR_W[i * 3 + rows[e]] * x[e * 6 + i] + 0f;
                }
            }
            assertArrayEquals(expected, map.floats());
        }
    }

    @Test
    void occludingTheWatermarkLowersTheSquareLogit() {
        try (Dataset d = TestSupport.shapes("decorrelated", 256)) {
            ExampleFilter ex = new ExampleFilter(d, Map.of("watermark", "on", "class", "square"), 24, "t");
            Target.Bound square = Target.parse("class:square").orElseThrow().resolve(cnn, d.info(), "t");
            Occlusion occ = new Occlusion(3, 3, 0f);
            double inside = 0;
            double outside = 0;
            int examples = 0;
            int agree = 0;
            for (var it = ex.batches(64); it.hasNext(); ) {
                Batch b = it.next();
                float[] m = occ.attribute(cnn, b, square, square.rows(cnn, b, null)).floats();
                for (int e = 0; e < b.size(); e++) {
                    double in = 0;
                    double out = 0;
                    for (int r = 0; r < 28; r++) {
                        for (int c = 0; c < 28; c++) {
                            boolean patch = r >= 24 && r <= 26 && c >= 24 && c <= 26;
                            if (patch) {
                                in += m[e * 784 + r * 28 + c];
                            } else {
                                out += m[e * 784 + r * 28 + c];
                            }
                        }
                    }
                    in /= 9;
                    out /= 784 - 9;
                    inside += in;
                    outside += out;
                    agree += in > out ? 1 : 0;
                    examples++;
                }
            }
            assertTrue(examples > 10, "watermarked squares found: " + examples);
            System.out.printf("occlusion watermark: mean map inside the patch %.4f, outside %.4f; inside > outside"
                    + " for %d of %d examples%n", inside / examples, outside / examples, agree, examples);
            assertTrue(inside > outside, "inside " + inside / examples + " vs outside " + outside / examples);
            assertTrue(inside / examples > 0, "occluding the watermark lowers the square logit");
        }
    }

    @Test
    void refusesBadSettings() {
        assertThrows(IllegalArgumentException.class, () -> new Occlusion(0, 1, 0f));
        assertThrows(IllegalArgumentException.class, () -> new Occlusion(2, 0, 0f));
        assertThrows(IllegalArgumentException.class, () -> new Occlusion(2, 1, Float.NaN));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new Occlusion(2, 1, 0f, 0));
        assertTrue(e.getMessage().contains("chunk"), e.getMessage());
        assertFalse(new Occlusion(2, 2, 0f).needsGradients());
        assertEquals(List.of(0, 2, 4), toList(new Occlusion(3, 2, 0f).starts(7)));
        assertEquals(List.of(0, 3, 6), toList(new Occlusion(3, 3, 0f).starts(7)));
    }

    private static List<Integer> toList(int[] a) {
        List<Integer> l = new ArrayList<>();
        for (int v : a) {
            l.add(v);
        }
        return l;
    }

    @Test
    void benchmark() {
        if (!Boolean.getBoolean("bench")) {
            return;
        }
        try (Dataset d = TestSupport.shapes("test", 64)) {
            Batch b = d.batches(64).next();
            Target.Bound predicted = Target.parse("predicted").orElseThrow().resolve(cnn, d.info(), "t");
            int[] rows = predicted.rows(cnn, b, null);
            Occlusion occ = new Occlusion(4, 2, 0f);
            // warm-up: the first runs of a new batch shape set up the executor
            occ.attribute(cnn, ExampleFilter.select(b, new int[] {0, 1, 2, 3, 4, 5, 6, 7}), predicted,
                    java.util.Arrays.copyOf(rows, 8));
            long t0 = System.nanoTime();
            occ.attribute(cnn, b, predicted, rows);
            double ms = (System.nanoTime() - t0) / 1e6;
            System.out.printf("occlusion patch 4 stride 2 (169 windows): %.2f ms per example over %d examples%n",
                    ms / b.size(), b.size());
        }
    }
}
