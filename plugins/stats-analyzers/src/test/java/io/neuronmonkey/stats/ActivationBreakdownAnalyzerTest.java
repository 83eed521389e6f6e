package io.neuronmonkey.stats;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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

    @SuppressWarnings("unchecked")
    static Map<String, Object> key(AnalysisResult r, String layer, String key) {
        Map<String, Object> l = ((List<Map<String, Object>>) r.summary().get("layers")).stream()
                .filter(m -> m.get("name").equals(layer)).findFirst().orElseThrow();
        return ((List<Map<String, Object>>) l.get("keys")).stream().filter(m -> m.get("key").equals(key)).findFirst().orElseThrow();
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
        for (ActivationBreakdownAnalyzer.Reduce reduce : ActivationBreakdownAnalyzer.Reduce.values()) {
            boolean max = reduce == ActivationBreakdownAnalyzer.Reduce.MAX;
            AnalysisResult r = run(bs, params(reduce));
            for (LayerInfo l : List.of(CONV, DENSE)) {
                Tensor means = r.array(TopActivationsAnalyzer.arrayName(l.name()) + "-watermark-means").orElseThrow();
                Tensor std = r.array(l.name() + "-watermark-std").orElseThrow();
                Tensor effect = r.array(l.name() + "-watermark-effect").orElseThrow();
                assertArrayEquals(new int[]{2, l.neurons()}, means.shape());
                assertArrayEquals(new int[]{l.neurons()}, effect.shape());
                for (int c = 0; c < l.neurons(); c++) {
                    List<Double> off = values(bs, l, c, max, "watermark", "off");
                    List<Double> on = values(bs, l, c, max, "watermark", "on");
                    String where = l.name() + "[" + c + "] " + reduce;
                    // rows in sorted value order: off, on
                    assertEquals(mean(off), means.floats()[c], 1e-6 * Math.max(1, Math.abs(mean(off))), where);
                    assertEquals(mean(on), means.floats()[l.neurons() + c], 1e-6 * Math.max(1, Math.abs(mean(on))), where);
                    assertEquals(Math.sqrt(var(on)), std.floats()[l.neurons() + c], 1e-5, where);
                    double pooled = ((on.size() - 1) * var(on) + (off.size() - 1) * var(off)) / (on.size() + off.size() - 2);
                    double d = (mean(on) - mean(off)) / Math.sqrt(pooled);
                    assertEquals(d, effect.floats()[c], 1e-5 * Math.max(1, Math.abs(d)), where + ": d = on vs off");
                }
            }
            Map<String, Object> w = key(r, "dense", "watermark");
            assertEquals("on vs off", w.get("contrast"));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> counts = (List<Map<String, Object>>) w.get("values");
            assertEquals(List.of("off", "on"), counts.stream().map(m -> m.get("value")).toList());
            assertEquals(600L, counts.stream().mapToLong(m -> (long) m.get("count")).sum());
        }
    }

    @Test
    void valueVsRestEffectSizesForKeysWithMoreThanTwoValues() {
        List<ActivationBatch> bs = data(500, 2, 50);
        AnalysisResult r = run(bs, params(ActivationBreakdownAnalyzer.Reduce.MEAN));
        Tensor effect = r.array("dense-class-effect").orElseThrow();
        assertArrayEquals(new int[]{3, 4}, effect.shape());
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
            assertEquals(d, effect.floats()[k * 4 + 2], 1e-5, "class " + CLASSES.get(k) + " vs rest");
        }
        Map<String, Object> c = key(r, "dense", "class");
        assertEquals("each value vs the rest", c.get("contrast"));
        @SuppressWarnings("unchecked")
        Map<String, Object> first = ((List<Map<String, Object>>) c.get("ranking")).get(0);
        assertEquals(2, first.get("neuron"), "dense neuron 2 grows with the label");
    }

    @Test
    void plantedWatermarkNeuronRanksFirstOverall() {
        AnalysisResult r = run(data(400, 3, 100), params(ActivationBreakdownAnalyzer.Reduce.MAX));
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> overall = (List<Map<String, Object>>) r.summary().get("overall");
        Map<String, Object> wm = overall.stream().filter(m -> m.get("key").equals("watermark")).findFirst().orElseThrow();
        assertEquals("on vs off", wm.get("contrast"));
        @SuppressWarnings("unchecked")
        Map<String, Object> top = ((List<Map<String, Object>>) wm.get("ranking")).get(0);
        assertEquals("conv", top.get("layer"));
        assertEquals(1, top.get("neuron"));
        assertTrue((double) top.get("effectSize") > 3, "a large positive effect: " + top);
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
        for (AnalysisResult other : List.of(merged, backwards)) {
            assertEquals(single.summary(), other.summary());
            assertEquals(single.arrays().keySet(), other.arrays().keySet());
            for (String name : single.arrays().keySet()) {
                assertArrayEquals(single.array(name).orElseThrow().floats(), other.array(name).orElseThrow().floats(), name);
            }
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
        assertEquals("true vs false", key(r, "dense", "flag").get("contrast"));
        assertEquals("left vs right", key(r, "dense", "side").get("contrast"), "no positive value: sorted order");
        assertTrue(r.array("dense-flag-effect").orElseThrow().floats()[0] > 0);
        assertTrue(r.array("dense-side-effect").orElseThrow().floats()[0] < 0);
    }

    @Test
    void rejectsBadParamsAllAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new ActivationBreakdownAnalyzer.Params(List.of(), 1, null, 0));
        assertEquals(List.of("keys", "maxValues", "reduce", "top"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
