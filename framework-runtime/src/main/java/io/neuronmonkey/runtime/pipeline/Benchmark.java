package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Measures what NeuronMonkey costs on top of plain inference, in one process on one model and one in-memory data
 * set: (a) the backend fetching only the logits, batch by batch; (b) the fused pass capturing every layer and
 * feeding the streaming analyzers of the prepared experiment. Data is materialized first so that neither side pays
 * for data generation. Each side is timed {@code repeats} times after a warm-up; medians are reported.
 */
public final class Benchmark {

    /** Timings of one benchmark. */
    public record Result(String model, int examples, int batchSize, int threads, List<String> layers, List<String> analyzers,
                         double plainSeconds, double fusedSeconds, double peakHeapMb) {
        public double ratio() {
            return fusedSeconds / plainSeconds;
        }
    }

    private Benchmark() {
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    public static Result run(PreparedExperiment exp, Environment env, int repeats, int threads) {
        LoadedModel model = exp.model();
        Dataset source = exp.data().values().iterator().next().dataset();
        int batchSize = exp.config().batchSize();
        List<Batch> batches = new ArrayList<>();
        source.batches(batchSize).forEachRemaining(batches::add);
        Dataset memory = new InMemory(source.info(), batches, source.fingerprint());
        int examples = batches.stream().mapToInt(Batch::size).sum();

        List<String> logits = List.of(model.logitsLayer());
        Runnable plain = () -> {
            for (Batch b : batches) {
                model.run(b.inputs(), logits);
            }
        };
        List<String> union = new ArrayList<>();
        for (PreparedExperiment.StepEntry s : exp.steps()) {
            s.layers().stream().map(LayerInfo::name).filter(n -> !union.contains(n)).forEach(union::add);
        }
        if (exp.steps().isEmpty()) {
            // capture only: every layer but the input, fed to no analyzer
            model.layers().stream().filter(l -> l.role() != LayerInfo.Role.INPUT).map(LayerInfo::name).forEach(union::add);
        }
        Runnable fused = () -> {
            List<FusedPass.Consumer> consumers = new ArrayList<>();
            List<StreamingAnalyzer.Accumulator> accs = new ArrayList<>();
            for (PreparedExperiment.StepEntry s : exp.steps()) {
                StreamingAnalyzer a = (StreamingAnalyzer) s.extension().instance();
                StreamingAnalyzer.Accumulator acc = a.start(new Contexts.Analysis<>(env, s.id(), s.params(), model, memory,
                        s.layers(), batchSize, Map.of(), null));
                accs.add(acc);
                List<String> names = s.layers().stream().map(LayerInfo::name).toList();
                consumers.add(new FusedPass.Consumer() {
                    public String id() {
                        return s.id();
                    }

                    public List<String> layers() {
                        return names;
                    }

                    public void accept(ActivationBatch batch) {
                        acc.accept(batch);
                    }
                });
            }
            List<FusedPass.Failure> failures = FusedPass.run(memory, batchSize, (b, i) -> model.run(b.inputs(), union), consumers,
                    threads, ProgressReporter.NONE, () -> false);
            if (!failures.isEmpty()) {
                throw failures.get(0).error();
            }
            accs.forEach(StreamingAnalyzer.Accumulator::finish);
        };
        plain.run();
        fused.run();
        double[] p = new double[repeats];
        double[] f = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            p[r] = time(plain);
            f[r] = time(fused);
        }
        return new Result(model.description(), examples, batchSize, threads, union,
                exp.steps().stream().map(s -> s.extension().name()).toList(), median(p), median(f), PeakHeap.megabytes());
    }

    private static double time(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e9;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** Batches held in memory, replayed in order. */
    private record InMemory(DatasetInfo info, List<Batch> batches, String fingerprint) implements Dataset {
        @Override
        public Iterator<Batch> batches(int batchSize) {
            return batches.iterator();
        }

    }
}
