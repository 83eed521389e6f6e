package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.api.visual.Visualizer;
import io.neuronmonkey.api.visual.VisualizerContext;
import org.pf4j.Extension;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Draws, per layer of each top-activations input, a grid of the input images that drove each neuron highest: one row
 * per neuron, one column per rank, each image scaled up by nearest neighbour, with the receptive region outlined on
 * spatial layers and the value and class under each cell. A second grid shows the lowest examples when kept.
 * Pictures of examples are not charts, so this draws with Java2D directly.
 */
@Extension
@ExtensionName(value = "top-activations-grid",
        description = "One PNG per layer of each top-activations input: each neuron's top (and bottom) input images")
public class TopActivationsGridVisualizer implements Visualizer<TopActivationsGridVisualizer.Params> {

    static {
        Charts.headless();
    }

    /** Width of the row-label column, pixels. */
    static final int LABEL_WIDTH = 56;
    /** Gap around and between cells, pixels. */
    static final int GAP = 4;
    /** Height of the title (up to two lines) and rank header above the grid, pixels. */
    static final int HEADER_HEIGHT = 52;
    /** Height of the two caption lines under each image, pixels. */
    static final int CAPTION_HEIGHT = 24;
    /** Outline of the receptive region. */
    static final Color REGION = new Color(0xFF, 0x40, 0x00);
    /** Fill of a cell with no example (fewer than k kept). */
    static final Color EMPTY = new Color(0xEE, 0xEE, 0xEE);
    private static final Color TEXT = new Color(0x1D, 0x23, 0x30);
    private static final Color MUTED = new Color(0x6B, 0x72, 0x80);
    private static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 12);
    private static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 11);
    private static final Font SMALL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 9);

    /**
     * Params of {@code top-activations-grid}.
     *
     * @param cellSize   pixels per image cell (the image's longer side)
     * @param maxNeurons most rows per grid
     * @param range      fixed [low, high] input range mapped to black..white; null to scale each image by its own
     *                   min and max
     * @param regions    outline the receptive region on spatial layers
     * @param layers     layer names to draw; null for all
     */
    public record Params(
            @Param(defaultValue = "48", description = "cell size in pixels: each input image is scaled up "
                    + "(nearest neighbour) so that its longer side fills it, 8 to 512") int cellSize,
            @Param(defaultValue = "64", description = "most neurons (rows) per grid; the first ones by index")
            int maxNeurons,
            @Param(description = "fixed [low, high] input value range shown as black..white; each image is scaled "
                    + "by its own min and max when absent") List<Double> range,
            @Param(defaultValue = "true", description = "outline the input region behind the winning position on "
                    + "spatial layers") boolean regions,
            @Param(description = "layer names to draw; every layer when absent") List<String> layers) {

        /** Validates every param at once. */
        public Params {
            boolean rangeOk = range == null || (range.size() == 2 && range.get(0) != null && range.get(1) != null
                    && Double.isFinite(range.get(0)) && Double.isFinite(range.get(1)) && range.get(1) > range.get(0));
            Violations.check()
                    .require(cellSize >= 8 && cellSize <= 512, "cellSize", "must be 8 to 512 pixels, found "
                            + cellSize)
                    .require(maxNeurons >= 1 && maxNeurons <= 4096, "maxNeurons", "must be 1 to 4096, found "
                            + maxNeurons)
                    .require(rangeOk, "range", "must be [low, high] with finite low < high (leave it out to scale "
                            + "each image by its own min and max), found " + range)
                    .require(layers == null || !layers.isEmpty(), "layers",
                            "must name at least one layer when given (leave it out for every layer), found []")
                    .throwIfAny();
            range = range == null ? null : List.copyOf(range);
            layers = layers == null ? null : List.copyOf(layers);
        }
    }

    /** Creates the visualizer; PF4J needs the public no-arg constructor. */
    public TopActivationsGridVisualizer() {
    }

    @Override
    public void render(VisualizerContext<Params> ctx) {
        Params p = ctx.params();
        List<Parts.Found<ExampleSet>> all = Parts.ofLayers(Parts.all(ctx.inputs(), ExampleSet.class, e -> true),
                p.layers(), ExampleSet::layer, "top-activations-grid");
        if (all.isEmpty()) {
            throw Parts.nothingToDraw("top-activations-grid", "example sets (as top-activations writes)", ctx.inputs());
        }
        List<Parts.Found<ExampleSet>> drawable = all.stream().filter(f -> f.part().inputs() != null).toList();
        if (drawable.isEmpty()) {
            Set<String> steps = new LinkedHashSet<>();
            all.forEach(f -> steps.add(f.step().stepId()));
            throw new OutputException("top-activations-grid draws the kept input images, but step(s) "
                    + String.join(", ", steps) + " kept none (their example sets have no inputs); run top-activations "
                    + "with includeInputs: true, or leave this step out (html-report still lists the examples)");
        }
        Charts.FileNames names = new Charts.FileNames();
        ctx.progress().start("top-activation grids", drawable.size());
        for (Parts.Found<ExampleSet> f : drawable) {
            if (ctx.cancelled()) {
                break;
            }
            Grid grid = Grid.of(f.part(), null, p.maxNeurons());
            String title = title(f, grid);
            String file = names.next(f.step().stepId() + "-" + f.part().id(), "png");
            ctx.write(file, png(draw(grid, title, p.cellSize(), p.range(), p.regions()), file), title, "image/png");
            ctx.progress().advance(1);
        }
        ctx.progress().finish();
    }

    static String title(Parts.Found<ExampleSet> f, Grid grid) {
        ExampleSet e = f.part();
        StringBuilder t = new StringBuilder(f.step().stepId()).append(": ").append(e.layer()).append(" - ")
                .append(e.order().equals("bottom") ? "lowest " : "top ").append(grid.columns())
                .append(" inputs per neuron (").append(e.value()).append(")");
        if (grid.rows().size() < grid.totalNeurons()) {
            t.append(", first ").append(grid.rows().size()).append(" of ").append(grid.totalNeurons()).append(" neurons");
        }
        return t.toString();
    }

    /**
     * What one PNG shows.
     *
     * @param height       input image height
     * @param width        input image width
     * @param channels     input channels (1 grey, 3 or more RGB from the first three)
     * @param columns      ranks per neuron (k)
     * @param rows         the neurons shown, in order
     * @param totalNeurons rows in the arrays
     */
    record Grid(int height, int width, int channels, int columns, List<Row> rows, int totalNeurons) {

        /**
         * @param neuron  neuron index
         * @param pixels  per rank, the image as [H, W, C] values, or null where no example was kept
         * @param entries per rank, the example, or null
         * @param classes label index to class name
         */
        record Row(int neuron, float[][] pixels, ExampleSet.Example[] entries, List<String> classes) {
        }

        /**
         * @param set        an example set with inputs
         * @param only       the neurons to show, in order, or null for every neuron by index
         * @param maxNeurons most rows
         * @return the grid
         */
        static Grid of(ExampleSet set, List<Integer> only, int maxNeurons) {
            Tensor inputs = set.inputs().data();
            int[] s = inputs.shape();
            if (inputs.dtype() != DType.FLOAT32 || (s.length != 4 && s.length != 5)) {
                throw new OutputException("example set '" + set.id() + "': inputs must be FLOAT32 [neuron, rank, "
                        + "height, width(, channel)] images, found " + inputs.dtype() + " " + Arrays.toString(s)
                        + " " + set.inputs().dims());
            }
            int neurons = s[0];
            int k = s[1];
            int h = s[2];
            int w = s[3];
            int c = s.length == 5 ? s[4] : 1;
            int per = h * w * c;
            float[] data = inputs.floats();
            List<Integer> order = new ArrayList<>();
            if (only != null) {
                order.addAll(only);
            } else {
                for (int n = 0; n < neurons; n++) {
                    order.add(n);
                }
            }
            List<Row> rows = new ArrayList<>();
            for (int n : order) {
                if (rows.size() == maxNeurons) {
                    break;
                }
                if (n < 0 || n >= neurons) {
                    throw new OutputException("example set '" + set.id() + "' has no neuron " + n + " (its inputs hold "
                            + neurons + " neurons)");
                }
                List<ExampleSet.Example> list = set.of(n).map(ExampleSet.NeuronExamples::examples).orElse(List.of());
                float[][] pixels = new float[k][];
                ExampleSet.Example[] entries = new ExampleSet.Example[k];
                for (int j = 0; j < k; j++) {
                    int from = (n * k + j) * per;
                    float[] img = Arrays.copyOfRange(data, from, from + per);
                    boolean any = false;
                    for (float x : img) {
                        any |= !Float.isNaN(x);
                    }
                    pixels[j] = any ? img : null;
                    entries[j] = j < list.size() ? list.get(j) : null;
                }
                rows.add(new Row(n, pixels, entries, set.classNames()));
            }
            return new Grid(h, w, c, k, List.copyOf(rows), neurons);
        }
    }

    /** @return the x of column {@code j}'s cell */
    static int cellX(int j, int cellSize) {
        return LABEL_WIDTH + GAP + j * (cellSize + GAP);
    }

    /** @return the y of row {@code i}'s cell */
    static int cellY(int i, int cellSize) {
        return HEADER_HEIGHT + i * (cellSize + CAPTION_HEIGHT + GAP);
    }

    /** @return the image width for {@code k} columns: labels + k * (cell + gap) + gap */
    static int imageWidth(int k, int cellSize) {
        return cellX(k, cellSize);
    }

    static BufferedImage draw(Grid grid, String title, int cellSize, List<Double> range, boolean regions) {
        int cell = cellSize;
        int width = imageWidth(grid.columns(), cell);
        int height = cellY(grid.rows().size(), cell) + GAP;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            g.setColor(TEXT);
            g.setFont(TITLE_FONT);
            List<String> lines = wrap(g, title, width - 2 * GAP);
            for (int i = 0; i < lines.size(); i++) {
                g.drawString(lines.get(i), GAP, 15 + 15 * i);
            }
            g.setFont(SMALL_FONT);
            g.setColor(MUTED);
            FontMetrics small = g.getFontMetrics();
            for (int j = 0; j < grid.columns(); j++) {
                String rank = Integer.toString(j + 1);
                g.drawString(rank, cellX(j, cell) + (cell - small.stringWidth(rank)) / 2, HEADER_HEIGHT - 6);
            }
            g.drawString("rank", GAP, HEADER_HEIGHT - 6);
            for (int i = 0; i < grid.rows().size(); i++) {
                Grid.Row row = grid.rows().get(i);
                int y = cellY(i, cell);
                g.setFont(LABEL_FONT);
                g.setColor(TEXT);
                String label = fit(g, "#" + row.neuron(), LABEL_WIDTH - GAP);
                g.drawString(label, LABEL_WIDTH - g.getFontMetrics().stringWidth(label), y + cell / 2 + 4);
                for (int j = 0; j < grid.columns(); j++) {
                    int x = cellX(j, cell);
                    if (row.pixels()[j] == null) {
                        g.setColor(EMPTY);
                        g.fillRect(x, y, cell, cell);
                        continue;
                    }
                    paintImage(img, x, y, cell, row.pixels()[j], grid, range);
                    ExampleSet.Example e = row.entries()[j];
                    if (regions && e != null && e.region() != null) {
                        outline(img, x, y, cell, grid, e.region());
                    }
                    caption(g, x, y + cell, cell, e == null ? Double.NaN : e.value(), e, row.classes());
                }
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    /** Paints one input image into its cell, nearest neighbour, centred when not square. */
    static void paintImage(BufferedImage img, int x0, int y0, int cell, float[] pixels, Grid grid,
                           List<Double> range) {
        int h = grid.height();
        int w = grid.width();
        int c = grid.channels();
        double lo;
        double hi;
        if (range != null) {
            lo = range.get(0);
            hi = range.get(1);
        } else {
            lo = Double.POSITIVE_INFINITY;
            hi = Double.NEGATIVE_INFINITY;
            for (float v : pixels) {
                if (!Float.isNaN(v)) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
            if (!(hi > lo)) {
                // a constant image: show it as it would look in [0, 1]
                lo = 0;
                hi = 1;
            }
        }
        int side = Math.max(h, w);
        int dh = h * cell / side;
        int dw = w * cell / side;
        int ox = x0 + (cell - dw) / 2;
        int oy = y0 + (cell - dh) / 2;
        for (int y = 0; y < dh; y++) {
            int r = y * side / cell;
            for (int x = 0; x < dw; x++) {
                int col = x * side / cell;
                int base = (r * w + col) * c;
                int rgb;
                if (c >= 3) {
                    rgb = (level(pixels[base], lo, hi) << 16) | (level(pixels[base + 1], lo, hi) << 8)
                            | level(pixels[base + 2], lo, hi);
                } else {
                    int v = level(pixels[base], lo, hi);
                    rgb = (v << 16) | (v << 8) | v;
                }
                img.setRGB(ox + x, oy + y, rgb);
            }
        }
    }

    private static int level(float v, double lo, double hi) {
        if (Float.isNaN(v)) {
            return 0;
        }
        double t = (v - lo) / (hi - lo);
        return (int) Math.round(255 * Math.max(0, Math.min(1, t)));
    }

    /**
     * Outlines an input box [top, left, bottom, right] (all inclusive, as top-activations writes it) on the upscaled
     * image: the border is the outermost upscaled pixels inside the box, clipped to the image.
     */
    static void outline(BufferedImage img, int x0, int y0, int cell, Grid grid, int[] region) {
        int h = grid.height();
        int w = grid.width();
        int side = Math.max(h, w);
        int top = Math.max(0, Math.min(h, region[0]));
        int left = Math.max(0, Math.min(w, region[1]));
        int bottom = Math.max(0, Math.min(h, region[2] + 1));
        int right = Math.max(0, Math.min(w, region[3] + 1));
        if (bottom <= top || right <= left) {
            return;
        }
        int ox = x0 + (cell - w * cell / side) / 2;
        int oy = y0 + (cell - h * cell / side) / 2;
        int ya = oy + up(top, cell, side);
        int yb = oy + up(bottom, cell, side) - 1;
        int xa = ox + up(left, cell, side);
        int xb = ox + up(right, cell, side) - 1;
        int thick = Math.max(1, cell / 40);
        int rgb = REGION.getRGB();
        for (int t = 0; t < thick; t++) {
            for (int x = xa; x <= xb; x++) {
                img.setRGB(x, Math.min(yb, ya + t), rgb);
                img.setRGB(x, Math.max(ya, yb - t), rgb);
            }
            for (int y = ya; y <= yb; y++) {
                img.setRGB(Math.min(xb, xa + t), y, rgb);
                img.setRGB(Math.max(xa, xb - t), y, rgb);
            }
        }
    }

    /** @return the first upscaled pixel whose source index is at least {@code i}: ceil(i * cell / side) */
    static int up(int i, int cell, int side) {
        return (i * cell + side - 1) / side;
    }

    private static void caption(Graphics2D g, int x, int y, int cell, double value, ExampleSet.Example e,
                                List<String> classes) {
        g.setFont(SMALL_FONT);
        FontMetrics fm = g.getFontMetrics();
        g.setColor(TEXT);
        String v = Charts.number(value);
        g.drawString(fit(g, v, cell), x + (cell - fm.stringWidth(fit(g, v, cell))) / 2, y + 10);
        String what = e == null ? "" : e.label() == null ? e.exampleId()
                : e.label() >= 0 && e.label() < classes.size() ? classes.get(e.label()) : "label " + e.label();
        if (!what.isEmpty()) {
            g.setColor(MUTED);
            String s = fit(g, what, cell);
            g.drawString(s, x + (cell - fm.stringWidth(s)) / 2, y + 20);
        }
    }

    /** @return the title on one line, or two when it does not fit (broken at a space), each cut to fit */
    static List<String> wrap(Graphics2D g, String text, int width) {
        if (g.getFontMetrics().stringWidth(text) <= width) {
            return List.of(text);
        }
        int dash = text.indexOf(" - ");
        int at = dash > 0 ? dash : text.lastIndexOf(' ', text.length() / 2);
        if (at <= 0) {
            return List.of(fit(g, text, width));
        }
        String rest = text.substring(at).replaceFirst("^ - ", "").trim();
        return List.of(fit(g, text.substring(0, at), width), fit(g, rest, width));
    }

    /** @return the text, cut with an ellipsis to fit {@code width} pixels in the current font */
    static String fit(Graphics2D g, String text, int width) {
        FontMetrics fm = g.getFontMetrics();
        if (fm.stringWidth(text) <= width) {
            return text;
        }
        String s = text;
        while (!s.isEmpty() && fm.stringWidth(s + "\u2026") > width) {
            s = s.substring(0, s.length() - 1);
        }
        return s + "\u2026";
    }

    static byte[] png(BufferedImage img, String file) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, "png", out)) {
                throw new IOException("no PNG writer");
            }
        } catch (IOException e) {
            throw new OutputException("could not encode " + file + " as PNG: " + e.getMessage(), e);
        }
        return out.toByteArray();
    }
}
