package io.neuronmonkey.features;

/**
 * Several different inputs per neuron. The diversity term is the mean pairwise cosine similarity of one neuron's
 * images (each centred on its own mean value), subtracted from the objective with a weight, so that the ascent pushes
 * a neuron's images apart.
 */
final class Diversity {

    private Diversity() {
    }

    /**
     * The mean cosine similarity of each image to the other images of its group.
     *
     * @param x     images {@code [groups * per, size]}
     * @param per   images per group
     * @param size  values per image
     * @return per image, its mean cosine with the others of its group (0 for a group of one)
     */
    static double[] meanCosine(float[] x, int per, int size) {
        int count = x.length / size;
        double[][] centred = centred(x, count, size);
        double[] norm = norms(centred);
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            int g = i / per;
            double s = 0;
            for (int j = g * per; j < (g + 1) * per; j++) {
                if (j != i) {
                    s += dot(centred[i], centred[j]) / (norm[i] * norm[j]);
                }
            }
            out[i] = per > 1 ? s / (per - 1) : 0;
        }
        return out;
    }

    /**
     * Adds {@code -weight * d S / d x} to the ascent gradient, where S is the mean over a group's ordered pairs of
     * images of their cosine similarity (centred images), summed over the groups.
     *
     * @param x      images {@code [groups * per, size]}
     * @param per    images per group, >= 2 for any effect
     * @param size   values per image
     * @param weight the diversity weight
     * @param g      the ascent gradient, changed in place
     */
    static void addGradient(float[] x, int per, int size, double weight, float[] g) {
        if (per < 2 || weight == 0) {
            return;
        }
        int count = x.length / size;
        double[][] c = centred(x, count, size);
        double[] norm = norms(c);
        double pairs = per * (per - 1.0);
        double[] d = new double[size];
        for (int i = 0; i < count; i++) {
            java.util.Arrays.fill(d, 0);
            int grp = i / per;
            for (int j = grp * per; j < (grp + 1) * per; j++) {
                if (j == i) {
                    continue;
                }
                double cos = dot(c[i], c[j]) / (norm[i] * norm[j]);
                for (int v = 0; v < size; v++) {
                    // both ordered pairs (i, j) and (j, i) hold the same cosine
                    d[v] += 2 / pairs * (c[j][v] / (norm[i] * norm[j]) - cos * c[i][v] / (norm[i] * norm[i]));
                }
            }
            double mean = 0;
            for (double v : d) {
                mean += v;
            }
            mean /= size;
            for (int v = 0; v < size; v++) {
                g[i * size + v] -= (float) (weight * (d[v] - mean));
            }
        }
    }

    private static double[][] centred(float[] x, int count, int size) {
        double[][] c = new double[count][size];
        for (int i = 0; i < count; i++) {
            double mean = 0;
            for (int v = 0; v < size; v++) {
                mean += x[i * size + v];
            }
            mean /= size;
            for (int v = 0; v < size; v++) {
                c[i][v] = x[i * size + v] - mean;
            }
        }
        return c;
    }

    private static double[] norms(double[][] c) {
        double[] n = new double[c.length];
        for (int i = 0; i < c.length; i++) {
            n[i] = Math.max(1e-12, Math.sqrt(dot(c[i], c[i])));
        }
        return n;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}
