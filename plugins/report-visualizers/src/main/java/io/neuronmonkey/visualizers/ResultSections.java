package io.neuronmonkey.visualizers;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The report's views of the analyzers that rank and compare neurons: top-activations, activation-breakdown and
 * census-diff. Long tables are cut with a note and per-layer detail is collapsed, so that a report over many layers
 * stays readable.
 */
final class ResultSections {

    /** Examples shown per neuron in the top-activations tables. */
    static final int TOP_SHOWN = 5;
    /** Rows shown in ranking tables. */
    static final int MAX_RANKING = 20;

    private ResultSections() {
    }

    // ---- top-activations ---------------------------------------------------------------------------------------

    static void topActivations(Html h, TopActivations t) {
        List<String> facts = new ArrayList<>();
        if (t.k() >= 0) {
            facts.add("top " + t.k() + (t.bottomK() > 0 ? " and bottom " + t.bottomK() : "") + " examples per neuron");
        }
        if (!t.reduce().isEmpty()) {
            facts.add("conv channels reduced by " + t.reduce() + " over positions");
        }
        if (!t.inputShape().isEmpty()) {
            facts.add("input " + t.inputShape());
        }
        facts.add(t.classNames().isEmpty() ? "no labels" : "classes: " + String.join(", ", t.classNames()));
        h.raw("<p class=\"facts\">").text(String.join(" \u00b7 ", facts)).raw("</p>\n");
        if (!t.regionRule().isEmpty()) {
            h.raw("<p class=\"note\">Regions: ").text(t.regionRule()).raw("</p>\n");
        }
        if (t.layers().isEmpty()) {
            h.raw("<p class=\"muted\">No layers.</p>\n");
        }
        for (TopActivations.Layer l : t.layers()) {
            boolean images = l.arrays().containsKey("topInputs");
            h.raw("<details class=\"tops\"><summary><code>").text(l.name()).raw("</code> ")
                    .text((l.opType().isEmpty() ? "" : l.opType() + " ") + l.shape() + ", " + l.neurons()
                            + " neurons - top " + Math.min(TOP_SHOWN, Math.max(t.k(), 0)) + " examples each"
                            + (images ? "" : " (input images not kept)"))
                    .raw("</summary>\n");
            if (l.rows().isEmpty()) {
                h.raw("<p class=\"muted\">No per-neuron examples listed.</p>\n");
            } else {
                topTable(h, l, false);
                if (l.rows().stream().anyMatch(r -> !r.bottom().isEmpty())) {
                    h.raw("<p class=\"facts\">Lowest activations:</p>\n");
                    topTable(h, l, true);
                }
            }
            h.raw("</details>\n");
        }
    }

    private static void topTable(Html h, TopActivations.Layer l, boolean bottom) {
        int columns = l.rows().stream().mapToInt(r -> Math.min(TOP_SHOWN, (bottom ? r.bottom() : r.top()).size()))
                .max().orElse(0);
        h.raw("<table class=\"grid tops\">\n<thead><tr><th class=\"num\">neuron</th><th>")
                .text(bottom ? "among the lowest" : "among the top").raw("</th>");
        for (int j = 1; j <= columns; j++) {
            h.raw("<th>").text(bottom ? "lowest " + j : "rank " + j).raw("</th>");
        }
        h.raw("</tr></thead>\n<tbody>\n");
        int shown = Math.min(l.rows().size(), HtmlReportVisualizer.MAX_NEURON_ROWS);
        for (TopActivations.NeuronTops r : l.rows().subList(0, shown)) {
            List<TopActivations.Entry> entries = bottom ? r.bottom() : r.top();
            h.raw("<tr><td class=\"num\">").text(r.index()).raw("</td><td class=\"makeup\">");
            h.text(String.join("\n", makeup(entries))).raw("</td>");
            for (int j = 0; j < columns; j++) {
                h.raw("<td class=\"ex\">");
                if (j < entries.size()) {
                    example(h, entries.get(j));
                }
                h.raw("</td>");
            }
            h.raw("</tr>\n");
        }
        h.raw("</tbody></table>\n");
        if (shown < l.rows().size()) {
            h.raw("<p class=\"note\">").text("Showing the first " + shown + " of " + l.rows().size() + " neurons.")
                    .raw("</p>\n");
        }
    }

    private static void example(Html h, TopActivations.Entry e) {
        h.raw("<code>").text(e.id().isEmpty() ? e.example() >= 0 ? "#" + e.example() : "?" : e.id())
                .raw("</code><br><b>").text(Charts.number(e.value())).raw("</b>");
        String cls = e.className().isEmpty() ? e.label() >= 0 ? "label " + e.label() : "" : e.className();
        if (!cls.isEmpty()) {
            h.raw(" &middot; ").text(cls);
        }
        List<String> meta = new ArrayList<>();
        e.metadata().forEach((k, v) -> {
            if (!v.equals(e.className())) {
                meta.add(k + "=" + v);
            }
        });
        if (!meta.isEmpty()) {
            h.raw("<br><span class=\"muted\">").text(String.join(" ", meta)).raw("</span>");
        }
        if (e.position() != null) {
            h.raw("<br><span class=\"muted\">at ").text(java.util.Arrays.toString(e.position())).raw("</span>");
        }
    }

    /**
     * @return for the class and each metadata key, the most common value among the examples and how often it
     * occurs ({@code class square 14/16}, {@code watermark on 16/16}), so that a spurious feature stands out
     */
    static List<String> makeup(List<TopActivations.Entry> entries) {
        Map<String, Map<String, Integer>> counts = new LinkedHashMap<>();
        for (TopActivations.Entry e : entries) {
            if (!e.className().isEmpty()) {
                counts.computeIfAbsent("class", k -> new LinkedHashMap<>()).merge(e.className(), 1, Integer::sum);
            }
            e.metadata().forEach((k, v) -> {
                if (!v.equals(e.className())) {
                    counts.computeIfAbsent(k, x -> new LinkedHashMap<>()).merge(v, 1, Integer::sum);
                }
            });
        }
        List<String> out = new ArrayList<>();
        counts.forEach((key, values) -> {
            Map.Entry<String, Integer> most = values.entrySet().stream().max(Map.Entry.comparingByValue())
                    .orElseThrow();
            out.add(key + " " + most.getKey() + " " + most.getValue() + "/" + entries.size());
        });
        return out;
    }

    // ---- activation-breakdown ----------------------------------------------------------------------------------

    static void breakdown(Html h, ActivationBreakdown b) {
        List<String> facts = new ArrayList<>();
        if (!b.reduce().isEmpty()) {
            facts.add("conv channels reduced by " + b.reduce() + " over positions");
        }
        facts.add(b.layers().size() + (b.layers().size() == 1 ? " layer" : " layers"));
        List<String> keys = b.allKeys();
        facts.add(keys.isEmpty() ? "no keys" : "keys: " + String.join(", ", keys));
        h.raw("<p class=\"facts\">").text(String.join(" \u00b7 ", facts)).raw("</p>\n");
        if (!b.skippedKeys().isEmpty()) {
            h.raw("<p class=\"note\">Skipped keys: ");
            List<String> skipped = new ArrayList<>();
            b.skippedKeys().forEach((k, why) -> skipped.add(k + " (" + why + ")"));
            h.text(String.join("; ", skipped)).raw("</p>\n");
        }
        for (String key : keys) {
            String contrast = EffectSizesVisualizer.contrast(b, key);
            h.raw("<h3>").text(key).raw(" <small>").text(contrast).raw("</small></h3>\n");
            List<Map.Entry<ActivationBreakdown.Layer, ActivationBreakdown.KeyBreakdown>> perLayer = b.perLayer(key);
            perLayer.stream().filter(e -> !e.getValue().values().isEmpty()).findFirst().ifPresent(e -> {
                List<String> values = new ArrayList<>();
                e.getValue().values().forEach(v -> values.add(v.value() + ": " + v.count()));
                h.raw("<p class=\"muted\">examples per value: ").text(String.join(", ", values)).raw("</p>\n");
            });
            String[] sides = sides(b, key);
            List<ActivationBreakdown.Ranked> rows = EffectSizesVisualizer.ranking(b, key);
            if (rows.isEmpty()) {
                h.raw("<p class=\"muted\">No ranking.</p>\n");
            } else {
                boolean values = rows.stream().anyMatch(r -> !r.value().isEmpty());
                h.raw("<table class=\"grid ranking\">\n<thead><tr><th class=\"num\">#</th><th>layer</th>"
                        + "<th class=\"num\">neuron</th>").raw(values ? "<th>value</th>" : "")
                        .raw("<th class=\"num\">effect size</th><th class=\"num\">").text("mean " + sides[0])
                        .raw("</th><th class=\"num\">").text("mean " + sides[1]).raw("</th></tr></thead>\n<tbody>\n");
                int shown = Math.min(rows.size(), MAX_RANKING);
                for (int i = 0; i < shown; i++) {
                    ActivationBreakdown.Ranked r = withMeans(rows.get(i), perLayer);
                    h.raw(i == 0 ? "<tr class=\"top\">" : "<tr>").raw("<td class=\"num\">").text(i + 1)
                            .raw("</td><td><code>").text(r.layer()).raw("</code></td><td class=\"num\">")
                            .text(r.neuron()).raw("</td>");
                    if (values) {
                        h.raw("<td>").text(r.value()).raw("</td>");
                    }
                    numbers(h, r.effectSize(), r.meanA(), r.meanB());
                    h.raw("</tr>\n");
                }
                h.raw("</tbody></table>\n");
                cut(h, shown, rows.size(), "neurons");
            }
            if (!perLayer.isEmpty()) {
                h.raw("<details class=\"layers\"><summary>").text(key + " per layer (" + perLayer.size()
                        + (perLayer.size() == 1 ? " layer" : " layers") + ")").raw("</summary>\n");
                for (Map.Entry<ActivationBreakdown.Layer, ActivationBreakdown.KeyBreakdown> e : perLayer) {
                    layerRanking(h, e.getKey(), e.getValue(), sides);
                }
                h.raw("</details>\n");
            }
        }
    }

    private static void layerRanking(Html h, ActivationBreakdown.Layer l, ActivationBreakdown.KeyBreakdown kb,
                                     String[] sides) {
        h.raw("<h4><code>").text(l.name()).raw("</code>");
        if (l.neurons() >= 0) {
            h.raw(" <small>").text(l.neurons() + " neurons").raw("</small>");
        }
        h.raw("</h4>\n");
        if (kb.ranking().isEmpty()) {
            h.raw("<p class=\"muted\">No ranking; see arrays ").text(String.join(", ", kb.arrays().values()))
                    .raw(".</p>\n");
            return;
        }
        boolean values = kb.ranking().stream().anyMatch(r -> !r.value().isEmpty());
        h.raw("<table class=\"grid\">\n<thead><tr><th class=\"num\">neuron</th>").raw(values ? "<th>value</th>" : "")
                .raw("<th class=\"num\">effect size</th><th class=\"num\">").text("mean " + sides[0])
                .raw("</th><th class=\"num\">").text("mean " + sides[1])
                .raw("</th><th class=\"num\">difference</th></tr></thead>\n<tbody>\n");
        int shown = Math.min(kb.ranking().size(), MAX_RANKING);
        for (ActivationBreakdown.Ranked r : kb.ranking().subList(0, shown)) {
            h.raw("<tr><td class=\"num\">").text(r.neuron()).raw("</td>");
            if (values) {
                h.raw("<td>").text(r.value()).raw("</td>");
            }
            numbers(h, r.effectSize(), r.meanA(), r.meanB(), r.diff());
            h.raw("</tr>\n");
        }
        h.raw("</tbody></table>\n");
        cut(h, shown, kb.ranking().size(), "neurons");
    }

    /** @return the contrast's two sides for column headers: {@code on}, {@code off}; or value and rest */
    static String[] sides(ActivationBreakdown b, String key) {
        String contrast = EffectSizesVisualizer.contrast(b, key);
        int vs = contrast.indexOf(" vs ");
        if (vs > 0 && !contrast.startsWith("each value")) {
            return new String[] {contrast.substring(0, vs).trim(), contrast.substring(vs + 4).trim()};
        }
        return new String[] {"(value)", "(rest)"};
    }

    /** Fills in the means of an overall-ranking row from the layer's own ranking when the row lacks them. */
    private static ActivationBreakdown.Ranked withMeans(ActivationBreakdown.Ranked r,
            List<Map.Entry<ActivationBreakdown.Layer, ActivationBreakdown.KeyBreakdown>> perLayer) {
        if (!Double.isNaN(r.meanA()) && !Double.isNaN(r.meanB())) {
            return r;
        }
        for (Map.Entry<ActivationBreakdown.Layer, ActivationBreakdown.KeyBreakdown> e : perLayer) {
            if (!e.getKey().name().equals(r.layer())) {
                continue;
            }
            for (ActivationBreakdown.Ranked x : e.getValue().ranking()) {
                if (x.neuron() == r.neuron() && Objects.equals(x.value(), r.value())) {
                    return new ActivationBreakdown.Ranked(r.layer(), r.neuron(), r.value(), r.effectSize(),
                            Double.isNaN(r.meanA()) ? x.meanA() : r.meanA(),
                            Double.isNaN(r.meanB()) ? x.meanB() : r.meanB(), Double.isNaN(r.diff()) ? x.diff()
                            : r.diff());
                }
            }
        }
        return r;
    }

    // ---- census-diff -------------------------------------------------------------------------------------------

    static void censusDiff(Html h, CensusDiff d) {
        String a = d.a().isEmpty() ? "A" : d.a();
        String b = d.b().isEmpty() ? "B" : d.b();
        h.raw("<p class=\"facts\">Compares census <code>").text(a).raw("</code> (a) with <code>").text(b)
                .raw("</code> (b); neurons ranked by how far their activations moved.</p>\n");
        for (CensusDiff.Layer l : d.layers()) {
            h.raw("<h3><code>").text(l.name()).raw("</code>");
            if (l.neurons() >= 0) {
                h.raw(" <small>").text(l.neurons() + " neurons").raw("</small>");
            }
            h.raw("</h3>\n");
            if (l.ranking().isEmpty()) {
                h.raw("<p class=\"muted\">No ranking.</p>\n");
            } else {
                h.raw("<table class=\"grid ranking\">\n<thead><tr><th class=\"num\">neuron</th>"
                        + "<th class=\"num\">shift</th><th class=\"num\">mean a</th><th class=\"num\">mean b</th>"
                        + "<th class=\"num\">firing rate a</th><th class=\"num\">firing rate b</th>"
                        + "<th>flags a</th><th>flags b</th></tr></thead>\n<tbody>\n");
                int shown = Math.min(l.ranking().size(), MAX_RANKING);
                for (int i = 0; i < shown; i++) {
                    CensusDiff.Shift s = l.ranking().get(i);
                    h.raw(i == 0 ? "<tr class=\"top\">" : "<tr>").raw("<td class=\"num\">").text(s.neuron())
                            .raw("</td>");
                    numbers(h, s.shift(), s.meanA(), s.meanB());
                    h.raw("<td class=\"num\">").text(HtmlReportVisualizer.rate(s.firingRateA()))
                            .raw("</td><td class=\"num\">").text(HtmlReportVisualizer.rate(s.firingRateB()))
                            .raw("</td><td>").text(String.join(", ", s.flagsA())).raw("</td><td>")
                            .text(String.join(", ", s.flagsB())).raw("</td></tr>\n");
                }
                h.raw("</tbody></table>\n");
                cut(h, shown, l.ranking().size(), "neurons");
            }
            if (l.changedFlags().isEmpty()) {
                h.raw("<p class=\"muted\">No neuron changed its flags.</p>\n");
            } else {
                h.raw("<p class=\"facts\">Changed flags (").text(l.changedFlags().size()).raw("):</p>\n")
                        .raw("<table class=\"grid changed\">\n<thead><tr><th class=\"num\">neuron</th>"
                                + "<th>flags a</th><th>flags b</th></tr></thead>\n<tbody>\n");
                int shown = Math.min(l.changedFlags().size(), HtmlReportVisualizer.MAX_NEURON_ROWS);
                for (CensusDiff.FlagChange c : l.changedFlags().subList(0, shown)) {
                    h.raw("<tr><td class=\"num\">").text(c.neuron()).raw("</td>");
                    flagsCell(h, c.flagsA());
                    h.raw(c.flagsB().contains("dead") ? "<td class=\"warn\">" : "<td>");
                    h.text(c.flagsB().isEmpty() ? "none" : String.join(", ", c.flagsB())).raw("</td></tr>\n");
                }
                h.raw("</tbody></table>\n");
                cut(h, shown, l.changedFlags().size(), "changes");
            }
        }
    }

    private static void flagsCell(Html h, List<String> flags) {
        h.raw("<td>").text(flags.isEmpty() ? "none" : String.join(", ", flags)).raw("</td>");
    }

    // ---- shared ------------------------------------------------------------------------------------------------

    private static void numbers(Html h, double... values) {
        for (double v : values) {
            h.raw("<td class=\"num\">").text(Charts.number(v)).raw("</td>");
        }
    }

    private static void cut(Html h, int shown, int total, String what) {
        if (shown < total) {
            h.raw("<p class=\"note\">").text("Showing the first " + shown + " of " + total + " " + what + ".")
                    .raw("</p>\n");
        }
    }
}
