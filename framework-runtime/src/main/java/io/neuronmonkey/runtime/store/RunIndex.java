package io.neuronmonkey.runtime.store;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The run-level {@code index.json}: every step with its state, its parts and findings, every array with file, shape,
 * dtype and dimension names, and every file of the run with its size. Other tools open a run through it (see
 * {@code docs/results.md}); it is built from what the steps wrote, so it lists exactly what is on disk.
 */
public final class RunIndex {

    /** The schema id of {@code index.json}. */
    public static final String SCHEMA = "https://neuronmonkey.io/schema/index-v1.json";

    /**
     * One step as the index records it.
     *
     * @param id    step id
     * @param state completed, failed, skipped or interrupted
     */
    public record Step(String id, String state) {
    }

    private RunIndex() {
    }

    /**
     * @param out a run folder with an index
     * @return every step's findings as {@code severity: claim}, warnings first, then notable, then informational;
     *         empty when there is no readable index
     */
    public static List<String> findings(Path out) {
        Path index = out.resolve("index.json");
        if (!Files.isRegularFile(index)) {
            return List.of();
        }
        List<String> order = List.of("warning", "notable", "info");
        List<String[]> all = new ArrayList<>();
        try {
            for (Object st : ResultCodec.list(Json.readMap(index).get("steps"))) {
                for (Object f : ResultCodec.list(ResultCodec.map(st).get("findings"))) {
                    Map<String, Object> fm = ResultCodec.map(f);
                    all.add(new String[]{String.valueOf(fm.get("severity")), String.valueOf(fm.get("claim"))});
                }
            }
        } catch (RuntimeException e) {
            return List.of();
        }
        all.sort(java.util.Comparator.comparingInt(a -> order.indexOf(a[0]) < 0 ? order.size() : order.indexOf(a[0])));
        return all.stream().map(a -> a[0] + ": " + a[1]).toList();
    }

    /**
     * Writes {@code index.json} at the top of {@code out}.
     *
     * @param out        the run folder
     * @param experiment the experiment name
     * @param steps      every step in run order
     */
    public static void write(Path out, String experiment, List<Step> steps) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("schema", SCHEMA);
        json.put("schemaVersion", 1);
        json.put("experiment", experiment);
        json.put("resultSchemaVersion", ResultCodec.SCHEMA_VERSION);
        List<Object> list = new ArrayList<>();
        for (Step s : steps) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", s.id());
            m.put("state", s.state());
            Path folder = out.resolve(s.id());
            Path result = folder.resolve("result.json");
            Path artifacts = folder.resolve("artifacts.json");
            if (Files.isRegularFile(result)) {
                Map<String, Object> r = Json.readMap(result);
                m.put("kind", "analyzer");
                m.put("extension", r.get("analyzer"));
                m.put("result", s.id() + "/result.json");
                List<Object> parts = new ArrayList<>();
                for (Object p : ResultCodec.list(r.get("parts"))) {
                    Map<String, Object> pm = ResultCodec.map(p);
                    Map<String, Object> entry = new LinkedHashMap<>();
                    entry.put("id", pm.get("id"));
                    entry.put("kind", pm.get("kind"));
                    entry.put("title", pm.get("title"));
                    List<Object> arrays = new ArrayList<>();
                    collectArrays(pm, s.id() + "/", arrays);
                    entry.put("arrays", arrays);
                    parts.add(entry);
                }
                m.put("parts", parts);
                m.put("findings", ResultCodec.list(r.get("findings")).stream().map(f -> {
                    Map<String, Object> fm = ResultCodec.map(f);
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("severity", fm.get("severity"));
                    e.put("claim", fm.get("claim"));
                    return (Object) e;
                }).toList());
                List<Object> extra = new ArrayList<>();
                collectArrays(ResultCodec.map(r.getOrDefault("arrays", Map.of())), s.id() + "/", extra);
                m.put("arrays", extra);
            } else if (Files.isRegularFile(artifacts)) {
                Map<String, Object> a = Json.readMap(artifacts);
                m.put("kind", "visualizer");
                m.put("extension", a.get("visualizer"));
                m.put("artifacts", a.get("artifacts"));
            } else if (Files.isDirectory(out.resolve(s.id() + ".failed"))) {
                m.put("error", s.id() + ".failed/error.txt");
            }
            list.add(m);
        }
        json.put("steps", list);
        json.put("files", files(out));
        Json.write(out.resolve("index.json"), json);
    }

    /** Every map with a "file" and "dims" key below {@code node}: an array reference as {@link ResultCodec} writes it. */
    private static void collectArrays(Object node, String prefix, List<Object> out) {
        if (node instanceof Map<?, ?> m) {
            if (m.get("file") instanceof String f && m.containsKey("dims") && m.containsKey("shape")) {
                Map<String, Object> a = new LinkedHashMap<>();
                a.put("file", prefix + f);
                a.put("shape", m.get("shape"));
                a.put("dtype", m.get("dtype"));
                a.put("dims", m.get("dims"));
                out.add(a);
                return;
            }
            for (Object v : m.values()) {
                collectArrays(v, prefix, out);
            }
        } else if (node instanceof List<?> l) {
            for (Object v : l) {
                collectArrays(v, prefix, out);
            }
        }
    }

    private static List<Object> files(Path out) {
        try (Stream<Path> walk = Files.walk(out)) {
            return walk.filter(Files::isRegularFile)
                    .filter(p -> !out.relativize(p).toString().startsWith("."))
                    .filter(p -> !p.getFileName().toString().equals("index.json") || !p.getParent().equals(out))
                    .sorted()
                    .map(p -> {
                        Map<String, Object> f = new LinkedHashMap<>();
                        f.put("path", out.relativize(p).toString().replace('\\', '/'));
                        try {
                            f.put("bytes", Files.size(p));
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                        return (Object) f;
                    })
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            return List.of(Map.of("error", "cannot list the run folder: " + e.getMessage()));
        }
    }
}
