package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.ModelContext;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.testkit.TestKit;
import io.neuronmonkey.api.train.TrainerContext;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/** Runtime stand-ins the test kit does not offer: a trainer context and an in-memory data set; model contexts come from the kit. */
final class TestContexts {

    private TestContexts() {
    }

    record Trainer(ShapesCnnTrainer.Params params, Dataset trainData, Map<String, Dataset> evaluationData,
                   Path outputDir, List<String> events) implements TrainerContext<ShapesCnnTrainer.Params> {
        @Override
        public Path resolve(String p) {
            return outputDir.resolve(p);
        }

        @Override
        public long seed() {
            return 7;
        }

        @Override
        public ProgressReporter progress() {
            return new ProgressReporter() {
                @Override
                public void start(String task, long total) {
                    events.add("start " + total);
                }

                @Override
                public void advance(long done) {
                    events.add("advance " + done);
                }
            };
        }
    }

    static ModelContext<TensorFlowBackend.Params> model(Path path) {
        return TestKit.modelContext(path, TensorFlowBackend.Params.defaults());
    }

    static ModelContext<TensorFlowBackend.Params> model(Path path, String input, String output) {
        return TestKit.modelContext(path, new TensorFlowBackend.Params("serving_default", input, output, null, 1.0, 0.0));
    }

    /** Examples held in one float array, served in batches. */
    record MemoryDataset(float[] inputs, int[] labels, int[] shape, List<String> classNames) implements Dataset {
        @Override
        public DatasetInfo info() {
            return new DatasetInfo(labels.length, shape, classNames, List.of());
        }

        @Override
        public Iterator<Batch> batches(int batchSize) {
            int d = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            List<Batch> out = new ArrayList<>();
            for (int from = 0; from < labels.length; from += batchSize) {
                int n = Math.min(batchSize, labels.length - from);
                int[] s = new int[shape.length + 1];
                s[0] = n;
                System.arraycopy(shape, 0, s, 1, shape.length);
                List<String> ids = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    ids.add("e" + (from + i));
                }
                out.add(new Batch(from, Tensor.ofFloats(Arrays.copyOfRange(inputs, from * d, (from + n) * d), s),
                        Arrays.copyOfRange(labels, from, from + n), ids,
                        Collections.nCopies(n, Map.of())));
            }
            return out.iterator();
        }

        @Override
        public String fingerprint() {
            return "memory";
        }
    }
}
