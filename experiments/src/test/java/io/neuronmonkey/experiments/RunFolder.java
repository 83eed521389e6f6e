package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import org.htmlunit.WebClient;
import org.htmlunit.html.DomElement;
import org.htmlunit.html.HtmlPage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads a run folder the way an outside tool would: JSON with Jackson, arrays with an independent {@code .npy}
 * reader, both schemas from {@code docs/schema}, and the report in HtmlUnit with its scripts running.
 */
final class RunFolder {

    static final ObjectMapper JSON = new ObjectMapper();
    private final Path dir;

    RunFolder(Path dir) {
        this.dir = dir;
    }

    Path dir() {
        return dir;
    }

    JsonNode result(String step) throws IOException {
        return JSON.readTree(dir.resolve(step).resolve("result.json").toFile());
    }

    JsonNode part(String step, String id) throws IOException {
        for (JsonNode p : result(step).get("parts")) {
            if (p.get("id").asText().equals(id)) {
                return p;
            }
        }
        throw new AssertionError("step '" + step + "' has no part '" + id + "'");
    }

    /** @return a neuron table's column, read from its .npy with the independent reader */
    float[] column(String step, String table, String column) throws IOException {
        for (JsonNode c : part(step, table).get("columns")) {
            if (c.get("name").asText().equals(column)) {
                return array(step, c.get("values"));
            }
        }
        throw new AssertionError(table + " has no column " + column);
    }

    float[] array(String step, JsonNode ref) throws IOException {
        float[] f = npy(dir.resolve(step).resolve(ref.get("file").asText()));
        int n = 1;
        for (JsonNode d : ref.get("shape")) {
            n *= d.asInt();
        }
        assertEquals(n, f.length, "shape " + ref.get("shape") + " of " + ref.get("file"));
        assertEquals(ref.get("shape").size(), ref.get("dims").size(), "one name per dimension: " + ref);
        return f;
    }

    List<Integer> tag(String step, String table, String name) throws IOException {
        List<Integer> out = new ArrayList<>();
        for (JsonNode t : part(step, table).get("tags")) {
            if (t.get("name").asText().equals(name)) {
                t.get("neurons").forEach(n -> out.add(n.asInt()));
            }
        }
        return out;
    }

    /** Every result.json and the index.json validate against the shipped schemas. */
    void assertValidAgainstSchemas() throws IOException {
        JsonSchema result = schema("result-v2.schema.json");
        JsonSchema index = schema("index-v1.schema.json");
        JsonNode idx = JSON.readTree(dir.resolve("index.json").toFile());
        Set<ValidationMessage> bad = index.validate(idx);
        assertTrue(bad.isEmpty(), "index.json: " + bad);
        for (JsonNode step : idx.get("steps")) {
            Path r = dir.resolve(step.get("id").asText()).resolve("result.json");
            if (Files.isRegularFile(r)) {
                Set<ValidationMessage> m = result.validate(JSON.readTree(r.toFile()));
                assertTrue(m.isEmpty(), r + ": " + m);
                for (JsonNode p : step.get("parts")) {
                    for (JsonNode a : p.get("arrays")) {
                        assertTrue(Files.isRegularFile(dir.resolve(a.get("file").asText())), "index names " + a);
                    }
                }
            }
        }
    }

    /** @return the report, loaded with its scripts; fails on a script error or an error box */
    HtmlPage report(WebClient wc) throws IOException {
        wc.getOptions().setThrowExceptionOnScriptError(true);
        wc.getOptions().setCssEnabled(false);
        HtmlPage page = wc.getPage(dir.resolve("report.html").toUri().toURL());
        for (DomElement e : page.getElementsByTagName("p")) {
            assertFalse("error".equals(e.getAttribute("class")), "the report shows a rendering error: " + e.asNormalizedText());
        }
        return page;
    }

    private static JsonSchema schema(String name) throws IOException {
        try (InputStream in = Files.newInputStream(Launcher.ROOT.resolve("docs/schema").resolve(name))) {
            return JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012).getSchema(in);
        }
    }

    static float[] npy(Path file) throws IOException {
        byte[] b = Files.readAllBytes(file);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        String header = new String(b, 10, headerLen, StandardCharsets.US_ASCII);
        assertTrue(header.contains("'descr': '<f4'") || header.contains("'descr': '<i4'"), header);
        ByteBuffer data = ByteBuffer.wrap(b, 10 + headerLen, b.length - 10 - headerLen).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[(b.length - 10 - headerLen) / 4];
        if (header.contains("<i4")) {
            for (int i = 0; i < f.length; i++) {
                f[i] = data.getInt();
            }
        } else {
            data.asFloatBuffer().get(f);
        }
        return f;
    }
}
