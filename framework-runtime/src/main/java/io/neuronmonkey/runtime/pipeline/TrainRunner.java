package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.train.ModelTrainer;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.config.Problems;
import io.neuronmonkey.runtime.plugin.ExtensionPoints;
import io.neuronmonkey.runtime.plugin.ExtensionRegistry;
import io.neuronmonkey.runtime.plugin.RegisteredExtension;
import io.neuronmonkey.runtime.store.AtomicFiles;
import io.neuronmonkey.runtime.store.Json;
import io.neuronmonkey.runtime.store.ModelFolder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs a training file ({@code trainer:} + {@code data.train} + evaluation sets): the model is saved into a hidden
 * sibling folder and moved to {@code trainer.output} only when training succeeded, with {@code training.json}
 * (metrics, params, seed, data hashes, the files written) beside it. What may be replaced there is
 * {@link ModelFolder}'s rule: an earlier model the trainer wrote, never anything else; checked before training starts.
 */
public final class TrainRunner {

    private TrainRunner() {
    }

    /** What training produced: the training.json content, where the model is, and notes on files kept aside. */
    public record Trained(Map<String, Object> report, Path model, List<String> notes) {
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    public static Trained train(ExperimentConfig config, ExtensionRegistry registry, Environment env, String frameworkVersion,
                                boolean force) {
        Problems problems = new Problems();
        problems.addAll(config.problems());
        if (config.trainer().isEmpty()) {
            problems.throwIfAny(config.file());
            throw new ConfigException(config.file() + ": a training file needs a 'trainer:' section (type, output, params)");
        }
        ExperimentConfig.TrainerSpec t = config.trainer().get();
        RegisteredExtension<?> trainer = registry.find(ExtensionPoints.TRAINER, t.type()).orElse(null);
        if (trainer == null) {
            problems.add("trainer.type", t.typeNode(), registry.unknownMessage(ExtensionPoints.TRAINER, t.type()));
        }
        Record params = trainer == null ? null
                : ParamsBinder.bind(trainer.paramsType(), t.paramsNode(), "trainer.params", problems).orElse(null);
        if (!config.data().containsKey("train")) {
            problems.add("data", t.typeNode(), "a training file needs a data set named 'train'");
        }
        Map<String, PreparedExperiment.DataEntry> bound = new LinkedHashMap<>();
        for (ExperimentConfig.DataSpec d : config.data().values()) {
            RegisteredExtension<?> src = registry.find(ExtensionPoints.DATA_SOURCE, d.source()).orElse(null);
            if (src == null) {
                problems.add(d.path() + ".source", d.sourceNode(), registry.unknownMessage(ExtensionPoints.DATA_SOURCE, d.source()));
                continue;
            }
            Record p = ParamsBinder.bind(src.paramsType(), d.paramsNode(), d.path() + ".params", problems).orElse(null);
            bound.put(d.name(), new PreparedExperiment.DataEntry(d, src, p, null));
        }
        Path target = config.resolve(t.output());
        ModelFolder folder = ModelFolder.inspect(target);
        folder.refusal(force).ifPresent(m -> problems.add("trainer.output", t.outputNode(), m));
        problems.throwIfAny(config.file());

        Path partial = folder.partial();
        boolean installed = false;
        Map<String, Dataset> open = new LinkedHashMap<>();
        try {
            for (PreparedExperiment.DataEntry d : bound.values()) {
                open.put(d.spec().name(), Preparer.open(d.source(), new Contexts.Data<>(env, d.spec().name(), d.params())));
            }
            AtomicFiles.deleteTree(partial);
            Files.createDirectories(partial);
            Map<String, Dataset> eval = new LinkedHashMap<>(open);
            Dataset train = eval.remove("train");
            Instant start = Instant.now();
            AnalysisResult result = ((ModelTrainer) trainer.instance()).train(new Contexts.Training<>(env, params, train, eval, partial));
            Map<String, Object> report = new LinkedHashMap<>();
            report.put("trainer", trainer.name());
            report.put("plugin", trainer.pluginId() + "@" + trainer.pluginVersion());
            report.put("framework", frameworkVersion);
            report.put("seed", config.seed());
            report.put("params", Records.toMap(params));
            Map<String, Object> data = new LinkedHashMap<>();
            bound.forEach((name, d) -> data.put(name, Records.ordered("source", d.source().name(), "params", Records.toMap(d.params()),
                    "sha256", open.get(name).fingerprint(), "size", open.get(name).info().size())));
            report.put("data", data);
            report.put("startedAt", start.toString());
            report.put("finishedAt", Instant.now().toString());
            report.put("metrics", result.summary());
            List<String> files = new ArrayList<>(ModelFolder.files(partial));
            files.remove(ModelFolder.TRAINING_JSON);
            files.add(ModelFolder.TRAINING_JSON);
            report.put("files", files);
            Json.write(partial.resolve(ModelFolder.TRAINING_JSON), report);
            List<String> notes = folder.install(partial);
            installed = true;
            return new Trained(report, target, notes);
        } catch (IOException e) {
            throw new OutputException("cannot write the model to " + target + ": " + e.getMessage(), e);
        } finally {
            if (!installed) {
                try {
                    AtomicFiles.deleteTree(partial);
                } catch (RuntimeException ignored) {
                    // the hidden partial is ours; the next training removes it
                }
            }
            open.values().forEach(Dataset::close);
        }
    }
}
