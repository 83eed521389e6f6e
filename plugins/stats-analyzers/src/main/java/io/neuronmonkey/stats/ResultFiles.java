package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.tensor.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a step's result back from disk as the runtime writes it: {@code result.json}
 * ({@code {"summary": {...}, "arrays": {"name": {"file": "name.npy", ...}}}}) with NumPy 1.0 {@code .npy} files
 * ({@code <f4} or {@code <i4}, C order) beside it. A small JSON parser is enough here (the plugin does not see the
 * runtime's Jackson); numbers become {@link Long} or {@link Double}, and Jackson's quoted "NaN" / "Infinity" stay
 * strings (see {@link #number}).
 */
final class ResultFiles {

    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|=]?)([a-z]\\d+)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private ResultFiles() {
    }

    /**
     * @param path   a {@code result.json} file or the step folder holding one
     * @param wanted which of the listed arrays to read
     * @return the summary and the wanted arrays
     */
    @SuppressWarnings("unchecked")
    static AnalysisResult read(Path path, Predicate<String> wanted) {
        Path file = Files.isDirectory(path) ? path.resolve("result.json") : path;
        if (!Files.isRegularFile(file)) {
            throw new AnalysisException("no result file at " + file);
        }
        Object root;
        try {
            root = parse(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new AnalysisException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            throw new AnalysisException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> m) || !(m.get("summary") instanceof Map<?, ?> summary)) {
            throw new AnalysisException(file + " has no 'summary' object; is it a result.json written by an analyzer step?");
        }
        Map<String, Tensor> arrays = new LinkedHashMap<>();
        if (m.get("arrays") instanceof Map<?, ?> index) {
            for (Map.Entry<?, ?> e : index.entrySet()) {
                String name = (String) e.getKey();
                if (wanted.test(name) && e.getValue() instanceof Map<?, ?> a && a.get("file") instanceof String f) {
                    arrays.put(name, readNpy(file.resolveSibling(f)));
                }
            }
        }
        return AnalysisResult.of((Map<String, Object>) summary, arrays);
    }

    /** Reads a NumPy 1.0/2.0 file of little-endian float32 or int32 in C order. */
    static Tensor readNpy(Path file) {
        byte[] all;
        try {
            all = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AnalysisException("cannot read " + file + ": " + e.getMessage(), e);
        }
        ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        if (all.length < 10 || (all[0] & 0xFF) != 0x93 || !new String(all, 1, 5, StandardCharsets.US_ASCII).equals("NUMPY")) {
            throw new AnalysisException(file + ": not an .npy file");
        }
        b.position(6);
        int major = b.get();
        b.get();
        int headerLen = major == 1 ? Short.toUnsignedInt(b.getShort()) : b.getInt();
        String header = new String(all, b.position(), headerLen, StandardCharsets.US_ASCII);
        b.position(b.position() + headerLen);
        Matcher d = DESCR.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !s.find() || header.contains("'fortran_order': True") || ">".equals(d.group(1))) {
            throw new AnalysisException(file + ": unsupported .npy header " + header.trim() + " (little-endian f4/i4, C order)");
        }
        int[] shape = java.util.Arrays.stream(s.group(1).split(",")).map(String::trim).filter(x -> !x.isEmpty())
                .mapToInt(Integer::parseInt).toArray();
        int n = java.util.Arrays.stream(shape).reduce(1, (x, y) -> x * y);
        ByteBuffer data = b.slice().order(ByteOrder.LITTLE_ENDIAN);
        if (data.remaining() < 4L * n) {
            throw new AnalysisException(file + ": " + data.remaining() + " data bytes for shape " + java.util.Arrays.toString(shape));
        }
        switch (d.group(2)) {
            case "f4" -> {
                float[] f = new float[n];
                data.asFloatBuffer().get(f);
                return Tensor.ofFloats(f, shape);
            }
            case "i4" -> {
                int[] v = new int[n];
                data.asIntBuffer().get(v);
                return Tensor.ofInts(v, shape);
            }
            default -> throw new AnalysisException(file + ": unsupported dtype " + d.group(2) + " (f4 and i4 are read)");
        }
    }

    /** @return a JSON number, or Jackson's quoted non-finite numbers ("NaN", "Infinity", "-Infinity"); NaN otherwise */
    static double number(Object o) {
        if (o instanceof Number x) {
            return x.doubleValue();
        }
        if (o instanceof String str) {
            switch (str) {
                case "NaN" -> {
                    return Double.NaN;
                }
                case "Infinity" -> {
                    return Double.POSITIVE_INFINITY;
                }
                case "-Infinity" -> {
                    return Double.NEGATIVE_INFINITY;
                }
                default -> {
                    return Double.NaN;
                }
            }
        }
        return Double.NaN;
    }

    /** Parses JSON text into Map / List / String / Long / Double / Boolean / null. */
    static Object parse(String text) {
        Parser p = new Parser(text);
        Object v = p.value();
        p.skipSpace();
        if (p.i != text.length()) {
            throw new IllegalArgumentException("trailing text at offset " + p.i);
        }
        return v;
    }

    private static final class Parser {
        private final String s;
        private int i;

        Parser(String s) {
            this.s = s;
        }

        void skipSpace() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private IllegalArgumentException error(String what) {
            return new IllegalArgumentException(what + " at offset " + i);
        }

        Object value() {
            skipSpace();
            if (i >= s.length()) {
                throw error("unexpected end");
            }
            char c = s.charAt(i);
            switch (c) {
                case '{' -> {
                    i++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    skipSpace();
                    if (peek('}')) {
                        return m;
                    }
                    do {
                        skipSpace();
                        String k = string();
                        skipSpace();
                        expect(':');
                        m.put(k, value());
                        skipSpace();
                    } while (peek(','));
                    expect('}');
                    return m;
                }
                case '[' -> {
                    i++;
                    List<Object> l = new ArrayList<>();
                    skipSpace();
                    if (peek(']')) {
                        return l;
                    }
                    do {
                        l.add(value());
                        skipSpace();
                    } while (peek(','));
                    expect(']');
                    return l;
                }
                case '"' -> {
                    return string();
                }
                default -> {
                    if (s.startsWith("true", i)) {
                        i += 4;
                        return Boolean.TRUE;
                    }
                    if (s.startsWith("false", i)) {
                        i += 5;
                        return Boolean.FALSE;
                    }
                    if (s.startsWith("null", i)) {
                        i += 4;
                        return null;
                    }
                    return numberToken();
                }
            }
        }

        private boolean peek(char c) {
            if (i < s.length() && s.charAt(i) == c) {
                i++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'");
            }
        }

        private Object numberToken() {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String t = s.substring(start, i);
            if (t.isEmpty()) {
                throw error("unexpected character '" + s.charAt(i) + "'");
            }
            if (t.matches("-?\\d+")) {
                try {
                    return Long.parseLong(t);
                } catch (NumberFormatException e) {
                    return Double.parseDouble(t);
                }
            }
            try {
                return Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw error("bad number '" + t + "'");
            }
        }

        private String string() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw error("unterminated string");
                }
                char c = s.charAt(i++);
                if (c == '"') {
                    return b.toString();
                }
                if (c != '\\') {
                    b.append(c);
                    continue;
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'b' -> b.append('\b');
                    case 'f' -> b.append('\f');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            }
        }
    }
}
