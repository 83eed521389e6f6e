package io.neuronmonkey.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronmonkey.api.DataException;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON Lines records: one JSON object a line, blank lines skipped. A string field is its text, JSON {@code null} a
 * missing field, a number or boolean its JSON spelling, an array or object its JSON text.
 */
final class JsonlTextRecords extends TextRecords {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** @param file the file */
    JsonlTextRecords(Path file) {
        super(file, "JSON Lines file");
    }

    @Override
    List<String> header() {
        return null;
    }

    @Override
    long recordLine() {
        return line;
    }

    @Override
    Map<String, String> next() {
        String text;
        do {
            text = readLine();
            if (text == null) {
                return null;
            }
        } while (text.isBlank());
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new DataException("JSON Lines file " + file + " line " + line + " is not valid JSON: "
                    + e.getOriginalMessage());
        }
        if (!node.isObject()) {
            throw new DataException("JSON Lines file " + file + " line " + line + " is a JSON " + node.getNodeType()
                    .name().toLowerCase(java.util.Locale.ROOT) + "; every line must be an object such as "
                    + "{\"text\": \"...\", \"label\": \"...\"}");
        }
        Map<String, String> out = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> {
            JsonNode v = e.getValue();
            out.put(e.getKey(), v.isNull() ? null : v.isValueNode() ? v.asText() : v.toString());
        });
        return out;
    }
}
