package io.neuronmonkey.runtime.store;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Reads and writes NumPy {@code .npy} files (format 1.0, little-endian, C order) in bulk. */
public final class Npy {

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([<>|]?)([a-z]\\d+)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    public static byte[] encode(Tensor t) {
        String descr = t.dtype() == DType.FLOAT32 ? "<f4" : "<i4";
        int[] shape = t.shape();
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            s.append(shape[i]).append(shape.length == 1 ? "," : i < shape.length - 1 ? ", " : "");
        }
        s.append(')');
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + s + ", }";
        int unpadded = MAGIC.length + 2 + 2 + dict.length() + 1;
        int pad = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        byte[] hb = header.getBytes(StandardCharsets.US_ASCII);
        ByteBuffer buf = ByteBuffer.allocate(MAGIC.length + 4 + hb.length + t.size() * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) hb.length).put(hb);
        if (t.dtype() == DType.FLOAT32) {
            buf.asFloatBuffer().put(t.floats());
        } else {
            buf.asIntBuffer().put(t.ints());
        }
        return buf.array();
    }

    public static void write(Tensor t, OutputStream out) {
        try {
            out.write(encode(t));
        } catch (IOException e) {
            throw new OutputException("cannot write npy: " + e.getMessage(), e);
        }
    }

    /** Reads a file written by {@link #encode} (float32 or int32, little-endian, C order). */
    public static Tensor read(Path file) {
        try {
            byte[] all = Files.readAllBytes(file);
            ByteBuffer b = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[6];
            b.get(magic);
            if (!Arrays.equals(magic, MAGIC)) {
                throw new OutputException(file + ": not an .npy file (bad magic)");
            }
            int major = b.get();
            b.get();
            int headerLen = major == 1 ? Short.toUnsignedInt(b.getShort()) : b.getInt();
            byte[] hb = new byte[headerLen];
            b.get(hb);
            String header = new String(hb, StandardCharsets.US_ASCII);
            Matcher d = DESCR.matcher(header);
            Matcher s = SHAPE.matcher(header);
            if (!d.find() || !s.find() || header.contains("'fortran_order': True") || "'>'".equals("'" + d.group(1) + "'")) {
                throw new OutputException(file + ": unsupported .npy header " + header.trim());
            }
            int[] shape = Arrays.stream(s.group(1).split(",")).map(String::trim).filter(x -> !x.isEmpty())
                    .mapToInt(Integer::parseInt).toArray();
            int n = Arrays.stream(shape).reduce(1, (x, y) -> x * y);
            ByteBuffer data = b.slice().order(ByteOrder.LITTLE_ENDIAN);
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
                default -> throw new OutputException(file + ": unsupported dtype " + d.group(2) + " (f4 and i4 are read)");
            }
        } catch (IOException e) {
            throw new OutputException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }
}
