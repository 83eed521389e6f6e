package io.neuronmonkey.concepts;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.attribution.TestSupport;
import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.config.Problems;
import io.neuronmonkey.runtime.config.Yaml;
import io.neuronmonkey.datasets.SyntheticShapesSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GroupCompareAnalyzerTest {

    static LoadedModel model;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() {
        model = TestSupport.demoModel();
    }

    @AfterAll
    static void close() {
        model.close();
    }

    static GroupCompareAnalyzer.Params params(String field, List<String> groups, int bootstrap, int permutations, Map<String, String> where) {
        return new GroupCompareAnalyzer.Params(field, groups, 0.05, bootstrap, permutations, GroupCompareAnalyzer.Reduce.MAX,
                where, 4000, 100);
    }

    AnalysisResult run(GroupCompareAnalyzer.Params p, Dataset d, List<String> layers) {
        return new GroupCompareAnalyzer().analyze(new TestSupport.Context<>("g", p, model, d, layers, 128, tmp));
    }

    /** Synthetic shapes of the decorrelated split with their own generator seed. */
    static Dataset shapes(int count, long seed) {
        SyntheticShapesSource.Params p = SyntheticShapesSource.Params.of(SyntheticShapesSource.Split.DECORRELATED, count, seed);
        return new SyntheticShapesSource().open(new DataContext<SyntheticShapesSource.Params>() {
            public String name() {
                return "decorrelated";
            }

            public SyntheticShapesSource.Params params() {
                return p;
            }

            public Path resolve(String path) {
                return Path.of(path);
            }

            public long seed() {
                return seed;
            }

            public ProgressReporter progress() {
                return ProgressReporter.NONE;
            }
        });
    }

    @Test
    void watermarkNeuronsDifferBetweenOnAndOff() {
        try (Dataset d = TestSupport.shapes("decorrelated", 600)) {
            AnalysisResult r = run(params("watermark", List.of("on", "off"), 300, 999, null), d, List.of("conv1", "conv2", "dense1"));
            NeuronTable t = r.part("conv2-group-watermark", NeuronTable.class).orElseThrow();
            for (int j : new int[] {4, 6}) {
                double q = t.column("q").orElseThrow().values().get(j);
                double dd = t.column("d").orElseThrow().values().get(j);
                System.out.printf("group-compare watermark on/off: conv2 #%d d %.3f [%.3f, %.3f] rank-biserial %.3f p %.5f q %.5f%n", j, dd,
                        t.column("d").orElseThrow().low().get(j), t.column("d").orElseThrow().high().get(j),
                        t.column("rankBiserial").orElseThrow().values().get(j), t.column("p").orElseThrow().values().get(j), q);
                assertTrue(q < 0.05, "conv2 #" + j + " q " + q);
                assertTrue(dd > 1, "conv2 #" + j + " fires more with the watermark: d " + dd);
            }
            assertTrue(t.tags().get(0).neurons().containsAll(List.of(4, 6)));
            Ranking ranking = r.part("group-watermark-ranking", Ranking.class).orElseThrow();
            Ranking.Entry first = ranking.entries().get(0);
            assertTrue(first.q() <= 0.05);
            assertEquals(1.0 / 1000, ranking.entries().stream().mapToDouble(Ranking.Entry::p).min().orElseThrow(), 1e-12);
            int found = ((Number) r.summary().get("discoveries")).intValue();
            System.out.println("group-compare watermark on/off: " + found + " of " + r.summary().get("tested")
                    + " neurons at FDR 5%; first " + first.neuron() + " d " + first.score() + "; finding: " + r.findings().get(0).claim());
            for (int i = 0; i < found; i++) {
                assertTrue(ranking.entries().get(i).q() <= 0.05, "discoveries come first");
            }
            Finding f = r.findings().get(0);
            assertEquals(Finding.Severity.NOTABLE, f.severity());
            assertTrue(f.claim().startsWith(found + " neurons differ between watermark=on and off at FDR 5%: "), f.claim());
            // 56 tests and 999 permutations: a lone discovery would need q = 56 / 1000 > 0.05, and the result says so
            assertTrue(String.valueOf(r.summary().get("resolutionNote")).contains("at least 1120"), String.valueOf(r.summary().get("resolutionNote")));
            checkPredictions(r, d);
        }
    }

    /** The predictions matrix against a recount of the logits from a fresh model run. */
    private void checkPredictions(AnalysisResult r, Dataset d) {
        Matrix m = r.part("group-watermark-predictions", Matrix.class).orElseThrow();
        Matrix acc = r.part("group-watermark-accuracy", Matrix.class).orElseThrow();
        double[][] count = new double[2][4];
        double[] n = new double[2];
        double[] correct = new double[2];
        for (Iterator<Batch> it = d.batches(200); it.hasNext(); ) {
            Batch b = it.next();
            Tensor logits = model.run(b.inputs(), List.of("logits")).get("logits");
            for (int i = 0; i < b.size(); i++) {
                int g = b.metadata().get(i).get("watermark").equals("on") ? 0 : 1;
                int best = 0;
                for (int c = 1; c < 4; c++) {
                    if (logits.floats()[i * 4 + c] > logits.floats()[i * 4 + best]) {
                        best = c;
                    }
                }
                count[g][best]++;
                n[g]++;
                correct[g] += best == b.labels()[i] ? 1 : 0;
            }
        }
        for (int g = 0; g < 2; g++) {
            for (int c = 0; c < 4; c++) {
                assertEquals(count[g][c] / n[g], m.get(g, c), 1e-6);
            }
            assertEquals(correct[g] / n[g], acc.get(g, 0), 1e-6);
            assertTrue(acc.get(g, 1) <= acc.get(g, 0) && acc.get(g, 0) <= acc.get(g, 2));
        }
        assertEquals(List.of("on", "off"), m.rows().labels());
    }

    @Test
    void theNullTagFieldYieldsFewDiscoveriesOverDataSeeds() {
        // tag is a fair coin independent of everything: under this complete null, BH at 5% gives a run with any
        // discovery with probability at most about 0.05, so two or more of three runs would have probability < 0.01
        int withAny = 0;
        for (long seed = 1; seed <= 3; seed++) {
            try (Dataset d = shapes(400, seed)) {
                AnalysisResult r = run(params("tag", null, 0, 2000, null), d, List.of("conv1", "conv2", "dense1"));
                assertEquals(null, r.summary().get("resolutionNote"), "2000 permutations can support a lone discovery");
                int found = ((Number) r.summary().get("discoveries")).intValue();
                withAny += found > 0 ? 1 : 0;
                Ranking ranking = r.part("group-tag-ranking", Ranking.class).orElseThrow();
                assertTrue(ranking.entries().stream().allMatch(e -> e.interval() == null), "no bootstrap, no intervals");
                assertTrue(!r.part("conv2-group-tag", NeuronTable.class).orElseThrow().column("d").orElseThrow().hasInterval());
                if (found == 0) {
                    assertEquals(Finding.Severity.INFO, r.findings().get(0).severity());
                    assertTrue(r.findings().get(0).claim().startsWith("no neuron differs by tag (tag=a vs b) at FDR 5% ("
                            + r.summary().get("tested") + " tested)"), r.findings().get(0).claim());
                }
            }
        }
        assertTrue(withAny <= 1, "runs with a discovery on the null field: " + withAny + " of 3");
    }

    @Test
    @EnabledIfSystemProperty(named = "bench", matches = "true")
    void nullTagFalseDiscoveryRateOverManySeeds() {
        int runs = Integer.getInteger("bench.seeds", 24);
        int withAny = 0;
        long falseDiscoveries = 0;
        long tested = 0;
        for (long seed = 1000; seed < 1000 + runs; seed++) {
            try (Dataset d = shapes(1000, seed)) {
                AnalysisResult r = run(params("tag", null, 0, 2000, null), d, List.of("conv1", "conv2", "dense1"));
                int found = ((Number) r.summary().get("discoveries")).intValue();
                withAny += found > 0 ? 1 : 0;
                falseDiscoveries += found;
                tested += ((Number) r.summary().get("tested")).intValue();
            }
        }
        try (Dataset d = shapes(4000, 1)) {
            long start = System.nanoTime();
            AnalysisResult r = run(params("tag", null, 1000, 2000, null), d, List.of("conv1", "conv2", "dense1"));
            System.out.printf("group-compare defaults (4000 examples, %s tests, 1000 bootstrap, 2000 permutations, with the model "
                    + "pass): %.1f s%n", r.summary().get("tested"), (System.nanoTime() - start) / 1e9);
        }
        // every discovery on the null field is false, so a run's false-discovery proportion is 1 when it has any
        System.out.printf("null control (tag, %d data seeds, 1000 examples, %d tests per run, 2000 permutations): observed FDR "
                        + "%.3f (runs with any discovery %d of %d), %d false discoveries in all%n", runs, tested / runs,
                (double) withAny / runs, withAny, runs, falseDiscoveries);
    }

    @Test
    void moreThanTwoGroupsAreEachComparedWithTheRest() {
        try (Dataset d = TestSupport.shapes("test", 300)) {
            AnalysisResult r = run(params("class", null, 100, 1500, null), d, List.of("dense1"));
            NeuronTable t = r.part("dense1-group-class", NeuronTable.class).orElseThrow();
            for (String c : List.of("circle", "square", "triangle", "cross")) {
                assertTrue(t.column("d-" + c).orElseThrow().hasInterval());
                assertTrue(t.column("q-" + c).isPresent());
            }
            assertEquals(4 * 32, ((Number) r.summary().get("tested")).intValue());
            assertEquals(List.of("class=circle vs the rest", "class=square vs the rest", "class=triangle vs the rest",
                    "class=cross vs the rest"), r.summary().get("contrasts"));
            Finding f = r.findings().get(0);
            assertEquals(Finding.Severity.NOTABLE, f.severity(), "dense1 separates the shapes");
            assertTrue(f.claim().contains("differ between a group of class and the others at FDR 5%"), f.claim());
            Matrix m = r.part("group-class-predictions", Matrix.class).orElseThrow();
            assertEquals(4, m.rows().size());
            for (int g = 0; g < 4; g++) {
                double sum = 0;
                for (int c = 0; c < 4; c++) {
                    sum += m.get(g, c);
                }
                assertEquals(1, sum, 1e-5);
                assertTrue(m.get(g, g) > 0.8, "the model mostly predicts each shape as itself");
            }
        }
    }

    @Test
    void aFieldWithOneGroupIsAnError() {
        try (Dataset d = TestSupport.shapes("decorrelated", 200)) {
            long on = d.batches(200).next().metadata().stream().filter(m -> m.get("watermark").equals("on")).count();
            AnalysisException e = assertThrows(AnalysisException.class,
                    () -> run(params("watermark", null, 0, 10, Map.of("watermark", "on")), d, List.of("conv2")));
            assertTrue(e.getMessage().contains("group field 'watermark' has a single value 'on' (all " + on + " examples"), e.getMessage());
        }
    }

    @Test
    void aGroupAbsentFromTheDataIsAnError() {
        try (Dataset d = TestSupport.shapes("decorrelated", 50)) {
            AnalysisException e = assertThrows(AnalysisException.class,
                    () -> run(params("watermark", List.of("on", "maybe"), 0, 10, null), d, List.of("conv2")));
            assertTrue(e.getMessage().contains("[maybe]") && e.getMessage().contains("values found: [on]"), e.getMessage());
            AnalysisException k = assertThrows(AnalysisException.class,
                    () -> run(params("colour", null, 0, 10, null), d, List.of("conv2")));
            assertTrue(k.getMessage().contains("'colour' is not a metadata key") && k.getMessage().contains("watermark"), k.getMessage());
        }
    }

    @Test
    void paramsBindFromYamlWithDefaults() {
        Problems problems = new Problems();
        GroupCompareAnalyzer.Params p = ParamsBinder.bind(GroupCompareAnalyzer.Params.class, Yaml.compose(
                "{field: watermark, groups: [on, off], where: {class: square}}", "t").orElseThrow(), "params", problems).orElseThrow();
        assertTrue(problems.isEmpty(), problems.list().toString());
        assertEquals(List.of("on", "off"), p.groups());
        assertEquals(0.05, p.alpha());
        assertEquals(1000, p.bootstrap());
        assertEquals(2000, p.permutations());
        assertEquals(GroupCompareAnalyzer.Reduce.MAX, p.reduce());
        assertEquals(100, p.top());
    }

    @Test
    void rejectsBadParamsAllAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class, () -> new GroupCompareAnalyzer.Params(" ",
                List.of("a"), 1.5, -1, 0, null, null, 2, 0));
        assertEquals(8, e.violations().size(), e.getMessage());
    }
}
