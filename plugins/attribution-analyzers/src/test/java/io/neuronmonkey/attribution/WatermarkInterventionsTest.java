package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.datasets.SyntheticShapesSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The watermark shortcut of the demo CNN seen through interventions. The demo model predicts 'square' for 99% of
 * watermarked squares but 71% of the same kind of squares without it, and almost never for watermarked non-squares:
 * the watermark matters for squares only, so squares are the selection that shows it.
 */
class WatermarkInterventionsTest {

    @TempDir
    Path tmp;

    static final Map<String, String> WATERMARKED_SQUARES = Map.of("class", "square", "watermark", "on");

    @Test
    void ablatingTheTopConductanceNeuronsForSquareBeatsRandomSets() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 2000)) {
            AnalysisResult nc = new NeuronConductanceAnalyzer().analyze(new TestSupport.Context<>("nc",
                    new NeuronConductanceAnalyzer.Params("class:square", NeuronConductanceAnalyzer.Baseline.ZERO, 32, 2048,
                            WATERMARKED_SQUARES, 200, 16), m, d, List.of("conv2"), 256, tmp));
            AnalysisResult ab = ablate(m, d, nc, null, "nc");
            double ranked = ((Number) ab.summary().get("rankedChange")).doubleValue();
            List<?> random = (List<?>) ab.summary().get("randomChange");
            double randomMean = ((Number) random.get(1)).doubleValue();
            System.out.println("ablation of the top 4 conductance neurons " + ab.summary().get("neurons") + ": " + ab.findings().get(0).claim());
            // measured: -0.90 against random sets of 4: -0.20 [-0.77, 0.01]
            assertTrue(ranked < -0.6, "ranked change " + ranked);
            assertTrue(ranked < randomMean - 0.4, ranked + " vs random " + random);
            assertEquals(Finding.Severity.NOTABLE, ab.findings().get(0).severity(), "outside the range of the random sets");

            // the watermark neurons found by the breakdown: measured -0.45 against random pairs -0.20 [-0.42, 0.01]
            AnalysisResult pair = ablate(m, d, null, List.of(4, 6), null);
            double change = ((Number) pair.summary().get("rankedChange")).doubleValue();
            double pairRandom = ((Number) ((List<?>) pair.summary().get("randomChange")).get(1)).doubleValue();
            System.out.println("ablation of conv2 #4, #6: " + pair.findings().get(0).claim());
            assertTrue(change < -0.3 && change < pairRandom - 0.15, change + " vs random " + pairRandom);
            Matrix byClass = pair.part("ablation-by-class", Matrix.class).orElseThrow();
            assertEquals(List.of("square"), byClass.rows().labels());
        }
    }

    private AblationAnalyzer.Params params(List<Integer> neurons, String ranking) {
        return new AblationAnalyzer.Params("conv2", neurons, ranking, 4, AblationAnalyzer.Mode.ZERO, 10, "predicted", "square",
                WATERMARKED_SQUARES, 512, List.of("watermark"), 8192);
    }

    private AnalysisResult ablate(LoadedModel m, Dataset d, AnalysisResult nc, List<Integer> neurons, String ranking) {
        TestSupport.Context<AblationAnalyzer.Params> c = new TestSupport.Context<>("ab", params(neurons, ranking), m, d, List.of(), 256, tmp);
        return new AblationAnalyzer().analyze(nc == null ? c : c.withInputs(Map.of("nc", nc)));
    }

    @Test
    void patchingTheWatermarkedActivationOfConv2Number4IntoCleanSquaresBringsSquareBack() {
        try (LoadedModel m = TestSupport.demoModel();
             Dataset on = ActivationPatchingAnalyzerTest.shapes("test", 800, SyntheticShapesSource.Watermark.ON);
             Dataset off = ActivationPatchingAnalyzerTest.shapes("test", 800, SyntheticShapesSource.Watermark.OFF)) {
            Map<String, Dataset> sets = new LinkedHashMap<>(Map.of("clean", off, "watermarked", on));
            AnalysisResult reverse = patch(m, off, "watermarked", sets);
            AnalysisResult forward = patch(m, on, "clean", sets);
            NeuronTable r = reverse.part("conv2-patching", NeuronTable.class).orElseThrow();
            NeuronTable f = forward.part("conv2-patching", NeuronTable.class).orElseThrow();
            double flippedBack = r.column("flipped").orElseThrow().values().get(4);
            double flippedForward = f.column("flipped").orElseThrow().values().get(4);
            long differing = ((Number) reverse.summary().get("pairsWithDifferentPredictions")).longValue();
            System.out.println("patching watermarked -> clean squares: " + reverse.findings().get(0).claim() + "; conv2 #4 restores "
                    + RowBlocks.fmt(r.column("restored").orElseThrow().values().get(4)) + " and flips " + RowBlocks.fmt(flippedBack)
                    + "; clean -> watermarked: #4 restores " + RowBlocks.fmt(f.column("restored").orElseThrow().values().get(4))
                    + " and flips " + RowBlocks.fmt(flippedForward));
            // measured on 200 squares: 59 lose 'square' without the watermark; #4 from the watermarked image gives 34% of
            // them back, the other way round 5%
            assertTrue(differing >= 40, "pairs whose predictions differ: " + differing);
            assertTrue(flippedBack >= 0.2, "conv2 #4 flips back " + flippedBack);
            assertTrue(flippedBack > flippedForward + 0.15, flippedBack + " vs " + flippedForward);
            Matrix layers = reverse.part("patching-layers", Matrix.class).orElseThrow();
            assertEquals(1.0, layers.get(0, 0), 1e-4, "the whole of conv2 restores everything");
            assertTrue(reverse.part("patching-ranking", Ranking.class).orElseThrow().entries().size() == 16);
        }
    }

    private AnalysisResult patch(LoadedModel m, Dataset run, String source, Map<String, Dataset> sets) {
        ActivationPatchingAnalyzer.Params p = new ActivationPatchingAnalyzer.Params(source, ActivationPatchingAnalyzer.PairBy.ID,
                "class:square", null, 0.1, Map.of("class", "square"), 400, 8192);
        String name = source.equals("clean") ? "watermarked" : "clean";
        return new ActivationPatchingAnalyzer().analyze(new ActivationPatchingAnalyzerTest.Ctx(
                new TestSupport.Context<>("ap", p, m, run, List.of("conv2"), 256, tmp), name, sets));
    }
}
