package io.neuronmonkey.stats;

import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.runtime.store.ResultCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every analyzer's real result, written by the runtime's codec ({@code result.json} + {@code .npy}) and read back, is
 * the same result: parts, findings, array contents (NaN and infinities included) and summary.
 */
class ResultCodecRoundTripTest {

    static AnalysisResult roundTrip(AnalysisResult r, Path dir, String step) throws IOException {
        Path folder = Files.createDirectories(dir.resolve(step));
        ResultCodec.write(r, folder, Map.of("step", step));
        AnalysisResult back = ResultCodec.read(folder);
        ResultTrees.assertSameResult(r, back);
        return back;
    }

    @Test
    void activationStatsResultsReadBackEqual(@TempDir Path dir) throws IOException {
        AnalysisResult r = ActivationStatsAnalyzerTest.run(ActivationStatsAnalyzerTest.data(300, 4, 100),
                ActivationStatsAnalyzerTest.params(ActivationStatsAnalyzer.Reduce.MEAN));
        assertFalse(r.findings().isEmpty());
        roundTrip(r, dir, "census");
        // NaN activations, a non-finite warning and NaN-free Wilson bounds
        AnalysisResult withNaN = roundTrip(CensusDiffAnalyzerTest.B, dir, "census-nan");
        assertTrue(withNaN.findings().stream().anyMatch(f -> f.id().equals("dense_1-non-finite")));
    }

    @Test
    void topActivationsResultsReadBackEqual(@TempDir Path dir) throws IOException {
        roundTrip(TopActivationsAnalyzerTest.run(TopActivationsAnalyzerTest.data(60, 1, 17),
                TopActivationsAnalyzerTest.params(4, 2, TopActivationsAnalyzer.Reduce.MAX)), dir, "tops");
        // fewer examples than k: NaN inputs for the empty ranks
        roundTrip(TopActivationsAnalyzerTest.run(TopActivationsAnalyzerTest.data(3, 4, 3),
                TopActivationsAnalyzerTest.params(5, 0, TopActivationsAnalyzer.Reduce.MEAN)), dir, "few");
    }

    @Test
    void activationBreakdownResultsReadBackEqual(@TempDir Path dir) throws IOException {
        AnalysisResult r = ActivationBreakdownAnalyzerTest.run(ActivationBreakdownAnalyzerTest.data(400, 3, 100),
                ActivationBreakdownAnalyzerTest.params(ActivationBreakdownAnalyzer.Reduce.MAX));
        assertEquals(2, r.findings().size());
        roundTrip(r, dir, "breakdown");

        // an infinite d (constant groups): no interval, bounds equal to d, p 0
        var p = new ActivationBreakdownAnalyzer.Params(List.of("flag"), 12, ActivationBreakdownAnalyzer.Reduce.MAX, 5);
        var b = new ActivationBreakdownAnalyzer.Breakdown(p, List.of(ActivationBreakdownAnalyzerTest.DENSE), List.of(), List.of());
        int n = 10;
        List<Map<String, String>> meta = new ArrayList<>();
        float[] dense = new float[n * 4];
        for (int e = 0; e < n; e++) {
            meta.add(Map.of("flag", e % 2 == 0 ? "no" : "yes"));
            dense[e * 4] = e % 2;
            dense[e * 4 + 1] = e;
        }
        Batch bt = new Batch(0, Tensor.ofFloats(new float[n], n, 1), null, Collections.nCopies(n, "x"), meta);
        b.accept(new ActivationBatch(bt, Map.of("dense", Tensor.ofFloats(dense, n, 4))));
        AnalysisResult inf = b.finish();
        Ranking.Entry top = inf.part("flag-ranking", Ranking.class).orElseThrow().entries().get(0);
        assertEquals(Double.POSITIVE_INFINITY, top.score());
        roundTrip(inf, dir, "infinite");
    }

    @Test
    void censusDiffResultsReadBackEqual(@TempDir Path dir) throws IOException {
        AnalysisResult r = CensusDiffAnalyzerTest.diff(CensusDiffAnalyzerTest.A, CensusDiffAnalyzerTest.B, 10);
        assertEquals(2, r.findings().size());
        roundTrip(r, dir, "diff");
    }
}
