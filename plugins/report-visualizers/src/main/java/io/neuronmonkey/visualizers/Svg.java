package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.result.Series;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StatisticalBarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.renderer.xy.XYBarRenderer;
import org.jfree.chart.renderer.xy.StandardXYBarPainter;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;
import org.jfree.data.xy.XYIntervalSeries;
import org.jfree.data.xy.XYIntervalSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;
import org.jfree.svg.MeetOrSlice;
import org.jfree.svg.PreserveAspectRatio;
import org.jfree.svg.SVGGraphics2D;
import org.jfree.svg.ViewBox;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Rectangle;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Charts that are lines and bars, drawn by JFreeChart into SVG (JFreeSVG) for inline use in the report: they scale
 * with the page (a viewBox, no fixed size) and each chart's definitions get their own id prefix, so many charts share
 * one page without clashing.
 */
final class Svg {

    private static final AtomicInteger IDS = new AtomicInteger();
    /** Most bars a per-neuron chart draws; larger layers show their first neurons and say so. */
    static final int MAX_BARS = 256;

    static {
        Charts.headless();
    }

    private Svg() {
    }

    /**
     * @param chart  the chart
     * @param width  drawing width (the viewBox)
     * @param height drawing height
     * @return an {@code <svg>} element that scales to its container's width
     */
    static String of(JFreeChart chart, int width, int height) {
        SVGGraphics2D g = new SVGGraphics2D(width, height);
        String prefix = "c" + IDS.incrementAndGet() + "_";
        g.setDefsKeyPrefix(prefix);
        chart.draw(g, new Rectangle(0, 0, width, height));
        return g.getSVGElement(prefix + "svg", false, new ViewBox(0, 0, width, height),
                PreserveAspectRatio.XMID_YMID, MeetOrSlice.MEET).replaceFirst("<svg ", "<svg class=\"chart\" role=\"img\" ");
    }

    /**
     * A bar per neuron of one column, with the interval as whiskers when the column has one.
     *
     * @param table  the table
     * @param column the column
     * @return the SVG
     */
    static String perNeuron(NeuronTable table, NeuronTable.Column column) {
        int n = Math.min(table.neurons(), MAX_BARS);
        XYIntervalSeries s = new XYIntervalSeries(column.name());
        for (int i = 0; i < n; i++) {
            double v = column.values().get(i);
            if (!Double.isFinite(v)) {
                continue;
            }
            double lo = column.hasInterval() ? column.low().get(i) : v;
            double hi = column.hasInterval() ? column.high().get(i) : v;
            s.add(i, i - 0.4, i + 0.4, v, Double.isFinite(lo) ? lo : v, Double.isFinite(hi) ? hi : v);
        }
        XYIntervalSeriesCollection data = new XYIntervalSeriesCollection();
        data.addSeries(s);
        NumberAxis x = new NumberAxis(table.neurons() > n ? "neuron (first " + n + " of " + table.neurons() + ")" : "neuron");
        x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        x.setRange(-0.6, n - 0.4);
        NumberAxis y = new NumberAxis(column.name() + (column.unit().isEmpty() ? "" : " (" + column.unit() + ")"));
        y.setAutoRangeIncludesZero(true);
        XYBarRenderer bars = new XYBarRenderer();
        bars.setBarPainter(new StandardXYBarPainter());
        bars.setShadowVisible(false);
        bars.setSeriesPaint(0, Charts.BAR);
        bars.setDrawBarOutline(false);
        bars.setDefaultToolTipGenerator(null);
        double lo = 0;
        double hi = 0;
        for (int i = 0; i < s.getItemCount(); i++) {
            lo = Math.min(lo, s.getYLowValue(i));
            hi = Math.max(hi, s.getYHighValue(i));
        }
        if (hi > lo) {
            double pad = (hi - lo) * 0.05;
            y.setRange(lo < 0 ? lo - pad : 0, hi + pad);
        }
        XYPlot plot = new XYPlot(data, x, y, bars);
        JFreeChart chart = new JFreeChart(null, Charts.TITLE_FONT, plot, false);
        Charts.style(chart, plot);
        if (column.hasInterval()) {
            // whiskers: the interval drawn over the bars from the same data, no lines, no markers
            XYErrorRenderer whiskers = new XYErrorRenderer();
            whiskers.setDrawXError(false);
            whiskers.setDefaultLinesVisible(false);
            whiskers.setDefaultShapesVisible(false);
            whiskers.setErrorPaint(Color.DARK_GRAY);
            whiskers.setCapLength(4);
            plot.setDataset(1, data);
            plot.setRenderer(1, whiskers);
        }
        return of(chart, 900, 260);
    }

    /**
     * Horizontal bars of a ranking's first entries, with interval whiskers.
     *
     * @param r         the ranking
     * @param max       most bars
     * @param highlight a neuron to colour, or null
     * @return the SVG
     */
    static String ranking(Ranking r, int max, io.neuronmonkey.api.result.NeuronRef highlight) {
        return ranking(r, max, highlight, 900);
    }

    /**
     * @param r         the ranking
     * @param max       most bars
     * @param highlight a neuron to colour, or null
     * @param width     drawing width: smaller for inline evidence, so that its labels stay readable when shown small
     * @return the SVG
     */
    static String ranking(Ranking r, int max, io.neuronmonkey.api.result.NeuronRef highlight, int width) {
        List<Ranking.Entry> shown = r.entries().subList(0, Math.min(max, r.entries().size()));
        DefaultStatisticalCategoryDataset data = new DefaultStatisticalCategoryDataset();
        Set<String> used = new HashSet<>();
        int highlightColumn = -1;
        for (Ranking.Entry e : shown) {
            String label = e.neuron().toString();
            for (int i = 2; !used.add(label); i++) {
                label = e.neuron() + " (" + i + ")";
            }
            double v = clip(e.score());
            // the statistical renderer draws mean +- deviation: give it the larger half-width of the interval
            double dev = e.interval() == null ? 0 : Math.max(v - clip(e.interval().low()), clip(e.interval().high()) - v);
            data.add(v, dev, "score", label);
            if (e.neuron().equals(highlight)) {
                highlightColumn = used.size() - 1;
            }
        }
        CategoryAxis cat = new CategoryAxis(null);
        cat.setTickLabelFont(Charts.SUBTITLE_FONT);
        cat.setCategoryMargin(0.2);
        cat.setMaximumCategoryLabelWidthRatio(0.35f);
        cat.setTickLabelFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, width < 700 ? 12 : 11));
        NumberAxis value = new NumberAxis(r.score());
        value.setLabelFont(Charts.SUBTITLE_FONT);
        value.setTickLabelFont(Charts.SUBTITLE_FONT);
        value.setAutoRangeIncludesZero(true);
        int hc = highlightColumn;
        StatisticalBarRenderer bars = new StatisticalBarRenderer() {
            @Override
            public java.awt.Paint getItemPaint(int row, int column) {
                Number v = data.getValue(row, column);
                if (column == hc) {
                    return Charts.MARKER;
                }
                return v != null && v.doubleValue() < 0 ? new Color(0xB0, 0x7A, 0x7A) : Charts.BAR;
            }
        };
        bars.setBarPainter(new StandardBarPainter());
        bars.setShadowVisible(false);
        bars.setErrorIndicatorPaint(Color.DARK_GRAY);
        bars.setDrawBarOutline(false);
        CategoryPlot plot = new CategoryPlot(data, cat, value, bars);
        plot.setOrientation(PlotOrientation.HORIZONTAL);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlineVisible(false);
        plot.setRangeGridlinePaint(Charts.GRID);
        plot.setRangeZeroBaselineVisible(true);
        JFreeChart chart = new JFreeChart(null, Charts.TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        return of(chart, width, Math.max(140, 60 + 22 * shown.size()));
    }

    /**
     * Lines with bands.
     *
     * @param s the series
     * @return the SVG
     */
    static String series(Series s) {
        return series(s, 900, 320);
    }

    /**
     * Lines with bands, at a given size.
     *
     * @param s      the series
     * @param width  pixels
     * @param height pixels
     * @return the SVG
     */
    static String series(Series s, int width, int height) {
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        Set<String> used = new HashSet<>();
        for (Series.Curve c : s.curves()) {
            String name = c.name();
            for (int i = 2; !used.add(name); i++) {
                name = c.name() + " (" + i + ")";
            }
            YIntervalSeries y = new YIntervalSeries(name);
            for (int i = 0; i < c.x().size(); i++) {
                double v = c.y().get(i);
                double lo = c.low() == null ? v : c.low().get(i);
                double hi = c.high() == null ? v : c.high().get(i);
                if (Double.isFinite(v) && Double.isFinite(c.x().get(i))) {
                    y.add(c.x().get(i), v, Double.isFinite(lo) ? lo : v, Double.isFinite(hi) ? hi : v);
                }
            }
            data.addSeries(y);
        }
        NumberAxis x = new NumberAxis(s.x());
        x.setAutoRangeIncludesZero(false);
        boolean whole = s.curves().stream().allMatch(c -> {
            for (int i = 0; i < c.x().size(); i++) {
                if (c.x().get(i) != Math.rint(c.x().get(i))) {
                    return false;
                }
            }
            return true;
        });
        if (whole) {
            x.setStandardTickUnits(NumberAxis.createIntegerTickUnits());
        }
        NumberAxis y = new NumberAxis(s.y());
        y.setAutoRangeIncludesZero(false);
        DeviationRenderer lines = new DeviationRenderer(true, false);
        lines.setAlpha(0.18f);
        Color[] palette = {Charts.BAR, Charts.MARKER, new Color(0x2E, 0x8B, 0x57), new Color(0x8E, 0x44, 0xAD),
            new Color(0xD3, 0x8B, 0x1F)};
        for (int i = 0; i < s.curves().size(); i++) {
            lines.setSeriesPaint(i, palette[i % palette.length]);
            lines.setSeriesFillPaint(i, palette[i % palette.length]);
            lines.setSeriesStroke(i, new BasicStroke(1.8f));
        }
        XYPlot plot = new XYPlot(data, x, y, lines);
        JFreeChart chart = new JFreeChart(null, Charts.TITLE_FONT, plot, s.curves().size() > 1);
        Charts.style(chart, plot);
        return of(chart, width, height);
    }

    private static double clip(double v) {
        return Math.max(-1e6, Math.min(1e6, v));
    }

    /**
     * @param f a neuron x bin matrix and where it came from
     * @return its counts pooled over neurons, as the histogram visualizer draws them
     */
    static String histogram(Parts.Found<io.neuronmonkey.api.result.Matrix> f) {
        return of(HistogramVisualizer.chart(f, false), 900, 300);
    }
}
