package io.neuronmonkey.features;

/**
 * The arithmetic of feature visualization on channels-last image batches {@code [n, h, w, c]} stored flat: an
 * orthonormal 2-D cosine basis (the decorrelated frequency parametrization), total variation and its gradient,
 * circular shifts (jitter) and Adam steps. Every method works on whole batches in place or into given arrays.
 */
final class ImageMath {

    private ImageMath() {
    }

    /**
     * The orthonormal DCT-II matrix {@code C[k][i]}: {@code X = C x} is the forward transform and {@code x = C^T X}
     * its inverse.
     *
     * @param size points
     * @return {@code size * size} values, row k = frequency k
     */
    static double[] dctMatrix(int size) {
        double[] m = new double[size * size];
        for (int k = 0; k < size; k++) {
            double a = Math.sqrt((k == 0 ? 1.0 : 2.0) / size);
            for (int i = 0; i < size; i++) {
                m[k * size + i] = a * Math.cos(Math.PI * (i + 0.5) * k / size);
            }
        }
        return m;
    }

    /**
     * Applies a separable 2-D transform per image and channel: {@code out = A x B^T} on each {@code [h, w]} plane,
     * with {@code A = rows} (or its transpose) and {@code B = cols} (or its transpose).
     *
     * @param in        {@code [n, h, w, c]}
     * @param n         images
     * @param h         rows
     * @param w         columns
     * @param c         channels
     * @param rows      {@code h * h} matrix
     * @param cols      {@code w * w} matrix
     * @param transpose apply the transposes (the inverse of an orthonormal transform)
     * @return the transformed batch
     */
    static float[] transform2d(float[] in, int n, int h, int w, int c, double[] rows, double[] cols, boolean transpose) {
        float[] out = new float[in.length];
        double[] tmp = new double[h * w];
        for (int b = 0; b < n; b++) {
            int base = b * h * w * c;
            for (int ch = 0; ch < c; ch++) {
                java.util.Arrays.fill(tmp, 0);
                for (int k = 0; k < h; k++) {
                    for (int i = 0; i < h; i++) {
                        double a = transpose ? rows[i * h + k] : rows[k * h + i];
                        if (a == 0) {
                            continue;
                        }
                        for (int j = 0; j < w; j++) {
                            tmp[k * w + j] += a * in[base + (i * w + j) * c + ch];
                        }
                    }
                }
                for (int k = 0; k < h; k++) {
                    for (int l = 0; l < w; l++) {
                        double s = 0;
                        for (int j = 0; j < w; j++) {
                            s += (transpose ? cols[j * w + l] : cols[l * w + j]) * tmp[k * w + j];
                        }
                        out[base + (k * w + l) * c + ch] = (float) s;
                    }
                }
            }
        }
        return out;
    }

    /**
     * The 1/f scale of each frequency that decorrelates natural-image-like spectra: {@code 1 / max(1/max(h,w),
     * sqrt(fy^2 + fx^2))}, normalized so the largest scale is 1.
     *
     * @param h rows
     * @param w columns
     * @return {@code h * w} scales, frequency (k, l) at {@code k * w + l}
     */
    static float[] frequencyScale(int h, int w) {
        float[] s = new float[h * w];
        double floor = 1.0 / Math.max(h, w);
        double max = 0;
        for (int k = 0; k < h; k++) {
            for (int l = 0; l < w; l++) {
                double f = Math.sqrt(Math.pow(k / (2.0 * h), 2) + Math.pow(l / (2.0 * w), 2));
                s[k * w + l] = (float) (1.0 / Math.max(floor, f));
                max = Math.max(max, s[k * w + l]);
            }
        }
        for (int i = 0; i < s.length; i++) {
            s[i] /= (float) max;
        }
        return s;
    }

    /**
     * Anisotropic total variation {@code sum |x[i+1,j]-x[i,j]| + |x[i,j+1]-x[i,j]|} per image, summed over the batch,
     * and its (sub)gradient added into {@code grad} times {@code weight}.
     *
     * @param x      {@code [n, h, w, c]}
     * @param n      images
     * @param h      rows
     * @param w      columns
     * @param c      channels
     * @param weight factor of the gradient
     * @param grad   updated in place, or null for the value alone
     * @return the total variation of the batch
     */
    static double totalVariation(float[] x, int n, int h, int w, int c, double weight, float[] grad) {
        double tv = 0;
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    for (int ch = 0; ch < c; ch++) {
                        int at = ((b * h + i) * w + j) * c + ch;
                        if (i + 1 < h) {
                            tv += edge(x, at, at + w * c, weight, grad);
                        }
                        if (j + 1 < w) {
                            tv += edge(x, at, at + c, weight, grad);
                        }
                    }
                }
            }
        }
        return tv;
    }

    private static double edge(float[] x, int a, int b, double weight, float[] grad) {
        double d = x[b] - x[a];
        if (grad != null && d != 0) {
            float g = (float) (weight * Math.signum(d));
            grad[b] += g;
            grad[a] -= g;
        }
        return Math.abs(d);
    }

    /**
     * Circularly shifts each image by its own offset: {@code out[i, j] = in[(i - dy) mod h, (j - dx) mod w]}.
     *
     * @param in {@code [n, h, w, c]}
     * @param n  images
     * @param h  rows
     * @param w  columns
     * @param c  channels
     * @param dy row shift per image
     * @param dx column shift per image
     * @return the shifted batch
     */
    static float[] roll(float[] in, int n, int h, int w, int c, int[] dy, int[] dx) {
        float[] out = new float[in.length];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < h; i++) {
                int si = Math.floorMod(i - dy[b], h);
                for (int j = 0; j < w; j++) {
                    int sj = Math.floorMod(j - dx[b], w);
                    System.arraycopy(in, ((b * h + si) * w + sj) * c, out, ((b * h + i) * w + j) * c, c);
                }
            }
        }
        return out;
    }

    /**
     * Rotates and scales each image about its centre, bilinear, zero outside the image: output pixel (i, j) reads the
     * input at {@code centre + R(-angle) ((i, j) - centre) / scale}. With {@code adjoint} the transpose of that linear
     * map is applied instead (each output pixel's weights scattered back), which carries a gradient at the transformed
     * image back to the image. Angle 0 and scale 1 give the input exactly.
     *
     * @param in      {@code [n, h, w, c]}
     * @param angle   per image, radians
     * @param scale   per image, > 0
     * @param adjoint false for the resampling, true for its transpose
     * @return a new batch
     */
    static float[] affine(float[] in, int n, int h, int w, int c, double[] angle, double[] scale, boolean adjoint) {
        float[] out = new float[in.length];
        double cy = (h - 1) / 2.0;
        double cx = (w - 1) / 2.0;
        for (int b = 0; b < n; b++) {
            double cos = Math.cos(angle[b]) / scale[b];
            double sin = Math.sin(angle[b]) / scale[b];
            int base = b * h * w;
            for (int i = 0; i < h; i++) {
                for (int j = 0; j < w; j++) {
                    double di = i - cy;
                    double dj = j - cx;
                    double sy = cy + cos * di + sin * dj;
                    double sx = cx - sin * di + cos * dj;
                    int y0 = (int) Math.floor(sy);
                    int x0 = (int) Math.floor(sx);
                    double fy = sy - y0;
                    double fx = sx - x0;
                    int dst = (base + i * w + j) * c;
                    for (int corner = 0; corner < 4; corner++) {
                        int yy = y0 + (corner >> 1);
                        int xx = x0 + (corner & 1);
                        double wgt = ((corner >> 1) == 1 ? fy : 1 - fy) * ((corner & 1) == 1 ? fx : 1 - fx);
                        if (yy < 0 || yy >= h || xx < 0 || xx >= w || wgt == 0) {
                            continue;
                        }
                        int src = (base + yy * w + xx) * c;
                        for (int ch = 0; ch < c; ch++) {
                            if (adjoint) {
                                out[src + ch] += (float) (wgt * in[dst + ch]);
                            } else {
                                out[dst + ch] += (float) (wgt * in[src + ch]);
                            }
                        }
                    }
                }
            }
        }
        return out;
    }

    /** Adam's moments for one parameter vector (gradient ascent). */
    static final class Adam {
        private final double rate;
        private final float[] m;
        private final float[] v;
        private int t;

        /**
         * @param size parameters
         * @param rate learning rate
         */
        Adam(int size, double rate) {
            this.rate = rate;
            this.m = new float[size];
            this.v = new float[size];
        }

        /**
         * One ascent step {@code p += rate * mhat / (sqrt(vhat) + 1e-8)} with beta1 0.9, beta2 0.999.
         *
         * @param p    parameters, updated in place
         * @param grad the gradient of the objective to maximize
         */
        void ascend(float[] p, float[] grad) {
            t++;
            double c1 = 1 - Math.pow(0.9, t);
            double c2 = 1 - Math.pow(0.999, t);
            for (int i = 0; i < p.length; i++) {
                m[i] = 0.9f * m[i] + 0.1f * grad[i];
                v[i] = 0.999f * v[i] + 0.001f * grad[i] * grad[i];
                p[i] += (float) (rate * (m[i] / c1) / (Math.sqrt(v[i] / c2) + 1e-8));
            }
        }
    }

    /**
     * @return the model's layer of that name
     * @throws IllegalArgumentException naming the layers there are, when it has none of that name
     */
    static io.neuronmonkey.api.model.LayerInfo requireLayer(io.neuronmonkey.api.model.LoadedModel model, String name) {
        return model.layer(name).orElseThrow(() -> new IllegalArgumentException("layer: '" + name + "' is not a layer of "
                + model.description() + "; layers: " + model.layers().stream().map(io.neuronmonkey.api.model.LayerInfo::name).toList()));
    }
}
