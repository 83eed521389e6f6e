package io.neuronmonkey.onnx;

import io.neuronmonkey.onnx.proto.Onnx.TensorProto;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

import static io.neuronmonkey.onnx.Reference.random;

/** The ONNX files the tests write, with their weights kept for the plain Java forward passes. */
final class TestModels {

    private TestModels() {
    }

    /** x [n, 4] -> Gemm -> hidden_pre [6] -> Relu -> hidden -> Gemm -> logits [3] -> Softmax -> probabilities. */
    static final class Mlp {
        final Random rng = new Random(11);
        final float[] w1 = random(rng, 4 * 6, 0.7);
        final float[] b1 = random(rng, 6, 0.3);
        final float[] w2 = random(rng, 6 * 3, 0.7);
        final float[] b2 = random(rng, 3, 0.3);

        /** @param batch the input's batch dimension: -1 dynamic, or a fixed size */
        Path write(Path dir, long batch) throws IOException {
            return new OnnxBuilder(17).input("x", batch, 4)
                    .floats("w1", w1, 4, 6).floats("b1", b1, 6).floats("w2", w2, 6, 3).floats("b2", b2, 3)
                    .node("Gemm", new String[] {"x", "w1", "b1"}, "hidden_pre")
                    .node("Relu", "hidden_pre", "hidden")
                    .node("Gemm", new String[] {"hidden", "w2", "b2"}, "logits")
                    .node("Softmax", "logits", "probabilities", "axis", 1L)
                    .output("probabilities")
                    .write(dir.resolve(batch < 0 ? "mlp.onnx" : "mlp-batch" + batch + ".onnx"));
        }

        float[] hiddenPre(float[] x, int n) {
            return Reference.dense(x, n, 4, w1, 6, b1);
        }

        float[] logits(float[] hidden, int n) {
            return Reference.dense(hidden, n, 6, w2, 3, b2);
        }
    }

    /**
     * image [n, 1, 6, 6] (NCHW) -> Conv 3x3 pad 1 -> conv [2, 6, 6] -> BatchNormalization -> bn -> Relu -> relu ->
     * MaxPool 2 -> pool [2, 3, 3] -> Flatten -> flat [18] -> Gemm -> logits [3].
     */
    static final class Cnn {
        final Random rng = new Random(5);
        final float[] k = random(rng, 2 * 9, 0.5);
        final float[] kb = random(rng, 2, 0.2);
        final float[] gamma = {1.3f, 0.7f};
        final float[] beta = {0.1f, -0.2f};
        final float[] mean = {0.05f, -0.1f};
        final float[] var = {0.8f, 1.4f};
        final float[] w = random(rng, 18 * 3, 0.4);
        final float[] b = random(rng, 3, 0.1);

        Path write(Path dir) throws IOException {
            return new OnnxBuilder(17).input("image", -1L, 1, 6, 6)
                    .floats("k", k, 2, 1, 3, 3).floats("kb", kb, 2)
                    .floats("gamma", gamma, 2).floats("beta", beta, 2).floats("mean", mean, 2).floats("var", var, 2)
                    .floats("w", w, 18, 3).floats("b", b, 3)
                    .node("Conv", new String[] {"image", "k", "kb"}, "conv", "kernel_shape", new long[] {3, 3},
                            "pads", new long[] {1, 1, 1, 1})
                    .node("BatchNormalization", new String[] {"conv", "gamma", "beta", "mean", "var"}, "bn",
                            "epsilon", 1e-5f)
                    .node("Relu", "bn", "relu")
                    .node("MaxPool", "relu", "pool", "kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})
                    .node("Flatten", "pool", "flat", "axis", 1L)
                    .node("Gemm", new String[] {"flat", "w", "b"}, "logits")
                    .output("logits")
                    .write(dir.resolve("cnn.onnx"));
        }

        /** NCHW conv output of NCHW images. */
        float[] conv(float[] nchw, int n) {
            return Reference.conv3x3(nchw, n, 1, 6, 6, k, 2, kb);
        }

        float[] bn(float[] conv, int n) {
            return Reference.batchNorm(conv, n, 2, 36, gamma, beta, mean, var, 1e-5);
        }

        float[] logits(float[] relu, int n) {
            float[] pool = Reference.maxPool2(relu, n, 2, 6, 6);
            return Reference.dense(pool, n, 18, w, 3, b);
        }
    }

    /**
     * A transformer-like block on token ids: input_ids, attention_mask int64 [n, 5]; embedding Gather [7, 4],
     * LayerNormalization, single-head attention (MatMul, Transpose, scale, additive mask, Softmax), residual, mean
     * over the positions, Gemm to 2 logits, Softmax.
     */
    static final class Block {
        static final int T = 5;
        static final int D = 4;
        static final int V = 7;
        final Random rng = new Random(3);
        final float[] e = random(rng, V * D, 1.0);
        final float[] g = {1.1f, 0.9f, 1.0f, 1.2f};
        final float[] be = {0.0f, 0.1f, -0.1f, 0.05f};
        final float[] wq = random(rng, D * D, 0.6);
        final float[] wk = random(rng, D * D, 0.6);
        final float[] wv = random(rng, D * D, 0.6);
        final float[] wo = random(rng, D * 2, 0.6);
        final float[] bo = random(rng, 2, 0.1);

        Path write(Path dir) throws IOException {
            return new OnnxBuilder(17)
                    .input("input_ids", TensorProto.DataType.INT64_VALUE, -1, T)
                    .input("attention_mask", TensorProto.DataType.INT64_VALUE, -1, T)
                    .floats("E", e, V, D).floats("ln_g", g, D).floats("ln_b", be, D)
                    .floats("Wq", wq, D, D).floats("Wk", wk, D, D).floats("Wv", wv, D, D)
                    .floats("Wo", wo, D, 2).floats("bo", bo, 2)
                    .floats("scale", new float[] {0.5f}, 1).floats("one", new float[] {1f}, 1)
                    .floats("neg", new float[] {-10000f}, 1).longs("axis1", new long[] {1}, 1)
                    .node("Gather", new String[] {"E", "input_ids"}, "embedding", "axis", 0L)
                    .node("LayerNormalization", new String[] {"embedding", "ln_g", "ln_b"}, "ln", "axis", -1L,
                            "epsilon", 1e-5f)
                    .node("MatMul", new String[] {"ln", "Wq"}, "q")
                    .node("MatMul", new String[] {"ln", "Wk"}, "k")
                    .node("MatMul", new String[] {"ln", "Wv"}, "v")
                    .node("Transpose", "k", "kt", "perm", new long[] {0, 2, 1})
                    .node("MatMul", new String[] {"q", "kt"}, "scores")
                    .node("Mul", new String[] {"scores", "scale"}, "scaled")
                    .node("Cast", "attention_mask", "mask_f", "to", (long) TensorProto.DataType.FLOAT_VALUE)
                    .node("Sub", new String[] {"one", "mask_f"}, "inverted")
                    .node("Mul", new String[] {"inverted", "neg"}, "bias")
                    .node("Unsqueeze", new String[] {"bias", "axis1"}, "bias3")
                    .node("Add", new String[] {"scaled", "bias3"}, "masked")
                    .node("Softmax", "masked", "attention", "axis", -1L)
                    .node("MatMul", new String[] {"attention", "v"}, "context")
                    .node("Add", new String[] {"embedding", "context"}, "residual")
                    .node("ReduceMean", "residual", "pooled", "axes", new long[] {1}, "keepdims", 0L)
                    .node("Gemm", new String[] {"pooled", "Wo", "bo"}, "logits")
                    .node("Softmax", "logits", "probabilities", "axis", 1L)
                    .output("probabilities")
                    .write(dir.resolve("block.onnx"));
        }

        /** The forward pass; returns {embedding, ln, attention, residual, pooled, logits}. */
        float[][] forward(long[] ids, long[] mask, int n) {
            float[] emb = new float[n * T * D];
            for (int i = 0; i < n * T; i++) {
                System.arraycopy(e, (int) ids[i] * D, emb, i * D, D);
            }
            float[] ln = Reference.layerNorm(emb, D, g, be, 1e-5);
            float[] q = Reference.dense(ln, n * T, D, wq, D, null);
            float[] k = Reference.dense(ln, n * T, D, wk, D, null);
            float[] v = Reference.dense(ln, n * T, D, wv, D, null);
            float[] attn = new float[n * T * T];
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < T; i++) {
                    for (int j = 0; j < T; j++) {
                        double s = 0;
                        for (int d = 0; d < D; d++) {
                            s += (double) q[(r * T + i) * D + d] * k[(r * T + j) * D + d];
                        }
                        attn[(r * T + i) * T + j] = (float) (s * 0.5 + (1 - mask[r * T + j]) * -10000.0);
                    }
                }
            }
            attn = Reference.softmax(attn, T);
            float[] residual = emb.clone();
            for (int r = 0; r < n; r++) {
                for (int i = 0; i < T; i++) {
                    for (int d = 0; d < D; d++) {
                        double s = 0;
                        for (int j = 0; j < T; j++) {
                            s += (double) attn[(r * T + i) * T + j] * v[(r * T + j) * D + d];
                        }
                        residual[(r * T + i) * D + d] += (float) s;
                    }
                }
            }
            float[] pooled = new float[n * D];
            for (int r = 0; r < n; r++) {
                for (int d = 0; d < D; d++) {
                    double s = 0;
                    for (int i = 0; i < T; i++) {
                        s += residual[(r * T + i) * D + d];
                    }
                    pooled[r * D + d] = (float) (s / T);
                }
            }
            float[] logits = Reference.dense(pooled, n, D, wo, 2, bo);
            return new float[][] {emb, ln, attn, residual, pooled, logits};
        }
    }
}
