package io.neuronmonkey.experiments;

import io.neuronmonkey.runtime.TestBundles;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The analyzer printed in the README, compiled as written into a real plugin bundle, loaded next to the shipped
 * bundles and run on the demo model: its neuron table appears in the report as a chart and a table, with no
 * visualizer written for it, and its numbers equal a mean of absolute values computed here from the census.
 */
class ReadmeAnalyzerTest {

    @TempDir
    Path work;

    @Test
    void readmeAnalyzerCompilesRunsAndIsChartedByTheReport() throws Exception {
        String readme = Files.readString(Launcher.ROOT.resolve("README.md"));
        int section = readme.indexOf("## Write your own analyzer");
        Matcher code = Pattern.compile("```java\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(section > 0 && code.find(section), "the README has the analyzer example");
        String source = "package readme;\n\n" + code.group(1);

        // --plugins adds the folder to the shipped bundles
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        TestBundles.bundle(plugins, work, TestBundles.properties("mean-abs-example", "1.0.0"),
                Map.of("readme.MeanAbsAnalyzer", source));

        Path yaml = Files.writeString(work.resolve("mean-abs.yaml"), """
                experiment: mean-abs
                seed: 1
                model: {backend: tensorflow, path: MODEL}
                data: {probe: {source: synthetic-shapes, params: {split: decorrelated, count: 300}}}
                steps:
                  - {id: meanabs, analyzer: mean-abs, layers: [dense1], params: {scale: 1.0}}
                  - {id: census, analyzer: activation-stats, layers: [dense1]}
                  - {id: report, visualizer: html-report, inputs: [meanabs]}
                """.replace("MODEL", Launcher.ROOT.resolve("experiments/models/shapes-cnn").toString()));
        Path out = work.resolve("run");
        Launcher.Result r = Launcher.run(work, "run", yaml.toString(), "--out", out.toString(), "--plugins", plugins.toString());
        assertEquals(0, r.code(), r.all());

        String html = Files.readString(out.resolve("report.html"));
        int part = html.indexOf("id=\"part-meanabs--dense1-mean-abs\"");
        assertTrue(part > 0, "the neuron table has a section");
        assertTrue(html.indexOf("<svg class=\"chart\"", part) > part, "and a per-neuron chart");
        // dense1 is a ReLU: |a| = a, so the mean absolute activation is the census mean of the same pass
        RunFolder run = new RunFolder(out);
        float[] meanAbs = run.column("meanabs", "dense1-mean-abs", "meanAbs");
        float[] mean = run.column("census", "dense1-stats", "mean");
        assertEquals(32, meanAbs.length);
        for (int i = 0; i < meanAbs.length; i++) {
            assertEquals(mean[i], meanAbs[i], 1e-5, "dense1 #" + i);
        }
    }
}
