package io.neuronmonkey.concepts;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.attribution.TestSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.List;
import java.util.Map;

/**
 * Figures for the report, only with {@code -Dbench=true}: the observed false-discovery rate of the null concept over
 * 20 seeds, the watermark concept's results over seeds, and the time of TCAV with 10, 20 and 50 random sets on three
 * layers of the demo CNN. Prints, asserts nothing about time.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class ConceptVectorsBench {

    @Test
    void nullFalseDiscoveryRateAndTimings() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 2000)) {
            List<String> layers = List.of("conv1", "conv2", "dense1");
            int runsWithAny = 0;
            int discoveries = 0;
            int tests = 0;
            int seeds = Integer.getInteger("bench.seeds", 20);
            for (long seed = 1; seed <= seeds; seed++) {
                AnalysisResult r = run(m, d, Map.of("tagA", Map.of("where", Map.of("tag", "a"))), 20, layers, seed);
                int s = ((Number) r.summary().get("significant")).intValue();
                discoveries += s;
                runsWithAny += s > 0 ? 1 : 0;
                tests += ConceptVectorsAnalyzerTest.tests(r).size();
                System.out.println("BENCH null seed " + seed + ": " + s + " discoveries of " + ConceptVectorsAnalyzerTest.tests(r).size());
            }
            System.out.printf("BENCH null control: %d discoveries in %d tests over %d seeds; runs with any discovery %d/%d"
                    + " (observed FDR = share of runs with a false discovery = %.3f, nominal 0.05); per-test rate %.4f%n",
                    discoveries, tests, seeds, runsWithAny, seeds, (double) runsWithAny / seeds, (double) discoveries / tests);

            int[] squareSig = new int[3];
            int[][] otherSig = new int[3][2];
            for (long seed = 1; seed <= 5; seed++) {
                AnalysisResult r = run(m, d, Map.of("watermark", Map.of("where", Map.of("watermark", "on"))), 20, layers, seed);
                for (Map<String, Object> t : ConceptVectorsAnalyzerTest.tests(r)) {
                    System.out.println("BENCH watermark seed " + seed + " " + t.get("layer") + " " + t.get("class") + " score "
                            + f(t.get("score")) + " random " + f(t.get("random")) + " diff " + f(t.get("difference")) + " ["
                            + f(t.get("low")) + ", " + f(t.get("high")) + "] d " + f(t.get("cohensD")) + " welchP "
                            + f(t.get("welchP")) + " permP " + f(t.get("permutationP")) + " q " + f(t.get("q")));
                }
            }

            for (int n : new int[]{10, 20, 50}) {
                run(m, d, Map.of("watermark", Map.of("where", Map.of("watermark", "on"))), n, layers, 99);
                long t0 = System.nanoTime();
                run(m, d, Map.of("watermark", Map.of("where", Map.of("watermark", "on"))), n, layers, 100);
                System.out.printf("BENCH time randomSets %d, 3 layers (conv1, conv2, dense1), 1 concept, 4 classes: %.2f s%n",
                        n, (System.nanoTime() - t0) / 1e9);
            }
        }
    }

    private static String f(Object v) {
        return v == null ? "-" : String.format(java.util.Locale.ROOT, "%.4g", ((Number) v).doubleValue());
    }

    private static AnalysisResult run(LoadedModel m, Dataset d, Map<String, Object> concepts, int n, List<String> layers, long seed) {
        ConceptVectorsAnalyzer.Params p = ConceptVectorsAnalyzerTest.params(concepts, n, 64, List.of(), ConceptVectorsAnalyzer.Space.FLATTENED);
        return new ConceptVectorsAnalyzer().analyze(new ConceptTestContext<>(p, m, d, layers, Map.of(), seed));
    }
}
