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

    /** A context whose disk holds {@code saved} results by resolved path (the runtime reads result.json + .npy). */
    record Ctx(CensusDiffAnalyzer.Params params, Map<String, AnalysisResult> inputs, Path dir, Map<Path, AnalysisResult> saved)
            implements AnalyzerContext<CensusDiffAnalyzer.Params> {
        Ctx(CensusDiffAnalyzer.Params params, Map<String, AnalysisResult> inputs, Path dir) {
            this(params, inputs, dir, Map.of());
        }

        public AnalysisResult readResult(Path path) {
            AnalysisResult r = saved.get(path);
            if (r == null) {
                throw new AnalysisException("no result at " + path);
            }
            return r;
        }

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
    void readsABaselineFromAnEarlierRunWithPerNeuronValuesInArraysOnly() {
        // the baseline as the runtime reads it back from disk: per-neuron values in arrays only (no neuronStats), and
        // non-finite numbers as the strings they are written with
        Map<String, Object> layer = new LinkedHashMap<>();
        layer.put("name", "dense/1");
        layer.put("neurons", 3);
        layer.put("dead", List.of());
        layer.put("alwaysOn", List.of());
        layer.put("min", "NaN");
        layer.put("arrays", Map.of("mean", "dense_1-mean", "std", "dense_1-std", "firingRate", "dense_1-firing-rate"));
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("analyzer", "activation-stats");
        summary.put("reduce", "mean");
        summary.put("threshold", 0.0);
        summary.put("examples", 100);
        summary.put("layers", List.of(layer));
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        arrays.put("dense_1-mean", Tensor.ofFloats(new float[]{1, 2, 0.5f}, 3));
        arrays.put("dense_1-std", Tensor.ofFloats(new float[]{1, 0.5f, 0.2f}, 3));
        arrays.put("dense_1-firing-rate", Tensor.ofFloats(new float[]{0.9f, 1, 0.3f}, 3));
        Path dir = Path.of("/runs");
        AnalysisResult r = new CensusDiffAnalyzer().analyze(new Ctx(new CensusDiffAnalyzer.Params("old-run/census", 2),
                Map.of("census", B), dir, Map.of(dir.resolve("old-run/census"), AnalysisResult.of(summary, arrays))));
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
    void numbersIncludeTheQuotedNonFiniteValuesResultsAreWrittenWith() {
        assertEquals(2.5, CensusDiffAnalyzer.number(2.5));
        assertEquals(7.0, CensusDiffAnalyzer.number(7L));
        assertTrue(Double.isNaN(CensusDiffAnalyzer.number("NaN")));
        assertEquals(Double.NEGATIVE_INFINITY, CensusDiffAnalyzer.number("-Infinity"));
        assertEquals(Double.POSITIVE_INFINITY, CensusDiffAnalyzer.number("Infinity"));
        assertTrue(Double.isNaN(CensusDiffAnalyzer.number(null)));
    }
}
