package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.plugin.RegisteredExtension;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * An experiment whose names are resolved to extensions, whose params are bound and validated, and (once opened)
 * whose model is loaded and data sets are open. Closing it releases the model and the data.
 */
public final class PreparedExperiment implements AutoCloseable {

    /** A bound data set. {@code dataset} is null until opened. */
    public record DataEntry(ExperimentConfig.DataSpec spec, RegisteredExtension<?> source, Record params, Dataset dataset) {
    }

    /** A bound step. {@code layers} is empty until the model is loaded. */
    public record StepEntry(ExperimentConfig.StepSpec spec, RegisteredExtension<?> extension, Record params, String data,
                            List<LayerInfo> layers) {
        public String id() {
            return spec.id();
        }
    }

    private final ExperimentConfig config;
    private final RegisteredExtension<?> backend;
    private final Record modelParams;
    private final LoadedModel model;
    private final Map<String, DataEntry> data;
    private final List<StepEntry> steps;

    PreparedExperiment(ExperimentConfig config, RegisteredExtension<?> backend, Record modelParams, LoadedModel model,
                       Map<String, DataEntry> data, List<StepEntry> steps) {
        this.config = config;
        this.backend = backend;
        this.modelParams = modelParams;
        this.model = model;
        this.data = Collections.unmodifiableMap(data);
        this.steps = List.copyOf(steps);
    }

    public ExperimentConfig config() {
        return config;
    }

    public RegisteredExtension<?> backend() {
        return backend;
    }

    public Record modelParams() {
        return modelParams;
    }

    public LoadedModel model() {
        return model;
    }

    public Map<String, DataEntry> data() {
        return data;
    }

    public List<StepEntry> steps() {
        return steps;
    }

    @Override
    public void close() {
        List<RuntimeException> failures = new ArrayList<>();
        for (DataEntry d : data.values()) {
            if (d.dataset() != null) {
                try {
                    d.dataset().close();
                } catch (RuntimeException e) {
                    failures.add(e);
                }
            }
        }
        if (model != null) {
            try {
                model.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            throw failures.get(0);
        }
    }
}
