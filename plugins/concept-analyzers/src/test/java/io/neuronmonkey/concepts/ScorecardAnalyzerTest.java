package io.neuronmonkey.concepts;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.attribution.AblationAnalyzer;
import io.neuronmonkey.attribution.NeuronConductanceAnalyzer;
import io.neuronmonkey.attribution.TestSupport;
import io.neuronmonkey.stats.ActivationBreakdownAnalyzer;
import io.neuronmonkey.stats.TopActivationsAnalyzer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ScorecardAnalyzerTest {

    /** The real producers' results on the demo CNN (conv2), by step id. */
    static Map<String, AnalysisResult> producers;

    @BeforeAll
    static void runTheProducers(@TempDir Path dir) {
        producers = producers(dir);
    }

    /**
     * Runs top-activations, activation-breakdown (twice: two steps of the same kind), neuron-conductance, ablation and
     * polysemanticity on the demo CNN's conv2 over decorrelated shapes.
     */
    static Map<String, AnalysisResult> producers(Path dir) {
        Map<String, AnalysisResult> out = new LinkedHashMap<>();
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 400)) {
            out.put("top", stream(new TopActivationsAnalyzer(), new TopActivationsAnalyzer.Params(16, 0,
                    TopActivationsAnalyzer.Reduce.MAX, false, 0), m, d, dir));
            out.put("watermark-hunt", stream(new ActivationBreakdownAnalyzer(), new ActivationBreakdownAnalyzer.Params(
                    List.of("watermark"), 12, ActivationBreakdownAnalyzer.Reduce.MAX, 10), m, d, dir));
            out.put("texture-hunt", stream(new ActivationBreakdownAnalyzer(), new ActivationBreakdownAnalyzer.Params(
                    List.of("watermark", "texture"), 12, ActivationBreakdownAnalyzer.Reduce.MEAN, 10), m, d, dir));
            out.put("conductance", new NeuronConductanceAnalyzer().analyze(new TestSupport.Context<>("conductance",
                    new NeuronConductanceAnalyzer.Params("class:square", NeuronConductanceAnalyzer.Baseline.ZERO, 16, 4096,
                            Map.of(), 100, 10), m, d, List.of("conv2"), 64, dir)));
            out.put("ablation", new AblationAnalyzer().analyze(new TestSupport.Context<>("ablation",
                    new AblationAnalyzer.Params("conv2", IntStream.range(0, 16).boxed().toList(), null, 16,
                            AblationAnalyzer.Mode.ZERO, 0, "predicted", "square", Map.of(), 200, List.of(), 4096),
                    m, d, List.of(), 64, dir)));
            out.put("poly", new PolysemanticityAnalyzer().analyze(new TestSupport.Context<>("poly",
                    PolysemanticityAnalyzer.Params.defaults(), m, d, List.of("conv2"), 64, dir)));
        }
        return out;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static <P extends Record> AnalysisResult stream(StreamingAnalyzer<P> analyzer, P params, LoadedModel m, Dataset d, Path dir) {
        StreamingAnalyzer.Accumulator acc = analyzer.start(new TestSupport.Context<>("s", params, m, d, List.of("conv2"), 64, dir));
        for (Iterator<Batch> it = d.batches(64); it.hasNext(); ) {
            Batch b = it.next();
            acc.accept(new ActivationBatch(b, m.run(b.inputs(), List.of("conv2"))));
        }
        return acc.finish();
    }

    private static AnalysisResult scorecard(Map<String, AnalysisResult> inputs, ScorecardAnalyzer.Params p, Path dir) {
        return new ScorecardAnalyzer().analyze(new TestSupport.Context<>("scorecard", p, null, null, List.of(), 64, inputs, dir, 42));
    }

    private static double[] column(NeuronTable t, String name) {
        NdArray v = t.column(name).orElseThrow(() -> new AssertionError("no column " + name + " in " + t.columns().stream()
                .map(NeuronTable.Column::name).toList())).values();
        return IntStream.range(0, v.size()).mapToDouble(v::get).toArray();
    }

    private static List<Integer> tag(NeuronTable t, String name) {
        return t.tags().stream().filter(g -> g.name().equals(name)).findFirst().orElseThrow().neurons();
    }

    @Test
    void laysTheRealProducersSideBySide(@TempDir Path dir) {
        AnalysisResult r = scorecard(producers, new ScorecardAnalyzer.Params("watermark", 1.0, 0.02, 3, 0.5, 0.05), dir);
        NeuronTable card = r.part("conv2-scorecard", NeuronTable.class).orElseThrow();
        assertEquals(16, card.neurons());
        assertEquals(List.of("coherence:watermark", "effect:watermark@watermark-hunt", "effect:watermark@texture-hunt",
                        "effect:texture", "conductance", "ablation", "clusters"),
                card.columns().stream().map(NeuronTable.Column::name).toList());

        NeuronTable effect = producers.get("watermark-hunt").part("conv2-watermark-effect", NeuronTable.class).orElseThrow();
        assertEquals(java.util.Arrays.toString(column(effect, "d")), java.util.Arrays.toString(column(card, "effect:watermark@watermark-hunt")));
        NeuronTable texture = producers.get("texture-hunt").part("conv2-texture-effect", NeuronTable.class).orElseThrow();
        double[] cardTexture = column(card, "effect:texture");
        for (int j = 0; j < 16; j++) {
            double best = Double.NaN;
            for (NeuronTable.Column c : texture.columns()) {
                if (c.name().startsWith("d:") && (Double.isNaN(best) || Math.abs(c.values().get(j)) > Math.abs(best))) {
                    best = c.values().get(j);
                }
            }
            assertEquals(best, cardTexture[j], 1e-6, "texture effect: the value vs the rest with the largest |d|");
        }
        NeuronTable conductance = producers.get("conductance").part("conv2-conductance", NeuronTable.class).orElseThrow();
        assertEquals(java.util.Arrays.toString(column(conductance, "mean")), java.util.Arrays.toString(column(card, "conductance")));
        Ranking ablation = producers.get("ablation").part("ablation-effect", Ranking.class).orElseThrow();
        double[] cardAblation = column(card, "ablation");
        assertEquals(16, ablation.entries().size());
        for (Ranking.Entry e : ablation.entries()) {
            assertEquals(e.score(), cardAblation[e.neuron().neuron()], 1e-6);
        }
        NeuronTable poly = producers.get("poly").part("conv2-polysemanticity", NeuronTable.class).orElseThrow();
        assertEquals(java.util.Arrays.toString(column(poly, "clusters")), java.util.Arrays.toString(column(card, "clusters")));

        // top-k coherence by a naive count over the top examples
        ExampleSet top = producers.get("top").part("conv2-top", ExampleSet.class).orElseThrow();
        double[] coherence = column(card, "coherence:watermark");
        for (ExampleSet.NeuronExamples ne : top.neurons()) {
            long on = ne.examples().stream().filter(e -> "on".equals(e.metadata().get("watermark"))).count();
            assertEquals(Math.max(on, ne.examples().size() - on) / (double) ne.examples().size(), coherence[ne.neuron()], 1e-6);
        }
        assertEquals(1.0, coherence[4], 0.0, "the watermark channel's top examples all carry the watermark");

        // the correlational rule, recomputed from the producers' parts
        double[] d1 = column(effect, "d");
        double[] d2 = column(card, "effect:watermark@texture-hunt");
        double[] change = new double[16];
        ablation.entries().forEach(e -> change[e.neuron().neuron()] = e.score());
        Set<Integer> expected = new LinkedHashSet<>();
        for (int j = 0; j < 16; j++) {
            double[] ds = {d1[j], d2[j], cardTexture[j]};
            boolean high = java.util.Arrays.stream(ds).anyMatch(x -> Math.abs(x) >= 1);
            if (high && Math.abs(change[j]) < 0.02 - 1e-9) { // a share change of 4/200 comes back as 0.0199999...: not below 0.02
                expected.add(j);
            }
        }
        assertEquals(List.copyOf(expected), tag(card, "correlational"));
        Ranking dis = r.part("scorecard-disagreements", Ranking.class).orElseThrow();
        Set<Integer> flagged = new LinkedHashSet<>();
        card.tags().forEach(t -> flagged.addAll(t.neurons()));
        assertEquals(flagged, dis.entries().stream().map(e -> e.neuron().neuron()).collect(java.util.stream.Collectors.toSet()));
        for (Ranking.Entry e : dis.entries()) {
            long rules = card.tags().stream().filter(t -> t.neurons().contains(e.neuron().neuron())).count();
            assertEquals(rules, (long) e.score());
        }
        if (!expected.isEmpty()) {
            Finding f = r.findings().stream().filter(x -> x.id().equals("disagree-correlational")).findFirst().orElseThrow();
            assertEquals(Finding.Severity.WARNING, f.severity());
            assertTrue(f.claim().contains("correlational, not causal"), f.claim());
            assertTrue(f.neurons().contains(new NeuronRef("conv2", expected.iterator().next())));
        }
        System.out.println("scorecard findings on the demo CNN:");
        r.findings().forEach(f -> System.out.println("  " + f.severity() + " " + f.claim()));
        assertTrue(r.findings().stream().anyMatch(x -> x.id().equals("scorecard-counts")));
    }

    @Test
    void readsProbeWeightsAndGroupQValuesByTheirColumnNames(@TempDir Path dir) {
        // the probe and group-compare steps write <layer>-probe-<field> (column weight) and <layer>-group-<field>
        // (columns q or q-<value>); tables of that schema with known values
        float[] weight = new float[16];
        float[] q = new float[16];
        java.util.Arrays.fill(q, 0.5f);
        weight[3] = 0.8f;
        weight[4] = 1.2f;
        q[4] = 0.001f;
        AnalysisResult probe = AnalysisResult.builder().part(new NeuronTable("conv2-probe-watermark", "probe", "conv2", 16,
                List.of(NeuronTable.Column.of("weight", "|weight|", weight), NeuronTable.Column.of("w-on", "weight", weight)),
                List.of(), "")).build();
        float[] qOn = q.clone();
        qOn[7] = 0.9f;
        AnalysisResult groups = AnalysisResult.builder().part(new NeuronTable("conv2-group-texture", "groups", "conv2", 16,
                List.of(NeuronTable.Column.of("d-solid", "Cohen's d", new float[16]), NeuronTable.Column.of("q-solid", "q-value", q),
                        NeuronTable.Column.of("q-striped", "q-value", qOn)), List.of(), "")).build();
        Map<String, AnalysisResult> in = new LinkedHashMap<>();
        in.put("probe", probe);
        in.put("groups", groups);
        AnalysisResult r = scorecard(in, ScorecardAnalyzer.Params.defaults(), dir);
        NeuronTable card = r.part("conv2-scorecard", NeuronTable.class).orElseThrow();
        assertEquals(List.of("probe:watermark", "group-q:texture"), card.columns().stream().map(NeuronTable.Column::name).toList());
        assertEquals(0.001, column(card, "group-q:texture")[4], 1e-6, "the smallest q over the contrasts");
        assertEquals(0.5, column(card, "group-q:texture")[7], 1e-6);
        assertEquals(List.of(3), tag(card, "probe-without-group-difference"));
        assertTrue(card.tags().stream().noneMatch(t -> t.name().equals("correlational")), "no rule without its methods");
    }

    @Test
    void readsTheRealProbeAndGroupComparison(@TempDir Path dir) {
        Map<String, AnalysisResult> in = new LinkedHashMap<>();
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 400)) {
            in.put("probe", new ProbeAnalyzer().analyze(new TestSupport.Context<>("probe", new ProbeAnalyzer.Params("watermark",
                    ProbeAnalyzer.Penalty.L1, null, null, 5, 0.3, 0.95, ProbeAnalyzer.Reduce.MAX, Map.of(), 4000),
                    m, d, List.of("conv2"), 128, dir)));
            in.put("groups", new GroupCompareAnalyzer().analyze(new TestSupport.Context<>("groups", new GroupCompareAnalyzer.Params(
                    "watermark", null, 0.05, 0, 200, GroupCompareAnalyzer.Reduce.MAX, Map.of(), 4000, 100),
                    m, d, List.of("conv2"), 128, dir)));
        }
        AnalysisResult r = scorecard(in, ScorecardAnalyzer.Params.defaults(), dir);
        NeuronTable card = r.part("conv2-scorecard", NeuronTable.class).orElseThrow();
        assertEquals(List.of("probe:watermark", "group-q:watermark"), card.columns().stream().map(NeuronTable.Column::name).toList());
        NeuronTable probe = in.get("probe").part("conv2-probe-watermark", NeuronTable.class).orElseThrow();
        NeuronTable groups = in.get("groups").part("conv2-group-watermark", NeuronTable.class).orElseThrow();
        double[] weight = column(probe, "weight");
        double[] q = new double[16];
        java.util.Arrays.fill(q, Double.POSITIVE_INFINITY);
        for (NeuronTable.Column c : groups.columns()) {
            if (c.name().equals("q") || c.name().startsWith("q-")) {
                for (int j = 0; j < 16; j++) {
                    q[j] = Math.min(q[j], c.values().get(j));
                }
            }
        }
        assertEquals(java.util.Arrays.toString(weight), java.util.Arrays.toString(column(card, "probe:watermark")));
        double[] cardQ = column(card, "group-q:watermark");
        List<Integer> expected = new java.util.ArrayList<>();
        for (int j = 0; j < 16; j++) {
            assertEquals(q[j], cardQ[j], 1e-7);
            if (weight[j] > 0 && q[j] > 0.05) {
                expected.add(j);
            }
        }
        assertEquals(expected, tag(card, "probe-without-group-difference"));
        assertTrue(q[4] <= 0.05, "the watermark channel differs by watermark");
        System.out.println("scorecard of the real probe and group comparison:");
        r.findings().forEach(f -> System.out.println("  " + f.severity() + " " + f.claim()));
    }

    @Test
    void refusesInputsWithNothingToReadAndBadParams(@TempDir Path dir) {
        AnalysisResult nothing = AnalysisResult.builder().put("x", 1).build();
        AnalysisException e = assertThrows(AnalysisException.class, () -> scorecard(Map.of("census", nothing), ScorecardAnalyzer.Params.defaults(), dir));
        assertTrue(e.getMessage().contains("census") && e.getMessage().contains("ablation-effect"), e.getMessage());
        assertThrows(InvalidParamsException.class, () -> new ScorecardAnalyzer.Params("", 1, 0.02, 3, 0.5, 0.05));
        assertThrows(InvalidParamsException.class, () -> new ScorecardAnalyzer.Params("class", 1, 0.02, 0, 0.5, 1.5));
    }
}
