package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.runtime.plugin.PluginInfo;
import io.neuronmonkey.runtime.store.Hashing;
import io.neuronmonkey.runtime.store.Json;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code provenance.json} records: resolved config, plugin ids and versions, model and data hashes, seed,
 * framework/Java/OS versions, start and end times and how each step ended.
 */
public final class Provenance {

    private final Map<String, Object> map = new LinkedHashMap<>();
    private Map<String, Object> nonFiniteInputs = Map.of();

    public static Provenance of(PreparedExperiment exp, List<PluginInfo> plugins, String frameworkVersion) {
        Provenance p = new Provenance();
        Map<String, Object> m = p.map;
        m.put("experiment", exp.config().name());
        m.put("configFile", exp.config().file().toAbsolutePath().toString());
        m.put("configSha256", Hashing.sha256(exp.config().text().getBytes(StandardCharsets.UTF_8)));
        m.put("seed", exp.config().seed());
        m.put("batchSize", exp.config().batchSize());
        m.put("startedAt", Instant.now().toString());
        m.put("framework", Records.ordered("name", "NeuronMonkey", "version", frameworkVersion));
        m.put("java", Records.ordered("version", System.getProperty("java.version"), "vendor", System.getProperty("java.vendor"),
                "vm", System.getProperty("java.vm.name")));
        m.put("os", Records.ordered("name", System.getProperty("os.name"), "version", System.getProperty("os.version"),
                "arch", System.getProperty("os.arch")));
        m.put("plugins", plugins.stream().map(pi -> Records.ordered("id", pi.id(), "version", pi.version(), "state", pi.state())).toList());
        if (exp.model() != null) {
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("backend", exp.backend().name());
            model.put("plugin", exp.backend().pluginId() + "@" + exp.backend().pluginVersion());
            model.put("path", exp.config().resolve(exp.config().model().get().path()).toString());
            model.put("sha256", exp.model().fingerprint());
            model.put("description", exp.model().description());
            model.put("params", Records.toMap(exp.modelParams()));
            m.put("model", model);
        }
        Map<String, Object> data = new LinkedHashMap<>();
        exp.data().forEach((name, d) -> {
            Map<String, Object> dm = new LinkedHashMap<>();
            dm.put("source", d.source().name());
            dm.put("plugin", d.source().pluginId() + "@" + d.source().pluginVersion());
            dm.put("params", Records.toMap(d.params()));
            if (d.dataset() != null) {
                dm.put("sha256", d.dataset().fingerprint());
                dm.put("size", d.dataset().info().size());
            }
            data.put(name, dm);
        });
        m.put("data", data);
        m.put("resolvedSteps", exp.steps().stream().map(s -> {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("id", s.id());
            sm.put(s.spec().kind().key(), s.extension().name());
            sm.put("plugin", s.extension().pluginId() + "@" + s.extension().pluginVersion());
            sm.put("data", s.data());
            sm.put("layers", s.layers().stream().map(l -> l.name()).toList());
            sm.put("inputs", s.spec().inputs());
            sm.put("params", Records.toMap(s.params()));
            return sm;
        }).toList());
        m.put("config", exp.config().plain());
        return p;
    }

    public Map<String, Object> asMap() {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    void writeStarted(Path out) {
        map.put("status", "running");
        Json.write(out.resolve("provenance.json"), map);
    }

    /**
     * Per data set read by the run, what the widest pass over it saw in its inputs, recorded as
     * {@code execution.nonFiniteInputs.<data set> = {examples, affectedExamples, nanValues, infiniteValues,
     * firstAffectedExample (only when affectedExamples > 0)}}.
     */
    void nonFiniteInputs(Map<String, Object> perDataSet) {
        this.nonFiniteInputs = new LinkedHashMap<>(perDataSet);
    }

    void writeFinished(Path out, List<ExperimentRunner.StepStatus> steps, RunOptions options, List<String> notes) {
        map.put("finishedAt", Instant.now().toString());
        map.put("execution", Records.ordered("threads", options.threads(), "activationCache",
                options.cacheDir() == null ? "off" : options.cacheDir().toString(), "notes", List.copyOf(notes),
                "peakHeapMB", PeakHeap.megabytes(), "nonFiniteInputs", nonFiniteInputs));
        map.put("status", steps.stream().allMatch(ExperimentRunner.StepStatus::ok) ? "completed" : "failed");
        map.put("steps", steps.stream().map(s -> {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("id", s.id());
            sm.put("state", s.state());
            sm.put("seconds", s.seconds());
            if (s.error() != null) {
                sm.put("error", s.error());
            }
            return sm;
        }).toList());
        Json.write(out.resolve("provenance.json"), map);
    }
}
