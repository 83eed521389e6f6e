package io.neuronmonkey.stats;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.DType;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.function.BiPredicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The breakdown over text: padding never counts; tokens grouped by a per-token key or by their example's value. */
class TextBreakdownTest {

    static final int T = 10;
    static final List<String> META = List.of("group", "tag");
    static final List<String> TOKEN_KEYS = List.of("lexicon", "swear");

    static ActivationBreakdownAnalyzer.Params params(List<String> keys, ActivationBreakdownAnalyzer.Reduce reduce) {
        return new ActivationBreakdownAnalyzer.Params(keys, 12, reduce, 10);
    }

    static AnalysisResult run(List<ActivationBatch> bs, ActivationBreakdownAnalyzer.Params p) {
        var b = new ActivationBreakdownAnalyzer.Breakdown(p, List.of(TextBatches.tokenLayer(T), TextBatches.POOLED_LAYER),
                TextBatches.CLASSES, META, TOKEN_KEYS);
        bs.forEach(b::accept);
        return b.finish();
    }

    static NeuronTable.Column column(AnalysisResult r, String layer, String key, String name) {
        return r.part(Ids.sanitize(layer) + "-" + key + "-effect", NeuronTable.class).orElseThrow().column(name).orElseThrow();
    }

    /** Naive Cohen's d with the pooled sample standard deviation. */
    static double cohen(DescriptiveStatistics a, DescriptiveStatistics b) {
        long na = a.getN();
        long nb = b.getN();
        double pooled = ((na - 1) * a.getVariance() + (nb - 1) * b.getVariance()) / (na + nb - 2);
        return (a.getMean() - b.getMean()) / Math.sqrt(pooled);
    }

    /** The real tokens of neuron c split in two groups by a predicate on (example, token position). */
    static DescriptiveStatistics[] split(List<TextBatches.Example> ex, int c, BiPredicate<TextBatches.Example, Integer> inA) {
        DescriptiveStatistics a = new DescriptiveStatistics();
        DescriptiveStatistics b = new DescriptiveStatistics();
        for (TextBatches.Example x : ex) {
            for (int p = 0; p < x.length(); p++) {
                (inA.test(x, p) ? a : b).addValue(x.act()[p][c]);
            }
        }
        return new DescriptiveStatistics[]{a, b};
    }

    @Test
    void aTwoValuedTokenKeyGivesTheNaiveTwoGroupCohensDOverRealTokens() {
        List<TextBatches.Example> ex = TextBatches.examples(300, 1, T, 31);
        AnalysisResult r = run(TextBatches.padded(ex, T, 32, 7), params(List.of("swear"), ActivationBreakdownAnalyzer.Reduce.TOKEN));
        float[] d = column(r, "block1/mlp", "swear", "d").values().floats();
        float[] meanA = column(r, "block1/mlp", "swear", "meanA").values().floats();
        float[] meanB = column(r, "block1/mlp", "swear", "meanB").values().floats();
        float[] stdA = column(r, "block1/mlp", "swear", "stdA").values().floats();
        float[] stdB = column(r, "block1/mlp", "swear", "stdB").values().floats();
        for (int c = 1; c < TextBatches.D; c++) {
            DescriptiveStatistics[] g = split(ex, c, (x, p) -> x.tokens().tag("swear", p).equals("yes"));
            String where = "neuron " + c;
            assertEquals(cohen(g[0], g[1]), d[c], 1e-5 * Math.max(1, Math.abs(cohen(g[0], g[1]))), where);
            assertEquals(g[0].getMean(), meanA[c], 1e-6, where);
            assertEquals(g[1].getMean(), meanB[c], 1e-6, where);
            assertEquals(g[0].getStandardDeviation(), stdA[c], 1e-5, where);
            assertEquals(g[1].getStandardDeviation(), stdB[c], 1e-5, where);
        }
        // neuron 0 is 0 on every real token (7 on padding): no difference at all
        assertEquals(0f, d[0], 0f);
        Ranking ranking = r.part("swear-ranking", Ranking.class).orElseThrow();
        assertEquals(new NeuronRef("block1/mlp", 1), ranking.entries().get(0).neuron(), "the planted toxic-token neuron");
        Finding f = r.findings().stream().filter(x -> x.id().equals("swear-tracks")).findFirst().orElseThrow();
        assertEquals(Finding.Severity.NOTABLE, f.severity());
        assertTrue(f.claim().contains("tracks swear (yes vs no)"), f.claim());
        assertEquals(new NeuronRef("block1/mlp", 1), f.neurons().get(0));
        long yes = ex.stream().mapToLong(x -> x.tokens().tags().get("swear").stream().filter("yes"::equals).count()).sum();
        long tokens = ex.stream().mapToLong(TextBatches.Example::length).sum();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> counts = (List<Map<String, Object>>) ((Map<String, Object>) r.summary().get("values")).get("swear");
        assertEquals(List.of("no", "yes"), counts.stream().map(m -> m.get("value")).toList());
        assertEquals(tokens, counts.stream().mapToLong(m -> ((Number) m.get("count")).longValue()).sum(), "counts are tokens");
        assertEquals(yes, counts.stream().filter(m -> m.get("value").equals("yes")).mapToLong(m -> ((Number) m.get("count")).longValue()).sum());
        @SuppressWarnings("unchecked")
        Map<String, Object> observed = (Map<String, Object>) r.summary().get("observed");
        assertEquals(tokens, ((Number) observed.get("tokens")).longValue());
        assertEquals(300L * T - tokens, ((Number) observed.get("paddingPositionsExcluded")).longValue());
        assertEquals(List.of("swear"), observed.get("tokenKeys"));
        assertEquals("layers without token positions: [pooled]", observed.get("tokenKeysNotApplied"));
    }

    @Test
    void aManyValuedLexiconGivesEachValueAgainstTheOtherTokens() {
        List<TextBatches.Example> ex = TextBatches.examples(300, 1, T, 32);
        AnalysisResult r = run(TextBatches.padded(ex, T, 25), params(List.of("lexicon"), ActivationBreakdownAnalyzer.Reduce.TOKEN));
        for (String value : List.of("toxic", "group", "clinical", "none")) {
            float[] d = column(r, "block1/mlp", "lexicon", "d:" + value).values().floats();
            for (int c = 1; c < TextBatches.D; c++) {
                DescriptiveStatistics[] g = split(ex, c, (x, p) -> x.tokens().tag("lexicon", p).equals(value));
                double ref = cohen(g[0], g[1]);
                assertEquals(ref, d[c], 1e-5 * Math.max(1, Math.abs(ref)), value + " neuron " + c);
            }
        }
        Ranking ranking = r.part("lexicon-ranking", Ranking.class).orElseThrow();
        assertEquals(new NeuronRef("block1/mlp", 1), ranking.entries().get(0).neuron());
        assertEquals("lexicon=toxic vs rest", ranking.entries().get(0).note());
    }

    @Test
    void anExampleKeyGivesEveryTokenItsExamplesValue() {
        List<TextBatches.Example> ex = TextBatches.examples(250, 1, T, 33);
        AnalysisResult r = run(TextBatches.padded(ex, T, 19), params(List.of("group", "class"), ActivationBreakdownAnalyzer.Reduce.TOKEN));
        float[] d = column(r, "block1/mlp", "group", "d").values().floats();
        float[] dc = column(r, "block1/mlp", "class", "d").values().floats();
        float[] pooled = column(r, "pooled", "group", "d").values().floats();
        for (int c = 1; c < TextBatches.D; c++) {
            // two values, neither positive-looking: A is the first in sorted order (quenti)
            DescriptiveStatistics[] g = split(ex, c, (x, p) -> x.metadata().get("group").equals("quenti"));
            assertEquals(cohen(g[0], g[1]), d[c], 1e-5 * Math.max(1, Math.abs(cohen(g[0], g[1]))), "group neuron " + c);
            DescriptiveStatistics[] k = split(ex, c, (x, p) -> x.label() == 0);
            assertEquals(cohen(k[0], k[1]), dc[c], 1e-5 * Math.max(1, Math.abs(cohen(k[0], k[1]))), "class neuron " + c);
        }
        for (int c = 0; c < TextBatches.POOLED; c++) {
            DescriptiveStatistics a = new DescriptiveStatistics();
            DescriptiveStatistics b = new DescriptiveStatistics();
            for (TextBatches.Example x : ex) {
                (x.metadata().get("group").equals("quenti") ? a : b).addValue(x.pooled()[c]);
            }
            assertEquals(cohen(a, b), pooled[c], 1e-5 * Math.max(1, Math.abs(cohen(a, b))), "one observation per sequence");
        }
    }

    @Test
    void perSequenceReductionsOnTextUseTheRealTokensOnly() {
        List<TextBatches.Example> ex = TextBatches.examples(250, 1, T, 34);
        for (ActivationBreakdownAnalyzer.Reduce reduce : List.of(ActivationBreakdownAnalyzer.Reduce.MAX,
                ActivationBreakdownAnalyzer.Reduce.MEAN, ActivationBreakdownAnalyzer.Reduce.FIRST, ActivationBreakdownAnalyzer.Reduce.LAST)) {
            AnalysisResult r = run(TextBatches.padded(ex, T, 19), params(List.of("group"), reduce));
            float[] d = column(r, "block1/mlp", "group", "d").values().floats();
            for (int c = 1; c < TextBatches.D; c++) {
                DescriptiveStatistics a = new DescriptiveStatistics();
                DescriptiveStatistics b = new DescriptiveStatistics();
                for (TextBatches.Example x : ex) {
                    double v = TextCensusTest.reduce(x, c, ActivationStatsAnalyzer.Reduce.valueOf(reduce.name()));
                    (x.metadata().get("group").equals("quenti") ? a : b).addValue(v);
                }
                assertEquals(cohen(a, b), d[c], 1e-5 * Math.max(1, Math.abs(cohen(a, b))), reduce + " neuron " + c);
            }
        }
    }

    @Test
    void withoutNamedKeysTokenReductionAlsoBreaksDownByTheTokenKeys() {
        List<TextBatches.Example> ex = TextBatches.examples(100, 1, T, 35);
        AnalysisResult r = run(TextBatches.padded(ex, T, 50), params(null, ActivationBreakdownAnalyzer.Reduce.TOKEN));
        assertEquals(List.of("class", "group", "tag", "lexicon", "swear"), r.summary().get("keys"));
        AnalysisResult perSequence = run(TextBatches.padded(ex, T, 50), params(null, ActivationBreakdownAnalyzer.Reduce.MAX));
        assertEquals(List.of("class", "group", "tag"), perSequence.summary().get("keys"));
    }

    @Test
    void onTextAKeyMustBeMetadataOrPerTokenAndAPerTokenKeyNeedsTokenReduction() {
        DatasetInfo text = new DatasetInfo(100, new int[]{T}, TextBatches.CLASSES, META, DType.INT32,
                List.of("attention_mask"), TOKEN_KEYS, true);
        InvalidParamsException e = assertThrows(InvalidParamsException.class, () -> ActivationBreakdownAnalyzer.checkKeys(
                params(List.of("group", "colour"), ActivationBreakdownAnalyzer.Reduce.TOKEN), text));
        assertEquals("keys - 'colour' is neither an example metadata key [group, tag] (or 'class') nor a token key "
                + "[lexicon, swear]", e.getMessage());
        InvalidParamsException perToken = assertThrows(InvalidParamsException.class, () -> ActivationBreakdownAnalyzer.checkKeys(
                params(List.of("lexicon"), ActivationBreakdownAnalyzer.Reduce.MAX), text));
        assertTrue(perToken.getMessage().contains("'lexicon' is a per-token key (token keys [lexicon, swear]); it needs "
                + "reduce: token, found reduce: max"), perToken.getMessage());
        ActivationBreakdownAnalyzer.checkKeys(params(List.of("class", "group", "lexicon"), ActivationBreakdownAnalyzer.Reduce.TOKEN), text);
        // image data: a key absent from the info's list is left to the data (reported as skipped when no example has it)
        DatasetInfo images = new DatasetInfo(100, new int[]{8, 8, 1}, List.of(), List.of("watermark"));
        ActivationBreakdownAnalyzer.checkKeys(params(List.of("colour"), ActivationBreakdownAnalyzer.Reduce.MAX), images);
    }
}
