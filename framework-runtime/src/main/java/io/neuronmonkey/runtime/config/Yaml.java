package io.neuronmonkey.runtime.config;

import io.neuronmonkey.api.ConfigException;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.common.Anchor;
import org.snakeyaml.engine.v2.composer.Composer;
import org.snakeyaml.engine.v2.events.AliasEvent;
import org.snakeyaml.engine.v2.events.Event;
import org.snakeyaml.engine.v2.events.NodeEvent;
import org.snakeyaml.engine.v2.exceptions.MarkedYamlEngineException;
import org.snakeyaml.engine.v2.exceptions.ReaderException;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;
import org.snakeyaml.engine.v2.parser.Parser;
import org.snakeyaml.engine.v2.parser.ParserImpl;
import org.snakeyaml.engine.v2.scanner.StreamReader;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Optional;

/**
 * Safe YAML reading that keeps positions: the text is composed into a node tree (no object construction at all,
 * so no type can be instantiated from a tag), and every node keeps its line and column. What a document may cost is
 * bounded while the tree is built: its length ({@link #MAX_CODE_POINTS}), its nesting ({@link #MAX_DEPTH}) and the
 * number of nodes it holds with every alias expanded ({@link #MAX_NODES}), since an alias repeats all its anchor
 * holds and a few hundred bytes of aliases can otherwise stand for billions of nodes.
 */
public final class Yaml {

    /** Longest document read, in code points (experiment files are hand-written and small). */
    public static final int MAX_CODE_POINTS = 2 * 1024 * 1024;
    /** Deepest nesting of lists and mappings. */
    public static final int MAX_DEPTH = 64;
    /** Most nodes a document may hold with its aliases expanded. */
    public static final long MAX_NODES = 1_000_000;

    private Yaml() {
    }

    /**
     * @param text  YAML text
     * @param label a name for messages (the file name)
     * @return the root node, empty for an empty document
     * @throws ConfigException on a syntax error, or a document past the limits, with line and column
     */
    public static Optional<Node> compose(String text, String label) {
        int codePoints = text.codePointCount(0, text.length());
        if (codePoints > MAX_CODE_POINTS) {
            throw new ConfigException(label + ": YAML document too large - " + String.format(Locale.ROOT, "%,d", codePoints)
                    + " characters; NeuronMonkey reads documents of at most " + String.format(Locale.ROOT, "%,d", MAX_CODE_POINTS)
                    + " characters (2 MiB)");
        }
        LoadSettings settings = LoadSettings.builder()
                .setLabel(label)
                .setUseMarks(true)
                .setAllowRecursiveKeys(false)
                .setMaxAliasesForCollections(50)
                .setCodePointLimit(MAX_CODE_POINTS + 1)
                .build();
        Bounded parser = new Bounded(new ParserImpl(settings, new StreamReader(settings, text)), label);
        try {
            return new Composer(settings, parser).getSingleNode();
        } catch (ConfigException e) {
            throw e;
        } catch (MarkedYamlEngineException e) {
            Position p = e.getProblemMark().map(Position::of).orElse(Position.UNKNOWN);
            String problem = e.getProblem() == null ? e.getMessage() : e.getProblem();
            String context = e.getContext() == null ? "" : " " + e.getContext();
            throw new ConfigException(label + ": YAML syntax error at " + p + " - " + problem.trim() + context.stripTrailing()
                    + e.getProblemMark().map(m -> System.lineSeparator() + m.createSnippet()).orElse(""));
        } catch (ReaderException e) {
            throw new ConfigException(label + ": YAML error at " + position(text, e.getPosition()) + " - the character U+"
                    + String.format(Locale.ROOT, "%04X", e.getCodePoint()) + " is not allowed in YAML (control characters "
                    + "other than tab and line breaks are not)");
        } catch (YamlEngineException e) {
            throw new ConfigException(label + ": YAML error at " + parser.lastPosition() + " - " + e.getMessage());
        } catch (RuntimeException e) {
            // the composer checks some text only when it builds a node (a tag like '!%4' throws IllegalArgumentException)
            throw new ConfigException(label + ": YAML error at " + parser.lastPosition() + " - " + e.getMessage());
        }
    }

    /** The line and column of the code point at {@code index}. */
    static Position position(String text, int index) {
        int line = 1;
        int col = 1;
        for (int i = 0, cp = 0; i < text.length() && cp < index; i += Character.charCount(text.codePointAt(i)), cp++) {
            if (text.charAt(i) == '\n') {
                line++;
                col = 1;
            } else {
                col++;
            }
        }
        return new Position(line, col);
    }

    /**
     * Passes the parser's events to the composer while counting what they build: the nesting depth, and the nodes
     * with aliases expanded (an alias adds the size its anchor had when it was complete). Fails at the first event
     * past a limit, naming its position, before the composer has built anything large or recursed deeply.
     */
    private static final class Bounded implements Parser {
        private final Parser parser;
        private final String label;
        private final Deque<long[]> open = new ArrayDeque<>();
        private final Deque<Optional<Anchor>> openAnchors = new ArrayDeque<>();
        private final Map<Anchor, Long> anchorSizes = new HashMap<>();
        private long total;
        private Event last;

        Bounded(Parser parser, String label) {
            this.parser = parser;
            this.label = label;
        }

        @Override
        public boolean checkEvent(Event.ID choice) {
            return parser.checkEvent(choice);
        }

        @Override
        public Event peekEvent() {
            return parser.peekEvent();
        }

        @Override
        public boolean hasNext() {
            return parser.hasNext();
        }

        /** Where the last event read starts (the start of the text before any). */
        Position lastPosition() {
            return last == null ? Position.START : last.getStartMark().map(Position::of).orElse(Position.START);
        }

        @Override
        public Event next() {
            Event e = parser.next();
            last = e;
            switch (e.getEventId()) {
                case Scalar -> {
                    ((NodeEvent) e).getAnchor().ifPresent(a -> anchorSizes.put(a, 1L));
                    add(1, e);
                }
                case Alias -> {
                    Anchor a = ((AliasEvent) e).getAlias();
                    add(anchorSizes.getOrDefault(a, 1L), e);
                }
                case SequenceStart, MappingStart -> {
                    if (open.size() >= MAX_DEPTH) {
                        throw new ConfigException(label + ": YAML nesting too deep at " + position(e) + " - more than "
                                + MAX_DEPTH + " levels of lists and mappings inside each other; NeuronMonkey reads at most "
                                + MAX_DEPTH);
                    }
                    total++;
                    check(e);
                    open.push(new long[]{1});
                    openAnchors.push(((NodeEvent) e).getAnchor());
                }
                case SequenceEnd, MappingEnd -> {
                    long size = open.pop()[0];
                    openAnchors.pop().ifPresent(a -> anchorSizes.put(a, size));
                    if (!open.isEmpty()) {
                        open.peek()[0] += size;
                    }
                }
                default -> {
                    // stream and document events, comments: no nodes
                }
            }
            return e;
        }

        private void add(long size, Event e) {
            total += size;
            check(e);
            if (!open.isEmpty()) {
                open.peek()[0] += size;
            }
        }

        private void check(Event e) {
            if (total > MAX_NODES) {
                throw new ConfigException(label + ": YAML document too large at " + position(e) + " - with its aliases "
                        + "expanded it holds more than " + String.format(Locale.ROOT, "%,d", MAX_NODES) + " values, lists and "
                        + "mappings (an alias '*name' repeats everything its anchor '&name' holds); NeuronMonkey reads at most "
                        + String.format(Locale.ROOT, "%,d", MAX_NODES));
            }
        }

        private static String position(Event e) {
            return e.getStartMark().map(Position::of).orElse(Position.UNKNOWN).toString();
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
        return plain(node, 0);
    }

    private static Object plain(Node node, int depth) {
        if (depth > MAX_DEPTH) {
            throw new ConfigException("YAML nesting deeper than " + MAX_DEPTH + " levels at " + Position.of(node));
        }
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
                list.add(plain(n, depth + 1));
            }
            return list;
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (NodeTuple t : ((MappingNode) node).getValue()) {
            map.put(String.valueOf(plain(t.getKeyNode(), depth + 1)), plain(t.getValueNode(), depth + 1));
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
