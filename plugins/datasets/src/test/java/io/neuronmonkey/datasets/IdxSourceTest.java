package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.datasets.IdxSource.Params;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxSourceTest {

    private static final double BYTE_SCALE = 0.00392156862745098;

    @TempDir
    Path dir;

    /** An IDX file as the MNIST page describes it: 0, 0, type, rank, big-endian int32 dims, data. */
    private static byte[] idx(int type, int[] dims, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
        b.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            b.putInt(d);
        }
        return b.put(data).array();
    }

    private static byte[] gzip(byte[] bytes) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(bytes);
        }
        return out.toByteArray();
    }

    /** 7 images of 3x4 pixels with values (31 * i) mod 256, and labels i mod 3 + 1 (so max label 3). */
    private static byte[] pixels() {
        byte[] p = new byte[7 * 12];
        for (int i = 0; i < p.length; i++) {
            p[i] = (byte) (31 * i % 256);
        }
        return p;
    }

    private static byte[] labels(int n) {
        byte[] l = new byte[n];
        for (int i = 0; i < n; i++) {
            l[i] = (byte) (i % 3 + 1);
        }
        return l;
    }

    private void writeMnist(String suffix, boolean compress) throws IOException {
        byte[] images = idx(0x08, new int[] {7, 3, 4}, pixels());
        byte[] lab = idx(0x08, new int[] {7}, labels(7));
        Files.write(dir.resolve("images" + suffix), compress ? gzip(images) : images);
        Files.write(dir.resolve("labels" + suffix), compress ? gzip(lab) : lab);
    }

    private Dataset open(Params p) {
        return new IdxSource().open(TestKit.dataContext(p, dir));
    }

    @Test
    void readsPlainAndGzipFilesExactlyInAnyBatchSize() throws IOException {
        writeMnist("", false);
        writeMnist(".gz", true);
        float[] expected = new float[7 * 12];
        byte[] p = pixels();
        for (int i = 0; i < p.length; i++) {
            expected[i] = (p[i] & 0xff) * (float) BYTE_SCALE;
        }
        for (String suffix : List.of("", ".gz")) {
            try (Dataset ds = open(new Params("images" + suffix, "labels" + suffix, BYTE_SCALE, null))) {
                assertEquals(7, ds.info().size());
                assertArrayEquals(new int[] {3, 4, 1}, ds.info().exampleShape());
                assertEquals(List.of("0", "1", "2", "3"), ds.info().classNames());
                for (int batch : new int[] {1, 2, 4, 7, 64}) {
                    Collected c = Collected.pass(ds, batch);
                    assertArrayEquals(expected, c.inputs(), 0f, suffix + " batch size " + batch);
                    assertArrayEquals(new int[] {1, 2, 3, 1, 2, 3, 1}, c.labels(), suffix + " batch size " + batch);
                    assertEquals("6", c.ids().get(6));
                }
            }
        }
    }

    @Test
    void imagesWithoutLabelsAndOtherPixelTypes() throws IOException {
        ByteBuffer floats = ByteBuffer.allocate(2 * 2 * 2 * 4);
        for (float v : new float[] {0.5f, -1f, 2f, 3.25f, 4f, 5f, 6f, 7f}) {
            floats.putFloat(v);
        }
        Files.write(dir.resolve("f.idx"), idx(0x0D, new int[] {2, 2, 2}, floats.array()));
        try (Dataset ds = open(new Params("f.idx", null, 2.0, null))) {
            assertEquals(List.of(), ds.info().classNames());
            assertArrayEquals(new float[] {1f, -2f, 4f, 6.5f, 8f, 10f, 12f, 14f}, Collected.pass(ds, 1).inputs(), 0f);
        }
    }

    @Test
    void fingerprintIsTheSha256OfTheStoredFiles() throws Exception {
        writeMnist(".gz", true);
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(Files.readAllBytes(dir.resolve("images.gz")));
        md.update(Files.readAllBytes(dir.resolve("labels.gz")));
        try (Dataset ds = open(new Params("images.gz", "labels.gz", BYTE_SCALE, null))) {
            assertEquals(HexFormat.of().formatHex(md.digest()), ds.fingerprint());
        }
    }

    @Test
    void countMismatchNamesBothFilesAndCounts() throws IOException {
        Files.write(dir.resolve("images"), idx(0x08, new int[] {7, 3, 4}, pixels()));
        Files.write(dir.resolve("labels"), idx(0x08, new int[] {6}, labels(6)));
        String m = assertThrows(DataException.class,
                () -> open(new Params("images", "labels", BYTE_SCALE, null))).getMessage();
        assertEquals("IDX files disagree: images file " + dir.resolve("images") + " has 7 images but labels file "
                + dir.resolve("labels") + " has 6 labels", m);
    }

    @Test
    void malformedFilesGiveClearMessages() throws IOException {
        Files.write(dir.resolve("text"), "P5 not idx".getBytes());
        String m = assertThrows(DataException.class, () -> open(new Params("text", null, 1, null))).getMessage();
        assertTrue(m.startsWith("not an IDX file: " + dir.resolve("text")) && m.contains("0x00000803"), m);

        Files.write(dir.resolve("short"), Arrays.copyOf(idx(0x08, new int[] {7, 3, 4}, pixels()), 40));
        m = assertThrows(DataException.class, () -> open(new Params("short", null, 1, null))).getMessage();
        assertTrue(m.contains("is truncated") && m.contains("need 100 bytes, the file has 40"), m);

        // a complete gzip stream whose content is short is found when the file is opened, not in the middle of a run
        Files.write(dir.resolve("short.gz"), gzip(Arrays.copyOf(idx(0x08, new int[] {7, 3, 4}, pixels()), 40)));
        m = assertThrows(DataException.class, () -> open(new Params("short.gz", null, 1, null))).getMessage();
        assertEquals("IDX file " + dir.resolve("short.gz") + " is truncated: dimensions [7, 3, 4] need 84 bytes of data "
                + "after the header, the gzip stream holds 24", m);

        // a gzip file cut short (an interrupted download) is named as such
        byte[] whole = gzip(idx(0x08, new int[] {7, 3, 4}, pixels()));
        Files.write(dir.resolve("cut.gz"), Arrays.copyOf(whole, whole.length - 12));
        m = assertThrows(DataException.class, () -> open(new Params("cut.gz", null, 1, null))).getMessage();
        assertTrue(m.startsWith("truncated gzip file " + dir.resolve("cut.gz") + ": the compressed stream ends early"), m);

        Files.write(dir.resolve("labels"), idx(0x08, new int[] {7}, labels(7)));
        m = assertThrows(DataException.class, () -> open(new Params("labels", null, 1, null))).getMessage();
        assertTrue(m.contains("has rank 1 (is it a labels file?)"), m);

        m = assertThrows(DataException.class, () -> open(new Params("gone.gz", null, 1, null))).getMessage();
        assertEquals("data file not found: " + dir.resolve("gone.gz") + " (params.images)", m);
    }
}
