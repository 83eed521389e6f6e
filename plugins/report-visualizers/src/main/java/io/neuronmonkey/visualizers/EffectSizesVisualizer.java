package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.api.visual.StepOutput;
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
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Draws, per key of each activation-breakdown input, the neurons of all layers that separate the key's values most:
 * a horizontal bar per neuron, ordered by absolute effect size, signed (blue: higher on the contrast's first side).
 */
@Extension
@ExtensionName(value = "effect-sizes",
        description = "One bar chart per key of each activation-breakdown input: the neurons with the largest effect sizes")
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
            @Param(description = "keys to draw (e.g. [watermark, class]); every key when absent") List<String> keys,
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
        List<ActivationBreakdown> results = new ArrayList<>();
        for (StepOutput in : ctx.inputs()) {
            ActivationBreakdown.of(in).ifPresent(results::add);
        }
        if (results.isEmpty()) {
            List<String> seen = ctx.inputs().stream().map(i -> i.stepId() + " (" + i.extension() + ")").toList();
            throw new OutputException("effect-sizes draws activation-breakdown results, but no input has one; "
                    + "inputs: " + (seen.isEmpty() ? "none" : String.join(", ", seen))
                    + " - add an activation-breakdown step to this step's inputs");
        }
        checkKeys(results, p.keys());
        Charts.FileNames names = new Charts.FileNames();
        for (ActivationBreakdown r : results) {
            for (String key : r.allKeys()) {
                if (ctx.cancelled()) {
                    return;
                }
                if (p.keys() != null && !p.keys().contains(key)) {
                    continue;
                }
                List<ActivationBreakdown.Ranked> rows = ranking(r, key);
                if (rows.isEmpty()) {
                    continue;
                }
                List<ActivationBreakdown.Ranked> shown = rows.subList(0, Math.min(p.top(), rows.size()));
                String title = title(r, key);
                JFreeChart chart = chart(title, shown, rows.size(), contrast(r, key).startsWith("each value"));
                String file = names.next(r.stepId() + "-" + key + "-effect-sizes", "png");
                ctx.write(file, Charts.png(chart, p.width(), height(shown.size())),
                        title + " - top " + shown.size() + " neurons by |effect size|", "image/png");
            }
        }
    }

    private static void checkKeys(List<ActivationBreakdown> results, List<String> filter) {
        if (filter == null) {
            return;
        }
        Set<String> known = new LinkedHashSet<>();
        results.forEach(r -> known.addAll(r.allKeys()));
        List<String> missing = filter.stream().filter(k -> !known.contains(k)).toList();
        if (missing.isEmpty()) {
            return;
        }
        StringBuilder why = new StringBuilder();
        for (String m : missing) {
            for (ActivationBreakdown r : results) {
                String reason = r.skippedKeys().get(m);
                if (reason != null) {
                    why.append("; step '").append(r.stepId()).append("' skipped '").append(m).append("': ")
                            .append(reason);
                }
            }
        }
        throw new OutputException("effect-sizes params.keys names " + missing
                + " which no activation-breakdown input has; keys there: " + String.join(", ", known) + why);
    }

    static String title(ActivationBreakdown r, String key) {
        return r.stepId() + ": " + key + " (" + contrast(r, key) + ")";
    }

    /** @return the key's contrast ({@code on vs off}), or {@code each value vs the rest} for many-valued keys */
    static String contrast(ActivationBreakdown r, String key) {
        for (ActivationBreakdown.Overall o : r.overall()) {
            if (o.key().equals(key) && !o.contrast().isEmpty()) {
                return o.contrast();
            }
        }
        for (Map.Entry<ActivationBreakdown.Layer, ActivationBreakdown.KeyBreakdown> e : r.perLayer(key)) {
            if (!e.getValue().contrast().isEmpty()) {
                return e.getValue().contrast();
            }
        }
        return "each value vs the rest";
    }

    /**
     * The key's neurons across layers by descending |effect size|: the summary's overall ranking when it has one,
     * else the per-layer rankings merged, else every neuron read from the per-layer effect arrays.
     */
    static List<ActivationBreakdown.Ranked> ranking(ActivationBreakdown r, String key) {
        List<ActivationBreakdown.Ranked> rows = new ArrayList<>();
        for (ActivationBreakdown.Overall o : r.overall()) {
            if (o.key().equals(key)) {
                rows.addAll(o.ranking());
            }
        }
        List<Map.Entry<ActivationBreakdown.Layer, ActivationBreakdown.KeyBreakdown>> perLayer = r.perLayer(key);
        if (rows.isEmpty()) {
            perLayer.forEach(e -> rows.addAll(e.getValue().ranking()));
        }
        if (rows.isEmpty()) {
            for (Map.Entry<ActivationBreakdown.Layer, ActivationBreakdown.KeyBreakdown> e : perLayer) {
                r.array(e.getValue(), "effect").ifPresent(t -> fromArray(e.getKey().name(), e.getValue(), t, rows));
            }
        }
        rows.removeIf(x -> Double.isNaN(x.effectSize()));
        rows.sort(Comparator.comparingDouble((ActivationBreakdown.Ranked x) -> -Math.abs(x.effectSize())));
        return rows;
    }

    private static void fromArray(String layer, ActivationBreakdown.KeyBreakdown kb, Tensor t,
                                  List<ActivationBreakdown.Ranked> out) {
        if (t.dtype() != DType.FLOAT32 || t.rank() < 1 || t.rank() > 2) {
            return;
        }
        float[] f = t.floats();
        int values = t.rank() == 2 ? t.dim(0) : 1;
        int neurons = t.rank() == 2 ? t.dim(1) : t.dim(0);
        for (int v = 0; v < values; v++) {
            String value = t.rank() == 1 ? "" : v < kb.values().size() ? kb.values().get(v).value() : "value " + v;
            for (int n = 0; n < neurons; n++) {
                out.add(new ActivationBreakdown.Ranked(layer, n, value, f[v * neurons + n], Double.NaN, Double.NaN,
                        Double.NaN));
            }
        }
    }

    /** @return the bar label: {@code layer #neuron}, with {@code = value} when the value is set against the rest */
    static String label(ActivationBreakdown.Ranked x) {
        return x.layer() + " #" + x.neuron() + (x.value().isEmpty() ? "" : " = " + x.value());
    }

    static int height(int bars) {
        return Math.max(200, 110 + bars * ROW_HEIGHT);
    }

    static JFreeChart chart(String title, List<ActivationBreakdown.Ranked> rows, int total, boolean valueVsRest) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        Set<String> used = new HashSet<>();
        for (ActivationBreakdown.Ranked x : rows) {
            String label = label(x);
            for (int i = 2; !used.add(label); i++) {
                label = label(x) + " (" + i + ")";
            }
            data.addValue(x.effectSize(), "effect size", label);
        }
        CategoryAxis y = new CategoryAxis(null);
        y.setTickLabelFont(Charts.SUBTITLE_FONT);
        y.setCategoryMargin(0.25);
        y.setMaximumCategoryLabelWidthRatio(0.45f);
        NumberAxis x = new NumberAxis("effect size (standardised mean difference)");
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
        chart.addSubtitle(new TextTitle("top " + rows.size() + " of " + total + " neurons by |effect size| across "
                + "layers; " + (valueVsRest ? "blue: higher on the value than on the rest, red: lower"
                : "blue: higher on the first side of the contrast, red: lower"), Charts.SUBTITLE_FONT));
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
