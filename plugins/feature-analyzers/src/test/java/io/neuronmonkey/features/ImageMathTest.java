package io.neuronmonkey.features;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The regularizer and basis arithmetic against closed forms and finite differences. */
class ImageMathTest {

    @Test
    void cosineBasisRoundTripsAndMatchesTheNaiveSum() {
        int n = 2, h = 5, w = 7, c = 2;
        float[] x = random(n * h * w * c, 1);
        double[] rows = ImageMath.dctMatrix(h);
        double[] cols = ImageMath.dctMatrix(w);
        float[] f = ImageMath.transform2d(x, n, h, w, c, rows, cols, false);
        float[] back = ImageMath.transform2d(f, n, h, w, c, rows, cols, true);
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], back[i], 1e-5);
        }
        // naive DCT-II of image 1, channel 1, frequency (2, 3)
        double s = 0;
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                s += x[((h + i) * w + j) * c + 1] * Math.cos(Math.PI * (i + 0.5) * 2 / h) * Math.cos(Math.PI * (j + 0.5) * 3 / w);
            }
        }
        s *= Math.sqrt(2.0 / h) * Math.sqrt(2.0 / w);
        assertEquals(s, f[((h + 2) * w + 3) * c + 1], 1e-5);
        // orthonormal: energy is kept (Parseval)
        assertEquals(sumSq(x), sumSq(f), 1e-3);
    }

    @Test
    void rotationAndScalingAreExactAtIdentityTheirAdjointIsTheTransposeAndAQuarterTurnMovesPixels() {
        int n = 3, h = 6, w = 6, c = 2;
        float[] x = random(n * h * w * c, 5);
        float[] same = ImageMath.affine(x, n, h, w, c, new double[]{0, 0, 0}, new double[]{1, 1, 1}, false);
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], same[i], 0.0, "angle 0, scale 1 is the identity");
        }
        // <A x, y> = <x, A^T y> for arbitrary angles and scales (the gradient goes back through the transpose)
        double[] angle = {0.3, -1.1, 2.0};
        double[] scale = {1.2, 0.85, 1.0};
        float[] y = random(x.length, 6);
        float[] ax = ImageMath.affine(x, n, h, w, c, angle, scale, false);
        float[] aty = ImageMath.affine(y, n, h, w, c, angle, scale, true);
        assertEquals(dot(ax, y), dot(x, aty), 1e-4);
        // a quarter turn of a square image is a permutation of its pixels: (i, j) reads (j, h - 1 - i) or its mirror
        float[] q = ImageMath.affine(x, 1, h, w, c, new double[]{Math.PI / 2}, new double[]{1}, false);
        assertEquals(sumSq(java.util.Arrays.copyOf(x, h * w * c)), sumSq(q), 1e-4);
        float at = q[(1 * w + 4) * c];
        boolean moved = Math.abs(at - x[(4 * w + 4) * c]) < 1e-5 || Math.abs(at - x[(1 * w + 1) * c]) < 1e-5;
        org.junit.jupiter.api.Assertions.assertTrue(moved, "pixel (1, 4) after a quarter turn comes from (4, 4) or (1, 1)");
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    @Test
    void totalVariationGradientMatchesFiniteDifferences() {
        int n = 2, h = 4, w = 5, c = 1;
        float[] x = random(n * h * w * c, 2);
        float[] g = new float[x.length];
        double tv = ImageMath.totalVariation(x, n, h, w, c, 1, g);
        double naive = 0;
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    if (i + 1 < h) naive += Math.abs(x[(b * h + i + 1) * w + j] - x[(b * h + i) * w + j]);
                    if (j + 1 < w) naive += Math.abs(x[(b * h + i) * w + j + 1] - x[(b * h + i) * w + j]);
                }
            }
        }
        assertEquals(naive, tv, 1e-5);
        double eps = 1e-3;
        for (int i = 0; i < x.length; i++) {
            float[] up = x.clone();
            float[] down = x.clone();
            up[i] += (float) eps;
            down[i] -= (float) eps;
            double fd = (ImageMath.totalVariation(up, n, h, w, c, 1, null) - ImageMath.totalVariation(down, n, h, w, c, 1, null)) / (2 * eps);
            assertEquals(fd, g[i], 1e-2, "pixel " + i);
        }
    }

    @Test
    void rollShiftsCircularlyAndInvertsByTheOppositeShift() {
        int h = 3, w = 4;
        float[] x = new float[h * w];
        for (int i = 0; i < x.length; i++) {
            x[i] = i;
        }
        float[] r = ImageMath.roll(x, 1, h, w, 1, new int[]{1}, new int[]{-1});
        // out[i, j] = in[(i - 1) mod 3, (j + 1) mod 4]
        assertEquals(x[2 * w + 1], r[0]);
        assertEquals(x[0 * w + 0], r[1 * w + 3]);
        float[] back = ImageMath.roll(r, 1, h, w, 1, new int[]{-1}, new int[]{1});
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], back[i]);
        }
    }

    @Test
    void adamAscendsAConcaveQuadraticToItsMaximum() {
        float[] p = {5f, -3f};
        ImageMath.Adam adam = new ImageMath.Adam(2, 0.1);
        for (int t = 0; t < 2000; t++) {
            // maximize -(p0 - 1)^2 - (p1 + 2)^2
            adam.ascend(p, new float[]{-2 * (p[0] - 1), -2 * (p[1] + 2)});
        }
        assertEquals(1, p[0], 1e-2);
        assertEquals(-2, p[1], 1e-2);
    }

    private static float[] random(int size, long seed) {
        Random r = new Random(seed);
        float[] x = new float[size];
        for (int i = 0; i < size; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    private static double sumSq(float[] x) {
        double s = 0;
        for (float v : x) {
            s += v * v;
        }
        return s;
    }
}
