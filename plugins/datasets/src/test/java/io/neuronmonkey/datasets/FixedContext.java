package io.neuronmonkey.datasets;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.data.DataContext;

import java.nio.file.Path;

/** A data context for tests: relative paths resolve against {@code dir}. */
record FixedContext<P extends Record>(P params, Path dir, long seed) implements DataContext<P> {

    static <P extends Record> FixedContext<P> of(P params, Path dir) {
        return new FixedContext<>(params, dir, 42L);
    }

    @Override
    public String name() {
        return "test";
    }

    @Override
    public Path resolve(String path) {
        return dir.resolve(path);
    }

    @Override
    public ProgressReporter progress() {
        return ProgressReporter.NONE;
    }
}
