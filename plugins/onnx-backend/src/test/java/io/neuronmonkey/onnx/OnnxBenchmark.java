package io.neuronmonkey.onnx;

import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/**
 * Timings, not a test (nothing is asserted): load time, and one batch of 256 run for the logits alone, with every
 * layer captured, with the demo CNN's census layers captured, and with an intervention. Runs with {@code -Dbench=true}; {@code -Dbench.model=FILE} times that
 * file (e.g. the demo CNN the experiments' OnnxBackendTest exports), else a network of the demo CNN's architecture
 * with random weights.
 */
@EnabledIfSystemProperty(named = "bench", matches = "true")
class OnnxBenchmark {

    @TempDir
    Path dir;

    @Test
    void loadAndCaptureOverheadAtBatch256() throws IOException {
        Path file = System.getProperty("bench.model") != null ? Path.of(System.getProperty("bench.model")) : demoShaped();
        int n = 256;
        float[] x = new float[n * 28 * 28];
        Random rng = new Random(1);
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextFloat();
        }
        Tensor batch = Tensor.ofFloats(x, n, 28, 28, 1);
        double[] loads = new double[5];
        for (int i = 0; i < loads.length; i++) {
            long t0 = System.nanoTime();
            new OnnxBackend().load(io.neuronmonkey.testkit.TestKit.modelContext(file, OnnxBackend.Params.defaults()))
                    .close();
            loads[i] = (System.nanoTime() - t0) / 1e6;
        }
        try (LoadedModel m = new OnnxBackend().load(io.neuronmonkey.testkit.TestKit.modelContext(file,
                OnnxBackend.Params.defaults()))) {
            List<String> all = m.layers().stream().map(LayerInfo::name).toList();
            double plain = time(() -> m.run(batch, List.of(m.logitsLayer())));
            double everything = time(() -> m.run(batch, all));
            // the layers the TensorFlow backend lists for the demo CNN (activations, not pre-activation sums)
            List<String> census = List.of("conv1", "pool1", "conv2", "pool2", "dense1", "logits", "probabilities");
            double listed = time(() -> m.run(batch, census));
            double intervened = time(() -> m.run(batch, List.of(m.logitsLayer()),
                    List.of(Intervention.ablate("conv2", 4))));
            System.out.printf(java.util.Locale.ROOT, "onnx bench %s: load median %.1f ms (all %s); batch %d: logits"
                            + " only %.2f ms, all %d layers %.2f ms (x%.2f), the census's %d layers %.2f ms (x%.2f),"
                            + " logits with conv2 #4 ablated %.2f ms%n",
                    file.getFileName(), median(loads), Arrays.toString(loads), n, plain, all.size(), everything,
                    everything / plain, census.size(), listed, listed / plain, intervened);
        }
    }

    /** Median of 20 timed runs after 3 warm-up runs (the first builds the session), in milliseconds. */
    private static double time(Supplier<?> run) {
        for (int i = 0; i < 3; i++) {
            run.get();
        }
        double[] t = new double[20];
        for (int i = 0; i < t.length; i++) {
            long t0 = System.nanoTime();
            run.get();
            t[i] = (System.nanoTime() - t0) / 1e6;
        }
        return median(t);
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** The demo CNN's architecture (28x28x1 -> conv 8 -> pool -> conv 16 -> pool -> dense 32 -> 4) with random weights. */
    private Path demoShaped() throws IOException {
        Random rng = new Random(2);
        return new OnnxBuilder(17).input("images", -1L, 1, 28, 28)
                .floats("k1", Reference.random(rng, 8 * 9, 0.5), 8, 1, 3, 3).floats("b1", new float[8], 8)
                .floats("k2", Reference.random(rng, 16 * 8 * 9, 0.2), 16, 8, 3, 3).floats("b2", new float[16], 16)
                .floats("w1", Reference.random(rng, 784 * 32, 0.05), 784, 32).floats("c1", new float[32], 32)
                .floats("w2", Reference.random(rng, 32 * 4, 0.2), 32, 4).floats("c2", new float[4], 4)
                .node("Conv", new String[] {"images", "k1", "b1"}, "conv1_bias", "kernel_shape", new long[] {3, 3},
                        "pads", new long[] {1, 1, 1, 1})
                .node("Relu", "conv1_bias", "conv1")
                .node("MaxPool", "conv1", "pool1", "kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})
                .node("Conv", new String[] {"pool1", "k2", "b2"}, "conv2_bias", "kernel_shape", new long[] {3, 3},
                        "pads", new long[] {1, 1, 1, 1})
                .node("Relu", "conv2_bias", "conv2")
                .node("MaxPool", "conv2", "pool2", "kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2})
                .node("Flatten", "pool2", "flatten", "axis", 1L)
                .node("Gemm", new String[] {"flatten", "w1", "c1"}, "dense1_bias")
                .node("Relu", "dense1_bias", "dense1")
                .node("Gemm", new String[] {"dense1", "w2", "c2"}, "logits")
                .node("Softmax", "logits", "probabilities", "axis", 1L)
                .output("probabilities")
                .write(dir.resolve("demo-shaped.onnx"));
    }
}
