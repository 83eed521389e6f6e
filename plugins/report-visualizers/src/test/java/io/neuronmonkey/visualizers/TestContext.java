package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.ProgressReporter;
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

/** A visualizer context over a folder, as the runtime's would be: step files under {@code <out>/<step>/}. */
final class TestContext<P extends Record> implements VisualizerContext<P> {

    private final String stepId;
    private final P params;
    private final List<StepOutput> inputs;
    private final RunSummary run;
    private final Path out;
    final List<Artifact> written = new ArrayList<>();
    final List<Artifact> published = new ArrayList<>();

    TestContext(String stepId, P params, List<StepOutput> inputs, RunSummary run, Path out) {
        this.stepId = stepId;
        this.params = params;
        this.inputs = inputs;
        this.run = run;
        this.out = out;
    }

    /** @return this step's artifacts as a later step sees them */
    StepOutput asInput(String extension) {
        return new StepOutput(stepId, "visualizer", extension, null, java.util.Optional.empty(), written);
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
        return 42;
    }

    @Override
    public ProgressReporter progress() {
        return ProgressReporter.NONE;
    }

    private static String plain(String fileName) {
        if (!fileName.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("not a plain file name: '" + fileName + "'");
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
