package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.types.TFloat32;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interventions on the tiny CNN checked against a Java recomputation of the layers after the changed one, the
 * untouched path checked bit for bit against the original graph, and the preprocessing ops against Java loops.
 */
class InterventionsAndPreprocessingTest {

    private static final float TOL = 1e-5f;

    @TempDir
    static Path dir;
    static TinyModels models = new TinyModels();
    static Path cnnFile;
    static LoadedModel cnn;

    @BeforeAll
    static void load() throws Exception {
        cnnFile = dir.resolve("cnn.pb");
        models.writeCnn(cnnFile);
        cnn = new TensorFlowBackend().load(TestContexts.model(cnnFile, "x", "probs"));
    }

    @AfterAll
    static void close() {
        cnn.close();
    }

    @Test
    void withoutInterventionsEveryLayerIsBitIdenticalToTheOriginalGraph() throws Exception {
        int n = 4;
        float[] x = TinyModels.random(n * 50, 41);
        Map<String, Tensor> ours = cnn.run(Tensor.ofFloats(x, n, 5, 5, 2), List.of("conv", "pool", "logits", "probs"));
        try (Graph g = new Graph(); Session s = new Session(g); TFloat32 in = TfTensors.floats(x, n, 5, 5, 2)) {
            g.importGraphDef(GraphDef.parseFrom(Files.readAllBytes(cnnFile)));
            try (Result r = s.runner().feed("x", in).fetch("conv").fetch("pool").fetch("logits").fetch("probs").run()) {
                List<String> names = List.of("conv", "pool", "logits", "probs");
                for (int i = 0; i < names.size(); i++) {
                    assertArrayEquals(TfTensors.toTensor(r.get(i), names.get(i)).floats(),
                            ours.get(names.get(i)).floats(), names.get(i));
                }
            }
        }
    }

    @Test
    void channelInterventionsPerRowMatchARecomputationOfTheLayersAfterThem() {
        int n = 3;
        float[] x = TinyModels.random(n * 50, 42);
        float[] steer = {0.5f, -1f, 2f};
        List<Intervention> ivs = List.of(Intervention.ablate("conv", 1).forRows(0),
                Intervention.set("conv", 0.75f, 0, 2).forRows(1), Intervention.scale("conv", 3f).forRows(2),
                Intervention.steer("conv", steer).forRows(2));
        Map<String, Tensor> out = cnn.run(Tensor.ofFloats(x, n, 5, 5, 2), List.of("conv", "logits", "probs"), ivs);
        float[] conv = models.cnnConv(x, n);
        for (int p = 0; p < n * 25; p++) {
            int row = p / 25;
            for (int c = 0; c < 3; c++) {
                int i = p * 3 + c;
                if (row == 0 && c == 1) {
                    conv[i] = 0f;
                } else if (row == 1 && c != 1) {
                    conv[i] = 0.75f;
                } else if (row == 2) {
                    conv[i] = conv[i] * 3f + steer[c];
                }
            }
        }
        assertArrayEquals(conv, out.get("conv").floats(), TOL);
        float[] logits = models.cnnLogitsFromConv(conv, n);
        assertArrayEquals(logits, out.get("logits").floats(), 1e-4f);
        assertArrayEquals(TinyModels.softmax(logits, n), out.get("probs").floats(), TOL);
    }

    @Test
    void interventionsOnUnlistedLayersOrNeuronsOutsideTheLayerAreRefused() {
        Tensor in = Tensor.ofFloats(new float[50], 1, 5, 5, 2);
        ModelException e = assertThrows(ModelException.class,
                () -> cnn.run(in, List.of("logits"), List.of(Intervention.ablate("conv_conv", 0))));
        assertTrue(e.getMessage().contains("interventions apply to listed layers: x, conv, pool"), e.getMessage());
        e = assertThrows(ModelException.class,
                () -> cnn.run(in, List.of("logits"), List.of(Intervention.ablate("conv", 3))));
        assertTrue(e.getMessage().contains("neuron 3 is outside layer 'conv' (0..2)"), e.getMessage());
    }

    @Test
    void meanStdAndReshapeRunInTheGraph() throws Exception {
        Path mlp = dir.resolve("mlp");
        models.exportMlp(mlp);
        TensorFlowBackend.Preprocess pre = new TensorFlowBackend.Preprocess(2.0, 1.0, List.of(0.5, -0.25),
                List.of(2.0, 4.0), TensorFlowBackend.Layout.NHWC, List.of(2, 2));
        int n = 3;
        float[] x = TinyModels.random(n * 4, 43);
        float[] prepared = new float[x.length];
        double[] mean = {0.5, -0.25};
        double[] std = {2.0, 4.0};
        for (int i = 0; i < x.length; i++) {
            prepared[i] = (float) ((x[i] * 2f + 1f - mean[i % 2]) / std[i % 2]);
        }
        try (LoadedModel m = new TensorFlowBackend().load(TestKit.modelContext(mlp,
                new TensorFlowBackend.Params("serving_default", null, null, null, 1, 0, pre, 256)))) {
            assertArrayEquals(new int[] {2, 2}, m.inputShape());
            assertEquals(new LayerInfo("x", "Placeholder", new int[] {2, 2}, LayerInfo.Role.INPUT), m.layers().get(0));
            Tensor logits = m.run(Tensor.ofFloats(x, n, 2, 2), List.of("logits")).get("logits");
            assertArrayEquals(models.mlpLogits(prepared, n), logits.floats(), TOL);
        }
    }

    @Test
    void nchwLayoutTransposesTheFedChannelsLastBatch() throws Exception {
        Path file = dir.resolve("cnn-nchw.pb");
        models.writeCnnNchw(file);
        int n = 2;
        float[] x = TinyModels.random(n * 50, 44);
        TensorFlowBackend.Preprocess pre = new TensorFlowBackend.Preprocess(1, 0, null, null,
                TensorFlowBackend.Layout.NCHW, null);
        try (LoadedModel m = new TensorFlowBackend().load(TestKit.modelContext(file,
                new TensorFlowBackend.Params("serving_default", "x", "probs", null, 1, 0, pre, 256)))) {
            assertArrayEquals(new int[] {5, 5, 2}, m.inputShape());
            assertArrayEquals(models.cnnLogits(x, n), m.run(Tensor.ofFloats(x, n, 5, 5, 2), List.of("logits"))
                    .get("logits").floats(), TOL);
        }
    }

    @Test
    void integerInputsAreRoundedAndCast() throws Exception {
        Path file = dir.resolve("mlp-uint8.pb");
        models.writeMlp(file, -1, DataType.DT_UINT8);
        float[] x = {0.2f, 3.6f, 200f, 17.4f};
        float[] rounded = {0f, 4f, 200f, 17f};
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(file, "x", "probs"))) {
            assertArrayEquals(models.mlpLogits(rounded, 1), m.run(Tensor.ofFloats(x, 1, 4), List.of("logits"))
                    .get("logits").floats(), 1e-3f);
        }
    }

    @Test
    void preprocessingMismatchesAreExplained() {
        TensorFlowBackend.Preprocess wrong = new TensorFlowBackend.Preprocess(1, 0, null, null,
                TensorFlowBackend.Layout.NHWC, List.of(3, 3));
        ModelException e = assertThrows(ModelException.class, () -> new TensorFlowBackend().load(
                TestKit.modelContext(cnnFile, new TensorFlowBackend.Params("serving_default", "x", "probs", null, 1,
                        0, wrong, 256))));
        assertTrue(e.getMessage().contains("fed examples [3, 3] cannot be reshaped to the model input [5, 5, 2]"),
                e.getMessage());
        InvalidParamsException p = assertThrows(InvalidParamsException.class, () -> new TensorFlowBackend.Preprocess(
                0, 0, List.of(1.0), List.of(1.0, -1.0), null, List.of(0)));
        assertEquals(List.of("scale", "std", "std", "reshape"),
                p.violations().stream().map(InvalidParamsException.Violation::field).toList());
        InvalidParamsException both = assertThrows(InvalidParamsException.class, () -> new TensorFlowBackend.Params(
                null, null, null, null, 0.5, 0, new TensorFlowBackend.Preprocess(0.25, 0, null, null, null, null), 0));
        assertEquals(List.of("preprocess", "chunk"),
                both.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
