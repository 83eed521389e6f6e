package io.neuronmonkey.tensorflow;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Training time of the demo CNN (28x28x1, 4 classes, default sizes) with monitoring off, every 10 steps and every
 * step, interleaved in one process; prints medians. A measurement, not a check: runs only with {@code -Dbench=true}.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class MonitorOverheadBenchmark {

    @Test
    void monitoringOverhead(@TempDir Path out) {
        int n = Integer.getInteger("bench.examples", 4096);
        Random r = new Random(5);
        float[] x = new float[n * 28 * 28];
        int[] y = new int[n];
        for (int e = 0; e < n; e++) {
            y[e] = r.nextInt(4);
            for (int i = 0; i < 28 * 28; i++) {
                x[e * 28 * 28 + i] = (i % 4 == y[e] ? 0.5f : 0f) + 0.5f * r.nextFloat();
            }
        }
        TestContexts.MemoryDataset data = new TestContexts.MemoryDataset(x, y, new int[] {28, 28, 1},
                List.of("a", "b", "c", "d"));
        int[] every = {0, 10, 1};
        int rounds = Integer.getInteger("bench.rounds", 3);
        double[][] seconds = new double[every.length][rounds];
        for (int round = -1; round < rounds; round++) {
            for (int m = 0; m < every.length; m++) {
                ShapesCnnTrainer.Params p = new ShapesCnnTrainer.Params(1, 64, 0.002, 8, 16, 32,
                        ShapesCnnTrainer.Architecture.CNN, List.of(512), every[m], ShapesCnnTrainer.Checkpoints.NONE,
                        0, 1, 100);
                Path dir = out.resolve("r" + round + "m" + m);
                double s = (Double) new ShapesCnnTrainer().train(
                        new TestContexts.Trainer(p, data, Map.of(), dir, new ArrayList<>())).summary()
                        .get("trainSeconds");
                if (round >= 0) {
                    seconds[m][round] = s;
                }
            }
        }
        double off = median(seconds[0]);
        for (int m = 0; m < every.length; m++) {
            double t = median(seconds[m]);
            System.out.printf("monitorEvery=%d: median %.3f s over %d rounds of %d steps, overhead %+.1f%%%n",
                    every[m], t, rounds, n / 64, 100 * (t / off - 1));
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
