package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code neuronmonkey schema} over the shipped bundles: every shipped experiment is valid against it, and a wrong
 * param type, an unknown param or an unknown analyzer is rejected at the field.
 */
class ExperimentSchemaTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;

    static JsonSchema schema;

    @BeforeAll
    static void generate() throws Exception {
        Launcher.Result r = Launcher.run(work, "schema");
        assertEquals(0, r.code(), r.all());
        schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V7).getSchema(JSON.readTree(r.out()));
    }

    @Test
    void everyShippedExperimentIsValid() throws IOException {
        List<Path> shipped;
        try (Stream<Path> s = Files.list(Launcher.ROOT.resolve("experiments"))) {
            shipped = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(shipped.size() >= 3, "shipped experiments: " + shipped);
        for (Path p : shipped) {
            assertEquals(Set.of(), schema.validate(yaml(p)), p.getFileName().toString());
        }
    }

    @Test
    void aWrongParamTypeAnUnknownParamAndAnUnknownAnalyzerAreRejected() throws IOException {
        ObjectNode quickstart = yaml(Launcher.ROOT.resolve("experiments/quickstart.yaml"));
        ObjectNode census = (ObjectNode) quickstart.get("steps").get(0);
        assertEquals("activation-stats", census.get("analyzer").asText());

        ObjectNode wrongType = quickstart.deepCopy();
        ((ObjectNode) wrongType.get("steps").get(0).get("params")).put("bins", "many");
        assertRejected(wrongType, "bins");

        ObjectNode unknownParam = quickstart.deepCopy();
        ((ObjectNode) unknownParam.get("steps").get(0).get("params")).put("binz", 3);
        assertRejected(unknownParam, "binz");

        ObjectNode wrongSourceParam = quickstart.deepCopy();
        ((ObjectNode) wrongSourceParam.get("data").get("probe").get("params")).put("count", "lots");
        assertRejected(wrongSourceParam, "count");

        ObjectNode wrongBackendParam = quickstart.deepCopy();
        ((ObjectNode) wrongBackendParam.get("model")).put("signature", 3);
        assertRejected(wrongBackendParam, "signature");

        ObjectNode unknownAnalyzer = quickstart.deepCopy();
        ((ObjectNode) unknownAnalyzer.get("steps").get(0)).put("analyzer", "activation-statz");
        assertRejected(unknownAnalyzer, "analyzer");
    }

    private static void assertRejected(JsonNode experiment, String field) {
        Set<ValidationMessage> problems = schema.validate(experiment);
        assertFalse(problems.isEmpty(), "rejected: " + field);
        assertTrue(problems.stream().anyMatch(m -> m.toString().contains(field)), field + ": " + problems);
    }

    static ObjectNode yaml(Path file) throws IOException {
        Object tree = new Load(LoadSettings.builder().build()).loadFromString(Files.readString(file));
        return JSON.valueToTree(tree);
    }
}
