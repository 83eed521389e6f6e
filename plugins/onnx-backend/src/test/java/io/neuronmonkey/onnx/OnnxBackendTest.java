package io.neuronmonkey.onnx;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static io.neuronmonkey.onnx.Reference.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The backend on ONNX files the tests write, checked against plain Java forward passes with the same weights. */
class OnnxBackendTest {

    static final double TOL = 1e-5;

    @TempDir
    Path dir;

    static LoadedModel load(Path file) {
        return load(file, OnnxBackend.Params.defaults());
    }

    static LoadedModel load(Path file, OnnxBackend.Params params) {
        return new OnnxBackend().load(TestKit.modelContext(file, params));
    }

    static OnnxBackend.Params chunked(int chunk) {
        return new OnnxBackend.Params(null, null, 1.0, 0.0, null, chunk, null, OnnxBackend.Optimization.BASIC, 0, 8, null);
    }

    @Test
    void mlpListsNodeOutputsWithRolesAndMatchesTheJavaForwardPass() throws IOException {
        TestModels.Mlp mlp = new TestModels.Mlp();
        try (LoadedModel m = load(mlp.write(dir, -1))) {
            List<String> names = m.layers().stream().map(LayerInfo::name).toList();
            assertEquals(List.of("x", "hidden_pre", "hidden", "logits", "probabilities"), names);
            assertEquals(List.of(LayerInfo.Role.INPUT, LayerInfo.Role.HIDDEN, LayerInfo.Role.HIDDEN,
                    LayerInfo.Role.LOGITS, LayerInfo.Role.OUTPUT), m.layers().stream().map(LayerInfo::role).toList());
            assertEquals("logits", m.logitsLayer());
            assertEquals("Gemm", m.layer("logits").orElseThrow().opType());
            assertArrayEquals(new int[] {6}, m.layer("hidden").orElseThrow().shape());
            assertArrayEquals(new int[] {4}, m.inputShape());
            assertEquals(List.of(new ModelInput("x", DType.FLOAT32, new int[] {4}, true)), m.inputs());
            assertFalse(m.supportsGradients());
            assertTrue(m.supportsInterventions());

            int n = 9;
            float[] x = Reference.random(new Random(1), n * 4, 1.0);
            Map<String, Tensor> out = m.run(Tensor.ofFloats(x, n, 4), List.of("hidden_pre", "hidden", "logits",
                    "probabilities", "x"));
            float[] pre = mlp.hiddenPre(x, n);
            float[] hidden = Reference.relu(pre);
            float[] logits = mlp.logits(hidden, n);
            assertClose(pre, out.get("hidden_pre").floats(), TOL, "hidden_pre");
            assertClose(hidden, out.get("hidden").floats(), TOL, "hidden");
            assertClose(logits, out.get("logits").floats(), TOL, "logits");
            assertClose(Reference.softmax(logits, 3), out.get("probabilities").floats(), TOL, "probabilities");
            assertArrayEquals(x, out.get("x").floats());
            // a layer named by its graph path (the node name) is the same value
            String path = m.layer("hidden").orElseThrow().path();
            assertArrayEquals(out.get("hidden").floats(), m.run(Tensor.ofFloats(x, n, 4), List.of(path)).get(path).floats());
            assertArrayEquals(new int[] {n, 3}, out.get("logits").shape());
            assertEquals(64, m.fingerprint().length());
            assertTrue(m.description().contains("opset 17"), m.description());
        }
    }

    @Test
    void chunksAndSessionsPerFetchSetGiveTheSameNumbersAsOneRun() throws IOException {
        TestModels.Mlp mlp = new TestModels.Mlp();
        Path file = mlp.write(dir, -1);
        int n = 10;
        Tensor x = Tensor.ofFloats(Reference.random(new Random(2), n * 4, 1.0), n, 4);
        try (LoadedModel whole = load(file); LoadedModel chunks = load(file, chunked(3))) {
            Map<String, Tensor> a = whole.run(x, List.of("hidden", "logits"));
            Map<String, Tensor> b = chunks.run(x, List.of("hidden", "logits"));
            assertArrayEquals(a.get("hidden").floats(), b.get("hidden").floats());
            assertArrayEquals(a.get("logits").floats(), b.get("logits").floats());
            OnnxModel om = (OnnxModel) whole;
            int built = om.sessionsBuilt();
            whole.run(x, List.of("logits", "hidden"));
            assertEquals(built, om.sessionsBuilt(), "the same fetch set in another order reuses its session");
            Map<String, Tensor> alone = whole.run(x, List.of("logits"));
            assertEquals(built + 1, om.sessionsBuilt());
            assertClose(a.get("logits").floats(), alone.get("logits").floats(), 1e-6, "logits alone");
            // no interventions: exactly the capture session's numbers
            assertArrayEquals(alone.get("logits").floats(), whole.run(x, List.of("logits"), List.of()).get("logits").floats());
            assertEquals(0, whole.run(Tensor.ofFloats(new float[0], 0, 4), List.of("hidden")).get("hidden").rows());
        }
    }

    @Test
    void cnnIsChannelsFirstInTheModelAndDeliveredChannelsLast() throws IOException {
        TestModels.Cnn cnn = new TestModels.Cnn();
        try (LoadedModel m = load(cnn.write(dir))) {
            LayerInfo conv = m.layer("conv").orElseThrow();
            assertArrayEquals(new int[] {6, 6, 2}, conv.shape());
            assertEquals(0, conv.channelAxis());
            assertArrayEquals(new int[] {2, 6, 6}, conv.modelShape());
            for (String l : List.of("bn", "relu", "pool")) {
                assertEquals(0, m.layer(l).orElseThrow().channelAxis(), l);
            }
            assertArrayEquals(new int[] {3, 3, 2}, m.layer("pool").orElseThrow().shape());
            LayerInfo flat = m.layer("flat").orElseThrow();
            assertArrayEquals(new int[] {18}, flat.shape());
            assertTrue(flat.channelsLast());
            assertEquals(LayerInfo.Role.LOGITS, m.layer("logits").orElseThrow().role());
            // the data arrive channels last [6, 6, 1]; the backend transposes them for the NCHW input
            assertArrayEquals(new int[] {6, 6, 1}, m.inputShape());
            LayerInfo input = m.layer("image").orElseThrow();
            assertEquals(LayerInfo.Role.INPUT, input.role());

            int n = 5;
            float[] nhwc = Reference.random(new Random(4), n * 36, 1.0);
            float[] nchw = nhwc.clone(); // one channel: both layouts hold the same numbers
            Map<String, Tensor> out = m.run(Tensor.ofFloats(nhwc, n, 6, 6, 1), List.of("conv", "bn", "relu", "pool",
                    "logits", "image"));
            float[] c = cnn.conv(nchw, n);
            float[] bn = cnn.bn(c, n);
            float[] relu = Reference.relu(bn);
            assertClose(Reference.toLast(c, n, 2, 36), out.get("conv").floats(), TOL, "conv");
            assertClose(Reference.toLast(bn, n, 2, 36), out.get("bn").floats(), TOL, "bn");
            assertClose(Reference.toLast(relu, n, 2, 36), out.get("relu").floats(), TOL, "relu");
            float[] pool = Reference.maxPool2(relu, n, 2, 6, 6);
            assertClose(Reference.toLast(pool, n, 2, 9), out.get("pool").floats(), TOL, "pool");
            assertClose(cnn.logits(relu, n), out.get("logits").floats(), TOL, "logits");
            assertArrayEquals(new int[] {n, 6, 6, 2}, out.get("conv").shape());
            assertArrayEquals(nhwc, out.get("image").floats());
            ModelException first = assertThrows(ModelException.class,
                    () -> m.run(Tensor.ofFloats(new float[36], 1, 1, 6, 6), List.of("logits")));
            assertTrue(first.getMessage().contains("preprocess.layout: nhwc"), first.getMessage());
        }
        OnnxBackend.Params untransposed = new OnnxBackend.Params(null, null, 1.0, 0.0, new OnnxBackend.Preprocess(1.0,
                0.0, null, null, OnnxBackend.Layout.NHWC), 256, null, OnnxBackend.Optimization.BASIC, 0, 8, null);
        try (LoadedModel m = load(dir.resolve("cnn.onnx"), untransposed)) {
            assertArrayEquals(new int[] {1, 6, 6}, m.inputShape());
            ModelException last = assertThrows(ModelException.class,
                    () -> m.run(Tensor.ofFloats(new float[36], 1, 6, 6, 1), List.of("logits")));
            assertTrue(last.getMessage().contains("preprocess.layout: nchw"), last.getMessage());
        }
    }

    @Test
    void preprocessingScalesAndNormalizesBeforeTheLayoutChange() throws IOException {
        TestModels.Cnn cnn = new TestModels.Cnn();
        OnnxBackend.Params p = new OnnxBackend.Params(null, null, 1.0, 0.0,
                new OnnxBackend.Preprocess(2.0, -1.0, List.of(0.25), List.of(0.5), OnnxBackend.Layout.NCHW), 256,
                null, OnnxBackend.Optimization.BASIC, 0, 8, null);
        int n = 3;
        float[] x = Reference.random(new Random(8), n * 36, 1.0);
        float[] pre = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            pre[i] = (float) ((x[i] * 2.0 - 1.0 - 0.25) / 0.5);
        }
        try (LoadedModel m = load(cnn.write(dir), p)) {
            Tensor conv = m.run(Tensor.ofFloats(x, n, 6, 6, 1), List.of("conv")).get("conv");
            assertClose(Reference.toLast(cnn.conv(pre, n), n, 2, 36), conv.floats(), TOL, "conv of preprocessed");
        }
        ModelException three = assertThrows(ModelException.class, () -> load(dir.resolve("cnn.onnx"),
                new OnnxBackend.Params(null, null, 1.0, 0.0, new OnnxBackend.Preprocess(1.0, 0.0, null,
                        List.of(0.2, 0.2, 0.2), OnnxBackend.Layout.AUTO), 256, null, OnnxBackend.Optimization.BASIC, 0, 8,
                        null)));
        assertTrue(three.getMessage().contains("preprocess.std has 3 values") && three.getMessage().contains("1 channels"),
                three.getMessage());
    }

    @Test
    void transformerBlockTakesTokenIdsAndAnAttentionMask() throws IOException {
        TestModels.Block block = new TestModels.Block();
        int n = 4;
        int t = TestModels.Block.T;
        Random rng = new Random(9);
        int[] ids = new int[n * t];
        int[] mask = new int[n * t];
        long[] idsL = new long[n * t];
        long[] maskL = new long[n * t];
        for (int r = 0; r < n; r++) {
            int real = 2 + r % 4;
            for (int i = 0; i < t; i++) {
                ids[r * t + i] = i < real ? 1 + rng.nextInt(TestModels.Block.V - 1) : 0;
                mask[r * t + i] = i < real ? 1 : 0;
                idsL[r * t + i] = ids[r * t + i];
                maskL[r * t + i] = mask[r * t + i];
            }
        }
        try (LoadedModel m = load(block.write(dir))) {
            assertEquals(List.of(new ModelInput("input_ids", DType.INT64, new int[] {t}, true),
                    new ModelInput("attention_mask", DType.INT64, new int[] {t}, false)), m.inputs());
            assertEquals("logits", m.logitsLayer());
            assertArrayEquals(new int[] {t, 4}, m.layer("embedding").orElseThrow().shape());
            assertArrayEquals(new int[] {t, t}, m.layer("attention").orElseThrow().shape());
            assertEquals("LayerNormalization", m.layer("ln").orElseThrow().opType());
            assertTrue(m.layer("attention").orElseThrow().channelsLast());
            // INT32 ids and mask (the text data convention) are widened to the model's INT64
            ModelInputs in = new ModelInputs(Tensor.ofInts(ids, n, t), Map.of("attention_mask", Tensor.ofInts(mask, n, t)));
            Map<String, Tensor> out = m.run(in, List.of("embedding", "ln", "attention", "residual", "pooled", "logits",
                    "probabilities"), List.of());
            float[][] ref = block.forward(idsL, maskL, n);
            assertClose(ref[0], out.get("embedding").floats(), TOL, "embedding");
            assertClose(ref[1], out.get("ln").floats(), TOL, "ln");
            assertClose(ref[2], out.get("attention").floats(), TOL, "attention");
            assertClose(ref[3], out.get("residual").floats(), TOL, "residual");
            assertClose(ref[4], out.get("pooled").floats(), TOL, "pooled");
            assertClose(ref[5], out.get("logits").floats(), TOL, "logits");
            assertClose(Reference.softmax(ref[5], 2), out.get("probabilities").floats(), TOL, "probabilities");
            // INT64 tensors are fed as they are
            Map<String, Tensor> same = m.run(new ModelInputs(Tensor.ofLongs(idsL, n, t),
                    Map.of("attention_mask", Tensor.ofLongs(maskL, n, t))), List.of("logits"), List.of());
            assertClose(ref[5], same.get("logits").floats(), TOL, "logits from int64");

            ModelException missing = assertThrows(ModelException.class,
                    () -> m.run(ModelInputs.of(Tensor.ofInts(ids, n, t)), List.of("logits"), List.of()));
            assertTrue(missing.getMessage().contains("'attention_mask'") && missing.getMessage().contains("INT64")
                    && missing.getMessage().contains("no named inputs"), missing.getMessage());
            ModelException wrongType = assertThrows(ModelException.class,
                    () -> m.run(Tensor.ofFloats(new float[n * t], n, t), List.of("logits")));
            assertTrue(wrongType.getMessage().contains("takes INT64") && wrongType.getMessage().contains("FLOAT32"),
                    wrongType.getMessage());

            // steering the embedding at every position: the recomputed block from the changed embedding agrees
            float[] vector = {0.5f, -0.25f, 1f, 0f};
            Map<String, Tensor> steered = m.run(in, List.of("embedding", "logits"),
                    List.of(Intervention.steer("embedding", vector)));
            float[] emb = ref[0].clone();
            for (int i = 0; i < emb.length; i++) {
                emb[i] += vector[i % 4];
            }
            assertClose(emb, steered.get("embedding").floats(), TOL, "steered embedding");
        }
    }

    @Test
    void openSequenceLengthNeedsTheShapesParam() throws IOException {
        int int64 = io.neuronmonkey.onnx.proto.Onnx.TensorProto.DataType.INT64_VALUE;
        // both inputs share the symbolic length 'dim1': fixing it for input_ids fixes it for the mask
        Path file = new OnnxBuilder(17).input("input_ids", int64, -1, -1).input("attention_mask", int64, -1, -1)
                .floats("E", Reference.random(new Random(1), 12, 1.0), 3, 4)
                .node("Gather", new String[] {"E", "input_ids"}, "embedding", "axis", 0L)
                .node("Cast", "attention_mask", "mask_f", "to", 1L)
                .node("Unsqueeze", new String[] {"mask_f", "last"}, "mask3")
                .node("Mul", new String[] {"embedding", "mask3"}, "masked")
                .node("ReduceMean", "masked", "pooled", "axes", new long[] {1}, "keepdims", 0L)
                .longs("last", new long[] {2}, 1)
                .output("pooled").write(dir.resolve("open.onnx"));
        ModelException e = assertThrows(ModelException.class, () -> load(file));
        assertTrue(e.getMessage().contains("shapes: {input_ids: [...]}") && e.getMessage().contains("dim1"), e.getMessage());
        OnnxBackend.Params p = new OnnxBackend.Params(null, null, 1.0, 0.0, null, 256,
                Map.of("input_ids", List.of(6)), OnnxBackend.Optimization.BASIC, 0, 8, null);
        try (LoadedModel m = load(file, p)) {
            assertArrayEquals(new int[] {6, 4}, m.layer("embedding").orElseThrow().shape());
            assertArrayEquals(new int[] {-1}, m.inputs().get(0).shape());
            // another length runs too: the dimension is open in the model
            assertArrayEquals(new int[] {-1}, m.inputs().get(1).shape());
            assertArrayEquals(new int[] {6, 4}, m.layer("masked").orElseThrow().shape());
            Tensor out = m.run(new ModelInputs(Tensor.ofInts(new int[] {0, 1, 2, 2, 1, 0}, 2, 3),
                    Map.of("attention_mask", Tensor.ofInts(new int[] {1, 1, 0, 1, 1, 1}, 2, 3))), List.of("embedding",
                    "masked"), List.of()).get("masked");
            assertArrayEquals(new int[] {2, 3, 4}, out.shape());
            for (int d = 0; d < 4; d++) {
                assertEquals(0.0, Math.abs(out.floats()[2 * 4 + d]), "masked position");
            }
        }
    }

    @Test
    void interventionsMatchManualRecomputationPerRow() throws IOException {
        TestModels.Mlp mlp = new TestModels.Mlp();
        int n = 4;
        float[] x = Reference.random(new Random(6), n * 4, 1.0);
        float[] hidden = Reference.relu(mlp.hiddenPre(x, n));
        try (LoadedModel m = load(mlp.write(dir, -1))) {
            List<Intervention> ivs = List.of(
                    Intervention.ablate("hidden", 0, 2).forRows(0),
                    Intervention.set("hidden", 1.5f, 1).forRows(1),
                    Intervention.scale("hidden", 2f).forRows(2),
                    Intervention.add("hidden", -0.5f, 5).forRows(3));
            Map<String, Tensor> out = m.run(Tensor.ofFloats(x, n, 4), List.of("hidden", "logits"), ivs);
            float[] changed = hidden.clone();
            changed[0] = 0;
            changed[2] = 0;
            changed[6 + 1] = 1.5f;
            for (int j = 0; j < 6; j++) {
                changed[12 + j] *= 2f;
            }
            changed[18 + 5] -= 0.5f;
            assertClose(changed, out.get("hidden").floats(), TOL, "intervened hidden");
            assertClose(mlp.logits(changed, n), out.get("logits").floats(), TOL, "logits downstream");
            // the final output can be changed too, and a patch replaces values row by row
            float[] patch = {9f, 8f, 7f, 6f, 5f, 4f};
            Map<String, Tensor> patched = m.run(Tensor.ofFloats(x, n, 4), List.of("logits"),
                    List.of(Intervention.patch("logits", Tensor.ofFloats(patch, 2, 3), 1).forRows(1, 3)));
            float[] logits = mlp.logits(hidden, n);
            logits[3 + 1] = 8f;
            logits[9 + 1] = 5f;
            assertClose(logits, patched.get("logits").floats(), TOL, "patched logits");
            ModelException bad = assertThrows(ModelException.class, () -> m.run(Tensor.ofFloats(x, n, 4),
                    List.of("logits"), List.of(Intervention.ablate("hidden", 6))));
            assertTrue(bad.getMessage().contains("neuron 6 is outside layer 'hidden'"), bad.getMessage());
            assertThrows(ModelException.class, () -> m.run(Tensor.ofFloats(x, n, 4), List.of("logits"),
                    List.of(Intervention.ablate("x", 0))));
        }
    }

    @Test
    void interventionsOnChannelsFirstLayersChangeWholeChannels() throws IOException {
        TestModels.Cnn cnn = new TestModels.Cnn();
        int n = 3;
        float[] x = Reference.random(new Random(12), n * 36, 1.0);
        float[] relu = Reference.relu(cnn.bn(cnn.conv(x, n), n));
        try (LoadedModel m = load(cnn.write(dir))) {
            Map<String, Tensor> out = m.run(Tensor.ofFloats(x, n, 6, 6, 1), List.of("relu", "logits"),
                    List.of(Intervention.ablate("relu", 1).forRows(0, 2), Intervention.scale("relu", 3f, 0).forRows(1)));
            float[] changed = relu.clone();
            for (int p = 0; p < 36; p++) {
                changed[(0 * 2 + 1) * 36 + p] = 0;
                changed[(2 * 2 + 1) * 36 + p] = 0;
                changed[(1 * 2) * 36 + p] *= 3f;
            }
            assertClose(Reference.toLast(changed, n, 2, 36), out.get("relu").floats(), TOL, "relu");
            assertClose(cnn.logits(changed, n), out.get("logits").floats(), TOL, "logits");

            // activation patching: channel 0 of every row takes another input's values, given channels last
            float[] other = Reference.relu(cnn.bn(cnn.conv(Reference.random(new Random(13), n * 36, 1.0), n), n));
            float[] otherLast = Reference.toLast(other, n, 2, 36);
            Map<String, Tensor> patched = m.run(Tensor.ofFloats(x, n, 6, 6, 1), List.of("logits"),
                    List.of(Intervention.patch("relu", Tensor.ofFloats(otherLast, n, 6, 6, 2), 0)));
            float[] spliced = relu.clone();
            for (int r = 0; r < n; r++) {
                System.arraycopy(other, r * 72, spliced, r * 72, 36);
            }
            assertClose(cnn.logits(spliced, n), patched.get("logits").floats(), TOL, "patched logits");
        }
    }

    @Test
    void fixedBatchOneModelsArePaddedAndSplit() throws IOException {
        TestModels.Mlp mlp = new TestModels.Mlp();
        int n = 5;
        float[] x = Reference.random(new Random(7), n * 4, 1.0);
        try (LoadedModel fixed = load(mlp.write(dir, 1))) {
            Map<String, Tensor> all = fixed.run(Tensor.ofFloats(x, n, 4), List.of("hidden", "logits"),
                    List.of(Intervention.ablate("hidden", 3).forRows(2)));
            assertArrayEquals(new int[] {n, 3}, all.get("logits").shape());
            for (int r = 0; r < n; r++) {
                float[] row = java.util.Arrays.copyOfRange(x, r * 4, r * 4 + 4);
                List<Intervention> ivs = r == 2 ? List.of(Intervention.ablate("hidden", 3)) : List.of();
                Map<String, Tensor> one = fixed.run(Tensor.ofFloats(row, 1, 4), List.of("hidden", "logits"), ivs);
                assertArrayEquals(one.get("logits").floats(), java.util.Arrays.copyOfRange(all.get("logits").floats(),
                        r * 3, r * 3 + 3), "row " + r);
                assertArrayEquals(one.get("hidden").floats(), java.util.Arrays.copyOfRange(all.get("hidden").floats(),
                        r * 6, r * 6 + 6), "row " + r);
            }
            assertTrue(fixed.description().contains("fixed batch 1"), fixed.description());
        }
    }

    @Test
    void badInputsGetClearErrors() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.onnx"), "this is not a model, just some text\n");
        ModelException notOnnx = assertThrows(ModelException.class, () -> load(text));
        assertTrue(notOnnx.getMessage().contains("is not an ONNX model"), notOnnx.getMessage());
        ModelException absent = assertThrows(ModelException.class, () -> load(dir.resolve("absent.onnx")));
        assertTrue(absent.getMessage().contains("does not exist"), absent.getMessage());
        TestModels.Mlp mlp = new TestModels.Mlp();
        try (LoadedModel m = load(mlp.write(dir, -1))) {
            Tensor x = Tensor.ofFloats(new float[8], 2, 4);
            ModelException unknown = assertThrows(ModelException.class, () -> m.run(x, List.of("hiden")));
            assertTrue(unknown.getMessage().contains("unknown layer 'hiden'") && unknown.getMessage().contains("hidden"),
                    unknown.getMessage());
            ModelException shape = assertThrows(ModelException.class, () -> m.run(Tensor.ofFloats(new float[10], 2, 5),
                    List.of("logits")));
            assertTrue(shape.getMessage().contains("takes FLOAT32 [n, 4]") && shape.getMessage().contains("[2, 5]"),
                    shape.getMessage());
            ModelException grad = assertThrows(ModelException.class,
                    () -> m.gradient(x, GradientTarget.neuron("logits", 0), "x"));
            assertTrue(grad.getMessage().contains("occlusion") && grad.getMessage().contains("ablation")
                    && grad.getMessage().contains("activation-patching"), grad.getMessage());
        }
        ModelException logits = assertThrows(ModelException.class, () -> load(mlp.write(dir, -1),
                new OnnxBackend.Params(null, "logit", 1.0, 0.0, null, 256, null, OnnxBackend.Optimization.BASIC, 0, 8, null)));
        assertTrue(logits.getMessage().contains("near: logits"), logits.getMessage());
    }

    @Test
    void channelAxisParamOverridesTheGraphAndParamsAreValidated() throws IOException {
        TestModels.Cnn cnn = new TestModels.Cnn();
        Path file = cnn.write(dir);
        OnnxBackend.Params p = new OnnxBackend.Params(null, null, 1.0, 0.0, null, 256, null,
                OnnxBackend.Optimization.BASIC, 0, 8, Map.of("conv", -1));
        int n = 2;
        float[] x = Reference.random(new Random(14), n * 36, 1.0);
        try (LoadedModel m = load(file, p)) {
            LayerInfo conv = m.layer("conv").orElseThrow();
            assertTrue(conv.channelsLast());
            assertArrayEquals(new int[] {2, 6, 6}, conv.shape());
            assertEquals(0, m.layer("bn").orElseThrow().channelAxis(), "the others keep what the graph implies");
            assertClose(cnn.conv(x, n), m.run(Tensor.ofFloats(x, n, 6, 6, 1), List.of("conv")).get("conv").floats(),
                    TOL, "conv as the model computes it");
        }
        ModelException unknown = assertThrows(ModelException.class, () -> load(file, new OnnxBackend.Params(null, null,
                1.0, 0.0, null, 256, null, OnnxBackend.Optimization.BASIC, 0, 8, Map.of("convv", 1))));
        assertTrue(unknown.getMessage().contains("near: conv"), unknown.getMessage());
        io.neuronmonkey.api.InvalidParamsException bad = assertThrows(io.neuronmonkey.api.InvalidParamsException.class,
                () -> new OnnxBackend.Params(null, null, 1.0, 0.0, null, 0, Map.of("x", List.of(0)),
                        OnnxBackend.Optimization.BASIC, -1, 0, Map.of("conv", 2)));
        String msg = bad.getMessage();
        for (String field : List.of("chunk", "threads", "sessions", "shapes.x", "channelAxis.conv")) {
            assertTrue(msg.contains(field), field + " in " + msg);
        }
    }

    @Test
    void concurrentRunsShareAndEvictSessionsSafely() throws Exception {
        TestModels.Mlp mlp = new TestModels.Mlp();
        int n = 6;
        float[] x = Reference.random(new Random(15), n * 4, 1.0);
        Tensor batch = Tensor.ofFloats(x, n, 4);
        List<List<String>> fetches = List.of(List.of("hidden"), List.of("logits"), List.of("hidden", "probabilities"));
        List<List<Intervention>> changes = List.of(List.of(), List.of(Intervention.ablate("hidden", 1)));
        // one session kept: every other fetch set evicts it, often while another thread still runs on it
        OnnxBackend.Params one = new OnnxBackend.Params(null, null, 1.0, 0.0, null, 256, null,
                OnnxBackend.Optimization.BASIC, 0, 1, null);
        try (LoadedModel m = load(mlp.write(dir, -1), one)) {
            Map<String, float[]> expected = new java.util.HashMap<>();
            for (int f = 0; f < fetches.size(); f++) {
                for (int c = 0; c < changes.size(); c++) {
                    Map<String, Tensor> r = m.run(batch, fetches.get(f), changes.get(c));
                    for (String l : fetches.get(f)) {
                        expected.put(f + "/" + c + "/" + l, r.get(l).floats());
                    }
                }
            }
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
            try {
                List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int thread = t;
                    done.add(pool.submit(() -> {
                        for (int i = 0; i < 30; i++) {
                            int f = (thread + i) % fetches.size();
                            int c = (thread * 7 + i) % changes.size();
                            Map<String, Tensor> r = m.run(batch, fetches.get(f), changes.get(c));
                            for (String l : fetches.get(f)) {
                                assertArrayEquals(expected.get(f + "/" + c + "/" + l), r.get(l).floats(), l);
                            }
                        }
                        return null;
                    }));
                }
                for (java.util.concurrent.Future<?> d : done) {
                    d.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(((OnnxModel) m).sessionsBuilt() > 6, "sessions were evicted and rebuilt");
        }
    }

    @Test
    void reshapesThatKeepTheChannelsStayChannelsFirst() throws IOException {
        TestModels.Cnn cnn = new TestModels.Cnn();
        // [n, 2, 6, 6] -> [n, 2, 36] (spatial axes merged: channels first) -> [n, 36, 2] (transposed: channels last)
        Path file = new OnnxBuilder(17).input("image", -1L, 1, 6, 6)
                .floats("k", cnn.k, 2, 1, 3, 3).floats("kb", cnn.kb, 2).longs("merged", new long[] {0, 2, 36}, 3)
                .node("Conv", new String[] {"image", "k", "kb"}, "conv", "kernel_shape", new long[] {3, 3},
                        "pads", new long[] {1, 1, 1, 1})
                .node("Reshape", new String[] {"conv", "merged"}, "tokens")
                .node("Transpose", "tokens", "sequence", "perm", new long[] {0, 2, 1})
                .output("sequence").write(dir.resolve("reshape.onnx"));
        int n = 2;
        float[] x = Reference.random(new Random(16), n * 36, 1.0);
        try (LoadedModel m = load(file)) {
            LayerInfo tokens = m.layer("tokens").orElseThrow();
            assertEquals(0, tokens.channelAxis());
            assertArrayEquals(new int[] {36, 2}, tokens.shape());
            LayerInfo sequence = m.layer("sequence").orElseThrow();
            assertTrue(sequence.channelsLast());
            assertArrayEquals(new int[] {36, 2}, sequence.shape());
            Map<String, Tensor> out = m.run(Tensor.ofFloats(x, n, 6, 6, 1), List.of("tokens", "sequence"));
            float[] last = Reference.toLast(cnn.conv(x, n), n, 2, 36);
            assertClose(last, out.get("tokens").floats(), TOL, "tokens delivered channels last");
            assertArrayEquals(out.get("tokens").floats(), out.get("sequence").floats());
        }
    }

    @Test
    void initializersInExternalDataFilesAreRead() throws IOException {
        TestModels.Mlp mlp = new TestModels.Mlp();
        io.neuronmonkey.onnx.proto.Onnx.ModelProto model = io.neuronmonkey.onnx.proto.Onnx.ModelProto.parseFrom(
                Files.readAllBytes(mlp.write(dir, -1)));
        // w2 moved to weights.bin at offset 8, as exporters store tensors of large models
        io.neuronmonkey.onnx.proto.Onnx.GraphProto.Builder g = model.getGraph().toBuilder();
        for (int i = 0; i < g.getInitializerCount(); i++) {
            io.neuronmonkey.onnx.proto.Onnx.TensorProto t = g.getInitializer(i);
            if (t.getName().equals("w2")) {
                byte[] raw = t.getRawData().toByteArray();
                byte[] file = new byte[raw.length + 8];
                System.arraycopy(raw, 0, file, 8, raw.length);
                Files.write(dir.resolve("weights.bin"), file);
                g.setInitializer(i, t.toBuilder().clearRawData()
                        .setDataLocation(io.neuronmonkey.onnx.proto.Onnx.TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(entry("location", "weights.bin")).addExternalData(entry("offset", "8"))
                        .addExternalData(entry("length", String.valueOf(raw.length))));
            }
        }
        Path external = dir.resolve("external.onnx");
        Files.write(external, model.toBuilder().setGraph(g).build().toByteArray());
        int n = 3;
        float[] x = Reference.random(new Random(17), n * 4, 1.0);
        try (LoadedModel m = load(external)) {
            float[] hidden = Reference.relu(mlp.hiddenPre(x, n));
            assertClose(mlp.logits(hidden, n), m.run(Tensor.ofFloats(x, n, 4), List.of("logits")).get("logits").floats(),
                    TOL, "logits with external weights");
        }
        Files.delete(dir.resolve("weights.bin"));
        ModelException missing = assertThrows(ModelException.class, () -> load(external));
        assertTrue(missing.getMessage().contains("external data of initializer 'w2'"), missing.getMessage());
    }

    private static io.neuronmonkey.onnx.proto.Onnx.StringStringEntryProto entry(String key, String value) {
        return io.neuronmonkey.onnx.proto.Onnx.StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }

    @Test
    void modelsWithMoreValuesThanOneProbeGroupAreProbedInGroups() throws IOException {
        int values = OnnxModel.PROBE_GROUP * 2 + 7;
        OnnxBuilder b = new OnnxBuilder(17).input("x", -1L, 3).floats("one", new float[] {1f}, 1);
        String last = "x";
        for (int i = 0; i < values; i++) {
            b.node("Add", new String[] {last, "one"}, "add" + i);
            last = "add" + i;
        }
        try (LoadedModel m = load(b.output(last).write(dir.resolve("long.onnx")))) {
            assertEquals(values + 1, m.layers().size());
            assertArrayEquals(new int[] {3}, m.layer("add300").orElseThrow().shape());
            float[] out = m.run(Tensor.ofFloats(new float[] {0f, 1f, 2f}, 1, 3), List.of(last)).get(last).floats();
            assertArrayEquals(new float[] {values, values + 1, values + 2}, out);
        }
    }
}
