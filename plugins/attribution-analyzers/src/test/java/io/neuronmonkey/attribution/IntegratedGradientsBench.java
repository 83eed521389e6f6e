package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Iterator;
import java.util.List;

/**
 * Integrated gradients over 1,000 examples x 128 steps on the demo CNN, as the analyzer runs it, against the same
 * 128,000 rows as bare gradient calls in chunks of the same size; prints both times, their ratio and the peak heap.
 * Figures for the report, never asserted: run with {@code -Dbench=true}.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class IntegratedGradientsBench {

    static final int EXAMPLES = 1000;
    static final int STEPS = 128;
    static final int CHUNK = 256;

    @Test
    void integratedGradientsAgainstBareGradientCalls() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("test", EXAMPLES)) {
            String input = InputGradients.inputLayer(m);
            String params = "limit: " + EXAMPLES + "\nsteps: " + STEPS + "\ninternalBatch: " + CHUNK
                    + "\ndeletion: false\nsanity: false\nkeep: 16\n";
            IntegratedGradientsAnalyzer.Params p = InputFixtures.bind(IntegratedGradientsAnalyzer.Params.class, params);
            InputFixtures.run(new IntegratedGradientsAnalyzer(), InputFixtures.bind(IntegratedGradientsAnalyzer.Params.class,
                    "limit: 64\nsteps: 8\ndeletion: false\nsanity: false\n"), m, d, 64);

            // bare: the same number of rows, chunks of the same size, the inputs as they are, one target per row
            float[] all = new float[EXAMPLES * 784];
            int at = 0;
            for (Iterator<Batch> it = d.batches(256); it.hasNext(); ) {
                float[] x = it.next().inputs().floats();
                System.arraycopy(x, 0, all, at, x.length);
                at += x.length;
            }
            int[] idx = new int[CHUNK];
            long bareStart = System.nanoTime();
            long rows = (long) EXAMPLES * STEPS;
            for (long first = 0; first < rows; first += CHUNK) {
                int count = (int) Math.min(CHUNK, rows - first);
                float[] buf = new float[count * 784];
                for (int i = 0; i < count; i++) {
                    int e = (int) ((first + i) / STEPS);
                    System.arraycopy(all, e * 784, buf, i * 784, 784);
                }
                m.gradient(Tensor.ofFloats(buf, count, 28, 28, 1), GradientTarget.perRow(m.logitsLayer(),
                        java.util.Arrays.copyOf(idx, count)), input);
            }
            double bare = (System.nanoTime() - bareStart) / 1e9;

            System.gc();
            long before = heapUsed();
            List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(x -> x.getType() == MemoryType.HEAP).toList();
            pools.forEach(MemoryPoolMXBean::resetPeakUsage);
            long start = System.nanoTime();
            AnalysisResult r = InputFixtures.run(new IntegratedGradientsAnalyzer(), p, m, d, 64);
            double ig = (System.nanoTime() - start) / 1e9;
            long peak = pools.stream().mapToLong(x -> x.getPeakUsage().getUsed()).sum();
            System.out.printf("BENCH integrated gradients %d examples x %d steps (internalBatch %d, batch 64): %.2f s;"
                            + " bare gradient calls, %d rows in chunks of %d: %.2f s; ratio %.2fx; heap after GC before the run"
                            + " %.1f MiB, peak of the heap pools during it %.1f MiB (sum of per-pool peaks, -Xmx %d MiB);"
                            + " completeness %s%n", EXAMPLES, STEPS, CHUNK, ig, rows, CHUNK, bare, ig / bare, before / 1048576.0,
                    peak / 1048576.0, Runtime.getRuntime().maxMemory() / 1048576, r.summary().get("completeness"));
        }
    }

    static long heapUsed() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
