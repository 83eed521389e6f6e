package io.neuronmonkey.concepts;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An analyzer context over the real demo model and data, with further named data sets for {@code data:} concepts.
 *
 * @param <P> the params record
 */
record ConceptTestContext<P extends Record>(P params, LoadedModel m, Dataset d, List<String> layerNames,
                                             Map<String, Dataset> others, long seed) implements AnalyzerContext<P> {

    public String stepId() {
        return "tcav";
    }

    public Optional<LoadedModel> model() {
        return Optional.of(m);
    }

    public Optional<Dataset> data() {
        return Optional.of(d);
    }

    public Optional<String> dataName() {
        return Optional.of("probe");
    }

    public Optional<Dataset> dataset(String name) {
        return name.equals("probe") ? Optional.of(d) : Optional.ofNullable(others.get(name));
    }

    public List<String> datasetNames() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of("probe"), others.keySet().stream()).toList();
    }

    public List<LayerInfo> layers() {
        return layerNames.stream().map(n -> m.layer(n).orElseThrow()).toList();
    }

    public int batchSize() {
        return 128;
    }

    public Map<String, AnalysisResult> inputs() {
        return Map.of();
    }

    public Path workDir() {
        return Path.of(System.getProperty("java.io.tmpdir"));
    }

    public Path resolve(String p) {
        return workDir().resolve(p);
    }

    public ProgressReporter progress() {
        return ProgressReporter.NONE;
    }
}
