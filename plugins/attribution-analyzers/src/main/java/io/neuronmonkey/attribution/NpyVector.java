package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a vector of floats from a NumPy {@code .npy} file: format versions 1 to 3, little-endian float32
 * ({@code <f4}) or float64 ({@code <f8}), C order, any shape (its values in row-major order).
 */
final class NpyVector {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

    private NpyVector() {
    }

    /**
     * @param file the file
     * @return its values
     * @throws AnalysisException when the file cannot be read or is not a little-endian float array in C order
     */
    static float[] read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new AnalysisException("cannot read direction file " + file + ": " + e.getMessage(), e);
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < MAGIC.length; i++) {
            if (bytes.length <= i || bytes[i] != MAGIC[i]) {
                throw new AnalysisException(file + " is not a .npy file (no \\x93NUMPY magic)");
            }
        }
        if (bytes.length < 10) {
            throw new AnalysisException(file + ": truncated .npy header");
        }
        int major = bytes[6];
        int headerLength;
        int start;
        if (major == 1) {
            headerLength = Short.toUnsignedInt(buf.getShort(8));
            start = 10;
        } else if (major == 2 || major == 3) {
            if (bytes.length < 12) {
                throw new AnalysisException(file + ": truncated .npy header");
            }
            headerLength = buf.getInt(8);
            start = 12;
        } else {
            throw new AnalysisException(file + ": .npy format version " + major + " is not supported (1, 2 or 3)");
        }
        if (headerLength < 0 || start + headerLength > bytes.length) {
            throw new AnalysisException(file + ": truncated .npy header");
        }
        String header = new String(bytes, start, headerLength, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        String descr = group(DESCR, header, file, "descr");
        if (!"False".equals(group(FORTRAN, header, file, "fortran_order"))) {
            throw new AnalysisException(file + ": Fortran-order arrays are not supported; save it with np.ascontiguousarray");
        }
        long count = 1;
        for (String d : group(SHAPE, header, file, "shape").split(",")) {
            if (!d.isBlank()) {
                count *= Long.parseLong(d.trim());
            }
        }
        int width = switch (descr) {
            case "<f4" -> 4;
            case "<f8" -> 8;
            default -> throw new AnalysisException(file + ": dtype '" + descr + "' is not supported; save the direction as float32 ('<f4') or float64 ('<f8')");
        };
        int data = start + headerLength;
        if (count > Integer.MAX_VALUE || data + count * width != bytes.length) {
            throw new AnalysisException(file + ": the header promises " + count + " values of " + width + " bytes, the file holds "
                    + (bytes.length - data) + " bytes of data");
        }
        float[] out = new float[(int) count];
        buf.position(data);
        if (width == 4) {
            buf.asFloatBuffer().get(out);
        } else {
            java.nio.DoubleBuffer d = buf.asDoubleBuffer();
            for (int i = 0; i < out.length; i++) {
                out[i] = (float) d.get(i);
            }
        }
        return out;
    }

    private static String group(Pattern p, String header, Path file, String key) {
        Matcher m = p.matcher(header);
        if (!m.find()) {
            throw new AnalysisException(file + ": the .npy header has no '" + key + "': " + header.trim());
        }
        return m.group(1);
    }
}
