package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.visualizers.HeatmapVisualizer.Normalize;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Renders sample pictures and a sample report for people to look at; runs only when
 * {@code -Dneuronmonkey.samples=<folder>} is given.
 */
@EnabledIfSystemProperty(named = "neuronmonkey.samples", matches = ".+")
class SampleOutputTest {

    @TempDir
    Path out;

    @Test
    void rendersSamplesIntoTheNamedFolder() throws IOException {
        Path samples = Path.of(System.getProperty("neuronmonkey.samples"));
        Files.createDirectories(samples);
        StepOutput census = Fixtures.analyzerStep("census", Fixtures.realistic(1));

        var hist = new TestContext<>("hist", new HistogramVisualizer.Params(640, 360, false, null),
                List.of(census), Fixtures.run(Fixtures.YAML), out);
        new HistogramVisualizer().render(hist);
        var histLog = new TestContext<>("hist-log", new HistogramVisualizer.Params(640, 360, true, null),
                List.of(census), Fixtures.run(Fixtures.YAML), out);
        new HistogramVisualizer().render(histLog);
        var heat = new TestContext<>("heat", new HeatmapVisualizer.Params(720, 400, Normalize.NEURON, 256, null),
                List.of(census), Fixtures.run(Fixtures.YAML), out);
        new HeatmapVisualizer().render(heat);
        var report = new TestContext<>("report", new HtmlReportVisualizer.Params(null),
                List.of(census, Fixtures.analyzerStep("census-small", Fixtures.census()), hist.asInput("histogram"), histLog.asInput("histogram"),
                        heat.asInput("heatmap")), Fixtures.run(Fixtures.YAML), out);
        new HtmlReportVisualizer().render(report);

        copy(hist.written.get(0), samples.resolve("hist-sample.png"));
        copy(histLog.written.get(0), samples.resolve("hist-log-sample.png"));
        copy(heat.written.get(0), samples.resolve("heatmap-sample.png"));
        copy(heat.written.get(1), samples.resolve("heatmap-top-sample.png"));
        copy(report.published.get(0), samples.resolve("report-sample.html"));

        var small = new TestContext<>("small", new HeatmapVisualizer.Params(480, 300, Normalize.NONE, 256, null),
                List.of(Fixtures.censusStep()), Fixtures.run(Fixtures.YAML), out);
        new HeatmapVisualizer().render(small);
        copy(small.written.get(1), samples.resolve("heatmap-raw-sample.png"));
        var smallHist = new TestContext<>("small-hist", new HistogramVisualizer.Params(480, 300, false, null),
                List.of(Fixtures.censusStep()), Fixtures.run(Fixtures.YAML), out);
        new HistogramVisualizer().render(smallHist);
        copy(smallHist.written.get(1), samples.resolve("hist-small-sample.png"));
    }

    private void copy(Artifact a, Path to) throws IOException {
        Files.copy(out.resolve(a.file()), to, StandardCopyOption.REPLACE_EXISTING);
    }
}
