package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.runtime.store.ResultCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CensusDiffAnalyzerTest {

    static final LayerInfo DENSE = new LayerInfo("dense/1", "Relu", new int[]{3}, LayerInfo.Role.HIDDEN);
    static final int N = 1000;

    /**
     * Activations of the 3-neuron layer over N examples. A: neuron 0 ~ 1 + g, neuron 1 ~ 2 + 0.1 g, neuron 2 ~ 0.3 +
     * 0.2 |g| (always fires). B: neuron 0 ~ 1.5 + g (moves by about half a std), neuron 1 ~ 2 + 2 g but NaN on every
     * second example (so its count is 500, which the pooled std must weigh), neuron 2 always 0 (becomes dead).
     */
    static float[] activations(boolean b, long seed) {
        Random r = new Random(seed);
        float[] a = new float[N * 3];
        for (int e = 0; e < N; e++) {
            a[e * 3] = (float) ((b ? 1.5 : 1) + r.nextGaussian());
            a[e * 3 + 1] = b ? (e % 2 == 0 ? Float.NaN : (float) (2 + 2 * r.nextGaussian())) : (float) (2 + 0.1 * r.nextGaussian());
            a[e * 3 + 2] = b ? 0f : (float) (0.3 + 0.2 * Math.abs(r.nextGaussian()));
        }
        return a;
    }

    /** The real activation-stats result of these activations. */
    static AnalysisResult census(float[] act) {
        List<String> ids = new ArrayList<>();
        for (int e = 0; e < N; e++) {
            ids.add("x" + e);
        }
        var census = new ActivationStatsAnalyzer.Census(new ActivationStatsAnalyzer.Params(ActivationStatsAnalyzer.Reduce.MEAN,
                0.0, 32, 1.0, 0.02, 0.95, 0.01, 0.01), List.of(DENSE), List.of());
        Batch batch = new Batch(0, Tensor.ofFloats(new float[N], N, 1), null, ids, Collections.nCopies(N, Map.of()));
        census.accept(new ActivationBatch(batch, Map.of(DENSE.name(), Tensor.ofFloats(act, N, 3))));
        return census.finish();
    }

    static final float[] ACT_A = activations(false, 1);
    static final float[] ACT_B = activations(true, 2);
    static final AnalysisResult A = census(ACT_A);
    static final AnalysisResult B = census(ACT_B);

    /** Naive reference: (mean B - mean A) / pooled sample std over the finite values of neuron c. */
    static double naiveShift(int c) {
        double[] sa = finite(ACT_A, c);
        double[] sb = finite(ACT_B, c);
        double va = var(sa);
        double vb = var(sb);
        double pooled = ((sa.length - 1) * va + (sb.length - 1) * vb) / (sa.length + sb.length - 2);
        return (mean(sb) - mean(sa)) / Math.sqrt(pooled);
    }

    static double[] finite(float[] act, int c) {
        List<Double> out = new ArrayList<>();
        for (int e = 0; e < N; e++) {
            if (Float.isFinite(act[e * 3 + c])) {
                out.add((double) act[e * 3 + c]);
            }
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static double mean(double[] x) {
        double s = 0;
        for (double v : x) {
            s += v;
        }
        return s / x.length;
    }

    static double var(double[] x) {
        double m = mean(x);
        double s = 0;
        for (double v : x) {
            s += (v - m) * (v - m);
        }
        return s / (x.length - 1);
    }

    /** A context that reads results from disk with the runtime's codec, as the runtime does. */
    record Ctx(CensusDiffAnalyzer.Params params, Map<String, AnalysisResult> inputs, Path dir)
            implements AnalyzerContext<CensusDiffAnalyzer.Params> {

        public AnalysisResult readResult(Path path) {
            try {
                return ResultCodec.read(path);
            } catch (OutputException e) {
                throw new AnalysisException("step 'diff': " + e.getMessage(), e);
            }
        }

        public String stepId() {
            return "diff";
        }

        public Optional<LoadedModel> model() {
            return Optional.empty();
        }

        public Optional<Dataset> data() {
            return Optional.empty();
        }

        public List<LayerInfo> layers() {
            return List.of();
        }

        public int batchSize() {
            return 1;
        }

        public Path workDir() {
            return dir;
        }

        public Path resolve(String path) {
            return dir.resolve(path);
        }

        public long seed() {
            return 1;
        }

        public ProgressReporter progress() {
            return ProgressReporter.NONE;
        }
    }

    static AnalysisResult diff(AnalysisResult a, AnalysisResult b, int top) {
        Map<String, AnalysisResult> in = new LinkedHashMap<>();
        in.put("before", a);
        in.put("after", b);
        return new CensusDiffAnalyzer().analyze(new Ctx(new CensusDiffAnalyzer.Params(null, top), in, Path.of(".")));
    }

    @Test
    void ranksTheRealCensusesNeuronsByStandardizedShiftAndWarnsOfNewlyDeadOnes() {
        assertEquals(List.of(2), B.part("dense_1-stats", NeuronTable.class).orElseThrow().tags().get(0).neurons(),
                "the census itself tags neuron 2 of B dead");
        AnalysisResult r = diff(A, B, 10);
        assertEquals("census-diff", r.summary().get("analyzer"));
        Ranking ranking = r.part("shift-ranking", Ranking.class).orElseThrow();
        assertEquals("Largest shifts", ranking.title());
        assertEquals("standardized mean shift (B - A) / pooled std", ranking.score());
        assertEquals(List.of(2, 0, 1), ranking.entries().stream().map(e -> e.neuron().neuron()).toList());
        for (Ranking.Entry e : ranking.entries()) {
            double ref = naiveShift(e.neuron().neuron());
            // the census tables are float32: 1e-5 relative, plus 1e-6 for the rounding of means near 2 (neuron 1)
            assertEquals(ref, e.score(), 1e-5 * Math.abs(ref) + 1e-6, "neuron " + e.neuron());
            assertEquals("dense/1", e.neuron().layer());
        }
        assertTrue(ranking.entries().get(0).note().matches("mean 0\\.4\\d+ -> 0, firing rate 1 -> 0 \\(-1\\)"),
                ranking.entries().get(0).note());

        NeuronTable t = r.part("dense_1-shift", NeuronTable.class).orElseThrow();
        assertEquals(List.of("meanA", "meanB", "shift", "firingRateA", "firingRateB", "firingRateChange"),
                t.columns().stream().map(NeuronTable.Column::name).toList());
        float[] shift = t.column("shift").orElseThrow().values().floats();
        float[] meanA = t.column("meanA").orElseThrow().values().floats();
        float[] change = t.column("firingRateChange").orElseThrow().values().floats();
        for (int c = 0; c < 3; c++) {
            assertEquals(naiveShift(c), shift[c], 1e-5 * Math.abs(naiveShift(c)) + 1e-6, "neuron " + c);
            assertEquals(mean(finite(ACT_A, c)), meanA[c], 1e-6 * Math.abs(mean(finite(ACT_A, c))));
        }
        assertEquals(-1f, change[2], 0f);
        assertEquals(List.of(2), t.tags().get(0).neurons(), "became-dead");

        assertEquals(List.of("dense_1-became-dead", "largest-shift"), r.findings().stream().map(Finding::id).toList());
        Finding dead = r.findings().get(0);
        assertEquals(Finding.Severity.WARNING, dead.severity());
        assertEquals(List.of(new NeuronRef("dense/1", 2)), dead.neurons());
        assertEquals(List.of("dense_1-shift"), dead.evidence());
        Finding largest = r.findings().get(1);
        assertEquals(Finding.Severity.NOTABLE, largest.severity());
        assertEquals(ranking.entries().get(0).score(), largest.strength().value(), 0.0);
        assertEquals(List.of(new NeuronRef("dense/1", 2)), largest.neurons());
        assertEquals(List.of("shift-ranking", "dense_1-shift"), largest.evidence());
        assertTrue(largest.claim().startsWith("dense/1 #2 moved most: mean 0.4") && largest.claim().contains(", 0 in B")
                && largest.claim().contains("(standardized shift -"), largest.claim());
    }

    @Test
    void shiftIsTheStandardizedMeanDifferenceWithThePooledStd() {
        // (0 - 0.5) / sqrt((99 * 0.04 + 99 * 0) / 198) = -0.5 / sqrt(0.02); 0.5 / 1; equal constants: 0
        assertEquals(-0.5 / Math.sqrt(0.02), CensusDiffAnalyzer.shift(0.5, 0.2, 100, 0, 0, 100), 1e-12);
        assertEquals(0.5, CensusDiffAnalyzer.shift(1, 1, 100, 1.5, 1, 100), 1e-12);
        assertEquals(0.0, CensusDiffAnalyzer.shift(2, 0, 100, 2, 0, 100));
        assertEquals(Double.POSITIVE_INFINITY, CensusDiffAnalyzer.shift(2, 0, 100, 3, 0, 100));
        assertTrue(Double.isNaN(CensusDiffAnalyzer.shift(Double.NaN, 0, 0, 3, 0, 100)));
    }

    @Test
    void readsABaselineThatTheRuntimeWroteToDisk(@TempDir Path dir) throws Exception {
        Path old = dir.resolve("old-run/census");
        java.nio.file.Files.createDirectories(old);
        ResultCodec.write(A, old, Map.of("step", "census"));
        AnalysisResult r = new CensusDiffAnalyzer().analyze(new Ctx(new CensusDiffAnalyzer.Params("old-run/census", 2),
                Map.of("census", B), dir));
        Ranking ranking = r.part("shift-ranking", Ranking.class).orElseThrow();
        assertEquals(2, ranking.entries().size(), "top: 2");
        AnalysisResult inMemory = diff(A, B, 2);
        Ranking expected = inMemory.part("shift-ranking", Ranking.class).orElseThrow();
        for (int i = 0; i < 2; i++) {
            assertEquals(expected.entries().get(i).neuron(), ranking.entries().get(i).neuron());
            assertEquals(expected.entries().get(i).score(), ranking.entries().get(i).score(), 0.0, "read back exactly");
        }
        NeuronTable want = inMemory.part("dense_1-shift", NeuronTable.class).orElseThrow();
        NeuronTable got = r.part("dense_1-shift", NeuronTable.class).orElseThrow();
        for (NeuronTable.Column c : want.columns()) {
            assertArrayEquals(c.values().floats(), got.column(c.name()).orElseThrow().values().floats(), c.name());
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> a = (Map<String, Object>) r.summary().get("a");
        assertTrue(((String) a.get("source")).startsWith("baseline "), a.toString());
        assertEquals(List.of(2), r.part("dense_1-shift", NeuronTable.class).orElseThrow().tags().get(0).neurons());
    }

    @Test
    void aCensusComparedWithItselfShiftsByZeroAndHasNoFindings() {
        AnalysisResult r = diff(A, A, 3);
        for (Ranking.Entry e : r.part("shift-ranking", Ranking.class).orElseThrow().entries()) {
            assertEquals(0.0, e.score(), 0.0);
        }
        assertEquals(List.of(), r.findings());
    }

    @Test
    void missingOrWrongInputsAreNamedInTheError() {
        AnalysisException one = assertThrows(AnalysisException.class, () -> new CensusDiffAnalyzer().analyze(
                new Ctx(new CensusDiffAnalyzer.Params(null, 10), Map.of("census", A), Path.of("."))));
        assertTrue(one.getMessage().contains("step 'diff'") && one.getMessage().contains("[census]"), one.getMessage());
        Map<String, AnalysisResult> in = new LinkedHashMap<>();
        in.put("census", A);
        in.put("tops", AnalysisResult.builder().put("analyzer", "top-activations").build());
        AnalysisException wrong = assertThrows(AnalysisException.class, () -> new CensusDiffAnalyzer().analyze(
                new Ctx(new CensusDiffAnalyzer.Params(null, 10), in, Path.of("."))));
        assertTrue(wrong.getMessage().contains("step 'tops'") && wrong.getMessage().contains("not an activation-stats"),
                wrong.getMessage());
        // a summary that claims to be a census is not enough: the neuron tables are what is read
        in.put("tops", AnalysisResult.builder().put("analyzer", "activation-stats").put("layers", List.of()).build());
        AnalysisException noParts = assertThrows(AnalysisException.class, () -> new CensusDiffAnalyzer().analyze(
                new Ctx(new CensusDiffAnalyzer.Params(null, 10), in, Path.of("."))));
        assertTrue(noParts.getMessage().contains("not an activation-stats") && noParts.getMessage().contains("-stats"),
                noParts.getMessage());
        AnalysisException noFile = assertThrows(AnalysisException.class, () -> new CensusDiffAnalyzer().analyze(
                new Ctx(new CensusDiffAnalyzer.Params("nowhere/result.json", 10), Map.of("census", A), Path.of("/tmp/none"))));
        assertTrue(noFile.getMessage().contains("nowhere"), noFile.getMessage());
    }

    @Test
    void numbersIncludeTheQuotedNonFiniteValuesResultsAreWrittenWith() {
        assertEquals(2.5, CensusDiffAnalyzer.number(2.5));
        assertEquals(7.0, CensusDiffAnalyzer.number(7L));
        assertTrue(Double.isNaN(CensusDiffAnalyzer.number("NaN")));
        assertEquals(Double.NEGATIVE_INFINITY, CensusDiffAnalyzer.number("-Infinity"));
        assertEquals(Double.POSITIVE_INFINITY, CensusDiffAnalyzer.number("Infinity"));
        assertTrue(Double.isNaN(CensusDiffAnalyzer.number(null)));
    }
}
