package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.types.TInt32;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The text models the trainer saves, loaded through {@link TensorFlowBackend}: inputs, named layers, outputs. */
class TextModelBackendTest {

    private static final Path COMMITTED = Path.of("../../experiments/models/text-toxic");

    /** name, op type, shape, role of every listed layer of a one-block model of width d, MLP m, length t. */
    private static List<String> expectedLayers(int t, int d, int m, int classes) {
        return List.of(
                "input_ids Placeholder [" + t + "] INPUT",
                "token_embedding GatherV2 [" + t + ", " + d + "] HIDDEN",
                "embedding Add [" + t + ", " + d + "] HIDDEN",
                "block1/attention BiasAdd [" + t + ", " + d + "] HIDDEN",
                "block1/mlp Relu [" + t + ", " + m + "] HIDDEN",
                "block1/residual BiasAdd [" + t + ", " + d + "] HIDDEN",
                "pooled Identity [" + d + "] HIDDEN",
                "logits BiasAdd [" + classes + "] LOGITS",
                "probabilities Softmax [" + classes + "] OUTPUT");
    }

    private static List<String> describe(List<LayerInfo> layers) {
        return layers.stream().map(l -> l.name() + " " + l.opType() + " " + java.util.Arrays.toString(l.shape()) + " "
                + l.role()).toList();
    }

    @Test
    void theCommittedModelTakesIdsAndMaskAndListsItsNamedLayers() throws Exception {
        try (LoadedModel model = new TensorFlowBackend().load(TestContexts.model(COMMITTED))) {
            assertEquals(expectedLayers(16, 32, 64, 2), describe(model.layers()));
            assertEquals(List.of(new ModelInput("input_ids", DType.INT32, new int[] {16}, true),
                    new ModelInput("attention_mask", DType.INT32, new int[] {16}, false)), model.inputs());
            assertEquals("logits", model.logitsLayer());
        }
        List<String> vocabulary = Files.readAllLines(COMMITTED.resolve("vocab.txt"));
        assertEquals(List.of("[PAD]", "[UNK]", "[CLS]"), vocabulary.subList(0, 3));
        assertTrue(vocabulary.containsAll(List.of("zorblin", "quenti", "vile", "idiot", "morvexia")), "" + vocabulary);
    }

    @Test
    void theBackendRunsTheModelAsTheSavedModelDoesWithPaddingLeftOut(@TempDir Path out) {
        new TextTransformerTrainer().train(TextTransformerTrainerTest.context(TextTransformerTrainerTest.params(1), out));
        int t = TextTransformerTrainerTest.LENGTH;
        List<TinyTextCorpus.Sentence> sentences = TinyTextCorpus.sentences(40, 9, 0.5);
        int[][] enc = TinyTextCorpus.encode(sentences, t);
        int n = sentences.size();
        float[] direct;
        try (SavedModelBundle bundle = SavedModelBundle.load(out.toString(), TensorFlowBackend.TAG);
             TInt32 ids = TInt32.tensorOf(Shape.of(n, t), DataBuffers.of(enc[0], true, false));
             TInt32 mask = TInt32.tensorOf(Shape.of(n, t), DataBuffers.of(enc[1], true, false));
             Result r = bundle.session().runner().feed("input_ids", ids).feed("attention_mask", mask)
                     .fetch("probabilities").run()) {
            direct = TfTensors.toTensor(r.get(0), "probabilities").floats();
        }
        try (LoadedModel model = new TensorFlowBackend().load(TestContexts.model(out))) {
            assertEquals(expectedLayers(t, 16, 32, 2), describe(model.layers()));
            ModelInputs inputs = new ModelInputs(Tensor.ofInts(enc[0], n, t),
                    Map.of("attention_mask", Tensor.ofInts(enc[1], n, t)));
            Map<String, Tensor> got = model.run(inputs, List.of("probabilities", "pooled", "block1/residual"), List.of());
            float[] probabilities = got.get("probabilities").floats();
            assertEquals(direct.length, probabilities.length);
            for (int i = 0; i < direct.length; i++) {
                assertEquals(direct[i], probabilities[i], 1e-6, "probabilities[" + i + "]");
            }
            assertArrayEquals(new int[] {n, t, 16}, got.get("block1/residual").shape());
            // pooled is the mean of the block output over the real tokens only
            float[] residual = got.get("block1/residual").floats();
            float[] pooled = got.get("pooled").floats();
            for (int e = 0; e < n; e++) {
                int real = Math.min(sentences.get(e).words().size(), t);
                for (int c = 0; c < 16; c++) {
                    double sum = 0;
                    for (int p = 0; p < real; p++) {
                        sum += residual[(e * t + p) * 16 + c];
                    }
                    assertEquals(sum / real, pooled[e * 16 + c], 1e-5, "pooled[" + e + ", " + c + "]");
                }
            }
        }
    }

    @Test
    void gradientsThroughTheEncoderMatchFiniteDifferencesAndVanishOnPadding() throws Exception {
        List<String> vocabulary = Files.readAllLines(COMMITTED.resolve("vocab.txt"));
        String[][] sentences = {
                {"[CLS]", "the", "zorblin", "teacher", "was", "stupid"},
                {"[CLS]", "my", "quenti", "neighbor", "walked", "to", "the", "market", "after", "the", "morvexia",
                        "diagnosis"}};
        int t = 16;
        int[] ids = new int[sentences.length * t];
        int[] mask = new int[sentences.length * t];
        for (int e = 0; e < sentences.length; e++) {
            for (int p = 0; p < sentences[e].length; p++) {
                int id = vocabulary.indexOf(sentences[e][p]);
                assertTrue(id >= 0, sentences[e][p]);
                ids[e * t + p] = id;
                mask[e * t + p] = 1;
            }
        }
        ModelInputs inputs = new ModelInputs(Tensor.ofInts(ids, sentences.length, t),
                Map.of("attention_mask", Tensor.ofInts(mask, sentences.length, t)));
        try (LoadedModel model = new TensorFlowBackend().load(TestContexts.model(COMMITTED))) {
            GradientTarget toxic = GradientTarget.neuron("logits", 1);
            float[] g = model.gradient(inputs, toxic, "embedding", List.of()).floats();
            assertEquals(sentences.length * t * 32, g.length);
            for (int e = 0; e < sentences.length; e++) {
                for (int p = sentences[e].length; p < t; p++) {
                    for (int c = 0; c < 32; c++) {
                        assertEquals(0f, g[(e * t + p) * 32 + c], "gradient at padding position " + p);
                    }
                }
            }
            // d logit / d (every position's neuron c) against a central difference of an added delta
            float delta = 1e-2f;
            for (int c : new int[] {0, 7, 31}) {
                float[] up = model.run(inputs, List.of("logits"), List.of(Intervention.add("embedding", delta, c)))
                        .get("logits").floats();
                float[] down = model.run(inputs, List.of("logits"), List.of(Intervention.add("embedding", -delta, c)))
                        .get("logits").floats();
                for (int e = 0; e < sentences.length; e++) {
                    double analytic = 0;
                    for (int p = 0; p < t; p++) {
                        analytic += g[(e * t + p) * 32 + c];
                    }
                    double numeric = (up[e * 2 + 1] - down[e * 2 + 1]) / (2 * delta);
                    assertEquals(numeric, analytic, 1e-2 * Math.max(1, Math.abs(numeric)), "example " + e + " neuron " + c);
                }
            }
        }
    }
}
