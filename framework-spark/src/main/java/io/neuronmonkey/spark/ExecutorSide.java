package io.neuronmonkey.spark;

import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.runtime.engine.ExperimentSource;
import io.neuronmonkey.runtime.pipeline.PartitionPass;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What runs in an executor JVM: the experiment loaded once per JVM (plugins and model, kept in a static holder by
 * the experiment's fingerprint, so every task of every pass reuses it) and one partition's pass over it.
 */
final class ExecutorSide {

    /** Experiments kept loaded per executor JVM; the oldest is closed when a further one is loaded. */
    static final int KEPT = 4;

    private static final LinkedHashMap<String, PartitionPass.Loaded> LOADED = new LinkedHashMap<>();
    private static int loads;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorSide::closeAll, "neuronmonkey-executor-close"));
    }

    private ExecutorSide() {
    }

    /**
     * Runs one partition and serializes its accumulators.
     *
     * @param source       the experiment the driver runs
     * @param javacppCache the JavaCPP cache folder to set before the model loads, or null
     * @param data         the data set
     * @param steps        the streaming steps of the pass
     * @param index        the partition's index
     * @param from         its first example
     * @param to           one past its last example
     * @return what the driver merges
     */
    static PartitionState run(ExperimentSource source, String javacppCache, String data, List<String> steps, int index,
                              long from, long to) {
        long t0 = System.nanoTime();
        PartitionPass.Loaded loaded = loaded(source, javacppCache);
        long t1 = System.nanoTime();
        PartitionPass.Result r = PartitionPass.run(loaded, data, steps, from, to, () -> Thread.currentThread().isInterrupted());
        long t2 = System.nanoTime();
        LinkedHashMap<String, byte[]> states = new LinkedHashMap<>();
        LinkedHashMap<String, String> failures = new LinkedHashMap<>();
        r.failures().forEach((id, e) -> failures.put(id, String.valueOf(e.getMessage() == null ? e.toString() : e.getMessage())));
        for (Map.Entry<String, StreamingAnalyzer.Accumulator> e : r.states().entrySet()) {
            try {
                states.put(e.getKey(), serialize(e.getValue()));
            } catch (IOException | RuntimeException ex) {
                failures.put(e.getKey(), "its accumulator could not be serialized on the executor: " + ex);
            }
        }
        return new PartitionState(index, states, failures, r.examples(), (t1 - t0) / 1e9, (t2 - t1) / 1e9);
    }

    static byte[] serialize(Object o) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        }
        return bytes.toByteArray();
    }

    /** @return how many experiments this JVM has loaded so far (each load starts plugins and loads a model) */
    static synchronized int loads() {
        return loads;
    }

    private static synchronized PartitionPass.Loaded loaded(ExperimentSource source, String javacppCache) {
        String key = source.fingerprint();
        PartitionPass.Loaded l = LOADED.get(key);
        if (l != null) {
            return l;
        }
        if (javacppCache != null && System.getProperty("org.bytedeco.javacpp.cachedir") == null) {
            // read by JavaCPP when it first unpacks native libraries, that is when the first model loads in this JVM
            System.setProperty("org.bytedeco.javacpp.cachedir", javacppCache);
        }
        try {
            l = PartitionPass.load(source, m -> System.err.println("neuronmonkey executor: " + m));
        } catch (RuntimeException e) {
            throw new IllegalStateException("the executor could not load experiment " + source.file() + " with plugins from "
                    + source.pluginRoots() + " (the experiment folder, its model and the plugin folders must exist on every"
                    + " executor at the same paths): " + e.getMessage(), e);
        }
        loads++;
        LOADED.put(key, l);
        if (LOADED.size() > KEPT) {
            String oldest = LOADED.keySet().iterator().next();
            LOADED.remove(oldest).close();
        }
        return l;
    }

    private static synchronized void closeAll() {
        List<PartitionPass.Loaded> all = new ArrayList<>(LOADED.values());
        LOADED.clear();
        for (PartitionPass.Loaded l : all) {
            try {
                l.close();
            } catch (RuntimeException e) {
                // the JVM is ending: a model that does not close cleanly holds nothing that outlives it
            }
        }
    }
}
