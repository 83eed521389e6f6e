package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * The header of an IDX file (the MNIST format: two zero bytes, a type byte, a rank byte, big-endian int32
 * dimensions, then big-endian data), plain or gzip-compressed, and sequential readers of its data.
 */
final class IdxFile {

    /** Element types of the IDX format. */
    enum Kind {
        UBYTE(0x08, 1, true), BYTE(0x09, 1, true), SHORT(0x0B, 2, true), INT(0x0C, 4, true),
        FLOAT(0x0D, 4, false), DOUBLE(0x0E, 8, false);

        final int code;
        final int bytes;
        final boolean integral;

        Kind(int code, int bytes, boolean integral) {
            this.code = code;
            this.bytes = bytes;
            this.integral = integral;
        }
    }

    private final Path file;
    private final boolean gzip;
    private final Kind kind;
    private final int[] dims;
    private final int headerBytes;

    private IdxFile(Path file, boolean gzip, Kind kind, int[] dims) {
        this.file = file;
        this.gzip = gzip;
        this.kind = kind;
        this.dims = dims;
        this.headerBytes = 4 + 4 * dims.length;
    }

    /**
     * Reads and checks the header; for plain files, also that the data are all there.
     *
     * @param file an existing file
     * @param what {@code images} or {@code labels}, for messages
     * @return the header
     */
    static IdxFile open(Path file, String what) {
        boolean gzip;
        try (InputStream raw = Files.newInputStream(file)) {
            gzip = raw.read() == 0x1f && raw.read() == 0x8b;
        } catch (IOException e) {
            throw new DataException("cannot read IDX " + what + " file " + file + ": " + e.getMessage(), e);
        }
        try (DataInputStream in = new DataInputStream(stream(file, gzip))) {
            int z0 = in.readUnsignedByte();
            int z1 = in.readUnsignedByte();
            int type = in.readUnsignedByte();
            int rank = in.readUnsignedByte();
            Kind kind = null;
            for (Kind k : Kind.values()) {
                if (k.code == type) {
                    kind = k;
                }
            }
            if (z0 != 0 || z1 != 0 || kind == null || rank == 0) {
                throw new DataException("not an IDX file: " + file + " starts with magic 0x"
                        + String.format("%02x%02x%02x%02x", z0, z1, type, rank) + "; expected 0x00000803 for images or "
                        + "0x00000801 for labels (00 00, a type byte 08/09/0b/0c/0d/0e, the rank)");
            }
            int[] dims = new int[rank];
            for (int i = 0; i < rank; i++) {
                dims[i] = in.readInt();
                if (dims[i] < 0) {
                    throw new DataException("IDX file " + file + " declares a negative dimension " + dims[i]);
                }
            }
            IdxFile f = new IdxFile(file, gzip, kind, dims);
            if (gzip) {
                // the whole stream is read once, so a truncated or corrupt file fails here, not in the middle of a run
                long needed = f.count() * f.rowElements() * kind.bytes;
                long data;
                try {
                    data = in.transferTo(java.io.OutputStream.nullOutputStream());
                } catch (EOFException e) {
                    throw new DataException("truncated gzip file " + file + ": the compressed stream ends early (after "
                            + "its header, before the end of its data); download or copy it again", e);
                } catch (java.util.zip.ZipException e) {
                    throw new DataException("corrupt gzip file " + file + ": " + e.getMessage(), e);
                }
                if (data < needed) {
                    throw new DataException("IDX file " + file + " is truncated: dimensions " + Arrays.toString(dims)
                            + " need " + needed + " bytes of data after the header, the gzip stream holds " + data);
                }
            } else {
                long needed = f.headerBytes + f.count() * f.rowElements() * kind.bytes;
                long size = Files.size(file);
                if (size < needed) {
                    throw new DataException("IDX file " + file + " is truncated: dimensions " + Arrays.toString(dims)
                            + " need " + needed + " bytes, the file has " + size);
                }
            }
            return f;
        } catch (EOFException e) {
            throw new DataException((gzip ? "truncated gzip file " + file + ": it ends inside the IDX header"
                    : "IDX file " + file + " is truncated inside its header"), e);
        } catch (IOException e) {
            throw new DataException("cannot read IDX " + what + " file " + file + ": " + e.getMessage(), e);
        }
    }

    private static InputStream stream(Path file, boolean gzip) throws IOException {
        InputStream in = Files.newInputStream(file);
        try {
            return gzip ? new GZIPInputStream(in, 1 << 16) : new BufferedInputStream(in, 1 << 16);
        } catch (IOException e) {
            in.close();
            throw e;
        }
    }

    Path file() {
        return file;
    }

    Kind kind() {
        return kind;
    }

    int rank() {
        return dims.length;
    }

    /** @return dimension 0: the number of items */
    long count() {
        return dims[0];
    }

    /** @return elements per item */
    long rowElements() {
        long r = 1;
        for (int i = 1; i < dims.length; i++) {
            r *= dims[i];
        }
        return r;
    }

    /** @return the dimensions after the first */
    int[] rowDims() {
        return Arrays.copyOfRange(dims, 1, dims.length);
    }

    /** @return a sequential reader positioned at the first item; the caller closes it */
    Reader reader() {
        try {
            InputStream in = stream(file, gzip);
            try {
                in.readNBytes(headerBytes);
            } catch (IOException e) {
                in.close();
                throw e;
            }
            return new Reader(in);
        } catch (IOException e) {
            throw new DataException("cannot read IDX file " + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads consecutive items of the file. */
    final class Reader implements AutoCloseable {

        private final InputStream in;
        private long position;

        private Reader(InputStream in) {
            this.in = in;
        }

        private ByteBuffer next(int n) {
            int elements = Math.multiplyExact(n, (int) rowElements());
            byte[] bytes;
            try {
                bytes = in.readNBytes(Math.multiplyExact(elements, kind.bytes));
            } catch (EOFException e) {
                throw new DataException((gzip ? "truncated gzip file " : "truncated IDX file ") + file + ": it ends at item "
                        + position + " of " + count(), e);
            } catch (IOException e) {
                throw new DataException("cannot read IDX file " + file + " at item " + position + ": "
                        + e.getMessage(), e);
            }
            if (bytes.length < elements * kind.bytes) {
                long complete = position + bytes.length / (rowElements() * kind.bytes);
                throw new DataException("IDX file " + file + " is truncated: it ends after " + complete + " of "
                        + count() + " items");
            }
            position += n;
            return ByteBuffer.wrap(bytes).order(ByteOrder.BIG_ENDIAN);
        }

        /**
         * @param n     items to read
         * @param scale factor applied to every value
         * @return {@code n * rowElements} values
         */
        float[] floats(int n, double scale) {
            ByteBuffer buf = next(n);
            int m = buf.capacity() / kind.bytes;
            float[] out = new float[m];
            float s = (float) scale;
            switch (kind) {
                case UBYTE -> {
                    byte[] b = buf.array();
                    for (int i = 0; i < m; i++) {
                        out[i] = (b[i] & 0xff) * s;
                    }
                }
                case BYTE -> {
                    byte[] b = buf.array();
                    for (int i = 0; i < m; i++) {
                        out[i] = b[i] * s;
                    }
                }
                case SHORT -> {
                    short[] t = new short[m];
                    buf.asShortBuffer().get(t);
                    for (int i = 0; i < m; i++) {
                        out[i] = t[i] * s;
                    }
                }
                case INT -> {
                    int[] t = new int[m];
                    buf.asIntBuffer().get(t);
                    for (int i = 0; i < m; i++) {
                        out[i] = t[i] * s;
                    }
                }
                case FLOAT -> {
                    buf.asFloatBuffer().get(out);
                    if (scale != 1.0) {
                        for (int i = 0; i < m; i++) {
                            out[i] *= s;
                        }
                    }
                }
                case DOUBLE -> {
                    double[] t = new double[m];
                    buf.asDoubleBuffer().get(t);
                    for (int i = 0; i < m; i++) {
                        out[i] = (float) (t[i] * scale);
                    }
                }
                default -> throw new IllegalStateException(kind.name());
            }
            return out;
        }

        /**
         * @param n labels to read (the file has rank 1 and an integer type)
         * @return the labels
         */
        int[] ints(int n) {
            ByteBuffer buf = next(n);
            int[] out = new int[n];
            switch (kind) {
                case UBYTE -> {
                    byte[] b = buf.array();
                    for (int i = 0; i < n; i++) {
                        out[i] = b[i] & 0xff;
                    }
                }
                case BYTE -> {
                    byte[] b = buf.array();
                    for (int i = 0; i < n; i++) {
                        out[i] = b[i];
                    }
                }
                case SHORT -> {
                    short[] t = new short[n];
                    buf.asShortBuffer().get(t);
                    for (int i = 0; i < n; i++) {
                        out[i] = t[i];
                    }
                }
                case INT -> buf.asIntBuffer().get(out);
                default -> throw new DataException("IDX labels file " + file + " holds " + kind.name().toLowerCase()
                        + " values; labels must be an integer type (ubyte, byte, short, int)");
            }
            return out;
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }
}
