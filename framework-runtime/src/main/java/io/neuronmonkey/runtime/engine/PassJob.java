package io.neuronmonkey.runtime.engine;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * One fused pass handed to an engine: the streaming steps that read one data set, and the driver's accumulators the
 * partial states are merged into, in data order, before the runner calls {@code finish()} on them.
 *
 * @param data         the data set's name in the experiment
 * @param steps        the step ids, in experiment order
 * @param analyzers    the analyzer name of each step (for messages)
 * @param batchSize    examples per model run (the experiment's batchSize)
 * @param examples     the data set's size, or a negative number when it is not known
 * @param accumulators the driver's fresh accumulators by step id; the engine merges every partition into them
 * @param progress     told of the examples done
 * @param cancelled    true once the run is asked to stop
 */
public record PassJob(String data, List<String> steps, Map<String, String> analyzers, int batchSize, long examples,
                      Map<String, StreamingAnalyzer.Accumulator> accumulators, ProgressReporter progress,
                      BooleanSupplier cancelled) {

    /** Copies the lists and maps. */
    public PassJob {
        steps = List.copyOf(steps);
        analyzers = Map.copyOf(analyzers);
        accumulators = Map.copyOf(accumulators);
    }
}
