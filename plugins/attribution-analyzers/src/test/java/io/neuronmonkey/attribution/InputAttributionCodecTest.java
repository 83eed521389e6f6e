package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.InputMaps;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.runtime.store.ResultCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.reflect.RecordComponent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every input-attribution analyzer's real result, written by the runtime's codec and read back, is the same result:
 * parts (with the ids the report relies on), findings and summary.
 */
class InputAttributionCodecTest {

    static final String SHARED = "limit: 12\nkeep: 6\ngroupBy: [watermark]\nroi: [24, 24, 26, 26]\ndeletionExamples: 5\n"
            + "deletionSteps: 4\nrandomOrders: 2\nsanityExamples: 3\n";

    @Test
    void everyAnalyzersResultReadsBackEqual(@TempDir Path dir) throws Exception {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 24)) {
            boolean randomizes = !m.parameterCounts().isEmpty();
            String sanity = randomizes ? "" : "sanity: false\n";
            check(roundTrip(run(new IntegratedGradientsAnalyzer(), IntegratedGradientsAnalyzer.Params.class,
                    SHARED + sanity + "steps: 8\nbaselines: [zero, 'blur:2', mean, 'noise:2', 'constant:0.5']\nrule: trapezoid\n", m, d), dir, "ig"),
                    randomizes, "completeness");
            check(roundTrip(run(new SaliencyAnalyzer(), SaliencyAnalyzer.Params.class, SHARED + sanity + "absolute: false\n", m, d), dir,
                    "saliency"), randomizes);
            check(roundTrip(run(new GradientTimesInputAnalyzer(), GradientTimesInputAnalyzer.Params.class, SHARED + sanity
                    + "target: 'class:square'\n", m, d), dir, "gxi"), randomizes);
            check(roundTrip(run(new SmoothGradAnalyzer(), SmoothGradAnalyzer.Params.class, SHARED + sanity
                    + "samples: 3\ntarget: 'neuron:conv2:4'\n", m, d), dir, "smoothgrad"), randomizes);
            check(roundTrip(run(new GradCamAnalyzer(), GradCamAnalyzer.Params.class, SHARED + sanity + "layer: conv2\n", m, d), dir,
                    "gradcam"), randomizes);
            AnalysisResult occlusion = roundTrip(run(new OcclusionAnalyzer(), OcclusionAnalyzer.Params.class, SHARED
                    + "patch: 3\nstride: 3\n", m, d), dir, "occlusion");
            check(occlusion, false);
            assertEquals("not run (sanity: false)", occlusion.summary().get("sanity"));
        }
    }

    static <P extends Record> AnalysisResult run(Analyzer<P> a, Class<P> type, String yaml, LoadedModel m, Dataset d) {
        return InputFixtures.run(a, InputFixtures.bind(type, yaml), m, d, 5);
    }

    static void check(AnalysisResult r, boolean randomizes, String... more) {
        assertTrue(List.of("integrated-gradients", "saliency", "gradient-x-input", "smoothgrad", "grad-cam", "occlusion")
                .contains(r.summary().get("analyzer")), String.valueOf(r.summary().get("analyzer")));
        InputMaps maps = r.part("maps", InputMaps.class).orElseThrow();
        assertEquals(6, maps.exampleIds().size());
        assertEquals(List.of("example", "height", "width", "channel"), maps.maps().dims());
        assertTrue(r.part("class-mean", InputMaps.class).isPresent());
        assertEquals(List.of("watermark=off", "watermark=on"), r.part("group-mean-watermark", InputMaps.class).orElseThrow()
                .exampleIds().stream().sorted().toList());
        assertEquals(12, r.part("roi", Matrix.class).orElseThrow().rows().size());
        assertTrue(r.part("deletion", Series.class).isPresent() && r.part("insertion", Series.class).isPresent());
        assertEquals(randomizes, r.part("sanity", Series.class).isPresent());
        for (String id : more) {
            assertTrue(r.parts().stream().anyMatch(p -> p.id().equals(id)), id);
        }
        List<String> findings = r.findings().stream().map(f -> f.id()).toList();
        assertTrue(findings.containsAll(List.of("roi-share", "deletion")), findings.toString());
    }

    static AnalysisResult roundTrip(AnalysisResult r, Path dir, String step) throws Exception {
        Path folder = Files.createDirectories(dir.resolve(step));
        ResultCodec.write(r, folder, Map.of("step", step));
        AnalysisResult back = ResultCodec.read(folder);
        assertEquals(tree(r.parts()), tree(back.parts()), step + " parts");
        assertEquals(tree(r.findings()), tree(back.findings()), step + " findings");
        assertEquals(tree(r.summary()), tree(back.summary()), step + " summary");
        return back;
    }

    /** A value as a plain tree: records by component, tensors by dtype, shape and contents, numbers as doubles. */
    static Object tree(Object o) throws Exception {
        if (o == null || o instanceof String || o instanceof Boolean || o instanceof Enum<?>) {
            return o == null ? null : o.toString();
        }
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        if (o instanceof Tensor t) {
            List<Object> values = new ArrayList<>();
            for (int i = 0; i < t.size(); i++) {
                values.add(t.dtype() == io.neuronmonkey.api.tensor.DType.FLOAT32 ? Float.valueOf(t.floats()[i]) : t.ints()[i]);
            }
            return List.of(t.dtype().toString(), java.util.Arrays.toString(t.shape()), values);
        }
        if (o instanceof int[] a) {
            return java.util.Arrays.toString(a);
        }
        if (o instanceof double[] a) {
            return java.util.Arrays.toString(a);
        }
        if (o instanceof List<?> list) {
            List<Object> out = new ArrayList<>();
            for (Object x : list) {
                out.add(tree(x));
            }
            return out;
        }
        if (o instanceof Map<?, ?> map) {
            Map<String, Object> out = new TreeMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                out.put(String.valueOf(e.getKey()), tree(e.getValue()));
            }
            return out;
        }
        if (o instanceof Record rec) {
            Map<String, Object> out = new TreeMap<>();
            out.put("@type", rec.getClass().getSimpleName());
            for (RecordComponent c : rec.getClass().getRecordComponents()) {
                out.put(c.getName(), tree(c.getAccessor().invoke(rec)));
            }
            return out;
        }
        throw new IllegalArgumentException("no tree for " + o.getClass());
    }
}
