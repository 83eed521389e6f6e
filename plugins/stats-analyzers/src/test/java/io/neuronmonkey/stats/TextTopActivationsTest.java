package io.neuronmonkey.stats;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Top activations over text: tokens in context, padding never a candidate. */
class TextTopActivationsTest {

    static final int T = 10;

    static TopActivationsAnalyzer.Params params(int k, int bottomK, TopActivationsAnalyzer.Reduce reduce, int context,
                                                boolean distinct) {
        return new TopActivationsAnalyzer.Params(k, bottomK, reduce, true, 1, context, distinct);
    }

    static TopActivationsAnalyzer.Tops tops(TopActivationsAnalyzer.Params p) {
        return new TopActivationsAnalyzer.Tops(p, List.of(TextBatches.tokenLayer(T), TextBatches.POOLED_LAYER),
                TextBatches.CLASSES, new int[]{T});
    }

    static AnalysisResult run(List<ActivationBatch> bs, TopActivationsAnalyzer.Params p) {
        var t = tops(p);
        bs.forEach(t::accept);
        return t.finish();
    }

    static ExampleSet set(AnalysisResult r, String id) {
        return r.part(id, ExampleSet.class).orElseThrow();
    }

    /** Naive reference: one candidate, its value and the position (token) the value comes from. */
    record Naive(float value, long example, int position) {
    }

    static List<Naive> naive(List<TextBatches.Example> ex, int c, TopActivationsAnalyzer.Reduce reduce, boolean perToken) {
        List<Naive> all = new ArrayList<>();
        for (int i = 0; i < ex.size(); i++) {
            float[][] a = ex.get(i).act();
            if (perToken) {
                for (int p = 0; p < a.length; p++) {
                    all.add(new Naive(a[p][c], i, p));
                }
                continue;
            }
            int arg = 0;
            double sum = 0;
            for (int p = 0; p < a.length; p++) {
                sum += a[p][c];
                if (a[p][c] > a[arg][c]) {
                    arg = p;
                }
            }
            all.add(switch (reduce) {
                case MAX -> new Naive(a[arg][c], i, arg);
                case MEAN -> new Naive((float) (sum / a.length), i, arg);
                case FIRST -> new Naive(a[0][c], i, 0);
                case LAST -> new Naive(a[a.length - 1][c], i, a.length - 1);
            });
        }
        return all;
    }

    static List<Naive> best(List<Naive> all, int k, boolean top) {
        Comparator<Naive> byValue = Comparator.comparingDouble(x -> top ? -x.value() : x.value());
        List<Naive> sorted = new ArrayList<>(all);
        sorted.sort(byValue.thenComparingLong(Naive::example).thenComparingInt(Naive::position));
        return sorted.subList(0, Math.min(k, sorted.size()));
    }

    /** Checks one kept entry against the naive one, its text context against the example's tokens and activations. */
    static void checkEntry(ExampleSet.Example g, Naive x, TextBatches.Example ex, int c, int context, String where) {
        assertEquals(x.value(), (float) g.value(), 0f, where);
        assertEquals(x.example(), g.index(), where);
        assertEquals("s-" + x.example(), g.exampleId(), where);
        assertEquals(ex.label(), g.label(), where);
        assertArrayEquals(new int[]{x.position()}, g.position(), where + ": the token the value comes from");
        assertNull(g.region(), where);
        Tokens t = ex.tokens();
        assertEquals(t.surface(x.position()), g.metadata().get("token"), where);
        assertEquals(ex.metadata().get("group"), g.metadata().get("group"), where);
        ExampleSet.TextContext text = g.text();
        int first = Math.max(0, x.position() - context);
        int last = Math.min(ex.length() - 1, x.position() + context);
        assertEquals(first, text.first(), where);
        assertEquals(last - first + 1, text.pieces().size(), where + ": window clipped to the real tokens");
        assertEquals(x.position() - first, text.focus(), where);
        // the context's token() is its piece trimmed of whitespace: the surface, after any dropped punctuation
        assertTrue(text.token().endsWith(t.surface(x.position())), where + ": " + text.token());
        float[] values = text.values();
        for (int i = 0; i < values.length; i++) {
            assertEquals(ex.act()[first + i][c], values[i], 0f, where + ": value of window token " + i);
        }
        // pieces: special tokens by their string; the others joined give the text from the window's first
        // token's start to its last token's end, and each ends with its token's surface
        StringBuilder joined = new StringBuilder();
        int from = -1;
        int to = -1;
        for (int i = 0; i < text.pieces().size(); i++) {
            int p = first + i;
            String piece = text.pieces().get(i);
            if (t.start(p) < 0) {
                assertEquals(t.tokens().get(p), piece, where);
                continue;
            }
            assertTrue(piece.endsWith(t.surface(p)), where + ": piece '" + piece + "' ends with its token");
            from = from < 0 ? t.start(p) : from;
            to = t.end(p);
            joined.append(piece);
        }
        assertEquals(from < 0 ? "" : t.text().substring(from, to), joined.toString(), where);
    }

    @Test
    void topAndBottomTokensInContextMatchANaiveSortOverTheRealTokens() {
        List<TextBatches.Example> ex = TextBatches.examples(200, 1, T, 21);
        List<ActivationBatch> bs = TextBatches.padded(ex, T, 13, 40);
        for (TopActivationsAnalyzer.Reduce reduce : TopActivationsAnalyzer.Reduce.values()) {
            AnalysisResult r = run(bs, params(6, 3, reduce, 2, true));
            ExampleSet top = set(r, "block1_mlp-top");
            ExampleSet bottom = set(r, "block1_mlp-bottom");
            assertNull(top.inputs(), "no input copies for text");
            for (int c = 0; c < TextBatches.D; c++) {
                List<Naive> all = naive(ex, c, reduce, false);
                for (boolean isTop : List.of(true, false)) {
                    List<Naive> expected = best(all, isTop ? 6 : 3, isTop);
                    List<ExampleSet.Example> got = (isTop ? top : bottom).of(c).orElseThrow().examples();
                    assertEquals(expected.size(), got.size());
                    for (int j = 0; j < expected.size(); j++) {
                        Naive x = expected.get(j);
                        checkEntry(got.get(j), x, ex.get((int) x.example()), c, 2,
                                reduce + " neuron " + c + (isTop ? " top #" : " bottom #") + (j + 1));
                    }
                }
            }
            // the pooled layer has no token positions: no window, the example's text as metadata
            ExampleSet.Example pooled = set(r, "pooled-top").of(0).orElseThrow().examples().get(0);
            assertNull(pooled.text());
            assertEquals(ex.get((int) pooled.index()).tokens().text(), pooled.metadata().get("text"));
            assertEquals(false, r.summary().get("includeInputs"));
            assertEquals(2, r.summary().get("contextTokens"));
        }
        assertEquals("max over real tokens", set(run(bs, params(2, 0, TopActivationsAnalyzer.Reduce.MAX, 2, true)),
                "block1_mlp-top").value());
    }

    @Test
    void everyTokenIsACandidateWhenTextsNeedNotBeDistinct() {
        List<TextBatches.Example> ex = TextBatches.examples(120, 1, T, 22);
        AnalysisResult r = run(TextBatches.padded(ex, T, 17), params(12, 5, TopActivationsAnalyzer.Reduce.MAX, 3, false));
        boolean repeated = false;
        for (int c = 0; c < TextBatches.D; c++) {
            List<Naive> all = naive(ex, c, TopActivationsAnalyzer.Reduce.MAX, true);
            for (boolean isTop : List.of(true, false)) {
                List<Naive> expected = best(all, isTop ? 12 : 5, isTop);
                List<ExampleSet.Example> got = set(r, isTop ? "block1_mlp-top" : "block1_mlp-bottom").of(c).orElseThrow().examples();
                assertEquals(expected.size(), got.size());
                for (int j = 0; j < expected.size(); j++) {
                    Naive x = expected.get(j);
                    checkEntry(got.get(j), x, ex.get((int) x.example()), c, 3, "neuron " + c + " #" + (j + 1));
                }
                repeated |= got.stream().map(ExampleSet.Example::index).distinct().count() < got.size();
            }
        }
        assertTrue(repeated, "some example holds several ranks");
        assertEquals("activation at a real token", set(r, "block1_mlp-top").value());
    }

    @Test
    void theWindowIsClippedToTheRealTokensAndItsPiecesCarryTheTextBetweenTokens() {
        String text = "Hello, world again!";
        Tokens tokens = new Tokens(text, List.of("[CLS]", "hello", "world", "again"), new int[]{-1, 0, 7, 13},
                new int[]{-1, 5, 12, 18}, Map.of());
        int t = 8;
        float[] act = new float[t];
        float[] real = {0.1f, 0.2f, 0.5f, 3f};
        System.arraycopy(real, 0, act, 0, 4);
        java.util.Arrays.fill(act, 4, t, 1000f); // padding: never the max
        int[] mask = {1, 1, 1, 1, 0, 0, 0, 0};
        Batch b = new Batch(0, Tensor.ofInts(new int[t], 1, t), new int[]{1}, List.of("only"), List.of(Map.of()),
                Map.of(Batch.ATTENTION_MASK, Tensor.ofInts(mask, 1, t)), List.of(tokens));
        LayerInfo layer = new LayerInfo("h", "Relu", new int[]{t, 1}, LayerInfo.Role.HIDDEN);
        for (int context : List.of(8, 1, 0)) {
            var tops = new TopActivationsAnalyzer.Tops(params(1, 0, TopActivationsAnalyzer.Reduce.MAX, context, true),
                    List.of(layer), TextBatches.CLASSES, null);
            tops.accept(new ActivationBatch(b, Map.of("h", Tensor.ofFloats(act, 1, t, 1))));
            ExampleSet.Example e = set(tops.finish(), "h-top").of(0).orElseThrow().examples().get(0);
            assertEquals(3.0, e.value(), 0.0);
            assertEquals("again", e.metadata().get("token"));
            ExampleSet.TextContext c = e.text();
            assertEquals("again", c.token());
            switch (context) {
                case 8 -> {
                    assertEquals(List.of("[CLS]", "Hello", ", world", " again"), c.pieces());
                    assertArrayEquals(real, c.values());
                    assertEquals(3, c.focus());
                    assertEquals(0, c.first());
                }
                case 1 -> {
                    assertEquals(List.of("world", " again"), c.pieces());
                    assertArrayEquals(new float[]{0.5f, 3f}, c.values());
                    assertEquals(1, c.focus());
                    assertEquals(2, c.first());
                }
                default -> {
                    assertEquals(List.of("again"), c.pieces());
                    assertEquals(0, c.focus());
                }
            }
        }
    }

    @Test
    void chunksMergedAndReversedBatchesGiveTheSameTextResult() {
        List<TextBatches.Example> ex = TextBatches.examples(150, 1, T, 23);
        List<ActivationBatch> bs = TextBatches.padded(ex, T, 11);
        for (boolean distinct : List.of(true, false)) {
            TopActivationsAnalyzer.Params p = params(5, 2, TopActivationsAnalyzer.Reduce.MAX, 2, distinct);
            AnalysisResult single = run(bs, p);
            var a = tops(p);
            var b = tops(p);
            bs.subList(0, 6).forEach(a::accept);
            bs.subList(6, bs.size()).forEach(b::accept);
            a.merge(b);
            List<ActivationBatch> rev = new ArrayList<>(bs);
            Collections.reverse(rev);
            ResultTrees.assertSameResult(single, a.finish());
            ResultTrees.assertSameResult(single, run(rev, p));
        }
    }

    @Test
    void imageDataFirstAndLastAreTheFirstAndLastPosition() {
        List<ActivationBatch> bs = TopActivationsAnalyzerTest.data(80, 9, 30);
        LayerInfo conv = TopActivationsAnalyzerTest.CONV;
        for (TopActivationsAnalyzer.Reduce reduce : List.of(TopActivationsAnalyzer.Reduce.FIRST, TopActivationsAnalyzer.Reduce.LAST)) {
            AnalysisResult r = TopActivationsAnalyzerTest.run(bs, TopActivationsAnalyzerTest.params(3, 0, reduce));
            int p = reduce == TopActivationsAnalyzer.Reduce.FIRST ? 0 : conv.positions() - 1;
            for (int c = 0; c < conv.neurons(); c++) {
                List<Naive> all = new ArrayList<>();
                for (ActivationBatch b : bs) {
                    float[] a = b.activation(conv.name()).floats();
                    for (int e = 0; e < b.size(); e++) {
                        all.add(new Naive(a[(e * conv.positions() + p) * conv.neurons() + c], b.batch().offset() + e, p));
                    }
                }
                List<Naive> expected = best(all, 3, true);
                List<ExampleSet.Example> got = TopActivationsAnalyzerTest.entries(r, conv.name(), c, "top");
                for (int j = 0; j < 3; j++) {
                    assertEquals(expected.get(j).value(), (float) got.get(j).value(), 0f);
                    assertEquals(expected.get(j).example(), got.get(j).index());
                    assertArrayEquals(new int[]{p / 4, p % 4}, got.get(j).position());
                    assertNull(got.get(j).text());
                }
            }
            assertEquals("value at the " + reduce.name().toLowerCase(java.util.Locale.ROOT) + " position",
                    TopActivationsAnalyzerTest.set(r, conv.name(), "top").value());
            assertFalse(r.summary().containsKey("contextTokens"), "no text: no text facts");
        }
    }

    @Test
    void rejectsANegativeContext() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new TopActivationsAnalyzer.Params(1, 0, TopActivationsAnalyzer.Reduce.MAX, true, 1, -1, true));
        assertEquals(List.of("contextTokens"), e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }
}
