package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.DataSource;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Images in class folders, as {@code torchvision.datasets.ImageFolder} and Keras' {@code image_dataset_from_directory}
 * read them: {@code root/<class>/<image>}, classes in sorted folder-name order (label = index), images in sorted
 * file-name order within each class, examples class by class. A root without subfolders is one unlabelled set.
 * PNG, JPEG, BMP, GIF and TIFF through {@code javax.imageio}; each image becomes {@code [H, W, channels]} floats
 * (its stored sample values, no colour conversion, times {@code scale}: 16-bit images hold 0..65535, so give them
 * {@code scale: 1.5259021896696422e-05}), resized on load to {@code size} with bilinear
 * interpolation at half-pixel centers (as {@code tf.image.resize}). Ids are the paths relative to the root.
 */
@Extension
@ExtensionName(value = "image-folder", description = "PNG/JPEG images in one subfolder per class (class names from"
        + " the folder names), resized on load")
public class ImageFolderSource implements DataSource<ImageFolderSource.Params> {

    private static final Set<String> SUFFIXES = Set.of(".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff");

    /**
     * Params of {@code image-folder}.
     *
     * @param root     the folder holding one subfolder per class (or the images themselves), required
     * @param size     {@code [height, width]} every image is resized to on load; null: all images must share a size
     * @param channels 3 for RGB (grayscale repeated), 1 for grayscale (RGB as luma 0.299 R + 0.587 G + 0.114 B)
     * @param scale    factor applied to every sample value (default 1/255 maps bytes to [0, 1])
     */
    public record Params(
            @Param(description = "folder with one subfolder per class (the folder names are the class names), or the"
                    + " images themselves for unlabelled data") String root,
            @Param(description = "[height, width] to resize every image to on load (bilinear); default: the images'"
                    + " own size, which must then be the same for all") List<Integer> size,
            @Param(defaultValue = "3", description = "3 for RGB, 1 for grayscale") int channels,
            @Param(defaultValue = "0.00392156862745098", description = "factor applied to every sample value"
                    + " (default 1/255 maps bytes to [0, 1])") double scale) {

        /** Validates every field at once. */
        public Params {
            size = size == null ? null : List.copyOf(size);
            Violations.check()
                    .require(root != null && !root.isBlank(), "root", "must be the path of a folder of images, found "
                            + (root == null ? "nothing" : "'" + root + "'"))
                    .require(size == null || size.size() == 2 && size.stream().allMatch(d -> d >= 1), "size",
                            "must be [height, width] of positive sizes, found " + size)
                    .require(channels == 1 || channels == 3, "channels", "must be 1 (grayscale) or 3 (RGB), found "
                            + channels)
                    .require(Double.isFinite(scale) && scale != 0, "scale", "must be finite and non-zero, found " + scale)
                    .throwIfAny();
        }
    }

    /** Public no-arg constructor for PF4J. */
    public ImageFolderSource() {
    }

    @Override
    public Dataset open(DataContext<Params> ctx) {
        Params p = ctx.params();
        Path root = ctx.resolve(p.root());
        if (!Files.isDirectory(root)) {
            throw new DataException("image folder not found: " + root + " (params.root)");
        }
        List<Path> dirs = list(root).stream().filter(Files::isDirectory).toList();
        List<String> classes = dirs.stream().map(d -> d.getFileName().toString()).toList();
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        if (dirs.isEmpty()) {
            files.addAll(images(root));
        } else {
            for (int c = 0; c < dirs.size(); c++) {
                for (Path f : images(dirs.get(c))) {
                    files.add(f);
                    labels.add(c);
                }
            }
        }
        if (files.isEmpty()) {
            throw new DataException("image folder " + root + " holds no images (" + String.join(", ", SUFFIXES)
                    + ")" + (dirs.isEmpty() ? "" : " in its class folders " + classes));
        }
        int[] hw;
        if (p.size() != null) {
            hw = new int[] {p.size().get(0), p.size().get(1)};
        } else {
            BufferedImage first = read(files.get(0));
            hw = new int[] {first.getHeight(), first.getWidth()};
        }
        int[] label = labels.isEmpty() ? null : labels.stream().mapToInt(Integer::intValue).toArray();
        return new ImageFolder(root, files, label, p, hw,
                new DatasetInfo(files.size(), new int[] {hw[0], hw[1], p.channels()}, classes, List.of()));
    }

    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> !f.getFileName().toString().startsWith(".")).sorted().toList();
        } catch (IOException e) {
            throw new DataException("cannot list image folder " + dir + ": " + e.getMessage(), e);
        }
    }

    private static List<Path> images(Path dir) {
        return list(dir).stream().filter(Files::isRegularFile)
                .filter(f -> SUFFIXES.stream().anyMatch(s -> f.getFileName().toString().toLowerCase(Locale.ROOT)
                        .endsWith(s))).toList();
    }

    static BufferedImage read(Path file) {
        try {
            BufferedImage img = ImageIO.read(file.toFile());
            if (img == null) {
                throw new DataException("cannot decode image " + file + ": no installed reader understands it"
                        + " (PNG, JPEG, BMP, GIF and TIFF are supported)");
            }
            return img;
        } catch (IOException e) {
            throw new DataException("cannot read image " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param img      a decoded image
     * @param channels 1 or 3
     * @return its samples {@code [H, W, channels]} as floats (palette images through their colour map)
     */
    static float[] samples(BufferedImage img, int channels) {
        int h = img.getHeight();
        int w = img.getWidth();
        int[] raw;
        int bands;
        if (img.getColorModel() instanceof IndexColorModel) {
            raw = img.getRGB(0, 0, w, h, null, 0, w);
            int[] rgb = new int[w * h * 3];
            for (int i = 0; i < raw.length; i++) {
                rgb[i * 3] = raw[i] >> 16 & 0xff;
                rgb[i * 3 + 1] = raw[i] >> 8 & 0xff;
                rgb[i * 3 + 2] = raw[i] & 0xff;
            }
            raw = rgb;
            bands = 3;
        } else {
            Raster r = img.getRaster();
            bands = r.getNumBands();
            raw = r.getPixels(0, 0, w, h, (int[]) null);
        }
        float[] out = new float[w * h * channels];
        for (int p = 0; p < w * h; p++) {
            int base = p * bands;
            if (bands < 3) {
                for (int c = 0; c < channels; c++) {
                    out[p * channels + c] = raw[base];
                }
            } else if (channels == 3) {
                out[p * 3] = raw[base];
                out[p * 3 + 1] = raw[base + 1];
                out[p * 3 + 2] = raw[base + 2];
            } else {
                out[p] = (float) (0.299 * raw[base] + 0.587 * raw[base + 1] + 0.114 * raw[base + 2]);
            }
        }
        return out;
    }

    /**
     * Bilinear resize with half-pixel centers (as {@code tf.image.resize}, no antialiasing), edge samples repeated.
     *
     * @return {@code [oh, ow, ch]}
     */
    static float[] resize(float[] x, int h, int w, int ch, int oh, int ow) {
        if (h == oh && w == ow) {
            return x;
        }
        float[] out = new float[oh * ow * ch];
        for (int i = 0; i < oh; i++) {
            double sy = (i + 0.5) * h / oh - 0.5;
            int y0 = (int) Math.floor(sy);
            double fy = sy - y0;
            int ya = Math.max(0, Math.min(h - 1, y0));
            int yb = Math.max(0, Math.min(h - 1, y0 + 1));
            for (int j = 0; j < ow; j++) {
                double sx = (j + 0.5) * w / ow - 0.5;
                int x0 = (int) Math.floor(sx);
                double fx = sx - x0;
                int xa = Math.max(0, Math.min(w - 1, x0));
                int xb = Math.max(0, Math.min(w - 1, x0 + 1));
                for (int c = 0; c < ch; c++) {
                    double top = x[(ya * w + xa) * ch + c] * (1 - fx) + x[(ya * w + xb) * ch + c] * fx;
                    double bottom = x[(yb * w + xa) * ch + c] * (1 - fx) + x[(yb * w + xb) * ch + c] * fx;
                    out[(i * ow + j) * ch + c] = (float) (top * (1 - fy) + bottom * fy);
                }
            }
        }
        return out;
    }

    /** The listed files; each pass decodes the images of each batch. */
    private static final class ImageFolder implements Dataset {

        private final Path root;
        private final List<Path> files;
        private final int[] labels;
        private final Params params;
        private final int[] hw;
        private final DatasetInfo info;
        private volatile String fingerprint;

        ImageFolder(Path root, List<Path> files, int[] labels, Params params, int[] hw, DatasetInfo info) {
            this.root = root;
            this.files = files;
            this.labels = labels;
            this.params = params;
            this.hw = hw;
            this.info = info;
        }

        @Override
        public DatasetInfo info() {
            return info;
        }

        @Override
        public Iterator<Batch> batches(int batchSize) {
            int ch = params.channels();
            int row = hw[0] * hw[1] * ch;
            return new BatchCursor(files.size(), batchSize) {
                @Override
                Batch read(long offset, int n) {
                    float[] x = new float[n * row];
                    List<String> ids = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        Path f = files.get((int) offset + i);
                        BufferedImage img = ImageFolderSource.read(f);
                        if (params.size() == null && (img.getHeight() != hw[0] || img.getWidth() != hw[1])) {
                            throw new DataException("image " + f + " is " + img.getHeight() + "x" + img.getWidth()
                                    + ", the first image " + hw[0] + "x" + hw[1] + "; set params.size, e.g. ["
                                    + hw[0] + ", " + hw[1] + "], to resize every image on load");
                        }
                        float[] s = resize(samples(img, ch), img.getHeight(), img.getWidth(), ch, hw[0], hw[1]);
                        System.arraycopy(s, 0, x, i * row, row);
                        ids.add(root.relativize(f).toString().replace('\\', '/'));
                    }
                    if (params.scale() != 1.0) {
                        float k = (float) params.scale();
                        for (int i = 0; i < x.length; i++) {
                            x[i] *= k;
                        }
                    }
                    int[] y = labels == null ? null : java.util.Arrays.copyOfRange(labels, (int) offset, (int) offset + n);
                    return new Batch(offset, Tensor.ofFloats(x, n, hw[0], hw[1], ch), y, ids,
                            Collections.nCopies(n, Map.of()));
                }
            };
        }

        /** SHA-256 over each file's relative path, a NUL byte and its bytes, in data order. */
        @Override
        public String fingerprint() {
            String f = fingerprint;
            if (f == null) {
                MessageDigest md = DataFiles.sha256();
                for (Path file : files) {
                    md.update(root.relativize(file).toString().replace('\\', '/').getBytes(StandardCharsets.UTF_8));
                    md.update((byte) 0);
                    try {
                        md.update(Files.readAllBytes(file));
                    } catch (IOException e) {
                        throw new DataException("cannot read " + file + " to fingerprint it: " + e.getMessage(), e);
                    }
                }
                f = HexFormat.of().formatHex(md.digest());
                fingerprint = f;
            }
            return f;
        }
    }
}
