package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.plugin.PluginInfo;
import io.neuronmonkey.runtime.store.Hashing;
import io.neuronmonkey.runtime.store.Json;
import io.neuronmonkey.runtime.store.RunFolder;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code provenance.json} records: resolved config, every loaded plugin bundle (id, version, state, bundle file
 * and its SHA-256), model and data hashes, seed,
 * framework/Java/OS versions, start and end times, how each step ended and each step's config hash. It is rewritten
 * as steps end (status "running"), so a run that dies still tells which steps completed.
 */
public final class Provenance {

    private final Map<String, Object> map = new LinkedHashMap<>();
    private final Map<String, String> stepHashes = new LinkedHashMap<>();
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
        m.put("plugins", plugins.stream().map(pi -> Records.ordered("id", pi.id(), "version", pi.version(), "state", pi.state(),
                "file", pi.file().toAbsolutePath().toString(), "sha256", pi.sha256())).toList());
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
        p.stepHashes.putAll(stepHashes(exp));
        m.put("resolvedSteps", exp.steps().stream().map(s -> {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("id", s.id());
            sm.put(s.spec().kind().key(), s.extension().name());
            sm.put("plugin", s.extension().pluginId() + "@" + s.extension().pluginVersion());
            sm.put("data", s.data());
            sm.put("layers", s.layers().stream().map(l -> l.name()).toList());
            sm.put("inputs", s.spec().inputs());
            sm.put("params", Records.toMap(s.params()));
            sm.put("configSha256", p.stepHashes.get(s.id()));
            return sm;
        }).toList());
        m.put("config", exp.config().plain());
        return p;
    }

    /**
     * One hash per step of everything its result depends on: its extension and plugin version, data, layers,
     * params, seed, batch size, the model for analyzers, and the hashes of the steps it reads (its inputs, or for a
     * visualizer without inputs every earlier step). A step whose hash is unchanged computes the same result, so
     * {@code run --resume} reuses it; a changed step changes the hashes of everything that reads it.
     */
    static Map<String, String> stepHashes(PreparedExperiment exp) {
        Map<String, String> hashes = new LinkedHashMap<>();
        for (PreparedExperiment.StepEntry s : exp.steps()) {
            Map<String, Object> parts = new LinkedHashMap<>();
            parts.put("kind", s.spec().kind().key());
            parts.put("extension", s.extension().name());
            parts.put("plugin", s.extension().pluginId() + "@" + s.extension().pluginVersion());
            parts.put("seed", exp.config().seed());
            parts.put("batchSize", exp.config().batchSize());
            parts.put("params", Records.toMap(s.params()));
            parts.put("layers", s.layers().stream().map(l -> l.name()).toList());
            if (s.data() != null) {
                PreparedExperiment.DataEntry d = exp.data().get(s.data());
                parts.put("data", Records.ordered("name", s.data(), "source", d.source().name(), "params", Records.toMap(d.params()),
                        "sha256", d.dataset() == null ? null : d.dataset().fingerprint()));
            }
            if (s.spec().kind() == ExperimentConfig.Kind.ANALYZER && exp.model() != null) {
                parts.put("model", Records.ordered("sha256", exp.model().fingerprint(), "backend", exp.backend().name(),
                        "params", Records.toMap(exp.modelParams())));
            }
            Map<String, Object> inputs = new LinkedHashMap<>();
            List<String> read = s.spec().inputs().isEmpty() && s.spec().kind() == ExperimentConfig.Kind.VISUALIZER
                    ? List.copyOf(hashes.keySet()) : s.spec().inputs();
            read.forEach(i -> inputs.put(i, hashes.get(i)));
            parts.put("inputs", inputs);
            hashes.put(s.id(), Hashing.sha256(Json.bytes(parts)));
        }
        return hashes;
    }

    /**
     * How this run's model and data differ from those recorded in an earlier run's provenance (empty when the
     * same): backend, model hash and params; the data set names, and each one's source, params, hash and size.
     */
    @SuppressWarnings("unchecked")
    public List<String> modelOrDataDifferences(Map<String, Object> previous) {
        List<String> out = new ArrayList<>();
        Map<String, Object> model = (Map<String, Object>) map.get("model");
        Object before = previous.get("model");
        if (model == null || !(before instanceof Map<?, ?>)) {
            if (model != null || before != null) {
                out.add("model: " + (before == null ? "the run had none" : "the run had one, the experiment has none"));
            }
        } else {
            Map<String, Object> b = (Map<String, Object>) before;
            for (String key : List.of("backend", "sha256", "params")) {
                if (!same(model.get(key), b.get(key))) {
                    out.add("model." + key + ": the run had " + show(b.get(key)) + ", the experiment has " + show(model.get(key)));
                }
            }
        }
        Map<String, Object> data = (Map<String, Object>) map.get("data");
        Map<String, Object> dataBefore = previous.get("data") instanceof Map<?, ?> d ? (Map<String, Object>) d : Map.of();
        if (!data.keySet().equals(dataBefore.keySet())) {
            out.add("data sets: the run had " + dataBefore.keySet() + ", the experiment has " + data.keySet());
        }
        for (Map.Entry<String, Object> e : data.entrySet()) {
            if (dataBefore.get(e.getKey()) instanceof Map<?, ?> b) {
                Map<String, Object> now = (Map<String, Object>) e.getValue();
                for (String key : List.of("source", "params", "sha256", "size")) {
                    if (!same(now.get(key), b.get(key))) {
                        out.add("data." + e.getKey() + "." + key + ": the run had " + show(b.get(key)) + ", the experiment has " + show(now.get(key)));
                    }
                }
            }
        }
        return out;
    }

    /** Equal as JSON (numbers read back from a file are compared by their text). */
    private static boolean same(Object a, Object b) {
        return java.util.Arrays.equals(Json.bytes(a), Json.bytes(b));
    }

    private static String show(Object v) {
        String s = new String(Json.bytes(v), StandardCharsets.UTF_8).replaceAll("\\s+", " ");
        return s.length() > 200 ? s.substring(0, 200) + "..." : s;
    }

    public String stepHash(String id) {
        return stepHashes.get(id);
    }

    public synchronized Map<String, Object> asMap() {
        return java.util.Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    /** This run continues an earlier one: its start time is kept and the resumption is recorded. */
    public void continues(Map<String, Object> previous) {
        if (previous.get("startedAt") != null) {
            map.put("startedAt", previous.get("startedAt"));
        }
        List<Object> resumed = new ArrayList<>();
        if (previous.get("resumed") instanceof List<?> l) {
            resumed.addAll(l);
        }
        resumed.add(Records.ordered("at", Instant.now().toString(), "previousStatus", previous.get("status"),
                "previousFinishedAt", previous.get("finishedAt")));
        map.put("resumed", resumed);
    }

    synchronized void writeStarted(Path out) {
        map.put("status", "running");
        map.put("steps", List.of());
        Json.write(out.resolve(RunFolder.PROVENANCE), map);
    }

    /** The steps so far, so that a run that is killed outright still says which steps completed. */
    synchronized void writeProgress(Path out, List<ExperimentRunner.StepStatus> steps) {
        map.put("steps", steps(steps));
        Json.write(out.resolve(RunFolder.PROVENANCE), map);
    }

    /**
     * Per data set read by the run, what the widest pass over it saw in its inputs, recorded as
     * {@code execution.nonFiniteInputs.<data set> = {examples, affectedExamples, nanValues, infiniteValues,
     * firstAffectedExample (only when affectedExamples > 0)}}.
     */
    synchronized void nonFiniteInputs(Map<String, Object> perDataSet) {
        this.nonFiniteInputs = new LinkedHashMap<>(perDataSet);
    }

    synchronized void writeFinished(Path out, List<ExperimentRunner.StepStatus> steps, RunOptions options, List<String> notes,
                                    String status, String stopReason) {
        map.put("finishedAt", Instant.now().toString());
        map.put("execution", Records.ordered("threads", options.threads(), "activationCache",
                options.cacheDir() == null ? "off" : options.cacheDir().toString(), "notes", List.copyOf(notes),
                "peakHeapMB", PeakHeap.megabytes(), "nonFiniteInputs", nonFiniteInputs,
                "engine", options.engine() == null ? Map.of("engine", "local") : options.engine().describe()));
        map.put("status", status);
        if (stopReason != null) {
            map.put("stopReason", stopReason);
        } else {
            map.remove("stopReason");
        }
        map.put("steps", steps(steps));
        Json.write(out.resolve(RunFolder.PROVENANCE), map);
    }

    private static List<Map<String, Object>> steps(List<ExperimentRunner.StepStatus> steps) {
        return steps.stream().map(s -> {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("id", s.id());
            sm.put("state", s.state());
            sm.put("seconds", s.seconds());
            if (s.reused()) {
                sm.put("reused", true);
            }
            if (s.error() != null) {
                sm.put("error", s.error());
            }
            return sm;
        }).toList();
    }
}
