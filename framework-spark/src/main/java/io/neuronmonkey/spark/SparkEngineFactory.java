package io.neuronmonkey.spark;

import io.neuronmonkey.runtime.engine.EngineSpec;
import io.neuronmonkey.runtime.engine.ExperimentSource;
import io.neuronmonkey.runtime.engine.PassEngine;

/** Makes the {@code spark} engine; found by the runtime with {@link java.util.ServiceLoader}. */
public final class SparkEngineFactory implements PassEngine.Factory {

    @Override
    public String type() {
        return "spark";
    }

    @Override
    public PassEngine open(EngineSpec spec, ExperimentSource source) {
        return new SparkEngine(spec, source);
    }
}
