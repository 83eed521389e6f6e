package io.neuronmonkey.runtime.engine;

import java.util.List;
import java.util.Map;

/**
 * Runs fused passes somewhere else than the local thread pool (for example on Spark executors). An engine splits
 * the data into contiguous partitions, lets each run its batches through the same fused pass a local run uses, and
 * merges the partial accumulator states into the job's accumulators in partition order, so results do not depend
 * on the engine. Engines are found with {@link java.util.ServiceLoader} through {@link Factory}.
 */
public interface PassEngine extends AutoCloseable {

    /**
     * How a pass ended.
     *
     * @param failures   steps that failed, by id, with why; the others were merged
     * @param examples   the examples the partitions read
     * @param partitions the partitions the data was split into
     * @param notes      facts for provenance.json (how the pass was split, what ran where)
     */
    record Outcome(Map<String, RuntimeException> failures, long examples, int partitions, List<String> notes) {
        /** Copies the map and the list. */
        public Outcome {
            failures = Map.copyOf(failures);
            notes = List.copyOf(notes);
        }
    }

    /**
     * Runs one pass and merges every partition into {@code job.accumulators()}, in data order.
     *
     * @param job the pass
     * @return which steps failed, and what was done
     */
    Outcome run(PassJob job);

    /** @return what provenance.json records of the engine: engine, master, partition count */
    Map<String, Object> describe();

    /** Stops the engine (a Spark context it started). */
    @Override
    void close();

    /** Makes engines of one type; registered in {@code META-INF/services/io.neuronmonkey.runtime.engine.PassEngine$Factory}. */
    interface Factory {

        /** @return the engine type this factory makes, as written in {@code engine.type} */
        String type();

        /**
         * @param spec   the engine and its options
         * @param source what executors load
         * @return a started engine
         */
        PassEngine open(EngineSpec spec, ExperimentSource source);
    }
}
