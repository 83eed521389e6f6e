package io.neuronmonkey.stats;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import org.apache.commons.math3.stat.inference.TTest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationBreakdownAnalyzerTest {

    /** conv: 4x4 map, 3 channels; channel 1 lights up one corner cell exactly when watermark=on (the planted neuron). */
    static final LayerInfo CONV = new LayerInfo("conv", "Relu", new int[]{4, 4, 3}, LayerInfo.Role.HIDDEN);
    static final LayerInfo DENSE = new LayerInfo("dense", "Relu", new int[]{4}, LayerInfo.Role.HIDDEN);
    static final List<String> CLASSES = List.of("circle", "square", "triangle");

    static List<ActivationBatch> data(int n, long seed, int batch) {
        Random r = new Random(seed);
        List<ActivationBatch> out = new ArrayList<>();
        for (int done = 0; done < n; done += batch) {
            int b = Math.min(batch, n - done);
            float[] conv = new float[b * 48];
            float[] dense = new float[b * 4];
            int[] labels = new int[b];
            List<String> ids = new ArrayList<>();
            List<Map<String, String>> meta = new ArrayList<>();
            for (int e = 0; e < b; e++) {
                boolean on = r.nextBoolean();
                labels[e] = r.nextInt(3);
                for (int p = 0; p < 16; p++) {
                    for (int c = 0; c < 3; c++) {
                        float v = (float) Math.max(0, r.nextGaussian());
                        if (c == 1 && p == 15 && on) {
                            v += 4f;
                        }
                        conv[(e * 16 + p) * 3 + c] = v;
                    }
                }
                for (int c = 0; c < 4; c++) {
                    dense[e * 4 + c] = (float) (r.nextGaussian() + (c == 2 ? labels[e] : 0) + (c == 3 && on ? 0.3 : 0));
                }
                ids.add("ex-" + (done + e));
                meta.add(Map.of("watermark", on ? "on" : "off", "texture", List.of("solid", "striped", "dotted").get(r.nextInt(3)),
                        "x", Integer.toString(r.nextInt(40))));
            }
            Batch bt = new Batch(done, Tensor.ofFloats(new float[b], b, 1), labels, ids, meta);
            out.add(new ActivationBatch(bt, Map.of(CONV.name(), Tensor.ofFloats(conv, b, 4, 4, 3),
                    DENSE.name(), Tensor.ofFloats(dense, b, 4))));
        }
        return out;
    }

    static ActivationBreakdownAnalyzer.Params params(ActivationBreakdownAnalyzer.Reduce reduce) {
        return new ActivationBreakdownAnalyzer.Params(null, 12, reduce, 10);
    }

    static ActivationBreakdownAnalyzer.Breakdown breakdown(ActivationBreakdownAnalyzer.Params p) {
        return new ActivationBreakdownAnalyzer.Breakdown(p, List.of(CONV, DENSE), CLASSES, List.of("watermark", "texture", "x"));
    }

    static AnalysisResult run(List<ActivationBatch> bs, ActivationBreakdownAnalyzer.Params p) {
        var b = breakdown(p);
        bs.forEach(b::accept);
        return b.finish();
    }

    static NeuronTable effect(AnalysisResult r, String layer, String key) {
        return r.part(Ids.sanitize(layer) + "-" + Ids.sanitize(key) + "-effect", NeuronTable.class).orElseThrow();
    }

    static NeuronTable.Column column(AnalysisResult r, String layer, String key, String name) {
        return effect(r, layer, key).column(name).orElseThrow();
    }

    static Matrix means(AnalysisResult r, String layer, String key) {
        return r.part(Ids.sanitize(layer) + "-" + Ids.sanitize(key) + "-means", Matrix.class).orElseThrow();
    }

    static Ranking ranking(AnalysisResult r, String key) {
        return r.part(Ids.sanitize(key) + "-ranking", Ranking.class).orElseThrow();
    }

    static double[] doubles(List<Double> x) {
        return x.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** Naive two-pass reference: reduced value of neuron c per example, grouped by a metadata value. */
    static List<Double> values(List<ActivationBatch> bs, LayerInfo l, int c, boolean max, String key, String value) {
        List<Double> out = new ArrayList<>();
        for (ActivationBatch b : bs) {
            float[] a = b.activation(l.name()).floats();
            for (int e = 0; e < b.size(); e++) {
                String v = "class".equals(key) ? CLASSES.get(b.batch().labels()[e]) : b.batch().metadata().get(e).get(key);
                if (!value.equals(v)) {
                    continue;
                }
                double acc = max ? Double.NEGATIVE_INFINITY : 0;
                for (int p = 0; p < l.positions(); p++) {
                    float x = a[(e * l.positions() + p) * l.neurons() + c];
                    acc = max ? Math.max(acc, x) : acc + x;
                }
                out.add((double) (float) (max ? acc : acc / l.positions()));
            }
        }
        return out;
    }

    static double mean(List<Double> x) {
        return x.stream().mapToDouble(Double::doubleValue).sum() / x.size();
    }

    static double var(List<Double> x) {
        double m = mean(x);
        return x.stream().mapToDouble(v -> (v - m) * (v - m)).sum() / (x.size() - 1);
    }

    @Test
    void meansStdsAndCohensDMatchANaiveTwoPassComputation() {
        List<ActivationBatch> bs = data(600, 1, 64);
        for (ActivationBreakdownAnalyzer.Reduce reduce : List.of(ActivationBreakdownAnalyzer.Reduce.MEAN, ActivationBreakdownAnalyzer.Reduce.MAX)) {
            boolean max = reduce == ActivationBreakdownAnalyzer.Reduce.MAX;
            AnalysisResult r = run(bs, params(reduce));
            for (LayerInfo l : List.of(CONV, DENSE)) {
                Matrix means = means(r, l.name(), "watermark");
                assertEquals("watermark", means.rows().name());
                assertEquals(List.of("off", "on"), means.rows().labels(), "values in output (sorted) order");
                assertEquals(List.of("watermark", "neuron"), means.values().dims());
                assertEquals("mean activation", means.unit());
                assertEquals(l.name(), means.layer());
                NeuronTable t = effect(r, l.name(), "watermark");
                assertEquals(List.of("d", "meanA", "meanB", "stdA", "stdB"), t.columns().stream().map(NeuronTable.Column::name).toList());
                NeuronTable.Column d = t.column("d").orElseThrow();
                float[] stdA = t.column("stdA").orElseThrow().values().floats();
                float[] meanA = t.column("meanA").orElseThrow().values().floats();
                float[] meanB = t.column("meanB").orElseThrow().values().floats();
                for (int c = 0; c < l.neurons(); c++) {
                    List<Double> off = values(bs, l, c, max, "watermark", "off");
                    List<Double> on = values(bs, l, c, max, "watermark", "on");
                    String where = l.name() + "[" + c + "] " + reduce;
                    // rows in sorted value order: off, on; the contrast is on (A) vs off (B)
                    assertEquals(mean(off), means.get(0, c), 1e-6 * Math.max(1, Math.abs(mean(off))), where);
                    assertEquals(mean(on), means.get(1, c), 1e-6 * Math.max(1, Math.abs(mean(on))), where);
                    assertEquals(mean(on), meanA[c], 1e-6 * Math.max(1, Math.abs(mean(on))), where);
                    assertEquals(mean(off), meanB[c], 1e-6 * Math.max(1, Math.abs(mean(off))), where);
                    assertEquals(Math.sqrt(var(on)), stdA[c], 1e-5, where);
                    double pooled = ((on.size() - 1) * var(on) + (off.size() - 1) * var(off)) / (on.size() + off.size() - 2);
                    double dd = (mean(on) - mean(off)) / Math.sqrt(pooled);
                    assertEquals(dd, d.values().floats()[c], 1e-5 * Math.max(1, Math.abs(dd)), where + ": d = on vs off");
                    // Hedges & Olkin: se = sqrt((nA + nB) / (nA nB) + d^2 / (2 (nA + nB)))
                    double nA = on.size();
                    double nB = off.size();
                    double se = Math.sqrt((nA + nB) / (nA * nB) + dd * dd / (2 * (nA + nB)));
                    assertEquals(dd - 1.959964 * se, d.low().floats()[c], 1e-5 * Math.max(1, Math.abs(dd)), where);
                    assertEquals(dd + 1.959964 * se, d.high().floats()[c], 1e-5 * Math.max(1, Math.abs(dd)), where);
                }
            }
            Ranking w = ranking(r, "watermark");
            assertEquals("Neurons that track watermark (on vs off)", w.title());
            assertEquals("Cohen's d (on vs off)", w.score());
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> counts = (List<Map<String, Object>>) ((Map<String, Object>) r.summary().get("values")).get("watermark");
            assertEquals(List.of("off", "on"), counts.stream().map(m -> m.get("value")).toList());
            assertEquals(600L, counts.stream().mapToLong(m -> (long) m.get("count")).sum());
        }
    }

    @Test
    void valueVsRestEffectSizesForKeysWithMoreThanTwoValues() {
        List<ActivationBatch> bs = data(500, 2, 50);
        AnalysisResult r = run(bs, params(ActivationBreakdownAnalyzer.Reduce.MEAN));
        NeuronTable effect = effect(r, "dense", "class");
        assertEquals(List.of("d:circle", "d:square", "d:triangle"), effect.columns().stream().map(NeuronTable.Column::name).toList());
        for (int k = 0; k < 3; k++) {
            List<Double> in = values(bs, DENSE, 2, false, "class", CLASSES.get(k));
            List<Double> rest = new ArrayList<>();
            for (int j = 0; j < 3; j++) {
                if (j != k) {
                    rest.addAll(values(bs, DENSE, 2, false, "class", CLASSES.get(j)));
                }
            }
            double pooled = ((in.size() - 1) * var(in) + (rest.size() - 1) * var(rest)) / (in.size() + rest.size() - 2);
            double d = (mean(in) - mean(rest)) / Math.sqrt(pooled);
            assertEquals(d, effect.column("d:" + CLASSES.get(k)).orElseThrow().values().floats()[2], 1e-5,
                    "class " + CLASSES.get(k) + " vs rest");
        }
        Ranking c = ranking(r, "class");
        assertEquals("Neurons that track class", c.title());
        assertEquals("Cohen's d (value vs rest)", c.score());
        Ranking.Entry first = c.entries().get(0);
        assertEquals(new NeuronRef("dense", 2), first.neuron(), "dense neuron 2 grows with the label");
        assertTrue(first.note().equals("class=circle vs rest") || first.note().equals("class=triangle vs rest"), first.note());
        String value = first.note().substring("class=".length(), first.note().length() - " vs rest".length());
        assertEquals(effect.column("d:" + value).orElseThrow().values().floats()[2], first.score(), 1e-6,
                "a neuron is ranked by the value it is most distinct for");
        Matrix m = means(r, "dense", "class");
        assertEquals(CLASSES, m.rows().labels(), "class values in label order");
    }

    @Test
    void plantedWatermarkNeuronRanksFirstOverallAndIsTheNotableFinding() {
        AnalysisResult r = run(data(400, 3, 100), params(ActivationBreakdownAnalyzer.Reduce.MAX));
        Ranking wm = ranking(r, "watermark");
        Ranking.Entry top = wm.entries().get(0);
        assertEquals(new NeuronRef("conv", 1), top.neuron());
        assertTrue(top.score() > 3, "a large positive effect: " + top);
        assertEquals(7, wm.entries().size(), "all 7 neurons of both layers: fewer than top=10");
        NeuronTable convEffect = effect(r, "conv", "watermark");
        assertEquals(convEffect.column("meanA").orElseThrow().values().floats()[1], Double.parseDouble(
                top.note().split(" ")[1]), 0.01 * Math.abs(convEffect.column("meanA").orElseThrow().values().floats()[1]));
        assertTrue(top.note().matches("mean \\S+ vs \\S+"), top.note());

        Finding f = r.findings().get(0);
        assertEquals("watermark-tracks", f.id());
        assertEquals(Finding.Severity.NOTABLE, f.severity());
        assertEquals("conv #1 tracks watermark (on vs off): Cohen's d " + Numbers.sig3(top.score()), f.claim());
        assertTrue(f.claim().matches("conv #1 tracks watermark \\(on vs off\\): Cohen's d (\\d\\.\\d\\d|\\d\\d\\.\\d)"), f.claim());
        assertEquals("Cohen's d", f.strength().measure());
        assertEquals(top.score(), f.strength().value(), 0.0);
        assertEquals(top.interval(), f.strength().interval());
        assertEquals(top.q(), f.strength().q());
        assertTrue(f.strength().q() < 0.05);
        assertEquals(new NeuronRef("conv", 1), f.neurons().get(0));
        assertTrue(f.neurons().size() <= 5);
        assertEquals(List.of("watermark-ranking", "conv-watermark-effect"), f.evidence());
        // dense neuron 2 grows with the label: an INFO finding, after the notable ones; texture is noise: none
        List<Finding.Severity> severities = r.findings().stream().map(Finding::severity).toList();
        assertEquals(List.of("watermark-tracks", "class-tracks"), r.findings().stream().map(Finding::id).toList());
        assertEquals(List.of(Finding.Severity.NOTABLE, Finding.Severity.INFO), severities);
        assertTrue(r.findings().get(1).claim().startsWith("dense #2 tracks class ("), r.findings().get(1).claim());
    }

    @Test
    void welchPValuesMatchAnIndependentTTestAndBenjaminiHochbergANaiveLoop() {
        List<ActivationBatch> bs = data(300, 6, 64);
        var all = new ActivationBreakdownAnalyzer.Params(List.of("watermark", "texture"), 12,
                ActivationBreakdownAnalyzer.Reduce.MAX, 100_000);
        AnalysisResult r = run(bs, all);
        TTest welch = new TTest();
        for (String key : List.of("watermark", "texture")) {
            Ranking ranking = ranking(r, key);
            assertEquals(7, ranking.entries().size(), "every neuron of both layers is listed");
            // the family: two values, one test per neuron; three values, one per neuron and value
            List<double[]> family = new ArrayList<>();
            List<String> values = "watermark".equals(key) ? List.of("on") : List.of("dotted", "solid", "striped");
            for (LayerInfo l : List.of(CONV, DENSE)) {
                for (String v : values) {
                    for (int c = 0; c < l.neurons(); c++) {
                        List<Double> in = values(bs, l, c, true, key, v);
                        List<Double> rest = new ArrayList<>();
                        for (String o : List.of("off", "dotted", "solid", "striped")) {
                            if (!o.equals(v)) {
                                rest.addAll(values(bs, l, c, true, key, o));
                            }
                        }
                        family.add(new double[]{welch.tTest(doubles(in), doubles(rest)), l == CONV ? 0 : 1, c,
                                values.indexOf(v)});
                    }
                }
            }
            int m = family.size();
            for (Ranking.Entry e : ranking.entries()) {
                int layer = e.neuron().layer().equals("conv") ? 0 : 1;
                int value = "watermark".equals(key) ? 0 : values.indexOf(e.note().split("[= ]")[1]);
                double[] ref = family.stream().filter(x -> x[1] == layer && x[2] == e.neuron().neuron() && x[3] == value)
                        .findFirst().orElseThrow();
                String where = key + " " + e.neuron();
                assertEquals(ref[0], e.p(), 1e-9 * ref[0] + 1e-300, where + ": Welch p");
                // naive Benjamini-Hochberg: q_i = min over p_j >= p_i of m p_j / #{k : p_k <= p_j}, capped at 1
                double q = 1;
                for (double[] j : family) {
                    if (j[0] >= ref[0]) {
                        long rank = family.stream().filter(k -> k[0] <= j[0]).count();
                        q = Math.min(q, m * j[0] / rank);
                    }
                }
                assertEquals(q, e.q(), 1e-9 * q + 1e-300, where + ": BH q over all " + m + " tests");
            }
        }
        // listing fewer neurons does not change their q: it is over every neuron tested
        var few = new ActivationBreakdownAnalyzer.Params(List.of("watermark", "texture"), 12,
                ActivationBreakdownAnalyzer.Reduce.MAX, 2);
        Ranking short2 = ranking(run(bs, few), "watermark");
        assertEquals(2, short2.entries().size());
        for (int i = 0; i < 2; i++) {
            assertEquals(ranking(r, "watermark").entries().get(i).q(), short2.entries().get(i).q());
        }
    }

    @Test
    void welchPForTwoDegreesOfFreedomIsTheClosedForm() {
        // A = {1, 3}, B = {4, 6}: means 2 and 5, variances 2 and 2, so df = 2 and t = -3 / sqrt(2); for 2 degrees of
        // freedom the two-sided p is 1 - |t| / sqrt(t^2 + 2)
        double t = -3 / Math.sqrt(2);
        double p = ActivationBreakdownAnalyzer.welchP(2, 2, 2, 5, 2, 2);
        assertEquals(1 - Math.abs(t) / Math.sqrt(t * t + 2), p, 1e-12);
        assertEquals(new TTest().tTest(new double[]{1, 3}, new double[]{4, 6}), p, 1e-12);
        assertEquals(0.0, ActivationBreakdownAnalyzer.welchP(1, 0, 5, 2, 0, 5), "constant groups that differ");
        assertEquals(1.0, ActivationBreakdownAnalyzer.welchP(1, 0, 5, 1, 0, 5), "constant groups that agree");
        assertTrue(Double.isNaN(ActivationBreakdownAnalyzer.welchP(1, 0, 1, 2, 1, 5)), "one value: no test");
    }

    @Test
    void benjaminiHochbergOnHandValues() {
        // sorted: 0.005 (1), 0.01 (2), 0.03 (3), 0.04 (4); m p / k = 0.02, 0.02, 0.04, 0.04; NaN is no test
        double[] q = ActivationBreakdownAnalyzer.benjaminiHochberg(new double[]{0.01, 0.04, 0.03, 0.005, Double.NaN});
        assertEquals(0.02, q[0], 1e-15);
        assertEquals(0.04, q[1], 1e-15);
        assertEquals(0.04, q[2], 1e-15);
        assertEquals(0.02, q[3], 1e-15);
        assertTrue(Double.isNaN(q[4]));
        // a step-up: 0.03 at rank 1 of 2 would be 0.06, but 0.04 at rank 2 gives 0.04
        assertArrayEquals(new double[]{0.04, 0.04}, ActivationBreakdownAnalyzer.benjaminiHochberg(new double[]{0.03, 0.04}), 1e-15);
        // the largest p is its own q: 0.9; 0.8 at rank 1 of 2 would be 1.6, the step-up gives 0.9
        assertArrayEquals(new double[]{0.9, 0.9}, ActivationBreakdownAnalyzer.benjaminiHochberg(new double[]{0.9, 0.8}), 1e-15);
    }

    @Test
    void cohensDIntervalIsTheHedgesOlkinNormalApproximation() {
        // d = 0.5, nA = 10, nB = 20: se = sqrt(30 / 200 + 0.25 / 60) = sqrt(0.1541666...)
        Interval ci = ActivationBreakdownAnalyzer.cohenInterval(0.5, 10, 20);
        double se = Math.sqrt(0.15 + 0.25 / 60);
        assertEquals(0.5 - 1.959963984540054 * se, ci.low(), 1e-12);
        assertEquals(0.5 + 1.959963984540054 * se, ci.high(), 1e-12);
        assertEquals(-0.26957, ci.low(), 1e-5);
        assertEquals(0.95, ci.level());
        assertEquals("normal approximation (Hedges & Olkin)", ci.method());
        assertNull(ActivationBreakdownAnalyzer.cohenInterval(Double.POSITIVE_INFINITY, 10, 20));
    }

    @Test
    void constantGroupsGiveAnInfiniteDWithoutIntervalAndNoFindingForNoise() {
        ActivationBreakdownAnalyzer.Params p = new ActivationBreakdownAnalyzer.Params(List.of("flag", "noise"), 12,
                ActivationBreakdownAnalyzer.Reduce.MAX, 5);
        var b = new ActivationBreakdownAnalyzer.Breakdown(p, List.of(DENSE), List.of(), List.of());
        Random rnd = new Random(9);
        int n = 40;
        List<Map<String, String>> meta = new ArrayList<>();
        float[] dense = new float[n * 4];
        for (int e = 0; e < n; e++) {
            meta.add(Map.of("flag", e % 2 == 0 ? "no" : "yes", "noise", rnd.nextBoolean() ? "a" : "b"));
            dense[e * 4] = e % 2;
            for (int c = 1; c < 4; c++) {
                dense[e * 4 + c] = (float) rnd.nextGaussian();
            }
        }
        Batch bt = new Batch(0, Tensor.ofFloats(new float[n], n, 1), null, Collections.nCopies(n, "x"), meta);
        b.accept(new ActivationBatch(bt, Map.of("dense", Tensor.ofFloats(dense, n, 4))));
        AnalysisResult r = b.finish();
        Ranking.Entry top = ranking(r, "flag").entries().get(0);
        assertEquals(new NeuronRef("dense", 0), top.neuron());
        assertEquals(Double.POSITIVE_INFINITY, top.score());
        assertNull(top.interval());
        assertEquals(0.0, top.p());
        NeuronTable.Column d = column(r, "dense", "flag", "d");
        assertEquals(Float.POSITIVE_INFINITY, d.low().floats()[0], "bounds are d itself where d is infinite");
        assertEquals(Float.POSITIVE_INFINITY, d.high().floats()[0]);
        assertEquals(List.of("flag-tracks"), r.findings().stream().map(Finding::id).toList(), "noise gives no finding");
        assertEquals("dense #0 tracks flag (yes vs no): Cohen's d Infinity", r.findings().get(0).claim());
    }

    @Test
    void keysWithTooManyValuesAreSkippedWithTheReason() {
        AnalysisResult r = run(data(300, 4, 100), params(ActivationBreakdownAnalyzer.Reduce.MAX));
        assertEquals(List.of("class", "watermark", "texture"), r.summary().get("keys"));
        assertEquals(Map.of("x", "40 distinct values > maxValues 12"), r.summary().get("skippedKeys"));
    }

    @Test
    void fourChunksMergedInOrderAndReversedBatchesGiveBitIdenticalResults() {
        List<ActivationBatch> bs = data(700, 5, 30);
        ActivationBreakdownAnalyzer.Params p = params(ActivationBreakdownAnalyzer.Reduce.MAX);
        AnalysisResult single = run(bs, p);
        List<ActivationBreakdownAnalyzer.Breakdown> chunks = new ArrayList<>();
        int[] cuts = {0, 1, 9, 10, bs.size()};
        for (int i = 0; i < 4; i++) {
            var b = breakdown(p);
            bs.subList(cuts[i], cuts[i + 1]).forEach(b::accept);
            chunks.add(b);
        }
        for (int i = 1; i < 4; i++) {
            chunks.get(0).merge(chunks.get(i));
        }
        AnalysisResult merged = chunks.get(0).finish();
        List<ActivationBatch> rev = new ArrayList<>(bs);
        Collections.reverse(rev);
        AnalysisResult backwards = run(rev, p);
        assertTrue(single.arrays().isEmpty(), "everything is in typed parts");
        for (AnalysisResult other : List.of(merged, backwards)) {
            ResultTrees.assertSameResult(single, other);
        }
    }

    @Test
    void positiveLookingValueIsTheFirstSideOfATwoValueContrast() {
        ActivationBreakdownAnalyzer.Params p = new ActivationBreakdownAnalyzer.Params(List.of("flag", "side"), 12,
                ActivationBreakdownAnalyzer.Reduce.MAX, 5);
        var b = new ActivationBreakdownAnalyzer.Breakdown(p, List.of(DENSE), List.of(), List.of());
        List<Map<String, String>> meta = new ArrayList<>();
        float[] dense = new float[8 * 4];
        for (int e = 0; e < 8; e++) {
            meta.add(Map.of("flag", e % 2 == 0 ? "false" : "true", "side", e % 2 == 0 ? "left" : "right"));
            dense[e * 4] = e % 2 + e * 0.01f;
        }
        Batch bt = new Batch(0, Tensor.ofFloats(new float[8], 8, 1), null, Collections.nCopies(8, "x"), meta);
        b.accept(new ActivationBatch(bt, Map.of("dense", Tensor.ofFloats(dense, 8, 4))));
        AnalysisResult r = b.finish();
        assertEquals("Neurons that track flag (true vs false)", ranking(r, "flag").title());
        assertEquals("Cohen's d (left vs right)", ranking(r, "side").score(), "no positive value: sorted order");
        assertTrue(column(r, "dense", "flag", "d").values().floats()[0] > 0);
        assertTrue(column(r, "dense", "side", "d").values().floats()[0] < 0);
    }

    @Test
    void rejectsBadParamsAllAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new ActivationBreakdownAnalyzer.Params(List.of(), 1, null, 0));
        assertEquals(List.of("keys", "maxValues", "reduce", "top"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
