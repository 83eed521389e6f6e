package io.neuronmonkey.runtime.plugin;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.NoParams;
import io.neuronmonkey.api.PluginException;
import io.neuronmonkey.runtime.config.Names;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Extensions keyed by point and stable name. The host registers a bundle's extensions only when none of their names
 * is taken (a clashing bundle is refused whole, with both plugin ids named); an extension without
 * {@link ExtensionName} or with a malformed one is skipped with the reason kept in {@link #problems()}.
 */
public final class ExtensionRegistry {

    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9]*(-[a-z0-9]+)*");

    private final Map<ExtensionPoints, Map<String, RegisteredExtension<?>>> byPoint = new EnumMap<>(ExtensionPoints.class);
    private final List<String> problems = new ArrayList<>();

    ExtensionRegistry() {
        for (ExtensionPoints p : ExtensionPoints.values()) {
            byPoint.put(p, new TreeMap<>());
        }
    }

    /** Why an extension class cannot be registered (no or a malformed {@link ExtensionName}), or null. */
    static String nameProblem(Class<?> cls, String pluginId) {
        ExtensionName n = cls.getAnnotation(ExtensionName.class);
        if (n == null) {
            return "plugin '" + pluginId + "': extension " + cls.getName() + " has no @ExtensionName; it was not registered";
        }
        if (!NAME.matcher(n.value()).matches()) {
            return "plugin '" + pluginId + "': extension " + cls.getName() + " has the name '" + n.value()
                    + "'; names are lower-case words joined by '-' (e.g. activation-stats); it was not registered";
        }
        return null;
    }

    /** Records a problem with an extension that was skipped while its plugin's others were registered. */
    void problem(String message) {
        problems.add(message);
    }

    /**
     * Registers an extension whose name was checked with {@link #nameProblem} and is not taken yet (see {@link #find}).
     *
     * @throws PluginException if the name is taken: the host refuses a clashing bundle before it gets here
     */
    void add(ExtensionPoints point, Object instance, String pluginId, String pluginVersion) {
        Class<?> cls = instance.getClass();
        ExtensionName n = cls.getAnnotation(ExtensionName.class);
        Map<String, RegisteredExtension<?>> map = byPoint.get(point);
        RegisteredExtension<?> existing = map.get(n.value());
        if (existing != null) {
            throw new PluginException("two " + point.word() + "s are named '" + n.value() + "': " + existing.instance().getClass().getName()
                    + " from plugin '" + existing.pluginId() + "' and " + cls.getName() + " from plugin '" + pluginId + "'");
        }
        map.put(n.value(), new RegisteredExtension<>(point, n.value(), n.description(), pluginId, pluginVersion, instance,
                paramsType(cls, point.type())));
    }

    /** Problems with extensions that were skipped (not fatal). */
    public List<String> problems() {
        return Collections.unmodifiableList(problems);
    }

    public Map<String, RegisteredExtension<?>> all(ExtensionPoints point) {
        return Collections.unmodifiableMap(byPoint.get(point));
    }

    public Optional<RegisteredExtension<?>> find(ExtensionPoints point, String name) {
        return Optional.ofNullable(byPoint.get(point).get(name));
    }

    /** @throws PluginException naming the known extensions when there is none of that name */
    public RegisteredExtension<?> require(ExtensionPoints point, String name) {
        return find(point, name).orElseThrow(() -> new PluginException(unknownMessage(point, name)));
    }

    public String unknownMessage(ExtensionPoints point, String name) {
        return Names.unknown(point.word(), name, byPoint.get(point).keySet());
    }

    /** Reads P of {@code X<P>} from the class hierarchy; {@link NoParams} when it cannot be told. */
    @SuppressWarnings("unchecked")
    static Class<? extends Record> paramsType(Class<?> cls, Class<?> point) {
        Type t = resolve(cls, point);
        if (t instanceof Class<?> c && c.isRecord()) {
            return (Class<? extends Record>) c;
        }
        return NoParams.class;
    }

    private static Type resolve(Type type, Class<?> point) {
        Class<?> raw = type instanceof ParameterizedType pt ? (Class<?>) pt.getRawType() : (Class<?>) type;
        if (raw == null) {
            return null;
        }
        List<Type> supers = new ArrayList<>(List.of(raw.getGenericInterfaces()));
        if (raw.getGenericSuperclass() != null) {
            supers.add(raw.getGenericSuperclass());
        }
        for (Type s : supers) {
            Class<?> sraw = s instanceof ParameterizedType pt ? (Class<?>) pt.getRawType() : (Class<?>) s;
            if (sraw == point && s instanceof ParameterizedType pt) {
                return substitute(pt.getActualTypeArguments()[0], type);
            }
            if (point.isAssignableFrom(sraw)) {
                Type r = resolve(s, point);
                if (r != null) {
                    return substitute(r, type);
                }
            }
        }
        return null;
    }

    private static Type substitute(Type t, Type context) {
        if (t instanceof TypeVariable<?> v && context instanceof ParameterizedType pt) {
            TypeVariable<?>[] vars = ((Class<?>) pt.getRawType()).getTypeParameters();
            for (int i = 0; i < vars.length; i++) {
                if (vars[i].getName().equals(v.getName())) {
                    return pt.getActualTypeArguments()[i];
                }
            }
        }
        return t;
    }
}
