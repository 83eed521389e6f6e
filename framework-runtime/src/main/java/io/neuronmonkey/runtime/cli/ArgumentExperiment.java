package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.runtime.config.ConfigProblem;
import io.neuronmonkey.runtime.config.ConfigValidationException;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.config.Yaml;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * An experiment assembled from command-line arguments ({@code inspect --model PATH -P key=value}, {@code bench MODEL})
 * instead of a file the user wrote. It goes through the same parser, binder and checks as a file, but every problem
 * found is reported against the argument it came from ({@code --model PATH}, {@code -P key=value}, {@code --batch N}),
 * never against a file: there is none the user could open.
 *
 * <p>The document is written as flow YAML in which every value is quoted or explicitly tagged, so no argument can
 * change its structure; a {@code -P} value is read as YAML on its own first (so {@code -P preprocess={scale: 0.5}} and
 * {@code -P mean=[1,2,3]} work) and a syntax error in it names that argument.
 */
final class ArgumentExperiment {

    private static final Pattern PARAM_KEY = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** Where relative paths resolve and what the parser is told the document is; never shown to the user. */
    private static final Path BASE = Path.of("").toAbsolutePath().resolve("(command-line arguments)");

    private final String command;
    private final Map<String, Object> root = new LinkedHashMap<>();
    /** YAML path prefix of a part of the document -> the argument that part came from, as the user typed it. */
    private final Map<String, String> sources = new LinkedHashMap<>();
    private final List<String> argumentProblems = new ArrayList<>();

    /** @param command the command, for messages ("inspect") */
    ArgumentExperiment(String command) {
        this.command = command;
        root.put("experiment", command);
    }

    ArgumentExperiment set(String key, Object value, String argument) {
        root.put(key, value);
        sources.put(key, argument);
        return this;
    }

    /**
     * The {@code model:} section.
     *
     * @param backendArgument the argument that named the backend ("--backend tensorflow"), or a phrase for its default
     * @param path            the model path as given; relative paths resolve against the working folder
     * @param pathArgument    the argument that gave it ("--model models/x")
     * @param params          {@code -P} params: key to YAML text of the value
     */
    ArgumentExperiment model(String backend, String backendArgument, String path, String pathArgument, Map<String, String> params) {
        Map<String, Object> model = new LinkedHashMap<>();
        model.put("backend", backend);
        try {
            model.put("path", Path.of(path).toAbsolutePath().normalize().toString());
        } catch (InvalidPathException e) {
            throw new ConfigException(pathArgument + " - not a valid path: " + e.getMessage());
        }
        sources.put("model", pathArgument);
        sources.put("model.backend", backendArgument);
        sources.put("model.path", pathArgument);
        for (Map.Entry<String, String> p : params.entrySet()) {
            String key = p.getKey();
            String argument = "-P " + key + "=" + p.getValue();
            if (!PARAM_KEY.matcher(key).matches()) {
                argumentProblems.add(argument + " - a param name is letters, digits and '_', found '" + key + "'");
                continue;
            }
            if (key.equals("backend") || key.equals("path")) {
                argumentProblems.add(argument + " - give the model's " + key + " as " + (key.equals("path") ? "--model PATH" : "--backend NAME")
                        + ", not as a param");
                continue;
            }
            try {
                model.put(key, Yaml.compose(p.getValue(), argument).orElse(null));
            } catch (ConfigException e) {
                argumentProblems.add(e.getMessage());
                continue;
            }
            sources.put("model." + key, argument);
        }
        root.put("model", model);
        return this;
    }

    /** A data set {@code name} from {@code source}; each param is reported against the argument that set it. */
    ArgumentExperiment data(String name, String source, Map<String, Object> params, Map<String, String> paramArguments, String argument) {
        Map<String, Object> data = new LinkedHashMap<>();
        data.put(name, Map.of("source", source, "params", params));
        root.put("data", data);
        sources.put("data", argument);
        sources.put("data." + name + ".source", argument);
        for (Map.Entry<String, String> a : paramArguments.entrySet()) {
            sources.put("data." + name + ".params." + a.getKey(), a.getValue());
        }
        return this;
    }

    /** The argument a part of the document came from ("model" -> "--model x"). */
    String argument(String path) {
        return sources.get(path);
    }

    /**
     * The experiment the arguments describe. A malformed argument ({@code -P} that is not YAML, a bad name) is left
     * out of it and reported by {@link #translate} together with what the checks find in the rest.
     *
     * @throws ConfigException listing every problem, each against its argument, when the structure is wrong
     */
    ExperimentConfig config() {
        root.putIfAbsent("steps", List.of());
        StringBuilder text = new StringBuilder();
        emit(root, text);
        return translate(() -> ExperimentParser.parse(BASE, text.toString()), false);
    }

    /**
     * Runs {@code work} (a preparation of this experiment), reporting its validation problems against the
     * arguments, after the problems of malformed arguments. What {@code work} returned is closed when there were any.
     *
     * @throws ConfigException naming the arguments at fault
     */
    <T> T translate(Supplier<T> work) {
        return translate(work, true);
    }

    /** @param last whether this is the last check, after which problems of malformed arguments are reported anyway */
    private <T> T translate(Supplier<T> work, boolean last) {
        List<String> lines = new ArrayList<>(argumentProblems);
        T result;
        try {
            result = work.get();
        } catch (ConfigValidationException e) {
            for (ConfigProblem p : e.problems()) {
                lines.add(describe(p));
            }
            throw new ConfigException(header(lines.size()) + lines(lines));
        }
        if (last && !lines.isEmpty()) {
            if (result instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception ignored) {
                    // the arguments' problems are what is reported
                }
            }
            throw new ConfigException(header(lines.size()) + lines(lines));
        }
        return result;
    }

    /** One problem as "ARGUMENT - message", with the part of a structured value it concerns. */
    String describe(ConfigProblem p) {
        String path = p.path();
        String best = null;
        for (String prefix : sources.keySet()) {
            if (path.equals(prefix) || path.startsWith(prefix + ".") || path.startsWith(prefix + "[")) {
                if (best == null || prefix.length() > best.length()) {
                    best = prefix;
                }
            }
        }
        if (best == null) {
            return "the arguments - " + (path.isEmpty() ? "" : path + ": ") + p.message();
        }
        String rest = path.substring(best.length());
        String within = rest.isEmpty() ? "" : " (at " + best.substring(best.lastIndexOf('.') + 1) + rest + ")";
        return sources.get(best) + within + " - " + p.message();
    }

    private String header(int n) {
        return "neuronmonkey " + command + ": " + n + (n == 1 ? " error" : " errors") + " in the arguments";
    }

    private static String lines(List<String> lines) {
        StringBuilder sb = new StringBuilder();
        for (String l : lines) {
            sb.append(System.lineSeparator()).append("  ").append(l.replace("\n", "\n    "));
        }
        return sb.toString();
    }

    /** Flow YAML of plain values and composed nodes; strings are always double-quoted, other scalars carry their tag. */
    static void emit(Object value, StringBuilder out) {
        if (value == null) {
            out.append("null");
        } else if (value instanceof Node n) {
            emitNode(n, out);
        } else if (value instanceof String s) {
            quote(s, out);
        } else if (value instanceof Number || value instanceof Boolean) {
            out.append(value);
        } else if (value instanceof Map<?, ?> m) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                out.append(first ? "" : ", ");
                first = false;
                quote(String.valueOf(e.getKey()), out);
                out.append(": ");
                emit(e.getValue(), out);
            }
            out.append('}');
        } else if (value instanceof List<?> l) {
            out.append('[');
            for (int i = 0; i < l.size(); i++) {
                out.append(i == 0 ? "" : ", ");
                emit(l.get(i), out);
            }
            out.append(']');
        } else {
            throw new IllegalArgumentException("cannot write " + value.getClass().getName() + " as YAML");
        }
    }

    private static void emitNode(Node node, StringBuilder out) {
        if (node instanceof ScalarNode s) {
            Tag tag = s.getTag();
            if (Tag.NULL.equals(tag)) {
                out.append("null");
            } else if (Tag.INT.equals(tag) || Tag.FLOAT.equals(tag) || Tag.BOOL.equals(tag)) {
                // the tag keeps the type the value was read with, the quotes keep its text exactly as typed
                out.append(Tag.INT.equals(tag) ? "!!int " : Tag.FLOAT.equals(tag) ? "!!float " : "!!bool ");
                quote(s.getValue(), out);
            } else {
                quote(s.getValue(), out);
            }
        } else if (node instanceof SequenceNode seq) {
            out.append('[');
            for (int i = 0; i < seq.getValue().size(); i++) {
                out.append(i == 0 ? "" : ", ");
                emitNode(seq.getValue().get(i), out);
            }
            out.append(']');
        } else if (node instanceof MappingNode map) {
            out.append('{');
            boolean first = true;
            for (NodeTuple t : map.getValue()) {
                out.append(first ? "" : ", ");
                first = false;
                emitNode(t.getKeyNode(), out);
                out.append(": ");
                emitNode(t.getValueNode(), out);
            }
            out.append('}');
        } else {
            out.append("null");
        }
    }

    /** A YAML double-quoted scalar: every character that could end or escape it, and every control character, escaped. */
    private static void quote(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f || c >= 0x80 && c < 0xa0 || c == '\u2028' || c == '\u2029' || c == '\ufeff') {
                out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
