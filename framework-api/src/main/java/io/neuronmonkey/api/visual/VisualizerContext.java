package io.neuronmonkey.api.visual;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.RunEnvironment;

import java.util.List;

/**
 * Everything a visualizer step gets. Files are written atomically through {@link #write} (into the step's folder) or
 * {@link #publish} (at the top of the run folder, for entry points such as {@code report.html}).
 *
 * @param <P> the visualizer's params record
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface VisualizerContext<P extends Record> extends RunEnvironment {

    /** @return the step id */
    String stepId();

    /** @return the validated params */
    P params();

    /** @return the steps named in {@code inputs:} (all earlier steps when omitted), in that order */
    List<StepOutput> inputs();

    /** @return config, model and data summary of the run */
    RunSummary run();

    /**
     * Writes a file into {@code <out>/<step-id>/}.
     *
     * @param fileName  a plain file name ({@code [A-Za-z0-9._-]+})
     * @param bytes     the content
     * @param title     caption for reports
     * @param mediaType e.g. {@code image/png}
     * @return the artifact, also recorded as this step's output
     */
    Artifact write(String fileName, byte[] bytes, String title, String mediaType);

    /**
     * Writes a file at the top of the run folder, e.g. {@code report.html}.
     *
     * @param fileName  a plain file name
     * @param bytes     the content
     * @param title     caption
     * @param mediaType e.g. {@code text/html}
     * @return the artifact
     */
    Artifact publish(String fileName, byte[] bytes, String title, String mediaType);

    /**
     * @param artifact an artifact of this run
     * @return its bytes
     */
    byte[] read(Artifact artifact);
}
