package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.NeuronMonkeyException;
import io.neuronmonkey.api.Suggestions;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.data.DataSource;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelBackend;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.config.Problems;
import io.neuronmonkey.runtime.plugin.ExtensionPoints;
import io.neuronmonkey.runtime.plugin.ExtensionRegistry;
import io.neuronmonkey.runtime.plugin.RegisteredExtension;
import org.snakeyaml.engine.v2.nodes.Node;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks everything that can be checked before running and reports every problem in one round: the file's
 * structure, extension names, params, files, and (with the model loaded and the data open) layer names, input shapes
 * and empty data sets. A part with a problem of its own is left out of the later checks; the others still get them.
 */
public final class Preparer {

    private Preparer() {
    }

    /**
     * @param open false to stop after the static checks (names, params, files); true to also load the model, open
     *             the data and check layers
     */
    public static PreparedExperiment prepare(ExperimentConfig config, ExtensionRegistry registry, Environment env, boolean open) {
        Problems problems = new Problems();
        problems.addAll(config.problems());

        RegisteredExtension<?> backend = null;
        Record modelParams = null;
        Path modelPath = null;
        if (config.model().isPresent()) {
            ExperimentConfig.ModelSpec m = config.model().get();
            backend = lookup(registry, ExtensionPoints.BACKEND, m.backend(), "model.backend", m.backendNode(), problems);
            if (backend != null) {
                modelParams = ParamsBinder.bind(backend.paramsType(), m.node(), "model", problems, "backend", "path").orElse(null);
            }
            modelPath = config.resolve(m.path());
            if (!Files.exists(modelPath)) {
                problems.add("model.path", m.pathNode(), "model not found: " + modelPath
                        + " (relative paths resolve against " + config.file().toAbsolutePath().getParent() + ")");
            }
        }

        Map<String, PreparedExperiment.DataEntry> data = new LinkedHashMap<>();
        for (ExperimentConfig.DataSpec d : config.data().values()) {
            RegisteredExtension<?> src = lookup(registry, ExtensionPoints.DATA_SOURCE, d.source(), d.path() + ".source", d.sourceNode(), problems);
            Record params = src == null ? null
                    : ParamsBinder.bind(src.paramsType(), d.paramsNode(), d.path() + ".params", problems).orElse(null);
            data.put(d.name(), new PreparedExperiment.DataEntry(d, src, params, null));
        }

        List<PreparedExperiment.StepEntry> steps = new ArrayList<>();
        for (ExperimentConfig.StepSpec s : config.steps()) {
            ExtensionPoints point = s.kind() == ExperimentConfig.Kind.ANALYZER ? ExtensionPoints.ANALYZER : ExtensionPoints.VISUALIZER;
            RegisteredExtension<?> ext = lookup(registry, point, s.extension(), s.path() + "." + s.kind().key(), s.extensionNode(), problems);
            Record params = ext == null ? null
                    : ParamsBinder.bind(ext.paramsType(), s.paramsNode(), s.path() + ".params", problems).orElse(null);
            String dataName = s.data();
            if (dataName == null && s.kind() == ExperimentConfig.Kind.ANALYZER && config.data().size() == 1) {
                dataName = config.data().keySet().iterator().next();
            }
            if (ext != null && ext.instance() instanceof StreamingAnalyzer<?>) {
                if (dataName == null) {
                    problems.add(s.path() + ".data", s.node(), "analyzer '" + s.extension() + "' reads data: add 'data: <name>' (one of "
                            + String.join(", ", config.data().keySet()) + ")");
                }
                if (config.model().isEmpty()) {
                    problems.add(s.path(), s.node(), "analyzer '" + s.extension() + "' needs a model: add a 'model:' section");
                }
            }
            if (s.kind() == ExperimentConfig.Kind.VISUALIZER && !s.layers().isEmpty()) {
                problems.add(s.path() + ".layers", s.layerNodes().get(0), "visualizer steps take no 'layers'; put layer filters in params");
            }
            steps.add(new PreparedExperiment.StepEntry(s, ext, params, dataName, List.of()));
        }

        if (!open) {
            problems.throwIfAny(config.file());
            return new PreparedExperiment(config, backend, modelParams, null, data, steps);
        }

        LoadedModel model = null;
        Map<String, PreparedExperiment.DataEntry> opened = new LinkedHashMap<>();
        try {
            if (backend != null && modelParams != null && Files.exists(modelPath)) {
                try {
                    model = load(backend, new Contexts.Model<>(env, modelPath, modelParams));
                } catch (NeuronMonkeyException e) {
                    problems.add("model", config.model().get().node(), e.getMessage());
                }
            }
            for (PreparedExperiment.DataEntry d : data.values()) {
                Dataset ds = null;
                if (d.source() != null && d.params() != null) {
                    try {
                        ds = open(d.source(), new Contexts.Data<>(env, d.spec().name(), d.params()));
                        if (ds.info().size() == 0) {
                            problems.add(d.spec().path(), d.spec().node(), "data set '" + d.spec().name() + "' has no examples"
                                    + " (source '" + d.spec().source() + "'); every step over it would compute statistics of nothing");
                        }
                    } catch (NeuronMonkeyException e) {
                        problems.add(d.spec().path(), d.spec().node(), e.getMessage());
                    }
                }
                opened.put(d.spec().name(), new PreparedExperiment.DataEntry(d.spec(), d.source(), d.params(), ds));
            }
            List<PreparedExperiment.StepEntry> resolved = new ArrayList<>();
            for (PreparedExperiment.StepEntry s : steps) {
                List<LayerInfo> layers = model == null ? List.of() : layers(model, s.spec(), problems);
                if (model != null && s.data() != null && opened.get(s.data()) != null && opened.get(s.data()).dataset() != null) {
                    io.neuronmonkey.api.data.DatasetInfo info = opened.get(s.data()).dataset().info();
                    int[] example = info.exampleShape();
                    String mismatch = inputMismatch(model, info, s.data());
                    if (mismatch != null) {
                        problems.add(s.spec().path() + ".data", s.spec().dataNode() != null ? s.spec().dataNode() : s.spec().node(),
                                mismatch);
                    } else if (!Arrays.equals(example, model.inputShape())) {
                        problems.add(s.spec().path() + ".data", s.spec().dataNode() != null ? s.spec().dataNode() : s.spec().node(),
                                "data '" + s.data() + "' has examples shaped " + Arrays.toString(example) + " but the model expects "
                                        + Arrays.toString(model.inputShape())
                                        + model.inputAdvice(example).map(a -> "; " + a).orElse(""));
                    }
                }
                resolved.add(new PreparedExperiment.StepEntry(s.spec(), s.extension(), s.params(), s.data(), layers));
            }
            PreparedExperiment prepared = new PreparedExperiment(config, backend, modelParams, model, opened, resolved);
            if (!problems.isEmpty()) {
                prepared.close();
                problems.throwIfAny(config.file());
            }
            return prepared;
        } catch (RuntimeException e) {
            new PreparedExperiment(config, backend, modelParams, model, opened, steps).close();
            throw e;
        }
    }

    /** Loads the model of a statically prepared experiment (for inspect). */
    public static LoadedModel loadModel(PreparedExperiment p, Environment env) {
        ExperimentConfig.ModelSpec m = p.config().model().orElseThrow();
        return load(p.backend(), new Contexts.Model<>(env, p.config().resolve(m.path()), p.modelParams()));
    }

    static List<LayerInfo> layers(LoadedModel model, ExperimentConfig.StepSpec s, Problems problems) {
        if (s.kind() != ExperimentConfig.Kind.ANALYZER) {
            return List.of();
        }
        if (s.layers().isEmpty()) {
            return model.layers().stream().filter(l -> l.role() != LayerInfo.Role.INPUT).toList();
        }
        List<LayerInfo> out = new ArrayList<>();
        List<String> known = model.layers().stream().map(LayerInfo::name).toList();
        for (int i = 0; i < s.layers().size(); i++) {
            String name = s.layers().get(i);
            Optional<LayerInfo> l = model.layer(name);
            if (l.isPresent()) {
                out.add(l.get());
            } else {
                List<String> near = Suggestions.near(name, known, 4);
                problems.add(s.path() + ".layers[" + i + "]", s.layerNodes().get(i), "the model has no layer '" + name + "'"
                        + (near.isEmpty() ? "" : "; near matches: " + String.join(", ", near))
                        + "; 'neuronmonkey inspect <experiment.yaml>' lists every layer");
            }
        }
        return out;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static LoadedModel load(RegisteredExtension<?> backend, Contexts.Model<?> ctx) {
        return ((ModelBackend) backend.instance()).load(ctx);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static Dataset open(RegisteredExtension<?> source, Contexts.Data<?> ctx) {
        return ((DataSource) source.instance()).open(ctx);
    }

    private static RegisteredExtension<?> lookup(ExtensionRegistry registry, ExtensionPoints point, String name, String path,
                                                 Node node, Problems problems) {
        Optional<RegisteredExtension<?>> ext = registry.find(point, name);
        if (ext.isEmpty()) {
            problems.add(path, node, registry.unknownMessage(point, name));
        }
        return ext.orElse(null);
    }

    /**
     * Whether the data can feed the model's inputs: the primary input's element type, and a feature for every other
     * model input.
     *
     * @return a message naming both sides, or null when they fit
     */
    static String inputMismatch(io.neuronmonkey.api.model.LoadedModel model, io.neuronmonkey.api.data.DatasetInfo info,
                                String data) {
        List<io.neuronmonkey.api.model.ModelInput> inputs = model.inputs();
        for (io.neuronmonkey.api.model.ModelInput in : inputs) {
            if (in.primary()) {
                if (!compatible(in.dtype(), info.inputType())) {
                    return "data '" + data + "' delivers " + info.inputType() + " examples but the model's input '"
                            + in.name() + "' takes " + in.dtype() + (in.dtype() == io.neuronmonkey.api.tensor.DType.STRING
                            ? " (raw text: use a text source with 'tokenizer: none')"
                            : info.text() ? "" : " (token ids: use a text source with a tokenizer)");
                }
            } else if (!info.features().contains(in.name())) {
                return "the model's input '" + in.name() + "' (" + in.dtype() + ") has no match in data '" + data
                        + "', which delivers " + (info.features().isEmpty() ? "only its primary input"
                        : "the primary input and " + String.join(", ", info.features()))
                        + "; model inputs: " + inputs.stream().map(Object::toString).toList();
            }
        }
        return null;
    }

    private static boolean compatible(io.neuronmonkey.api.tensor.DType model, io.neuronmonkey.api.tensor.DType data) {
        boolean modelInt = model == io.neuronmonkey.api.tensor.DType.INT32 || model == io.neuronmonkey.api.tensor.DType.INT64;
        boolean dataInt = data == io.neuronmonkey.api.tensor.DType.INT32 || data == io.neuronmonkey.api.tensor.DType.INT64;
        return model == data || modelInt && dataInt;
    }
}
