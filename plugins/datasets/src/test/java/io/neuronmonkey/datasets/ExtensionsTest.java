package io.neuronmonkey.datasets;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.data.DataSource;
import org.junit.jupiter.api.Test;
import org.pf4j.Extension;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Checks what the runtime relies on: the PF4J index, the annotations, and params records whose defaults bind. */
class ExtensionsTest {

    private static final Map<String, Class<?>> EXPECTED = Map.of(
            "synthetic-shapes", SyntheticShapesSource.class,
            "npy", NpySource.class,
            "csv", CsvSource.class,
            "idx", IdxSource.class,
            "image-folder", ImageFolderSource.class,
            "npz", NpzSource.class);

    @Test
    void extensionIndexListsEveryDataSource() throws IOException {
        List<String> listed = null;
        for (URL url : Collections.list(getClass().getClassLoader().getResources("META-INF/extensions.idx"))) {
            try (InputStream in = url.openStream()) {
                List<String> lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                        .filter(l -> l.startsWith("io.neuronmonkey.datasets.")).sorted().toList();
                if (!lines.isEmpty()) {
                    listed = lines;
                }
            }
        }
        assertEquals(EXPECTED.values().stream().map(Class::getName).sorted().toList(), listed);
    }

    @Test
    void everyExtensionIsAnnotatedInstantiableAndNamed() throws ReflectiveOperationException {
        for (Map.Entry<String, Class<?>> e : EXPECTED.entrySet()) {
            Class<?> c = e.getValue();
            assertTrue(Modifier.isPublic(c.getModifiers()), c + " is public");
            assertNotNull(c.getAnnotation(Extension.class), c + " has @Extension");
            ExtensionName name = c.getAnnotation(ExtensionName.class);
            assertEquals(e.getKey(), name.value());
            assertFalse(name.description().isBlank(), c + " has a description");
            assertTrue(DataSource.class.isAssignableFrom(c));
            assertTrue(Modifier.isPublic(c.getConstructor().getModifiers()));
            assertNotNull(c.getConstructor().newInstance());
            Class<?> params = paramsOf(c);
            assertTrue(params.isRecord() && Modifier.isPublic(params.getModifiers()), params + " is a public record");
            for (RecordComponent rc : params.getRecordComponents()) {
                Param p = rc.getAnnotation(Param.class);
                assertNotNull(p, params.getName() + "." + rc.getName() + " has @Param");
                assertFalse(p.description().isBlank(), rc.getName() + " is described");
            }
        }
    }

    @Test
    void defaultsBindToTheDocumentedValues() {
        assertEquals(SyntheticShapesSource.Params.of(SyntheticShapesSource.Split.TRAIN, 4000, null),
                bind(SyntheticShapesSource.Params.class, Map.of()));
        assertEquals(new CsvSource.Params("d.csv", null, true, ",", null, null, false),
                bind(CsvSource.Params.class, Map.of("file", "d.csv")));
        assertEquals(new NpySource.Params("x.npy", null, null, 1.0, false),
                bind(NpySource.Params.class, Map.of("inputs", "x.npy")));
        assertEquals(new IdxSource.Params("i.gz", null, 1 / 255.0, null),
                bind(IdxSource.Params.class, Map.of("images", "i.gz")));
        assertEquals(SyntheticShapesSource.Split.DECORRELATED,
                bind(SyntheticShapesSource.Params.class, Map.of("split", "Decorrelated")).split());
    }

    private static Class<?> paramsOf(Class<?> source) {
        for (Type t : source.getGenericInterfaces()) {
            if (t instanceof ParameterizedType pt && pt.getRawType() == DataSource.class) {
                return (Class<?>) pt.getActualTypeArguments()[0];
            }
        }
        throw new AssertionError(source + " implements DataSource<P>");
    }

    /**
     * Binds scalars the way the runtime does for these records: given values, else {@code @Param} defaults read as
     * YAML scalars (a plain scalar must not start with a YAML indicator), else null.
     */
    private static <R> R bind(Class<R> type, Map<String, String> given) {
        RecordComponent[] rcs = type.getRecordComponents();
        Object[] args = new Object[rcs.length];
        Map<String, String> left = new TreeMap<>(given);
        for (int i = 0; i < rcs.length; i++) {
            RecordComponent rc = rcs[i];
            String text = left.remove(rc.getName());
            Param p = rc.getAnnotation(Param.class);
            if (text == null && !Param.NONE.equals(p.defaultValue())) {
                text = p.defaultValue();
            }
            args[i] = text == null ? null : scalar(rc.getType(), text, rc.getName());
        }
        assertTrue(left.isEmpty(), "unknown keys " + left.keySet());
        try {
            return type.cast(type.getDeclaredConstructor(Arrays.stream(rcs).map(RecordComponent::getType)
                    .toArray(Class<?>[]::new)).newInstance(args));
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e.getCause() != null ? e.getCause() : e);
        }
    }

    private static Object scalar(Class<?> t, String text, String name) {
        if (text.length() >= 2 && (text.startsWith("'") && text.endsWith("'")
                || text.startsWith("\"") && text.endsWith("\""))) {
            text = text.substring(1, text.length() - 1);
        } else {
            assertFalse(",[]{}#&*!|>'\"%@`".indexOf(text.charAt(0)) >= 0,
                    name + ": '" + text + "' is not a valid plain YAML scalar; quote it");
        }
        if (t == int.class || t == Integer.class) {
            return Integer.valueOf(text);
        } else if (t == long.class || t == Long.class) {
            return Long.valueOf(text);
        } else if (t == double.class || t == Double.class) {
            return Double.valueOf(text);
        } else if (t == boolean.class || t == Boolean.class) {
            return Boolean.valueOf(text);
        } else if (t.isEnum()) {
            String key = text.replace('-', '_').toUpperCase(Locale.ROOT);
            for (Object c : t.getEnumConstants()) {
                if (((Enum<?>) c).name().equals(key)) {
                    return c;
                }
            }
            throw new AssertionError(name + ": '" + text + "' is not a constant of " + t);
        } else if (t == String.class) {
            return text;
        }
        throw new AssertionError(name + ": no scalar binding for " + t);
    }
}
