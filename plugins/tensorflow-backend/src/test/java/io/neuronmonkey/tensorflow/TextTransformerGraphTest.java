package io.neuronmonkey.tensorflow;

import org.junit.jupiter.api.Test;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TInt32;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The text transformer graph against a plain Java forward pass on the same weights. */
class TextTransformerGraphTest {

    private static final int LENGTH = 7;
    private static final TextTransformerGraph.Spec SPEC = new TextTransformerGraph.Spec(19, LENGTH, 8, 2, 12, 2, 3);

    /** Three examples of 7, 4 and 1 real tokens; padding positions hold arbitrary ids the mask must hide. */
    private static final int[] IDS = {2, 5, 9, 17, 11, 3, 18, /**/ 2, 12, 6, 10, 14, 4, 7, /**/ 2, 8, 8, 8, 8, 8, 8};
    private static final int[] MASK = {1, 1, 1, 1, 1, 1, 1, /**/ 1, 1, 1, 1, 0, 0, 0, /**/ 1, 0, 0, 0, 0, 0, 0};

    /** Every weight, layer norm gains and biases included, drawn N(0, 0.5) so that none is trivial. */
    private static float[][] weights(long seed) {
        Random r = new Random(seed);
        long[][] shapes = SPEC.shapes();
        float[][] w = new float[shapes.length][];
        for (int i = 0; i < shapes.length; i++) {
            long size = 1;
            for (long d : shapes[i]) {
                size *= d;
            }
            w[i] = new float[(int) size];
            for (int j = 0; j < w[i].length; j++) {
                w[i][j] = (float) (r.nextGaussian() * 0.5);
            }
        }
        return w;
    }

    @Test
    void forwardPassEqualsAPlainJavaTransformer() {
        float[][] w = weights(11);
        Map<String, float[]> graph = run(w, IDS, MASK);
        Map<String, double[]> reference = new Reference(SPEC, w).forward(IDS, MASK, 3);
        assertEquals(SPEC.layerNames(), List.copyOf(reference.keySet()));
        for (String layer : SPEC.layerNames()) {
            float[] got = graph.get(layer);
            double[] want = reference.get(layer);
            assertEquals(want.length, got.length, layer);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-5, layer + "[" + i + "]");
            }
        }
    }

    @Test
    void paddingIdsChangeNoRealPositionAndNoPrediction() {
        float[][] w = weights(12);
        int[] other = IDS.clone();
        for (int i = 0; i < other.length; i++) {
            if (MASK[i] == 0) {
                other[i] = (other[i] + 7) % SPEC.vocabulary();
            }
        }
        Map<String, float[]> a = run(w, IDS, MASK);
        Map<String, float[]> b = run(w, other, MASK);
        for (String layer : List.of("block2/residual", "block1/mlp")) {
            int width = a.get(layer).length / IDS.length;
            boolean paddingDiffers = false;
            for (int i = 0; i < IDS.length; i++) {
                for (int c = 0; c < width; c++) {
                    float x = a.get(layer)[i * width + c];
                    float y = b.get(layer)[i * width + c];
                    if (MASK[i] == 1) {
                        assertEquals(x, y, 1e-6, layer + " position " + i);
                    } else {
                        paddingDiffers |= Math.abs(x - y) > 1e-4;
                    }
                }
            }
            assertTrue(paddingDiffers, layer + ": the padding positions themselves do see their ids");
        }
        for (String layer : List.of("pooled", "logits", "probabilities")) {
            for (int i = 0; i < a.get(layer).length; i++) {
                assertEquals(a.get(layer)[i], b.get(layer)[i], 1e-6, layer + "[" + i + "]");
            }
        }
    }

    @Test
    void parameterCountMatchesTheShapes() {
        long d = 8;
        long perBlock = 3 * (d * d + d) + (d * d + d) + 2 * d + (d * 12 + 12) + (12 * d + d) + 2 * d;
        assertEquals(19 * d + LENGTH * d + 2 * d + 2 * perBlock + d * 3 + 3, SPEC.parameters());
    }

    private static Map<String, float[]> run(float[][] w, int[] ids, int[] mask) {
        int n = ids.length / LENGTH;
        Map<String, float[]> out = new LinkedHashMap<>();
        try (Graph g = new Graph()) {
            TextTransformerGraph net = new TextTransformerGraph(g, SPEC, w);
            try (Session s = new Session(g);
                 TInt32 idt = TInt32.tensorOf(Shape.of(n, LENGTH), DataBuffers.of(ids, true, false));
                 TInt32 mt = TInt32.tensorOf(Shape.of(n, LENGTH), DataBuffers.of(mask, true, false))) {
                s.initialize();
                Session.Runner runner = s.runner().feed(net.inputIds, idt).feed(net.attentionMask, mt);
                SPEC.layerNames().forEach(runner::fetch);
                try (Result r = runner.run()) {
                    for (int i = 0; i < SPEC.layerNames().size(); i++) {
                        String name = SPEC.layerNames().get(i);
                        out.put(name, TfTensors.toTensor(r.get(i), name).floats());
                    }
                }
            }
        }
        return out;
    }

    /** The transformer written out with loops in double precision, weights in {@link TextTransformerGraph.Spec#variableNames()} order. */
    static final class Reference {
        private final TextTransformerGraph.Spec spec;
        private final float[][] w;

        Reference(TextTransformerGraph.Spec spec, float[][] w) {
            this.spec = spec;
            this.w = w;
        }

        /** @return every listed layer, row-major per example and position */
        Map<String, double[]> forward(int[] ids, int[] mask, int n) {
            int t = spec.length();
            int d = spec.dim();
            Map<String, double[]> out = new LinkedHashMap<>();
            double[] tokens = new double[n * t * d];
            double[] embedding = new double[n * t * d];
            for (int e = 0; e < n; e++) {
                for (int p = 0; p < t; p++) {
                    int id = ids[e * t + p];
                    for (int c = 0; c < d; c++) {
                        tokens[(e * t + p) * d + c] = w[0][id * d + c];
                        embedding[(e * t + p) * d + c] = w[0][id * d + c] + w[1][p * d + c];
                    }
                }
            }
            out.put("token_embedding", tokens);
            out.put("embedding", embedding);
            double[] x = layerNorm(embedding, w[2], w[3], d);
            for (int b = 0; b < spec.blocks(); b++) {
                x = block(x, mask, n, 4 + 16 * b, "block" + (b + 1), out);
            }
            double[] pooled = new double[n * d];
            for (int e = 0; e < n; e++) {
                int real = 0;
                for (int p = 0; p < t; p++) {
                    if (mask[e * t + p] != 0) {
                        real++;
                        for (int c = 0; c < d; c++) {
                            pooled[e * d + c] += x[(e * t + p) * d + c];
                        }
                    }
                }
                for (int c = 0; c < d; c++) {
                    pooled[e * d + c] /= real;
                }
            }
            out.put("pooled", pooled);
            int k = spec.classes();
            float[] wc = w[w.length - 2];
            float[] bc = w[w.length - 1];
            double[] logits = new double[n * k];
            double[] probabilities = new double[n * k];
            for (int e = 0; e < n; e++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < k; j++) {
                    double s = bc[j];
                    for (int c = 0; c < d; c++) {
                        s += pooled[e * d + c] * wc[c * k + j];
                    }
                    logits[e * k + j] = s;
                    max = Math.max(max, s);
                }
                double z = 0;
                for (int j = 0; j < k; j++) {
                    z += Math.exp(logits[e * k + j] - max);
                }
                for (int j = 0; j < k; j++) {
                    probabilities[e * k + j] = Math.exp(logits[e * k + j] - max) / z;
                }
            }
            out.put("logits", logits);
            out.put("probabilities", probabilities);
            return out;
        }

        private double[] block(double[] x, int[] mask, int n, int v, String name, Map<String, double[]> out) {
            int t = spec.length();
            int d = spec.dim();
            int heads = spec.heads();
            int hk = spec.headDim();
            int m = spec.mlp();
            double[] q = project(x, w[v], w[v + 1], n * t, d, heads * hk);
            double[] key = project(x, w[v + 2], w[v + 3], n * t, d, heads * hk);
            double[] val = project(x, w[v + 4], w[v + 5], n * t, d, heads * hk);
            double[] context = new double[n * t * heads * hk];
            for (int e = 0; e < n; e++) {
                for (int h = 0; h < heads; h++) {
                    for (int i = 0; i < t; i++) {
                        double[] s = new double[t];
                        double max = Double.NEGATIVE_INFINITY;
                        for (int j = 0; j < t; j++) {
                            if (mask[e * t + j] == 0) {
                                continue;
                            }
                            double dot = 0;
                            for (int c = 0; c < hk; c++) {
                                dot += q[((e * t + i) * heads + h) * hk + c] * key[((e * t + j) * heads + h) * hk + c];
                            }
                            s[j] = dot / Math.sqrt(hk);
                            max = Math.max(max, s[j]);
                        }
                        double z = 0;
                        for (int j = 0; j < t; j++) {
                            s[j] = mask[e * t + j] == 0 ? 0 : Math.exp(s[j] - max);
                            z += s[j];
                        }
                        for (int j = 0; j < t; j++) {
                            for (int c = 0; c < hk; c++) {
                                context[((e * t + i) * heads + h) * hk + c] += s[j] / z
                                        * val[((e * t + j) * heads + h) * hk + c];
                            }
                        }
                    }
                }
            }
            double[] attention = project(context, w[v + 6], w[v + 7], n * t, heads * hk, d);
            out.put(name + "/attention", attention);
            double[] h1 = layerNorm(add(x, attention), w[v + 8], w[v + 9], d);
            double[] hidden = project(h1, w[v + 10], w[v + 11], n * t, d, m);
            for (int i = 0; i < hidden.length; i++) {
                hidden[i] = Math.max(0, hidden[i]);
            }
            out.put(name + "/mlp", hidden);
            double[] mlpOut = project(hidden, w[v + 12], w[v + 13], n * t, m, d);
            double[] residual = layerNorm(add(h1, mlpOut), w[v + 14], w[v + 15], d);
            out.put(name + "/residual", residual);
            return residual;
        }

        /** {@code rows x in} times {@code in x out} (row-major, heads and head width flattened) plus a bias. */
        private static double[] project(double[] x, float[] weight, float[] bias, int rows, int in, int outWidth) {
            double[] y = new double[rows * outWidth];
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < outWidth; o++) {
                    double s = bias[o];
                    for (int i = 0; i < in; i++) {
                        s += x[r * in + i] * weight[i * outWidth + o];
                    }
                    y[r * outWidth + o] = s;
                }
            }
            return y;
        }

        private static double[] add(double[] a, double[] b) {
            double[] c = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                c[i] = a[i] + b[i];
            }
            return c;
        }

        private static double[] layerNorm(double[] x, float[] gamma, float[] beta, int d) {
            double[] y = new double[x.length];
            for (int r = 0; r < x.length / d; r++) {
                double mean = 0;
                for (int c = 0; c < d; c++) {
                    mean += x[r * d + c];
                }
                mean /= d;
                double var = 0;
                for (int c = 0; c < d; c++) {
                    var += (x[r * d + c] - mean) * (x[r * d + c] - mean);
                }
                var /= d;
                for (int c = 0; c < d; c++) {
                    y[r * d + c] = (x[r * d + c] - mean) / Math.sqrt(var + TextTransformerGraph.NORM_EPSILON) * gamma[c]
                            + beta[c];
                }
            }
            return y;
        }
    }
}
