package io.neuronmonkey.runtime.config;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.neuronmonkey.api.Param;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON Schema (draft-07) of a params record, as {@link ParamsBinder} binds it: one property per component with its
 * type, its {@link Param} description and default, enum values as YAML writes them, required where the binder
 * requires a value, and no other keys.
 */
public final class ParamsSchema {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private ParamsSchema() {
    }

    /**
     * @param type  the params record
     * @param extra keys of the same mapping that are not params (e.g. {@code backend} and {@code path} of
     *              {@code model:}), with their schemas
     * @return an object schema
     */
    public static ObjectNode of(Class<?> type, Map<String, ObjectNode> extra) {
        ObjectNode s = JSON.objectNode().put("type", "object");
        ObjectNode props = s.putObject("properties");
        extra.forEach(props::set);
        List<String> required = new ArrayList<>();
        if (type.isRecord()) {
            for (RecordComponent c : type.getRecordComponents()) {
                Param p = c.getAnnotation(Param.class);
                boolean hasDefault = p != null && !Param.NONE.equals(p.defaultValue());
                ObjectNode field = typeSchema(c.getGenericType(), !c.getType().isPrimitive());
                String description = ParamsBinder.typeName(c.getGenericType())
                        + (p == null || p.description().isEmpty() ? "" : ": " + p.description())
                        + (hasDefault ? " (default " + p.defaultValue() + ")" : "");
                field.put("description", description);
                if (hasDefault) {
                    Object d = defaultValue(c.getGenericType(), p.defaultValue());
                    if (d != null) {
                        field.putPOJO("default", d);
                    }
                }
                if (c.getType().isPrimitive() && !hasDefault) {
                    required.add(c.getName());
                }
                props.set(c.getName(), field);
            }
        }
        if (!required.isEmpty()) {
            ArrayNode r = s.putArray("required");
            required.forEach(r::add);
        }
        s.put("additionalProperties", false);
        return s;
    }

    private static ObjectNode typeSchema(Type type, boolean nullable) {
        Class<?> raw = type instanceof ParameterizedType pt ? (Class<?>) pt.getRawType() : (Class<?>) type;
        ObjectNode s = JSON.objectNode();
        String json;
        if (raw == int.class || raw == Integer.class || raw == long.class || raw == Long.class) {
            json = "integer";
        } else if (raw == double.class || raw == Double.class || raw == float.class || raw == Float.class) {
            json = "number";
        } else if (raw == boolean.class || raw == Boolean.class) {
            json = "boolean";
        } else if (raw == String.class) {
            json = "string";
        } else if (raw.isEnum()) {
            ArrayNode values = s.putArray("enum");
            for (Object c : raw.getEnumConstants()) {
                String name = ((Enum<?>) c).name().toLowerCase(Locale.ROOT);
                values.add(name.replace('_', '-'));
                if (name.contains("_")) {
                    values.add(name);
                }
            }
            if (nullable) {
                values.addNull();
            }
            return s;
        } else if (List.class.isAssignableFrom(raw)) {
            json = "array";
            Type elem = type instanceof ParameterizedType pt ? pt.getActualTypeArguments()[0] : String.class;
            s.set("items", typeSchema(elem, false));
        } else if (raw.isRecord()) {
            ObjectNode nested = of(raw, Map.of());
            if (nullable) {
                nested.putArray("type").add("object").add("null");
            }
            return nested;
        } else {
            json = "object";
        }
        if (nullable) {
            s.putArray("type").add(json).add("null");
        } else {
            s.put("type", json);
        }
        return s;
    }

    private static Object defaultValue(Type type, String text) {
        Class<?> raw = type instanceof ParameterizedType pt ? (Class<?>) pt.getRawType() : (Class<?>) type;
        try {
            if (raw == int.class || raw == Integer.class || raw == long.class || raw == Long.class) {
                return Long.parseLong(text.trim());
            }
            if (raw == double.class || raw == Double.class || raw == float.class || raw == Float.class) {
                double v = Double.parseDouble(text.trim());
                return Double.isFinite(v) ? v : null;
            }
            if (raw == boolean.class || raw == Boolean.class) {
                return Boolean.parseBoolean(text.trim());
            }
            if (raw == String.class) {
                return text;
            }
            if (raw.isEnum()) {
                return text.trim().toLowerCase(Locale.ROOT).replace('_', '-');
            }
        } catch (NumberFormatException e) {
            return null;
        }
        return null;
    }
}
