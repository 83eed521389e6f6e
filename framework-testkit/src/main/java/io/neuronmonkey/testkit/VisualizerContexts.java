package io.neuronmonkey.testkit;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.RunSummary;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.api.visual.VisualizerContext;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Builds a {@link VisualizerContext} over a run folder, as the runtime's: step files go to {@code <out>/<step>/},
 * published files to {@code <out>/}.
 *
 * @param <P> the visualizer's params type
 */
public final class VisualizerContexts<P extends Record> {

    private final P params;
    private final Path out;
    private String stepId = "report";
    private final List<StepOutput> inputs = new ArrayList<>();
    private RunSummary run = new RunSummary("test", "", "", List.of(), Map.of(), Map.of());

    VisualizerContexts(P params, Path out) {
        this.params = params;
        this.out = out;
    }

    /**
     * @param id the step id
     * @return this builder
     */
    public VisualizerContexts<P> stepId(String id) {
        this.stepId = id;
        return this;
    }

    /**
     * An earlier analyzer step's result.
     *
     * @param stepId    its step id
     * @param extension its analyzer's name
     * @param data      the data set it read, or null
     * @param result    its result
     * @return this builder
     */
    public VisualizerContexts<P> input(String stepId, String extension, String data, AnalysisResult result) {
        inputs.add(new StepOutput(stepId, "analyzer", extension, data, Optional.of(result), List.of()));
        return this;
    }

    /**
     * @param output an earlier step's output as is
     * @return this builder
     */
    public VisualizerContexts<P> input(StepOutput output) {
        inputs.add(output);
        return this;
    }

    /**
     * @param outputs earlier steps' outputs as they are, in order
     * @return this builder
     */
    public VisualizerContexts<P> inputs(List<StepOutput> outputs) {
        inputs.addAll(outputs);
        return this;
    }

    /**
     * @param summary the run as the report shows it
     * @return this builder
     */
    public VisualizerContexts<P> run(RunSummary summary) {
        this.run = summary;
        return this;
    }

    /** @return the context; what it writes is listed by {@link Written#written()} and {@link Written#published()} */
    public Written<P> build() {
        return new Written<>(stepId, params, List.copyOf(inputs), run, out);
    }

    /**
     * A visualizer context that writes into a folder and remembers what it wrote.
     *
     * @param <P> the params type
     */
    public static final class Written<P extends Record> implements VisualizerContext<P> {
        private final String stepId;
        private final P params;
        private final List<StepOutput> inputs;
        private final RunSummary run;
        private final Path out;
        private final List<Artifact> written = new ArrayList<>();
        private final List<Artifact> published = new ArrayList<>();

        private Written(String stepId, P params, List<StepOutput> inputs, RunSummary run, Path out) {
            this.stepId = stepId;
            this.params = params;
            this.inputs = inputs;
            this.run = run;
            this.out = out;
        }

        /** @return the files written into the step's folder, in order */
        public List<Artifact> written() {
            return List.copyOf(written);
        }

        /** @return the files published at the top of the run folder, in order */
        public List<Artifact> published() {
            return List.copyOf(published);
        }

        /**
         * @param extension this visualizer's name
         * @return this step's output as a later step sees it
         */
        public StepOutput asInput(String extension) {
            return new StepOutput(stepId, "visualizer", extension, null, Optional.empty(), written);
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
        public List<StepOutput> inputs() {
            return inputs;
        }

        @Override
        public RunSummary run() {
            return run;
        }

        @Override
        public Artifact write(String fileName, byte[] bytes, String title, String mediaType) {
            Artifact a = new Artifact(stepId, stepId + "/" + plain(fileName), title, mediaType);
            store(a, bytes);
            written.add(a);
            return a;
        }

        @Override
        public Artifact publish(String fileName, byte[] bytes, String title, String mediaType) {
            Artifact a = new Artifact(stepId, plain(fileName), title, mediaType);
            store(a, bytes);
            published.add(a);
            return a;
        }

        @Override
        public byte[] read(Artifact artifact) {
            try {
                return Files.readAllBytes(out.resolve(artifact.file()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Path resolve(String path) {
            return out.resolve(path);
        }

        @Override
        public long seed() {
            return TestKit.SEED;
        }

        @Override
        public ProgressReporter progress() {
            return ProgressReporter.NONE;
        }

        private static String plain(String fileName) {
            if (!fileName.matches("[A-Za-z0-9._-]+")) {
                throw new IllegalArgumentException("not a plain file name: '" + fileName + "' (use [A-Za-z0-9._-]+)");
            }
            return fileName;
        }

        private void store(Artifact a, byte[] bytes) {
            try {
                Path file = out.resolve(a.file());
                Files.createDirectories(file.getParent());
                Files.write(file, bytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
