package io.neuronmonkey.concepts;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.attribution.TestSupport;
import io.neuronmonkey.tensorflow.TensorFlowBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PolysemanticityAnalyzerTest {

    private static PolysemanticityAnalyzer.Params params(List<String> neurons, PolysemanticityAnalyzer.Pattern pattern) {
        PolysemanticityAnalyzer.Params d = PolysemanticityAnalyzer.Params.defaults();
        return new PolysemanticityAnalyzer.Params(d.k(), neurons, d.patternLayer(), pattern, d.referenceSamples(),
                d.maxClusters(), d.minSilhouette(), d.minClusterShare(), d.reduce(), d.maxValues(), d.alpha(),
                d.includeInputs(), d.where(), d.limit());
    }

    private static AnalysisResult run(LoadedModel m, Dataset d, List<String> layers, PolysemanticityAnalyzer.Params p, Path dir) {
        return new PolysemanticityAnalyzer().analyze(new TestSupport.Context<>("poly", p, m, d, layers, 64, dir));
    }

    /**
     * Training shapes (the watermark on most squares, few others) without the examples that carry both the watermark
     * and stripes: the two planted features never co-occur, as features sharing a neuron rarely do.
     */
    private static Dataset planted() {
        return PolysemanticityModels.without(TestSupport.shapes("train", 600), (b, r) ->
                b.metadata().get(r).get("watermark").equals("on") && b.metadata().get(r).get("texture").equals("striped"));
    }

    private static LoadedModel plantedModel(Path dir) {
        PolysemanticityModels.export(dir.resolve("planted"));
        return TestSupport.loadModel(dir.resolve("planted"), TensorFlowBackend.Params.defaults());
    }

    private static List<Integer> tag(NeuronTable t, String name) {
        return t.tags().stream().filter(g -> g.name().equals(name)).findFirst().orElseThrow().neurons();
    }

    @Test
    void thePlantedDetectorsFireOnWhatTheyWereBuiltFor(@TempDir Path dir) {
        try (LoadedModel m = plantedModel(dir); Dataset d = planted()) {
            int striped = 0;
            int stripedFired = 0;
            int stripedSaturated = 0;
            for (Iterator<Batch> it = d.batches(100); it.hasNext(); ) {
                Batch b = it.next();
                Map<String, Tensor> run = m.run(b.inputs(), List.of("features", "mixed"));
                float[] f = run.get("features").floats();
                float[] mixed = run.get("mixed").floats();
                float[] w = PolysemanticityModels.mixing();
                for (int e = 0; e < b.size(); e++) {
                    float[] pool = new float[3];
                    for (int q = 0; q < 28 * 28; q++) {
                        for (int c = 0; c < 3; c++) {
                            pool[c] = Math.max(pool[c], f[(e * 784 + q) * 3 + c]);
                        }
                    }
                    for (int o = 0; o < 3; o++) {
                        float expected = Math.max(0, pool[0] * w[o] + pool[1] * w[3 + o] + pool[2] * w[6 + o]);
                        assertEquals(expected, mixed[e * 3 + o], 1e-4, "mixed #" + o + " is the global max pool times the known weights");
                    }
                    Map<String, String> md = b.metadata().get(e);
                    assertEquals(md.get("watermark").equals("on"), pool[0] > 5.99f, "channel 0 saturates exactly on the watermark: " + md);
                    boolean isStriped = md.get("texture").equals("striped");
                    assertTrue(isStriped || pool[1] == 0, "channel 1 stays silent without stripes: " + md);
                    striped += isStriped ? 1 : 0;
                    stripedFired += isStriped && pool[1] > 0 ? 1 : 0;
                    stripedSaturated += isStriped && pool[1] > 5.99f ? 1 : 0;
                }
            }
            assertTrue(stripedFired >= 0.9 * striped, stripedFired + " of " + striped + " striped examples fire channel 1");
            assertTrue(stripedSaturated >= 0.75 * striped, stripedSaturated + " of " + striped + " striped examples saturate channel 1");
        }
    }

    @Test
    void callsThePlantedMixedNeuronPolysemanticAndTheSingleFeatureNeuronsMonosemantic(@TempDir Path dir) {
        try (LoadedModel m = plantedModel(dir); Dataset d = planted()) {
            AnalysisResult r = run(m, d, List.of("mixed"), params(null, PolysemanticityAnalyzer.Pattern.CONTRIBUTION), dir);
            NeuronTable t = r.part("mixed-polysemanticity", NeuronTable.class).orElseThrow();
            assertEquals(List.of(0), tag(t, "polysemantic"));
            assertEquals(List.of(1, 2), tag(t, "monosemantic"));
            assertEquals(2, t.column("clusters").orElseThrow().values().get(0));
            assertEquals(1, t.column("clusters").orElseThrow().values().get(1));
            assertTrue(t.column("silhouette").orElseThrow().values().get(0) > 0.95);
            assertTrue(t.column("silhouette").orElseThrow().values().get(0) > t.column("reference-silhouette").orElseThrow().values().get(0));
            assertEquals(2, t.column("metadata-groups").orElseThrow().values().get(0), "metadata alone finds the two groups too");
            assertEquals(1, t.column("metadata-groups").orElseThrow().values().get(1));

            ExampleSet set = r.part("mixed-clusters", ExampleSet.class).orElseThrow();
            List<ExampleSet.Example> top = set.of(0).orElseThrow().examples();
            assertEquals(50, top.size());
            Map<Object, String> clusterOf = new HashMap<>();
            for (ExampleSet.Example e : top) {
                String group = e.metadata().get("watermark").equals("on") ? "watermark" : "stripes";
                assertEquals("stripes".equals(group), e.metadata().get("texture").equals("striped"), "every top example has one feature: " + e.metadata());
                String before = clusterOf.putIfAbsent(e.metadata().get("cluster"), group);
                assertTrue(before == null || before.equals(group), "a cluster holds one feature only");
            }
            assertEquals(2, clusterOf.size());
            assertEquals(List.of(3, 50, 28, 28, 1), java.util.Arrays.stream(set.inputs().data().shape()).boxed().toList());
            assertInputsAreTheExamples(d, set);

            Finding f = r.findings().stream().filter(x -> x.severity() == Finding.Severity.NOTABLE).findFirst().orElseThrow();
            assertEquals(List.of(new NeuronRef("mixed", 0)), f.neurons());
            assertTrue(f.claim().startsWith("mixed #0 responds to 2 groups: "), f.claim());
            assertTrue(f.claim().contains("watermark=on (") && f.claim().contains("texture=striped ("), f.claim());
            assertEquals(1, r.findings().stream().filter(x -> x.severity() == Finding.Severity.NOTABLE).count());
            assertTrue(r.findings().stream().anyMatch(x -> x.severity() == Finding.Severity.INFO
                    && x.claim().startsWith("mixed: 1 of 3 analyzed neurons polysemantic")));
        }
    }

    private static void assertInputsAreTheExamples(Dataset d, ExampleSet set) {
        Map<String, float[]> byId = new HashMap<>();
        for (Iterator<Batch> it = d.batches(200); it.hasNext(); ) {
            Batch b = it.next();
            for (int e = 0; e < b.size(); e++) {
                byId.put(b.ids().get(e), java.util.Arrays.copyOfRange(b.inputs().floats(), e * 784, (e + 1) * 784));
            }
        }
        float[] all = set.inputs().floats();
        for (int n = 0; n < set.neurons().size(); n++) {
            List<ExampleSet.Example> ex = set.neurons().get(n).examples();
            for (int rank = 0; rank < ex.size(); rank += 7) {
                assertArrayEquals(byId.get(ex.get(rank).exampleId()),
                        java.util.Arrays.copyOfRange(all, (n * 50 + rank) * 784, (n * 50 + rank + 1) * 784));
            }
        }
    }

    @Test
    void theActivationPatternAlsoSplitsANeuronByAFeatureThatMerelyCoOccurs(@TempDir Path dir) {
        // mixed #2 reads brightness only; its brightest examples are solid shapes, a third of them watermarked squares:
        // their activation pattern splits by the watermark channel, which mixed #2 does not read at all
        try (LoadedModel m = plantedModel(dir); Dataset d = planted()) {
            AnalysisResult r = run(m, d, List.of("mixed"), params(null, PolysemanticityAnalyzer.Pattern.ACTIVATION), dir);
            NeuronTable t = r.part("mixed-polysemanticity", NeuronTable.class).orElseThrow();
            assertEquals(List.of(0, 2), tag(t, "polysemantic"));
            AnalysisResult c = run(m, d, List.of("mixed"), params(List.of("mixed:2"), PolysemanticityAnalyzer.Pattern.CONTRIBUTION), dir);
            NeuronTable ct = c.part("mixed-polysemanticity", NeuronTable.class).orElseThrow();
            assertEquals(List.of(2), tag(ct, "monosemantic"));
            assertTrue(Double.isNaN(ct.column("clusters").orElseThrow().values().get(0)), "neurons not listed are not analyzed");
        }
    }

    @Test
    void callsTheDemoWatermarkChannelMonosemantic(@TempDir Path dir) {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 1000)) {
            for (PolysemanticityAnalyzer.Pattern pattern : PolysemanticityAnalyzer.Pattern.values()) {
                AnalysisResult r = run(m, d, List.of("conv2"), params(null, pattern), dir);
                NeuronTable t = r.part("conv2-polysemanticity", NeuronTable.class).orElseThrow();
                assertTrue(tag(t, "monosemantic").contains(4), pattern + ": conv2 #4 is monosemantic");
                assertEquals(1, t.column("metadata-groups").orElseThrow().values().get(4), "one metadata group: the watermark");
                List<ExampleSet.Example> top = r.part("conv2-clusters", ExampleSet.class).orElseThrow().of(4).orElseThrow().examples();
                assertTrue(top.stream().allMatch(e -> e.metadata().get("watermark").equals("on")));
                assertEquals("pool1", ((Map<?, ?>) r.summary().get("patternLayers")).get("conv2"));
            }
        }
    }

    @Test
    void selectsExamplesByWhereAndKeepsTheirPlaceInTheDataSet(@TempDir Path dir) {
        PolysemanticityAnalyzer.Params d = PolysemanticityAnalyzer.Params.defaults();
        PolysemanticityAnalyzer.Params p = new PolysemanticityAnalyzer.Params(8, List.of("conv2:4", "conv2:0"), null,
                PolysemanticityAnalyzer.Pattern.ACTIVATION, 0, 4, 0.75, 0.2, d.reduce(), 10, 0.01, false,
                Map.of("watermark", "off"), 60);
        try (LoadedModel m = TestSupport.demoModel(); Dataset data = TestSupport.shapes("decorrelated", 300)) {
            AnalysisResult r = run(m, data, List.of(), p, dir);
            assertEquals(60L, r.summary().get("examples"));
            ExampleSet set = r.part("conv2-clusters", ExampleSet.class).orElseThrow();
            assertEquals(null, set.inputs());
            assertEquals(List.of(0, 4), set.neurons().stream().map(ExampleSet.NeuronExamples::neuron).toList());
            // the top 8 by a plain sort of every selected example's max over positions (LayerActivations: checked against a loop)
            LayerActivations all = LayerActivations.collect(m, new io.neuronmonkey.api.data.ExampleFilter(data,
                    Map.of("watermark", "off"), 60, "s"), List.of(m.layer("conv2").orElseThrow()), LayerActivations.Reduce.MAX, 64, "s");
            for (int c : new int[] {0, 4}) {
                int ch = c;
                List<String> expected = IntStream.range(0, all.examples()).boxed()
                        .sorted(java.util.Comparator.<Integer>comparingDouble(e -> -all.of("conv2")[e * 16 + ch]).thenComparingInt(e -> e))
                        .limit(8).map(e -> all.ids().get(e)).toList();
                assertEquals(expected, set.of(c).orElseThrow().examples().stream().map(ExampleSet.Example::exampleId).toList());
            }
            for (ExampleSet.NeuronExamples ne : set.neurons()) {
                assertEquals(8, ne.examples().size());
                double previous = Double.POSITIVE_INFINITY;
                for (ExampleSet.Example e : ne.examples()) {
                    assertEquals("off", e.metadata().get("watermark"));
                    assertEquals("decorrelated-" + e.index(), e.exampleId(), "the index is the example's place in the data set");
                    assertTrue(e.value() <= previous);
                    previous = e.value();
                }
            }
        }
    }

    @Test
    void refusesBadParamsAndNeuronsTheModelDoesNotHave(@TempDir Path dir) {
        PolysemanticityAnalyzer.Params d = PolysemanticityAnalyzer.Params.defaults();
        assertThrows(InvalidParamsException.class, () -> new PolysemanticityAnalyzer.Params(2, null, null, d.pattern(), 19, 4,
                0.75, 0.2, d.reduce(), 10, 0.001, true, Map.of(), 10));
        assertThrows(InvalidParamsException.class, () -> params(List.of("conv2"), d.pattern()));
        assertThrows(InvalidParamsException.class, () -> new PolysemanticityAnalyzer.Params(50, null, null, d.pattern(), 19, 1,
                0.75, 0.6, d.reduce(), 10, 0.001, true, Map.of(), 10));
        assertEquals(new NeuronRef("conv2", 4), PolysemanticityAnalyzer.parseNeuron("conv2:4"));
        try (LoadedModel m = TestSupport.demoModel(); Dataset data = TestSupport.shapes("decorrelated", 10)) {
            AnalysisException e = assertThrows(AnalysisException.class, () -> run(m, data, List.of(), params(List.of("conv2:16"), d.pattern()), dir));
            assertTrue(e.getMessage().contains("0..15"), e.getMessage());
            e = assertThrows(AnalysisException.class, () -> run(m, data, List.of(), params(List.of("conv9:1"), d.pattern()), dir));
            assertTrue(e.getMessage().contains("conv9"), e.getMessage());
        }
    }

    @Test
    void silhouetteAndReferenceMatchClosedForms() {
        double[][] points = {{0}, {1}, {10}, {11}};
        PolysemanticityClusters.Clustering c = PolysemanticityClusters.withSilhouette(new int[] {0, 0, 1, 1}, 2,
                PolysemanticityClusters.distances(points));
        // point 0: a = 1, b = (10 + 11) / 2; point 1: a = 1, b = (9 + 10) / 2; the other two mirror them
        double expected = ((10.5 - 1) / 10.5 + (9.5 - 1) / 9.5) / 2;
        assertEquals(expected, c.silhouette(), 1e-12);
        assertEquals(expected, PolysemanticityClusters.best(points, 3, 1).silhouette(), 1e-12);

        java.util.Random rnd = new java.util.Random(5);
        double[][] segment = new double[50][1];
        for (double[] p : segment) {
            p[0] = rnd.nextDouble();
        }
        double observed = PolysemanticityClusters.best(segment, 4, 2).silhouette();
        assertTrue(observed > 0.55 && observed < 0.75, "a uniform segment splits with silhouette " + observed);
        double[] ref = PolysemanticityClusters.reference(segment, 4, 19, 3);
        assertTrue(java.util.Arrays.stream(ref).allMatch(x -> x > 0.5 && x < 0.8), java.util.Arrays.toString(ref));
    }

    @Test
    void overRepresentationIsTheBinomialTailAgainstTheBaseRate() {
        PolysemanticityMetadata meta = new PolysemanticityMetadata(10);
        for (int i = 0; i < 100; i++) {
            meta.count(Map.of("w", i < 20 ? "on" : "off", "x", Integer.toString(i)));
        }
        assertEquals(List.of("w"), meta.fields(), "a field of 100 values is not categorical");
        List<Map<String, String>> group = new java.util.ArrayList<>();
        for (int i = 0; i < 10; i++) {
            group.add(Map.of("w", i < 6 ? "on" : "off"));
        }
        List<PolysemanticityMetadata.Value> over = meta.overRepresented(group, 0.05);
        assertEquals(1, over.size());
        // P(X >= 6), X ~ Binomial(10, 0.2), summed by hand
        double p = 0;
        for (int x = 6; x <= 10; x++) {
            p += org.apache.commons.math3.util.CombinatoricsUtils.binomialCoefficientDouble(10, x) * Math.pow(0.2, x) * Math.pow(0.8, 10 - x);
        }
        assertEquals(p, over.get(0).p(), 1e-12);
        assertEquals("w=on", over.get(0).label());
        // chi-square: expected 2 on, 8 off; observed 6, 4
        double stat = (6 - 2) * (6 - 2) / 2.0 + (4 - 8) * (4 - 8) / 8.0;
        assertEquals(stat, meta.chiSquare(group, "w")[0], 1e-12);
        assertFalse(meta.chiSquare(group, "w")[1] > 0.01);
    }
}
