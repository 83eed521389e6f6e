package io.neuronmonkey.concepts;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.attribution.TestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConceptVectorsAnalyzerTest {

    static LoadedModel model;
    static Dataset data;

    @BeforeAll
    static void load() {
        model = TestSupport.demoModel();
        data = TestSupport.shapes("decorrelated", 2000);
    }

    @AfterAll
    static void close() {
        data.close();
        model.close();
    }

    static ConceptVectorsAnalyzer.Params params(Map<String, Object> concepts, int randomSets, int conceptSize, List<String> classes,
                                                ConceptVectorsAnalyzer.Space reduce) {
        return new ConceptVectorsAnalyzer.Params(concepts, randomSets, conceptSize, classes, reduce, 0.05, 64, 10_000, 2000, 0.2, 1.0);
    }

    static Map<String, Object> where(String key, String value) {
        return Map.of("where", Map.of(key, value));
    }

    static AnalysisResult run(ConceptVectorsAnalyzer.Params p, List<String> layers, long seed) {
        return new ConceptVectorsAnalyzer().analyze(new ConceptTestContext<>(p, model, data, layers, Map.of(), seed));
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> tests(AnalysisResult r) {
        return (List<Map<String, Object>>) r.summary().get("tests");
    }

    static Map<String, Object> test(AnalysisResult r, String concept, String layer, String cls) {
        return tests(r).stream().filter(t -> t.get("concept").equals(concept) && t.get("layer").equals(layer)
                && t.get("class").equals(cls)).findFirst().orElseThrow();
    }

    @Test
    void watermarkRaisesSquareAtConv2AndNoOtherClass() {
        AnalysisResult r = run(params(Map.of("watermark", where("watermark", "on")), 20, 64, List.of(),
                ConceptVectorsAnalyzer.Space.FLATTENED), List.of("conv1", "conv2", "dense1"), 42);
        for (Map<String, Object> t : tests(r)) {
            System.out.println("TCAV " + t);
        }
        // the model's shortcut: the watermark direction at conv2 raises 'square' for (nearly) every square example
        Map<String, Object> square = test(r, "watermark", "conv2", "square");
        assertTrue((double) square.get("q") < 0.05, "square at conv2: " + square);
        assertTrue((double) square.get("difference") > 0 && (double) square.get("score") > 0.9, "square at conv2: " + square);
        // no other class is raised like it; the competing 'triangle' and 'cross' logits are significantly lowered
        for (String other : List.of("circle", "triangle", "cross")) {
            Map<String, Object> t = test(r, "watermark", "conv2", other);
            assertTrue((double) t.get("score") < 0.8, other + " at conv2: " + t);
            assertTrue((double) t.get("difference") < 0.6 * (double) square.get("difference"), other + " at conv2: " + t);
        }
        for (String lowered : List.of("triangle", "cross")) {
            Map<String, Object> t = test(r, "watermark", "conv2", lowered);
            assertTrue((double) t.get("q") < 0.05 && (double) t.get("difference") < 0, lowered + " at conv2: " + t);
        }
        // the matrices hold the same numbers as the tests
        Matrix score = r.part("tcav-watermark", Matrix.class).orElseThrow();
        Matrix q = r.part("tcav-q-watermark", Matrix.class).orElseThrow();
        assertEquals((double) square.get("score"), score.get(1, 1), 1e-6);
        assertEquals((double) square.get("q"), q.get(1, 1), 1e-6);
        Matrix acc = r.part("cav-accuracy", Matrix.class).orElseThrow();
        System.out.println("CAV accuracy conv1 " + acc.get(0, 0) + " conv2 " + acc.get(0, 1) + " dense1 " + acc.get(0, 2));
        assertTrue(acc.get(0, 1) > 0.9, "a watermark CAV at conv2 separates watermarked examples: " + acc.get(0, 1));
        // conv2 #4 tracks the watermark: it leads the CAV's channels
        Ranking top = r.part("cav-watermark-conv2", Ranking.class).orElseThrow();
        System.out.println("conv2 channels " + top.entries().subList(0, 3));
        assertEquals(4, top.entries().get(0).neuron().neuron());
        Finding f = r.findings().stream().filter(x -> x.severity() == Finding.Severity.NOTABLE
                && x.claim().contains("conv2 raises 'square'")).findFirst().orElseThrow();
        System.out.println(f.claim());
    }

    @Test
    void sameSeedSameScoresAndConceptOrderChangesNothing() {
        Map<String, Object> ab = new LinkedHashMap<>();
        ab.put("watermark", where("watermark", "on"));
        ab.put("tagA", where("tag", "a"));
        Map<String, Object> ba = new LinkedHashMap<>();
        ba.put("tagA", where("tag", "a"));
        ba.put("watermark", where("watermark", "on"));
        List<String> layers = List.of("conv2", "dense1");
        AnalysisResult first = run(params(ab, 4, 32, List.of("square", "circle"), ConceptVectorsAnalyzer.Space.FLATTENED), layers, 7);
        AnalysisResult again = run(params(ab, 4, 32, List.of("square", "circle"), ConceptVectorsAnalyzer.Space.FLATTENED), layers, 7);
        AnalysisResult swapped = run(params(ba, 4, 32, List.of("square", "circle"), ConceptVectorsAnalyzer.Space.FLATTENED), layers, 7);
        AnalysisResult other = run(params(ab, 4, 32, List.of("square", "circle"), ConceptVectorsAnalyzer.Space.FLATTENED), layers, 8);
        assertEquals(tests(first), tests(again));
        assertEquals(first.summary(), again.summary());
        assertEquals(8, tests(first).size());
        for (Map<String, Object> t : tests(first)) {
            Map<String, Object> s = test(swapped, (String) t.get("concept"), (String) t.get("layer"), (String) t.get("class"));
            assertEquals(t, s);
        }
        assertTrue(!tests(first).equals(tests(other)), "another seed draws other sets");
    }

    @Test
    void channelMeanCavsSeparateTheWatermarkAndWeighItsChannelTowardsIt() {
        AnalysisResult r = run(params(Map.of("watermark", where("watermark", "on")), 20, 64, List.of("square", "circle"),
                ConceptVectorsAnalyzer.Space.CHANNEL_MEAN), List.of("conv2"), 42);
        tests(r).forEach(t -> System.out.println("TCAV channel-mean " + t));
        Ranking top = r.part("cav-watermark-conv2", Ranking.class).orElseThrow();
        top.entries().forEach(e -> System.out.println("channel-mean CAV " + e.neuron() + " " + e.score()));
        // the watermark brightens most channels' means a little, so the CAV spreads over many channels; the
        // watermark channel #4 is among them, with an interval above 0
        Ranking.Entry four = top.entries().stream().filter(e -> e.neuron().neuron() == 4).findFirst().orElseThrow();
        assertTrue(four.interval().low() > 0, four.toString());
        assertEquals(16, top.entries().size());
        double accuracy = r.part("cav-accuracy", Matrix.class).orElseThrow().get(0, 0);
        System.out.println("channel-mean CAV accuracy conv2 " + accuracy);
        assertTrue(accuracy > 0.7, "channel-mean CAV accuracy well above chance: " + accuracy);
        assertEquals(2, tests(r).size());
    }

    @Test
    void nullConceptFindsNothingOverSeeds() {
        int discoveries = 0;
        int tested = 0;
        for (long seed = 1; seed <= 3; seed++) {
            AnalysisResult r = run(params(Map.of("tagA", where("tag", "a")), 20, 64, List.of(), ConceptVectorsAnalyzer.Space.FLATTENED),
                    List.of("conv2", "dense1"), seed);
            discoveries += ((Number) r.summary().get("significant")).intValue();
            tested += tests(r).size();
        }
        System.out.println("null control: " + discoveries + " discoveries in " + tested + " tests over 3 seeds");
        // with no true effect every discovery is false; at FDR 5% a run makes any at most 5% of the time in
        // expectation, so more than 3 in 3 runs of 8 tests would mean the error control is broken
        assertTrue(discoveries <= 3, discoveries + " false discoveries");
    }

    @Test
    void badInputIsNamed() {
        AnalysisException none = assertThrows(AnalysisException.class, () -> run(params(Map.of("wm", where("watermark", "maybe")), 4, 32,
                List.of(), ConceptVectorsAnalyzer.Space.FLATTENED), List.of("conv2"), 1));
        assertTrue(none.getMessage().contains("concept 'wm'") && none.getMessage().contains("matches 0 examples"), none.getMessage());

        AnalysisException few = assertThrows(AnalysisException.class, () -> run(params(Map.of("wm", where("watermark", "on")), 4, 1500,
                List.of(), ConceptVectorsAnalyzer.Space.FLATTENED), List.of("conv2"), 1));
        assertTrue(few.getMessage().matches(".*concept 'wm' .* has \\d+ examples, fewer than conceptSize 1500.*"), few.getMessage());

        AnalysisException cls = assertThrows(AnalysisException.class, () -> run(params(Map.of("wm", where("watermark", "on")), 4, 32,
                List.of("hexagon"), ConceptVectorsAnalyzer.Space.FLATTENED), List.of("conv2"), 1));
        assertTrue(cls.getMessage().contains("'hexagon'") && cls.getMessage().contains("circle, square, triangle, cross"), cls.getMessage());

        AnalysisException key = assertThrows(AnalysisException.class, () -> run(params(Map.of("wm", where("colour", "red")), 4, 32,
                List.of(), ConceptVectorsAnalyzer.Space.FLATTENED), List.of("conv2"), 1));
        assertTrue(key.getMessage().contains("'colour'"), key.getMessage());

        AnalysisException label = assertThrows(AnalysisException.class, () -> run(params(Map.of("hex", Map.of("label", "hexagon")), 4, 32,
                List.of(), ConceptVectorsAnalyzer.Space.FLATTENED), List.of("conv2"), 1));
        assertTrue(label.getMessage().contains("label 'hexagon'"), label.getMessage());

        AnalysisException set = assertThrows(AnalysisException.class, () -> run(params(Map.of("st", Map.of("data", "stripes")), 4, 32,
                List.of(), ConceptVectorsAnalyzer.Space.FLATTENED), List.of("conv2"), 1));
        assertTrue(set.getMessage().contains("'stripes'") && set.getMessage().contains("valid: probe"), set.getMessage());

        InvalidParamsException two = assertThrows(InvalidParamsException.class, () -> params(
                Map.of("x", Map.of("label", "square", "data", "probe")), 4, 32, List.of(), ConceptVectorsAnalyzer.Space.FLATTENED));
        assertTrue(two.getMessage().contains("concept 'x' needs exactly one of"), two.getMessage());
        InvalidParamsException empty = assertThrows(InvalidParamsException.class, () -> params(
                Map.of(), 1, 2, List.of(), ConceptVectorsAnalyzer.Space.FLATTENED));
        assertTrue(empty.getMessage().contains("concepts") && empty.getMessage().contains("randomSets")
                && empty.getMessage().contains("conceptSize"), empty.getMessage());
    }

    @Test
    void labelAndDataConceptsUseTheirExamples() {
        try (Dataset train = TestSupport.shapes("train", 400)) {
            Map<String, Object> concepts = new LinkedHashMap<>();
            concepts.put("squares", Map.of("label", "square"));
            concepts.put("trainset", Map.of("data", "train"));
            ConceptVectorsAnalyzer.Params p = params(concepts, 4, 32, List.of("square", "circle"), ConceptVectorsAnalyzer.Space.FLATTENED);
            AnalysisResult r = new ConceptVectorsAnalyzer().analyze(new ConceptTestContext<>(p, model, data, List.of("dense1"),
                    Map.of("train", train), 3));
            @SuppressWarnings("unchecked")
            Map<String, Map<String, Object>> c = (Map<String, Map<String, Object>>) r.summary().get("concepts");
            assertEquals(400, c.get("trainset").get("examples"));
            assertEquals(2000, c.get("trainset").get("randomPool"));
            int squares = (int) c.get("squares").get("examples");
            assertEquals(2000 - squares, c.get("squares").get("randomPool"));
            // the class itself as a concept: its CAV at the last hidden layer raises its own logit
            Map<String, Object> own = test(r, "squares", "dense1", "square");
            assertTrue((double) own.get("score") > 0.9, own.toString());
            assertEquals(4, tests(r).size());
        }
    }
}
