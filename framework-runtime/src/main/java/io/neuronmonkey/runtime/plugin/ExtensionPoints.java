package io.neuronmonkey.runtime.plugin;

import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.data.DataSource;
import io.neuronmonkey.api.model.ModelBackend;
import io.neuronmonkey.api.train.ModelTrainer;
import io.neuronmonkey.api.visual.Visualizer;

import java.util.List;

/** The extension points the runtime knows, with the word YAML and messages use for each. */
public enum ExtensionPoints {
    BACKEND(ModelBackend.class, "backend"),
    DATA_SOURCE(DataSource.class, "data source"),
    ANALYZER(Analyzer.class, "analyzer"),
    VISUALIZER(Visualizer.class, "visualizer"),
    TRAINER(ModelTrainer.class, "trainer");

    private final Class<?> type;
    private final String word;

    ExtensionPoints(Class<?> type, String word) {
        this.type = type;
        this.word = word;
    }

    public Class<?> type() {
        return type;
    }

    public String word() {
        return word;
    }

    public static List<ExtensionPoints> all() {
        return List.of(values());
    }
}
