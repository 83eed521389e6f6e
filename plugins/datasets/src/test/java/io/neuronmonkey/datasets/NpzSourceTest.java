package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Archives laid out as np.savez (stored) and np.savez_compressed (deflated) write them. */
class NpzSourceTest {

    @TempDir
    Path dir;

    private Path archive(String name, boolean compressed) throws Exception {
        Path x = NpyFiles.write(dir.resolve("x_test.npy"), 1, "|u1", false, "(3, 2, 2)",
                NpyFiles.encode("u1", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255));
        Path y = NpyFiles.write(dir.resolve("y_test.npy"), 1, "<i8", false, "(3,)", NpyFiles.encode("i8", 2, 0, 1));
        Path file = dir.resolve(name);
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            zip.setMethod(compressed ? ZipOutputStream.DEFLATED : ZipOutputStream.STORED);
            for (Path member : List.of(x, y)) {
                byte[] bytes = Files.readAllBytes(member);
                ZipEntry e = new ZipEntry(member.getFileName().toString());
                if (!compressed) {
                    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
                    crc.update(bytes);
                    e.setSize(bytes.length);
                    e.setCompressedSize(bytes.length);
                    e.setCrc(crc.getValue());
                }
                zip.putNextEntry(e);
                try (OutputStream out = new java.io.FilterOutputStream(zip) {
                    @Override
                    public void close() {
                    }
                }) {
                    out.write(bytes);
                }
                zip.closeEntry();
            }
        }
        return file;
    }

    @Test
    void storedAndCompressedArchivesReadTheNamedMembers() throws Exception {
        for (boolean compressed : new boolean[] {false, true}) {
            Path file = archive(compressed ? "c.npz" : "s.npz", compressed);
            try (Dataset ds = new NpzSource().open(TestKit.dataContext(new NpzSource.Params(file.getFileName().toString(),
                    "x_test", "y_test", null, 0.5, false), dir))) {
                assertArrayEquals(new int[] {2, 2}, ds.info().exampleShape());
                assertEquals(List.of("0", "1", "2"), ds.info().classNames());
                Collected c = Collected.pass(ds, 2);
                assertArrayEquals(new float[] {0, 0.5f, 1, 1.5f, 2, 2.5f, 3, 3.5f, 4, 4.5f, 5, 127.5f}, c.inputs());
                assertArrayEquals(new int[] {2, 0, 1}, c.labels());
                assertTrue(unpacked().findAny().isPresent(), "members are unpacked while open");
            }
            assertFalse(unpacked().findAny().isPresent(), "members are removed on close");
        }
    }

    /** Unpacked members of this test's archives in the temporary folder. */
    private static java.util.stream.Stream<Path> unpacked() throws Exception {
        return Files.list(Path.of(System.getProperty("java.io.tmpdir")))
                .filter(p -> p.getFileName().toString().startsWith("neuronmonkey-npz-"))
                .filter(p -> Files.exists(p.resolve("x_test.npy")));
    }

    @Test
    void missingMembersAreListed() throws Exception {
        Path file = archive("m.npz", true);
        DataException e = assertThrows(DataException.class, () -> new NpzSource().open(TestKit.dataContext(
                new NpzSource.Params("m.npz", null, null, null, 1, false), dir)));
        assertTrue(e.getMessage().contains("has 2 members; say which holds the examples with params.inputs, one of:"
                + " x_test, y_test"), e.getMessage());
        e = assertThrows(DataException.class, () -> new NpzSource().open(TestKit.dataContext(
                new NpzSource.Params("m.npz", "x_train", null, null, 1, false), dir)));
        assertTrue(e.getMessage().contains("no member 'x_train' (params.inputs); members: x_test, y_test"),
                e.getMessage());
        assertTrue(Files.exists(file));
    }
}
