package io.neuronmonkey.runtime.engine;

import io.neuronmonkey.api.ConfigException;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Where the fused passes of a run execute: {@code local} (this JVM's thread pool, the default) or {@code spark} (an
 * Apache Spark master). Written as {@code engine: {type: spark, master: "local[2]", partitions: 8, threadsPerTask: 1,
 * javacppCache: /tmp/javacpp}} in the experiment, or {@code --engine spark[:MASTER]} on the command line (which wins).
 *
 * @param type           {@code local} or {@code spark}
 * @param master         the Spark master URL ({@code local}, {@code local[N]}, {@code local[*]}, {@code local[N,F]},
 *                       {@code spark://HOST:PORT}, {@code yarn}, {@code k8s://URL}); null: the {@code spark.master}
 *                       that spark-submit sets, else {@link #DEFAULT_MASTER}
 * @param partitions     how many partitions a pass is split into; null: the master's default parallelism
 * @param threadsPerTask TensorFlow intra-op threads of each executor's model; null: TensorFlow's default (every core)
 * @param javacppCache   the JavaCPP cache folder executors unpack native libraries into; null: JavaCPP's default
 */
public record EngineSpec(String type, String master, Integer partitions, Integer threadsPerTask, String javacppCache)
        implements Serializable {

    private static final long serialVersionUID = 1L;

    /** The keys of {@code engine:} in an experiment. */
    public static final List<String> KEYS = List.of("type", "master", "partitions", "threadsPerTask", "javacppCache");

    /** The engine types. */
    public static final List<String> TYPES = List.of("local", "spark");

    /** The master when none is given: every core of this machine. */
    public static final String DEFAULT_MASTER = "local[*]";

    private static final Pattern MASTER = Pattern.compile(
            "local|local\\[(\\*|[1-9][0-9]*)]|local\\[(\\*|[1-9][0-9]*),[1-9][0-9]*]|local-cluster\\[[1-9][0-9]*,[1-9][0-9]*,[1-9][0-9]*]"
                    + "|spark://[^\\s/]+(:[0-9]+)?(,[^\\s/]+(:[0-9]+)?)*|yarn|k8s://\\S+|mesos://\\S+");

    /** The local engine: every pass in this JVM. */
    public static final EngineSpec LOCAL = new EngineSpec("local", null, null, null, null);

    /** Checks every option, naming the one that is wrong and what would be valid. */
    public EngineSpec {
        if (!TYPES.contains(type)) {
            throw new ConfigException("engine.type '" + type + "' is not an engine; valid: " + String.join(", ", TYPES));
        }
        if (type.equals("local")) {
            if (master != null || partitions != null || threadsPerTask != null || javacppCache != null) {
                throw new ConfigException("engine.type local takes no master, partitions, threadsPerTask or javacppCache"
                        + " (they are options of engine.type spark)");
            }
        } else {
            if (master != null && !MASTER.matcher(master).matches()) {
                throw new ConfigException("engine.master '" + master + "' is not a Spark master URL; valid: local, local[N], "
                        + "local[*], local[N,F], spark://HOST:PORT, yarn, k8s://URL");
            }
            if (partitions != null && (partitions < 1 || partitions > 100_000)) {
                throw new ConfigException("engine.partitions must be between 1 and 100000, found " + partitions);
            }
            if (threadsPerTask != null && (threadsPerTask < 1 || threadsPerTask > 256)) {
                throw new ConfigException("engine.threadsPerTask must be between 1 and 256, found " + threadsPerTask);
            }
            if (javacppCache != null && javacppCache.isBlank()) {
                throw new ConfigException("engine.javacppCache must be a folder path, found an empty string");
            }
        }
    }

    /** @return true for an engine other than the local one */
    public boolean distributed() {
        return !type.equals("local");
    }

    /**
     * @param option the value of {@code --engine}: {@code local}, {@code spark} or {@code spark:MASTER}
     * @param base   the experiment's {@code engine:} (its other options are kept when the type matches), or null
     * @return the engine the option asks for
     * @throws ConfigException naming the valid forms
     */
    public static EngineSpec ofOption(String option, EngineSpec base) {
        String type = option;
        String master = null;
        int colon = option.indexOf(':');
        if (colon >= 0) {
            type = option.substring(0, colon);
            master = option.substring(colon + 1);
            if (master.isEmpty()) {
                throw new ConfigException("--engine " + option + ": the master after ':' is empty; e.g. --engine spark:local[2]");
            }
        }
        if (!TYPES.contains(type)) {
            throw new ConfigException("--engine " + option + " is not an engine; valid: local, spark, spark:MASTER (e.g. spark:local[2])");
        }
        if (type.equals("local")) {
            if (master != null) {
                throw new ConfigException("--engine " + option + ": the local engine takes no master");
            }
            return LOCAL;
        }
        if (base != null && base.type().equals(type)) {
            return new EngineSpec(type, master != null ? master : base.master(), base.partitions(), base.threadsPerTask(),
                    base.javacppCache());
        }
        return new EngineSpec(type, master, null, null, null);
    }

    /**
     * @param value the plain value of {@code engine:} in an experiment (a mapping), or null
     * @return the engine it describes; {@link #LOCAL} for null
     * @throws ConfigException naming the key that is wrong
     */
    public static EngineSpec ofConfig(Object value) {
        if (value == null) {
            return LOCAL;
        }
        if (!(value instanceof Map<?, ?> m)) {
            throw new ConfigException("engine must be a mapping like {type: spark, master: \"local[2]\"}, found " + value);
        }
        for (Object k : m.keySet()) {
            if (!KEYS.contains(String.valueOf(k))) {
                throw new ConfigException("engine." + k + " is not an engine option; valid: " + String.join(", ", KEYS));
            }
        }
        Object type = m.get("type");
        if (!(type instanceof String t)) {
            throw new ConfigException("engine.type is required: local or spark");
        }
        return new EngineSpec(t, string(m, "master"), integer(m, "partitions"), integer(m, "threadsPerTask"),
                string(m, "javacppCache"));
    }

    /**
     * @param resolvedMaster the master the engine runs on
     * @param partitionCount the partitions of the last pass (0 before any)
     * @return the facts provenance.json records: engine, master, partition count, options
     */
    public Map<String, Object> describe(String resolvedMaster, int partitionCount) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("engine", type);
        if (distributed()) {
            d.put("master", resolvedMaster);
            d.put("partitions", partitionCount);
            d.put("threadsPerTask", threadsPerTask);
            d.put("javacppCache", javacppCache);
        }
        return d;
    }

    private static String string(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new ConfigException("engine." + key + " must be a string, found " + v);
        }
        return s;
    }

    private static Integer integer(Map<?, ?> m, String key) {
        Object v = m.get(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof Number n) || n.longValue() != n.doubleValue() || Math.abs(n.longValue()) > Integer.MAX_VALUE) {
            throw new ConfigException("engine." + key + " must be a whole number, found " + v);
        }
        return n.intValue();
    }
}
