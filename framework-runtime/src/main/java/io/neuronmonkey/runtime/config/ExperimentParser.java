package io.neuronmonkey.runtime.config;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.runtime.engine.EngineSpec;
import io.neuronmonkey.runtime.store.RunFolder;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Reads an experiment (or training) file into an {@link ExperimentConfig}, checking its structure: known keys,
 * required keys, types, unique step ids, references between steps and data sets. Every problem is collected.
 */
public final class ExperimentParser {

    static final List<String> TOP_KEYS = List.of("experiment", "description", "seed", "batchSize", "plugins", "model", "data", "steps", "trainer", "engine");
    static final List<String> PLUGIN_KEYS = List.of("id", "version", "sha256");
    private static final Pattern SHA256 = Pattern.compile("[0-9a-fA-F]{64}");
    static final List<String> DATA_KEYS = List.of("source", "params");
    static final List<String> STEP_KEYS = List.of("id", "analyzer", "visualizer", "data", "layers", "params", "inputs", "description");
    static final List<String> TRAINER_KEYS = List.of("type", "output", "params");
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    /** Longest experiment name, data set name or step id: they name folders, and file systems limit names. */
    public static final int MAX_ID_LENGTH = 100;
    /** Largest batchSize: examples per model run. */
    public static final int MAX_BATCH_SIZE = 65536;
    /** Largest experiment file read. */
    public static final long MAX_FILE_BYTES = 2L * 1024 * 1024;

    private ExperimentParser() {
    }

    /**
     * Reads and structurally checks an experiment file.
     *
     * @throws ConfigException when the file cannot be read or parsed, or has any structural problem
     */
    public static ExperimentConfig parse(Path file) {
        return read(file).requireValid();
    }

    /** @see #parse(Path) */
    public static ExperimentConfig parse(Path file, String text) {
        return read(file, text).requireValid();
    }

    /**
     * Reads an experiment file and checks its structure, keeping the problems found in
     * {@link ExperimentConfig#problems()} instead of throwing, so that later checks report theirs in the same round.
     *
     * @throws ConfigException only when there is nothing to check: the file is missing, unreadable, too large, not
     *                         UTF-8, not YAML, or not a mapping
     */
    public static ExperimentConfig read(Path file) {
        return read(file, text(file));
    }

    /** The file's text, decoded as UTF-8; a byte that is not UTF-8 is named by offset, line and column. */
    static String text(Path file) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_FILE_BYTES) {
                throw new ConfigException("experiment file " + file.toAbsolutePath() + " is " + String.format(java.util.Locale.ROOT, "%,d", size)
                        + " bytes; experiment files are read up to " + String.format(java.util.Locale.ROOT, "%,d", MAX_FILE_BYTES) + " bytes (2 MiB)");
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new ConfigException("experiment file not found: " + file.toAbsolutePath());
        } catch (IOException e) {
            throw new ConfigException("cannot read experiment file " + file.toAbsolutePath() + ": " + e.getMessage());
        }
        return decode(bytes, file.toAbsolutePath().toString());
    }

    /**
     * @param bytes the file's content
     * @param label the file, for messages
     * @return the text
     * @throws ConfigException naming the first byte that is not UTF-8: offset, line and column
     */
    public static String decode(byte[] bytes, String label) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length + 1);
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            int offset = in.position();
            int line = 1;
            int lineStart = 0;
            for (int i = 0; i < offset; i++) {
                if (bytes[i] == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            String utf16 = bytes.length >= 2 && (bytes[0] == (byte) 0xFF && bytes[1] == (byte) 0xFE
                    || bytes[0] == (byte) 0xFE && bytes[1] == (byte) 0xFF)
                    ? " (it starts with a UTF-16 byte order mark: it was saved as UTF-16)" : "";
            throw new ConfigException(label + ": not UTF-8 text: byte 0x" + String.format("%02X", bytes[offset] & 0xff)
                    + " at offset " + offset + " (line " + line + ", col " + (offset - lineStart + 1) + ") is not valid UTF-8"
                    + utf16 + "; experiment files must be saved as UTF-8");
        }
        out.flip();
        return out.toString();
    }

    /** @see #read(Path) */
    public static ExperimentConfig read(Path file, String text) {
        Problems problems = new Problems();
        Node root = Yaml.compose(text, file.toString()).orElse(null);
        if (!(root instanceof MappingNode top)) {
            problems.add("", root == null ? Position.START : Position.of(root), "an experiment file is a mapping with keys "
                    + String.join(", ", TOP_KEYS) + "; found " + (root == null ? "an empty file" : Yaml.kind(root)));
            problems.throwIfAny(file);
            throw new IllegalStateException();
        }
        Map<String, NodeTuple> e = Yaml.entries(top, "", problems);
        unknownKeys(e, TOP_KEYS, "", "top-level key", problems);

        String name = requiredString(e, "experiment", "", top, problems, true);
        long seed = 0;
        if (e.containsKey("seed")) {
            seed = integer(e.get("seed").getValueNode(), "seed", problems, Long.MIN_VALUE, Long.MAX_VALUE, 0);
        }
        int batchSize = 256;
        if (e.containsKey("batchSize")) {
            batchSize = (int) integer(e.get("batchSize").getValueNode(), "batchSize", problems, 1, MAX_BATCH_SIZE, 256);
        }

        List<ExperimentConfig.PluginPin> plugins = new ArrayList<>();
        if (e.containsKey("plugins")) {
            Node pn = e.get("plugins").getValueNode();
            if (pn instanceof SequenceNode seq) {
                Set<String> ids = new HashSet<>();
                for (int i = 0; i < seq.getValue().size(); i++) {
                    pin(i, seq.getValue().get(i), ids, problems).ifPresent(plugins::add);
                }
            } else if (!Yaml.isNull(pn)) {
                problems.add("plugins", pn, "must be a list of plugins the experiment needs ('- {id: ..., version: \"^1.2\", "
                        + "sha256: ...}'), found " + Yaml.kind(pn));
            }
        }

        Optional<ExperimentConfig.ModelSpec> model = Optional.empty();
        if (e.containsKey("model")) {
            model = model(e.get("model").getValueNode(), problems);
        }

        Map<String, ExperimentConfig.DataSpec> data = new LinkedHashMap<>();
        if (e.containsKey("data")) {
            Node dn = e.get("data").getValueNode();
            if (dn instanceof MappingNode dm) {
                for (Map.Entry<String, NodeTuple> d : Yaml.entries(dm, "data", problems).entrySet()) {
                    dataSet(d.getKey(), d.getValue(), problems).ifPresent(ds -> data.put(ds.name(), ds));
                }
            } else if (!Yaml.isNull(dn)) {
                problems.add("data", dn, "must be a mapping of data set names to {source, params}, found " + Yaml.kind(dn));
            }
        }

        List<ExperimentConfig.StepSpec> steps = new ArrayList<>();
        if (e.containsKey("steps")) {
            Node sn = e.get("steps").getValueNode();
            if (sn instanceof SequenceNode seq) {
                Set<String> ids = new HashSet<>();
                for (int i = 0; i < seq.getValue().size(); i++) {
                    step(i, seq.getValue().get(i), data.keySet(), ids, problems).ifPresent(steps::add);
                }
            } else if (!Yaml.isNull(sn)) {
                problems.add("steps", sn, "must be a list of steps ('- id: ...'), found " + Yaml.kind(sn));
            }
        }

        if (e.containsKey("engine")) {
            engine(e.get("engine").getValueNode(), problems);
        }

        Optional<ExperimentConfig.TrainerSpec> trainer = Optional.empty();
        if (e.containsKey("trainer")) {
            trainer = trainer(e.get("trainer").getValueNode(), problems);
        }
        if (!e.containsKey("steps") && !e.containsKey("trainer") && name != null) {
            problems.add("steps", top, "an experiment needs 'steps:' (or 'trainer:' in a training file)");
        }
        return new ExperimentConfig(file, text, name, seed, batchSize, model, Map.copyOf(data), List.copyOf(steps),
                trainer, List.copyOf(plugins), Yaml.plain(root), problems.list());
    }

    /** One entry of {@code plugins:}: {@code id} required, {@code version} a version range, {@code sha256} 64 hex digits. */
    private static Optional<ExperimentConfig.PluginPin> pin(int index, Node node, Set<String> ids, Problems problems) {
        String path = "plugins[" + index + "]";
        if (!(node instanceof MappingNode m)) {
            problems.add(path, node, "a pinned plugin is a mapping {id, version, sha256} (version and sha256 optional), found "
                    + Yaml.kind(node));
            return Optional.empty();
        }
        Map<String, NodeTuple> e = Yaml.entries(m, path, problems);
        unknownKeys(e, PLUGIN_KEYS, path, "key", problems);
        String id = requiredString(e, "id", path, m, problems, true);
        if (id != null && !ids.add(id)) {
            problems.add(path + ".id", e.get("id").getValueNode(), "plugin '" + id + "' is pinned twice; pin each plugin once");
        }
        String version = null;
        Node versionNode = null;
        if (e.containsKey("version")) {
            versionNode = e.get("version").getValueNode();
            version = scalar(versionNode, path + ".version", problems);
            if (version != null && !validRange(version)) {
                problems.add(path + ".version", versionNode, "must be a version range like \"^1.2\", \"~1.2.3\", \">=1.0.0 & <2.0.0\" "
                        + "or \"1.2.3\", found '" + version + "'");
                version = null;
            }
        }
        String sha256 = null;
        Node sha256Node = null;
        if (e.containsKey("sha256")) {
            sha256Node = e.get("sha256").getValueNode();
            sha256 = scalar(sha256Node, path + ".sha256", problems);
            if (sha256 != null && !SHA256.matcher(sha256).matches()) {
                problems.add(path + ".sha256", sha256Node, "must be the bundle's SHA-256, 64 hex digits (as in its .sha256 file or "
                        + "'neuronmonkey plugins info ID'), found '" + (sha256.length() > 80 ? sha256.substring(0, 80) + "..." : sha256) + "'");
                sha256 = null;
            } else if (sha256 != null) {
                sha256 = sha256.toLowerCase(java.util.Locale.ROOT);
            }
        }
        if (id == null) {
            return Optional.empty();
        }
        return Optional.of(new ExperimentConfig.PluginPin(index, id, version, sha256, m, versionNode, sha256Node));
    }

    /** Whether a version range parses as the plugin manager reads ranges. */
    private static boolean validRange(String range) {
        if (range.isBlank()) {
            return false;
        }
        try {
            new org.pf4j.DefaultVersionManager().checkVersionConstraint("0.0.0", range);
            return true;
        } catch (RuntimeException ex) {
            return false;
        }
    }

    private static Optional<ExperimentConfig.ModelSpec> model(Node node, Problems problems) {
        if (!(node instanceof MappingNode m)) {
            problems.add("model", node, "must be a mapping with 'backend' and 'path', found " + Yaml.kind(node));
            return Optional.empty();
        }
        Map<String, NodeTuple> e = Yaml.entries(m, "model", problems);
        String backend = requiredString(e, "backend", "model", m, problems, false);
        String path = requiredString(e, "path", "model", m, problems, false);
        if (backend == null || path == null) {
            return Optional.empty();
        }
        return Optional.of(new ExperimentConfig.ModelSpec(backend, e.get("backend").getValueNode(), path,
                e.get("path").getValueNode(), m));
    }

    private static Optional<ExperimentConfig.DataSpec> dataSet(String name, NodeTuple t, Problems problems) {
        String path = "data." + name;
        if (!ID.matcher(name).matches()) {
            problems.add(path, t.getKeyNode(), "data set names are letters, digits, '.', '_' or '-', found '" + name + "'");
        } else if (name.length() > MAX_ID_LENGTH) {
            problems.add(path, t.getKeyNode(), "data set names are at most " + MAX_ID_LENGTH + " characters, found "
                    + name.length());
        }
        if (!(t.getValueNode() instanceof MappingNode m)) {
            problems.add(path, t.getValueNode(), "must be a mapping with 'source' and 'params', found " + Yaml.kind(t.getValueNode()));
            return Optional.empty();
        }
        Map<String, NodeTuple> e = Yaml.entries(m, path, problems);
        unknownKeys(e, DATA_KEYS, path, "key", problems);
        String source = requiredString(e, "source", path, m, problems, false);
        if (source == null) {
            return Optional.empty();
        }
        Node params = e.containsKey("params") ? e.get("params").getValueNode() : null;
        return Optional.of(new ExperimentConfig.DataSpec(name, source, e.get("source").getValueNode(), params, m));
    }

    private static Optional<ExperimentConfig.StepSpec> step(int index, Node node, Set<String> dataNames, Set<String> ids,
                                                            Problems problems) {
        String path = "steps[" + index + "]";
        if (!(node instanceof MappingNode m)) {
            problems.add(path, node, "a step is a mapping with 'id' and 'analyzer' or 'visualizer', found " + Yaml.kind(node));
            return Optional.empty();
        }
        Map<String, NodeTuple> e = Yaml.entries(m, path, problems);
        unknownKeys(e, STEP_KEYS, path, "step key", problems);
        String id = requiredString(e, "id", path, m, problems, true);
        if (id != null && !ids.add(id)) {
            problems.add(path + ".id", e.get("id").getValueNode(), "duplicate step id '" + id + "'; step ids name output folders and must be unique");
        }
        if (id != null) {
            RunFolder.reservedName(id).ifPresent(why -> problems.add(path + ".id", e.get("id").getValueNode(), why));
        }
        boolean isAnalyzer = e.containsKey("analyzer");
        boolean isVisualizer = e.containsKey("visualizer");
        if (isAnalyzer == isVisualizer) {
            problems.add(path, m, isAnalyzer ? "a step has either 'analyzer' or 'visualizer', not both"
                    : "a step needs 'analyzer: <name>' or 'visualizer: <name>'");
            return Optional.empty();
        }
        ExperimentConfig.Kind kind = isAnalyzer ? ExperimentConfig.Kind.ANALYZER : ExperimentConfig.Kind.VISUALIZER;
        String extension = requiredString(e, kind.key(), path, m, problems, false);

        String data = null;
        Node dataNode = null;
        if (e.containsKey("data")) {
            dataNode = e.get("data").getValueNode();
            data = scalar(dataNode, path + ".data", problems);
            if (data != null && !dataNames.contains(data)) {
                problems.add(path + ".data", dataNode, Names.unknown("data set", data, dataNames) + " (declare it under 'data:')");
            }
        }
        List<String> layers = new ArrayList<>();
        List<Node> layerNodes = new ArrayList<>();
        if (e.containsKey("layers")) {
            stringList(e.get("layers").getValueNode(), path + ".layers", problems, layers, layerNodes);
            duplicates(layers, layerNodes, path + ".layers", "layer", problems);
        }
        List<String> inputs = new ArrayList<>();
        List<Node> inputNodes = new ArrayList<>();
        if (e.containsKey("inputs")) {
            stringList(e.get("inputs").getValueNode(), path + ".inputs", problems, inputs, inputNodes);
            duplicates(inputs, inputNodes, path + ".inputs", "input", problems);
            for (int i = 0; i < inputs.size(); i++) {
                if (!ids.contains(inputs.get(i)) || inputs.get(i).equals(id)) {
                    problems.add(path + ".inputs[" + i + "]", inputNodes.get(i),
                            "'" + inputs.get(i) + "' is not an earlier step; inputs name steps above this one"
                                    + (ids.isEmpty() ? "" : " (" + String.join(", ", ids.stream().filter(s -> !s.equals(id)).sorted().toList()) + ")"));
                }
            }
        }
        Node params = e.containsKey("params") ? e.get("params").getValueNode() : null;
        if (id == null || extension == null) {
            return Optional.empty();
        }
        return Optional.of(new ExperimentConfig.StepSpec(index, id, kind, extension, e.get(kind.key()).getValueNode(),
                data, dataNode, List.copyOf(layers), List.copyOf(layerNodes), params, List.copyOf(inputs),
                List.copyOf(inputNodes), m));
    }

    /** {@code engine:} where the passes run: its keys, its type and the values {@link EngineSpec#ofConfig} checks. */
    private static void engine(Node node, Problems problems) {
        if (!(node instanceof MappingNode m)) {
            problems.add("engine", node, "must be a mapping like {type: spark, master: \"local[2]\"}, found " + Yaml.kind(node));
            return;
        }
        Map<String, NodeTuple> e = Yaml.entries(m, "engine", problems);
        unknownKeys(e, EngineSpec.KEYS, "engine", "key", problems);
        String type = requiredString(e, "type", "engine", m, problems, false);
        if (type != null && !EngineSpec.TYPES.contains(type)) {
            problems.add("engine.type", e.get("type").getValueNode(), Names.unknown("engine", type, EngineSpec.TYPES));
        } else if (type != null && e.keySet().stream().allMatch(EngineSpec.KEYS::contains)) {
            try {
                EngineSpec.ofConfig(Yaml.plain(m));
            } catch (ConfigException bad) {
                problems.add("engine", m, bad.getMessage());
            }
        }
    }

    private static Optional<ExperimentConfig.TrainerSpec> trainer(Node node, Problems problems) {
        if (!(node instanceof MappingNode m)) {
            problems.add("trainer", node, "must be a mapping with 'type', 'output' and 'params', found " + Yaml.kind(node));
            return Optional.empty();
        }
        Map<String, NodeTuple> e = Yaml.entries(m, "trainer", problems);
        unknownKeys(e, TRAINER_KEYS, "trainer", "key", problems);
        String type = requiredString(e, "type", "trainer", m, problems, false);
        String output = requiredString(e, "output", "trainer", m, problems, false);
        if (type == null || output == null) {
            return Optional.empty();
        }
        Node params = e.containsKey("params") ? e.get("params").getValueNode() : null;
        return Optional.of(new ExperimentConfig.TrainerSpec(type, e.get("type").getValueNode(), output,
                e.get("output").getValueNode(), params));
    }

    private static void unknownKeys(Map<String, NodeTuple> e, List<String> known, String path, String what, Problems problems) {
        for (Map.Entry<String, NodeTuple> k : e.entrySet()) {
            if (!known.contains(k.getKey())) {
                problems.add(Yaml.join(path, k.getKey()), k.getValue().getKeyNode(), Names.unknown(what, k.getKey(), known));
            }
        }
    }

    private static String requiredString(Map<String, NodeTuple> e, String key, String path, Node parent, Problems problems,
                                         boolean idLike) {
        String p = Yaml.join(path, key);
        NodeTuple t = e.get(key);
        if (t == null) {
            problems.add(p, parent, "'" + key + "' is required");
            return null;
        }
        String v = scalar(t.getValueNode(), p, problems);
        if (v != null && v.isBlank()) {
            problems.add(p, t.getValueNode(), "must not be empty");
            return null;
        }
        if (v != null && idLike && !ID.matcher(v).matches()) {
            problems.add(p, t.getValueNode(), "must be letters, digits, '.', '_' or '-' (it names a folder), found '" + v + "'");
            return null;
        }
        if (v != null && idLike && v.length() > MAX_ID_LENGTH) {
            problems.add(p, t.getValueNode(), "must be at most " + MAX_ID_LENGTH + " characters (it names a folder), found "
                    + v.length() + " characters ('" + v.substring(0, 20) + "...')");
            return null;
        }
        return v;
    }

    private static String scalar(Node node, String path, Problems problems) {
        if (node instanceof ScalarNode s && !Yaml.isNull(s)) {
            return s.getValue();
        }
        problems.add(path, node, "must be a single value, found " + Yaml.kind(node));
        return null;
    }

    private static long integer(Node node, String path, Problems problems, long min, long max, long fallback) {
        String range = "an integer between " + min + " and " + max;
        if (node instanceof ScalarNode s && !Yaml.isNull(s)) {
            String text = s.getValue().trim();
            try {
                BigInteger v = new BigInteger(text.startsWith("+") ? text.substring(1) : text);
                if (v.compareTo(BigInteger.valueOf(min)) < 0 || v.compareTo(BigInteger.valueOf(max)) > 0) {
                    problems.add(path, node, "must be " + range + ", found " + v);
                    return fallback;
                }
                return v.longValueExact();
            } catch (NumberFormatException | ArithmeticException ex) {
                // fall through
            }
        }
        problems.add(path, node, "must be " + range + ", found " + Yaml.kind(node));
        return fallback;
    }

    /** Reports every entry that repeats an earlier one, at the repeat's position. */
    private static void duplicates(List<String> values, List<Node> nodes, String path, String what, Problems problems) {
        Map<String, Integer> first = new LinkedHashMap<>();
        for (int i = 0; i < values.size(); i++) {
            Integer j = first.putIfAbsent(values.get(i), i);
            if (j != null) {
                problems.add(path + "[" + i + "]", nodes.get(i), what + " '" + values.get(i) + "' is listed twice (first at "
                        + path.substring(path.lastIndexOf('.') + 1) + "[" + j + "]); list each " + what + " once");
            }
        }
    }

    private static void stringList(Node node, String path, Problems problems, List<String> out, List<Node> nodes) {
        if (!(node instanceof SequenceNode seq)) {
            problems.add(path, node, "must be a list like [a, b], found " + Yaml.kind(node));
            return;
        }
        int i = 0;
        for (Node n : seq.getValue()) {
            String v = scalar(n, path + "[" + i++ + "]", problems);
            if (v != null) {
                out.add(v);
                nodes.add(n);
            }
        }
    }
}
