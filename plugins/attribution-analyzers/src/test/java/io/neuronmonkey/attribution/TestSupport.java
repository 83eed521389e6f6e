package io.neuronmonkey.attribution;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelContext;
import io.neuronmonkey.datasets.SyntheticShapesSource;
import io.neuronmonkey.tensorflow.TensorFlowBackend;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Real pieces for the analyzers' tests: the demo CNN loaded by the TensorFlow backend, synthetic shapes from the
 * datasets plugin, and an analyzer context holding them. Published in this module's test jar for other plugins'
 * tests that need the real demo model.
 */
public final class TestSupport {

    private TestSupport() {
    }

    /** @return the committed demo model's folder */
    public static Path demoModelPath() {
        return Path.of(System.getProperty("neuronmonkey.demoModel", "../../experiments/models/shapes-cnn"));
    }

    /** @return the demo CNN (input, conv1, pool1, conv2, pool2, dense1, logits, probabilities) */
    public static LoadedModel demoModel() {
        return loadModel(demoModelPath(), TensorFlowBackend.Params.defaults());
    }

    /**
     * @param path   a SavedModel or frozen graph
     * @param params backend params
     * @return the model, loaded by the real backend
     */
    public static LoadedModel loadModel(Path path, TensorFlowBackend.Params params) {
        return new TensorFlowBackend().load(new ModelContext<TensorFlowBackend.Params>() {
            public Path path() {
                return path;
            }

            public TensorFlowBackend.Params params() {
                return params;
            }

            public Path resolve(String p) {
                return path.resolveSibling(p);
            }

            public long seed() {
                return 42;
            }

            public ProgressReporter progress() {
                return ProgressReporter.NONE;
            }
        });
    }

    /**
     * @param split train, test or decorrelated
     * @param count examples
     * @return synthetic shapes (28 x 28 x 1, four classes, metadata incl. watermark on/off), seed 42
     */
    public static Dataset shapes(String split, int count) {
        return shapes(split, count, SyntheticShapesSource.Watermark.AUTO);
    }

    /**
     * @param split     train, test or decorrelated
     * @param count     examples
     * @param watermark auto, or forced on or off (the same images otherwise)
     * @return synthetic shapes, seed 42
     */
    public static Dataset shapes(String split, int count, SyntheticShapesSource.Watermark watermark) {
        SyntheticShapesSource.Params p = new SyntheticShapesSource.Params(SyntheticShapesSource.Split.valueOf(
                split.toUpperCase(java.util.Locale.ROOT)), count, 28, "square", 0.95, 0.05, 0.05, 42L, watermark);
        return new SyntheticShapesSource().open(new DataContext<SyntheticShapesSource.Params>() {
            public String name() {
                return split + "-" + watermark;
            }

            public SyntheticShapesSource.Params params() {
                return p;
            }

            public Path resolve(String path) {
                return Path.of(path);
            }

            public long seed() {
                return 42;
            }

            public ProgressReporter progress() {
                return ProgressReporter.NONE;
            }
        });
    }

    /**
     * An analyzer context over real pieces.
     *
     * @param <P> the params record
     */
    public record Context<P extends Record>(String stepId, P params, LoadedModel m, Dataset d, List<String> layerNames,
                                     int batchSize, Map<String, AnalysisResult> inputs, Path workDir, long seed)
            implements AnalyzerContext<P> {

        public Context(String stepId, P params, LoadedModel m, Dataset d, List<String> layerNames, int batchSize, Path workDir) {
            this(stepId, params, m, d, layerNames, batchSize, Map.of(), workDir, 42);
        }

        public Context<P> withInputs(Map<String, AnalysisResult> in) {
            return new Context<>(stepId, params, m, d, layerNames, batchSize, in, workDir, seed);
        }

        public Optional<LoadedModel> model() {
            return Optional.ofNullable(m);
        }

        public Optional<Dataset> data() {
            return Optional.ofNullable(d);
        }

        public Optional<String> dataName() {
            return Optional.of("probe");
        }

        public List<LayerInfo> layers() {
            List<LayerInfo> out = new ArrayList<>();
            for (String name : layerNames) {
                out.add(m.layer(name).orElseThrow());
            }
            return out;
        }

        public Path resolve(String p) {
            return workDir.resolve(p);
        }

        public LoadedModel loadModel(String path) {
            return TestSupport.loadModel(resolve(path), TensorFlowBackend.Params.defaults());
        }

        public ProgressReporter progress() {
            return ProgressReporter.NONE;
        }
    }
}
