package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.datasets.NpySource.Params;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpySourceTest {

    @TempDir
    Path dir;

    /** 5 examples of shape [2, 3]: values 0..29 shifted so every dtype holds them exactly. */
    private static double[] values(String code) {
        double[] v = new double[30];
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (code) {
                case "u1" -> 7 * i % 256;
                case "f4", "f8" -> (i - 12) * 0.25;
                default -> (i - 12) * 1000L;
            };
        }
        return v;
    }

    private Dataset open(Params p) {
        return new NpySource().open(TestKit.dataContext(p, dir));
    }

    private static Params params(String inputs, String labels) {
        return new Params(inputs, labels, null, 1.0, false);
    }

    @Test
    void readsEveryInputDtypeExactlyInAnyBatchSize() throws IOException {
        for (String descr : List.of("<f4", "<f8", "|u1", "<i4", "<i8")) {
            String code = descr.substring(1);
            double[] v = values(code);
            NpyFiles.write(dir.resolve(code + ".npy"), 1, descr, false, "(5, 2, 3)", NpyFiles.encode(code, v));
            float[] expected = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                expected[i] = (float) v[i];
            }
            try (Dataset ds = open(params(code + ".npy", null))) {
                assertEquals(5, ds.info().size());
                assertArrayEquals(new int[] {2, 3}, ds.info().exampleShape());
                assertEquals(List.of(), ds.info().classNames());
                for (int batch : new int[] {1, 2, 5, 7}) {
                    Collected c = Collected.pass(ds, batch);
                    assertArrayEquals(expected, c.inputs(), 0f, descr + " batch size " + batch);
                    assertEquals(List.of("0", "1", "2", "3", "4"), c.ids());
                    assertEquals(Map.of(), c.metadata().get(4));
                }
            }
        }
    }

    @Test
    void appliesScale() throws IOException {
        NpyFiles.write(dir.resolve("x.npy"), 1, "|u1", false, "(2, 2)", NpyFiles.encode("u1", 0, 51, 102, 255));
        try (Dataset ds = open(new Params("x.npy", null, null, 1 / 255.0, false))) {
            assertArrayEquals(new float[] {0f, 0.2f, 0.4f, 1f}, Collected.pass(ds, 2).inputs(), 1e-7f);
        }
    }

    @Test
    void readsHeadersOfFormatVersionsTwoAndThree() throws IOException {
        for (int version : new int[] {2, 3}) {
            Path f = NpyFiles.write(dir.resolve("v" + version + ".npy"), version, "<f4", false, "(3,)",
                    NpyFiles.encode("f4", 1.5, -2, 3));
            try (Dataset ds = open(params(f.getFileName().toString(), null))) {
                assertArrayEquals(new int[0], ds.info().exampleShape());
                assertArrayEquals(new float[] {1.5f, -2f, 3f}, Collected.pass(ds, 2).inputs(), 0f);
            }
        }
    }

    @Test
    void readsLabelsOfEveryIntegerDtype() throws IOException {
        NpyFiles.write(dir.resolve("x.npy"), 1, "<f4", false, "(4, 1)", NpyFiles.encode("f4", 0, 1, 2, 3));
        for (String descr : List.of("|u1", "|i1", "<i2", "<u2", "<i4", "<u4", "<i8", "<u8")) {
            String code = descr.substring(1);
            String shape = code.equals("i8") ? "(4, 1)" : "(4,)";
            NpyFiles.write(dir.resolve("y.npy"), 1, descr, false, shape, NpyFiles.encode(code, 2, 0, 5, 1));
            try (Dataset ds = open(params("x.npy", "y.npy"))) {
                assertEquals(List.of("0", "1", "2", "3", "4", "5"), ds.info().classNames(), descr);
                assertArrayEquals(new int[] {2, 0, 5, 1}, Collected.pass(ds, 3).labels(), descr);
            }
        }
        try (Dataset ds = open(new Params("x.npy", "y.npy", List.of("a", "b", "c", "d", "e", "f"), 1.0, false))) {
            assertEquals(List.of("a", "b", "c", "d", "e", "f"), ds.info().classNames());
        }
    }

    @Test
    void fingerprintIsTheSha256OfTheFiles() throws Exception {
        Path x = NpyFiles.write(dir.resolve("x.npy"), 1, "<f4", false, "(2,)", NpyFiles.encode("f4", 1, 2));
        Path y = NpyFiles.write(dir.resolve("y.npy"), 1, "|u1", false, "(2,)", NpyFiles.encode("u1", 1, 0));
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        md.update(Files.readAllBytes(x));
        md.update(Files.readAllBytes(y));
        try (Dataset ds = open(params("x.npy", "y.npy"))) {
            assertEquals(HexFormat.of().formatHex(md.digest()), ds.fingerprint());
        }
        try (Dataset ds = open(params("x.npy", null))) {
            assertEquals(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(x))),
                    ds.fingerprint(), "one file: what sha256sum prints");
        }
    }

    private DataException failure(Params p) {
        return assertThrows(DataException.class, () -> open(p).close());
    }

    @Test
    void missingFileNamesTheResolvedPathAndParam() {
        DataException e = failure(params("nope.npy", null));
        assertEquals("data file not found: " + dir.resolve("nope.npy") + " (params.inputs)", e.getMessage());
    }

    @Test
    void fortranOrderIsRejectedNamingTheFile() throws IOException {
        Path f = NpyFiles.write(dir.resolve("f.npy"), 1, "<f4", true, "(2, 2)", NpyFiles.encode("f4", 1, 2, 3, 4));
        DataException e = failure(params("f.npy", null));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("Fortran order"), e.getMessage());
    }

    @Test
    void malformedFilesGiveClearMessages() throws IOException {
        Files.writeString(dir.resolve("text.npy"), "hello, not numpy");
        assertTrue(failure(params("text.npy", null)).getMessage().startsWith("not an NPY file"));

        NpyFiles.write(dir.resolve("be.npy"), 1, ">f4", false, "(2,)",
                NpyFiles.encode("f4", new double[] {1, 2}, ByteOrder.BIG_ENDIAN));
        assertTrue(failure(params("be.npy", null)).getMessage().contains("big-endian"));

        NpyFiles.write(dir.resolve("c8.npy"), 1, "<c8", false, "(1,)", new byte[8]);
        assertTrue(failure(params("c8.npy", null)).getMessage().contains("unsupported NPY dtype '<c8'"));

        NpyFiles.write(dir.resolve("short.npy"), 1, "<f4", false, "(4, 2)", NpyFiles.encode("f4", 1, 2, 3));
        String m = failure(params("short.npy", null)).getMessage();
        assertTrue(m.contains("truncated") && m.contains("needs 32 data bytes, found 12"), m);

        NpyFiles.write(dir.resolve("x.npy"), 1, "<f4", false, "(3,)", NpyFiles.encode("f4", 1, 2, 3));
        NpyFiles.write(dir.resolve("y2.npy"), 1, "<i4", false, "(2,)", NpyFiles.encode("i4", 1, 0));
        m = failure(params("x.npy", "y2.npy")).getMessage();
        assertTrue(m.contains("has 2 labels") && m.contains("has 3 examples") && m.contains(dir.resolve("x.npy")
                .toString()) && m.contains(dir.resolve("y2.npy").toString()), m);

        NpyFiles.write(dir.resolve("yf.npy"), 1, "<f4", false, "(3,)", NpyFiles.encode("f4", 1, 0, 1));
        assertTrue(failure(params("x.npy", "yf.npy")).getMessage().contains("labels must be an integer type"));

        NpyFiles.write(dir.resolve("y.npy"), 1, "<i4", false, "(3,)", NpyFiles.encode("i4", 1, 0, 3));
        m = failure(new Params("x.npy", "y.npy", List.of("a", "b"), 1.0, false)).getMessage();
        assertTrue(m.contains("go up to 3") && m.contains("2 names"), m);

        NpyFiles.write(dir.resolve("yneg.npy"), 1, "<i4", false, "(3,)", NpyFiles.encode("i4", 1, -4, 3));
        m = failure(params("x.npy", "yneg.npy")).getMessage();
        assertTrue(m.contains("label -4 at index 1"), m);
    }

    @Test
    void rejectsMissingInputsAndClassNamesWithoutLabels() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new Params(null, null, List.of("a"), Double.NaN, false));
        assertEquals(List.of("inputs", "classNames", "scale"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }

    @Test
    void nonFiniteInputsFailTheReadNamingExampleAndElementUnlessAllowed() throws IOException {
        double[] v = values("f4");
        v[3 * 6 + 4] = Double.NaN;
        NpyFiles.write(dir.resolve("nan.npy"), 1, "<f4", false, "(5, 2, 3)", NpyFiles.encode("f4", v));
        try (Dataset ds = open(params("nan.npy", null))) {
            DataException e = assertThrows(DataException.class, () -> Collected.pass(ds, 2));
            assertTrue(e.getMessage().startsWith("NPY file " + dir.resolve("nan.npy") + ": example 3 holds NaN at element 4; "),
                    e.getMessage());
            assertTrue(e.getMessage().endsWith("or set params.allowNonFinite: true"), e.getMessage());
        }
        try (Dataset ds = open(new Params("nan.npy", null, null, 1.0, true))) {
            assertTrue(Float.isNaN(Collected.pass(ds, 2).inputs()[3 * 6 + 4]));
        }
    }
}
