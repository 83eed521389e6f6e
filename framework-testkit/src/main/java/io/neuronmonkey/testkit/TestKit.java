package io.neuronmonkey.testkit;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelContext;
import io.neuronmonkey.api.tensor.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Contexts for every extension point and one call that runs an analyzer the way a run would, without the runtime.
 *
 * <pre>{@code
 * AnalysisResult r = TestKit.run(new MyAnalyzer(), new MyAnalyzer.Params(1.0),
 *         TinyMlp.seeded(7, 4, 6, 3), InMemoryData.gaussian(1, 100, 4, 3), "dense1", "logits");
 * }</pre>
 */
public final class TestKit {

    /** The seed of every context unless a test sets another. */
    public static final long SEED = 42L;

    private TestKit() {
    }

    /**
     * Runs an analyzer over a model and data on the given layers with batches of 32, as one step of a run would. A
     * {@link StreamingAnalyzer} is fed through two accumulators (the first and second half of the batches) that are
     * then merged, so a wrong {@link StreamingAnalyzer.Accumulator#merge} shows.
     *
     * @param analyzer the analyzer
     * @param params   its params
     * @param model    the model
     * @param data     the step's data (named {@code probe})
     * @param layers   the step's layers, names of the model's layers
     * @param <P>      the params type
     * @return the analyzer's result
     */
    public static <P extends Record> AnalysisResult run(Analyzer<P> analyzer, P params, LoadedModel model, Dataset data,
                                                        String... layers) {
        return analyze(analyzer, analyzer(params).model(model).data("probe", data).layers(layers).build());
    }

    /**
     * Runs an analyzer in a context: a whole-run analyzer through {@link Analyzer#analyze}, a streaming one by a
     * pass over the context's data with the model capturing the step's layers, fed to two merged accumulators.
     *
     * @param analyzer the analyzer
     * @param ctx      the step's context
     * @param <P>      the params type
     * @return the result
     */
    public static <P extends Record> AnalysisResult analyze(Analyzer<P> analyzer, AnalyzerContext<P> ctx) {
        if (!(analyzer instanceof StreamingAnalyzer<P> streaming)) {
            return analyzer.analyze(ctx);
        }
        LoadedModel model = ctx.requireModel();
        Dataset data = ctx.requireData();
        List<String> names = ctx.layers().stream().map(LayerInfo::name).toList();
        long size = data.info().size();
        long batches = size < 0 ? Long.MAX_VALUE : (size + ctx.batchSize() - 1) / ctx.batchSize();
        StreamingAnalyzer.Accumulator first = streaming.start(ctx);
        StreamingAnalyzer.Accumulator second = streaming.start(ctx);
        Iterator<Batch> it = data.batches(ctx.batchSize());
        for (long i = 0; it.hasNext(); i++) {
            Batch b = it.next();
            Map<String, Tensor> act = model.run(b.inputs(), names);
            (i < batches / 2 ? first : second).accept(new ActivationBatch(b, act));
        }
        first.merge(second);
        return first.finish();
    }

    /**
     * Feeds ready-made activation batches to a streaming analyzer (one accumulator), for tests that plant the
     * activations themselves instead of computing them with a model.
     *
     * @param analyzer the analyzer
     * @param ctx      the step's context
     * @param batches  the batches, in data order
     * @param <P>      the params type
     * @return the result
     */
    public static <P extends Record> AnalysisResult stream(StreamingAnalyzer<P> analyzer, AnalyzerContext<P> ctx,
                                                           List<ActivationBatch> batches) {
        StreamingAnalyzer.Accumulator acc = analyzer.start(ctx);
        batches.forEach(acc::accept);
        return acc.finish();
    }

    /**
     * @param params the step's params
     * @param <P>    the params type
     * @return a builder of an analyzer step's context: step id {@code step}, no model, no data, batches of 32
     */
    public static <P extends Record> AnalyzerContexts<P> analyzer(P params) {
        return new AnalyzerContexts<>(params);
    }

    /**
     * @param params the data source's params
     * @param dir    the folder relative paths resolve against (the experiment file's folder in a run)
     * @param <P>    the params type
     * @return a data context for a data set named {@code test}, seed {@link #SEED}
     */
    public static <P extends Record> DataContext<P> dataContext(P params, Path dir) {
        return new Data<>("test", params, dir, SEED);
    }

    /**
     * @param params the data source's params
     * @param dir    the folder relative paths resolve against
     * @param seed   the run's seed
     * @param <P>    the params type
     * @return a data context for a data set named {@code test}
     */
    public static <P extends Record> DataContext<P> dataContext(P params, Path dir, long seed) {
        return new Data<>("test", params, dir, seed);
    }

    /**
     * @param path   the model path (relative paths resolve next to it)
     * @param params the backend's params
     * @param <P>    the params type
     * @return a model context, seed {@link #SEED}
     */
    public static <P extends Record> ModelContext<P> modelContext(Path path, P params) {
        return new Model<>(path, params);
    }

    /**
     * @param params the visualizer's params
     * @param out    the run folder the visualizer writes into
     * @param <P>    the params type
     * @return a builder of a visualizer step's context
     */
    public static <P extends Record> VisualizerContexts<P> visualizer(P params, Path out) {
        return new VisualizerContexts<>(params, out);
    }

    private record Data<P extends Record>(String name, P params, Path dir, long seed) implements DataContext<P> {
        @Override
        public Path resolve(String path) {
            return dir.resolve(path);
        }

        @Override
        public ProgressReporter progress() {
            return ProgressReporter.NONE;
        }
    }

    private record Model<P extends Record>(Path path, P params) implements ModelContext<P> {
        @Override
        public Path resolve(String p) {
            return path.resolveSibling(p);
        }

        @Override
        public long seed() {
            return SEED;
        }

        @Override
        public ProgressReporter progress() {
            return ProgressReporter.NONE;
        }
    }

    /**
     * Builds an {@link AnalyzerContext}. Layers named with {@link #layers(String...)} are looked up in the model when
     * the context is built.
     *
     * @param <P> the params type
     */
    public static final class AnalyzerContexts<P extends Record> {
        private final P params;
        private String stepId = "step";
        private LoadedModel model;
        private String dataName;
        private final Map<String, Dataset> datasets = new LinkedHashMap<>();
        private final List<String> layerNames = new ArrayList<>();
        private final List<LayerInfo> layers = new ArrayList<>();
        private int batchSize = 32;
        private final Map<String, AnalysisResult> inputs = new LinkedHashMap<>();
        private Path dir;
        private long seed = SEED;
        private ProgressReporter progress = ProgressReporter.NONE;

        private AnalyzerContexts(P params) {
            this.params = params;
        }

        /**
         * @param id the step id
         * @return this builder
         */
        public AnalyzerContexts<P> stepId(String id) {
            this.stepId = id;
            return this;
        }

        /**
         * @param model the experiment's model
         * @return this builder
         */
        public AnalyzerContexts<P> model(LoadedModel model) {
            this.model = model;
            return this;
        }

        /**
         * The step's own data set; it is also one of the experiment's data sets.
         *
         * @param name its name in the experiment
         * @param data the data set
         * @return this builder
         */
        public AnalyzerContexts<P> data(String name, Dataset data) {
            this.dataName = name;
            datasets.put(name, data);
            return this;
        }

        /**
         * Another data set of the experiment, reachable through {@link AnalyzerContext#dataset(String)}.
         *
         * @param name its name
         * @param data the data set
         * @return this builder
         */
        public AnalyzerContexts<P> dataset(String name, Dataset data) {
            datasets.put(name, data);
            return this;
        }

        /**
         * @param names layers of the model, in the step's order
         * @return this builder
         */
        public AnalyzerContexts<P> layers(String... names) {
            layerNames.addAll(List.of(names));
            return this;
        }

        /**
         * @param infos layers given directly (for tests without a model)
         * @return this builder
         */
        public AnalyzerContexts<P> layers(LayerInfo... infos) {
            layers.addAll(List.of(infos));
            return this;
        }

        /**
         * @param n examples per model run
         * @return this builder
         */
        public AnalyzerContexts<P> batchSize(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("batch size must be >= 1, got " + n);
            }
            this.batchSize = n;
            return this;
        }

        /**
         * @param stepId the id of an earlier step named in {@code inputs:}
         * @param result its result
         * @return this builder
         */
        public AnalyzerContexts<P> input(String stepId, AnalysisResult result) {
            inputs.put(stepId, result);
            return this;
        }

        /**
         * @param dir the folder paths resolve against and the work folder lives in
         * @return this builder
         */
        public AnalyzerContexts<P> dir(Path dir) {
            this.dir = dir;
            return this;
        }

        /**
         * @param seed the run's seed
         * @return this builder
         */
        public AnalyzerContexts<P> seed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * @param progress where progress goes
         * @return this builder
         */
        public AnalyzerContexts<P> progress(ProgressReporter progress) {
            this.progress = progress;
            return this;
        }

        /**
         * @return the context
         * @throws AnalysisException when a named layer is not one of the model's, or layers are named without a model
         */
        public AnalyzerContext<P> build() {
            List<LayerInfo> all = new ArrayList<>(layers);
            for (String name : layerNames) {
                if (model == null) {
                    throw new AnalysisException("layer '" + name + "' named without a model; give the model first or pass LayerInfo");
                }
                all.add(model.layer(name).orElseThrow(() -> new AnalysisException("the model has no layer '" + name
                        + "'; layers: " + model.layers().stream().map(LayerInfo::name).toList())));
            }
            return new Step<>(stepId, params, Optional.ofNullable(model), dataName, Map.copyOf(datasets),
                    List.copyOf(datasets.keySet()), List.copyOf(all), batchSize, Map.copyOf(inputs), dir, seed, progress);
        }
    }

    private record Step<P extends Record>(String stepId, P params, Optional<LoadedModel> model, String dataName0,
                                          Map<String, Dataset> datasets, List<String> datasetNames, List<LayerInfo> layers,
                                          int batchSize, Map<String, AnalysisResult> inputs, Path dir, long seed,
                                          ProgressReporter progress) implements AnalyzerContext<P> {
        @Override
        public Optional<Dataset> data() {
            return Optional.ofNullable(dataName0).map(datasets::get);
        }

        @Override
        public Optional<String> dataName() {
            return Optional.ofNullable(dataName0);
        }

        @Override
        public Optional<Dataset> dataset(String name) {
            return Optional.ofNullable(datasets.get(name));
        }

        @Override
        public Path workDir() {
            try {
                return dir == null ? Files.createTempDirectory("neuronmonkey-" + stepId)
                        : Files.createDirectories(dir.resolve("work").resolve(stepId));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Path resolve(String path) {
            return (dir == null ? Path.of("") : dir).resolve(path);
        }
    }
}
