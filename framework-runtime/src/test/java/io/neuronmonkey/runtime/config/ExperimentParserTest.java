package io.neuronmonkey.runtime.config;

import io.neuronmonkey.api.ConfigException;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExperimentParserTest {

    static final Path FILE = Path.of("/tmp/exp/test.yaml");

    @Test
    void syntaxErrorNamesLineAndColumn() {
        String yaml = "experiment: x\nsteps:\n  - id: a\n    analyzer: [unclosed\n";
        ConfigException e = assertThrows(ConfigException.class, () -> ExperimentParser.parse(FILE, yaml));
        assertTrue(e.getMessage().contains("YAML syntax error at line 5, col 1"), e.getMessage());
    }

    @Test
    void structuralProblemsAreAllReportedWithPositions() {
        String yaml = """
                experiment: demo
                seeed: 3
                data:
                  probe: {source: synthetic-shapes}
                steps:
                  - id: census
                    analyzer: activation-stats
                    data: prob
                  - id: census
                    visualizer: html-report
                    inputs: [nowhere]
                """;
        ConfigValidationException e = assertThrows(ConfigValidationException.class, () -> ExperimentParser.parse(FILE, yaml));
        List<String> lines = e.problems().stream().map(ConfigProblem::toString).toList();
        assertEquals(4, lines.size(), lines.toString());
        assertEquals("seeed (line 2, col 1) - unknown top-level key 'seeed'; did you mean 'seed'? known: batchSize, data, "
                + "description, engine, experiment, model, plugins, seed, steps, trainer", lines.get(0));
        assertEquals("steps[0].data (line 8, col 11) - unknown data set 'prob'; did you mean 'probe'? known: probe "
                + "(declare it under 'data:')", lines.get(1));
        assertTrue(lines.get(2).startsWith("steps[1].id (line 9, col 9) - duplicate step id 'census'"), lines.get(2));
        assertTrue(lines.get(3).startsWith("steps[1].inputs[0] (line 11, col 14) - 'nowhere' is not an earlier step"), lines.get(3));
    }

    @Test
    void relativePathsResolveAgainstTheFileFolder() {
        ExperimentConfig c = ExperimentParser.parse(FILE, "experiment: x\nsteps: []\n");
        assertEquals(Path.of("/tmp/exp/models/m"), c.resolve("models/m"));
        assertEquals(Path.of("/abs/m"), c.resolve("/abs/m"));
        assertEquals(256, c.batchSize());
    }

    /** A params record like the ones plugins declare. */
    public record Params(@Param(defaultValue = "5") int k,
                         @Param(defaultValue = "mean") Mode mode,
                         List<String> names,
                         @Param(defaultValue = "0.5") double rate) {
        public enum Mode { MEAN, MAX_ABS }

        public Params {
            Violations.check()
                    .require(k >= 1, "k", "must be >= 1, found " + k)
                    .require(rate >= 0 && rate <= 1, "rate", "must be in [0, 1], found " + rate)
                    .throwIfAny();
        }
    }

    private static Optional<Params> bind(String yaml, Problems problems) {
        var node = Yaml.compose(yaml, "t.yaml").orElse(null);
        return ParamsBinder.bind(Params.class, node, "steps[1].params", problems);
    }

    @Test
    void bindsDefaultsEnumsAndLists() {
        Problems p = new Problems();
        Params params = bind("mode: max-abs\nnames: [a, b]\n", p).orElseThrow();
        assertTrue(p.isEmpty());
        assertEquals(new Params(5, Params.Mode.MAX_ABS, List.of("a", "b"), 0.5), params);
    }

    @Test
    void recordChecksAndTypeErrorsComeOutTogetherWithPositions() {
        Problems p = new Problems();
        assertTrue(bind("k: 0\nrate: 3\n", p).isEmpty());
        assertEquals(List.of("steps[1].params.k (line 1, col 4) - must be >= 1, found 0",
                "steps[1].params.rate (line 2, col 7) - must be in [0, 1], found 3.0"), p.list().stream().map(Object::toString).toList());

        Problems q = new Problems();
        assertTrue(bind("k: lots\nmode: median\nnames: x\nextra: 1\n", q).isEmpty());
        assertEquals(List.of(
                "steps[1].params.extra (line 4, col 1) - unknown param 'extra'; known: k, mode, names, rate",
                "steps[1].params.k (line 1, col 4) - must be an integer, found 'lots'",
                "steps[1].params.mode (line 2, col 7) - must be one of mean, max-abs, found 'median'",
                "steps[1].params.names (line 3, col 8) - must be a list of strings, e.g. [a, b], found 'x'"),
                q.list().stream().map(Object::toString).toList());
    }

    @Test
    void unsafeTagsAreNeverConstructed() {
        Problems p = new Problems();
        // composing never instantiates a type: the tag is only a string on the node
        Optional<Params> r = bind("names: !!java.io.File [x]\n", p);
        assertTrue(r.isPresent() || !p.isEmpty());
    }
}
