package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.datasets.CsvSource.Params;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CsvSourceTest {

    @TempDir
    Path dir;

    private Dataset open(Params p) {
        return new CsvSource().open(TestKit.dataContext(p, dir));
    }

    private Path csv(String name, String text) throws IOException {
        return Files.writeString(dir.resolve(name), text);
    }

    @Test
    void readsFeaturesAndNamedLabelsInAnyBatchSize() throws IOException {
        csv("iris.csv", """
                a, species ,b,c
                1.5,setosa,2,-3e-1
                4,"virginica",5.25,6
                7,setosa, 8 ,9

                -1,"versi, color",0,"1"
                """);
        try (Dataset ds = open(new Params("iris.csv", "species", true, ",", null, null, false))) {
            assertEquals(4, ds.info().size());
            assertArrayEquals(new int[] {3}, ds.info().exampleShape());
            assertEquals(List.of("setosa", "versi, color", "virginica"), ds.info().classNames(), "sorted names");
            for (int batch : new int[] {1, 3, 4, 10}) {
                Collected c = Collected.pass(ds, batch);
                assertArrayEquals(new float[] {1.5f, 2f, -0.3f, 4f, 5.25f, 6f, 7f, 8f, 9f, -1f, 0f, 1f}, c.inputs(),
                        0f, "batch size " + batch);
                assertArrayEquals(new int[] {0, 2, 0, 1}, c.labels(), "batch size " + batch);
                assertEquals(List.of("row-0", "row-1", "row-2", "row-3"), c.ids());
                assertEquals(Map.of(), c.metadata().get(0));
            }
        }
    }

    @Test
    void integerLabelsNameClassesZeroToMax() throws IOException {
        csv("d.csv", "x,y,label\n1,2,3\n3,4,0\n5,6,1\n");
        try (Dataset ds = open(new Params("d.csv", "label", true, ",", null, null, false))) {
            assertEquals(List.of("0", "1", "2", "3"), ds.info().classNames());
            assertArrayEquals(new int[] {3, 0, 1}, Collected.pass(ds, 2).labels());
        }
        try (Dataset ds = open(new Params("d.csv", "label", true, ",", null, List.of("a", "b", "c", "d"), false))) {
            assertEquals(List.of("a", "b", "c", "d"), ds.info().classNames());
            assertArrayEquals(new int[] {3, 0, 1}, Collected.pass(ds, 2).labels(), "integers index classNames");
        }
        csv("n.csv", "x,label\n1,dog\n2,cat\n");
        try (Dataset ds = open(new Params("n.csv", "label", true, ",", null, List.of("dog", "cat"), false))) {
            assertArrayEquals(new int[] {0, 1}, Collected.pass(ds, 5).labels(), "names map to their index");
        }
        DataException e = assertThrows(DataException.class,
                () -> open(new Params("n.csv", "label", true, ",", null, List.of("dog", "bird"), false)));
        assertTrue(e.getMessage().contains("label 'cat'") && e.getMessage().contains("line 3"), e.getMessage());
    }

    @Test
    void readsHeaderlessTabSeparatedFilesAndReshapes() throws IOException {
        csv("t.tsv", "1\t2\t3\t4\t1\n5\t6\t7\t8\t0\n9\t10\t11\t12\t1\n");
        try (Dataset ds = open(new Params("t.tsv", "4", false, "\\t", List.of(2, 2), null, false))) {
            assertEquals(3, ds.info().size());
            assertArrayEquals(new int[] {2, 2}, ds.info().exampleShape());
            Collected c = Collected.pass(ds, 2);
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, c.inputs(), 0f);
            assertArrayEquals(new int[] {1, 0, 1}, c.labels());
        }
        try (Dataset ds = open(new Params("t.tsv", null, false, "tab", null, null, false))) {
            assertArrayEquals(new int[] {5}, ds.info().exampleShape());
            assertEquals(List.of(), ds.info().classNames());
            assertEquals(1f, Collected.pass(ds, 3).inputs()[4]);
        }
    }

    @Test
    void nonNumericFeatureNamesFileLineAndColumn() throws IOException {
        Path f = csv("bad.csv", "a,b,label\n1,2,x\n3,oops,y\n");
        DataException e = assertThrows(DataException.class,
                () -> open(new Params("bad.csv", "label", true, ",", null, null, false)));
        assertEquals("non-numeric value 'oops' in " + f + " line 3, column 'b'; feature cells must be numbers",
                e.getMessage());
    }

    @Test
    void malformedFilesGiveClearMessages() throws IOException {
        csv("ragged.csv", "a,b\n1,2\n3\n");
        String m = assertThrows(DataException.class,
                () -> open(new Params("ragged.csv", null, true, ",", null, null, false))).getMessage();
        assertTrue(m.contains("line 3 has 1 cells; expected 2"), m);

        csv("ok.csv", "a,b\n1,2\n");
        m = assertThrows(DataException.class,
                () -> open(new Params("ok.csv", "label", true, ",", null, null, false))).getMessage();
        assertTrue(m.contains("label column 'label'") && m.contains("columns: a, b"), m);

        m = assertThrows(DataException.class,
                () -> open(new Params("ok.csv", null, true, ",", List.of(3), null, false))).getMessage();
        assertTrue(m.contains("params.shape [3] holds 3 values") && m.contains("has 2 feature columns"), m);

        m = assertThrows(DataException.class,
                () -> open(new Params("missing.csv", null, true, ",", null, null, false))).getMessage();
        assertEquals("data file not found: " + dir.resolve("missing.csv") + " (params.file)", m);

        csv("quote.csv", "a,b\n\"1,2\n");
        m = assertThrows(DataException.class,
                () -> open(new Params("quote.csv", null, true, ",", null, null, false))).getMessage();
        assertTrue(m.contains("line 2: a quoted cell is not closed"), m);
    }

    @Test
    void headerOnlyFileIsEmpty() throws IOException {
        csv("h.csv", "a,b,c\n");
        try (Dataset ds = open(new Params("h.csv", null, true, ",", null, null, false))) {
            assertEquals(0, ds.info().size());
            assertEquals(false, ds.batches(4).hasNext());
        }
    }

    @Test
    void rejectsEveryBadParamAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new Params(" ", "", true, ";;", List.of(2, 0), List.of("a"), false));
        assertEquals(List.of("file", "labelColumn", "delimiter", "shape"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
        e = assertThrows(InvalidParamsException.class, () -> new Params("f.csv", "label", false, ",", null, null, false));
        assertTrue(e.getMessage().contains("labelColumn - must be a 0-based column number when header is false"));
    }

    @Test
    void nanAndInfiniteCellsAreRefusedWithFileLineAndColumnUnlessAllowed() throws IOException {
        csv("nan.csv", "a,b,label\n1,2,x\n3,NaN,y\n");
        DataException e = assertThrows(DataException.class, () -> open(new Params("nan.csv", "label", true, ",", null, null, false)));
        assertEquals("non-finite value 'NaN' in " + dir.resolve("nan.csv") + " line 3, column 'b'; feature cells must be "
                + "finite numbers, or set params.allowNonFinite: true to read NaN and infinite values", e.getMessage());
        csv("inf.csv", "a,b\n-inf,1\n");
        assertTrue(assertThrows(DataException.class, () -> open(new Params("inf.csv", null, true, ",", null, null, false)))
                .getMessage().startsWith("non-finite value '-inf' in " + dir.resolve("inf.csv") + " line 2, column 'a'"));
        csv("big.csv", "a\n1e39\n");
        assertTrue(assertThrows(DataException.class, () -> open(new Params("big.csv", null, true, ",", null, null, false)))
                .getMessage().startsWith("value '1e39' overflows float32 (becomes infinite) in "));
        csv("mixed.csv", "a,b\nnan,Infinity\n-INF,2\n");
        try (Dataset ds = open(new Params("mixed.csv", null, true, ",", null, null, true))) {
            float[] x = Collected.pass(ds, 2).inputs();
            assertTrue(Float.isNaN(x[0]));
            assertEquals(Float.POSITIVE_INFINITY, x[1]);
            assertEquals(Float.NEGATIVE_INFINITY, x[2]);
            assertEquals(2f, x[3]);
        }
    }
}
