package io.neuronmonkey.stats;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/** Runs {@link KernelBenchmarks} with {@code -Dbench=true}; figures go to the console, never into a pass or fail. */
class KernelBenchmarksTest {

    @Test
    @EnabledIfSystemProperty(named = "bench", matches = "true")
    void runKernelBenchmarks() throws RunnerException {
        // -Dbench.include=REGEX narrows the run to matching benchmark methods (e.g. censusDense)
        String only = System.getProperty("bench.include", "");
        new Runner(new OptionsBuilder().include(KernelBenchmarks.class.getName() + (only.isEmpty() ? "" : "." + only))
                .build()).run();
    }
}
