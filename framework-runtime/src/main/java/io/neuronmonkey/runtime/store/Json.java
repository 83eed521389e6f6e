package io.neuronmonkey.runtime.store;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.neuronmonkey.api.OutputException;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** JSON through Jackson; non-finite numbers are written as strings by Jackson's default ("NaN", "Infinity") so files stay valid JSON. */
public final class Json {

    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT);

    private Json() {
    }

    public static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new OutputException("cannot encode JSON: " + e.getMessage(), e);
        }
    }

    public static void write(Path file, Object value) {
        AtomicFiles.write(file, bytes(value));
    }

    public static Map<String, Object> readMap(Path file) {
        try {
            return MAPPER.readValue(file.toFile(), new TypeReference<Map<String, Object>>() { });
        } catch (IOException e) {
            throw new OutputException("cannot read JSON " + file + ": " + e.getMessage(), e);
        }
    }
}
