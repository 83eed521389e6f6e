package io.neuronmonkey.experiments;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.runtime.config.ConfigProblem;
import io.neuronmonkey.runtime.config.ConfigValidationException;
import io.neuronmonkey.runtime.config.ExperimentConfig;
import io.neuronmonkey.runtime.config.ExperimentParser;
import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.config.Position;
import io.neuronmonkey.runtime.config.Problems;
import io.neuronmonkey.runtime.config.Yaml;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.nodes.Node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Fuzz targets for what reads user input before anything runs: the YAML loader with the experiment parser, and the
 * params binder. Whatever the bytes, the only failure allowed is the project's own {@link ConfigException}, and
 * every message it carries says where (a line and column, or a byte offset). {@code mvn verify} runs the seed
 * corpus in {@code src/test/resources/.../ConfigFuzzTestInputs/} (Jazzer's regression mode) and a bounded, seeded
 * mutation of it; {@code JAZZER_FUZZ=1} fuzzes for real (see the README).
 */
class ConfigFuzzTest {

    static final Path FILE = Path.of("/fuzz/experiment.yaml");
    private static final Pattern WHERE = Pattern.compile("line \\d+, col \\d+|at offset \\d+");

    @FuzzTest(maxDuration = "30s")
    void experimentParser(byte[] input) {
        parseExperiment(input);
    }

    @FuzzTest(maxDuration = "30s")
    void paramsBinder(FuzzedDataProvider data) {
        bindParams(data.consumeRemainingAsString());
    }

    static void parseExperiment(byte[] input) {
        try {
            String text = ExperimentParser.decode(input, FILE.toString());
            ExperimentConfig c = ExperimentParser.read(FILE, text);
            for (ConfigProblem p : c.problems()) {
                assertPositioned(p);
            }
            try {
                c.requireValid();
            } catch (ConfigValidationException e) {
                assertTrue(e.getMessage().startsWith(FILE + ": "), e.getMessage());
            }
        } catch (ConfigValidationException e) {
            e.problems().forEach(ConfigFuzzTest::assertPositioned);
        } catch (ConfigException e) {
            assertTrue(WHERE.matcher(e.getMessage()).find(), "no position in: " + e.getMessage());
        }
    }

    /** Every param type the binder knows, nested. */
    public record Inner(@Param(defaultValue = "1") int k, List<Double> weights) {
    }

    public record Everything(@Param(defaultValue = "5") int count, @Param(defaultValue = "0") long seed,
                             @Param(defaultValue = "0.5") double rate, @Param(defaultValue = "1.0") float scale,
                             @Param(defaultValue = "false") boolean flag, @Param(defaultValue = "mean") Mode mode,
                             String name, List<Integer> sizes, List<List<String>> groups, Map<String, Object> extra,
                             Inner inner) {
        public enum Mode { MEAN, MAX_ABS }

        public Everything {
            Violations.check()
                    .require(count >= 1, "count", "must be >= 1, found " + count)
                    .require(rate >= 0 && rate <= 1, "rate", "must be in [0, 1], found " + rate)
                    .throwIfAny();
        }
    }

    static void bindParams(String text) {
        Node node;
        try {
            node = Yaml.compose(text, "params.yaml").orElse(null);
        } catch (ConfigException e) {
            assertTrue(WHERE.matcher(e.getMessage()).find() || e.getMessage().contains("too large - "), "no position in: " + e.getMessage());
            return;
        }
        Problems problems = new Problems();
        try {
            ParamsBinder.bind(Everything.class, node, "steps[0].params", problems);
        } catch (ConfigException e) {
            assertTrue(WHERE.matcher(e.getMessage()).find(), "no position in: " + e.getMessage());
            return;
        }
        if (node != null) {
            problems.list().forEach(ConfigFuzzTest::assertPositioned);
        }
    }

    private static void assertPositioned(ConfigProblem p) {
        assertNotEquals(Position.UNKNOWN, p.position(), "no position: " + p);
        assertTrue(p.position().line() >= 1 && p.position().column() >= 1, p.toString());
    }

    /**
     * A bounded, deterministic stand-in for a fuzzing run inside {@code mvn verify}: each seed, mutated a few hundred
     * times (bytes flipped, inserted, deleted, spliced from another seed), through both targets.
     */
    @Test
    void seededMutationsOfTheCorpusFailOnlyWithPositionedConfigErrors() throws IOException {
        List<byte[]> seeds = new ArrayList<>();
        for (String s : List.of("quickstart.yaml", "bad-structure.yaml", "aliases.yaml", "params.yaml", "deep.yaml")) {
            try (InputStream in = ConfigFuzzTest.class.getResourceAsStream("ConfigFuzzTestInputs/experimentParser/" + s)) {
                if (in == null) {
                    fail("seed " + s + " is missing");
                }
                seeds.add(in.readAllBytes());
            }
        }
        Random random = new Random(20261202L);
        byte[] alphabet = "{}[]:,-&*!|>'\"#\n\t ?%@`0123456789.eE+aZ_\u00e9".getBytes(StandardCharsets.UTF_8);
        for (int round = 0; round < 400; round++) {
            for (byte[] seed : seeds) {
                byte[] m = mutate(seed, seeds.get(random.nextInt(seeds.size())), random, alphabet);
                try {
                    parseExperiment(m);
                    bindParams(new String(m, StandardCharsets.UTF_8));
                } catch (AssertionError | RuntimeException | StackOverflowError e) {
                    throw new AssertionError("round " + round + " input:\n" + new String(m, StandardCharsets.UTF_8), e);
                }
            }
        }
    }

    private static byte[] mutate(byte[] seed, byte[] other, Random r, byte[] alphabet) {
        List<Byte> b = new ArrayList<>(seed.length + 16);
        for (byte x : seed) {
            b.add(x);
        }
        int edits = 1 + r.nextInt(8);
        for (int i = 0; i < edits && !b.isEmpty(); i++) {
            int at = r.nextInt(b.size());
            switch (r.nextInt(5)) {
                case 0 -> b.set(at, alphabet[r.nextInt(alphabet.length)]);
                case 1 -> b.add(at, alphabet[r.nextInt(alphabet.length)]);
                case 2 -> b.remove(at);
                case 3 -> b.set(at, (byte) r.nextInt(256));
                default -> {
                    int from = r.nextInt(other.length);
                    int len = Math.min(other.length - from, 1 + r.nextInt(40));
                    for (int j = 0; j < len; j++) {
                        b.add(Math.min(at + j, b.size()), other[from + j]);
                    }
                }
            }
        }
        byte[] out = new byte[b.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = b.get(i);
        }
        return out;
    }
}
