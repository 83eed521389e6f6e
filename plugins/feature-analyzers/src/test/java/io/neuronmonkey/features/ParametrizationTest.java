package io.neuronmonkey.features;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The parametrizations' gradients against central finite differences of a linear objective {@code L = <a, x>}
 * (computed in double from the pre-images), and MACO's fixed magnitude against a naive DFT.
 */
class ParametrizationTest {

    /** A magnitude of the shape MACO takes, from the amplitude spectra of a few random images (so symmetric). */
    private static double[] magnitude(int h, int w, int c, long seed) {
        Spectra fft = new Spectra(h, w);
        int bins = h * fft.halfWidth();
        double[] m = new double[c * bins];
        double[] s = new double[fft.spectrumSize()];
        for (int e = 0; e < 3; e++) {
            for (int ch = 0; ch < c; ch++) {
                double[] x = SpectraTest.gaussian(h * w, seed + 10L * e + ch);
                fft.rfft2(x, 0, s, 0);
                for (int f = 0; f < bins; f++) {
                    m[ch * bins + f] += Math.hypot(s[2 * f], s[2 * f + 1]) / 3;
                }
            }
        }
        return m;
    }

    /** x of the Fourier basis in double: sigmoid of the pre-image. */
    private static double[] fourierImage(Parametrization.Fourier p, float[] u, int count) {
        double[] z = p.preImage(u, count);
        for (int i = 0; i < z.length; i++) {
            z[i] = Parametrization.sigmoid(z[i]);
        }
        return z;
    }

    /** x of MACO in double, written out again here: standardize each image, sigmoid into [lo, hi]. */
    private static double[] macoImage(Parametrization.Maco p, float[] u, int count, double lo, double hi) {
        double[] z = p.preImage(u, count);
        int n = z.length / count;
        for (int b = 0; b < count; b++) {
            double mean = 0;
            for (int i = 0; i < n; i++) {
                mean += z[b * n + i] / n;
            }
            double var = 0;
            for (int i = 0; i < n; i++) {
                var += (z[b * n + i] - mean) * (z[b * n + i] - mean) / n;
            }
            double sd = Math.sqrt(var);
            for (int i = 0; i < n; i++) {
                z[b * n + i] = lo + (hi - lo) * Parametrization.sigmoid((z[b * n + i] - mean) / (sd + 1e-5));
            }
        }
        return z;
    }

    private interface Image {
        double[] of(float[] u);
    }

    /** Checks every parameter's gradient (or a sample of them) against central differences of {@code <a, x(u)>}. */
    private static void checkGradient(Parametrization p, float[] u, int count, double[] a, Image img, double step) {
        float[] x = p.image(u, count);
        float[] ga = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            ga[i] = (float) a[i];
        }
        float[] g = p.backward(u, x, ga, count);
        assertEquals(u.length, g.length);
        double largest = 0;
        for (float v : g) {
            largest = Math.max(largest, Math.abs(v));
        }
        assertTrue(largest > 0, "a non-zero gradient");
        for (int i = 0; i < u.length; i++) {
            float[] plus = u.clone();
            float[] minus = u.clone();
            plus[i] = (float) (u[i] + step);
            minus[i] = (float) (u[i] - step);
            double d = plus[i] - (double) minus[i];
            double fd = (dot(a, img.of(plus)) - dot(a, img.of(minus))) / d;
            assertEquals(fd, g[i], 2e-3 * largest, "parameter " + i);
        }
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @ParameterizedTest(name = "{0} x {1} x {2}")
    @CsvSource({"5, 6, 2", "6, 5, 1", "4, 4, 1", "3, 7, 1"})
    void fourierGradientMatchesFiniteDifferences(int h, int w, int c) {
        Parametrization.Fourier p = new Parametrization.Fourier(h, w, c);
        int count = 2;
        float[] u = p.init(count, new Random(3));
        // away from the dark start, where the sigmoid is flat: moderate random coefficients
        Random r = new Random(4);
        for (int i = 0; i < u.length; i++) {
            u[i] = (float) (0.3 * r.nextGaussian());
        }
        double[] a = SpectraTest.gaussian(count * h * w * c, 5);
        checkGradient(p, u, count, a, v -> fourierImage(p, v, count), 1e-2);
    }

    @ParameterizedTest(name = "{0} x {1} x {2}")
    @CsvSource({"5, 6, 2", "6, 5, 1", "4, 4, 1", "3, 7, 1"})
    void macoGradientWithRespectToThePhaseMatchesFiniteDifferences(int h, int w, int c) {
        double lo = -0.5;
        double hi = 1.5;
        Parametrization.Maco p = new Parametrization.Maco(h, w, c, magnitude(h, w, c, 9), lo, hi);
        int count = 2;
        float[] u = p.init(count, new Random(6));
        double[] a = SpectraTest.gaussian(count * h * w * c, 7);
        checkGradient(p, u, count, a, v -> macoImage(p, v, count, lo, hi), 1e-3);
    }

    @ParameterizedTest(name = "{0} x {1}")
    @CsvSource({"5, 6", "6, 5", "4, 4", "7, 7", "28, 28"})
    void macoImagesHaveExactlyTheFixedMagnitude(int h, int w) {
        int c = 1;
        double[] m = magnitude(h, w, c, 21);
        Parametrization.Maco p = new Parametrization.Maco(h, w, c, m, 0, 1);
        float[] u = p.init(3, new Random(8));
        double[] z = p.preImage(u, 3);
        double top = 0;
        for (double v : m) {
            top = Math.max(top, v);
        }
        int wf = w / 2 + 1;
        for (int b = 0; b < 3; b++) {
            double[] plane = java.util.Arrays.copyOfRange(z, b * h * w, (b + 1) * h * w);
            double[] s = SpectraTest.naiveRfft2(plane, h, w);
            for (int f = 0; f < h * wf; f++) {
                assertEquals(m[f], Math.hypot(s[2 * f], s[2 * f + 1]), 1e-9 * top, "image " + b + " bin " + f);
            }
        }
        // and the images in [lo, hi]
        float[] x = p.image(u, 3);
        for (float v : x) {
            assertTrue(v >= 0 && v <= 1);
        }
    }

    @Test
    void pixelAndCosineBasesKeepTheirFormerStartAndChainRule() {
        int h = 4;
        int w = 5;
        Parametrization.Pixel px = new Parametrization.Pixel(h, w, 1);
        float[] u = px.init(1, new Random(1));
        Random same = new Random(1);
        for (float v : u) {
            assertEquals((float) (0.01 * same.nextGaussian()) - 4, v, 0f);
        }
        Parametrization.Cosine cs = new Parametrization.Cosine(h, w, 1);
        float[] uc = cs.init(1, new Random(2));
        for (int i = 0; i < uc.length; i++) {
            uc[i] = (float) (0.2 * Math.sin(i));
        }
        double[] a = SpectraTest.gaussian(h * w, 3);
        float[] x = cs.image(uc, 1);
        float[] ga = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            ga[i] = (float) a[i];
        }
        float[] g = cs.backward(uc, x, ga, 1);
        for (int i = 0; i < uc.length; i++) {
            float[] plus = uc.clone();
            float[] minus = uc.clone();
            plus[i] += 1e-2f;
            minus[i] -= 1e-2f;
            double fd = 0;
            float[] xp = cs.image(plus, 1);
            float[] xm = cs.image(minus, 1);
            for (int q = 0; q < a.length; q++) {
                fd += a[q] * (xp[q] - (double) xm[q]);
            }
            fd /= plus[i] - (double) minus[i];
            assertEquals(fd, g[i], 1e-3);
        }
        assertArrayEquals(cs.image(uc, 1), cs.image(uc.clone(), 1));
    }
}
