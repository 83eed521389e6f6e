package io.neuronmonkey.runtime.config;

import io.neuronmonkey.api.ConfigException;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.api.lowlevel.Compose;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Safe YAML reading that keeps positions: the text is composed into a node tree (no object construction at all,
 * so no type can be instantiated from a tag), and every node keeps its line and column.
 */
public final class Yaml {

    private Yaml() {
    }

    /**
     * @param text  YAML text
     * @param label a name for messages (the file name)
     * @return the root node, empty for an empty document
     * @throws ConfigException on a syntax error, with line and column
     */
    public static Optional<Node> compose(String text, String label) {
        LoadSettings settings = LoadSettings.builder()
                .setLabel(label)
                .setUseMarks(true)
                .setAllowRecursiveKeys(false)
                .setMaxAliasesForCollections(50)
                .setCodePointLimit(16 * 1024 * 1024)
                .build();
        try {
            return new Compose(settings).composeString(text);
        } catch (MarkedYamlEngineException e) {
            Position p = e.getProblemMark().map(Position::of).orElse(Position.UNKNOWN);
            String problem = e.getProblem() == null ? e.getMessage() : e.getProblem();
            String context = e.getContext() == null ? "" : " " + e.getContext();
            throw new ConfigException(label + ": YAML syntax error at " + p + " - " + problem.trim() + context.stripTrailing()
                    + e.getProblemMark().map(m -> System.lineSeparator() + m.createSnippet()).orElse(""));
        } catch (YamlEngineException e) {
            throw new ConfigException(label + ": YAML error - " + e.getMessage());
        }
    }

    /** Entries of a mapping in order; reports duplicate and non-scalar keys. */
    public static Map<String, NodeTuple> entries(MappingNode map, String path, Problems problems) {
        Map<String, NodeTuple> out = new LinkedHashMap<>();
        for (NodeTuple t : map.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode key)) {
                problems.add(path, t.getKeyNode(), "keys must be plain names");
                continue;
            }
            if (out.containsKey(key.getValue())) {
                problems.add(join(path, key.getValue()), key, "duplicate key '" + key.getValue() + "'");
                continue;
            }
            out.put(key.getValue(), t);
        }
        return out;
    }

    public static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    public static boolean isNull(Node node) {
        return node == null || node instanceof ScalarNode s && Tag.NULL.equals(s.getTag());
    }

    /** Converts a node into plain Java values (String, Long, Double, Boolean, null, List, Map) for provenance. */
    public static Object plain(Node node) {
        if (node == null || isNull(node)) {
            return null;
        }
        if (node instanceof ScalarNode s) {
            Tag tag = s.getTag();
            try {
                if (Tag.INT.equals(tag)) {
                    return Long.parseLong(s.getValue());
                }
                if (Tag.FLOAT.equals(tag)) {
                    return Double.parseDouble(s.getValue());
                }
            } catch (NumberFormatException e) {
                return s.getValue();
            }
            if (Tag.BOOL.equals(tag)) {
                return Boolean.parseBoolean(s.getValue());
            }
            return s.getValue();
        }
        if (node instanceof SequenceNode seq) {
            List<Object> list = new ArrayList<>();
            for (Node n : seq.getValue()) {
                list.add(plain(n));
            }
            return list;
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            map.put(String.valueOf(plain(t.getKeyNode())), plain(t.getValueNode()));
        }
        return map;
    }

    public static String kind(Node node) {
        if (node instanceof MappingNode) {
            return "a mapping";
        }
        if (node instanceof SequenceNode) {
            return "a list";
        }
        if (isNull(node)) {
            return "nothing";
        }
        return "'" + ((ScalarNode) node).getValue() + "'";
    }
}
