package io.neuronmonkey.datasets;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.testkit.TestKit;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Draws a 4x4 montage of synthetic examples as a PNG, to look at; {@code main} writes /tmp/synthetic-shapes.png. */
final class SyntheticShapesMontage {

    private SyntheticShapesMontage() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : "/tmp/synthetic-shapes.png");
        SyntheticShapesSource.Split split = args.length > 1
                ? SyntheticShapesSource.Split.valueOf(args[1]) : SyntheticShapesSource.Split.TRAIN;
        write(SyntheticShapesSource.Params.of(split, 16, 7L), 8, out);
        try (Dataset ds = new SyntheticShapesSource().open(TestKit.dataContext(SyntheticShapesSource.Params.of(split, 16,
                7L), Path.of(".")))) {
            Batch b = ds.batches(16).next();
            for (int k = 0; k < 16; k++) {
                System.out.println(k + ": " + b.metadata().get(k));
            }
        }
        System.out.println("wrote " + out);
    }

    /**
     * @param params params of 16 or more examples
     * @param zoom   pixels per image pixel
     * @param out    the PNG to write
     * @return the image written
     */
    static BufferedImage write(SyntheticShapesSource.Params params, int zoom, Path out) throws IOException {
        int s = params.size();
        int cell = s * zoom + 4;
        BufferedImage img = new BufferedImage(4 * cell, 4 * cell, BufferedImage.TYPE_BYTE_GRAY);
        var g = img.createGraphics();
        g.setColor(java.awt.Color.GRAY);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.dispose();
        try (Dataset ds = new SyntheticShapesSource().open(TestKit.dataContext(params, Path.of(".")))) {
            Batch b = ds.batches(16).next();
            float[] px = b.inputs().floats();
            var raster = img.getRaster();
            for (int k = 0; k < 16; k++) {
                int ox = (k % 4) * cell + 2;
                int oy = (k / 4) * cell + 2;
                for (int y = 0; y < s * zoom; y++) {
                    for (int x = 0; x < s * zoom; x++) {
                        float v = px[k * s * s + (y / zoom) * s + x / zoom];
                        raster.setSample(ox + x, oy + y, 0, Math.round(v * 255));
                    }
                }
            }
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        ImageIO.write(img, "png", out.toFile());
        return img;
    }
}
