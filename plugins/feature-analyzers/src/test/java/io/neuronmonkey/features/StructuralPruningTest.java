package io.neuronmonkey.features;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.PrunedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.attribution.TestSupport;
import io.neuronmonkey.tensorflow.TensorFlowBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Structural pruning of the demo CNN through the real TensorFlow backend: the exported SavedModel equals the masked
 * model, dead units change nothing, the parameter count follows from the shapes, and the model reloads narrower.
 */
class StructuralPruningTest {

    /** dense1 units that never fire on the demo data (found by the masking analyzer; checked again here) */
    private static final int[] DEAD = {4, 20, 25, 29};
    private static final int FLAT = 7 * 7 * 16;

    private static LoadedModel model;
    private static List<Batch> batches;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() {
        model = TestSupport.demoModel();
        Dataset data = TestSupport.shapes("test", 2000);
        batches = new ArrayList<>();
        for (Iterator<Batch> it = data.batches(500); it.hasNext(); ) {
            batches.add(it.next());
        }
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** @return {logits, probabilities} over every batch, of {@code m} with the interventions */
    private static float[][] outputs(LoadedModel m, List<Intervention> iv) {
        List<float[]> logits = new ArrayList<>();
        List<float[]> probs = new ArrayList<>();
        for (Batch b : batches) {
            Map<String, Tensor> out = m.run(b.inputs(), List.of("logits", "probabilities"), iv);
            logits.add(out.get("logits").floats());
            probs.add(out.get("probabilities").floats());
        }
        return new float[][] {concat(logits), concat(probs)};
    }

    private static float[] concat(List<float[]> parts) {
        int n = parts.stream().mapToInt(a -> a.length).sum();
        float[] o = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, o, at, p.length);
            at += p.length;
        }
        return o;
    }

    private static double maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double d = 0;
        for (int i = 0; i < a.length; i++) {
            d = Math.max(d, Math.abs(a[i] - b[i]));
        }
        return d;
    }

    /**
     * The masked and the cut model sum different numbers of exact zeros in a different order: equal up to float
     * rounding, 1e-5 relative to the largest |value| (at least 1).
     */
    private static void assertClose(float[] expected, float[] actual, String what) {
        double scale = 1;
        for (float v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        double d = maxDiff(expected, actual);
        assertTrue(d <= 1e-5 * scale, what + ": max |diff| " + d + " at scale " + scale);
    }

    private static int[] argmax(float[] logits) {
        int[] o = new int[logits.length / 4];
        for (int r = 0; r < o.length; r++) {
            for (int j = 1; j < 4; j++) {
                o[r] = logits[r * 4 + j] > logits[r * 4 + o[r]] ? j : o[r];
            }
        }
        return o;
    }

    private static long totalParameters() {
        return model.parameterCounts().values().stream().mapToLong(Long::longValue).sum();
    }

    @Test
    void deadDense1UnitsCutOutChangeNoPredictionAndEqualTheMaskedModel() {
        // the units are dead: never above 0 on these examples
        for (Batch b : batches) {
            float[] a = model.run(b.inputs(), List.of("dense1")).get("dense1").floats();
            for (int r = 0; r < b.size(); r++) {
                for (int u : DEAD) {
                    assertTrue(a[r * 32 + u] <= 0, "dense1 #" + u + " fires on row " + r);
                }
            }
        }
        Path out = dir.resolve("dense1");
        PrunedModel p = model.prune(Map.of("dense1", DEAD), out);
        assertEquals(List.of("dense1"), p.structural());
        assertTrue(p.masked().isEmpty(), p.masked().toString());
        int k = DEAD.length;
        assertEquals(totalParameters(), p.parametersBefore());
        assertEquals((long) k * (FLAT + 1) + k * 4L, p.parametersRemoved());
        assertTrue(Files.isRegularFile(out.resolve("saved_model.pb")));
        // the frozen unpruned model holds the 26500 weights as 4-byte floats; the pruned one 3156 fewer
        assertTrue(p.bytesFrozen() > 4 * p.parametersBefore() && p.bytesAfter() > 4 * p.parametersAfter(), p.toString());
        long saved = p.bytesFrozen() - p.bytesAfter();
        assertTrue(saved >= 4 * p.parametersRemoved() && saved < 4 * p.parametersRemoved() + 2048, "bytes saved " + saved);
        float[][] original = outputs(model, List.of());
        float[][] masked = outputs(model, List.of(Intervention.ablate("dense1", DEAD)));
        try (LoadedModel pruned = TestSupport.loadModel(out, TensorFlowBackend.Params.defaults())) {
            assertEquals(model.layers().stream().map(LayerInfo::name).toList(),
                    pruned.layers().stream().map(LayerInfo::name).toList());
            assertEquals(32 - k, pruned.layer("dense1").orElseThrow().neurons());
            assertEquals(16, pruned.layer("conv2").orElseThrow().neurons());
            assertEquals(p.parametersAfter(), pruned.parameterCounts().values().stream().mapToLong(Long::longValue).sum());
            float[][] cut = outputs(pruned, List.of());
            double dl = maxDiff(masked[0], cut[0]);
            double dp = maxDiff(masked[1], cut[1]);
            System.out.printf("dense1 %s: parameters %d -> %d, bytes %d (as loaded) %d (frozen) -> %d, max |diff| vs"
                    + " masked: logits %.3g, probabilities %.3g%n", java.util.Arrays.toString(DEAD), p.parametersBefore(),
                    p.parametersAfter(), p.bytesBefore(), p.bytesFrozen(), p.bytesAfter(), dl, dp);
            assertClose(masked[0], cut[0], "logits");
            assertClose(masked[1], cut[1], "probabilities");
            assertArrayEquals(argmax(original[0]), argmax(cut[0]), "dead units change no prediction");
        }
    }

    @Test
    void conv2ChannelsCutThroughPoolAndFlattenEqualTheMaskedModel() {
        int[] channels = {1, 6, 11};
        Path out = dir.resolve("conv2");
        PrunedModel p = model.prune(Map.of("conv2", channels), out);
        assertEquals(List.of("conv2"), p.structural(), p.masked().toString());
        int k = channels.length;
        // the conv2 filter loses 3*3*8 values per channel and its bias one; dense1 loses 7*7 rows of 32 per channel
        assertEquals(k * (3L * 3 * 8 + 1) + k * 49L * 32, p.parametersRemoved());
        float[][] masked = outputs(model, List.of(Intervention.ablate("conv2", channels)));
        float[][] original = outputs(model, List.of());
        try (LoadedModel pruned = TestSupport.loadModel(out, TensorFlowBackend.Params.defaults())) {
            assertEquals(model.layers().stream().map(LayerInfo::name).toList(),
                    pruned.layers().stream().map(LayerInfo::name).toList());
            assertEquals(16 - k, pruned.layer("conv2").orElseThrow().neurons());
            assertEquals(16 - k, pruned.layer("pool2").orElseThrow().neurons());
            assertEquals(32, pruned.layer("dense1").orElseThrow().neurons());
            float[][] cut = outputs(pruned, List.of());
            double dl = maxDiff(masked[0], cut[0]);
            double dp = maxDiff(masked[1], cut[1]);
            System.out.printf("conv2 %s: parameters %d -> %d, max |diff| vs masked: logits %.3g, probabilities %.3g;"
                    + " vs unpruned %.3g%n", java.util.Arrays.toString(channels), p.parametersBefore(),
                    p.parametersAfter(), dl, dp, maxDiff(original[0], cut[0]));
            assertClose(masked[0], cut[0], "logits");
            assertClose(masked[1], cut[1], "probabilities");
            assertTrue(maxDiff(original[0], cut[0]) > 1e-3, "the channels mattered: the pruned model differs");
        }
    }

    @Test
    void bothLayersAtOnceAndRefusals() {
        PrunedModel p = model.prune(new java.util.LinkedHashMap<>(Map.of("conv2", new int[] {2}, "dense1", DEAD)),
                dir.resolve("both"));
        assertEquals(2, p.structural().size());
        assertEquals((3L * 3 * 8 + 1) + 49L * 32 + DEAD.length * (49L * 15 + 1) + DEAD.length * 4L,
                p.parametersRemoved());
        float[][] masked = outputs(model, List.of(Intervention.ablate("conv2", 2), Intervention.ablate("dense1", DEAD)));
        try (LoadedModel pruned = TestSupport.loadModel(dir.resolve("both"), TensorFlowBackend.Params.defaults())) {
            assertClose(masked[0], outputs(pruned, List.of())[0], "logits");
        }
        ModelException logits = assertThrows(ModelException.class,
                () -> model.prune(Map.of("logits", new int[] {0}), dir.resolve("x")));
        assertTrue(logits.getMessage().contains("hidden layers: "), logits.getMessage());
        assertThrows(ModelException.class, () -> model.prune(Map.of("dense1", new int[] {32}), dir.resolve("y")));
        ModelException exists = assertThrows(ModelException.class,
                () -> model.prune(Map.of("dense1", DEAD), dir.resolve("both")));
        assertTrue(exists.getMessage().contains("nothing is overwritten"), exists.getMessage());
    }
}
