package io.neuronmonkey.features;

import org.jtransforms.fft.DoubleFFT_1D;

/**
 * Real 2-D FFTs of one {@code [h, w]} plane in the "rfft" layout, with JTransforms doing the 1-D transforms: the
 * half spectrum {@code S[k, l]}, {@code k in 0..h-1}, {@code l in 0..w/2} ({@code wf = w/2 + 1} columns), stored
 * interleaved {@code [k][l][re, im]}, {@code 2 h wf} doubles.
 * <p>
 * Conventions (numpy's and TensorFlow's {@code rfft2d} / {@code irfft2d}):
 * <ul>
 *   <li>{@link #rfft2}: {@code S[k, l] = sum_{i,j} x[i, j] e^{-2 pi i (ik/h + jl/w)}} (unnormalized).</li>
 *   <li>{@link #irfft2}: {@code x[i, j] = 1/(h w) sum_{k, l < wf} m_l Re(S[k, l] e^{2 pi i (ik/h + jl/w)})} with the
 *   Hermitian-pair weight {@code m_l = 1} for the self-conjugate columns ({@code l = 0} and, for even {@code w},
 *   {@code l = w/2}) and {@code m_l = 2} for the others (each stands for itself and its conjugate partner
 *   {@code w - l}). This is the inverse of {@link #rfft2} on half spectra of real images, and a linear map from all
 *   {@code 2 h wf} reals to {@code h w} reals otherwise (the parts a real image cannot have are dropped).</li>
 *   <li>{@link #irfft2Adjoint}: the transpose of that linear map, {@code (m_l / (h w)) rfft2(g)} (real part to the
 *   real parameters, imaginary part to the imaginary ones), which carries a gradient at the image back to the
 *   spectrum.</li>
 * </ul>
 * A plane costs {@code h} transforms of length {@code w} and {@code wf} of length {@code h}: {@code O(hw log(hw))}.
 * Instances hold JTransforms plans and scratch buffers, so one instance serves one thread.
 */
final class Spectra {

    private final int h;
    private final int w;
    private final int wf;
    private final DoubleFFT_1D rows;
    private final DoubleFFT_1D cols;
    private final double[] row;
    private final double[] col;
    private final double[] half;

    /**
     * @param h rows, >= 1
     * @param w columns, >= 1
     */
    Spectra(int h, int w) {
        this.h = h;
        this.w = w;
        this.wf = w / 2 + 1;
        this.rows = new DoubleFFT_1D(w);
        this.cols = new DoubleFFT_1D(h);
        this.row = new double[2 * w];
        this.col = new double[2 * h];
        this.half = new double[2 * h * wf];
    }

    /** @return the half spectrum's columns, {@code w/2 + 1} */
    int halfWidth() {
        return wf;
    }

    /** @return the doubles of one half spectrum, {@code 2 h (w/2 + 1)} */
    int spectrumSize() {
        return 2 * h * wf;
    }

    /**
     * @param l a column of the half spectrum
     * @return true when column {@code l} is its own conjugate partner ({@code l = 0}, or {@code l = w/2} for even w)
     */
    boolean selfConjugate(int l) {
        return l == 0 || 2 * l == w;
    }

    /**
     * @param x   a real plane {@code [h, w]} from {@code x[xOff]}, row-major
     * @param out its half spectrum, {@code 2 h wf} doubles from {@code out[oOff]}
     */
    void rfft2(double[] x, int xOff, double[] out, int oOff) {
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                row[2 * j] = x[xOff + i * w + j];
                row[2 * j + 1] = 0;
            }
            rows.complexForward(row);
            System.arraycopy(row, 0, out, oOff + 2 * i * wf, 2 * wf);
        }
        for (int l = 0; l < wf; l++) {
            for (int k = 0; k < h; k++) {
                col[2 * k] = out[oOff + 2 * (k * wf + l)];
                col[2 * k + 1] = out[oOff + 2 * (k * wf + l) + 1];
            }
            cols.complexForward(col);
            for (int k = 0; k < h; k++) {
                out[oOff + 2 * (k * wf + l)] = col[2 * k];
                out[oOff + 2 * (k * wf + l) + 1] = col[2 * k + 1];
            }
        }
    }

    /**
     * @param s   a half spectrum, {@code 2 h wf} doubles from {@code s[sOff]}
     * @param out the real plane {@code [h, w]} from {@code out[oOff]}
     */
    void irfft2(double[] s, int sOff, double[] out, int oOff) {
        for (int l = 0; l < wf; l++) {
            for (int k = 0; k < h; k++) {
                col[2 * k] = s[sOff + 2 * (k * wf + l)];
                col[2 * k + 1] = s[sOff + 2 * (k * wf + l) + 1];
            }
            cols.complexInverse(col, true);
            for (int i = 0; i < h; i++) {
                half[2 * (i * wf + l)] = col[2 * i];
                half[2 * (i * wf + l) + 1] = col[2 * i + 1];
            }
        }
        for (int i = 0; i < h; i++) {
            // the full Hermitian row: Z[l] = Y[l], Z[w - l] = conj(Y[l]); self-conjugate bins keep their real part
            for (int l = 0; l < wf; l++) {
                double re = half[2 * (i * wf + l)];
                double im = selfConjugate(l) ? 0 : half[2 * (i * wf + l) + 1];
                row[2 * l] = re;
                row[2 * l + 1] = im;
                if (!selfConjugate(l)) {
                    row[2 * (w - l)] = re;
                    row[2 * (w - l) + 1] = -im;
                }
            }
            rows.complexInverse(row, true);
            for (int j = 0; j < w; j++) {
                out[oOff + i * w + j] = row[2 * j];
            }
        }
    }

    /**
     * The adjoint (transpose) of {@link #irfft2} as a real linear map: for every half spectrum {@code s} and plane
     * {@code g}, {@code <irfft2(s), g> = <s, irfft2Adjoint(g)>}.
     *
     * @param g   a real plane {@code [h, w]} from {@code g[gOff]}
     * @param out {@code 2 h wf} doubles from {@code out[oOff]}
     */
    void irfft2Adjoint(double[] g, int gOff, double[] out, int oOff) {
        rfft2(g, gOff, out, oOff);
        double n = (double) h * w;
        for (int k = 0; k < h; k++) {
            for (int l = 0; l < wf; l++) {
                double m = (selfConjugate(l) ? 1 : 2) / n;
                out[oOff + 2 * (k * wf + l)] *= m;
                out[oOff + 2 * (k * wf + l) + 1] *= m;
            }
        }
    }

    /**
     * Lucid's decorrelation of the Fourier parametrization: per frequency {@code 1 / max(f, 1/max(h, w))} with
     * {@code f = sqrt(fy^2 + fx^2)} in cycles per pixel ({@code fy = k/h} folded to {@code [-1/2, 1/2)},
     * {@code fx = l/w}), so that equal steps on every coefficient give an image with a natural 1/f spectrum. Scaled
     * by {@code sqrt(h w) / max(h, w)}, which makes the largest scale {@code sqrt(h w)}: a unit step on the lowest
     * frequencies then moves the image as much as a unit step on an orthonormal basis does (Lucid's own constant is
     * {@code sqrt(h w)} and a final 1/4; with Adam a constant factor only changes the effective learning rate).
     *
     * @param h rows
     * @param w columns
     * @return {@code h * wf} scales, frequency (k, l) at {@code k * wf + l}
     */
    static double[] decorrelation(int h, int w) {
        int wf = w / 2 + 1;
        double floor = 1.0 / Math.max(h, w);
        double norm = Math.sqrt((double) h * w) / Math.max(h, w);
        double[] s = new double[h * wf];
        for (int k = 0; k < h; k++) {
            double fy = (k < (h + 1) / 2 ? k : k - h) / (double) h;
            for (int l = 0; l < wf; l++) {
                double fx = l / (double) w;
                s[k * wf + l] = norm / Math.max(floor, Math.sqrt(fy * fy + fx * fx));
            }
        }
        return s;
    }
}
