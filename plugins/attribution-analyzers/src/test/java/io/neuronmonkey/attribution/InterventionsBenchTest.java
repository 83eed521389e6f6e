package io.neuronmonkey.attribution;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Timings of the batched interventions and of conductance, printed only; run with {@code -Dbench=true}. */
class InterventionsBenchTest {

    @TempDir
    Path tmp;

    @Test
    void bench() {
        Assumptions.assumeTrue(Boolean.getBoolean("bench"), "benchmark: run with -Dbench=true");
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 512)) {
            // 1 + 5 ranked + 5 x 19 random + 15 alone = 116 neuron sets of conv2 over 512 examples
            List<Integer> all = java.util.stream.IntStream.range(0, 16).boxed().toList();
            for (int internalBatch : new int[] {512, 8192}) {
                AblationAnalyzer.Params p = new AblationAnalyzer.Params("conv2", all, null, 16, AblationAnalyzer.Mode.ZERO, 19,
                        "predicted", "square", Map.of(), 512, List.of(), internalBatch);
                TestSupport.Context<AblationAnalyzer.Params> c = new TestSupport.Context<>("ab", p, m, d, List.of(), 512, tmp);
                new AblationAnalyzer().analyze(c);
                long t0 = System.nanoTime();
                var r = new AblationAnalyzer().analyze(c);
                double ms = (System.nanoTime() - t0) / 1e6;
                int sets = ((Number) r.summary().get("variantsEvaluated")).intValue();
                System.out.printf("BENCH ablation conv2, %d sets x 512 examples, internalBatch %d: %.0f ms, %.2f ms per set%n",
                        sets, internalBatch, ms, ms / sets);
            }
            Tensor all512 = d.batches(512).next().inputs();
            m.run(all512, List.of("logits"));
            long p0 = System.nanoTime();
            m.run(all512, List.of("logits"));
            System.out.printf("BENCH one plain run of the 512 examples: %.1f ms%n", (System.nanoTime() - p0) / 1e6);
            // conductance of conv2 and dense1 on 128 examples x 32 steps, against plain gradient calls on the same rows
            NeuronConductanceAnalyzer.Params p = new NeuronConductanceAnalyzer.Params("class:square", NeuronConductanceAnalyzer.Baseline.ZERO,
                    32, 2048, Map.of(), 128, 10);
            TestSupport.Context<NeuronConductanceAnalyzer.Params> c = new TestSupport.Context<>("nc", p, m, d, List.of("conv2", "dense1"), 512, tmp);
            new NeuronConductanceAnalyzer().analyze(c);
            long t0 = System.nanoTime();
            new NeuronConductanceAnalyzer().analyze(c);
            double conductance = (System.nanoTime() - t0) / 1e6;
            Batch b = d.batches(128).next();
            Tensor path = NeuronConductanceAnalyzer.path(b.inputs(), new float[784], 32);
            int[] rows = new int[128];
            java.util.Arrays.fill(rows, 1);
            var target = Target.parse("class:square").orElseThrow().resolve(m, d.info(), "b");
            t0 = System.nanoTime();
            for (int from = 0; from < path.rows(); from += 2048) {
                Tensor chunk = path.rows(from, Math.min(path.rows(), from + 2048));
                int[] r = java.util.Arrays.copyOf(rows, chunk.rows() / 32);
                m.run(chunk, List.of("conv2", "dense1", "logits"));
                m.gradient(chunk, target.gradientTarget(r, 32), "conv2");
                m.gradient(chunk, target.gradientTarget(r, 32), "dense1");
            }
            double plain = (System.nanoTime() - t0) / 1e6;
            System.out.printf("BENCH conductance conv2+dense1, 128 examples x 32 steps: %.0f ms; the same rows as one run and two plain"
                    + " gradient calls per chunk: %.0f ms%n", conductance, plain);
        }
    }
}
