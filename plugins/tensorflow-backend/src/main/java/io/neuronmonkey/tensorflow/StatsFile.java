package io.neuronmonkey.tensorflow;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.neuronmonkey.api.ModelException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads per-channel normalization statistics (see {@link TensorFlowBackend.MeanStdFile}): a JSON object with a mean
 * and a spread array (numbers or nested lists, flattened), or a small {@code .npy} array {@code [2, C]} of float32
 * or float64. Variances become standard deviations {@code sqrt(var + epsilon)}.
 */
final class StatsFile {

    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|=]?)(f4|f8)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    /**
     * @param mean one mean per channel
     * @param std  one standard deviation per channel, > 0
     */
    record MeanStd(List<Double> mean, List<Double> std) {
    }

    private StatsFile() {
    }

    static MeanStd read(Path file, TensorFlowBackend.MeanStdFile spec) {
        String param = "model param preprocess.meanStdFile";
        if (!Files.isRegularFile(file)) {
            throw new ModelException(param + ".file: " + file + " does not exist");
        }
        List<Double> mean;
        List<Double> spread;
        try {
            if (file.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
                double[][] rows = npy(file, param);
                mean = boxed(rows[0]);
                spread = boxed(rows[1]);
            } else {
                JsonNode root = new ObjectMapper().readTree(file.toFile());
                mean = numbers(root, spec.meanKey(), file, param + ".meanKey");
                spread = numbers(root, spec.spreadKey(), file, param + ".spreadKey");
            }
        } catch (IOException e) {
            throw new ModelException(param + ": cannot read " + file + ": " + e.getMessage(), e);
        }
        if (mean.size() != spread.size()) {
            throw new ModelException(param + ": " + file + " has " + mean.size() + " means but " + spread.size() + " "
                    + spec.spreadKey() + " values; they must match, one per channel");
        }
        List<Double> std = new ArrayList<>();
        for (int i = 0; i < spread.size(); i++) {
            double v = spread.get(i);
            double s = spec.spread() == TensorFlowBackend.Spread.VAR ? Math.sqrt(v + spec.epsilon()) : v;
            if (!(s > 0) || !Double.isFinite(s) || !Double.isFinite(mean.get(i))) {
                throw new ModelException(param + ": " + file + " channel " + i + " has mean " + mean.get(i) + " and "
                        + spec.spread().name().toLowerCase(Locale.ROOT) + " " + v + "; the standard deviation must be"
                        + " positive and finite" + (spec.spread() == TensorFlowBackend.Spread.VAR
                        ? " (set meanStdFile.epsilon for zero variances)" : ""));
            }
            std.add(s);
        }
        return new MeanStd(mean, std);
    }

    private static List<Double> numbers(JsonNode root, String key, Path file, String param) {
        JsonNode node = root.get(key);
        if (node == null) {
            List<String> keys = new ArrayList<>();
            root.fieldNames().forEachRemaining(keys::add);
            throw new ModelException(param + ": " + file + " has no key '" + key + "'; its keys: "
                    + (keys.isEmpty() ? "none (is it a JSON object?)" : String.join(", ", keys)));
        }
        List<Double> out = new ArrayList<>();
        flatten(node, out, file, param);
        if (out.isEmpty()) {
            throw new ModelException(param + ": '" + key + "' in " + file + " holds no numbers");
        }
        return out;
    }

    private static void flatten(JsonNode node, List<Double> out, Path file, String param) {
        if (node.isNumber()) {
            out.add(node.asDouble());
        } else if (node.isArray()) {
            for (Iterator<JsonNode> it = node.elements(); it.hasNext(); ) {
                flatten(it.next(), out, file, param);
            }
        } else {
            throw new ModelException(param + ": " + file + " holds " + node.getNodeType().name().toLowerCase(Locale.ROOT)
                    + " '" + node.asText() + "' where numbers were expected");
        }
    }

    /** A C-order little-endian float32/float64 {@code .npy} of shape {@code [2, C]}. */
    private static double[][] npy(Path file, String param) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 10 || (bytes[0] & 0xff) != 0x93 || bytes[1] != 'N' || bytes[2] != 'U') {
            throw new ModelException(param + ": " + file + " is not an NPY file");
        }
        int major = bytes[6];
        int headerLen = major == 1 ? b.getShort(8) & 0xffff : b.getInt(8);
        int start = major == 1 ? 10 : 12;
        String header = new String(bytes, start, Math.min(headerLen, bytes.length - start), StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !s.find() || header.contains("'fortran_order': True") || d.group(1).equals(">")) {
            throw new ModelException(param + ": " + file + " must hold a little-endian, C-order float32 or float64"
                    + " array [2, C] (row 0 the mean, row 1 the spread); its header is " + header.strip());
        }
        String[] dims = s.group(1).replace(" ", "").split(",");
        if (dims.length < 2 || !dims[0].equals("2")) {
            throw new ModelException(param + ": " + file + " has shape (" + s.group(1) + "); expected (2, C): row 0"
                    + " the mean, row 1 the spread");
        }
        int c = Integer.parseInt(dims[1]);
        boolean f8 = d.group(2).equals("f8");
        int data = start + headerLen;
        if (bytes.length < data + 2L * c * (f8 ? 8 : 4)) {
            throw new ModelException(param + ": " + file + " is truncated");
        }
        double[][] rows = new double[2][c];
        b.position(data);
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < c; i++) {
                rows[r][i] = f8 ? b.getDouble() : b.getFloat();
            }
        }
        return rows;
    }

    private static List<Double> boxed(double[] values) {
        List<Double> out = new ArrayList<>(values.length);
        for (double v : values) {
            out.add(v);
        }
        return out;
    }
}
