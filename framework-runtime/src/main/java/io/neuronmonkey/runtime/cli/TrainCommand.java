package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.pipeline.Environment;
import io.neuronmonkey.runtime.pipeline.TrainRunner;
import io.neuronmonkey.runtime.plugin.PluginHost;
import io.neuronmonkey.runtime.store.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;

/** {@code neuronmonkey train FILE}: trains a model with a trainer plugin and saves it to {@code trainer.output}. */
@Command(name = "train", description = "Train a model from a training YAML (trainer + data.train + evaluation sets).")
final class TrainCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "FILE", description = "the training YAML")
    Path file;

    @Option(names = "--plugins", paramLabel = "DIR", description = "plugin bundles folder")
    Path plugins;

    @Override
    public Integer call() {
        ExperimentConfig config = ExperimentParser.read(file);
        try (PluginHost host = Launch.plugins(plugins, System.err, true)) {
            Environment env = new Environment(config, ConsoleProgress.forConsole(), new AtomicBoolean());
            Map<String, Object> report = TrainRunner.train(config, host.registry(), env, Launch.version());
            System.out.println(new String(Json.bytes(report.get("metrics")), StandardCharsets.UTF_8));
            System.err.println("model saved to " + config.resolve(config.trainer().get().output()));
        }
        return Main.OK;
    }
}
