package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.AnalysisException;
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
 * feeding the given streaming analyzers. Data is materialized first so that neither side pays for data generation.
 * Each side is timed {@code repeats} times after a warm-up; medians are reported, of the wall-clock time and of the
 * process's CPU time (all threads, the model's native ones included). The CPU time is what the analysis costs on a
 * machine that has other work for its cores, and it is less sensitive than the wall clock to other processes.
 */
public final class Benchmark {

    /** A streaming analyzer fused into (b): its step id, extension, bound params and the layers it reads. */
    public record Probe(String id, StreamingAnalyzer<?> analyzer, Record params, List<LayerInfo> layers) {
        public Probe {
            layers = List.copyOf(layers);
        }
    }

    /** Timings of one benchmark. */
    public record Result(String model, int examples, int batchSize, int threads, List<String> layers, List<String> analyzers,
                         double plainSeconds, double fusedSeconds, double plainCpuSeconds, double fusedCpuSeconds,
                         double peakHeapMb) {
        /** @return fused over plain wall-clock time */
        public double ratio() {
            return fusedSeconds / plainSeconds;
        }

        /** @return fused over plain CPU time (NaN when the platform does not report process CPU time) */
        public double cpuRatio() {
            return fusedCpuSeconds / plainCpuSeconds;
        }
    }

    private Benchmark() {
    }

    /**
     * @param source      the data; its first {@code maxExamples} examples are read into memory
     * @param probes      the analyzers of (b); none to time the capture of every layer but the input alone
     * @throws AnalysisException when the data holds no examples, or the model or an analyzer fails in a pass
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static Result run(LoadedModel model, Dataset source, int batchSize, long maxExamples, List<Probe> probes,
                             Environment env, int repeats, int threads) {
        List<Batch> batches = new ArrayList<>();
        long read = 0;
        Iterator<Batch> it = source.batches(batchSize);
        while (read < maxExamples && it.hasNext()) {
            Batch b = it.next();
            if (read + b.size() > maxExamples) {
                b = head(b, (int) (maxExamples - read));
            }
            batches.add(b);
            read += b.size();
        }
        if (batches.isEmpty()) {
            throw new AnalysisException("the data set holds no examples to time the model on");
        }
        Dataset memory = new InMemory(source.info(), batches, source.fingerprint());
        int examples = batches.stream().mapToInt(Batch::size).sum();

        List<String> logits = List.of(model.logitsLayer());
        Runnable plain = () -> {
            for (Batch b : batches) {
                model.run(b.modelInputs(), logits, List.of());
            }
        };
        List<String> union = new ArrayList<>();
        for (Probe p : probes) {
            p.layers().stream().map(LayerInfo::name).filter(n -> !union.contains(n)).forEach(union::add);
        }
        if (probes.isEmpty()) {
            // capture only: every layer but the input, fed to no analyzer
            model.layers().stream().filter(l -> l.role() != LayerInfo.Role.INPUT).map(LayerInfo::name).forEach(union::add);
        }
        Runnable fused = () -> {
            List<FusedPass.Consumer> consumers = new ArrayList<>();
            List<StreamingAnalyzer.Accumulator> accs = new ArrayList<>();
            for (Probe p : probes) {
                StreamingAnalyzer a = p.analyzer();
                StreamingAnalyzer.Accumulator acc = a.start(new Contexts.Analysis<>(env, p.id(), p.params(), model, memory,
                        p.layers(), batchSize, Map.of(), null));
                accs.add(acc);
                List<String> names = p.layers().stream().map(LayerInfo::name).toList();
                consumers.add(new FusedPass.Consumer() {
                    public String id() {
                        return p.id();
                    }

                    public List<String> layers() {
                        return names;
                    }

                    public void accept(ActivationBatch batch) {
                        acc.accept(batch);
                    }
                });
            }
            List<FusedPass.Failure> failures = FusedPass.run(memory, batchSize, (b, i) -> model.run(b.modelInputs(), union, List.of()), consumers,
                    threads, ProgressReporter.NONE, () -> false);
            if (!failures.isEmpty()) {
                FusedPass.Failure f = failures.get(0);
                throw new AnalysisException("the fused pass failed in '" + f.id() + "': " + f.error().getMessage(), f.error());
            }
            accs.forEach(StreamingAnalyzer.Accumulator::finish);
        };
        plain.run();
        fused.run();
        double[] p = new double[repeats];
        double[] f = new double[repeats];
        double[] pc = new double[repeats];
        double[] fc = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            double[] t = time(plain);
            p[r] = t[0];
            pc[r] = t[1];
            t = time(fused);
            f[r] = t[0];
            fc[r] = t[1];
        }
        return new Result(model.description(), examples, batchSize, threads, union,
                probes.stream().map(Probe::id).toList(), median(p), median(f), median(pc), median(fc), PeakHeap.megabytes());
    }

    /** The first {@code n} examples of a batch. */
    private static Batch head(Batch b, int n) {
        return b.slice(0, n);
    }

    /** @return {wall seconds, process CPU seconds (NaN when not reported)} */
    private static double[] time(Runnable r) {
        long c0 = cpuNanos();
        long t0 = System.nanoTime();
        r.run();
        long t1 = System.nanoTime();
        long c1 = cpuNanos();
        return new double[]{(t1 - t0) / 1e9, c0 < 0 || c1 < 0 ? Double.NaN : (c1 - c0) / 1e9};
    }

    /** @return the CPU time of the whole process so far, in ns; -1 when the platform does not report it */
    private static long cpuNanos() {
        if (java.lang.management.ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return -1;
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
