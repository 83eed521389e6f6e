package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.RunSummary;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.api.visual.VisualizerContext;
import io.neuronmonkey.runtime.store.AtomicFiles;
import io.neuronmonkey.runtime.store.RunFolder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** A visualizer's view of the run; files go to the step's partial folder until the step completes. */
final class VisualizerContextImpl extends Environment implements VisualizerContext<Record> {

    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

    private final String stepId;
    private final Record params;
    private final List<StepOutput> inputs;
    private final RunSummary run;
    private final Path out;
    private final Path partial;
    private final List<Artifact> artifacts = new ArrayList<>();
    private final Map<Artifact, Path> pending = new HashMap<>();

    VisualizerContextImpl(Environment env, String stepId, Record params, List<StepOutput> inputs, RunSummary run,
                          Path out, Path partial) {
        super(env);
        this.stepId = stepId;
        this.params = params;
        this.inputs = List.copyOf(inputs);
        this.run = run;
        this.out = out;
        this.partial = partial;
    }

    @Override
    public String stepId() {
        return stepId;
    }

    @Override
    public Record params() {
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
        check(fileName);
        Path target = partial.resolve(fileName);
        AtomicFiles.write(target, bytes);
        Artifact a = new Artifact(stepId, stepId + "/" + fileName, title, mediaType);
        artifacts.add(a);
        pending.put(a, target);
        return a;
    }

    @Override
    public Artifact publish(String fileName, byte[] bytes, String title, String mediaType) {
        check(fileName);
        String lower = fileName.toLowerCase(java.util.Locale.ROOT);
        if (RunFolder.RESERVED.contains(lower) && !lower.equals(RunFolder.REPORT) || lower.endsWith(RunFolder.FAILED_SUFFIX)) {
            throw new OutputException("a visualizer cannot publish '" + fileName + "' at the top of the run folder: the runtime writes "
                    + String.join(", ", RunFolder.RESERVED.stream().filter(n -> !n.equals(RunFolder.REPORT)).toList())
                    + " there itself; write it into the step's folder with write(...) instead");
        }
        AtomicFiles.write(out.resolve(fileName), bytes);
        Artifact a = new Artifact(stepId, fileName, title, mediaType);
        artifacts.add(a);
        return a;
    }

    @Override
    public byte[] read(Artifact artifact) {
        Path p = pending.getOrDefault(artifact, out.resolve(artifact.file()).normalize());
        if (!p.startsWith(out)) {
            throw new OutputException("artifact " + artifact.file() + " is outside the run folder");
        }
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new OutputException("cannot read artifact " + artifact.file() + ": " + e.getMessage(), e);
        }
    }

    List<Artifact> artifacts() {
        return List.copyOf(artifacts);
    }

    private static void check(String fileName) {
        if (!FILE.matcher(fileName).matches()) {
            throw new OutputException("file name '" + fileName + "' must match [A-Za-z0-9][A-Za-z0-9._-]* (no folders)");
        }
    }
}
