package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.visual.Visualizer;
import io.neuronmonkey.api.visual.VisualizerContext;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.title.TextTitle;
import org.jfree.data.category.DefaultCategoryDataset;
import org.pf4j.Extension;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Paint;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Draws every ranking among its inputs (activation-breakdown's effect sizes, census-diff's shifts, any analyzer's
 * ranking part): a horizontal bar per neuron in rank order, signed (blue: positive score, red: negative).
 */
@Extension
@ExtensionName(value = "effect-sizes",
        description = "One PNG per ranking of its inputs (effect sizes, shifts): the top neurons as signed bars")
public class EffectSizesVisualizer implements Visualizer<EffectSizesVisualizer.Params> {

    static {
        Charts.headless();
    }

    /** Height of one bar's row, pixels. */
    static final int ROW_HEIGHT = 22;

    /**
     * Params of {@code effect-sizes}.
     *
     * @param top   bars per chart
     * @param keys  keys to draw; null for all
     * @param width image width in pixels
     */
    public record Params(
            @Param(defaultValue = "20", description = "neurons per chart, those with the largest |effect size| "
                    + "across layers, 1 to 200") int top,
            @Param(description = "rankings to draw, by part id without -ranking (for activation-breakdown: its keys, e.g. [watermark, class]); every ranking when absent") List<String> keys,
            @Param(defaultValue = "720", description = "image width in pixels, 300 to 8000; the height follows "
                    + "from the number of bars") int width) {

        /** Validates every param at once. */
        public Params {
            Violations.check()
                    .require(top >= 1 && top <= 200, "top", "must be 1 to 200, found " + top)
                    .require(keys == null || !keys.isEmpty(), "keys",
                            "must name at least one key when given (leave it out for every key), found []")
                    .require(width >= 300 && width <= 8000, "width", "must be 300 to 8000 pixels, found " + width)
                    .throwIfAny();
            keys = keys == null ? null : List.copyOf(keys);
        }
    }

    /** Creates the visualizer; PF4J needs the public no-arg constructor. */
    public EffectSizesVisualizer() {
    }

    @Override
    public void render(VisualizerContext<Params> ctx) {
        Params p = ctx.params();
        List<Parts.Found<Ranking>> found = Parts.all(ctx.inputs(), Ranking.class, r -> !r.entries().isEmpty());
        if (found.isEmpty()) {
            throw Parts.nothingToDraw("effect-sizes", "rankings of neurons (as activation-breakdown and census-diff "
                    + "write)", ctx.inputs());
        }
        if (p.keys() != null) {
            Set<String> known = new LinkedHashSet<>();
            found.forEach(f -> known.add(key(f.part())));
            List<String> missing = p.keys().stream().filter(k -> !known.contains(k)).toList();
            if (!missing.isEmpty()) {
                throw new OutputException("effect-sizes params.keys names " + missing
                        + " which no input ranking has; rankings there: " + String.join(", ", known));
            }
            found = found.stream().filter(f -> p.keys().contains(key(f.part()))).toList();
        }
        Charts.FileNames names = new Charts.FileNames();
        for (Parts.Found<Ranking> f : found) {
            if (ctx.cancelled()) {
                return;
            }
            List<Ranking.Entry> rows = f.part().entries();
            List<Ranking.Entry> shown = rows.subList(0, Math.min(p.top(), rows.size()));
            String title = f.caption();
            JFreeChart chart = chart(title, f.part().score(), shown, rows.size());
            String file = names.next(f.step().stepId() + "-" + f.part().id(), "png");
            ctx.write(file, Charts.png(chart, p.width(), height(shown.size())),
                    title + " - top " + shown.size() + " neurons", "image/png");
        }
    }

    /** @return the name a ranking is selected by: its id without the {@code -ranking} suffix */
    static String key(Ranking r) {
        return r.id().endsWith("-ranking") ? r.id().substring(0, r.id().length() - "-ranking".length()) : r.id();
    }

    /** @return the bar label: {@code layer #neuron}, with the entry's note when it names a value */
    static String label(Ranking.Entry x) {
        String note = x.note();
        return x.neuron() + (note.contains(" vs rest") ? " = " + note.substring(note.indexOf('=') + 1, note.indexOf(" vs rest")) : "");
    }

    static int height(int bars) {
        return Math.max(200, 110 + bars * ROW_HEIGHT);
    }

    static JFreeChart chart(String title, String score, List<Ranking.Entry> rows, int total) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        Set<String> used = new HashSet<>();
        for (Ranking.Entry x : rows) {
            String label = label(x);
            for (int i = 2; !used.add(label); i++) {
                label = label(x) + " (" + i + ")";
            }
            data.addValue(Math.max(-1e6, Math.min(1e6, x.score())), "score", label);
        }
        CategoryAxis y = new CategoryAxis(null);
        y.setTickLabelFont(Charts.SUBTITLE_FONT);
        y.setCategoryMargin(0.25);
        y.setMaximumCategoryLabelWidthRatio(0.45f);
        NumberAxis x = new NumberAxis(score);
        x.setAutoRangeIncludesZero(true);
        x.setLabelFont(Charts.SUBTITLE_FONT);
        BarRenderer bars = new SignedBarRenderer(data);
        bars.setBarPainter(new StandardBarPainter());
        bars.setShadowVisible(false);
        bars.setDrawBarOutline(false);
        CategoryPlot plot = new CategoryPlot(data, y, x, bars);
        plot.setOrientation(PlotOrientation.HORIZONTAL);
        plot.setRangeAxisLocation(AxisLocation.BOTTOM_OR_RIGHT);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlineVisible(false);
        plot.setRangeGridlinePaint(Charts.GRID);
        plot.setRangeGridlineStroke(new BasicStroke(0.8f));
        plot.setRangeZeroBaselineVisible(true);
        plot.setRangeZeroBaselinePaint(Color.DARK_GRAY);
        JFreeChart chart = new JFreeChart(title, Charts.TITLE_FONT, plot, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        chart.addSubtitle(new TextTitle("top " + rows.size() + " of " + total + " ranked neurons; blue: positive, "
                + "red: negative", Charts.SUBTITLE_FONT));
        return chart;
    }

    /** Blue bars for positive effects, red for negative. */
    private static final class SignedBarRenderer extends BarRenderer {
        private final transient DefaultCategoryDataset data;

        SignedBarRenderer(DefaultCategoryDataset data) {
            this.data = data;
        }

        @Override
        public Paint getItemPaint(int row, int column) {
            Number v = data.getValue(row, column);
            return v != null && v.doubleValue() < 0 ? Charts.MARKER : Charts.BAR;
        }
    }
}
