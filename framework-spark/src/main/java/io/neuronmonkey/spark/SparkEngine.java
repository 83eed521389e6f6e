package io.neuronmonkey.spark;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.NeuronMonkeyException;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.runtime.engine.EngineSpec;
import io.neuronmonkey.runtime.engine.ExperimentSource;
import io.neuronmonkey.runtime.engine.PassEngine;
import io.neuronmonkey.runtime.engine.PassJob;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaSparkContext;

import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * The fused pass on Apache Spark. The data set is split into contiguous ranges of whole batches, one per partition,
 * in data order; each task loads the experiment once per executor JVM ({@link ExecutorSide}), runs its range through
 * the fused pass and sends back its accumulators' states (Java serialization); the driver reads them with the class
 * loader of the plugin that owns each analyzer and merges them into its own accumulators in partition order. A step
 * whose accumulator is not {@link Serializable} is refused before any task starts.
 */
public final class SparkEngine implements PassEngine {

    /** The configuration key that marks a context the engine started (and so stops). */
    static final String MARK = "spark.neuronmonkey.engine";

    private final EngineSpec spec;
    private final ExperimentSource source;
    private final JavaSparkContext context;
    private final boolean ownsContext;
    private int lastPartitions;

    /**
     * Starts (or joins) the Spark context: the one spark-submit or a caller already started, else a new one on the
     * spec's master.
     *
     * @param spec   the engine options
     * @param source what executors load
     */
    public SparkEngine(EngineSpec spec, ExperimentSource source) {
        this.spec = spec;
        this.source = source;
        SparkConf conf = conf(spec, source);
        // a context this engine starts carries its mark; one already running in this JVM (a caller's) does not
        String mark = UUID.randomUUID().toString();
        conf.set(MARK, mark);
        this.context = JavaSparkContext.fromSparkContext(SparkContext.getOrCreate(conf));
        this.ownsContext = mark.equals(context.getConf().get(MARK, ""));
        if (!ownsContext && spec.master() != null && !spec.master().equals(context.master())) {
            throw new ConfigException("engine.master " + spec.master() + " differs from the Spark context already running on "
                    + context.master() + " in this JVM (spark-submit's --master decides there: leave engine.master out)");
        }
    }

    /** The configuration of a context the engine starts itself. */
    static SparkConf conf(EngineSpec spec, ExperimentSource source) {
        SparkConf conf = new SparkConf();
        String master = spec.master() != null ? spec.master() : conf.get("spark.master", EngineSpec.DEFAULT_MASTER);
        conf.setMaster(master);
        conf.setIfMissing("spark.app.name", "neuronmonkey " + java.nio.file.Path.of(source.file()).getFileName());
        conf.setIfMissing("spark.ui.enabled", "false");
        conf.setIfMissing("spark.ui.showConsoleProgress", "false");
        if (spec.threadsPerTask() != null) {
            // TensorFlow reads it when a session's intra-op pool is first built (executors are separate processes on
            // a cluster; in local mode the executors are this JVM, whose environment the launcher sets)
            conf.setExecutorEnv("TF_NUM_INTRAOP_THREADS", String.valueOf(spec.threadsPerTask()));
        }
        if (spec.javacppCache() != null) {
            String opts = conf.get("spark.executor.extraJavaOptions", "");
            conf.set("spark.executor.extraJavaOptions", (opts + " -Dorg.bytedeco.javacpp.cachedir=" + spec.javacppCache()).trim());
        }
        return conf;
    }

    /** @return the Spark master the engine runs on */
    public String master() {
        return context.master();
    }

    @Override
    public Map<String, Object> describe() {
        return spec.describe(context.master(), lastPartitions);
    }

    @Override
    public Outcome run(PassJob job) {
        Map<String, RuntimeException> failures = new LinkedHashMap<>();
        List<String> steps = new ArrayList<>();
        for (String id : job.steps()) {
            StreamingAnalyzer.Accumulator acc = job.accumulators().get(id);
            if (acc instanceof Serializable) {
                steps.add(id);
            } else {
                failures.put(id, refusal(id, job.analyzers().get(id), acc));
            }
        }
        if (steps.isEmpty()) {
            return new Outcome(failures, 0, 0, List.of());
        }
        List<long[]> ranges = ranges(job.examples(), job.batchSize(),
                spec.partitions() != null ? spec.partitions() : context.defaultParallelism());
        lastPartitions = ranges.size();
        ExperimentSource src = source;
        String javacppCache = spec.javacppCache();
        String data = job.data();
        List<String> ids = List.copyOf(steps);
        String group = "neuronmonkey-" + UUID.randomUUID();
        context.setJobGroup(group, "neuronmonkey pass over '" + data + "' for " + String.join(", ", ids), true);
        Thread watcher = cancelWatcher(job, group);
        List<PartitionState> states;
        long t0 = System.nanoTime();
        try {
            states = context.parallelize(ranges, ranges.size())
                    .map(r -> ExecutorSide.run(src, javacppCache, data, ids, (int) r[0], r[1], r[2]))
                    .collect();
        } catch (Exception e) {
            // a failed job throws SparkException, a checked exception Java's signatures do not declare
            if (job.cancelled().getAsBoolean()) {
                throw new NeuronMonkeyException("run cancelled");
            }
            throw new AnalysisException("the Spark job of the pass over '" + data + "' failed: " + rootMessage(e), e);
        } finally {
            watcher.interrupt();
            context.clearJobGroup();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long examples = 0;
        long bytes = 0;
        double load = 0;
        double pass = 0;
        List<PartitionState> ordered = new ArrayList<>(states);
        ordered.sort((a, b) -> Integer.compare(a.index(), b.index()));
        for (PartitionState p : ordered) {
            examples += p.examples();
            bytes += p.bytes();
            load += p.loadSeconds();
            pass = Math.max(pass, p.passSeconds());
            for (String id : ids) {
                if (failures.containsKey(id)) {
                    continue;
                }
                if (p.failures().containsKey(id)) {
                    failures.put(id, new AnalysisException(p.failures().get(id) + " (partition " + p.index() + " of "
                            + ordered.size() + " on Spark)"));
                    continue;
                }
                StreamingAnalyzer.Accumulator into = job.accumulators().get(id);
                try {
                    Object state = PluginObjectInputStream.read(p.states().get(id), into.getClass().getClassLoader());
                    into.merge((StreamingAnalyzer.Accumulator) state);
                } catch (IOException | ClassNotFoundException | RuntimeException e) {
                    failures.put(id, new AnalysisException("the state of step '" + id + "' from partition " + p.index()
                            + " could not be read or merged on the driver: " + e, e));
                }
            }
        }
        job.progress().advance(examples);
        String note = String.format(Locale.ROOT, "pass over '%s' on Spark %s: %d partition(s) of whole batches, %d examples, "
                        + "%.1f s (loading the experiment on executors %.1f s in all, the longest partition's pass %.1f s), "
                        + "%.1f MB of accumulator states merged in partition order", data, context.master(),
                ordered.size(), examples, seconds, load, pass, bytes / 1e6);
        List<String> notes = new ArrayList<>(List.of(note));
        if (spec.threadsPerTask() != null && context.master().startsWith("local")) {
            notes.add("threadsPerTask " + spec.threadsPerTask() + " is set on cluster executors; the executors of "
                    + context.master() + " are this JVM, whose TensorFlow threads follow TF_NUM_INTRAOP_THREADS="
                    + System.getenv().getOrDefault("TF_NUM_INTRAOP_THREADS", "(unset: every core)"));
        }
        return new Outcome(failures, examples, ordered.size(), notes);
    }

    /**
     * Splits {@code examples} into at most {@code parts} contiguous ranges of whole batches, in data order.
     *
     * @return {index, from, to} per partition; one open-ended range when the size is not known
     */
    static List<long[]> ranges(long examples, int batchSize, int parts) {
        List<long[]> out = new ArrayList<>();
        if (examples < 0) {
            out.add(new long[]{0, 0, Long.MAX_VALUE});
            return out;
        }
        long batches = (examples + batchSize - 1) / batchSize;
        int n = (int) Math.max(1, Math.min(parts, batches));
        for (int i = 0; i < n; i++) {
            long from = batches * i / n * batchSize;
            long to = Math.min(examples, batches * (i + 1) / n * batchSize);
            out.add(new long[]{i, from, to});
        }
        return out;
    }

    private static RuntimeException refusal(String id, String analyzer, StreamingAnalyzer.Accumulator acc) {
        return new ConfigException("step '" + id + "' (analyzer '" + analyzer + "') cannot run on the spark engine: its "
                + "accumulator " + acc.getClass().getName() + " is not java.io.Serializable, and the engine sends accumulator "
                + "states from executors to the driver with Java serialization; run it with --engine local, or make the "
                + "analyzer's accumulator and its state classes Serializable");
    }

    private Thread cancelWatcher(PassJob job, String group) {
        Thread t = new Thread(() -> {
            try {
                while (!job.cancelled().getAsBoolean()) {
                    Thread.sleep(200);
                }
                context.cancelJobGroup(group);
            } catch (InterruptedException e) {
                // the pass ended
            }
        }, "neuronmonkey-spark-cancel");
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + " (cause: " + t + ")";
    }

    @Override
    public void close() {
        if (ownsContext) {
            context.stop();
        }
    }
}
