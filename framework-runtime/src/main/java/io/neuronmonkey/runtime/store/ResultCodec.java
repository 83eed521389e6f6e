package io.neuronmonkey.runtime.store;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.InputMaps;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.result.ResultPart;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The one codec of the result vocabulary: writes an {@link AnalysisResult} as {@code result.json} (schema version,
 * summary, parts, findings, an index of every array) plus one {@code .npy} per array, and reads it back into the same
 * typed parts. Every array reference in the JSON carries file, shape, dtype and dimension names, so other tools read
 * a part with {@code json} and {@code numpy} alone. A file of another schema version is refused with a message that
 * says which versions this runtime reads.
 */
public final class ResultCodec {

    /** The schema version written into {@code result.json}. */
    public static final int SCHEMA_VERSION = 2;
    /** The schema id, also the {@code $id} of the shipped JSON Schema. */
    public static final String SCHEMA = "https://neuronmonkey.io/schema/result-v2.json";

    private ResultCodec() {
    }

    /**
     * Writes {@code result.json} and the arrays into {@code folder}.
     *
     * @param result the result
     * @param folder the step's (partial) output folder, existing
     * @param header step facts written first (step id, analyzer, plugin, data, layers, seconds)
     * @return the JSON tree as written
     */
    public static Map<String, Object> write(AnalysisResult result, Path folder, Map<String, Object> header) {
        Writer w = new Writer(folder);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("schema", SCHEMA);
        json.put("schemaVersion", SCHEMA_VERSION);
        json.putAll(header);
        json.put("summary", result.summary());
        List<Object> parts = new ArrayList<>();
        for (ResultPart p : result.parts()) {
            parts.add(w.part(p));
        }
        json.put("parts", parts);
        List<Object> findings = new ArrayList<>();
        for (Finding f : result.findings()) {
            findings.add(finding(f));
        }
        json.put("findings", findings);
        Map<String, Object> extra = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> a : result.arrays().entrySet()) {
            Tensor t = a.getValue();
            String[] dims = new String[t.rank()];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = "d" + i;
            }
            extra.put(a.getKey(), w.array(a.getKey(), NdArray.of(t, dims)));
        }
        json.put("arrays", extra);
        Json.write(folder.resolve("result.json"), json);
        return json;
    }

    /**
     * @param path a step folder or its {@code result.json}
     * @return the result as written
     * @throws OutputException when the file is missing, of another schema version, or malformed, naming the file
     */
    public static AnalysisResult read(Path path) {
        Path json = java.nio.file.Files.isDirectory(path) ? path.resolve("result.json") : path;
        if (!java.nio.file.Files.isRegularFile(json)) {
            throw new OutputException("no result at " + path + ": expected a step folder of a run, or its result.json");
        }
        Map<String, Object> file = Json.readMap(json);
        Object version = file.get("schemaVersion");
        if (version == null) {
            throw new OutputException(json + " was written by an earlier NeuronMonkey (result schema 1, no "
                    + "\"schemaVersion\"); this runtime reads schema " + SCHEMA_VERSION + ": run that step again");
        }
        if (!(version instanceof Number n) || n.intValue() != SCHEMA_VERSION) {
            throw new OutputException(json + " has result schema " + version + "; this runtime reads schema "
                    + SCHEMA_VERSION + " only");
        }
        try {
            Reader r = new Reader(json.getParent());
            List<ResultPart> parts = new ArrayList<>();
            for (Object p : list(file.get("parts"))) {
                parts.add(r.part(map(p)));
            }
            List<Finding> findings = new ArrayList<>();
            for (Object f : list(file.get("findings"))) {
                findings.add(finding(map(f)));
            }
            Map<String, Tensor> arrays = new LinkedHashMap<>();
            for (Map.Entry<String, Object> e : map(file.getOrDefault("arrays", Map.of())).entrySet()) {
                arrays.put(e.getKey(), r.array(e.getValue()).data());
            }
            return AnalysisResult.of(map(file.getOrDefault("summary", Map.of())), arrays, parts, findings);
        } catch (RuntimeException e) {
            if (e instanceof OutputException) {
                throw e;
            }
            throw new OutputException("malformed result " + json + ": " + e.getMessage(), e);
        }
    }

    // ---- writing ----------------------------------------------------------------------------------------------

    /** Names array files uniquely within one folder. */
    private static final class Writer {
        private final Path folder;
        private final Set<String> used = new HashSet<>();

        Writer(Path folder) {
            this.folder = folder;
        }

        Map<String, Object> array(String name, NdArray a) {
            if (a == null) {
                return null;
            }
            String base = name.replaceAll("[^A-Za-z0-9_.-]", "_");
            String file = base + ".npy";
            for (int i = 2; !used.add(file); i++) {
                file = base + "-" + i + ".npy";
            }
            AtomicFiles.write(folder.resolve(file), Npy.encode(a.data()));
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("file", file);
            m.put("shape", a.data().shape());
            m.put("dtype", a.data().dtype().name().toLowerCase(Locale.ROOT));
            m.put("dims", a.dims());
            return m;
        }

        Map<String, Object> part(ResultPart p) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kind", p.kind());
            m.put("id", p.id());
            m.put("title", p.title());
            String base = p.id() + ".";
            if (p instanceof NeuronTable t) {
                m.put("layer", t.layer());
                m.put("neurons", t.neurons());
                m.put("description", t.description());
                List<Object> cols = new ArrayList<>();
                for (NeuronTable.Column c : t.columns()) {
                    Map<String, Object> cm = new LinkedHashMap<>();
                    cm.put("name", c.name());
                    cm.put("unit", c.unit());
                    cm.put("description", c.description());
                    cm.put("values", array(base + c.name(), c.values()));
                    cm.put("low", array(base + c.name() + "-low", c.low()));
                    cm.put("high", array(base + c.name() + "-high", c.high()));
                    cols.add(cm);
                }
                m.put("columns", cols);
                m.put("tags", t.tags().stream().map(g -> {
                    Map<String, Object> gm = new LinkedHashMap<>();
                    gm.put("name", g.name());
                    gm.put("description", g.description());
                    gm.put("neurons", g.neurons());
                    return (Object) gm;
                }).toList());
            } else if (p instanceof Ranking r) {
                m.put("score", r.score());
                m.put("description", r.description());
                List<Object> entries = new ArrayList<>();
                for (Ranking.Entry e : r.entries()) {
                    Map<String, Object> em = new LinkedHashMap<>();
                    em.put("layer", e.neuron().layer());
                    em.put("neuron", e.neuron().neuron());
                    em.put("score", e.score());
                    em.put("interval", interval(e.interval()));
                    em.put("p", e.p());
                    em.put("q", e.q());
                    em.put("note", e.note());
                    entries.add(em);
                }
                m.put("entries", entries);
            } else if (p instanceof ExampleSet s) {
                m.put("layer", s.layer());
                m.put("order", s.order());
                m.put("value", s.value());
                m.put("classNames", s.classNames());
                m.put("inputs", array(base + "inputs", s.inputs()));
                List<Object> neurons = new ArrayList<>();
                for (ExampleSet.NeuronExamples ne : s.neurons()) {
                    List<Object> ex = new ArrayList<>();
                    for (ExampleSet.Example e : ne.examples()) {
                        Map<String, Object> em = new LinkedHashMap<>();
                        em.put("rank", e.rank());
                        em.put("index", e.index());
                        em.put("id", e.exampleId());
                        em.put("value", e.value());
                        em.put("label", e.label());
                        em.put("metadata", e.metadata());
                        em.put("position", e.position());
                        em.put("region", e.region());
                        if (e.text() != null) {
                            ExampleSet.TextContext t = e.text();
                            List<Double> values = new ArrayList<>();
                            for (float v : t.values()) {
                                values.add((double) v);
                            }
                            em.put("text", Map.of("pieces", t.pieces(), "values", values, "focus", t.focus(),
                                    "first", t.first()));
                        }
                        ex.add(em);
                    }
                    neurons.add(Map.of("neuron", ne.neuron(), "examples", ex));
                }
                m.put("neurons", neurons);
            } else if (p instanceof Matrix x) {
                m.put("rows", axis(x.rows()));
                m.put("cols", axis(x.cols()));
                m.put("values", array(base + "values", x.values()));
                m.put("unit", x.unit());
                m.put("layer", x.layer());
                m.put("description", x.description());
            } else if (p instanceof Series s) {
                m.put("x", s.x());
                m.put("y", s.y());
                m.put("description", s.description());
                List<Object> curves = new ArrayList<>();
                int i = 0;
                for (Series.Curve c : s.curves()) {
                    Map<String, Object> cm = new LinkedHashMap<>();
                    String cb = base + "curve" + i++;
                    cm.put("name", c.name());
                    cm.put("x", array(cb + "-x", c.x()));
                    cm.put("y", array(cb + "-y", c.y()));
                    cm.put("low", array(cb + "-low", c.low()));
                    cm.put("high", array(cb + "-high", c.high()));
                    curves.add(cm);
                }
                m.put("curves", curves);
            } else if (p instanceof InputMaps im) {
                m.put("target", im.target());
                m.put("description", im.description());
                m.put("exampleIds", im.exampleIds());
                m.put("maps", array(base + "maps", im.maps()));
                m.put("inputs", array(base + "inputs", im.inputs()));
            }
            return m;
        }
    }

    private static Map<String, Object> axis(Matrix.Axis a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", a.name());
        m.put("labels", a.labels());
        m.put("edges", a.edges());
        return m;
    }

    private static Map<String, Object> interval(Interval i) {
        if (i == null) {
            return null;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("low", i.low());
        m.put("high", i.high());
        m.put("level", i.level());
        m.put("method", i.method());
        return m;
    }

    private static Map<String, Object> finding(Finding f) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", f.id());
        m.put("severity", f.severity().name().toLowerCase(Locale.ROOT));
        m.put("claim", f.claim());
        if (f.strength() != null) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("measure", f.strength().measure());
            s.put("value", f.strength().value());
            s.put("interval", interval(f.strength().interval()));
            s.put("q", f.strength().q());
            m.put("strength", s);
        } else {
            m.put("strength", null);
        }
        m.put("neurons", f.neurons().stream().map(n -> (Object) Map.of("layer", n.layer(), "neuron", n.neuron())).toList());
        m.put("evidence", f.evidence());
        return m;
    }

    // ---- reading ----------------------------------------------------------------------------------------------

    /** Reads array references relative to one folder. */
    private static final class Reader {
        private final Path folder;

        Reader(Path folder) {
            this.folder = folder;
        }

        NdArray array(Object ref) {
            if (ref == null) {
                return null;
            }
            Map<String, Object> m = map(ref);
            String file = str(m.get("file"));
            if (file.contains("/") || file.contains("\\") || file.startsWith(".")) {
                throw new OutputException("array file name '" + file + "' must be a plain file name in " + folder);
            }
            Tensor t = Npy.read(folder.resolve(file));
            List<String> dims = list(m.get("dims")).stream().map(String::valueOf).toList();
            return new NdArray(t, dims);
        }

        ResultPart part(Map<String, Object> m) {
            String kind = str(m.get("kind"));
            String id = str(m.get("id"));
            String title = str(m.get("title"));
            switch (kind) {
                case "neuron-table" -> {
                    List<NeuronTable.Column> cols = new ArrayList<>();
                    for (Object o : list(m.get("columns"))) {
                        Map<String, Object> c = map(o);
                        cols.add(new NeuronTable.Column(str(c.get("name")), str(c.get("unit")), str(c.get("description")),
                                array(c.get("values")), array(c.get("low")), array(c.get("high"))));
                    }
                    List<NeuronTable.Tag> tags = new ArrayList<>();
                    for (Object o : list(m.get("tags"))) {
                        Map<String, Object> g = map(o);
                        tags.add(new NeuronTable.Tag(str(g.get("name")), str(g.get("description")), ints(g.get("neurons"))));
                    }
                    return new NeuronTable(id, title, str(m.get("layer")), (int) num(m.get("neurons")), cols, tags,
                            str(m.get("description")));
                }
                case "ranking" -> {
                    List<Ranking.Entry> entries = new ArrayList<>();
                    for (Object o : list(m.get("entries"))) {
                        Map<String, Object> e = map(o);
                        entries.add(new Ranking.Entry(new NeuronRef(str(e.get("layer")), (int) num(e.get("neuron"))),
                                num(e.get("score")), interval(e.get("interval")), optNum(e.get("p")), optNum(e.get("q")),
                                str(e.get("note"))));
                    }
                    return new Ranking(id, title, str(m.get("score")), entries, str(m.get("description")));
                }
                case "example-set" -> {
                    List<ExampleSet.NeuronExamples> neurons = new ArrayList<>();
                    for (Object o : list(m.get("neurons"))) {
                        Map<String, Object> ne = map(o);
                        List<ExampleSet.Example> ex = new ArrayList<>();
                        for (Object eo : list(ne.get("examples"))) {
                            Map<String, Object> e = map(eo);
                            Double label = optNum(e.get("label"));
                            ex.add(new ExampleSet.Example((int) num(e.get("rank")), (long) num(e.get("index")),
                                    str(e.get("id")), num(e.get("value")), label == null ? null : label.intValue(),
                                    map(e.getOrDefault("metadata", Map.of())), intArray(e.get("position")),
                                    intArray(e.get("region")), textContext(e.get("text"))));
                        }
                        neurons.add(new ExampleSet.NeuronExamples((int) num(ne.get("neuron")), ex));
                    }
                    return new ExampleSet(id, title, str(m.get("layer")), str(m.get("order")), str(m.get("value")),
                            neurons, array(m.get("inputs")), list(m.get("classNames")).stream().map(String::valueOf).toList());
                }
                case "matrix" -> {
                    return new Matrix(id, title, axis(m.get("rows")), axis(m.get("cols")), array(m.get("values")),
                            str(m.get("unit")), m.get("layer") == null ? null : str(m.get("layer")), str(m.get("description")));
                }
                case "series" -> {
                    List<Series.Curve> curves = new ArrayList<>();
                    for (Object o : list(m.get("curves"))) {
                        Map<String, Object> c = map(o);
                        curves.add(new Series.Curve(str(c.get("name")), array(c.get("x")), array(c.get("y")),
                                array(c.get("low")), array(c.get("high"))));
                    }
                    return new Series(id, title, str(m.get("x")), str(m.get("y")), curves, str(m.get("description")));
                }
                case "input-maps" -> {
                    return new InputMaps(id, title, str(m.get("target")),
                            list(m.get("exampleIds")).stream().map(String::valueOf).toList(), array(m.get("maps")),
                            array(m.get("inputs")), str(m.get("description")));
                }
                default -> throw new OutputException("unknown result part kind '" + kind + "' (part '" + id
                        + "'); this runtime reads neuron-table, ranking, example-set, matrix, series, input-maps");
            }
        }
    }

    private static Matrix.Axis axis(Object o) {
        Map<String, Object> m = map(o);
        Object edges = m.get("edges");
        double[] e = edges == null ? null : list(edges).stream().mapToDouble(ResultCodec::num).toArray();
        return new Matrix.Axis(str(m.get("name")), list(m.get("labels")).stream().map(String::valueOf).toList(), e);
    }

    private static Interval interval(Object o) {
        if (o == null) {
            return null;
        }
        Map<String, Object> m = map(o);
        return new Interval(num(m.get("low")), num(m.get("high")), num(m.get("level")), str(m.get("method")));
    }

    private static Finding finding(Map<String, Object> m) {
        Finding.Strength strength = null;
        if (m.get("strength") != null) {
            Map<String, Object> s = map(m.get("strength"));
            strength = new Finding.Strength(str(s.get("measure")), num(s.get("value")), interval(s.get("interval")),
                    optNum(s.get("q")));
        }
        List<NeuronRef> neurons = new ArrayList<>();
        for (Object o : list(m.get("neurons"))) {
            Map<String, Object> n = map(o);
            neurons.add(new NeuronRef(str(n.get("layer")), (int) num(n.get("neuron"))));
        }
        return new Finding(str(m.get("id")), Finding.Severity.valueOf(str(m.get("severity")).toUpperCase(Locale.ROOT)),
                str(m.get("claim")), strength, neurons, list(m.get("evidence")).stream().map(String::valueOf).toList());
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        if (o instanceof Map<?, ?> m) {
            return (Map<String, Object>) m;
        }
        throw new IllegalArgumentException("expected an object, found " + o);
    }

    static List<Object> list(Object o) {
        if (o == null) {
            return List.of();
        }
        if (o instanceof List<?> l) {
            return new ArrayList<>(l);
        }
        throw new IllegalArgumentException("expected a list, found " + o);
    }

    private static ExampleSet.TextContext textContext(Object o) {
        if (o == null) {
            return null;
        }
        Map<String, Object> t = map(o);
        List<Object> values = list(t.get("values"));
        float[] v = new float[values.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) num(values.get(i));
        }
        return new ExampleSet.TextContext(list(t.get("pieces")).stream().map(String::valueOf).toList(), v,
                (int) num(t.get("focus")), (int) num(t.get("first")));
    }

    private static String str(Object o) {
        return o == null ? "" : String.valueOf(o);
    }

    /** A number as Jackson wrote it: a JSON number, or one of the strings "NaN", "Infinity", "-Infinity". */
    static double num(Object o) {
        if (o instanceof Number n) {
            return n.doubleValue();
        }
        if (o instanceof String s) {
            return switch (s) {
                case "NaN" -> Double.NaN;
                case "Infinity" -> Double.POSITIVE_INFINITY;
                case "-Infinity" -> Double.NEGATIVE_INFINITY;
                default -> throw new IllegalArgumentException("expected a number, found \"" + s + "\"");
            };
        }
        throw new IllegalArgumentException("expected a number, found " + o);
    }

    private static Double optNum(Object o) {
        return o == null ? null : num(o);
    }

    private static List<Integer> ints(Object o) {
        return list(o).stream().map(x -> (int) num(x)).toList();
    }

    private static int[] intArray(Object o) {
        return o == null ? null : list(o).stream().mapToInt(x -> (int) num(x)).toArray();
    }
}
