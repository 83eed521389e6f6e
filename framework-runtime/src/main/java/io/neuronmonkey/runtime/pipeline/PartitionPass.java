package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.engine.ExperimentSource;
import io.neuronmonkey.runtime.plugin.PluginHost;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The executor side of a distributed pass: loads an experiment from its {@link ExperimentSource} (plugins, model,
 * data) and runs one partition, a contiguous range of the data in data order, through the same fused pass a local
 * run uses, into fresh accumulators of the pass's steps. Their states are what the engine sends back to be merged.
 */
public final class PartitionPass {

    private PartitionPass() {
    }

    /** A loaded experiment: its plugins, its model and its open data sets. Closing releases all of them. */
    public static final class Loaded implements AutoCloseable {
        private final PluginHost host;
        private final PreparedExperiment exp;
        private final Environment env;

        private Loaded(PluginHost host, PreparedExperiment exp, Environment env) {
            this.host = host;
            this.exp = exp;
            this.env = env;
        }

        @Override
        public void close() {
            try {
                exp.close();
            } finally {
                host.close();
            }
        }
    }

    /**
     * What one partition produced.
     *
     * @param states   the accumulators of the steps that did not fail, by step id, fed with the partition's examples
     * @param failures the steps that failed on this partition, with why
     * @param examples the examples the partition read
     */
    public record Result(Map<String, StreamingAnalyzer.Accumulator> states, Map<String, RuntimeException> failures,
                         long examples) {
    }

    /**
     * Loads the experiment: starts its plugins from the source's folders, checks it and loads the model and data.
     *
     * @param source what the driver ran
     * @param notice told of plugin start-up notices
     * @return the loaded experiment; the caller closes it
     */
    public static Loaded load(ExperimentSource source, Consumer<String> notice) {
        ExperimentConfig config = ExperimentParser.read(Path.of(source.file()), source.text()).requireValid();
        List<Path> roots = source.pluginRoots().stream().map(Path::of).toList();
        PluginHost host = PluginHost.start(roots, source.systemVersion(), notice);
        try {
            Environment env = new Environment(config, ProgressReporter.NONE, new AtomicBoolean());
            return new Loaded(host, Preparer.prepare(config, host.registry(), env, true), env);
        } catch (RuntimeException e) {
            host.close();
            throw e;
        }
    }

    /**
     * Runs examples {@code [from, to)} of a data set through the model once, feeding fresh accumulators of the given
     * streaming steps.
     *
     * @param loaded    the loaded experiment
     * @param data      the data set's name
     * @param steps     the streaming steps of the pass, all reading {@code data}
     * @param from      the first example, a multiple of the batch size (so batches are the local run's)
     * @param to        one past the last example
     * @param cancelled true once the partition should stop
     * @return the accumulators and what failed
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    public static Result run(Loaded loaded, String data, List<String> steps, long from, long to, BooleanSupplier cancelled) {
        PreparedExperiment exp = loaded.exp;
        int batchSize = exp.config().batchSize();
        if (from < 0 || to < from || from % batchSize != 0) {
            throw new IllegalArgumentException("a partition is [from, to) with from a multiple of " + batchSize + ", found ["
                    + from + ", " + to + ")");
        }
        PreparedExperiment.DataEntry entry = exp.data().get(data);
        if (entry == null || entry.dataset() == null) {
            throw new ConfigException("data set '" + data + "' is not in the experiment the executor loaded");
        }
        Dataset dataset = entry.dataset();
        Map<String, PreparedExperiment.StepEntry> byId = new LinkedHashMap<>();
        exp.steps().forEach(s -> byId.put(s.id(), s));
        Map<String, StreamingAnalyzer.Accumulator> states = new LinkedHashMap<>();
        Map<String, RuntimeException> failures = new LinkedHashMap<>();
        Set<String> union = new LinkedHashSet<>();
        List<FusedPass.Consumer> consumers = new ArrayList<>();
        for (String id : steps) {
            PreparedExperiment.StepEntry s = byId.get(id);
            if (s == null || !(s.extension().instance() instanceof StreamingAnalyzer<?> analyzer) || !data.equals(s.data())) {
                throw new ConfigException("step '" + id + "' is not a streaming step over '" + data + "' in the experiment the executor loaded");
            }
            try {
                Path work = Path.of(System.getProperty("java.io.tmpdir"), "neuronmonkey-partitions", id);
                StreamingAnalyzer.Accumulator acc = ((StreamingAnalyzer) analyzer).start(new Contexts.Analysis<>(loaded.env, id,
                        s.params(), exp.model(), dataset, data, s.layers(), batchSize, Map.of(), work,
                        List.copyOf(exp.data().keySet()), n -> exp.data().get(n).dataset()));
                states.put(id, acc);
                List<String> layers = s.layers().stream().map(LayerInfo::name).toList();
                union.addAll(layers);
                consumers.add(new FusedPass.Consumer() {
                    public String id() {
                        return id;
                    }

                    public List<String> layers() {
                        return layers;
                    }

                    public void accept(ActivationBatch batch) {
                        acc.accept(batch);
                    }
                });
            } catch (RuntimeException e) {
                failures.put(id, e);
            }
        }
        long[] examples = {0};
        List<String> fetch = List.copyOf(union);
        FusedPass.Activations source = (b, i) -> {
            examples[0] += b.size();
            return exp.model().run(b.modelInputs(), fetch, List.of());
        };
        if (!consumers.isEmpty()) {
            for (FusedPass.Failure f : FusedPass.run(new Range(dataset, from, to), batchSize, source, consumers, 1,
                    ProgressReporter.NONE, cancelled)) {
                failures.put(f.id(), f.error());
                states.remove(f.id());
            }
        }
        return new Result(states, failures, examples[0]);
    }

    /** Examples {@code [from, to)} of a data set, in its batches: earlier batches are read and skipped, not run. */
    private static final class Range implements Dataset {
        private final Dataset data;
        private final long from;
        private final long to;

        Range(Dataset data, long from, long to) {
            this.data = data;
            this.from = from;
            this.to = to;
        }

        @Override
        public DatasetInfo info() {
            return data.info();
        }

        @Override
        public String fingerprint() {
            return data.fingerprint();
        }

        @Override
        public Iterator<Batch> batches(int batchSize) {
            Iterator<Batch> all = data.batches(batchSize);
            return new Iterator<>() {
                private Batch next = advance();

                private Batch advance() {
                    while (all.hasNext()) {
                        Batch b = all.next();
                        if (b.offset() >= to) {
                            return null;
                        }
                        if (b.offset() + b.size() <= from) {
                            continue;
                        }
                        if (b.offset() < from || b.offset() + b.size() > to) {
                            throw new AnalysisException("data set batch [" + b.offset() + ", " + (b.offset() + b.size())
                                    + ") straddles the partition [" + from + ", " + to + "): the source's batches are not the"
                                    + " batch size the engine split by");
                        }
                        return b;
                    }
                    return null;
                }

                @Override
                public boolean hasNext() {
                    return next != null;
                }

                @Override
                public Batch next() {
                    if (next == null) {
                        throw new NoSuchElementException();
                    }
                    Batch b = next;
                    next = advance();
                    return b;
                }
            };
        }
    }
}
