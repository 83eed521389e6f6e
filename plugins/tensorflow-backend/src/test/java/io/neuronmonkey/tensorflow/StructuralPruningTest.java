package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.PrunedModel;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Structural pruning of tiny models with known weights, checked against plain loops and the masked model. */
class StructuralPruningTest {

    private final TinyModels tiny = new TinyModels();

    @TempDir
    Path dir;

    @Test
    void cuttingAHiddenUnitOfTheMlpEqualsTheLoopWithoutIt() throws Exception {
        tiny.exportMlp(dir.resolve("mlp"));
        int n = 6;
        float[] x = TinyModels.random(n * 4, 11);
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(dir.resolve("mlp")))) {
            PrunedModel p = m.prune(Map.of("hidden", new int[] {1}), dir.resolve("cut"));
            assertEquals(List.of("hidden"), p.structural());
            assertEquals(4 * 3 + 3 + 3 * 2 + 2, p.parametersBefore());
            assertEquals(4 + 1 + 2, p.parametersRemoved(), "a kernel column, a bias and a row of the next kernel");
        }
        // the reference: the same MLP with unit 1 removed from w1 (column), b1 and w2 (row), as plain loops
        float[] w1 = new float[4 * 2];
        for (int i = 0; i < 4; i++) {
            w1[i * 2] = tiny.w1[i * 3];
            w1[i * 2 + 1] = tiny.w1[i * 3 + 2];
        }
        float[] b1 = {tiny.b1[0], tiny.b1[2]};
        float[] w2 = {tiny.w2[0], tiny.w2[1], tiny.w2[4], tiny.w2[5]};
        float[] hidden = TinyModels.relu(TinyModels.matmul(x, n, 4, w1, 2, b1));
        float[] logits = TinyModels.matmul(hidden, n, 2, w2, 2, tiny.b2);
        try (LoadedModel cut = new TensorFlowBackend().load(TestContexts.model(dir.resolve("cut")))) {
            assertEquals(2, cut.layer("hidden").orElseThrow().neurons());
            Map<String, Tensor> out = cut.run(Tensor.ofFloats(x, n, 4), List.of("logits", "probs"));
            assertArrayEquals(logits, out.get("logits").floats(), 1e-5f);
            assertArrayEquals(TinyModels.softmax(logits, n), out.get("probs").floats(), 1e-5f);
            assertTrue(Files.isRegularFile(dir.resolve("cut").resolve("saved_model.pb")));
        }
    }

    @Test
    void aLayerWhoseUnitsReachAConcatIsMaskedAndSaysSo() throws Exception {
        Path pb = dir.resolve("concat.pb");
        float[] w = TinyModels.random(7 * 2, 21);
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, 4)));
            Operand<TFloat32> hidden = tf.withName("hidden").nn.relu(tf.nn.biasAdd(tf.linalg.matMul(x,
                    tf.constant(Shape.of(4, 3), DataBuffers.of(tiny.w1))), tf.constant(Shape.of(3), DataBuffers.of(tiny.b1))));
            Operand<TFloat32> both = tf.withName("both").concat(List.of(hidden, x), tf.constant(1));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.linalg.matMul(both,
                    tf.constant(Shape.of(7, 2), DataBuffers.of(w))), tf.constant(Shape.of(2), DataBuffers.of(tiny.b2)));
            tf.withName("probs").nn.softmax(logits);
            Files.write(pb, g.toGraphDef().toByteArray());
        }
        int n = 5;
        float[] x = TinyModels.random(n * 4, 12);
        float[] masked;
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(pb, "x", "probs"))) {
            PrunedModel p = m.prune(Map.of("hidden", new int[] {0, 2}), dir.resolve("masked"));
            assertEquals(List.of(), p.structural());
            assertTrue(p.masked().get("hidden").contains("ConcatV2"), p.masked().toString());
            assertEquals(p.parametersBefore() + 3, p.parametersAfter(), "the mask adds one value per unit");
            masked = m.run(Tensor.ofFloats(x, n, 4), List.of("logits"), List.of(Intervention.ablate("hidden", 0, 2)))
                    .get("logits").floats();
        }
        try (LoadedModel cut = new TensorFlowBackend().load(TestContexts.model(dir.resolve("masked")))) {
            assertTrue(cut.layers().stream().map(LayerInfo::name).toList().containsAll(Set.of("hidden", "logits")));
            assertEquals(3, cut.layer("hidden").orElseThrow().neurons());
            assertArrayEquals(masked, cut.run(Tensor.ofFloats(x, n, 4), List.of("logits")).get("logits").floats(), 1e-6f);
        }
    }

    @Test
    void aKerasModelIsFrozenAndCutThroughBatchNormPoolingAndFlatten() throws Exception {
        new KerasStyleModels().export(dir.resolve("keras"));
        int n = 4;
        float[] x = TinyModels.random(n * 8 * 8 * 2, 17);
        Tensor in = Tensor.ofFloats(x, n, 8, 8, 2);
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(dir.resolve("keras")))) {
            PrunedModel conv = m.prune(Map.of("conv2d", new int[] {1}), dir.resolve("conv"));
            assertEquals(List.of("conv2d"), conv.structural(), conv.masked().toString());
            // per channel: 3x3x2 kernel values and a bias, 4 batch-norm values, and 16 positions' rows of dense
            assertEquals(3 * 3 * 2 + 1 + 4 + 16 * 5, conv.parametersRemoved());
            PrunedModel dense = m.prune(Map.of("dense", new int[] {0, 3}), dir.resolve("dense"));
            assertEquals(2 * (64 + 1) + 2 * 3, dense.parametersRemoved());
            // a removed channel is gone from every channel-wise op after it: the batch norm's output too
            float[] maskedConv = m.run(in, List.of("dense_1"), List.of(Intervention.ablate("max_pooling2d", 1)))
                    .get("dense_1").floats();
            float[] maskedDense = m.run(in, List.of("dense_1"), List.of(Intervention.ablate("dense", 0, 3)))
                    .get("dense_1").floats();
            try (LoadedModel c = new TensorFlowBackend().load(TestContexts.model(dir.resolve("conv")));
                 LoadedModel d = new TensorFlowBackend().load(TestContexts.model(dir.resolve("dense")))) {
                assertEquals(m.layers().stream().map(LayerInfo::name).toList(),
                        c.layers().stream().map(LayerInfo::name).toList());
                assertEquals(3, c.layer("batch_normalization").orElseThrow().neurons());
                assertArrayEquals(maskedConv, c.run(in, List.of("dense_1")).get("dense_1").floats(), 1e-6f);
                assertEquals(3, d.layer("dense").orElseThrow().neurons());
                assertArrayEquals(maskedDense, d.run(in, List.of("dense_1")).get("dense_1").floats(), 1e-6f);
            }
        }
    }
}
