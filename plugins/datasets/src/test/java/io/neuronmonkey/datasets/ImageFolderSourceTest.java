package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Small PNGs written with javax.imageio, read back pixel for pixel, resized against a plain bilinear loop. */
class ImageFolderSourceTest {

    @TempDir
    Path dir;

    /** Writes an RGB PNG of random pixels; returns its samples [h, w, 3] as written. */
    private static int[] png(Path file, int h, int w, long seed) throws Exception {
        Random r = new Random(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] samples = new int[h * w * 3];
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                int red = r.nextInt(256);
                int green = r.nextInt(256);
                int blue = r.nextInt(256);
                img.setRGB(j, i, red << 16 | green << 8 | blue);
                int p = (i * w + j) * 3;
                samples[p] = red;
                samples[p + 1] = green;
                samples[p + 2] = blue;
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "png", file.toFile());
        return samples;
    }

    private Dataset open(List<Integer> size, int channels, double scale) {
        return new ImageFolderSource().open(TestKit.dataContext(new ImageFolderSource.Params("images", size, channels,
                scale), dir));
    }

    @Test
    void classFoldersGiveSortedClassNamesLabelsAndExactPixels() throws Exception {
        int[] cat1 = png(dir.resolve("images/cat/b.png"), 3, 4, 1);
        int[] cat0 = png(dir.resolve("images/cat/a.png"), 3, 4, 2);
        int[] dog = png(dir.resolve("images/dog/z.png"), 3, 4, 3);
        Files.writeString(dir.resolve("images/dog/notes.txt"), "not an image");
        try (Dataset ds = open(null, 3, 1.0)) {
            assertEquals(List.of("cat", "dog"), ds.info().classNames());
            assertArrayEquals(new int[] {3, 4, 3}, ds.info().exampleShape());
            assertEquals(3, ds.info().size());
            Collected c = Collected.pass(ds, 2);
            assertEquals(List.of("cat/a.png", "cat/b.png", "dog/z.png"), c.ids());
            assertArrayEquals(new int[] {0, 0, 1}, c.labels());
            int[][] expected = {cat0, cat1, dog};
            for (int e = 0; e < 3; e++) {
                for (int i = 0; i < 36; i++) {
                    assertEquals(expected[e][i], c.inputs()[e * 36 + i], "example " + e + " value " + i);
                }
            }
            assertEquals(ds.fingerprint(), open(null, 3, 1.0).fingerprint(), "same files, same order, same hash");
        }
    }

    @Test
    void resizedOnLoadAsABilinearLoopAndGrayscaleAsLuma() throws Exception {
        int[] big = png(dir.resolve("images/a/big.png"), 5, 7, 4);
        png(dir.resolve("images/b/small.png"), 2, 3, 5);
        try (Dataset ds = open(List.of(4, 6), 3, 1 / 255.0)) {
            Collected c = Collected.pass(ds, 8);
            float[] x = new float[big.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = big[i];
            }
            float[] expected = bilinear(x, 5, 7, 3, 4, 6);
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i] / 255.0, c.inputs()[i], 1e-5);
            }
        }
        try (Dataset ds = open(null, 1, 1.0)) {
            assertThrows(DataException.class, () -> Collected.pass(ds, 8), "sizes differ without params.size");
        }
        try (Dataset gray = open(List.of(5, 7), 1, 1.0)) {
            float[] y = Collected.pass(gray, 1).inputs();
            assertEquals(0.299 * big[0] + 0.587 * big[1] + 0.114 * big[2], y[0], 1e-3);
        }
    }

    /** tf.image.resize bilinear with half-pixel centers, by a plain loop. */
    private static float[] bilinear(float[] x, int h, int w, int ch, int oh, int ow) {
        float[] out = new float[oh * ow * ch];
        for (int i = 0; i < oh; i++) {
            for (int j = 0; j < ow; j++) {
                double sy = Math.min(Math.max((i + 0.5) * h / oh - 0.5, 0), h - 1);
                double sx = Math.min(Math.max((j + 0.5) * w / ow - 0.5, 0), w - 1);
                int y0 = (int) sy;
                int x0 = (int) sx;
                int y1 = Math.min(y0 + 1, h - 1);
                int x1 = Math.min(x0 + 1, w - 1);
                for (int c = 0; c < ch; c++) {
                    double v = x[(y0 * w + x0) * ch + c] * (1 - (sy - y0)) * (1 - (sx - x0))
                            + x[(y0 * w + x1) * ch + c] * (1 - (sy - y0)) * (sx - x0)
                            + x[(y1 * w + x0) * ch + c] * (sy - y0) * (1 - (sx - x0))
                            + x[(y1 * w + x1) * ch + c] * (sy - y0) * (sx - x0);
                    out[(i * ow + j) * ch + c] = (float) v;
                }
            }
        }
        return out;
    }

    @Test
    void imagesWithoutClassFoldersAreUnlabelled() throws Exception {
        png(dir.resolve("images/1.png"), 2, 2, 6);
        try (Dataset ds = open(null, 3, 1.0)) {
            assertTrue(ds.info().classNames().isEmpty());
            assertEquals(List.of("1.png"), Collected.pass(ds, 4).ids());
        }
    }

    @Test
    void badParamsAndEmptyFoldersAreExplained() throws Exception {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new ImageFolderSource.Params(" ", List.of(0), 2, 0));
        assertEquals(List.of("root", "size", "channels", "scale"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
        Files.createDirectories(dir.resolve("images/empty"));
        DataException d = assertThrows(DataException.class, () -> open(null, 3, 1.0));
        assertTrue(d.getMessage().contains("holds no images"), d.getMessage());
    }
}
