package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelContext;
import io.neuronmonkey.api.train.TrainerContext;
import io.neuronmonkey.api.train.TrainingMetrics;
import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.runtime.store.ResultCodec;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The runtime's implementations of the plugin contexts; plugins only ever see the API interfaces. */
final class Contexts {

    private Contexts() {
    }

    static final class Model<P extends Record> extends Environment implements ModelContext<P> {
        private final Path path;
        private final P params;

        Model(Environment env, Path path, P params) {
            super(env);
            this.path = path;
            this.params = params;
        }

        @Override
        public Path path() {
            return path;
        }

        @Override
        public P params() {
            return params;
        }
    }

    static final class Data<P extends Record> extends Environment implements DataContext<P> {
        private final String name;
        private final P params;

        Data(Environment env, String name, P params) {
            super(env);
            this.name = name;
            this.params = params;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public P params() {
            return params;
        }
    }

    static final class Analysis<P extends Record> extends Environment implements AnalyzerContext<P> {
        private final String stepId;
        private final P params;
        private final LoadedModel model;
        private final Dataset data;
        private final List<LayerInfo> layers;
        private final int batchSize;
        private final Map<String, AnalysisResult> inputs;
        private final Path workDir;
        private final String dataName;
        private final List<String> datasetNames;
        private final java.util.function.Function<String, Dataset> datasets;

        Analysis(Environment env, String stepId, P params, LoadedModel model, Dataset data, List<LayerInfo> layers,
                 int batchSize, Map<String, AnalysisResult> inputs, Path workDir) {
            this(env, stepId, params, model, data, null, layers, batchSize, inputs, workDir, List.of(), n -> null);
        }

        Analysis(Environment env, String stepId, P params, LoadedModel model, Dataset data, String dataName,
                 List<LayerInfo> layers, int batchSize, Map<String, AnalysisResult> inputs, Path workDir,
                 List<String> datasetNames, java.util.function.Function<String, Dataset> datasets) {
            super(env);
            this.datasetNames = List.copyOf(datasetNames);
            this.datasets = datasets;
            this.dataName = dataName;
            this.stepId = stepId;
            this.params = params;
            this.model = model;
            this.data = data;
            this.layers = List.copyOf(layers);
            this.batchSize = batchSize;
            this.inputs = inputs;
            this.workDir = workDir;
        }

        @Override
        public String stepId() {
            return stepId;
        }

        @Override
        public P params() {
            return params;
        }

        @Override
        public Optional<LoadedModel> model() {
            return Optional.ofNullable(model);
        }

        @Override
        public Optional<Dataset> data() {
            return Optional.ofNullable(data);
        }

        @Override
        public Optional<String> dataName() {
            return Optional.ofNullable(dataName);
        }

        @Override
        public Optional<Dataset> dataset(String name) {
            return datasetNames.contains(name) ? Optional.ofNullable(datasets.apply(name)) : Optional.empty();
        }

        @Override
        public List<String> datasetNames() {
            return datasetNames;
        }

        @Override
        public List<LayerInfo> layers() {
            return layers;
        }

        @Override
        public int batchSize() {
            return batchSize;
        }

        @Override
        public Map<String, AnalysisResult> inputs() {
            return inputs;
        }

        @Override
        public Path workDir() {
            return workDir;
        }

        @Override
        public AnalysisResult readResult(Path path) {
            try {
                return ResultCodec.read(path);
            } catch (OutputException e) {
                throw new AnalysisException("step '" + stepId() + "': " + e.getMessage(), e);
            }
        }
    }

    static final class Training<P extends Record> extends Environment implements TrainerContext<P> {
        private final P params;
        private final Dataset train;
        private final Map<String, Dataset> evaluation;
        private final Path outputDir;

        Training(Environment env, P params, Dataset train, Map<String, Dataset> evaluation, Path outputDir) {
            super(env);
            this.params = params;
            this.train = train;
            this.evaluation = evaluation;
            this.outputDir = outputDir;
        }

        @Override
        public P params() {
            return params;
        }

        @Override
        public Dataset trainData() {
            return train;
        }

        @Override
        public Map<String, Dataset> evaluationData() {
            return evaluation;
        }

        @Override
        public Path outputDir() {
            return outputDir;
        }

        @Override
        public TrainingMetrics metrics() {
            return listener();
        }
    }
}
