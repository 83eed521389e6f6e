package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.visual.Visualizer;
import io.neuronmonkey.api.visual.VisualizerContext;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
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
        List<Charts.Selected> layers = Charts.selectLayers(ctx.inputs(), p.layers(), "histogram");
        Charts.FileNames names = new Charts.FileNames();
        ctx.progress().start("histograms", layers.size());
        for (Charts.Selected sel : layers) {
            if (ctx.cancelled()) {
                break;
            }
            JFreeChart chart = chart(sel.stats(), sel.layer(), p.logScale());
            String file = names.next(sel.stats().stepId() + "-" + sel.layer().name(), "png");
            ctx.write(file, Charts.png(chart, p.width(), p.height()),
                    title(sel.stats(), sel.layer()) + " - activation histogram", "image/png");
            ctx.progress().advance(1);
        }
        ctx.progress().finish();
    }

    static String title(ActivationStats stats, ActivationStats.Layer layer) {
        String op = layer.opType().isEmpty() ? "" : layer.opType() + ", ";
        return stats.stepId() + ": " + layer.name() + " (" + op + layer.neurons() + " neurons)";
    }

    /**
     * @param stats    the result
     * @param layer    one of its layers
     * @param logScale log-scaled count axis
     * @return the histogram chart
     * @throws OutputException when the layer has no histogram
     */
    static JFreeChart chart(ActivationStats stats, ActivationStats.Layer layer, boolean logScale) {
        double[] edges = layer.edges();
        double[] counts = layer.counts();
        if (edges == null || counts.length == 0) {
            throw new OutputException("step '" + stats.stepId() + "': layer '" + layer.name()
                    + "' has no histogram (expected layers[].histogram with edges and counts)");
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

        NumberAxis x = new NumberAxis(layer.spatial() && !stats.reduce().isEmpty()
                ? "activation (" + stats.reduce() + " over positions, per channel)" : "activation");
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
        if (!Double.isNaN(stats.threshold()) && stats.threshold() >= lo && stats.threshold() <= hi) {
            ValueMarker marker = new ValueMarker(stats.threshold(), Charts.MARKER,
                    new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {5f, 4f}, 0f));
            marker.setLabel("threshold " + Charts.number(stats.threshold()));
            marker.setLabelFont(Charts.SUBTITLE_FONT);
            marker.setLabelPaint(Charts.MARKER);
            marker.setLabelBackgroundColor(new Color(255, 255, 255, 220));
            boolean labelRight = stats.threshold() < (lo + hi) / 2;
            marker.setLabelAnchor(labelRight ? RectangleAnchor.TOP_RIGHT : RectangleAnchor.TOP_LEFT);
            marker.setLabelTextAnchor(labelRight ? TextAnchor.TOP_LEFT : TextAnchor.TOP_RIGHT);
            plot.addDomainMarker(marker);
        }

        JFreeChart chart = new JFreeChart(title(stats, layer), Charts.TITLE_FONT, plot, false);
        Charts.style(chart, plot);
        TextTitle sub = new TextTitle(subtitle(stats, layer), Charts.SUBTITLE_FONT);
        sub.setPaint(Color.DARK_GRAY);
        chart.addSubtitle(sub);
        return chart;
    }

    static String subtitle(ActivationStats stats, ActivationStats.Layer layer) {
        StringBuilder s = new StringBuilder()
                .append("dead: ").append(layer.dead().size())
                .append(", always-on: ").append(layer.alwaysOn().size());
        if (!layer.saturated().isEmpty()) {
            s.append(", saturated: ").append(layer.saturated().size());
        }
        s.append(" of ").append(layer.neurons()).append(" neurons");
        if (stats.examples() >= 0) {
            s.append("  \u00b7  ").append(stats.examples()).append(" examples");
        }
        if (!Double.isNaN(layer.sparsity())) {
            s.append("  \u00b7  sparsity ").append(Charts.percent(layer.sparsity()));
        }
        return s.toString();
    }
}
