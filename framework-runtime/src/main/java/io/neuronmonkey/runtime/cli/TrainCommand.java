package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.pipeline.Environment;
import io.neuronmonkey.runtime.pipeline.TrainRunner;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.plugin.PluginPins;
import io.neuronmonkey.runtime.store.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code neuronmonkey train FILE [--force]}: trains a model with a trainer plugin and saves it to {@code trainer.output};
 * an existing folder there must be empty or an earlier model, unless {@code --force}.
 */
@Command(name = "train", mixinStandardHelpOptions = true, versionProvider = Main.Version.class, description = "Train a model from a training YAML (trainer + data.train + evaluation sets).")
final class TrainCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "the training YAML")
    Path file;

    @Option(names = "--plugins", paramLabel = "DIR", description = "a folder of plugin bundles read in addition to the built-in and user ones")
    Path plugins;

    @Option(names = "--force", description = "write the model into an existing folder that holds other files (they are kept, never deleted)")
    boolean force;

    @Override
    public Integer call() {
        ExperimentConfig config = ExperimentParser.read(file);
        try (PluginHost host = Launch.plugins(plugins, System.err, true)) {
            PluginPins.check(config, host);
            Environment env = new Environment(config, ConsoleProgress.forConsole(), new AtomicBoolean());
            TrainRunner.Trained trained = TrainRunner.train(config, host.registry(), env, Launch.version(), force);
            System.out.println(new String(Json.bytes(trained.report().get("metrics")), StandardCharsets.UTF_8));
            trained.notes().forEach(n -> System.err.println("note: " + n));
            System.err.println("model saved to " + trained.model());
        }
        return Main.OK;
    }
}
