package io.neuronmonkey.datasets;

import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.datasets.SyntheticShapesSource.Params;
import io.neuronmonkey.datasets.SyntheticShapesSource.Split;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticShapesSourceTest {

    private static final List<String> CLASSES = List.of("circle", "square", "triangle", "cross");

    @TempDir
    Path dir;

    private Dataset open(Params p) {
        return new SyntheticShapesSource().open(FixedContext.of(p, dir));
    }

    private Collected all(Params p) {
        try (Dataset ds = open(p)) {
            return Collected.pass(ds, 256);
        }
    }

    @Test
    void examplesAreIdenticalForAnyBatchSizeAndAcrossOpens() {
        Params p = Params.of(Split.TRAIN, 150, 3L);
        Collected reference;
        try (Dataset ds = open(p)) {
            reference = Collected.pass(ds, 1);
            for (int batch : new int[] {7, 64}) {
                Collected c = Collected.pass(ds, batch);
                assertArrayEquals(reference.inputs(), c.inputs(), "pixels, batch size " + batch);
                assertArrayEquals(reference.labels(), c.labels(), "labels, batch size " + batch);
                assertEquals(reference.ids(), c.ids(), "ids, batch size " + batch);
                assertEquals(reference.metadata(), c.metadata(), "metadata, batch size " + batch);
            }
        }
        try (Dataset again = open(p)) {
            Collected c = Collected.pass(again, 64);
            assertArrayEquals(reference.inputs(), c.inputs(), "pixels after reopening");
            assertArrayEquals(reference.labels(), c.labels(), "labels after reopening");
            assertEquals(reference.metadata(), c.metadata(), "metadata after reopening");
        }
    }

    @Test
    void seedDefaultsToTheExperimentSeedAndChangesTheExamples() {
        Collected fromContext = all(Params.of(Split.TRAIN, 20, null));
        Collected explicit = all(Params.of(Split.TRAIN, 20, 42L)); // FixedContext's seed
        Collected other = all(Params.of(Split.TRAIN, 20, 43L));
        assertArrayEquals(explicit.inputs(), fromContext.inputs());
        assertNotEquals(List.of(explicit.inputs()), List.of(other.inputs()));
        assertTrue(!java.util.Arrays.equals(explicit.inputs(), other.inputs()), "another seed draws other images");
    }

    @Test
    void infoDescribesShapeClassesAndMetadata() {
        try (Dataset ds = open(new Params(Split.TEST, 10, 40, "cross", 0.9, 0.1, 0.0, 1L))) {
            DatasetInfo info = ds.info();
            assertEquals(10, info.size());
            assertArrayEquals(new int[] {40, 40, 1}, info.exampleShape());
            assertEquals(CLASSES, info.classNames());
            assertEquals(List.of("shape", "texture", "position", "x", "y", "scale", "intensity", "watermark", "tag"),
                    info.metadataKeys());
            Collected c = Collected.pass(ds, 3);
            assertEquals("test-0", c.ids().get(0));
            assertEquals("test-9", c.ids().get(9));
        }
    }

    @Test
    void classesAreBalancedInEveryBlockOfFour() {
        Collected c = all(Params.of(Split.TRAIN, 4002, 5L));
        int[] counts = new int[4];
        for (int i = 0; i < 4000; i++) {
            counts[c.labels()[i]]++;
        }
        assertArrayEquals(new int[] {1000, 1000, 1000, 1000}, counts, "4000 examples hold each class 1000 times");
        for (int block = 0; block < 1000; block++) {
            Set<Integer> seen = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                seen.add(c.labels()[block * 4 + i]);
            }
            assertEquals(4, seen.size(), "block " + block + " holds every class once");
        }
        boolean orderVaries = false;
        for (int block = 1; block < 1000 && !orderVaries; block++) {
            orderVaries = c.labels()[block * 4] != c.labels()[0];
        }
        assertTrue(orderVaries, "labels are not periodic");
    }

    /** Tolerance: 4.5 binomial standard deviations, so a correct generator fails with probability < 1e-5. */
    private static void assertRate(double p, int on, int n, String what) {
        double sd = Math.sqrt(p * (1 - p) / n);
        double rate = (double) on / n;
        assertEquals(p, rate, 4.5 * sd, what + ": " + on + " of " + n);
    }

    private static int[][] watermarkTable(Collected c) {
        int[][] table = new int[4][2]; // [label][off, on]
        for (int i = 0; i < c.labels().length; i++) {
            table[c.labels()[i]][c.metadata().get(i).get("watermark").equals("on") ? 1 : 0]++;
        }
        return table;
    }

    @Test
    void watermarkFollowsTheWatermarkClassInTrainAndTest() {
        for (Split split : new Split[] {Split.TRAIN, Split.TEST}) {
            int[][] t = watermarkTable(all(Params.of(split, 4000, 11L)));
            for (int label = 0; label < 4; label++) {
                double p = CLASSES.get(label).equals("square") ? 0.95 : 0.05;
                assertRate(p, t[label][1], t[label][0] + t[label][1], split + " P(on | " + CLASSES.get(label) + ")");
            }
        }
        int[][] t = watermarkTable(all(new Params(Split.TRAIN, 4000, 28, "triangle", 0.8, 0.2, 0.05, 11L)));
        assertRate(0.8, t[2][1], 1000, "P(on | triangle) with watermarkRate 0.8");
        assertRate(0.2, t[0][1], 1000, "P(on | circle) with leakRate 0.2");
    }

    @Test
    void tagIsAFairCoinIndependentOfLabelAndWatermark() {
        Collected c = all(Params.of(Split.DECORRELATED, 8000, 13L));
        int[][] t = new int[8][2]; // (label, watermark) x tag
        for (int i = 0; i < 8000; i++) {
            Map<String, String> m = c.metadata().get(i);
            t[c.labels()[i] * 2 + (m.get("watermark").equals("on") ? 1 : 0)][m.get("tag").equals("a") ? 0 : 1]++;
        }
        // chi-square test of independence, 7 degrees of freedom: 24.32 is the 0.999 quantile
        double chi = 0;
        int a = 0;
        for (int[] row : t) {
            a += row[0];
        }
        for (int[] row : t) {
            int n = row[0] + row[1];
            double ea = n * (a / 8000.0);
            double eb = n - ea;
            chi += (row[0] - ea) * (row[0] - ea) / ea + (row[1] - eb) * (row[1] - eb) / eb;
        }
        assertTrue(chi < 24.32, "tag depends on label or watermark: chi2 " + chi);
        assertTrue(Math.abs(a - 4000) < 4 * Math.sqrt(2000), "tag a on " + a + " of 8000");
    }

    @Test
    void forcedWatermarkChangesOnlyThePatchSoExamplesPairUp() {
        Params auto = Params.of(Split.DECORRELATED, 200, 9L);
        Collected base = all(auto);
        Collected on = all(new Params(Split.DECORRELATED, 200, 28, "square", 0.95, 0.05, 0.05, 9L,
                SyntheticShapesSource.Watermark.ON));
        Collected off = all(new Params(Split.DECORRELATED, 200, 28, "square", 0.95, 0.05, 0.05, 9L,
                SyntheticShapesSource.Watermark.OFF));
        assertArrayEquals(base.labels(), on.labels());
        assertEquals(base.ids(), off.ids());
        int patchDiffers = 0;
        for (int e = 0; e < 200; e++) {
            assertEquals("on", on.metadata().get(e).get("watermark"));
            assertEquals("off", off.metadata().get(e).get("watermark"));
            assertEquals(base.metadata().get(e).get("x"), on.metadata().get(e).get("x"));
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    int i = e * 784 + y * 28 + x;
                    boolean inPatch = y >= 24 && y <= 26 && x >= 24 && x <= 26;
                    if (inPatch) {
                        assertEquals(1f, on.inputs()[i], "patch pixel of example " + e);
                        patchDiffers += off.inputs()[i] < 1f ? 1 : 0;
                    } else {
                        assertEquals(off.inputs()[i], on.inputs()[i], "pixel outside the patch, example " + e);
                    }
                    float expected = "on".equals(base.metadata().get(e).get("watermark")) ? on.inputs()[i] : off.inputs()[i];
                    assertEquals(expected, base.inputs()[i], "auto equals the forced variant it drew, example " + e);
                }
            }
        }
        assertEquals(200 * 9, patchDiffers, "without the watermark the patch holds only noise below 1");
    }

    @Test
    void watermarkIsIndependentOfTheLabelWhenDecorrelated() {
        int[][] t = watermarkTable(all(Params.of(Split.DECORRELATED, 4000, 11L)));
        int on = 0;
        for (int label = 0; label < 4; label++) {
            assertRate(0.5, t[label][1], 1000, "decorrelated P(on | " + CLASSES.get(label) + ")");
            on += t[label][1];
        }
        // Pearson chi-square test of independence on the 4x2 table, 3 degrees of freedom; 21.1 is the 1e-4 quantile.
        double chi2 = 0;
        for (int label = 0; label < 4; label++) {
            for (int w = 0; w < 2; w++) {
                double expected = 1000.0 * (w == 1 ? on : 4000 - on) / 4000;
                chi2 += Math.pow(t[label][w] - expected, 2) / expected;
            }
        }
        assertTrue(chi2 < 21.1, "watermark independent of label, chi2 = " + chi2);
    }

    @Test
    void splitsDrawDifferentExamples() {
        Collected train = all(Params.of(Split.TRAIN, 50, 1L));
        Collected test = all(Params.of(Split.TEST, 50, 1L));
        int same = 0;
        for (int i = 0; i < 50; i++) {
            if (train.metadata().get(i).get("x").equals(test.metadata().get(i).get("x"))) {
                same++;
            }
        }
        assertTrue(same < 3, "train and test share " + same + " of 50 example positions");
        assertEquals("train-0", train.ids().get(0));
    }

    @Test
    void pixelsMetadataAndWatermarkPatchAgree() {
        for (int size : new int[] {16, 28, 64}) {
            Params p = new Params(Split.DECORRELATED, 400, size, "square", 0.95, 0.05, 0.05, 9L);
            Collected c = all(p);
            int px = size * size;
            int start = size - 4;
            for (int i = 0; i < 400; i++) {
                Map<String, String> m = c.metadata().get(i);
                assertEquals(Set.of("shape", "texture", "position", "x", "y", "scale", "intensity", "watermark", "tag"),
                        m.keySet(), "metadata keys of example " + i);
                assertEquals(CLASSES.get(c.labels()[i]), m.get("shape"));
                assertTrue(List.of("solid", "striped", "dotted").contains(m.get("texture")), m.get("texture"));
                double x = Double.parseDouble(m.get("x"));
                double y = Double.parseDouble(m.get("y"));
                double r = Double.parseDouble(m.get("scale"));
                double intensity = Double.parseDouble(m.get("intensity"));
                String quadrant = (y < size / 2.0 ? "top" : "bottom") + "-" + (x < size / 2.0 ? "left" : "right");
                assertEquals(quadrant, m.get("position"));
                assertTrue(r >= 6.0 * size / 28 - 0.01 && r <= 9.0 * size / 28 + 0.01, "radius " + r);
                assertTrue(intensity >= 0.5 && intensity <= 1.0, "intensity " + intensity);
                float max = 0;
                float patchMin = 1;
                float patchMax = 0;
                for (int k = 0; k < px; k++) {
                    float v = c.inputs()[i * px + k];
                    assertTrue(v >= 0f && v <= 1f, "pixel " + v + " of example " + i);
                    max = Math.max(max, v);
                    int row = k / size;
                    int col = k % size;
                    if (row >= start && row < start + 3 && col >= start && col < start + 3) {
                        patchMin = Math.min(patchMin, v);
                        patchMax = Math.max(patchMax, v);
                    }
                }
                if (m.get("watermark").equals("on")) {
                    assertEquals(1f, patchMin, 0f, "watermark on: every patch pixel is 1, example " + i);
                } else {
                    assertTrue(patchMax < 0.05f, "watermark off: the patch holds only noise < 0.05, found "
                            + patchMax + " in example " + i);
                }
                // the brightest shape pixel comes near the intensity (thin, textured shapes cover few whole pixels)
                assertTrue(max >= 0.6 * intensity, "shape of intensity " + intensity + " drawn with max " + max
                        + " in example " + i + " at size " + size + ": " + m);
            }
        }
    }

    @Test
    void fingerprintIsStableAndDependsOnParamsAndSeed() {
        String a;
        try (Dataset ds = open(Params.of(Split.TRAIN, 100, 1L))) {
            a = ds.fingerprint();
            assertTrue(a.matches("[0-9a-f]{64}"), a);
        }
        try (Dataset ds = open(Params.of(Split.TRAIN, 100, 1L))) {
            assertEquals(a, ds.fingerprint());
        }
        try (Dataset ds = open(Params.of(Split.TRAIN, 100, 2L))) {
            assertNotEquals(a, ds.fingerprint());
        }
        try (Dataset ds = open(Params.of(Split.TEST, 100, 1L))) {
            assertNotEquals(a, ds.fingerprint());
        }
        try (Dataset ds = open(Params.of(Split.TRAIN, 100, null))) {
            String fromContext = ds.fingerprint();
            try (Dataset explicit = open(Params.of(Split.TRAIN, 100, 42L))) {
                assertEquals(explicit.fingerprint(), fromContext, "a default seed is resolved before hashing");
            }
        }
    }

    @Test
    void rejectsEveryBadParamAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new Params(Split.TRAIN, 0, 8, "hexagon", 1.5, -0.1, 0.9, null));
        assertEquals(List.of("count", "size", "watermarkClass", "watermarkRate", "leakRate", "noise"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
        assertTrue(e.getMessage().contains("must be one of circle, square, triangle, cross, found 'hexagon'"),
                e.getMessage());
    }

    @Test
    void montageOfSixteenExamplesIsWritten() throws IOException {
        Path png = dir.resolve("montage.png");
        SyntheticShapesMontage.write(Params.of(Split.TRAIN, 16, 7L), 4, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(4 * (28 * 4 + 4), img.getWidth());
        assertEquals(img.getWidth(), img.getHeight());
    }
}
