package io.neuronmonkey.runtime.config;

import io.neuronmonkey.api.ConfigException;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.nodes.Node;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a YAML document may cost is bounded while it is read, and every refusal says where and why. */
class YamlLimitsTest {

    /** {@code levels} anchors, each a list of {@code width} aliases of the one before: width^levels leaves. */
    static String aliasBomb(int levels, int width) {
        StringBuilder sb = new StringBuilder("experiment: bomb\nsteps: []\nx0: &a0 [v]\n");
        for (int i = 1; i <= levels; i++) {
            sb.append('x').append(i).append(": &a").append(i).append(" [");
            for (int j = 0; j < width; j++) {
                sb.append(j == 0 ? "" : ", ").append("*a").append(i - 1);
            }
            sb.append("]\n");
        }
        return sb.toString();
    }

    /** Expanded node count of the bomb, counted independently: each level is a list node plus width copies. */
    static long expandedNodes(int levels, int width) {
        long size = 2; // x0: a list holding one scalar
        long total = 2 + 2 + 2; // the keys experiment/steps with their values, key x0
        total += size;
        for (int i = 1; i <= levels; i++) {
            size = 1 + width * size;
            total += 1 + size; // key x_i and its list
        }
        return total;
    }

    @Test
    void aliasBombUnderTheAliasLimitIsRefusedByItsExpandedSizeWithAPosition() {
        // the campaign's shape: 25 levels x 2 aliases = 50 aliases, 2^25 leaves
        String bomb = aliasBomb(25, 2);
        assertTrue(bomb.length() < 1000, "a small file: " + bomb.length());
        ConfigException e = assertThrows(ConfigException.class, () -> Yaml.compose(bomb, "bomb.yaml"));
        assertTrue(e.getMessage().startsWith("bomb.yaml: YAML document too large at line "), e.getMessage());
        assertTrue(e.getMessage().contains("more than 1,000,000 values, lists and mappings"), e.getMessage());
        // the limit is crossed on the line of the first level whose expanded total passes it
        int level = 1;
        while (expandedNodes(level, 2) <= Yaml.MAX_NODES) {
            level++;
        }
        assertEquals(18, level, "independent count: about 3 * 2^19 nodes up to level 18");
        assertTrue(e.getMessage().contains("at line " + (3 + level) + ", col "), e.getMessage());
    }

    @Test
    void documentJustUnderTheNodeLimitIsRead() {
        // 16 levels: about 393,000 nodes with the aliases expanded, under the limit
        assertTrue(expandedNodes(16, 2) < Yaml.MAX_NODES);
        Node root = Yaml.compose(aliasBomb(16, 2), "ok.yaml").orElseThrow();
        Object plain = Yaml.plain(root);
        assertTrue(plain instanceof Map<?, ?>);
    }

    @Test
    void deepNestingIsAYamlErrorNotAStackOverflow() {
        String deep = "experiment: deep\nsteps: " + "[".repeat(100_000) + "]".repeat(100_000) + "\n";
        ConfigException e = assertThrows(ConfigException.class, () -> Yaml.compose(deep, "deep.yaml"));
        assertEquals("deep.yaml: YAML nesting too deep at line 2, col 71 - more than 64 levels of lists and mappings "
                + "inside each other; NeuronMonkey reads at most 64", e.getMessage());
        // the root mapping is the first level: 63 lists inside it are still fine
        String max = "a: " + "[".repeat(63) + "]".repeat(63) + "\n";
        assertTrue(Yaml.compose(max, "max.yaml").isPresent());
    }

    @Test
    void oversizedDocumentIsRefusedBeforeParsing() {
        String big = "experiment: big\nsteps: []\n# " + "x".repeat(Yaml.MAX_CODE_POINTS) + "\n";
        ConfigException e = assertThrows(ConfigException.class, () -> Yaml.compose(big, "big.yaml"));
        assertTrue(e.getMessage().startsWith("big.yaml: YAML document too large - 2,097,181 characters"), e.getMessage());
        assertTrue(e.getMessage().endsWith("at most 2,097,152 characters (2 MiB)"), e.getMessage());
    }

    @Test
    void recursiveAliasDoesNotRecurseForever() {
        String yaml = "experiment: r\nsteps: []\nx: &a [1, *a]\n";
        ConfigException e = assertThrows(ConfigException.class, () -> Yaml.plain(Yaml.compose(yaml, "r.yaml").orElseThrow()));
        assertTrue(e.getMessage().contains("nesting deeper than 64"), e.getMessage());
    }

    @Test
    void nonUtf8FileNamesTheByteOffsetLineAndExpectedEncoding() {
        byte[] latin1 = "experiment: caf\u00e9\nsteps: []\n".getBytes(StandardCharsets.ISO_8859_1);
        ConfigException e = assertThrows(ConfigException.class, () -> ExperimentParser.decode(latin1, "/x/latin1.yaml"));
        assertEquals("/x/latin1.yaml: not UTF-8 text: byte 0xE9 at offset 15 (line 1, col 16) is not valid UTF-8; "
                + "experiment files must be saved as UTF-8", e.getMessage());
        byte[] utf16 = "experiment: x\n".getBytes(StandardCharsets.UTF_16LE);
        byte[] bom = new byte[utf16.length + 2];
        bom[0] = (byte) 0xFF;
        bom[1] = (byte) 0xFE;
        System.arraycopy(utf16, 0, bom, 2, utf16.length);
        ConfigException u = assertThrows(ConfigException.class, () -> ExperimentParser.decode(bom, "u.yaml"));
        assertTrue(u.getMessage().contains("offset 0 (line 1, col 1)") && u.getMessage().contains("saved as UTF-16"), u.getMessage());
        assertEquals("caf\u00e9", ExperimentParser.decode("caf\u00e9".getBytes(StandardCharsets.UTF_8), "ok"));
    }

    @Test
    void integersBindWithRangeChecksNeverByTruncation() {
        ConfigValidationException e = assertThrows(ConfigValidationException.class, () -> ExperimentParser.parse(
                ExperimentParserTest.FILE, "experiment: x\nseed: 99999999999999999999\nbatchSize: 4294967297\nsteps: []\n"));
        assertEquals(List.of(
                "seed (line 2, col 7) - must be an integer between -9223372036854775808 and 9223372036854775807, found 99999999999999999999",
                "batchSize (line 3, col 12) - must be an integer between 1 and 65536, found 4294967297"),
                e.problems().stream().map(ConfigProblem::toString).toList());
        ConfigValidationException big = assertThrows(ConfigValidationException.class, () -> ExperimentParser.parse(
                ExperimentParserTest.FILE, "experiment: x\nbatchSize: 2147483648\nsteps: []\n"));
        assertEquals("batchSize (line 2, col 12) - must be an integer between 1 and 65536, found 2147483648",
                big.problems().get(0).toString());
        assertEquals(65536, ExperimentParser.parse(ExperimentParserTest.FILE, "experiment: x\nbatchSize: 65536\nsteps: []\n").batchSize());
        assertEquals(Long.MIN_VALUE, ExperimentParser.parse(ExperimentParserTest.FILE,
                "experiment: x\nseed: -9223372036854775808\nsteps: []\n").seed());
    }

    @Test
    void duplicateLayersAndOverlongIdsAreRefusedAtTheRepeat() {
        String id = "s".repeat(300);
        ConfigValidationException e = assertThrows(ConfigValidationException.class, () -> ExperimentParser.parse(
                ExperimentParserTest.FILE, "experiment: x\nsteps:\n  - id: census\n    analyzer: activation-stats\n"
                        + "    layers: [conv1, dense1, conv1]\n  - id: " + id + "\n    analyzer: activation-stats\n"));
        assertEquals(List.of(
                "steps[0].layers[2] (line 5, col 29) - layer 'conv1' is listed twice (first at layers[0]); list each layer once",
                "steps[1].id (line 6, col 9) - must be at most 100 characters (it names a folder), found 300 characters "
                        + "('ssssssssssssssssssss...')"),
                e.problems().stream().map(ConfigProblem::toString).toList());
    }

    @Test
    void controlCharacterIsNamedWithItsPosition() {
        ConfigException e = assertThrows(ConfigException.class, () -> Yaml.compose("experiment: x\nsteps: [a\u0007]\n", "c.yaml"));
        assertEquals("c.yaml: YAML error at line 2, col 10 - the character U+0007 is not allowed in YAML (control characters "
                + "other than tab and line breaks are not)", e.getMessage());
    }

    @Test
    void malformedTagFoundByFuzzingIsAYamlErrorWithAPosition() {
        // found by the experimentParser fuzz target: the composer threw IllegalArgumentException for this tag
        ConfigException e = assertThrows(ConfigException.class, () -> Yaml.compose("!%4", "t.yaml"));
        assertEquals("t.yaml: YAML error at line 1, col 1 - Tag must not contain leading or trailing spaces.", e.getMessage());
    }
}
