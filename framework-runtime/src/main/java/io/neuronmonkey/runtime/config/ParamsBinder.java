package io.neuronmonkey.runtime.config;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.Param;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Binds a YAML mapping to an extension's immutable params record. Unknown keys, wrong types, missing required values
 * and the record's own checks ({@link InvalidParamsException} from its compact constructor) are all reported, each
 * with its YAML path and position.
 */
public final class ParamsBinder {

    private ParamsBinder() {
    }

    /**
     * @param type     the record class
     * @param node     the YAML mapping, or null when the key is absent
     * @param path     YAML path for messages, e.g. {@code steps[1].params}
     * @param problems where problems go
     * @param ignore   keys of the mapping that belong to the caller (e.g. {@code backend}) and are not params
     * @return the record, or empty if any problem was found
     */
    public static <R> Optional<R> bind(Class<R> type, Node node, String path, Problems problems, String... ignore) {
        Object value = bindRecord(type, node, path, problems, List.of(ignore));
        return Optional.ofNullable(type.cast(value));
    }

    private static Object bindRecord(Class<?> type, Node node, String path, Problems problems, List<String> ignore) {
        if (!type.isRecord()) {
            problems.add(path, node, "internal: params type " + type.getName() + " is not a record");
            return null;
        }
        Map<String, NodeTuple> entries = Map.of();
        if (node != null && !Yaml.isNull(node)) {
            if (!(node instanceof MappingNode map)) {
                problems.add(path, node, "must be a mapping of param names to values, found " + Yaml.kind(node));
                return null;
            }
            entries = Yaml.entries(map, path, problems);
        }
        RecordComponent[] components = type.getRecordComponents();
        List<String> names = Arrays.stream(components).map(RecordComponent::getName).toList();
        int before = problems.size();
        for (Map.Entry<String, NodeTuple> e : entries.entrySet()) {
            if (!names.contains(e.getKey()) && !ignore.contains(e.getKey())) {
                String known = names.isEmpty() ? "this extension takes no params" : Names.unknown("param", e.getKey(), names);
                problems.add(Yaml.join(path, e.getKey()), e.getValue().getKeyNode(),
                        names.isEmpty() ? "unknown param '" + e.getKey() + "'; " + known : known);
            }
        }
        Object[] args = new Object[components.length];
        java.util.Set<String> broken = new java.util.HashSet<>();
        for (int i = 0; i < components.length; i++) {
            RecordComponent c = components[i];
            String cpath = Yaml.join(path, c.getName());
            NodeTuple t = entries.get(c.getName());
            Node valueNode = t == null ? null : t.getValueNode();
            int beforeField = problems.size();
            if (valueNode == null || Yaml.isNull(valueNode)) {
                if (c.getType().isPrimitive() && defaultOf(c) == null) {
                    problems.add(cpath, t == null ? node : valueNode, "required " + typeName(c.getGenericType()) + " is missing");
                } else {
                    args[i] = defaultValue(type, c, cpath, problems);
                }
            } else {
                args[i] = convert(c.getGenericType(), valueNode, cpath, problems);
            }
            if (problems.size() > beforeField) {
                broken.add(c.getName());
                // a placeholder lets the record's own checks run on the other fields, so all problems come out at once
                args[i] = placeholder(type, c);
            }
        }
        try {
            Constructor<?> ctor = type.getDeclaredConstructor(Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
            ctor.setAccessible(true);
            Object value = ctor.newInstance(args);
            return problems.size() > before ? null : value;
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof InvalidParamsException ipe) {
                for (InvalidParamsException.Violation v : ipe.violations()) {
                    String first = v.field().split("[.\\[]", 2)[0];
                    if (broken.contains(first)) {
                        continue;
                    }
                    NodeTuple t = entries.get(first);
                    problems.add(Yaml.join(path, v.field()), t != null ? t.getValueNode() : node, v.message());
                }
            } else if (broken.isEmpty()) {
                problems.add(path, node, String.valueOf(cause.getMessage()));
            }
            return null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            if (broken.isEmpty()) {
                problems.add(path, node, "cannot create " + type.getName() + ": " + e);
            }
            return null;
        }
    }

    private static String defaultOf(RecordComponent c) {
        Param p = c.getAnnotation(Param.class);
        return p == null || Param.NONE.equals(p.defaultValue()) ? null : p.defaultValue();
    }

    private static Object defaultValue(Class<?> type, RecordComponent c, String cpath, Problems problems) {
        String def = defaultOf(c);
        if (def != null) {
            Node n = Yaml.compose(def, "default of " + type.getSimpleName() + "." + c.getName()).orElse(null);
            return convert(c.getGenericType(), n, cpath, problems);
        }
        if (c.getType().isRecord()) {
            return bindRecord(c.getType(), null, cpath, problems, List.of());
        }
        return null;
    }

    /** A stand-in value for a field that could not be bound: its default if it parses, else the type's zero. */
    private static Object placeholder(Class<?> type, RecordComponent c) {
        Problems ignored = new Problems();
        Object v = defaultValue(type, c, c.getName(), ignored);
        if (v != null && ignored.isEmpty()) {
            return v;
        }
        Class<?> t = c.getType();
        if (t == int.class) {
            return 0;
        } else if (t == long.class) {
            return 0L;
        } else if (t == double.class) {
            return 0.0;
        } else if (t == float.class) {
            return 0f;
        } else if (t == boolean.class) {
            return false;
        } else if (t.isEnum()) {
            return t.getEnumConstants()[0];
        } else if (List.class.isAssignableFrom(t)) {
            return List.of();
        }
        return null;
    }

    private static Object convert(Type type, Node node, String path, Problems problems) {
        Class<?> raw = type instanceof ParameterizedType pt ? (Class<?>) pt.getRawType() : (Class<?>) type;
        if (node == null || Yaml.isNull(node)) {
            if (raw.isPrimitive()) {
                problems.add(path, node, "required " + typeName(type) + " is missing");
            }
            return null;
        }
        if (raw.isRecord()) {
            return bindRecord(raw, node, path, problems, List.of());
        }
        if (List.class.isAssignableFrom(raw)) {
            Type elem = type instanceof ParameterizedType pt ? pt.getActualTypeArguments()[0] : String.class;
            if (!(node instanceof SequenceNode seq)) {
                problems.add(path, node, "must be " + typeName(type) + ", e.g. [a, b], found " + Yaml.kind(node));
                return null;
            }
            List<Object> out = new ArrayList<>();
            int i = 0;
            for (Node n : seq.getValue()) {
                out.add(convert(elem, n, path + "[" + i++ + "]", problems));
            }
            return List.copyOf(out.stream().filter(o -> o != null).toList());
        }
        if (Map.class.isAssignableFrom(raw)) {
            if (!(node instanceof MappingNode)) {
                problems.add(path, node, "must be a mapping, found " + Yaml.kind(node));
                return null;
            }
            return Yaml.plain(node);
        }
        if (!(node instanceof ScalarNode scalar)) {
            problems.add(path, node, "must be " + typeName(type) + ", found " + Yaml.kind(node));
            return null;
        }
        String text = scalar.getValue().trim();
        try {
            if (raw == String.class) {
                return scalar.getValue();
            }
            if (raw == int.class || raw == Integer.class) {
                BigInteger v = new BigInteger(text.startsWith("+") ? text.substring(1) : text);
                if (!fits(v, Integer.MIN_VALUE, Integer.MAX_VALUE)) {
                    problems.add(path, node, "must be an integer between " + Integer.MIN_VALUE + " and " + Integer.MAX_VALUE
                            + ", found " + v);
                    return null;
                }
                return v.intValue();
            }
            if (raw == long.class || raw == Long.class) {
                BigInteger v = new BigInteger(text.startsWith("+") ? text.substring(1) : text);
                if (!fits(v, Long.MIN_VALUE, Long.MAX_VALUE)) {
                    problems.add(path, node, "must be an integer between " + Long.MIN_VALUE + " and " + Long.MAX_VALUE
                            + ", found " + v);
                    return null;
                }
                return v.longValue();
            }
            if (raw == double.class || raw == Double.class) {
                double v = parseDouble(text);
                if (Double.isInfinite(v) && !text.toLowerCase(Locale.ROOT).contains("inf")) {
                    problems.add(path, node, "must be a number between " + -Double.MAX_VALUE + " and " + Double.MAX_VALUE
                            + ", found '" + text + "'");
                    return null;
                }
                return v;
            }
            if (raw == float.class || raw == Float.class) {
                double v = parseDouble(text);
                if (Math.abs(v) > Float.MAX_VALUE && !Double.isInfinite(v) || Double.isInfinite(v) && !text.toLowerCase(Locale.ROOT).contains("inf")) {
                    problems.add(path, node, "must be a number between " + -Float.MAX_VALUE + " and " + Float.MAX_VALUE
                            + ", found '" + text + "'");
                    return null;
                }
                return (float) v;
            }
            if (raw == boolean.class || raw == Boolean.class) {
                if (text.equalsIgnoreCase("true") || text.equalsIgnoreCase("false")) {
                    return Boolean.parseBoolean(text);
                }
                throw new NumberFormatException();
            }
            if (raw.isEnum()) {
                String wanted = text.replace('-', '_');
                for (Object c : raw.getEnumConstants()) {
                    if (((Enum<?>) c).name().equalsIgnoreCase(wanted)) {
                        return c;
                    }
                }
                problems.add(path, node, "must be one of " + enumValues(raw) + ", found '" + text + "'");
                return null;
            }
        } catch (NumberFormatException e) {
            problems.add(path, node, "must be " + typeName(type) + ", found '" + text + "'");
            return null;
        }
        problems.add(path, node, "internal: unsupported param type " + type.getTypeName());
        return null;
    }

    private static boolean fits(BigInteger v, long min, long max) {
        return v.compareTo(BigInteger.valueOf(min)) >= 0 && v.compareTo(BigInteger.valueOf(max)) <= 0;
    }

    private static double parseDouble(String text) {
        String t = text.toLowerCase(Locale.ROOT);
        if (t.equals(".inf") || t.equals("+.inf")) {
            return Double.POSITIVE_INFINITY;
        }
        if (t.equals("-.inf")) {
            return Double.NEGATIVE_INFINITY;
        }
        if (t.equals(".nan") || t.contains("x") || t.endsWith("d") || t.endsWith("f")) {
            throw new NumberFormatException();
        }
        return Double.parseDouble(text);
    }

    static String enumValues(Class<?> raw) {
        return String.join(", ", Arrays.stream(raw.getEnumConstants())
                .map(c -> ((Enum<?>) c).name().toLowerCase(Locale.ROOT).replace('_', '-')).toList());
    }

    /** A short, user-facing name of a param type ("an integer", "a list of strings"). */
    public static String typeName(Type type) {
        Class<?> raw = type instanceof ParameterizedType pt ? (Class<?>) pt.getRawType() : (Class<?>) type;
        if (raw == int.class || raw == Integer.class || raw == long.class || raw == Long.class) {
            return "an integer";
        }
        if (raw == double.class || raw == Double.class || raw == float.class || raw == Float.class) {
            return "a number";
        }
        if (raw == boolean.class || raw == Boolean.class) {
            return "true or false";
        }
        if (raw == String.class) {
            return "a string";
        }
        if (raw.isEnum()) {
            return "one of " + enumValues(raw);
        }
        if (List.class.isAssignableFrom(raw)) {
            Type elem = type instanceof ParameterizedType pt ? pt.getActualTypeArguments()[0] : String.class;
            return "a list of " + typeName(elem).replaceFirst("^an? ", "") + "s";
        }
        if (raw.isRecord()) {
            return "a mapping";
        }
        return raw.getSimpleName();
    }

    /** Describes a params record for help output: name, type, default, description per component. */
    public static List<String> describe(Class<?> type) {
        List<String> out = new ArrayList<>();
        if (!type.isRecord()) {
            return out;
        }
        for (RecordComponent c : type.getRecordComponents()) {
            Param p = c.getAnnotation(Param.class);
            String def = p == null || Param.NONE.equals(p.defaultValue()) ? (c.getType().isPrimitive() ? "required" : "optional")
                    : "default " + p.defaultValue();
            String desc = p == null || p.description().isEmpty() ? "" : " - " + p.description();
            out.add(c.getName() + ": " + typeName(c.getGenericType()) + " (" + def + ")" + desc);
        }
        return out;
    }
}
