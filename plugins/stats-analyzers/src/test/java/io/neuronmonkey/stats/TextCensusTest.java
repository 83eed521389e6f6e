package io.neuronmonkey.stats;

import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronTable;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The census over text: padding never counts, per-sequence and per-token observations. */
class TextCensusTest {

    static final int T = 10;
    static final ActivationStatsAnalyzer.Reduce[] ALL = ActivationStatsAnalyzer.Reduce.values();

    static ActivationStatsAnalyzer.Params params(ActivationStatsAnalyzer.Reduce reduce) {
        return new ActivationStatsAnalyzer.Params(reduce, 0.0, 16, 1.0, 0.02, 0.95, 0.01, 0.01);
    }

    static ActivationStatsAnalyzer.Census census(ActivationStatsAnalyzer.Reduce reduce, int t) {
        return new ActivationStatsAnalyzer.Census(params(reduce), List.of(TextBatches.tokenLayer(t), TextBatches.POOLED_LAYER),
                TextBatches.CLASSES);
    }

    static AnalysisResult padded(List<TextBatches.Example> ex, ActivationStatsAnalyzer.Reduce reduce, int... sizes) {
        var c = census(reduce, T);
        TextBatches.padded(ex, T, sizes).forEach(c::accept);
        return c.finish();
    }

    /** Each example alone, a batch of one with T = its length, each in a census of its own, merged. */
    static AnalysisResult singles(List<TextBatches.Example> ex, ActivationStatsAnalyzer.Reduce reduce) {
        var all = census(reduce, T);
        for (ActivationBatch b : TextBatches.singles(ex)) {
            var one = census(reduce, b.batch().tokens().get(0).length());
            one.accept(b);
            all.merge(one);
        }
        return all.finish();
    }

    static NeuronTable stats(AnalysisResult r, String layer) {
        return r.part(Ids.sanitize(layer) + "-stats", NeuronTable.class).orElseThrow();
    }

    static float[] column(AnalysisResult r, String layer, String name) {
        return stats(r, layer).column(name).orElseThrow().values().floats();
    }

    static List<Integer> tag(AnalysisResult r, String layer, String name) {
        return stats(r, layer).tags().stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow().neurons();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> layerSummary(AnalysisResult r, String name) {
        return ((List<Map<String, Object>>) r.summary().get("layers")).stream()
                .filter(m -> m.get("name").equals(name)).findFirst().orElseThrow();
    }

    /** Naive per-sequence reduction of neuron c over the real tokens of an example. */
    static double reduce(TextBatches.Example x, int c, ActivationStatsAnalyzer.Reduce reduce) {
        float[][] a = x.act();
        return switch (reduce) {
            case FIRST -> a[0][c];
            case LAST -> a[a.length - 1][c];
            case MAX -> {
                float m = Float.NEGATIVE_INFINITY;
                for (float[] row : a) {
                    m = Math.max(m, row[c]);
                }
                yield m;
            }
            case MEAN -> {
                double s = 0;
                for (float[] row : a) {
                    s += row[c];
                }
                yield (float) (s / a.length);
            }
            case TOKEN -> throw new IllegalArgumentException("per token");
        };
    }

    @Test
    void aCensusOverPaddedBatchesEqualsOneOverUnpaddedSinglesForEveryReduction() {
        List<TextBatches.Example> ex = TextBatches.examples(150, 2, T, 11);
        long tokens = ex.stream().mapToLong(TextBatches.Example::length).sum();
        for (ActivationStatsAnalyzer.Reduce reduce : ALL) {
            AnalysisResult padded = padded(ex, reduce, 7, 32, 5);
            AnalysisResult singles = singles(ex, reduce);
            assertEquals(ResultTrees.tree(singles.parts()), ResultTrees.tree(padded.parts()), "parts, reduce " + reduce);
            assertEquals(ResultTrees.tree(singles.findings()), ResultTrees.tree(padded.findings()), "findings, reduce " + reduce);
            // neuron 0 is 0 on every real token and 7 on padding: dead, whatever the reduction
            assertEquals(List.of(0), tag(padded, "block1/mlp", "dead"), "reduce " + reduce);
            @SuppressWarnings("unchecked")
            Map<String, Object> observed = (Map<String, Object>) padded.summary().get("observed");
            assertEquals(150L, ((Number) observed.get("sequences")).longValue());
            assertEquals(tokens, ((Number) observed.get("tokens")).longValue());
            assertEquals(150L * T - tokens, ((Number) observed.get("paddingPositionsExcluded")).longValue());
            assertEquals(reduce == ActivationStatsAnalyzer.Reduce.TOKEN ? "token" : "sequence", observed.get("observation"));
            assertEquals(150L, ((Number) padded.summary().get("examples")).longValue());
            Map<String, Object> layer = layerSummary(padded, "block1/mlp");
            assertEquals(reduce == ActivationStatsAnalyzer.Reduce.TOKEN ? tokens : 150L, ((Number) layer.get("observations")).longValue());
            assertEquals(reduce == ActivationStatsAnalyzer.Reduce.TOKEN ? "tokens" : "examples", layer.get("observationUnit"));
            assertEquals(150L * T - tokens, ((Number) layer.get("paddingPositionsExcluded")).longValue());
            assertEquals(0L, ((Number) layerSummary(singles, "block1/mlp").get("paddingPositionsExcluded")).longValue());
        }
    }

    @Test
    void perTokenStatisticsMatchANaiveLoopOverTheRealTokens() {
        List<TextBatches.Example> ex = TextBatches.examples(200, 1, T, 12);
        AnalysisResult r = padded(ex, ActivationStatsAnalyzer.Reduce.TOKEN, 16, 3);
        float[] mean = column(r, "block1/mlp", "mean");
        float[] std = column(r, "block1/mlp", "std");
        float[] min = column(r, "block1/mlp", "min");
        float[] max = column(r, "block1/mlp", "max");
        float[] rate = column(r, "block1/mlp", "firingRate");
        Matrix hist = r.part("block1_mlp-histogram", Matrix.class).orElseThrow();
        Matrix classMean = r.part("block1_mlp-class-mean", Matrix.class).orElseThrow();
        assertEquals("tokens", hist.unit());
        assertTrue(stats(r, "block1/mlp").column("positionFiringRate").isEmpty(), "every observation is one position");
        long tokens = ex.stream().mapToLong(TextBatches.Example::length).sum();
        for (int c = 0; c < TextBatches.D; c++) {
            DescriptiveStatistics ref = new DescriptiveStatistics();
            DescriptiveStatistics[] perClass = {new DescriptiveStatistics(), new DescriptiveStatistics()};
            long fired = 0;
            for (TextBatches.Example x : ex) {
                for (float[] row : x.act()) {
                    ref.addValue(row[c]);
                    perClass[x.label()].addValue(row[c]);
                    fired += row[c] > 0 ? 1 : 0;
                }
            }
            String where = "neuron " + c;
            assertEquals(tokens, ref.getN());
            assertEquals(ref.getMean(), mean[c], 1e-6 * Math.max(1, Math.abs(ref.getMean())), where);
            assertEquals(ref.getStandardDeviation(), std[c], 1e-5 * Math.max(1e-3, ref.getStandardDeviation()), where);
            assertEquals((float) ref.getMin(), min[c], 0f, where);
            assertEquals((float) ref.getMax(), max[c], 0f, where);
            assertEquals((double) fired / tokens, rate[c], 1e-7, where);
            for (int k = 0; k < 2; k++) {
                assertEquals(perClass[k].getMean(), classMean.get(k, c), 1e-6 * Math.max(1, Math.abs(perClass[k].getMean())), where);
            }
            long total = 0;
            for (int b = 0; b < hist.cols().size(); b++) {
                total += (long) hist.get(c, b);
            }
            assertEquals(tokens, total, "every real token is in the histogram once, padding never");
        }
        // neuron 1 fires on the toxic lexicon only, the other real tokens are rectified noise: not always on
        assertTrue(tag(r, "block1/mlp", "always-on").isEmpty());
        assertEquals(List.of(0), tag(r, "block1/mlp", "dead"));
        // the pooled layer has one position: each sequence is one observation
        Map<String, Object> pooled = layerSummary(r, "pooled");
        assertEquals(200L, ((Number) pooled.get("observations")).longValue());
        assertEquals("examples", pooled.get("observationUnit"));
        assertEquals(0L, ((Number) pooled.get("paddingPositionsExcluded")).longValue());
        assertTrue(stats(r, "block1/mlp").description().contains("over " + tokens + " tokens"), stats(r, "block1/mlp").description());
    }

    @Test
    void perSequenceReductionsMatchANaiveLoopOverTheRealTokens() {
        List<TextBatches.Example> ex = TextBatches.examples(120, 1, T, 13);
        for (ActivationStatsAnalyzer.Reduce reduce : List.of(ActivationStatsAnalyzer.Reduce.MEAN, ActivationStatsAnalyzer.Reduce.MAX,
                ActivationStatsAnalyzer.Reduce.FIRST, ActivationStatsAnalyzer.Reduce.LAST)) {
            AnalysisResult r = padded(ex, reduce, 9);
            float[] mean = column(r, "block1/mlp", "mean");
            float[] min = column(r, "block1/mlp", "min");
            float[] max = column(r, "block1/mlp", "max");
            float[] rate = column(r, "block1/mlp", "firingRate");
            float[] positionRate = column(r, "block1/mlp", "positionFiringRate");
            long tokens = ex.stream().mapToLong(TextBatches.Example::length).sum();
            for (int c = 0; c < TextBatches.D; c++) {
                DescriptiveStatistics ref = new DescriptiveStatistics();
                long firedPositions = 0;
                for (TextBatches.Example x : ex) {
                    ref.addValue((float) reduce(x, c, reduce));
                    for (float[] row : x.act()) {
                        firedPositions += row[c] > 0 ? 1 : 0;
                    }
                }
                String where = reduce + " neuron " + c;
                long fired = java.util.Arrays.stream(ref.getValues()).filter(v -> v > 0).count();
                assertEquals(ref.getMean(), mean[c], 1e-6 * Math.max(1, Math.abs(ref.getMean())), where);
                assertEquals((float) ref.getMin(), min[c], 0f, where);
                assertEquals((float) ref.getMax(), max[c], 0f, where);
                assertEquals(fired / 120.0, rate[c], 1e-7, where);
                assertEquals((double) firedPositions / tokens, positionRate[c], 1e-7, where + ": position rate over real tokens");
            }
        }
    }

    @Test
    void imageDataFirstLastAndTokenAreTheFirstLastAndEveryPosition() {
        ActivationStatsAnalyzerTest.Data d = ActivationStatsAnalyzerTest.data(300, 5, 64, 17);
        LayerInfo conv = ActivationStatsAnalyzerTest.CONV;
        for (ActivationStatsAnalyzer.Reduce reduce : List.of(ActivationStatsAnalyzer.Reduce.FIRST,
                ActivationStatsAnalyzer.Reduce.LAST, ActivationStatsAnalyzer.Reduce.TOKEN)) {
            AnalysisResult r = ActivationStatsAnalyzerTest.run(d, ActivationStatsAnalyzerTest.params(reduce));
            assertNull(r.summary().get("observed"), "no text: no token facts");
            float[] mean = ActivationStatsAnalyzerTest.values(r, conv.name(), "mean");
            float[] max = ActivationStatsAnalyzerTest.values(r, conv.name(), "max");
            for (int c = 0; c < conv.neurons(); c++) {
                DescriptiveStatistics ref = new DescriptiveStatistics();
                for (ActivationBatch b : d.batches()) {
                    float[] a = b.activation(conv.name()).floats();
                    for (int e = 0; e < b.size(); e++) {
                        for (int p = 0; p < conv.positions(); p++) {
                            boolean take = switch (reduce) {
                                case FIRST -> p == 0;
                                case LAST -> p == conv.positions() - 1;
                                default -> true;
                            };
                            if (take) {
                                ref.addValue(a[(e * conv.positions() + p) * conv.neurons() + c]);
                            }
                        }
                    }
                }
                assertEquals(ref.getMean(), mean[c], 1e-6 * Math.max(1, Math.abs(ref.getMean())), reduce + " " + c);
                assertEquals((float) ref.getMax(), max[c], 0f, reduce + " " + c);
            }
            Map<String, Object> layer = ActivationStatsAnalyzerTest.layer(r, conv.name());
            assertEquals(reduce == ActivationStatsAnalyzer.Reduce.TOKEN ? 300L * 4 * 3 : 300L, ((Number) layer.get("observations")).longValue());
            assertEquals(reduce == ActivationStatsAnalyzer.Reduce.TOKEN ? "positions" : "examples", layer.get("observationUnit"));
        }
        // mean and max on image data: the summary has none of the new facts
        AnalysisResult plain = ActivationStatsAnalyzerTest.run(d, ActivationStatsAnalyzerTest.params(ActivationStatsAnalyzer.Reduce.MAX));
        assertFalse(ActivationStatsAnalyzerTest.layer(plain, conv.name()).containsKey("observations"));
    }
}
