package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.pipeline.Environment;
import io.neuronmonkey.runtime.pipeline.PreparedExperiment;
import io.neuronmonkey.runtime.pipeline.Preparer;
import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.plugin.PluginPins;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code neuronmonkey validate FILE}: every check that needs no run (names, params, files, layers); exit 2 with all errors. */
@Command(name = "validate", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Check an experiment without running it: names, params, files, and layer names against the model.")
final class ValidateCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "the experiment YAML")
    Path file;

    @Option(names = "--plugins", paramLabel = "DIR", description = "a folder of plugin bundles read in addition to the built-in and user ones")
    Path plugins;

    @Override
    public Integer call() {
        ExperimentConfig config = ExperimentParser.read(file);
        try (PluginHost host = Launch.plugins(plugins, System.err, true)) {
            PluginPins.check(config, host);
            Environment env = new Environment(config, ProgressReporter.NONE, new AtomicBoolean());
            boolean training = config.trainer().isPresent();
            try (PreparedExperiment p = Preparer.prepare(config, host.registry(), env, !training)) {
                System.out.println(file + ": valid (" + p.steps().size() + " steps, " + p.data().size() + " data sets"
                        + (p.model() != null ? ", model with " + p.model().layers().size() + " layers" : "") + ")");
            }
        }
        return Main.OK;
    }
}
