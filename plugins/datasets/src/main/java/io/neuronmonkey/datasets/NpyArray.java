package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A C-order, little-endian NPY array (format versions 1, 2 and 3) read in bulk from a positioned
 * {@link FileChannel}: rows are fetched on demand, so memory does not grow with the file. Positioned reads are
 * thread-safe, so several passes may read at once.
 */
final class NpyArray implements AutoCloseable {

    /** Element types this reader understands. */
    enum Kind {
        FLOAT32("f4", 4, false), FLOAT64("f8", 8, false),
        INT8("i1", 1, true), UINT8("u1", 1, true), INT16("i2", 2, true), UINT16("u2", 2, true),
        INT32("i4", 4, true), UINT32("u4", 4, true), INT64("i8", 8, true), UINT64("u8", 8, true);

        final String code;
        final int bytes;
        final boolean integral;

        Kind(String code, int bytes, boolean integral) {
            this.code = code;
            this.bytes = bytes;
            this.integral = integral;
        }
    }

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");
    private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");
    private static final int CHUNK_BYTES = 1 << 20;

    private final Path file;
    private final FileChannel channel;
    private final Kind kind;
    private final long[] shape;
    private final long dataStart;
    private final int rowElements;

    private NpyArray(Path file, FileChannel channel, Kind kind, long[] shape, long dataStart, int rowElements) {
        this.file = file;
        this.channel = channel;
        this.kind = kind;
        this.shape = shape;
        this.dataStart = dataStart;
        this.rowElements = rowElements;
    }

    /**
     * Opens and checks an NPY file: magic, version, header, dtype, order, and that the data are all there.
     *
     * @param file an existing file
     * @return the open array; the caller closes it
     * @throws DataException naming the file and the problem
     */
    static NpyArray open(Path file) {
        FileChannel ch = null;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
            NpyArray a = parse(file, ch);
            ch = null;
            return a;
        } catch (IOException e) {
            throw new DataException("cannot read NPY file " + file + ": " + e.getMessage(), e);
        } finally {
            if (ch != null) {
                try {
                    ch.close();
                } catch (IOException ignored) {
                    // the parse failure is what matters
                }
            }
        }
    }

    private static NpyArray parse(Path file, FileChannel ch) throws IOException {
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        readFully(ch, pre, 0);
        pre.flip();
        byte[] magic = new byte[6];
        if (pre.remaining() >= 6) {
            pre.get(magic);
        }
        if (!Arrays.equals(magic, MAGIC)) {
            throw new DataException("not an NPY file (it does not start with \\x93NUMPY): " + file);
        }
        if (pre.remaining() < 4) {
            throw new DataException("NPY file is truncated inside its header: " + file);
        }
        int major = pre.get() & 0xff;
        pre.get(); // minor
        long headerLen;
        int lenBytes;
        if (major == 1) {
            headerLen = pre.getShort() & 0xffff;
            lenBytes = 2;
        } else if (major == 2 || major == 3) {
            if (pre.remaining() < 4) {
                throw new DataException("NPY file is truncated inside its header: " + file);
            }
            headerLen = pre.getInt() & 0xffffffffL;
            lenBytes = 4;
        } else {
            throw new DataException("unsupported NPY format version " + major + " in " + file + "; supported: 1, 2, 3");
        }
        long headerStart = 8L + lenBytes;
        if (headerLen > 1 << 24 || headerStart + headerLen > ch.size()) {
            throw new DataException("NPY file is truncated inside its header (header length " + headerLen
                    + " bytes, file " + ch.size() + " bytes): " + file);
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(ch, hb, headerStart);
        String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);

        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new DataException("malformed NPY header in " + file + ": expected 'descr', 'fortran_order' and "
                    + "'shape', found " + header.strip());
        }
        Kind kind = kindOf(d.group(1), file);
        if (f.group(1).equals("True")) {
            throw new DataException("NPY file " + file + " is in Fortran order (fortran_order: True); only C-order "
                    + "arrays are supported: save np.ascontiguousarray(a) instead");
        }
        long[] shape = parseShape(s.group(1), header, file);
        if (shape.length == 0) {
            throw new DataException("NPY file " + file + " holds a scalar (shape ()); expected at least one "
                    + "dimension, the examples");
        }
        long row = 1;
        for (int i = 1; i < shape.length; i++) {
            row *= shape[i];
        }
        if (row * kind.bytes > Integer.MAX_VALUE / 2) {
            throw new DataException("NPY file " + file + ": one example has " + row + " elements, too many");
        }
        long dataStart = headerStart + headerLen;
        long needed = shape[0] * row * kind.bytes;
        long available = ch.size() - dataStart;
        if (available < needed) {
            throw new DataException("NPY file " + file + " is truncated: shape " + Arrays.toString(shape) + " of "
                    + kind.code + " needs " + needed + " data bytes, found " + available);
        }
        return new NpyArray(file, ch, kind, shape, dataStart, (int) row);
    }

    private static Kind kindOf(String descr, Path file) {
        Kind kind = null;
        if (descr.length() == 3) {
            String code = descr.substring(1);
            for (Kind k : Kind.values()) {
                if (k.code.equals(code)) {
                    kind = k;
                }
            }
        }
        char order = descr.isEmpty() ? '?' : descr.charAt(0);
        if (kind != null && order == '>' && kind.bytes > 1) {
            throw new DataException("NPY file " + file + " is big-endian (dtype '" + descr + "'); only little-endian "
                    + "is supported: save a.astype('<" + kind.code + "') instead");
        }
        if (kind == null || !(order == '<' || kind.bytes == 1 && (order == '|' || order == '>' || order == '='))) {
            throw new DataException("unsupported NPY dtype '" + descr + "' in " + file
                    + "; supported: float32 (<f4), float64 (<f8), uint8 (|u1), int32 (<i4), int64 (<i8)"
                    + " and, for labels, any integer type");
        }
        return kind;
    }

    private static long[] parseShape(String inside, String header, Path file) {
        String[] parts = inside.split(",");
        long[] dims = new long[parts.length];
        int n = 0;
        for (String part : parts) {
            String t = part.strip();
            if (t.endsWith("L")) {
                t = t.substring(0, t.length() - 1);
            }
            if (t.isEmpty()) {
                continue;
            }
            try {
                dims[n] = Long.parseLong(t);
            } catch (NumberFormatException e) {
                throw new DataException("malformed shape in NPY header of " + file + ": " + header.strip());
            }
            if (dims[n] < 0) {
                throw new DataException("negative dimension in NPY header of " + file + ": " + header.strip());
            }
            n++;
        }
        return Arrays.copyOf(dims, n);
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            int r = ch.read(buf, pos);
            if (r < 0) {
                break;
            }
            pos += r;
        }
    }

    Path file() {
        return file;
    }

    Kind kind() {
        return kind;
    }

    /** @return number of rows (dimension 0) */
    long rows() {
        return shape[0];
    }

    /** @return the shape without dimension 0 */
    int[] rowShape() {
        int[] s = new int[shape.length - 1];
        for (int i = 1; i < shape.length; i++) {
            s[i - 1] = (int) shape[i];
        }
        return s;
    }

    /** @return the full shape */
    long[] shape() {
        return shape.clone();
    }

    /** @return elements per row */
    int rowElements() {
        return rowElements;
    }

    /**
     * Reads rows {@code [from, from + n)} as floats times {@code scale}.
     *
     * @param from  first row
     * @param n     rows
     * @param scale factor applied to every value
     * @return {@code n * rowElements} values
     */
    float[] readFloats(long from, int n, double scale) {
        int count = Math.multiplyExact(n, rowElements);
        float[] out = new float[count];
        int done = 0;
        int perChunk = Math.max(1, CHUNK_BYTES / kind.bytes);
        while (done < count) {
            int m = Math.min(perChunk, count - done);
            ByteBuffer buf = read(from * rowElements + done, m);
            switch (kind) {
                case FLOAT32 -> buf.asFloatBuffer().get(out, done, m);
                case FLOAT64 -> {
                    double[] tmp = new double[m];
                    buf.asDoubleBuffer().get(tmp);
                    for (int i = 0; i < m; i++) {
                        out[done + i] = (float) tmp[i];
                    }
                }
                case UINT8 -> {
                    byte[] tmp = buf.array();
                    for (int i = 0; i < m; i++) {
                        out[done + i] = tmp[i] & 0xff;
                    }
                }
                case INT8 -> {
                    byte[] tmp = buf.array();
                    for (int i = 0; i < m; i++) {
                        out[done + i] = tmp[i];
                    }
                }
                case INT32 -> {
                    int[] tmp = new int[m];
                    buf.asIntBuffer().get(tmp);
                    for (int i = 0; i < m; i++) {
                        out[done + i] = tmp[i];
                    }
                }
                case INT64 -> {
                    long[] tmp = new long[m];
                    buf.asLongBuffer().get(tmp);
                    for (int i = 0; i < m; i++) {
                        out[done + i] = tmp[i];
                    }
                }
                default -> throw new DataException("NPY file " + file + " has dtype " + kind.code + "; inputs must be "
                        + "float32, float64, uint8, int32 or int64");
            }
            done += m;
        }
        if (scale != 1.0) {
            float s = (float) scale;
            for (int i = 0; i < count; i++) {
                out[i] *= s;
            }
        }
        return out;
    }

    /**
     * Reads {@code n} integer elements starting at element {@code from}.
     *
     * @param from first element
     * @param n    elements
     * @return the values; an element that does not fit an int throws
     */
    int[] readInts(long from, int n) {
        if (!kind.integral) {
            throw new DataException("labels file " + file + " has dtype " + kind.code + "; labels must be an integer "
                    + "type (int8..int64, uint8..uint64)");
        }
        ByteBuffer buf = read(from, n);
        int[] out = new int[n];
        switch (kind) {
            case INT8 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = buf.get(i);
                }
            }
            case UINT8 -> {
                for (int i = 0; i < n; i++) {
                    out[i] = buf.get(i) & 0xff;
                }
            }
            case INT16 -> {
                short[] tmp = new short[n];
                buf.asShortBuffer().get(tmp);
                for (int i = 0; i < n; i++) {
                    out[i] = tmp[i];
                }
            }
            case UINT16 -> {
                short[] tmp = new short[n];
                buf.asShortBuffer().get(tmp);
                for (int i = 0; i < n; i++) {
                    out[i] = tmp[i] & 0xffff;
                }
            }
            case INT32 -> buf.asIntBuffer().get(out);
            default -> { // UINT32, INT64, UINT64: widen, then check the range
                long[] tmp = new long[n];
                if (kind == Kind.UINT32) {
                    int[] t32 = new int[n];
                    buf.asIntBuffer().get(t32);
                    for (int i = 0; i < n; i++) {
                        tmp[i] = t32[i] & 0xffffffffL;
                    }
                } else {
                    buf.asLongBuffer().get(tmp);
                }
                for (int i = 0; i < n; i++) {
                    long v = tmp[i];
                    if (v != (int) v) {
                        throw new DataException("labels file " + file + ": label " + (kind == Kind.UINT64
                                ? Long.toUnsignedString(v) : Long.toString(v)) + " at index " + (from + i)
                                + " does not fit a 32-bit class index");
                    }
                    out[i] = (int) v;
                }
            }
        }
        return out;
    }

    private ByteBuffer read(long fromElement, int elements) {
        ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(elements, kind.bytes)).order(ByteOrder.LITTLE_ENDIAN);
        long position = dataStart + fromElement * kind.bytes;
        try {
            readFully(channel, buf, position);
        } catch (IOException e) {
            throw new DataException("cannot read NPY file " + file + " at byte " + position + ": " + e.getMessage(), e);
        }
        if (buf.hasRemaining()) {
            throw new DataException("NPY file " + file + " ended early at byte " + (position + buf.position())
                    + " (was it truncated while open?)");
        }
        buf.flip();
        return buf;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
