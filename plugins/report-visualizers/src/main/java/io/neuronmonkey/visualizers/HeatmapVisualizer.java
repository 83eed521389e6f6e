package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.visual.Visualizer;
import io.neuronmonkey.api.visual.VisualizerContext;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.SymbolAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYBlockRenderer;
import org.jfree.chart.title.PaintScaleLegend;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.data.xy.DefaultXYZDataset;
import org.pf4j.Extension;

import java.awt.Color;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.ArrayList;
import java.util.List;

/** Draws, per layer with per-class means, a heatmap of mean activation per neuron (x) and class (y) as a PNG. */
@Extension
@ExtensionName(value = "heatmap",
        description = "One PNG per labelled layer of each activation-stats input: mean activation per neuron and class")
public class HeatmapVisualizer implements Visualizer<HeatmapVisualizer.Params> {

    static {
        Charts.headless();
    }

    /** How the heatmap's values are scaled before colouring. */
    public enum Normalize {
        /** Raw mean activations, one colour scale for the whole layer. */
        NONE,
        /** Each neuron's column scaled to [0, 1], so neurons with different ranges compare. */
        NEURON
    }

    /**
     * Params of {@code heatmap}.
     *
     * @param width      image width in pixels
     * @param height     image height in pixels
     * @param normalize  value scaling
     * @param maxNeurons most columns drawn per layer
     * @param layers     layer names to draw; null for all
     */
    public record Params(
            @Param(defaultValue = "720", description = "image width in pixels, 200 to 8000") int width,
            @Param(defaultValue = "400", description = "image height in pixels, 150 to 8000") int height,
            @Param(defaultValue = "neuron", description = "none: raw means on one scale; neuron: each neuron's "
                    + "column scaled to [0,1] so neurons with different ranges compare") Normalize normalize,
            @Param(defaultValue = "256", description = "larger layers show only this many neurons, those with the "
                    + "highest variance across classes") int maxNeurons,
            @Param(description = "layer names to draw; every layer with per-class means when absent")
            List<String> layers) {

        /** Validates every param at once. */
        public Params {
            Violations.check()
                    .require(width >= 200 && width <= 8000, "width", "must be 200 to 8000 pixels, found " + width)
                    .require(height >= 150 && height <= 8000, "height", "must be 150 to 8000 pixels, found " + height)
                    .require(maxNeurons >= 1, "maxNeurons", "must be >= 1, found " + maxNeurons)
                    .require(layers == null || !layers.isEmpty(), "layers",
                            "must name at least one layer when given (leave it out for every layer), found []")
                    .throwIfAny();
            normalize = normalize == null ? Normalize.NEURON : normalize;
            layers = layers == null ? null : List.copyOf(layers);
        }
    }

    /** Creates the visualizer; PF4J needs the public no-arg constructor. */
    public HeatmapVisualizer() {
    }

    @Override
    public void render(VisualizerContext<Params> ctx) {
        Params p = ctx.params();
        List<Parts.Found<Matrix>> found = Parts.ofLayers(Parts.all(ctx.inputs(), Matrix.class,
                m -> Parts.isGroupByNeuron(m) && m.rows().name().equals("class")), p.layers(), Matrix::layer, "heatmap");
        if (found.isEmpty()) {
            throw Parts.nothingToDraw("heatmap", "per-class means (a matrix with axes class x neuron, which "
                    + "activation-stats writes for labelled data)", ctx.inputs());
        }
        Charts.FileNames names = new Charts.FileNames();
        ctx.progress().start("heatmaps", found.size());
        for (Parts.Found<Matrix> f : found) {
            if (ctx.cancelled()) {
                break;
            }
            Matrix m = f.part();
            float[] values = new float[m.values().size()];
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) m.values().get(i);
            }
            HeatmapMatrix matrix = HeatmapMatrix.build(values, m.rows().size(), m.cols().size(), p.normalize(), p.maxNeurons());
            String title = title(f, matrix, p.normalize());
            JFreeChart chart = chart(title, matrix, m.rows().labels(), p.normalize(), p.height());
            String file = names.next(f.step().stepId() + "-" + m.id(), "png");
            ctx.write(file, Charts.png(chart, p.width(), p.height()), title, "image/png");
            ctx.progress().advance(1);
        }
        ctx.progress().finish();
    }

    static String title(Parts.Found<Matrix> f, HeatmapMatrix matrix, Normalize normalize) {
        StringBuilder t = new StringBuilder(f.step().stepId()).append(": ")
                .append(f.part().layer() == null ? f.part().title() : f.part().layer())
                .append(" (").append(matrix.totalNeurons()).append(" neurons) - mean activation per class");
        List<String> notes = new ArrayList<>();
        if (normalize == Normalize.NEURON) {
            notes.add("each neuron scaled to [0,1]");
        }
        if (matrix.truncated()) {
            notes.add("top " + matrix.neurons().length + " of " + matrix.totalNeurons()
                    + " neurons by variance across classes");
        }
        if (!notes.isEmpty()) {
            t.append(" (").append(String.join("; ", notes)).append(')');
        }
        return t.toString();
    }

    /** @return the title with its notes in parentheses moved to a second line, for the chart itself */
    static String chartTitle(String title) {
        int notes = title.indexOf(" - mean activation per class (");
        if (notes < 0) {
            return title;
        }
        int open = title.indexOf('(', notes);
        return title.substring(0, open - 1) + "\n" + title.substring(open);
    }

    static JFreeChart chart(String title, HeatmapMatrix matrix, List<String> classNames, Normalize normalize,
                            int height) {
        int classes = matrix.values().length;
        int columns = matrix.neurons().length;
        double[][] series = new double[3][classes * columns];
        for (int c = 0; c < classes; c++) {
            for (int j = 0; j < columns; j++) {
                int k = c * columns + j;
                series[0][k] = j;
                series[1][k] = c;
                series[2][k] = matrix.values()[c][j];
            }
        }
        DefaultXYZDataset data = new DefaultXYZDataset();
        data.addSeries("mean activation", series);

        double lo = normalize == Normalize.NEURON ? 0 : matrix.min();
        double hi = normalize == Normalize.NEURON ? 1 : matrix.max();
        if (Double.isNaN(lo)) {
            lo = 0;
            hi = 1;
        } else if (!(hi > lo)) {
            double pad = Math.max(Math.abs(lo) * 0.05, 1e-6);
            lo -= pad;
            hi += pad;
        }
        ViridisPaintScale scale = new ViridisPaintScale(lo, hi);
        XYBlockRenderer blocks = new XYBlockRenderer();
        blocks.setPaintScale(scale);
        blocks.setBlockWidth(1);
        blocks.setBlockHeight(1);

        NumberAxis x = new NumberAxis(matrix.truncated() ? "neuron (index; top " + columns + " by class variance)"
                : "neuron");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setNumberFormatOverride(new ColumnLabels(matrix.neurons()));
        x.setRange(-0.5, columns - 0.5);
        x.setLowerMargin(0);
        x.setUpperMargin(0);

        SymbolAxis y = new SymbolAxis("class", classNames.toArray(new String[0]));
        y.setInverted(true);
        y.setRange(-0.5, classes - 0.5);
        y.setGridBandsVisible(false);
        y.setTickLabelsVisible(classes * 12 <= height - 120);

        XYPlot plot = new XYPlot(data, x, y, blocks);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);
        plot.setAxisOffset(RectangleInsets.ZERO_INSETS);

        JFreeChart chart = new JFreeChart(chartTitle(title), Charts.TITLE_FONT, plot, false);
        Charts.style(chart, plot);
        plot.setBackgroundPaint(ViridisPaintScale.MISSING);
        plot.setDomainGridlinesVisible(false);
        plot.setRangeGridlinesVisible(false);

        NumberAxis legendAxis = new NumberAxis(normalize == Normalize.NEURON
                ? "scaled mean activation" : "mean activation");
        legendAxis.setRange(lo, hi);
        if (normalize == Normalize.NEURON) {
            legendAxis.setTickUnit(new NumberTickUnit(0.25));
        }
        legendAxis.setLabelFont(Charts.SUBTITLE_FONT);
        legendAxis.setTickLabelFont(Charts.SUBTITLE_FONT);
        PaintScaleLegend legend = new PaintScaleLegend(scale, legendAxis);
        legend.setPosition(RectangleEdge.RIGHT);
        legend.setAxisLocation(AxisLocation.BOTTOM_OR_RIGHT);
        legend.setStripWidth(14);
        legend.setSubdivisionCount(128);
        legend.setMargin(new RectangleInsets(8, 10, 8, 4));
        legend.setBackgroundPaint(Color.WHITE);
        chart.addSubtitle(legend);
        TextTitle spacer = new TextTitle(" ", Charts.SUBTITLE_FONT);
        spacer.setPosition(RectangleEdge.TOP);
        chart.addSubtitle(spacer);
        return chart;
    }

    /** Labels column positions with the neuron indices they show. */
    private static final class ColumnLabels extends NumberFormat {
        private final int[] neurons;

        ColumnLabels(int[] neurons) {
            this.neurons = neurons.clone();
        }

        @Override
        public StringBuffer format(double number, StringBuffer to, FieldPosition pos) {
            // ticks sit on whole columns; other values (the axis bounds, used to estimate label widths) clamp
            long i = Math.max(0, Math.min(neurons.length - 1, Math.round(number)));
            return neurons.length == 0 ? to : to.append(neurons[(int) i]);
        }

        @Override
        public StringBuffer format(long number, StringBuffer to, FieldPosition pos) {
            return format((double) number, to, pos);
        }

        @Override
        public Number parse(String source, ParsePosition pos) {
            return null;
        }
    }
}
