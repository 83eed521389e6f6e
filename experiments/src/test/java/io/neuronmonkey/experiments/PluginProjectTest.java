package io.neuronmonkey.experiments;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A plugin project as a new user makes it: {@code neuronmonkey new analyzer}, then {@code ./mvnw package} in the new
 * folder (its own unit test runs there), then {@code plugins install} of the bundle and its sample experiment on the demo model. The
 * analyzer's mean and fraction active of EVERY layer of the step equal the census of the same layers made by the
 * shipped activation-stats analyzer in the same run (an independent implementation of the same statistics).
 */
class PluginProjectTest {

    /** Maven's own offline flag of the build running this test, passed on to the Maven runs it starts. */
    static final Map<String, String> MAVEN = "offline=true".equals(System.getProperty("neuronmonkey.maven")) ? Map.of("MAVEN_ARGS", "-o") : Map.of();

    @TempDir
    Path work;

    @Test
    void newAnalyzerBuildsLoadsAndMatchesTheCensusOnEveryLayer() throws Exception {
        long start = System.nanoTime();
        Path project = work.resolve("mean-act");
        Launcher.Result made = Launcher.run(work, MAVEN, "new", "analyzer", "mean-act", "--dir", project.toString());
        assertEquals(0, made.code(), made.all());
        assertTrue(Files.isRegularFile(project.resolve("src/main/java/org/example/meanact/MeanActAnalyzer.java")), made.all());
        long pomLines = Files.readAllLines(project.resolve("pom.xml")).size();
        assertTrue(pomLines <= 15, "the project's POM has " + pomLines + " lines");

        ProcessBuilder mvn = new ProcessBuilder("bash", project.resolve("mvnw").toString(), "-B", "-q", "package").directory(project.toFile())
                .redirectErrorStream(true).redirectOutput(work.resolve("mvn.log").toFile());
        mvn.environment().putAll(MAVEN);
        Process build = mvn.start();
        assertTrue(build.waitFor(5, TimeUnit.MINUTES), "the plugin build finishes");
        assertEquals(0, build.exitValue(), Files.readString(work.resolve("mvn.log")));
        Path bundle = project.resolve("target/plugins/mean-act-0.1.0.zip");
        assertTrue(Files.isRegularFile(bundle), "mvn package made the bundle");
        long built = System.nanoTime();

        // installed into the user plugins folder (the launcher's NEURONMONKEY_PLUGINS), next to the shipped bundles
        Launcher.Result installed = Launcher.run(project, "plugins", "install", bundle.toString());
        assertEquals(0, installed.code(), installed.all());
        Path out = work.resolve("run");
        Launcher.Result r = Launcher.run(project, "run", "experiment.yaml", "--out", out.toString());
        assertEquals(0, r.code(), r.all());
        long done = System.nanoTime();
        System.out.printf("new analyzer -> report: %.1f s (new + mvn package %.1f s, run %.1f s)%n",
                (done - start) / 1e9, (built - start) / 1e9, (done - built) / 1e9);

        String html = Files.readString(out.resolve("report.html"));
        RunFolder run = new RunFolder(out);
        for (String layer : List.of("conv1", "conv2", "dense1", "logits")) {
            assertTrue(html.contains("id=\"part-mean-act--" + layer + "-mean-act\""), "the report shows " + layer);
            float[] mean = run.column("mean-act", layer + "-mean-act", "mean");
            float[] active = run.column("mean-act", layer + "-mean-act", "active");
            float[] censusMean = run.column("census", layer + "-stats", "mean");
            // the census counts (example, position) values of a spatial layer in a column of its own
            boolean spatial = layer.startsWith("conv");
            float[] censusActive = run.column("census", layer + "-stats", spatial ? "positionFiringRate" : "firingRate");
            assertEquals(censusMean.length, mean.length, layer);
            for (int i = 0; i < mean.length; i++) {
                assertEquals(censusMean[i], mean[i], 1e-4 * Math.max(1, Math.abs(censusMean[i])), layer + " #" + i + " mean");
                assertEquals(censusActive[i], active[i], 1e-6, layer + " #" + i + " active");
            }
        }
    }
}
