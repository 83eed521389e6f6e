package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.datasets.SyntheticShapesSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActivationPatchingAnalyzerTest {

    @TempDir
    Path tmp;

    /** Synthetic shapes with the watermark forced on or off: the same images, labels and ids otherwise. */
    static Dataset shapes(String split, int count, SyntheticShapesSource.Watermark watermark) {
        return TestSupport.shapes(split, count, watermark);
    }

    /** The test context plus the experiment's other data sets by name. */
    record Ctx(TestSupport.Context<ActivationPatchingAnalyzer.Params> base, String runName, Map<String, Dataset> sets)
            implements AnalyzerContext<ActivationPatchingAnalyzer.Params> {
        public String stepId() {
            return base.stepId();
        }

        public ActivationPatchingAnalyzer.Params params() {
            return base.params();
        }

        public Optional<LoadedModel> model() {
            return base.model();
        }

        public Optional<Dataset> data() {
            return base.data();
        }

        public Optional<String> dataName() {
            return Optional.of(runName);
        }

        public Optional<Dataset> dataset(String name) {
            return Optional.ofNullable(sets.get(name));
        }

        public List<String> datasetNames() {
            return List.copyOf(sets.keySet());
        }

        public List<LayerInfo> layers() {
            return base.layers();
        }

        public int batchSize() {
            return base.batchSize();
        }

        public Map<String, AnalysisResult> inputs() {
            return base.inputs();
        }

        public Path workDir() {
            return base.workDir();
        }

        public Path resolve(String p) {
            return base.resolve(p);
        }

        public long seed() {
            return base.seed();
        }

        public ProgressReporter progress() {
            return ProgressReporter.NONE;
        }
    }

    static ActivationPatchingAnalyzer.Params params(String source, List<Integer> neurons, Map<String, String> where, long limit,
                                                    int internalBatch) {
        return new ActivationPatchingAnalyzer.Params(source, ActivationPatchingAnalyzer.PairBy.ID, null, neurons, 0.1, where, limit,
                internalBatch);
    }

    AnalysisResult run(LoadedModel m, Dataset runData, Map<String, Dataset> sets, ActivationPatchingAnalyzer.Params p,
                       List<String> layers) {
        String name = sets.entrySet().stream().filter(e -> e.getValue() == runData).map(Map.Entry::getKey).findFirst().orElse("probe");
        return new ActivationPatchingAnalyzer().analyze(new Ctx(new TestSupport.Context<>("ap", p, m, runData, layers, 64, tmp),
                name, sets));
    }

    @Test
    void wholeLayersRestoreEverythingAndSingleNeuronsEqualManualPatches() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset on = shapes("test", 120, SyntheticShapesSource.Watermark.ON);
             Dataset off = shapes("test", 120, SyntheticShapesSource.Watermark.OFF)) {
            Map<String, Dataset> sets = new LinkedHashMap<>(Map.of("clean", off, "watermarked", on));
            AnalysisResult r = run(m, on, sets, params("clean", List.of(4, 6), Map.of(), 80, 4096), List.of("conv1", "conv2", "dense1"));
            Matrix layers = r.part("patching-layers", Matrix.class).orElseThrow();
            for (int l = 0; l < 3; l++) {
                assertEquals(1.0, layers.get(l, 1), 1e-4, "least restored, layer " + l);
                assertEquals(1.0, layers.get(l, 2), 1e-4, "largest restored, layer " + l);
                if (!Double.isNaN(layers.get(l, 3))) {
                    assertEquals(1.0, layers.get(l, 3), 0.0, "whole layer flips every differing prediction");
                }
            }
            // each neuron alone, recomputed one patch per run
            NeuronTable t = r.part("conv2-patching", NeuronTable.class).orElseThrow();
            for (int j : new int[] {4, 6}) {
                double sum = 0;
                long counted = 0;
                for (Iterator<Batch> it = new ExampleFilter(on, Map.of(), 80, "t").batches(40); it.hasNext(); ) {
                    Batch b = it.next();
                    Tensor src = new ExampleFilter(off, Map.of(), 80, "t").batches(80).next().inputs().rows((int) b.offset(), (int) b.offset() + b.size());
                    Map<String, Tensor> s = m.run(src, List.of("conv2", "logits"));
                    float[] runLogits = m.run(b.inputs(), List.of("logits")).get("logits").floats();
                    float[] patched = m.run(b.inputs(), List.of("logits"), List.of(Intervention.patch("conv2", s.get("conv2"), j)))
                            .get("logits").floats();
                    float[] srcLogits = s.get("logits").floats();
                    for (int row = 0; row < b.size(); row++) {
                        int c = RowBlocks.argmax(srcLogits, row, 4);
                        double diff = srcLogits[row * 4 + c] - runLogits[row * 4 + c];
                        if (Math.abs(diff) > 0.1) {
                            sum += (patched[row * 4 + c] - runLogits[row * 4 + c]) / diff;
                            counted++;
                        }
                    }
                }
                assertEquals(sum / counted, t.column("restored").orElseThrow().values().get(j), 1e-4, "conv2 #" + j);
            }
            assertTrue(Double.isNaN(t.column("restored").orElseThrow().values().get(0)), "neuron 0 was not patched");
            Matrix grid = r.part("patching", Matrix.class).orElseThrow();
            assertEquals(t.column("restored").orElseThrow().values().get(4), grid.get(1, 4), 1e-6);
            assertTrue(Double.isNaN(grid.get(0, 8)), "conv1 has 8 neurons");
            // the same with one patch per model run
            AnalysisResult single = run(m, on, sets, params("clean", List.of(4, 6), Map.of(), 80, 1), List.of("conv1", "conv2", "dense1"));
            assertArrayEquals(t.column("restored").orElseThrow().values().floats(),
                    single.part("conv2-patching", NeuronTable.class).orElseThrow().column("restored").orElseThrow().values().floats(), 1e-4f);
        }
    }

    @Test
    void patchingARunWithItsOwnActivationChangesNothing() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset on = shapes("test", 40, SyntheticShapesSource.Watermark.ON)) {
            Tensor x = on.batches(40).next().inputs();
            Map<String, Tensor> own = m.run(x, List.of("conv2", "logits"));
            for (int j : new int[] {-1, 4}) {
                Intervention iv = j < 0 ? Intervention.patch("conv2", own.get("conv2")) : Intervention.patch("conv2", own.get("conv2"), j);
                float[] patched = m.run(x, List.of("logits"), List.of(iv)).get("logits").floats();
                // restored = (F(patched) - F(run)) / (F(source) - F(run)) has a zero numerator
                assertArrayEquals(own.get("logits").floats(), patched, 1e-5f);
            }
        }
    }

    @Test
    void saysWhatIsWrongWithTheSourceAndThePairs() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset on = shapes("test", 60, SyntheticShapesSource.Watermark.ON);
             Dataset few = shapes("test", 20, SyntheticShapesSource.Watermark.OFF)) {
            Map<String, Dataset> sets = new LinkedHashMap<>(Map.of("few", few, "watermarked", on));
            AnalysisException e = assertThrows(AnalysisException.class, () -> run(m, on, sets,
                    params("clean", null, Map.of(), 60, 4096), List.of("conv2")));
            assertTrue(e.getMessage().contains("'clean'") && e.getMessage().contains("few"), e.getMessage());
            e = assertThrows(AnalysisException.class, () -> run(m, on, sets, params("few", null, Map.of(), 60, 4096), List.of("conv2")));
            assertTrue(e.getMessage().contains("test-20") && e.getMessage().contains("no pair"), e.getMessage());
            e = assertThrows(AnalysisException.class, () -> run(m, on, sets, params("few", List.of(20), Map.of(), 10, 4096), List.of("conv2")));
            assertTrue(e.getMessage().contains("0..15"), e.getMessage());
            // by index the first 20 pair up
            AnalysisResult r = run(m, on, sets, new ActivationPatchingAnalyzer.Params("few", ActivationPatchingAnalyzer.PairBy.INDEX, "class:square",
                    List.of(4), 0.1, Map.of(), 20, 4096), List.of("conv2"));
            assertEquals(20L, r.summary().get("pairs"));
            assertTrue(r.part("patching-ranking", Ranking.class).isPresent());
        }
        assertThrows(RuntimeException.class, () -> params(" ", null, Map.of(), 10, 10));
        assertThrows(RuntimeException.class, () -> params("x", List.of(), Map.of(), 10, 10));
    }

    private static String show(AnalysisResult r) {
        StringBuilder sb = new StringBuilder();
        r.findings().forEach(f -> sb.append(f.claim()).append('\n'));
        r.part("patching-ranking", Ranking.class).orElseThrow().entries().stream().limit(4)
                .forEach(e -> sb.append("  ").append(e.neuron()).append(' ').append(RowBlocks.fmt(e.score())).append(' ').append(e.note()).append('\n'));
        sb.append("  whole: ").append(r.summary().get("wholeLayer")).append(" counted ").append(r.summary().get("pairsCounted"))
                .append(" differing ").append(r.summary().get("pairsWithDifferentPredictions"));
        return sb.toString();
    }

    @Test
    void groundTruthOnTheDemoModel() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset on = shapes("test", 800, SyntheticShapesSource.Watermark.ON);
             Dataset off = shapes("test", 800, SyntheticShapesSource.Watermark.OFF)) {
            Map<String, Dataset> sets = new LinkedHashMap<>(Map.of("clean", off, "watermarked", on));
            for (Map<String, String> where : List.of(Map.<String, String>of(), Map.of("class", "square"), Map.of("class", "!square"))) {
                System.out.println("GT clean->watermarked " + where + ":\n" + show(run(m, on, sets, params("clean", null, where, 400, 4096), List.of("conv2"))));
                System.out.println("GT watermarked->clean " + where + ":\n" + show(run(m, off, sets, params("watermarked", null, where, 400, 4096), List.of("conv2"))));
            }
        }
    }
}
