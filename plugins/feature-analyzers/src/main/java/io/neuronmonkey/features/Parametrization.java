package io.neuronmonkey.features;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;

import java.util.Iterator;
import java.util.Random;

/**
 * How the optimized images {@code x [count, h, w, c]} (channels last) come from the parameters {@code u} that Adam
 * moves, and how a gradient at the images goes back to the parameters (the chain rule through the map, by its
 * adjoint). Every parametrization keeps the images inside the data's range.
 */
abstract class Parametrization {

    final int h;
    final int w;
    final int c;

    Parametrization(int h, int w, int c) {
        this.h = h;
        this.w = w;
        this.c = c;
    }

    /** @return the parameters of {@code count} images: one per pixel and channel unless a basis says otherwise */
    int size(int count) {
        return count * h * w * c;
    }

    /**
     * @param count  images
     * @param random the optimizer's seeded random (the draws are part of the run's random stream)
     * @return the start parameters
     */
    abstract float[] init(int count, Random random);

    /** @return the images {@code [count, h, w, c]} of parameters {@code u} */
    abstract float[] image(float[] u, int count);

    /**
     * @param u     the parameters
     * @param x     {@code image(u)}
     * @param gx    the gradient of the objective at {@code x}
     * @param count images
     * @return the gradient of the objective at {@code u}
     */
    abstract float[] backward(float[] u, float[] x, float[] gx, int count);

    static double sigmoid(double z) {
        return 1 / (1 + Math.exp(-z));
    }

    /** @return n Gaussian values of standard deviation 0.01, drawn in order from {@code random} */
    static float[] noise(int n, Random random) {
        float[] u = new float[n];
        for (int i = 0; i < n; i++) {
            u[i] = (float) (0.01 * random.nextGaussian());
        }
        return u;
    }

    /** @return {@code sigmoid(z)} element-wise, a new array */
    static float[] sigmoidOf(float[] z) {
        float[] x = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            x[i] = (float) sigmoid(z[i]);
        }
        return x;
    }

    /** @return the gradient before the output sigmoid: {@code gx * x * (1 - x)}, a new array */
    static float[] throughSigmoid(float[] x, float[] gx) {
        float[] g = new float[gx.length];
        for (int i = 0; i < g.length; i++) {
            g[i] = gx[i] * x[i] * (1 - x[i]);
        }
        return g;
    }

    /** Every pixel is a parameter: {@code x = sigmoid(u)}, starting dark ({@code u ~ -4}). */
    static final class Pixel extends Parametrization {

        Pixel(int h, int w, int c) {
            super(h, w, c);
        }

        @Override
        float[] init(int count, Random random) {
            float[] u = noise(size(count), random);
            for (int i = 0; i < u.length; i++) {
                u[i] -= 4;
            }
            return u;
        }

        @Override
        float[] image(float[] u, int count) {
            return sigmoidOf(u);
        }

        @Override
        float[] backward(float[] u, float[] x, float[] gx, int count) {
            return throughSigmoid(x, gx);
        }
    }

    /**
     * 1/f-scaled coefficients of an orthonormal 2-D cosine (DCT-II) basis: {@code x = sigmoid(C^T (s . u) C)}, by
     * dense matrix products ({@code O(h w (h + w))} per plane).
     */
    static final class Cosine extends Parametrization {
        private final double[] rowBasis;
        private final double[] colBasis;
        private final float[] scale;

        Cosine(int h, int w, int c) {
            super(h, w, c);
            this.rowBasis = ImageMath.dctMatrix(h);
            this.colBasis = ImageMath.dctMatrix(w);
            this.scale = ImageMath.frequencyScale(h, w);
        }

        @Override
        float[] init(int count, Random random) {
            float[] u = noise(size(count), random);
            for (int b = 0; b < count; b++) {
                for (int ch = 0; ch < c; ch++) {
                    u[b * h * w * c + ch] += (float) (-4 * Math.sqrt(h * w));
                }
            }
            return u;
        }

        @Override
        float[] image(float[] u, int count) {
            float[] z = u.clone();
            scaleFrequencies(z, count);
            return sigmoidOf(ImageMath.transform2d(z, count, h, w, c, rowBasis, colBasis, true));
        }

        @Override
        float[] backward(float[] u, float[] x, float[] gx, int count) {
            float[] g = ImageMath.transform2d(throughSigmoid(x, gx), count, h, w, c, rowBasis, colBasis, false);
            scaleFrequencies(g, count);
            return g;
        }

        private void scaleFrequencies(float[] z, int count) {
            for (int b = 0; b < count; b++) {
                for (int f = 0; f < h * w; f++) {
                    for (int ch = 0; ch < c; ch++) {
                        z[(b * h * w + f) * c + ch] *= scale[f];
                    }
                }
            }
        }
    }

    /**
     * Lucid's decorrelated Fourier parametrization: per image and channel the parameters are a real 2-D FFT half
     * spectrum ({@code [count, c, h, w/2 + 1, re/im]}), scaled by {@link Spectra#decorrelation}, and
     * {@code x = sigmoid(irfft2(scale . u))}; the DC coefficient starts at the value that makes the image dark
     * ({@code z = -4}). The gradient goes back by {@link Spectra#irfft2Adjoint}. {@code O(hw log(hw))} per plane.
     */
    static final class Fourier extends Parametrization {
        private final Spectra fft;
        private final double[] scale;
        private final int spec;

        Fourier(int h, int w, int c) {
            super(h, w, c);
            this.fft = new Spectra(h, w);
            this.scale = Spectra.decorrelation(h, w);
            this.spec = fft.spectrumSize();
        }

        @Override
        int size(int count) {
            return count * c * spec;
        }

        @Override
        float[] init(int count, Random random) {
            float[] u = noise(size(count), random);
            // z's mean is S[0,0] scale[0] / (h w), and scale[0] = sqrt(h w)
            for (int p = 0; p < count * c; p++) {
                u[p * spec] += (float) (-4 * Math.sqrt(h * w));
            }
            return u;
        }

        /** @return the images before the sigmoid, {@code [count, h, w, c]} */
        double[] preImage(float[] u, int count) {
            double[] s = new double[spec];
            double[] plane = new double[h * w];
            double[] z = new double[count * h * w * c];
            for (int b = 0; b < count; b++) {
                for (int ch = 0; ch < c; ch++) {
                    int base = (b * c + ch) * spec;
                    for (int f = 0; f < spec; f++) {
                        s[f] = u[base + f] * scale[f / 2];
                    }
                    fft.irfft2(s, 0, plane, 0);
                    for (int q = 0; q < h * w; q++) {
                        z[(b * h * w + q) * c + ch] = plane[q];
                    }
                }
            }
            return z;
        }

        @Override
        float[] image(float[] u, int count) {
            double[] z = preImage(u, count);
            float[] x = new float[z.length];
            for (int i = 0; i < z.length; i++) {
                x[i] = (float) sigmoid(z[i]);
            }
            return x;
        }

        @Override
        float[] backward(float[] u, float[] x, float[] gx, int count) {
            float[] g = new float[size(count)];
            double[] plane = new double[h * w];
            double[] gs = new double[spec];
            for (int b = 0; b < count; b++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int q = 0; q < h * w; q++) {
                        int at = (b * h * w + q) * c + ch;
                        plane[q] = gx[at] * x[at] * (1 - x[at]);
                    }
                    fft.irfft2Adjoint(plane, 0, gs, 0);
                    int base = (b * c + ch) * spec;
                    for (int f = 0; f < spec; f++) {
                        g[base + f] = (float) (gs[f] * scale[f / 2]);
                    }
                }
            }
            return g;
        }
    }

    /**
     * Magnitude-constrained optimization (MACO, Fel et al. 2023): the Fourier magnitude {@code M} is fixed (the
     * mean amplitude spectrum of real data) and only the phase {@code phi} ({@code [count, c, h, w/2 + 1]}) is
     * optimized. Per image {@code z = irfft2(M e^{i phi})} per channel, then (as the authors' code does) {@code z}
     * is standardized over the image, {@code y = (z - mean) / (std + 1e-5)}, and mapped into the data's range,
     * {@code x = lo + (hi - lo) sigmoid(y)}.
     * <p>
     * So that {@code z} has exactly the magnitude {@code M}, the phase is Hermitian-consistent on the self-conjugate
     * columns of the half spectrum ({@code l = 0}, and {@code l = w/2} for even w): there
     * {@code phi[h - k] = -phi[k]} (the parameter of the lower half row is used, the other one is unused) and the
     * self-conjugate bins themselves (DC and the Nyquist bins) keep phase 0; elsewhere every phase is free.
     */
    static final class Maco extends Parametrization {
        private final Spectra fft;
        private final int wf;
        private final int bins;
        private final double[] magnitude;
        private final double lo;
        private final double hi;

        /**
         * @param magnitude {@code [c, h, w/2 + 1]}, the fixed amplitude spectrum of each channel
         * @param lo        the data's smallest value
         * @param hi        the data's largest value
         */
        Maco(int h, int w, int c, double[] magnitude, double lo, double hi) {
            super(h, w, c);
            this.fft = new Spectra(h, w);
            this.wf = fft.halfWidth();
            this.bins = h * wf;
            if (magnitude.length != c * bins) {
                throw new IllegalArgumentException("a magnitude spectrum of " + c + " x " + h + " x " + wf + " values, found "
                        + magnitude.length);
            }
            this.magnitude = magnitude.clone();
            this.lo = lo;
            this.hi = hi;
        }

        /**
         * The mean amplitude spectrum of the data's first {@code limit} examples, per channel, and the data's range.
         *
         * @param data      the data, images {@code [n, h, w, c]}
         * @param limit     the most examples, >= 1
         * @param batchSize rows per batch
         * @return the parametrization
         * @throws IllegalArgumentException when the data's examples are not {@code h x w x c} images
         */
        static Maco fromData(Dataset data, int limit, int batchSize, int h, int w, int c) {
            Spectra fft = new Spectra(h, w);
            int bins = h * fft.halfWidth();
            double[] sum = new double[c * bins];
            double[] plane = new double[h * w];
            double[] s = new double[fft.spectrumSize()];
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            int seen = 0;
            Iterator<Batch> it = data.batches(Math.max(1, batchSize));
            while (it.hasNext() && seen < limit) {
                Batch b = it.next();
                float[] a = b.inputs().floats();
                if (a.length != b.size() * h * w * c) {
                    throw new IllegalArgumentException("basis maco: the data's examples have " + a.length / Math.max(1, b.size())
                            + " values, the model's input " + h + " x " + w + " x " + c + " has " + h * w * c);
                }
                for (int r = 0; r < b.size() && seen < limit; r++, seen++) {
                    for (int ch = 0; ch < c; ch++) {
                        for (int q = 0; q < h * w; q++) {
                            double v = a[(r * h * w + q) * c + ch];
                            plane[q] = v;
                            lo = Math.min(lo, v);
                            hi = Math.max(hi, v);
                        }
                        fft.rfft2(plane, 0, s, 0);
                        for (int f = 0; f < bins; f++) {
                            sum[ch * bins + f] += Math.hypot(s[2 * f], s[2 * f + 1]);
                        }
                    }
                }
            }
            if (seen == 0) {
                throw new IllegalArgumentException("basis maco: the data has no examples to take the magnitude spectrum from");
            }
            for (int f = 0; f < sum.length; f++) {
                sum[f] /= seen;
            }
            if (!(hi > lo)) {
                hi = lo + 1;
            }
            return new Maco(h, w, c, sum, lo, hi);
        }

        /** @return the fixed magnitude {@code [c, h, w/2 + 1]} (a copy) */
        double[] magnitude() {
            return magnitude.clone();
        }

        /** @return the data range {@code [lo, hi]} the images are mapped into */
        double[] range() {
            return new double[] {lo, hi};
        }

        @Override
        int size(int count) {
            return count * c * bins;
        }

        @Override
        float[] init(int count, Random random) {
            float[] u = new float[size(count)];
            for (int i = 0; i < u.length; i++) {
                u[i] = (float) (Math.PI * (2 * random.nextDouble() - 1));
            }
            return u;
        }

        /** @return the phase used at bin (k, l): Hermitian-consistent on the self-conjugate columns */
        private double phase(float[] u, int base, int k, int l) {
            if (!fft.selfConjugate(l)) {
                return u[base + k * wf + l];
            }
            if (k == 0 || 2 * k == h) {
                return 0;
            }
            return 2 * k < h ? u[base + k * wf + l] : -u[base + (h - k) * wf + l];
        }

        /** @return the images before the output map, {@code z = irfft2(M e^{i phi})}, {@code [count, h, w, c]} */
        double[] preImage(float[] u, int count) {
            double[] s = new double[fft.spectrumSize()];
            double[] plane = new double[h * w];
            double[] z = new double[count * h * w * c];
            for (int b = 0; b < count; b++) {
                for (int ch = 0; ch < c; ch++) {
                    int base = (b * c + ch) * bins;
                    for (int k = 0; k < h; k++) {
                        for (int l = 0; l < wf; l++) {
                            double m = magnitude[ch * bins + k * wf + l];
                            double ph = phase(u, base, k, l);
                            s[2 * (k * wf + l)] = m * Math.cos(ph);
                            s[2 * (k * wf + l) + 1] = m * Math.sin(ph);
                        }
                    }
                    fft.irfft2(s, 0, plane, 0);
                    for (int q = 0; q < h * w; q++) {
                        z[(b * h * w + q) * c + ch] = plane[q];
                    }
                }
            }
            return z;
        }

        /** @return per image its mean and its standard deviation (population) over pixels and channels */
        private double[] moments(double[] z, int count) {
            int n = h * w * c;
            double[] out = new double[2 * count];
            for (int b = 0; b < count; b++) {
                double mean = 0;
                for (int i = 0; i < n; i++) {
                    mean += z[b * n + i];
                }
                mean /= n;
                double var = 0;
                for (int i = 0; i < n; i++) {
                    double d = z[b * n + i] - mean;
                    var += d * d;
                }
                out[2 * b] = mean;
                out[2 * b + 1] = Math.sqrt(var / n);
            }
            return out;
        }

        @Override
        float[] image(float[] u, int count) {
            double[] z = preImage(u, count);
            double[] mom = moments(z, count);
            int n = h * w * c;
            float[] x = new float[z.length];
            for (int i = 0; i < z.length; i++) {
                int b = i / n;
                x[i] = (float) (lo + (hi - lo) * sigmoid((z[i] - mom[2 * b]) / (mom[2 * b + 1] + 1e-5)));
            }
            return x;
        }

        @Override
        float[] backward(float[] u, float[] x, float[] gx, int count) {
            double[] z = preImage(u, count);
            double[] mom = moments(z, count);
            int n = h * w * c;
            double[] gz = new double[z.length];
            for (int b = 0; b < count; b++) {
                double mean = mom[2 * b];
                double sd = mom[2 * b + 1];
                double den = sd + 1e-5;
                double gyMean = 0;
                double gyDotC = 0;
                for (int i = b * n; i < (b + 1) * n; i++) {
                    double sg = (x[i] - lo) / (hi - lo);
                    double gy = gx[i] * (hi - lo) * sg * (1 - sg);
                    gz[i] = gy;
                    gyMean += gy / n;
                    gyDotC += gy * (z[i] - mean);
                }
                // y = (z - mean) / (sd + eps): dy/dz carries the mean and the sd through
                double k = sd > 0 ? gyDotC / (n * sd * den * den) : 0;
                for (int i = b * n; i < (b + 1) * n; i++) {
                    gz[i] = (gz[i] - gyMean) / den - (z[i] - mean) * k;
                }
            }
            float[] g = new float[size(count)];
            double[] plane = new double[h * w];
            double[] gs = new double[fft.spectrumSize()];
            for (int b = 0; b < count; b++) {
                for (int ch = 0; ch < c; ch++) {
                    for (int q = 0; q < h * w; q++) {
                        plane[q] = gz[(b * h * w + q) * c + ch];
                    }
                    fft.irfft2Adjoint(plane, 0, gs, 0);
                    int base = (b * c + ch) * bins;
                    for (int k = 0; k < h; k++) {
                        for (int l = 0; l < wf; l++) {
                            // S = M (cos phi, sin phi): dL/dphi = M (-sin phi dL/dRe + cos phi dL/dIm)
                            double m = magnitude[ch * bins + k * wf + l];
                            double ph = phase(u, base, k, l);
                            double gp = m * (-Math.sin(ph) * gs[2 * (k * wf + l)] + Math.cos(ph) * gs[2 * (k * wf + l) + 1]);
                            if (!fft.selfConjugate(l)) {
                                g[base + k * wf + l] += (float) gp;
                            } else if (k != 0 && 2 * k != h) {
                                // the tie phi[h - k] = -phi[k]: both bins' gradients land on the parameter of row min(k, h - k)
                                if (2 * k < h) {
                                    g[base + k * wf + l] += (float) gp;
                                } else {
                                    g[base + (h - k) * wf + l] -= (float) gp;
                                }
                            }
                        }
                    }
                }
            }
            return g;
        }
    }
}
