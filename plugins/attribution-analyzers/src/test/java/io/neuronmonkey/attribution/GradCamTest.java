package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.tensorflow.TensorFlowBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Grad-CAM against its closed form on a model with known weights (a 1x1 conv, global average pooling and a dense
 * layer: {@code alpha_c = V[c, k] / 16}), against a naive bilinear loop, and on the demo CNN's watermark shortcut.
 */
class GradCamTest {

    /** Bilinear, half-pixel centres, clamped: written plainly per output pixel. */
    private static float sample(float[] m, int off, int h, int w, int outH, int outW, int i, int j) {
        double sy = Math.max(0, (i + 0.5) * h / outH - 0.5);
        double sx = Math.max(0, (j + 0.5) * w / outW - 0.5);
        int ya = Math.min((int) sy, h - 1);
        int xa = Math.min((int) sx, w - 1);
        int yb = Math.min(ya + 1, h - 1);
        int xb = Math.min(xa + 1, w - 1);
        double dy = sy - ya;
        double dx = sx - xa;
        return (float) ((1 - dy) * ((1 - dx) * m[off + ya * w + xa] + dx * m[off + ya * w + xb])
                + dy * ((1 - dx) * m[off + yb * w + xa] + dx * m[off + yb * w + xb]));
    }

    @Test
    void matchesTheClosedFormOnAModelWithKnownWeights(@TempDir Path dir) {
        CamModels.exportCam(dir.resolve("cam"));
        try (LoadedModel m = TestSupport.loadModel(dir.resolve("cam"), TensorFlowBackend.Params.defaults())) {
            int n = 6;
            float[] x = new float[n * 16];
            java.util.Random rnd = new java.util.Random(11);
            for (int i = 0; i < x.length; i++) {
                x[i] = (rnd.nextInt(25) - 12) / 8f;
            }
            Tensor in = Tensor.ofFloats(x, n, 4, 4, 1);
            int[] rows = {0, 1, 2, 2, 1, 0};
            Target.Bound logit = new Target.Bound(Target.parse("label").orElseThrow(), "logits", 3, -1);
            GradCam cam = new GradCam("cam");
            GradCam.Coarse coarse = cam.coarse(m, io.neuronmonkey.api.model.ModelInputs.of(in), logit, rows);
            assertEquals(4, coarse.h());
            assertEquals(2, coarse.c());
            float[] a = CamModels.camLayer(x, n);
            float[] expectedAlpha = new float[n * 2];
            float[] expectedMap = new float[n * 16];
            for (int e = 0; e < n; e++) {
                for (int c = 0; c < 2; c++) {
                    expectedAlpha[e * 2 + c] = CamModels.DENSE[c * 3 + rows[e]] / 16;
                }
                for (int p = 0; p < 16; p++) {
                    float s = 0;
                    for (int c = 0; c < 2; c++) {
                        s += expectedAlpha[e * 2 + c] * a[(e * 16 + p) * 2 + c];
                    }
                    expectedMap[e * 16 + p] = Math.max(0, s);
                }
            }
            assertArrayEquals(expectedAlpha, coarse.alpha());
            assertArrayEquals(expectedMap, coarse.maps());
            float positive = 0;
            for (float v : expectedMap) {
                positive += v > 0 ? 1 : 0;
            }
            assertTrue(positive > 10 && positive < expectedMap.length, "the ReLU both keeps and cuts: " + positive);

            // same resolution as the input: upsampling is the identity
            Batch b = new Batch(0, in, null, Collections.nCopies(n, "e"), Collections.nCopies(n, Map.of()));
            assertArrayEquals(expectedMap, cam.attribute(m, b, logit, rows).floats(), 1e-6f);
        }
    }

    @Test
    void upsamplesBilinearlyToTheInputAndBroadcastsOverChannels() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("test", 4)) {
            Batch b = d.batches(4).next();
            Target.Bound predicted = Target.parse("predicted").orElseThrow().resolve(m, d.info(), "t");
            int[] rows = predicted.rows(m, b, null);
            for (String layer : new String[] {"conv2", "pool2"}) {
                GradCam cam = new GradCam(layer);
                GradCam.Coarse coarse = cam.coarse(m, b.modelInputs(), predicted, rows);
                Tensor map = cam.attribute(m, b, predicted, rows);
                assertArrayEquals(b.inputs().shape(), map.shape());
                int h = coarse.h();
                int w = coarse.w();
                for (int e = 0; e < b.size(); e++) {
                    for (int i = 0; i < 28; i++) {
                        for (int j = 0; j < 28; j++) {
                            float want = sample(coarse.maps(), e * h * w, h, w, 28, 28, i, j);
                            assertEquals(want, map.floats()[(e * 28 + i) * 28 + j], 1e-6f, layer + " " + e + " " + i + " " + j);
                        }
                    }
                }
            }
        }
    }

    @Test
    void atConv2TheWatermarkedSquaresLightUpTheBottomRight() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 256)) {
            ExampleFilter ex = new ExampleFilter(d, Map.of("watermark", "on", "class", "square"), 40, "t");
            Target.Bound square = Target.parse("class:square").orElseThrow().resolve(m, d.info(), "t");
            GradCam cam = new GradCam("conv2");
            int examples = 0;
            int bottomRight = 0;
            for (var it = ex.batches(64); it.hasNext(); ) {
                Batch b = it.next();
                float[] map = cam.attribute(m, b, square, square.rows(m, b, null)).floats();
                for (int e = 0; e < b.size(); e++) {
                    int best = 0;
                    for (int p = 1; p < 784; p++) {
                        best = map[e * 784 + p] > map[e * 784 + best] ? p : best;
                    }
                    bottomRight += best / 28 >= 14 && best % 28 >= 14 ? 1 : 0;
                    examples++;
                }
            }
            System.out.printf("grad-cam conv2, watermarked squares: largest value in the bottom-right quadrant for"
                    + " %d of %d (%.0f%%)%n", bottomRight, examples, 100.0 * bottomRight / examples);
            assertTrue(examples > 10, "watermarked squares found: " + examples);
            assertTrue(2 * bottomRight > examples, bottomRight + " of " + examples);
        }
    }

    @Test
    void refusesMissingAndNonSpatialLayersNamingTheSpatialOnes() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("test", 2)) {
            Batch b = d.batches(2).next();
            Target.Bound square = Target.parse("class:square").orElseThrow().resolve(m, d.info(), "t");
            for (String layer : new String[] {"dense1", "conv9"}) {
                AnalysisException e = assertThrows(AnalysisException.class,
                        () -> new GradCam(layer).attribute(m, b, square, new int[] {1, 1}));
                assertTrue(e.getMessage().contains("'" + layer + "'") && e.getMessage().contains("conv1, pool1, conv2, pool2"),
                        e.getMessage());
            }
            assertThrows(IllegalArgumentException.class, () -> new GradCam(" "));
            assertTrue(new GradCam("conv2").needsGradients());
        }
    }
}
