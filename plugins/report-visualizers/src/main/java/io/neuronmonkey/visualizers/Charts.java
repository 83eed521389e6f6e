package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.OutputException;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.XYPlot;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/** What the chart visualizers share: headless AWT, the house look, PNG encoding, layer selection, file names. */
final class Charts {

    static final Color GRID = new Color(0xDD, 0xDD, 0xDD);
    static final Color BAR = new Color(0x3B, 0x6E, 0xA8);
    static final Color MARKER = new Color(0xC0, 0x39, 0x2B);
    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 15);
    static final Font SUBTITLE_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);

    private Charts() {
    }

    /** Must run before any AWT class is touched; the visualizers call it from their static initialisers. */
    static void headless() {
        System.setProperty("java.awt.headless", "true");
    }

    /** Makes plain, unique file names ({@code [A-Za-z0-9._-]+}) from arbitrary step and layer names. */
    static final class FileNames {
        private final Set<String> used = new HashSet<>();

        /**
         * @param base      any text, e.g. {@code census-block/dense1}
         * @param extension e.g. {@code png}
         * @return a safe name, made unique with a numeric suffix when needed
         */
        String next(String base, String extension) {
            String safe = safe(base);
            String name = safe + "." + extension;
            for (int i = 2; !used.add(name.toLowerCase(Locale.ROOT)); i++) {
                name = safe + "-" + i + "." + extension;
            }
            return name;
        }

        static String safe(String text) {
            String s = text.replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("^[.]+", "_");
            return s.isEmpty() ? "_" : s;
        }
    }

    /** Gives an XY plot the house look: white background, light grid, no outline. */
    static void style(JFreeChart chart, XYPlot plot) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        if (chart.getTitle() != null) {
            chart.getTitle().setFont(TITLE_FONT);
        }
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlineVisible(false);
        plot.setDomainGridlinePaint(GRID);
        plot.setRangeGridlinePaint(GRID);
        plot.setDomainGridlineStroke(new BasicStroke(0.8f));
        plot.setRangeGridlineStroke(new BasicStroke(0.8f));
    }

    /**
     * @return the chart as PNG bytes
     * @throws OutputException when encoding fails
     */
    static byte[] png(JFreeChart chart, int width, int height) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(out, chart, width, height);
        } catch (IOException e) {
            throw new OutputException("could not encode chart '" + chart.getTitle().getText() + "' as PNG: "
                    + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    /** @return a number as tables and captions show it: up to 4 significant digits, NaN as {@code n/a} */
    static String number(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        double a = Math.abs(v);
        if (a >= 1e-3 && a < 1e6) {
            return new BigDecimal(v).round(new MathContext(4)).stripTrailingZeros().toPlainString();
        }
        return String.format(Locale.ROOT, "%.3e", v);
    }

    /** @return a fraction as a percentage with one decimal ({@code 0.125 -> 12.5%}); {@code n/a} for NaN */
    static String percent(double fraction) {
        return Double.isNaN(fraction) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * fraction);
    }
}
