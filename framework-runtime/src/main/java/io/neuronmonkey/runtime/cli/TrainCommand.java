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

    @Option(names = "--live", arity = "0..1", fallbackValue = "0", paramLabel = "PORT",
            description = "serve a live page of the training (progress, loss and accuracy curves) on 127.0.0.1 (PORT, default: any free port)")
    Integer live;

    @Option(names = "--keep", description = "with --live: keep the live page's server after training until the process is stopped (default: it closes "
            + LiveView.GRACE_MILLIS / 1000 + " s after the end)")
    boolean keep;

    @Override
    public Integer call() {
        ExperimentConfig config = ExperimentParser.read(file);
        String name = config.trainer().map(t -> t.type()).orElse("training") + " from " + file.getFileName();
        try (LiveView view = LiveView.open(live, keep, "train", name, System.err);
             PluginHost host = Launch.plugins(plugins, System.err, true)) {
            PluginPins.check(config, host);
            Environment env = new Environment(config, LiveView.progress(view, ConsoleProgress.forConsole()), new AtomicBoolean(),
                    LiveView.listener(view));
            TrainRunner.Trained trained;
            try {
                trained = TrainRunner.train(config, host.registry(), env, Launch.version(), force);
            } catch (RuntimeException e) {
                if (view != null) {
                    view.ended("failed", null, e.getMessage());
                }
                throw e;
            }
            System.out.println(new String(Json.bytes(trained.report().get("metrics")), StandardCharsets.UTF_8));
            trained.notes().forEach(n -> System.err.println("note: " + n));
            System.err.println("model saved to " + trained.model());
            if (view != null) {
                view.ended("completed", null, "model saved to " + trained.model().toAbsolutePath());
            }
        }
        return Main.OK;
    }
}
