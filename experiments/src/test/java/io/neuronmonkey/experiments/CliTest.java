package io.neuronmonkey.experiments;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The CLI contract through the real launcher: plugins, inspect, validate, train, and the messages for bad input. */
class CliTest {

    @TempDir
    Path work;

    private Path experiment(String name, String body) throws IOException {
        // placed beside the shipped experiments' model through an absolute path
        String model = Launcher.ROOT.resolve("experiments/models/shapes-cnn").toString();
        return Files.writeString(work.resolve(name), body.replace("MODEL", model));
    }

    @Test
    void pluginsListsTheFourBundlesAndTheirExtensions() throws Exception {
        Launcher.Result r = Launcher.run(work, "plugins");
        assertEquals(0, r.code(), r.all());
        for (String id : new String[]{"tensorflow-backend", "datasets", "stats-analyzers", "report-visualizers"}) {
            assertTrue(r.out().contains(id), id + " missing:\n" + r.out());
        }
        for (String ext : new String[]{"tensorflow ", "synthetic-shapes", "npy", "csv", "idx", "activation-stats",
                "histogram", "heatmap", "html-report", "tensorflow-cnn"}) {
            assertTrue(r.out().contains(ext), ext + " missing:\n" + r.out());
        }
        assertTrue(r.out().contains("STARTED"));
    }

    @Test
    void inspectListsTheDemoModelLayersWithShapesAndNeurons() throws Exception {
        Launcher.Result r = Launcher.run(work, "inspect", "--backend", "tensorflow", "--model",
                Launcher.ROOT.resolve("experiments/models/shapes-cnn").toString());
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().matches("(?s).*conv1\\s+Relu\\s+\\[28, 28, 8]\\s+8\\s+hidden.*"), r.out());
        assertTrue(r.out().matches("(?s).*dense1\\s+Relu\\s+\\[32]\\s+32\\s+hidden.*"), r.out());
        assertTrue(r.out().matches("(?s).*logits\\s+BiasAdd\\s+\\[4]\\s+4\\s+logits.*"), r.out());
        assertTrue(r.out().contains("more op outputs can be captured: inspect --all"), r.out());
        Launcher.Result all = Launcher.run(work, "inspect", "--all", "--backend", "tensorflow", "--model",
                Launcher.ROOT.resolve("experiments/models/shapes-cnn").toString());
        assertEquals(0, all.code(), all.all());
        assertTrue(all.out().matches("(?s).*conv1_bias\\s+BiasAdd\\s+\\[28, 28, 8]\\s+8\\s+hidden.*"), all.out());
        assertTrue(all.out().matches("(?s).*logits_matmul\\s+MatMul\\s+\\[4]\\s+4\\s+hidden.*"), all.out());
    }

    @Test
    void inspectNamesTheArgumentsItWasGivenNotAFileOfItsOwn() throws Exception {
        String model = Launcher.ROOT.resolve("experiments/models/shapes-cnn").toString();
        Launcher.Result r = Launcher.run(work, "inspect", "--model", model, "-P", "chunk=abc", "-P", "preprocess={scale: x}");
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().contains("neuronmonkey inspect: 2 errors in the arguments"), r.err());
        assertTrue(r.err().contains("-P chunk=abc - must be an integer"), r.err());
        assertTrue(r.err().contains("-P preprocess={scale: x} (at preprocess.scale) - must be a number, found 'x'"), r.err());
        assertFalse(r.all().contains(".yaml"), "no file the user did not write: " + r.all());
    }

    @Test
    void benchTimesAnExperimentsModelWithItsPreprocessingOnItsData() throws Exception {
        Path f = experiment("timed.yaml", """
                experiment: timed
                batchSize: 32
                model: {backend: tensorflow, path: MODEL, preprocess: {scale: 0.00392156862745098}}
                data:
                  probe: {source: synthetic-shapes, params: {split: test, count: 96}}
                steps: []
                """);
        Launcher.Result r = Launcher.run(work, "bench", f.toString(), "--repeats", "1", "--threads", "1");
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().matches("(?s).*timed\\.yaml \\[probe] \\(7 layers\\)\\s+96\\s+32\\s+1\\s.*"), r.out());
        assertTrue(r.out().contains("fed to: activation-stats + top-activations"), r.out());
    }

    @Test
    void validateAcceptsTheShippedExperiments() throws Exception {
        for (String f : new String[]{"quickstart.yaml", "train-shapes-cnn.yaml", "compare-splits.yaml", "bench/train-wide-mlp.yaml"}) {
            Launcher.Result r = Launcher.run(work, "validate", Launcher.ROOT.resolve("experiments/" + f).toString());
            assertEquals(0, r.code(), f + ": " + r.all());
            assertTrue(r.out().contains("valid"), r.out());
        }
    }

    @Test
    void malformedYamlGivesLineAndColumnAndExitTwo() throws Exception {
        Path f = experiment("broken.yaml", "experiment: broken\nsteps:\n  - id: a\n    analyzer: activation-stats\n   params: {k: 1\n");
        Launcher.Result r = Launcher.run(work, "run", f.toString());
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().contains("YAML syntax error at line"), r.err());
        assertTrue(r.err().contains("broken.yaml"), r.err());
    }

    @Test
    void unknownNamesBadParamsMissingFilesAndLayersAreAllListedAtOnce() throws Exception {
        Path f = experiment("bad.yaml", """
                experiment: bad
                model: {backend: tensorflow, path: MODEL}
                data:
                  probe: {source: synthetic-shapes, params: {count: 0, split: validation}}
                  files: {source: npy, params: {inputs: data/missing.npy}}
                steps:
                  - id: census
                    analyzer: activation-stat
                    data: probe
                  - id: census2
                    analyzer: activation-stats
                    data: probe
                    layers: [conv3, dense1]
                    params: {bins: 1, reduce: median}
                  - id: pics
                    visualizer: histgram
                """);
        Launcher.Result r = Launcher.run(work, "validate", f.toString());
        assertEquals(2, r.code(), r.all());
        String e = r.err();
        assertTrue(e.contains("steps[0].analyzer (line 8, col 15) - unknown analyzer 'activation-stat'; did you mean 'activation-stats'?"), e);
        assertTrue(e.contains("steps[2].visualizer (line 16, col 17) - unknown visualizer 'histgram'; did you mean 'histogram'?"), e);
        assertTrue(e.contains("known: effect-sizes, heatmap, histogram, html-report, top-activations-grid"), e);
        assertTrue(e.contains("data.probe.params.count (line 4, col 53) - must be >= 1, found 0"), e);
        assertTrue(e.contains("data.probe.params.split (line 4, col 63) - must be one of train, test, decorrelated, found 'validation'"), e);
        assertTrue(e.contains("steps[1].params.bins (line 14, col 20) - must be between 2 and 1024, found 1"), e);
        assertTrue(e.contains("steps[1].params.reduce (line 14, col 31) - must be one of mean, max, first, last, token, found 'median'"), e);
        // one round: the file and layer checks (which need the model loaded and the data opened) come out together
        // with the static ones, for the parts that had no static problem
        assertTrue(e.contains("data.files (line 5, col 10)") && e.contains("missing.npy"), e);
        assertTrue(e.contains("steps[1].layers[0] (line 13, col 14) - the model has no layer 'conv3'; near matches: conv1, conv2"), e);
    }

    @Test
    void missingModelIsNamedWithTheResolvedPath() throws Exception {
        Path f = experiment("nomodel.yaml", """
                experiment: nomodel
                model: {backend: tensorflow, path: models/nope}
                data: {probe: {source: synthetic-shapes, params: {count: 10}}}
                steps:
                  - {id: census, analyzer: activation-stats}
                """);
        Launcher.Result r = Launcher.run(work, "run", f.toString(), "--out", work.resolve("o").toString());
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().contains("model.path (line 2, col 36) - model not found: " + work.resolve("models/nope")), r.err());
        assertFalse(Files.exists(work.resolve("o/provenance.json")));
    }

    @Test
    void badPluginBundleIsRefusedWithTheFieldNamedWhileTheOthersLoad() throws Exception {
        // --plugins adds a folder to the shipped bundles, which still load beside the bad one
        Path dir = Files.createDirectories(work.resolve("bundles"));
        Path broken = Files.createDirectories(dir.resolve("broken-plugin"));
        Files.writeString(broken.resolve("plugin.properties"), "plugin.id=broken-plugin\nplugin.provider=someone\n");
        Files.createDirectories(broken.resolve("lib"));
        Launcher.Result r = Launcher.run(work, "plugins", "--plugins", dir.toString());
        assertEquals(0, r.code(), r.all());
        assertTrue(r.out().contains("refused:"), r.out());
        assertTrue(r.out().contains("broken-plugin: invalid plugin descriptor (plugin.properties or MANIFEST.MF): field 'plugin.version' is missing or empty"), r.out());
        assertTrue(r.out().contains("stats-analyzers") && r.out().contains("activation-stats"), r.out());
        assertTrue(r.out().contains("tensorflow-backend"), r.out());
    }

    @Test
    void trainCommandTrainsAndSavesALoadableModel() throws Exception {
        Path f = Files.writeString(work.resolve("train.yaml"), """
                experiment: tiny-train
                seed: 3
                trainer: {type: tensorflow-cnn, output: models/tiny, params: {epochs: 2, batchSize: 32}}
                data:
                  train: {source: synthetic-shapes, params: {split: train, count: 800}}
                  held-out: {source: synthetic-shapes, params: {split: test, count: 200}}
                """);
        Launcher.Result r = Launcher.run(work, "train", f.toString());
        assertEquals(0, r.code(), r.all());
        assertTrue(Files.isRegularFile(work.resolve("models/tiny/saved_model.pb")));
        assertTrue(Files.readString(work.resolve("models/tiny/training.json")).contains("\"held-out\""));
        Launcher.Result i = Launcher.run(work, "inspect", "--backend", "tensorflow", "--model", work.resolve("models/tiny").toString());
        assertEquals(0, i.code(), i.all());
        assertTrue(i.out().contains("probabilities"), i.out());
    }
}
