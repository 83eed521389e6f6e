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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TopActivationsAnalyzerTest {

    /** A 4x4 feature map with 3 channels over 8x8 inputs, and a dense layer with 2 neurons. */
    static final LayerInfo CONV = new LayerInfo("net/conv", "Relu", new int[]{4, 4, 3}, LayerInfo.Role.HIDDEN);
    static final LayerInfo DENSE = new LayerInfo("dense", "Relu", new int[]{2}, LayerInfo.Role.HIDDEN);
    static final List<String> CLASSES = List.of("a", "b");

    /**
     * Values are rounded to a coarse grid, so many ties occur (tie-break by example index is exercised); conv channel
     * 2 is constant 0 everywhere (every example ties).
     */
    static List<ActivationBatch> data(int n, long seed, int batch) {
        Random r = new Random(seed);
        List<ActivationBatch> out = new ArrayList<>();
        for (int done = 0; done < n; done += batch) {
            int b = Math.min(batch, n - done);
            float[] conv = new float[b * 48];
            for (int i = 0; i < conv.length; i++) {
                conv[i] = i % 3 == 2 ? 0f : Math.round(r.nextGaussian() * 4) / 4f;
            }
            float[] dense = new float[b * 2];
            for (int i = 0; i < dense.length; i++) {
                dense[i] = Math.round(r.nextGaussian() * 8) / 8f;
            }
            float[] inputs = new float[b * 64];
            int[] labels = new int[b];
            List<String> ids = new ArrayList<>();
            List<Map<String, String>> meta = new ArrayList<>();
            for (int e = 0; e < b; e++) {
                inputs[e * 64] = done + e; // first pixel = example index: tells which input was kept
                labels[e] = (done + e) % 2;
                ids.add("ex-" + (done + e));
                meta.add(Map.of("parity", (done + e) % 2 == 0 ? "even" : "odd"));
            }
            Batch bt = new Batch(done, Tensor.ofFloats(inputs, b, 8, 8, 1), labels, ids, meta);
            out.add(new ActivationBatch(bt, Map.of(CONV.name(), Tensor.ofFloats(conv, b, 4, 4, 3),
                    DENSE.name(), Tensor.ofFloats(dense, b, 2))));
        }
        return out;
    }

    static TopActivationsAnalyzer.Params params(int k, int bottomK, TopActivationsAnalyzer.Reduce reduce) {
        return new TopActivationsAnalyzer.Params(k, bottomK, reduce, true, 1);
    }

    static TopActivationsAnalyzer.Tops tops(TopActivationsAnalyzer.Params p) {
        return new TopActivationsAnalyzer.Tops(p, List.of(CONV, DENSE), CLASSES, new int[]{8, 8, 1});
    }

    static AnalysisResult run(List<ActivationBatch> bs, TopActivationsAnalyzer.Params p) {
        var t = tops(p);
        bs.forEach(t::accept);
        return t.finish();
    }

    /** Naive reference: every (value, example, argmax position) of a neuron, from the raw tensors. */
    record Naive(float value, long example, int position) {
    }

    static List<Naive> naive(List<ActivationBatch> bs, LayerInfo l, int c, boolean max) {
        List<Naive> all = new ArrayList<>();
        for (ActivationBatch b : bs) {
            float[] a = b.activation(l.name()).floats();
            for (int e = 0; e < b.size(); e++) {
                float best = Float.NEGATIVE_INFINITY;
                int arg = -1;
                double sum = 0;
                for (int p = 0; p < l.positions(); p++) {
                    float v = a[(e * l.positions() + p) * l.neurons() + c];
                    sum += v;
                    if (v > best) {
                        best = v;
                        arg = p;
                    }
                }
                float value = max ? best : (float) (sum / l.positions());
                all.add(new Naive(value, b.batch().offset() + e, arg));
            }
        }
        return all;
    }

    @SuppressWarnings("unchecked")
    static List<Map<String, Object>> entries(AnalysisResult r, String layer, int neuron, String which) {
        Map<String, Object> l = ((List<Map<String, Object>>) r.summary().get("layers")).stream()
                .filter(m -> m.get("name").equals(layer)).findFirst().orElseThrow();
        return (List<Map<String, Object>>) ((List<Map<String, Object>>) l.get("neuronStats")).get(neuron).get(which);
    }

    @Test
    void topAndBottomKMatchANaiveSortIncludingTiesAndArgmaxPositions() {
        List<ActivationBatch> bs = data(300, 1, 37);
        for (TopActivationsAnalyzer.Reduce reduce : TopActivationsAnalyzer.Reduce.values()) {
            AnalysisResult r = run(bs, params(10, 5, reduce));
            for (LayerInfo l : List.of(CONV, DENSE)) {
                for (int c = 0; c < l.neurons(); c++) {
                    List<Naive> all = naive(bs, l, c, reduce == TopActivationsAnalyzer.Reduce.MAX);
                    List<Naive> top = new ArrayList<>(all);
                    top.sort(Comparator.comparingDouble((Naive x) -> -x.value()).thenComparingLong(Naive::example));
                    List<Naive> bottom = new ArrayList<>(all);
                    bottom.sort(Comparator.comparingDouble(Naive::value).thenComparingLong(Naive::example));
                    check(r, l, c, "top", top.subList(0, 10), reduce);
                    check(r, l, c, "bottom", bottom.subList(0, 5), reduce);
                }
            }
        }
    }

    private static void check(AnalysisResult r, LayerInfo l, int c, String which, List<Naive> expected,
                              TopActivationsAnalyzer.Reduce reduce) {
        List<Map<String, Object>> got = entries(r, l.name(), c, which);
        String prefix = TopActivationsAnalyzer.arrayName(l.name());
        float[] values = r.array(prefix + "-" + which + "-values").orElseThrow().floats();
        float[] inputs = r.array(prefix + "-" + which + "-inputs").orElseThrow().floats();
        int k = expected.size();
        assertEquals(k, got.size());
        for (int j = 0; j < k; j++) {
            String where = l.name() + "[" + c + "] " + which + " #" + (j + 1) + " " + reduce;
            Naive x = expected.get(j);
            Map<String, Object> g = got.get(j);
            assertEquals(j + 1, g.get("rank"), where);
            assertEquals(x.value(), ((Double) g.get("value")).floatValue(), 0f, where);
            assertEquals(x.example(), g.get("example"), where);
            assertEquals("ex-" + x.example(), g.get("id"), where);
            assertEquals((int) (x.example() % 2), g.get("label"), where);
            assertEquals(CLASSES.get((int) (x.example() % 2)), g.get("className"), where);
            assertEquals(Map.of("parity", x.example() % 2 == 0 ? "even" : "odd"), g.get("metadata"), where);
            assertEquals(x.value(), values[c * k + j], 0f, where);
            assertEquals((float) x.example(), inputs[(c * k + j) * 64], 0f, where + ": the kept input is the example's");
            if (l.spatial()) {
                assertEquals(List.of(x.position() / 4, x.position() % 4), g.get("position"), where);
            } else {
                assertTrue(!g.containsKey("position"), where);
            }
        }
    }

    @Test
    void regionMapsAFeatureCellToTheInputPixelsItCoversWithAMargin() {
        // 4x4 map over 8x8 input: cell (1, 2) covers rows 2..3, cols 4..5; margin 1 widens to 1..4, 3..6
        assertArrayEquals(new int[]{1, 3, 4, 6}, TopActivationsAnalyzer.region(1, 2, 4, 4, 8, 8, 1));
        // corners are clipped
        assertArrayEquals(new int[]{0, 0, 2, 2}, TopActivationsAnalyzer.region(0, 0, 4, 4, 8, 8, 1));
        assertArrayEquals(new int[]{5, 5, 7, 7}, TopActivationsAnalyzer.region(3, 3, 4, 4, 8, 8, 1));
        // 14x14 over 28x28 without margin: exactly 2x2 pixels
        assertArrayEquals(new int[]{24, 26, 25, 27}, TopActivationsAnalyzer.region(12, 13, 14, 14, 28, 28, 0));
        // non-divisible: 3 cells over 7 pixels: cell 1 covers floor(7/3)=2 .. ceil(14/3)-1=4
        assertArrayEquals(new int[]{2, 2, 4, 4}, TopActivationsAnalyzer.region(1, 1, 3, 3, 7, 7, 0));
    }

    @Test
    void regionsInTheSummaryFollowTheRecordedPositions() {
        AnalysisResult r = run(data(100, 2, 50), params(3, 0, TopActivationsAnalyzer.Reduce.MAX));
        for (Map<String, Object> e : entries(r, CONV.name(), 0, "top")) {
            @SuppressWarnings("unchecked")
            List<Integer> pos = (List<Integer>) e.get("position");
            assertEquals(java.util.Arrays.stream(TopActivationsAnalyzer.region(pos.get(0), pos.get(1), 4, 4, 8, 8, 1)).boxed().toList(),
                    e.get("region"));
        }
        assertEquals(List.of(8, 8, 1), r.summary().get("inputShape"));
    }

    @Test
    void fourChunksMergedInOrderAndReversedBatchesGiveTheSameResult() {
        List<ActivationBatch> bs = data(500, 3, 23);
        TopActivationsAnalyzer.Params p = params(7, 4, TopActivationsAnalyzer.Reduce.MAX);
        AnalysisResult single = run(bs, p);

        List<TopActivationsAnalyzer.Tops> chunks = new ArrayList<>();
        int[] cuts = {0, 5, 6, 14, bs.size()};
        for (int i = 0; i < 4; i++) {
            var t = tops(p);
            bs.subList(cuts[i], cuts[i + 1]).forEach(t::accept);
            chunks.add(t);
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
                Tensor a = single.array(name).orElseThrow();
                Tensor b = other.array(name).orElseThrow();
                assertArrayEquals(a.shape(), b.shape(), name);
                if (a.dtype() == io.neuronmonkey.api.tensor.DType.FLOAT32) {
                    assertArrayEquals(a.floats(), b.floats(), name);
                } else {
                    assertArrayEquals(a.ints(), b.ints(), name);
                }
            }
        }
    }

    @Test
    void fewerExamplesThanKLeaveNaNRowsAndMinusOneIndices() {
        AnalysisResult r = run(data(3, 4, 3), params(5, 0, TopActivationsAnalyzer.Reduce.MAX));
        Tensor v = r.array("dense-top-values").orElseThrow();
        Tensor in = r.array("dense-top-inputs").orElseThrow();
        Tensor ex = r.array("dense-top-examples").orElseThrow();
        assertArrayEquals(new int[]{2, 5}, v.shape());
        assertArrayEquals(new int[]{2, 5, 8, 8, 1}, in.shape());
        for (int j = 3; j < 5; j++) {
            assertTrue(Float.isNaN(v.floats()[j]));
            assertEquals(-1, ex.ints()[j]);
            assertTrue(Float.isNaN(in.floats()[j * 64 + 10]));
        }
        assertEquals(3, entries(r, "dense", 0, "top").size());
        assertTrue(r.array("net_conv-top-values").isPresent(), "layer names are sanitized for array names");
    }

    @Test
    void inputsAreLeftOutWhenNotWanted() {
        var p = new TopActivationsAnalyzer.Params(4, 0, TopActivationsAnalyzer.Reduce.MEAN, false, 1);
        AnalysisResult r = run(data(50, 5, 10), p);
        assertTrue(r.array("dense-top-inputs").isEmpty());
        assertTrue(r.array("dense-top-values").isPresent());
    }

    @Test
    void rejectsOutOfRangeParamsAllAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new TopActivationsAnalyzer.Params(0, -1, null, true, -2));
        assertEquals(List.of("k", "bottomK", "reduce", "regionMargin"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
