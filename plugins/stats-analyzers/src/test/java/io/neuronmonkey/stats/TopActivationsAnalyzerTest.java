package io.neuronmonkey.stats;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.NdArray;
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
import static org.junit.jupiter.api.Assertions.assertNull;
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
                meta.add(Map.of("parity", (done + e) % 2 == 0 ? "even" : "odd", "i", Integer.toString(done + e),
                        "w", (done + e) % 3 == 0 ? "0.5" : "007"));
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

    static ExampleSet set(AnalysisResult r, String layer, String which) {
        return r.part(Ids.sanitize(layer) + "-" + which, ExampleSet.class).orElseThrow();
    }

    static List<ExampleSet.Example> entries(AnalysisResult r, String layer, int neuron, String which) {
        return set(r, layer, which).of(neuron).orElseThrow().examples();
    }

    @Test
    void topAndBottomKMatchANaiveSortIncludingTiesAndArgmaxPositions() {
        List<ActivationBatch> bs = data(300, 1, 37);
        for (TopActivationsAnalyzer.Reduce reduce : List.of(TopActivationsAnalyzer.Reduce.MEAN, TopActivationsAnalyzer.Reduce.MAX)) {
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
        ExampleSet set = set(r, l.name(), which);
        assertEquals(which, set.order());
        assertEquals(l.name(), set.layer());
        assertEquals(l.spatial() ? reduce.name().toLowerCase(java.util.Locale.ROOT) + " over positions" : "activation", set.value());
        assertEquals(CLASSES, set.classNames());
        assertEquals(l.neurons(), set.neurons().size(), "one entry per neuron");
        List<ExampleSet.Example> got = entries(r, l.name(), c, which);
        float[] inputs = set.inputs().floats();
        assertEquals(List.of("neuron", "rank", "height", "width", "channel"), set.inputs().dims());
        int k = expected.size();
        assertArrayEquals(new int[]{l.neurons(), k, 8, 8, 1}, set.inputs().data().shape());
        assertEquals(k, got.size());
        for (int j = 0; j < k; j++) {
            String where = l.name() + "[" + c + "] " + which + " #" + (j + 1) + " " + reduce;
            Naive x = expected.get(j);
            ExampleSet.Example g = got.get(j);
            assertEquals(j + 1, g.rank(), where);
            assertEquals(x.value(), (float) g.value(), 0f, where);
            assertEquals(x.example(), g.index(), where);
            assertEquals("ex-" + x.example(), g.exampleId(), where);
            assertEquals((int) (x.example() % 2), g.label(), where);
            // numbers stay numbers (an Integer, a Double); "007" is no JSON number and stays a string
            assertEquals(Map.of("parity", x.example() % 2 == 0 ? "even" : "odd", "i", (int) x.example(),
                    "w", x.example() % 3 == 0 ? (Object) 0.5 : "007"), g.metadata(), where);
            assertEquals(List.of("i", "parity", "w"), List.copyOf(g.metadata().keySet()), "metadata keys sorted");
            assertEquals((float) x.example(), inputs[(c * k + j) * 64], 0f, where + ": the kept input is the example's");
            if (l.spatial()) {
                assertArrayEquals(new int[]{x.position() / 4, x.position() % 4}, g.position(), where);
            } else {
                assertNull(g.position(), where);
                assertNull(g.region(), where);
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
        List<ExampleSet.Example> top = entries(r, CONV.name(), 0, "top");
        assertEquals(3, top.size());
        for (ExampleSet.Example e : top) {
            int[] pos = e.position();
            assertArrayEquals(TopActivationsAnalyzer.region(pos[0], pos[1], 4, 4, 8, 8, 1), e.region());
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

        assertEquals(List.of("net_conv-top", "net_conv-bottom", "dense-top", "dense-bottom"),
                single.parts().stream().map(io.neuronmonkey.api.result.ResultPart::id).toList());
        assertTrue(single.arrays().isEmpty(), "everything is in typed parts");
        for (AnalysisResult other : List.of(merged, backwards)) {
            ResultTrees.assertSameResult(single, other);
        }
    }

    @Test
    void fewerExamplesThanKLeaveShortListsAndNaNInputs() {
        AnalysisResult r = run(data(3, 4, 3), params(5, 0, TopActivationsAnalyzer.Reduce.MAX));
        ExampleSet top = set(r, "dense", "top");
        NdArray in = top.inputs();
        assertArrayEquals(new int[]{2, 5, 8, 8, 1}, in.data().shape());
        for (int j = 0; j < 5; j++) {
            assertEquals(j >= 3, Float.isNaN(in.floats()[j * 64 + 10]), "rank " + (j + 1));
        }
        assertEquals(3, entries(r, "dense", 0, "top").size());
        assertTrue(r.part("net_conv-top", ExampleSet.class).isPresent(), "layer names are sanitized for part ids");
        assertTrue(r.part("dense-bottom", ExampleSet.class).isEmpty(), "bottomK 0: no bottom examples");
    }

    @Test
    void inputsAreLeftOutWhenNotWanted() {
        var p = new TopActivationsAnalyzer.Params(4, 0, TopActivationsAnalyzer.Reduce.MEAN, false, 1);
        AnalysisResult r = run(data(50, 5, 10), p);
        assertNull(set(r, "dense", "top").inputs());
        assertEquals(4, entries(r, "dense", 1, "top").size());
    }

    @Test
    void unlabelledVectorInputsGiveNullLabelsAndFeatureDimensions() {
        LayerInfo l = new LayerInfo("d", "Relu", new int[]{1}, LayerInfo.Role.HIDDEN);
        float[] inputs = {10, 11, 12, 20, 21, 22, 30, 31, 32};
        float[] act = {0.5f, 2f, 1f};
        Batch b = new Batch(0, Tensor.ofFloats(inputs, 3, 3), null, List.of("a", "b", "c"), Collections.nCopies(3, Map.of()));
        var t = new TopActivationsAnalyzer.Tops(params(2, 1, TopActivationsAnalyzer.Reduce.MAX), List.of(l), List.of(), null);
        t.accept(new ActivationBatch(b, Map.of("d", Tensor.ofFloats(act, 3, 1))));
        AnalysisResult r = t.finish();
        ExampleSet top = set(r, "d", "top");
        assertEquals(List.of("neuron", "rank", "feature"), top.inputs().dims());
        assertArrayEquals(new float[]{20, 21, 22, 30, 31, 32}, top.inputs().floats());
        assertEquals(List.of("b", "c"), top.of(0).orElseThrow().examples().stream().map(ExampleSet.Example::exampleId).toList());
        assertNull(top.of(0).orElseThrow().examples().get(0).label());
        ExampleSet bottom = set(r, "d", "bottom");
        assertEquals("bottom", bottom.order());
        assertEquals(0.5, bottom.of(0).orElseThrow().examples().get(0).value(), 0.0);
        assertEquals(List.of(3), r.summary().get("inputShape"));
        assertEquals(List.of("neuron", "rank", "height", "width"), TopActivationsAnalyzer.inputDims(2));
        assertEquals(List.of("neuron", "rank", "d0", "d1", "d2", "d3"), TopActivationsAnalyzer.inputDims(4));
    }

    @Test
    void summaryHoldsRunFactsOnly() {
        AnalysisResult r = run(data(20, 6, 10), params(2, 1, TopActivationsAnalyzer.Reduce.MAX));
        assertEquals(List.of("analyzer", "k", "bottomK", "reduce", "examples", "classNames", "inputShape", "includeInputs",
                "order", "positionRule", "regionRule", "nanValuesSkipped"), List.copyOf(r.summary().keySet()));
        assertEquals(20L, r.summary().get("examples"));
    }

    @Test
    void rejectsOutOfRangeParamsAllAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new TopActivationsAnalyzer.Params(0, -1, null, true, -2));
        assertEquals(List.of("k", "bottomK", "reduce", "regionMargin"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
