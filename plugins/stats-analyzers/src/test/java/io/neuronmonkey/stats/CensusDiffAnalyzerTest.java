package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CensusDiffAnalyzerTest {

    /** A hand-built activation-stats summary of one 3-neuron layer over 100 examples. */
    static AnalysisResult census(double[] mean, double[] std, double[] rate, List<Integer> dead) {
        List<Object> ns = new java.util.ArrayList<>();
        for (int c = 0; c < 3; c++) {
            ns.add(Map.of("index", c, "count", 100L, "mean", mean[c], "std", std[c], "firingRate", rate[c]));
        }
        Map<String, Object> layer = new LinkedHashMap<>();
        layer.put("name", "dense/1");
        layer.put("neurons", 3);
        layer.put("dead", dead);
        layer.put("alwaysOn", List.of());
        layer.put("neuronStats", ns);
        return AnalysisResult.builder().put("analyzer", "activation-stats").put("reduce", "mean").put("threshold", 0.0)
                .put("examples", 100L).put("layers", List.of(layer)).build();
    }

    static final AnalysisResult A = census(new double[]{1, 2, 0.5}, new double[]{1, 0.5, 0.2}, new double[]{0.9, 1, 0.3}, List.of());
    static final AnalysisResult B = census(new double[]{1.5, 2, 0}, new double[]{1, 0.5, 0}, new double[]{0.9, 1, 0}, List.of(2));

    record Ctx(CensusDiffAnalyzer.Params params, Map<String, AnalysisResult> inputs, Path dir) implements AnalyzerContext<CensusDiffAnalyzer.Params> {
        public String stepId() {
            return "diff";
        }

        public Optional<LoadedModel> model() {
            return Optional.empty();
        }

        public Optional<Dataset> data() {
            return Optional.empty();
        }

        public List<LayerInfo> layers() {
            return List.of();
        }

        public int batchSize() {
            return 1;
        }

        public Path workDir() {
            return dir;
        }

        public Path resolve(String path) {
            return dir.resolve(path);
        }

        public long seed() {
            return 1;
        }

        public ProgressReporter progress() {
            return ProgressReporter.NONE;
        }
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> layerList(AnalysisResult r, String key) {
        return (List<Map<String, Object>>) ((List<Map<String, Object>>) r.summary().get("layers")).get(0).get(key);
    }

    @Test
    void ranksNeuronsByStandardizedShiftAndListsClassChanges() {
        Map<String, AnalysisResult> in = new LinkedHashMap<>();
        in.put("before", A);
        in.put("after", B);
        AnalysisResult r = new CensusDiffAnalyzer().analyze(new Ctx(new CensusDiffAnalyzer.Params(null, 10), in, Path.of(".")));
        assertEquals("census-diff", r.summary().get("analyzer"));
        List<Map<String, Object>> top = layerList(r, "top");
        // neuron 2: (0 - 0.5) / sqrt((99 * 0.04 + 0) / 198) = -0.5 / sqrt(0.02); neuron 0: 0.5 / 1; neuron 1: 0
        assertEquals(List.of(2, 0, 1), top.stream().map(m -> m.get("neuron")).toList());
        assertEquals(-0.5 / Math.sqrt(0.02), (double) top.get(0).get("shift"), 1e-12);
        assertEquals(0.5, (double) top.get(1).get("shift"), 1e-12);
        assertEquals(-0.3, (double) top.get(0).get("firingRateChange"), 1e-12);
        List<Map<String, Object>> changed = layerList(r, "changedClass");
        assertEquals(1, changed.size());
        assertEquals(2, changed.get(0).get("neuron"));
        assertEquals(List.of(), changed.get(0).get("flagsA"));
        assertEquals(List.of("dead"), changed.get(0).get("flagsB"));
        assertEquals((float) (-0.5 / Math.sqrt(0.02)), r.array("dense_1-shift").orElseThrow().floats()[2], 1e-6f);
    }

    @Test
    void readsABaselineFromResultJsonAndNpyFiles(@TempDir Path dir) throws IOException {
        // the baseline as the runtime writes it, with per-neuron values in .npy arrays only (no neuronStats)
        Path step = dir.resolve("old-run/census");
        Files.createDirectories(step);
        writeNpy(step.resolve("dense_1-mean.npy"), new float[]{1, 2, 0.5f});
        writeNpy(step.resolve("dense_1-std.npy"), new float[]{1, 0.5f, 0.2f});
        writeNpy(step.resolve("dense_1-firing-rate.npy"), new float[]{0.9f, 1, 0.3f});
        String json = """
                {
                  "step" : "census",
                  "analyzer" : "activation-stats",
                  "arrays" : {
                    "dense_1-mean" : {"file" : "dense_1-mean.npy", "shape" : [ 3 ], "dtype" : "float32"},
                    "dense_1-std" : {"file" : "dense_1-std.npy", "shape" : [ 3 ], "dtype" : "float32"},
                    "dense_1-firing-rate" : {"file" : "dense_1-firing-rate.npy", "shape" : [ 3 ], "dtype" : "float32"}
                  },
                  "summary" : {
                    "analyzer" : "activation-stats", "reduce" : "mean", "threshold" : 0.0, "examples" : 100,
                    "note" : "escaped \\"quote\\" and \\u00e9",
                    "layers" : [ {
                      "name" : "dense/1", "neurons" : 3, "dead" : [ ], "alwaysOn" : [ ], "min" : "NaN",
                      "arrays" : {"mean" : "dense_1-mean", "std" : "dense_1-std", "firingRate" : "dense_1-firing-rate"}
                    } ]
                  }
                }
                """;
        Files.writeString(step.resolve("result.json"), json, StandardCharsets.UTF_8);
        AnalysisResult r = new CensusDiffAnalyzer().analyze(new Ctx(new CensusDiffAnalyzer.Params("old-run/census", 2),
                Map.of("census", B), dir));
        List<Map<String, Object>> top = layerList(r, "top");
        assertEquals(2, top.size(), "top: 2");
        assertEquals(2, top.get(0).get("neuron"));
        assertEquals(-0.5 / Math.sqrt((99 * (double) (0.2f * 0.2f)) / 198), (double) top.get(0).get("shift"), 1e-6);
        assertEquals(1.0, (double) top.get(1).get("meanA"), 0.0);
        @SuppressWarnings("unchecked")
        Map<String, Object> a = (Map<String, Object>) r.summary().get("a");
        assertTrue(((String) a.get("source")).startsWith("baseline "), a.toString());
        assertEquals(List.of("dead"), layerList(r, "changedClass").get(0).get("flagsB"));
    }

    @Test
    void missingOrWrongInputsAreNamedInTheError() {
        AnalysisException one = assertThrows(AnalysisException.class, () -> new CensusDiffAnalyzer().analyze(
                new Ctx(new CensusDiffAnalyzer.Params(null, 10), Map.of("census", A), Path.of("."))));
        assertTrue(one.getMessage().contains("step 'diff'") && one.getMessage().contains("[census]"), one.getMessage());
        Map<String, AnalysisResult> in = new LinkedHashMap<>();
        in.put("census", A);
        in.put("tops", AnalysisResult.builder().put("analyzer", "top-activations").build());
        AnalysisException wrong = assertThrows(AnalysisException.class, () -> new CensusDiffAnalyzer().analyze(
                new Ctx(new CensusDiffAnalyzer.Params(null, 10), in, Path.of("."))));
        assertTrue(wrong.getMessage().contains("step 'tops'") && wrong.getMessage().contains("not an activation-stats"),
                wrong.getMessage());
        AnalysisException noFile = assertThrows(AnalysisException.class, () -> new CensusDiffAnalyzer().analyze(
                new Ctx(new CensusDiffAnalyzer.Params("nowhere/result.json", 10), Map.of("census", A), Path.of("/tmp/none"))));
        assertTrue(noFile.getMessage().contains("nowhere"), noFile.getMessage());
    }

    @Test
    void jsonReaderHandlesNestingEscapesAndJacksonNonFiniteStrings() {
        Object v = ResultFiles.parse("{\"a\": [1, -2.5e3, true, null, \"x\\ny\"], \"b\": {\"c\": \"NaN\"}}");
        assertEquals(Map.of("a", java.util.Arrays.asList(1L, -2500.0, true, null, "x\ny"), "b", Map.of("c", "NaN")), v);
        assertTrue(Double.isNaN(ResultFiles.number("NaN")));
        assertEquals(Double.NEGATIVE_INFINITY, ResultFiles.number("-Infinity"));
    }

    /** NumPy format 1.0, '<f4', C order, header padded to a multiple of 64 bytes, as the runtime's writer does. */
    static void writeNpy(Path file, float[] data) throws IOException {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + data.length + ",), }";
        int unpadded = 6 + 2 + 2 + dict.length() + 1;
        String header = dict + " ".repeat((64 - unpadded % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + 4 * data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII));
        b.asFloatBuffer().put(data);
        Files.write(file, b.array());
        Tensor back = ResultFiles.readNpy(file);
        assertEquals(data.length, back.size());
    }
}
