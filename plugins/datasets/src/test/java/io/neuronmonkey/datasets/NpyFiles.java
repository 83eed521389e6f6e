package io.neuronmonkey.datasets;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes NPY files by hand, following the format spec (numpy/lib/format.py): the magic {@code \x93NUMPY}, major and
 * minor version bytes, the header length (2 bytes little-endian for version 1, 4 bytes for 2 and 3), an ASCII (v3:
 * UTF-8) Python dict literal padded with spaces and ended by a newline so that the data start on a multiple of 64,
 * then the raw data.
 */
final class NpyFiles {

    private NpyFiles() {
    }

    static Path write(Path file, int version, String descr, boolean fortran, String shape, byte[] data)
            throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': "
                + shape + ", }";
        int prefix = version == 1 ? 10 : 12;
        int total = prefix + dict.length() + 1;
        int padded = (total + 63) / 64 * 64;
        String header = dict + " ".repeat(padded - total) + "\n";
        byte[] hb = header.getBytes(version == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) version, 0});
        ByteBuffer len = ByteBuffer.allocate(version == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (version == 1) {
            len.putShort((short) hb.length);
        } else {
            len.putInt(hb.length);
        }
        out.write(len.array());
        out.write(hb);
        out.write(data);
        Files.write(file, out.toByteArray());
        return file;
    }

    /** @return the values as little-endian bytes of {@code descr}'s type ('f4', 'f8', 'u1', 'i1', 'i2', 'u2', ...) */
    static byte[] encode(String code, double[] values, ByteOrder order) {
        int size = Integer.parseInt(code.substring(1));
        ByteBuffer b = ByteBuffer.allocate(values.length * size).order(order);
        for (double v : values) {
            switch (code) {
                case "f4" -> b.putFloat((float) v);
                case "f8" -> b.putDouble(v);
                case "u1", "i1" -> b.put((byte) (long) v);
                case "u2", "i2" -> b.putShort((short) (long) v);
                case "u4", "i4" -> b.putInt((int) (long) v);
                case "u8", "i8" -> b.putLong((long) v);
                default -> throw new IllegalArgumentException(code);
            }
        }
        return b.array();
    }

    static byte[] encode(String code, double... values) {
        return encode(code, values, ByteOrder.LITTLE_ENDIAN);
    }
}
