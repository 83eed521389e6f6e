package io.neuronmonkey.concepts;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.attribution.TestSupport;
import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.config.Problems;
import io.neuronmonkey.runtime.config.Yaml;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ProbeAnalyzerTest {

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

    static ProbeAnalyzer.Params params(String field, Double lambda, Map<String, String> where) {
        return new ProbeAnalyzer.Params(field, ProbeAnalyzer.Penalty.L1, lambda, null, 5, 0.3, 0.95,
                ProbeAnalyzer.Reduce.MAX, where, 4000);
    }

    AnalysisResult run(ProbeAnalyzer.Params p, Dataset d, List<String> layers) {
        return new ProbeAnalyzer().analyze(new TestSupport.Context<>("probe", p, model, d, layers, 128, tmp));
    }

    @Test
    void watermarkProbeRanksTheWatermarkChannelsFirst() {
        try (Dataset d = TestSupport.shapes("decorrelated", 800)) {
            AnalysisResult r = run(params("watermark", null, null), d, List.of("conv1", "conv2", "dense1"));
            NeuronTable t = r.part("conv2-probe-watermark", NeuronTable.class).orElseThrow();
            double[] w = IntStream.range(0, 16).mapToDouble(j -> t.column("weight").orElseThrow().values().get(j)).toArray();
            int[] order = IntStream.range(0, 16).boxed().sorted(Comparator.comparingDouble(j -> -w[j])).mapToInt(Integer::intValue).toArray();
            System.out.println("probe watermark conv2 weights by rank: " + Arrays.toString(Arrays.stream(order)
                    .mapToObj(j -> "#" + j + "=" + String.format("%.3f", w[j])).toArray()));
            assertTrue(order[0] == 4 || order[0] == 6, "first conv2 neuron " + order[0]);
            List<Integer> top3 = Arrays.stream(order).limit(3).boxed().toList();
            assertTrue(top3.containsAll(List.of(4, 6)), "conv2 top 3 " + top3);

            Ranking ranking = r.part("probe-watermark-ranking", Ranking.class).orElseThrow();
            List<Integer> conv2 = ranking.entries().stream().filter(e -> e.neuron().layer().equals("conv2"))
                    .map(e -> e.neuron().neuron()).toList();
            assertEquals(order[0], conv2.get(0));
            assertTrue(ranking.entries().stream().allMatch(e -> e.score() > 0));

            @SuppressWarnings("unchecked")
            List<Map<String, Object>> layers = (List<Map<String, Object>>) r.summary().get("layers");
            Map<String, Object> c2 = layers.get(1);
            double acc = (double) c2.get("accuracy");
            double control = (double) c2.get("shuffledControl");
            double majority = (double) c2.get("majority");
            for (Map<String, Object> m : layers) {
                System.out.println("probe watermark " + m);
            }
            assertTrue(acc > 0.9, "conv2 held-out accuracy " + acc);
            assertTrue(control < 0.65, "shuffled-label control " + control);
            assertEquals(0.5, majority, 0.05);
            assertEquals(true, c2.get("beatsControl"));
            int subset = ((Number) c2.get("subsetSize")).intValue();
            assertTrue(subset >= 1 && subset <= 4, "subset " + subset);

            Series s = r.part("conv2-probe-watermark-subset", Series.class).orElseThrow();
            Series.Curve curve = s.curves().get(0);
            int last = curve.x().size() - 1;
            assertEquals(16, curve.x().get(last), 0);
            assertEquals(acc, curve.y().get(last), 1e-6);
            int at = IntStream.range(0, curve.x().size()).filter(i -> curve.x().get(i) == subset).findFirst().orElseThrow();
            assertTrue(curve.y().get(at) >= 0.95 * acc - 1e-6);
            if (at > 0) {
                assertTrue(curve.y().get(at - 1) < 0.95 * acc, "a smaller subset falls short");
            }
            Finding f = r.findings().stream().filter(x -> x.id().equals("conv2-probe-watermark")).findFirst().orElseThrow();
            assertEquals(Finding.Severity.NOTABLE, f.severity());
            assertTrue(f.claim().startsWith("probe for 'watermark' on conv2: held-out accuracy "), f.claim());
            assertTrue(f.claim().matches(".* vs majority 0\\.\\d\\d and shuffled labels 0\\.\\d\\d; " + subset + " neurons? \\(conv2 #.*\\) keeps? 95% of it"), f.claim());
            System.out.println("probe finding: " + f.claim());
        }
    }

    @Test
    void classProbeIsOneVsRestOverTheFourShapes() {
        try (Dataset d = TestSupport.shapes("test", 600)) {
            AnalysisResult r = run(params("class", 0.01, null), d, List.of("dense1"));
            NeuronTable t = r.part("dense1-probe-class", NeuronTable.class).orElseThrow();
            assertEquals(List.of("weight", "w-circle", "w-square", "w-triangle", "w-cross"),
                    t.columns().stream().map(NeuronTable.Column::name).sorted(Comparator.comparing(c -> List.of("weight",
                            "w-circle", "w-square", "w-triangle", "w-cross").indexOf(c))).toList());
            for (int j = 0; j < 32; j++) {
                double sum = 0;
                for (String c : List.of("w-circle", "w-square", "w-triangle", "w-cross")) {
                    sum += Math.abs(t.column(c).orElseThrow().values().get(j));
                }
                assertEquals(sum, t.column("weight").orElseThrow().values().get(j), 1e-4);
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = ((List<Map<String, Object>>) r.summary().get("layers")).get(0);
            System.out.println("probe class dense1 " + m);
            assertTrue((double) m.get("accuracy") > 0.8, "dense1 reads the shape: " + m.get("accuracy"));
            assertTrue((double) m.get("shuffledControl") < 0.4, "four classes: chance is about 0.25: " + m.get("shuffledControl"));
        }
    }

    @Test
    void aProbeOfTheNullTagWarnsThatItDoesNotBeatTheControl() {
        try (Dataset d = GroupCompareAnalyzerTest.shapes(500, 7)) {
            AnalysisResult r = run(params("tag", null, null), d, List.of("conv2"));
            Finding f = r.findings().get(0);
            System.out.println("probe tag: " + f.claim());
            assertEquals(Finding.Severity.WARNING, f.severity());
            assertTrue(f.claim().startsWith("probe for 'tag' on conv2 does not beat the shuffled-label control"), f.claim());
        }
    }

    @Test
    void aProbeTargetWithOneValueIsAnError() {
        try (Dataset d = TestSupport.shapes("decorrelated", 200)) {
            long on = d.batches(200).next().metadata().stream().filter(m -> m.get("watermark").equals("on")).count();
            AnalysisException e = assertThrows(AnalysisException.class,
                    () -> run(params("watermark", 0.01, Map.of("watermark", "on")), d, List.of("conv2")));
            assertTrue(e.getMessage().contains("probe target 'watermark' has a single value 'on' (all " + on + " examples"), e.getMessage());
        }
    }

    @Test
    void plantedFeatureIsTheOnlyOneAStrongPenaltyKeeps() {
        Random r = new Random(1);
        int n = 400;
        int m = 6;
        float[] x = new float[n * m];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % 2;
            for (int j = 0; j < m; j++) {
                x[i * m + j] = (float) (r.nextGaussian() * (j + 1) + 10 + (j == 2 ? 3 * (j + 1) * y[i] : 0));
            }
        }
        int[][] split = ProbeAnalyzer.split(y, 2, 0.25, 3);
        assertEquals(300, split[0].length);
        assertEquals(100, split[1].length);
        double[] z = ProbeFit.standardize(x, m, split[0]);
        // standardization against a naive per-column mean and sd of the training rows
        for (int j = 0; j < m; j++) {
            final int col = j;
            double mean = Arrays.stream(split[0]).mapToDouble(i -> x[i * m + col]).average().orElseThrow();
            double sd = Math.sqrt(Arrays.stream(split[0]).mapToDouble(i -> (x[i * m + col] - mean) * (x[i * m + col] - mean)).sum() / 299);
            assertEquals((x[5 * m + j] - mean) / sd, z[5 * m + j], 1e-6);
        }
        ProbeFit fit = ProbeFit.train(z, m, IntStream.range(0, m).toArray(), y, split[0], 0.1, 1);
        double[] imp = fit.importance(m);
        assertTrue(imp[2] > 0);
        for (int j = 0; j < m; j++) {
            if (j != 2) {
                assertEquals(0, imp[j], 0, "noise feature " + j + " weight under lambda 0.1");
            }
        }
        assertEquals(1, fit.nonzero());
        // the label is 1 above feature 2's midpoint: the held-out accuracy is that of the Bayes rule, about
        // Phi(1.5) = 0.93 for a 3-sd separation
        double acc = fit.correct(z, m, y, split[1]) / 100.0;
        assertEquals(0.93, acc, 0.08);
        // fits are reproducible
        assertArrayEquals(imp, ProbeFit.train(z, m, IntStream.range(0, m).toArray(), y, split[0], 0.1, 1).importance(m), 0);
    }

    @Test
    void wilsonIntervalMatchesTheClosedForm() {
        Interval w = GroupCompareAnalyzer.wilson(100, 81);
        double z = 1.959963984540054;
        double phat = 0.81;
        double centre = (phat + z * z / 200) / (1 + z * z / 100);
        double half = z / (1 + z * z / 100) * Math.sqrt(phat * (1 - phat) / 100 + z * z / 40000);
        assertEquals(centre - half, w.low(), 1e-9);
        assertEquals(centre + half, w.high(), 1e-9);
    }

    @Test
    void subsetSizesAreDenseThenDoubling() {
        assertArrayEquals(new int[] {1, 2, 3}, ProbeAnalyzer.sizes(3));
        assertArrayEquals(IntStream.concat(IntStream.rangeClosed(1, 16), IntStream.of(32, 64, 100)).toArray(), ProbeAnalyzer.sizes(100));
    }

    @Test
    void paramsBindFromYamlWithDefaults() {
        Problems problems = new Problems();
        ProbeAnalyzer.Params p = ParamsBinder.bind(ProbeAnalyzer.Params.class, Yaml.compose("{field: watermark, where: {class: square}}",
                "t").orElseThrow(), "params", problems).orElseThrow();
        assertTrue(problems.isEmpty(), problems.list().toString());
        assertEquals(ProbeAnalyzer.Penalty.L1, p.penalty());
        assertEquals(null, p.lambda());
        assertEquals(List.of(0.3, 0.1, 0.03, 0.01, 0.003, 0.001), p.grid());
        assertEquals(0.3, p.holdout());
        assertEquals(0.95, p.keep());
        assertEquals(ProbeAnalyzer.Reduce.MAX, p.reduce());
        assertEquals(Map.of("class", "square"), p.where());
        Problems bad = new Problems();
        ParamsBinder.bind(ProbeAnalyzer.Params.class, Yaml.compose("{field: watermark, penalty: elastic-net}", "t").orElseThrow(),
                "params", bad);
        assertTrue(bad.list().toString().contains("l1"), bad.list().toString());
    }

    @Test
    void rejectsBadParamsAllAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class, () -> new ProbeAnalyzer.Params(null, null, -1.0,
                List.of(0.1, -2.0), 1, 1.0, 0, null, null, 3));
        assertEquals(9, e.violations().size(), e.getMessage());
    }
}
