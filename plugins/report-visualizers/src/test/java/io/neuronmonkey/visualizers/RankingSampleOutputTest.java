package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.StepOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * Renders a sample top-activations grid, effect-size chart and report with the new sections for people to look at;
 * runs only when {@code -Dneuronmonkey.samples=<folder>} is given.
 */
@EnabledIfSystemProperty(named = "neuronmonkey.samples", matches = ".+")
class RankingSampleOutputTest {

    @TempDir
    Path out;

    @Test
    void rendersSamplesIntoTheNamedFolder() throws IOException {
        Path samples = Path.of(System.getProperty("neuronmonkey.samples"));
        Files.createDirectories(samples);
        StepOutput top = Fixtures.analyzerStep("top", RankingFixtures.realisticTopActivations(7));
        StepOutput small = Fixtures.analyzerStep("top-small", RankingFixtures.topActivations(true, 3, 1));
        StepOutput breakdown = Fixtures.analyzerStep("breakdown", RankingFixtures.breakdown(true));
        StepOutput census = Fixtures.analyzerStep("census", RankingFixtures.censusWithIntervals());
        StepOutput diff = Fixtures.analyzerStep("diff", RankingFixtures.censusDiff());

        var grid = new TestContext<>("grid", new TopActivationsGridVisualizer.Params(48, 64, null, true, null),
                List.of(top), Fixtures.run(Fixtures.YAML), out);
        new TopActivationsGridVisualizer().render(grid);
        var gridSmall = new TestContext<>("grid-small", new TopActivationsGridVisualizer.Params(64, 64, null, true,
                null), List.of(small), Fixtures.run(Fixtures.YAML), out);
        new TopActivationsGridVisualizer().render(gridSmall);
        var effects = new TestContext<>("effects", new EffectSizesVisualizer.Params(20, null, 720),
                List.of(breakdown), Fixtures.run(Fixtures.YAML), out);
        new EffectSizesVisualizer().render(effects);
        var report = new TestContext<>("report", new HtmlReportVisualizer.Params(null),
                List.of(census, top, breakdown, diff, grid.asInput("top-activations-grid"),
                        effects.asInput("effect-sizes")), Fixtures.run(Fixtures.YAML), out);
        new HtmlReportVisualizer().render(report);

        copy(grid.written.get(0), samples.resolve("top-grid-sample.png"));
        copy(gridSmall.written.get(0), samples.resolve("top-grid-small-sample.png"));
        copy(gridSmall.written.get(1), samples.resolve("top-grid-small-bottom-sample.png"));
        copy(effects.written.get(0), samples.resolve("effect-sizes-class-sample.png"));
        copy(effects.written.get(1), samples.resolve("effect-sizes-watermark-sample.png"));
        copy(report.published.get(0), samples.resolve("report-rankings-sample.html"));
    }

    private void copy(Artifact a, Path to) throws IOException {
        Files.copy(out.resolve(a.file()), to, StandardCopyOption.REPLACE_EXISTING);
    }
}
