package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.visual.Visualizer;
import io.neuronmonkey.api.visual.VisualizerContext;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;
import org.pf4j.Extension;

import java.awt.BasicStroke;
import java.awt.Color;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.List;
import java.util.Locale;

/** Draws, per layer of each activation-stats input, the pooled distribution of reduced activations as a PNG. */
@Extension
@ExtensionName(value = "histogram",
        description = "One PNG per layer of each activation-stats input: the pooled activation distribution")
public class HistogramVisualizer implements Visualizer<HistogramVisualizer.Params> {

    static {
        Charts.headless();
    }

    /** Base of the bars on a log axis, so that bins holding a single value still show. */
    static final double LOG_BAR_BASE = 0.5;

    /**
     * Params of {@code histogram}.
     *
     * @param width    image width in pixels
     * @param height   image height in pixels
     * @param logScale log-scaled count axis
     * @param layers   layer names to draw; null for all
     */
    public record Params(
            @Param(defaultValue = "640", description = "image width in pixels, 200 to 8000") int width,
            @Param(defaultValue = "360", description = "image height in pixels, 150 to 8000") int height,
            @Param(defaultValue = "false", description = "log-scaled count axis (for spiky distributions such as "
                    + "ReLU's many zeros)") boolean logScale,
            @Param(description = "layer names to draw; every layer when absent") List<String> layers) {

        /** Validates every param at once. */
        public Params {
            Violations.check()
                    .require(width >= 200 && width <= 8000, "width", "must be 200 to 8000 pixels, found " + width)
                    .require(height >= 150 && height <= 8000, "height", "must be 150 to 8000 pixels, found " + height)
                    .require(layers == null || !layers.isEmpty(), "layers",
                            "must name at least one layer when given (leave it out for every layer), found []")
                    .throwIfAny();
            layers = layers == null ? null : List.copyOf(layers);
        }
    }

    /** Creates the visualizer; PF4J needs the public no-arg constructor. */
    public HistogramVisualizer() {
    }

    @Override
    public void render(VisualizerContext<Params> ctx) {
        Params p = ctx.params();
        List<Parts.Found<Matrix>> found = Parts.ofLayers(Parts.all(ctx.inputs(), Matrix.class, Parts::isHistogram),
                p.layers(), Matrix::layer, "histogram");
        if (found.isEmpty()) {
            throw Parts.nothingToDraw("histogram", "per-neuron histograms (a matrix with axes neuron x bin, as "
                    + "activation-stats writes)", ctx.inputs());
        }
        Charts.FileNames names = new Charts.FileNames();
        ctx.progress().start("histograms", found.size());
        for (Parts.Found<Matrix> f : found) {
            if (ctx.cancelled()) {
                break;
            }
            JFreeChart chart = chart(f, p.logScale());
            String file = names.next(f.step().stepId() + "-" + f.part().id(), "png");
            ctx.write(file, Charts.png(chart, p.width(), p.height()), title(f) + " - activation histogram", "image/png");
            ctx.progress().advance(1);
        }
        ctx.progress().finish();
    }

    static String title(Parts.Found<Matrix> f) {
        Matrix m = f.part();
        String layer = m.layer() == null ? m.title() : m.layer();
        return f.step().stepId() + ": " + layer + " (" + m.rows().size() + " neurons)";
    }

    /**
     * @param f        a neuron x bin matrix and where it came from
     * @param logScale log-scaled count axis
     * @return the chart of the counts pooled over neurons
     */
    static JFreeChart chart(Parts.Found<Matrix> f, boolean logScale) {
        Matrix m = f.part();
        double[] edges = m.cols().edges();
        double[] counts = new double[m.cols().size()];
        for (int r = 0; r < m.rows().size(); r++) {
            for (int c = 0; c < counts.length; c++) {
                counts[c] += m.get(r, c);
            }
        }
        XYIntervalSeries series = new XYIntervalSeries("count");
        boolean anyPositive = false;
        for (int i = 0; i < counts.length; i++) {
            double c = counts[i];
            anyPositive |= c > 0;
            if (logScale && c <= 0) {
                continue;
            }
            series.add((edges[i] + edges[i + 1]) / 2, edges[i], edges[i + 1], c, logScale ? LOG_BAR_BASE : 0, c);
        }
        logScale &= anyPositive;
        XYIntervalSeriesCollection data = new XYIntervalSeriesCollection();
        data.addSeries(series);

        NumberAxis x = new NumberAxis(m.description().isEmpty() ? "activation" : "activation (" + m.description() + ")");
        x.setAutoRangeIncludesZero(false);
        double lo = edges[0];
        double hi = edges[edges.length - 1];
        if (hi > lo) {
            double pad = (hi - lo) * 0.02;
            x.setRange(lo - pad, hi + pad);
        }
        DecimalFormat countFormat = new DecimalFormat("#,##0", DecimalFormatSymbols.getInstance(Locale.ROOT));
        ValueAxis y;
        if (logScale) {
            LogAxis log = new LogAxis("count of (example, neuron) values, log scale");
            log.setSmallestValue(LOG_BAR_BASE);
            log.setNumberFormatOverride(countFormat);
            log.setTickUnit(new NumberTickUnit(1), false, false); // one label per decade: 1, 10, 100...
            log.setAutoTickUnitSelection(false, false);
            y = log;
        } else {
            NumberAxis lin = new NumberAxis("count of (example, neuron) values");
            lin.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
            lin.setNumberFormatOverride(countFormat);
            y = lin;
        }
        y.setUpperMargin(0.08);

        XYBarRenderer bars = new XYBarRenderer();
        bars.setUseYInterval(true);
        bars.setBarPainter(new StandardXYBarPainter());
        bars.setShadowVisible(false);
        bars.setSeriesPaint(0, Charts.BAR);
        bars.setDrawBarOutline(counts.length <= 120);
        bars.setSeriesOutlinePaint(0, Color.WHITE);
        bars.setSeriesOutlineStroke(0, new BasicStroke(0.5f));
        bars.setDefaultToolTipGenerator(null);

        XYPlot plot = new XYPlot(data, x, y, bars);
        JFreeChart chart = new JFreeChart(title(f), Charts.TITLE_FONT, plot, false);
        Charts.style(chart, plot);
        TextTitle sub = new TextTitle(subtitle(f, counts), Charts.SUBTITLE_FONT);
        sub.setPaint(Color.DARK_GRAY);
        chart.addSubtitle(sub);
        return chart;
    }

    /** Tag counts of the layer's neuron table in the same result, and the number of values counted. */
    static String subtitle(Parts.Found<Matrix> f, double[] counts) {
        StringBuilder s = new StringBuilder();
        Parts.table(f.result(), f.part().layer()).ifPresent(t -> {
            for (NeuronTable.Tag tag : t.tags()) {
                if (!tag.neurons().isEmpty() || tag.name().equals("dead")) {
                    s.append(s.length() == 0 ? "" : ", ").append(tag.name()).append(": ").append(tag.neurons().size());
                }
            }
            s.append(" of ").append(t.neurons()).append(" neurons");
        });
        double total = 0;
        for (double c : counts) {
            total += c;
        }
        int rows = f.part().rows().size();
        if (rows > 0) {
            s.append(s.length() == 0 ? "" : "  \u00b7  ").append(Math.round(total / rows)).append(" examples");
        }
        return s.toString();
    }
}
