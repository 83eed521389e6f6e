package io.neuronmonkey.features;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The real 2-D FFTs against naive O(n^4) DFTs, and the adjoint of the inverse against the axiom
 * {@code <A s, g> = <s, A^T g>}, on odd and even sizes.
 */
class SpectraTest {

    /** Naive forward DFT: {@code [h, wf, re/im]} of the real plane. */
    static double[] naiveRfft2(double[] x, int h, int w) {
        int wf = w / 2 + 1;
        double[] out = new double[2 * h * wf];
        for (int k = 0; k < h; k++) {
            for (int l = 0; l < wf; l++) {
                double re = 0;
                double im = 0;
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < w; j++) {
                        double ph = -2 * Math.PI * ((double) i * k / h + (double) j * l / w);
                        re += x[i * w + j] * Math.cos(ph);
                        im += x[i * w + j] * Math.sin(ph);
                    }
                }
                out[2 * (k * wf + l)] = re;
                out[2 * (k * wf + l) + 1] = im;
            }
        }
        return out;
    }

    /**
     * Naive inverse: the half spectrum extended to the full one by Hermitian symmetry in 2-D
     * ({@code F[k, l] = conj(S[(h - k) mod h, w - l])} for the columns the half spectrum lacks), the complex inverse
     * DFT of that, real part.
     */
    static double[] naiveIrfft2(double[] s, int h, int w) {
        int wf = w / 2 + 1;
        double[] fr = new double[h * w];
        double[] fi = new double[h * w];
        for (int k = 0; k < h; k++) {
            for (int l = 0; l < w; l++) {
                if (l < wf) {
                    fr[k * w + l] = s[2 * (k * wf + l)];
                    fi[k * w + l] = s[2 * (k * wf + l) + 1];
                } else {
                    int kk = (h - k) % h;
                    fr[k * w + l] = s[2 * (kk * wf + w - l)];
                    fi[k * w + l] = -s[2 * (kk * wf + w - l) + 1];
                }
            }
        }
        double[] x = new double[h * w];
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                double re = 0;
                for (int k = 0; k < h; k++) {
                    for (int l = 0; l < w; l++) {
                        double ph = 2 * Math.PI * ((double) i * k / h + (double) j * l / w);
                        re += fr[k * w + l] * Math.cos(ph) - fi[k * w + l] * Math.sin(ph);
                    }
                }
                x[i * w + j] = re / (h * w);
            }
        }
        return x;
    }

    static double[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextGaussian();
        }
        return a;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void assertClose(double[] want, double[] got, double tol, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], tol, what + " at " + i);
        }
    }

    @ParameterizedTest(name = "{0} x {1}")
    @CsvSource({"4, 6", "5, 7", "6, 5", "7, 4", "1, 5", "8, 1", "28, 28"})
    void forwardAndInverseMatchNaiveDftsAndRoundTrip(int h, int w) {
        Spectra fft = new Spectra(h, w);
        double[] x = gaussian(h * w, 11L * h + w);
        double[] s = new double[fft.spectrumSize()];
        fft.rfft2(x, 0, s, 0);
        assertClose(naiveRfft2(x, h, w), s, 1e-9, "rfft2");
        double[] back = new double[h * w];
        fft.irfft2(s, 0, back, 0);
        assertClose(x, back, 1e-12, "irfft2(rfft2(x))");
        // on an arbitrary half spectrum (not Hermitian-consistent, imaginary parts on self-conjugate bins)
        double[] any = gaussian(fft.spectrumSize(), 7L * h + 3 * w);
        double[] z = new double[h * w];
        fft.irfft2(any, 0, z, 0);
        assertClose(naiveIrfft2(any, h, w), z, 1e-9, "irfft2");
    }

    @ParameterizedTest(name = "{0} x {1}")
    @CsvSource({"4, 6", "5, 7", "6, 5", "7, 4", "1, 5", "8, 1", "3, 3", "16, 10"})
    void theAdjointOfTheInverseIsItsTranspose(int h, int w) {
        Spectra fft = new Spectra(h, w);
        for (int trial = 0; trial < 3; trial++) {
            double[] s = gaussian(fft.spectrumSize(), 100 + trial);
            double[] g = gaussian(h * w, 200 + trial);
            double[] as = new double[h * w];
            fft.irfft2(s, 0, as, 0);
            double[] atg = new double[fft.spectrumSize()];
            fft.irfft2Adjoint(g, 0, atg, 0);
            double left = dot(as, g);
            double right = dot(s, atg);
            assertEquals(left, right, 1e-12 * Math.max(1, Math.abs(left)) + 1e-12, "<A s, g> = <s, A^T g>");
        }
        // column by column: A^T e_q is row q of A, i.e. A^T's entries are A's (a dense check, independent of the FFT)
        int n = fft.spectrumSize();
        double[] e = new double[n];
        double[] col = new double[h * w];
        double[] unit = new double[h * w];
        double[] row = new double[n];
        for (int q = 0; q < h * w; q++) {
            java.util.Arrays.fill(unit, 0);
            unit[q] = 1;
            fft.irfft2Adjoint(unit, 0, row, 0);
            for (int f = 0; f < n; f++) {
                java.util.Arrays.fill(e, 0);
                e[f] = 1;
                fft.irfft2(e, 0, col, 0);
                assertEquals(col[q], row[f], 1e-12, "A[" + q + ", " + f + "]");
            }
        }
    }

    @Test
    void decorrelationIsOneOverFrequencyWithAFloor() {
        int h = 6;
        int w = 8;
        double[] s = Spectra.decorrelation(h, w);
        int wf = w / 2 + 1;
        double norm = Math.sqrt(h * w) / 8.0;
        assertEquals(Math.sqrt(h * w), s[0], 1e-12, "DC: 1 / (1/max(h, w)), times sqrt(hw)/max(h, w)");
        // (k, l) = (1, 2): fy = 1/6, fx = 2/8
        assertEquals(norm / Math.hypot(1 / 6.0, 2 / 8.0), s[1 * wf + 2], 1e-12);
        // k = 5 folds to fy = -1/6: the same frequency as k = 1
        assertEquals(s[wf + 3], s[5 * wf + 3], 1e-12);
        // the Nyquist corner (3, 4): f = sqrt(1/4 + 1/4)
        assertEquals(norm / Math.sqrt(0.5), s[3 * wf + 4], 1e-12);
    }
}
