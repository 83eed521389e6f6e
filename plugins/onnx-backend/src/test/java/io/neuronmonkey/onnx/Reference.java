package io.neuronmonkey.onnx;

import java.util.Random;

/** Plain Java forward passes of the ops the test models use: the independent reference the backend is checked against. */
final class Reference {

    private Reference() {
    }

    static float[] random(Random rng, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (rng.nextGaussian() * std);
        }
        return a;
    }

    /** {@code x [n, k] · w [k, m] + b [m]}. */
    static float[] dense(float[] x, int n, int k, float[] w, int m, float[] b) {
        float[] y = new float[n * m];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < m; j++) {
                double s = b == null ? 0 : b[j];
                for (int i = 0; i < k; i++) {
                    s += (double) x[r * k + i] * w[i * m + j];
                }
                y[r * m + j] = (float) s;
            }
        }
        return y;
    }

    static float[] relu(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.max(0f, x[i]);
        }
        return y;
    }

    /** Softmax over the last axis of rows of {@code m}. */
    static float[] softmax(float[] x, int m) {
        float[] y = new float[x.length];
        for (int r = 0; r < x.length / m; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < m; j++) {
                max = Math.max(max, x[r * m + j]);
            }
            double sum = 0;
            for (int j = 0; j < m; j++) {
                sum += Math.exp(x[r * m + j] - max);
            }
            for (int j = 0; j < m; j++) {
                y[r * m + j] = (float) (Math.exp(x[r * m + j] - max) / sum);
            }
        }
        return y;
    }

    /** 3x3 convolution, stride 1, zero padding 1, NCHW input {@code [n, ci, h, w]}, OIHW weights, NCHW output. */
    static float[] conv3x3(float[] x, int n, int ci, int h, int w, float[] k, int co, float[] b) {
        float[] y = new float[n * co * h * w];
        for (int r = 0; r < n; r++) {
            for (int o = 0; o < co; o++) {
                for (int i = 0; i < h; i++) {
                    for (int j = 0; j < w; j++) {
                        double s = b[o];
                        for (int c = 0; c < ci; c++) {
                            for (int di = 0; di < 3; di++) {
                                for (int dj = 0; dj < 3; dj++) {
                                    int ii = i + di - 1;
                                    int jj = j + dj - 1;
                                    if (ii >= 0 && ii < h && jj >= 0 && jj < w) {
                                        s += (double) x[((r * ci + c) * h + ii) * w + jj]
                                                * k[((o * ci + c) * 3 + di) * 3 + dj];
                                    }
                                }
                            }
                        }
                        y[((r * co + o) * h + i) * w + j] = (float) s;
                    }
                }
            }
        }
        return y;
    }

    /** Inference batch norm of NCHW {@code [n, c, hw]}. */
    static float[] batchNorm(float[] x, int n, int c, int hw, float[] gamma, float[] beta, float[] mean, float[] var,
                             double eps) {
        float[] y = new float[x.length];
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < c; k++) {
                double inv = 1.0 / Math.sqrt(var[k] + eps);
                for (int p = 0; p < hw; p++) {
                    int i = (r * c + k) * hw + p;
                    y[i] = (float) ((x[i] - mean[k]) * inv * gamma[k] + beta[k]);
                }
            }
        }
        return y;
    }

    /** 2x2 max pool, stride 2, NCHW. */
    static float[] maxPool2(float[] x, int n, int c, int h, int w) {
        int oh = h / 2;
        int ow = w / 2;
        float[] y = new float[n * c * oh * ow];
        for (int r = 0; r < n * c; r++) {
            for (int i = 0; i < oh; i++) {
                for (int j = 0; j < ow; j++) {
                    float m = Float.NEGATIVE_INFINITY;
                    for (int di = 0; di < 2; di++) {
                        for (int dj = 0; dj < 2; dj++) {
                            m = Math.max(m, x[(r * h + 2 * i + di) * w + 2 * j + dj]);
                        }
                    }
                    y[(r * oh + i) * ow + j] = m;
                }
            }
        }
        return y;
    }

    /** {@code [n, c, s]} to {@code [n, s, c]}. */
    static float[] toLast(float[] x, int n, int c, int s) {
        float[] y = new float[x.length];
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < c; k++) {
                for (int p = 0; p < s; p++) {
                    y[(r * s + p) * c + k] = x[(r * c + k) * s + p];
                }
            }
        }
        return y;
    }

    /** {@code [n, s, c]} to {@code [n, c, s]}. */
    static float[] toFirst(float[] x, int n, int c, int s) {
        float[] y = new float[x.length];
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < c; k++) {
                for (int p = 0; p < s; p++) {
                    y[(r * c + k) * s + p] = x[(r * s + p) * c + k];
                }
            }
        }
        return y;
    }

    /** Layer normalization over the last axis of rows of {@code d}. */
    static float[] layerNorm(float[] x, int d, float[] gamma, float[] beta, double eps) {
        float[] y = new float[x.length];
        for (int r = 0; r < x.length / d; r++) {
            double mean = 0;
            for (int j = 0; j < d; j++) {
                mean += x[r * d + j];
            }
            mean /= d;
            double var = 0;
            for (int j = 0; j < d; j++) {
                var += (x[r * d + j] - mean) * (x[r * d + j] - mean);
            }
            var /= d;
            for (int j = 0; j < d; j++) {
                y[r * d + j] = (float) ((x[r * d + j] - mean) / Math.sqrt(var + eps) * gamma[j] + beta[j]);
            }
        }
        return y;
    }

    static void assertClose(float[] expected, float[] actual, double tol, String what) {
        org.junit.jupiter.api.Assertions.assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tol * Math.max(1.0, Math.abs(expected[i])))) {
                org.junit.jupiter.api.Assertions.fail(what + " differs at " + i + ": expected " + expected[i]
                        + ", found " + actual[i]);
            }
        }
    }
}
