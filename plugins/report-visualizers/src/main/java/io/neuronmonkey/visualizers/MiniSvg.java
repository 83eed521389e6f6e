package io.neuronmonkey.visualizers;

import java.util.List;
import java.util.Locale;

/**
 * Small hand-drawn SVG charts for neuron cards and inline evidence: a few dozen rectangles, no chart library, so that
 * a page with a hundred cards stays light. Labels go through {@link Html#escape}.
 */
final class MiniSvg {

    private MiniSvg() {
    }

    /**
     * Vertical bars, scaled to the largest absolute value; negative values hang below the base line.
     *
     * @param values    the bars (NaN skipped)
     * @param width     viewBox width
     * @param height    viewBox height
     * @param highlight a bar to colour, or null
     * @return an {@code <svg>} element
     */
    static String bars(double[] values, int width, int height, Integer highlight) {
        double max = 0;
        boolean negative = false;
        for (double v : values) {
            if (Double.isFinite(v)) {
                max = Math.max(max, Math.abs(v));
                negative |= v < 0;
            }
        }
        StringBuilder s = open(width, height);
        double base = negative ? height / 2.0 : height - 1;
        double scale = max > 0 ? (negative ? height / 2.0 - 1 : height - 2) / max : 0;
        double w = (double) width / Math.max(1, values.length);
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            if (!Double.isFinite(v)) {
                continue;
            }
            double bh = Math.abs(v) * scale;
            double y = v >= 0 ? base - bh : base;
            s.append(String.format(Locale.ROOT, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%s\"/>",
                    i * w + w * 0.08, y, w * 0.84, Math.max(bh, 0.5), highlight != null && highlight == i ? "#c0392b" : "#3b6ea8"));
        }
        s.append(String.format(Locale.ROOT, "<line x1=\"0\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#888\" stroke-width=\"0.6\"/>",
                base, width, base));
        return s.append("</svg>").toString();
    }

    /**
     * Horizontal labelled bars, e.g. a neuron's mean per class.
     *
     * @param labels one per bar
     * @param values the bars
     * @param width  viewBox width
     * @return an {@code <svg>} element
     */
    static String labelled(List<String> labels, double[] values, int width) {
        int row = 14;
        int labelWidth = 110;
        int height = row * values.length + 4;
        double max = 0;
        for (double v : values) {
            if (Double.isFinite(v)) {
                max = Math.max(max, Math.abs(v));
            }
        }
        StringBuilder s = open(width, height);
        double room = width - labelWidth - 60;
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            double len = Double.isFinite(v) && max > 0 ? Math.abs(v) / max * room : 0;
            int y = 2 + i * row;
            String label = labels.get(i);
            s.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\" font-size=\"10\" text-anchor=\"end\">%s</text>",
                    labelWidth - 4, y + 10, Html.escape(label.length() > 18 ? label.substring(0, 17) + "…" : label)));
            s.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%.2f\" height=\"%d\" fill=\"%s\"/>",
                    labelWidth, y + 2, Math.max(len, 0.5), row - 4, v < 0 ? "#b07a7a" : "#3b6ea8"));
            s.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"10\">%s</text>",
                    labelWidth + len + 4, y + 10, Html.escape(Charts.number(v))));
        }
        return s.append("</svg>").toString();
    }

    private static StringBuilder open(int width, int height) {
        return new StringBuilder(String.format(Locale.ROOT,
                "<svg class=\"mini\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" preserveAspectRatio=\"none\">",
                width, height));
    }
}
