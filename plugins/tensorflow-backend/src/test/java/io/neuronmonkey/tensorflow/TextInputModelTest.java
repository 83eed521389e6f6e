package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.op.strings.StringSplit;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;
import org.tensorflow.types.TString;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A model that tokenizes raw text itself, as Keras' {@code TextVectorization} does: a STRING {@code [n]} input,
 * lowercased, split on whitespace, each word looked up in a vocabulary (unknown words share one extra row), embedded,
 * averaged per text into {@code pooled}, then a dense head. Its outputs for raw strings fed as they are equal a Java
 * reference that tokenizes the same way.
 */
class TextInputModelTest {

    private static final String[] VOCAB = {"the", "cat", "sat", "on", "mat", "zorblin"};
    private static final int V = VOCAB.length;
    private static final int D = 4;
    private static final int C = 3;
    private static final float TOL = 1e-5f;
    private static final String[] TEXTS = {"The cat sat", "  on the MAT  mat ", "", "zorblin\tquenti the",
        "unknown words only"};

    private final float[] table = TinyModels.random((V + 1) * D, 41);
    private final float[] weights = TinyModels.random(D * C, 42);
    private final float[] bias = TinyModels.random(C, 43);

    @TempDir
    Path dir;

    @Test
    void rawTextRunsForwardAndEqualsAJavaReference() throws Exception {
        Path model = dir.resolve("text");
        export(model);
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(model))) {
            assertEquals(List.of(new ModelInput("text", DType.STRING, new int[0], true)), m.inputs());
            int n = TEXTS.length;
            Map<String, Tensor> out = m.run(ModelInputs.of(Tensor.ofStrings(TEXTS.clone(), n)),
                    List.of("pooled", "logits", "text"), List.of());
            float[] pooled = pooled();
            assertArrayEquals(new int[] {n, D}, out.get("pooled").shape());
            assertArrayEquals(pooled, out.get("pooled").floats(), TOL);
            float[] logits = new float[n * C];
            for (int e = 0; e < n; e++) {
                for (int c = 0; c < C; c++) {
                    double z = bias[c];
                    for (int d = 0; d < D; d++) {
                        z += pooled[e * D + d] * weights[d * C + c];
                    }
                    logits[e * C + c] = (float) z;
                }
            }
            assertArrayEquals(logits, out.get("logits").floats(), TOL);
            assertArrayEquals(TEXTS, out.get("text").strings());

            ModelException tokens = assertThrows(ModelException.class, () -> m.run(ModelInputs.of(
                    Tensor.ofStrings(TEXTS.clone(), n)), List.of("token_embedding"), List.of()));
            assertTrue(tokens.getMessage().contains("a run of 5 rows returned shape [13, 4]"), tokens.getMessage());
            ModelException grad = assertThrows(ModelException.class, () -> m.gradient(ModelInputs.of(
                    Tensor.ofStrings(TEXTS.clone(), n)), GradientTarget.neuron("logits", 0), "text", List.of()));
            assertTrue(grad.getMessage().contains("DT_STRING") && grad.getMessage().contains("float layer"),
                    grad.getMessage());
            ModelException ids = assertThrows(ModelException.class, () -> m.run(ModelInputs.of(
                    Tensor.ofInts(new int[n], n)), List.of("logits"), List.of()));
            assertTrue(ids.getMessage().contains("input 'text' takes STRING [n] per batch, but the data's primary"
                    + " tensor is INT32 [5]"), ids.getMessage());
        }
    }

    /** Lowercase, split on whitespace, look up (unknown words: row V), average per text (no words: zeros). */
    private float[] pooled() {
        float[] out = new float[TEXTS.length * D];
        for (int e = 0; e < TEXTS.length; e++) {
            String[] words = Arrays.stream(TEXTS[e].toLowerCase(Locale.ROOT).split("\\s+"))
                    .filter(w -> !w.isEmpty()).toArray(String[]::new);
            for (String w : words) {
                int id = Arrays.asList(VOCAB).indexOf(w);
                int row = id < 0 ? V : id;
                for (int d = 0; d < D; d++) {
                    out[e * D + d] += table[row * D + d] / words.length;
                }
            }
        }
        return out;
    }

    private void export(Path model) throws Exception {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TString> text = tf.withName("text").placeholder(TString.class,
                    Placeholder.shape(Shape.of(-1)));
            StringSplit split = tf.strings.stringSplit(tf.strings.lower(text), tf.constant(""));
            Operand<TFloat32> match = tf.dtypes.cast(tf.math.equal(tf.expandDims(split.values(), tf.constant(1)),
                    tf.expandDims(tf.constant(StandardCharsets.UTF_8, VOCAB), tf.constant(0))), TFloat32.class);
            Operand<TFloat32> unknown = tf.math.sub(tf.constant(1f), tf.reduceSum(match, tf.constant(1),
                    ReduceSum.keepDims(true)));
            Operand<TFloat32> oneHot = tf.concat(List.of(match, unknown), tf.constant(1));
            Operand<TFloat32> tokens = tf.withName("token_embedding").linalg.matMul(oneHot,
                    tf.constant(Shape.of(V + 1, D), DataBuffers.of(table)));
            Operand<TInt32> row = tf.dtypes.cast(tf.gather(split.indices(), tf.constant(0), tf.constant(1)),
                    TInt32.class);
            Operand<TInt32> n = tf.dtypes.cast(tf.gather(split.shape(), tf.constant(0), tf.constant(0)), TInt32.class);
            Operand<TFloat32> sum = tf.math.unsortedSegmentSum(tokens, row, n);
            Operand<TFloat32> count = tf.math.unsortedSegmentSum(tf.onesLike(unknown), row, n);
            Operand<TFloat32> pooled = tf.withName("pooled").math.div(sum, tf.math.maximum(count, tf.constant(1f)));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.linalg.matMul(pooled,
                    tf.constant(Shape.of(D, C), DataBuffers.of(weights))), tf.constant(bias));
            Operand<TFloat32> probs = tf.withName("probabilities").nn.softmax(logits);
            try (Session s = new Session(g)) {
                Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("text", text)
                        .output("probabilities", probs).build();
                SavedModelBundle.exporter(model.toString()).withFunction(SessionFunction.create(sig, s)).export();
            }
        }
    }
}
