package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.RunSummary;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.api.visual.Visualizer;
import io.neuronmonkey.api.visual.VisualizerContext;
import org.pf4j.Extension;

import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * Writes {@code report.html} at the top of the run folder: one self-contained page (inline CSS, images embedded as
 * data URIs, no external URL) with the run's facts, configuration, model, data, results and figures.
 */
@Extension
@ExtensionName(value = "html-report",
        description = "One self-contained report.html: run facts, config, model, data, results and every figure")
public class HtmlReportVisualizer implements Visualizer<HtmlReportVisualizer.Params> {

    /** Longest list shown in full; longer ones are cut with a note. */
    static final int MAX_LIST = 50;
    /** Most per-neuron rows shown per layer. */
    static final int MAX_NEURON_ROWS = 2000;
    /** Longest single-line value shown inline; longer or multi-line values go into a collapsed block. */
    static final int MAX_INLINE = 160;

    private static final Set<String> EMBEDDED = Set.of("image/png", "image/jpeg", "image/gif", "image/svg+xml",
            "image/webp");

    /**
     * Params of {@code html-report}.
     *
     * @param title page title; null for the experiment name
     */
    public record Params(
            @Param(description = "page title; the experiment name when absent") String title) {

        /** Validates the params. */
        public Params {
            Violations.check()
                    .require(title == null || !title.isBlank(), "title",
                            "must not be blank when given (leave it out to use the experiment name), found '"
                                    + title + "'")
                    .throwIfAny();
        }
    }

    /** Creates the visualizer; PF4J needs the public no-arg constructor. */
    public HtmlReportVisualizer() {
    }

    @Override
    public void render(VisualizerContext<Params> ctx) {
        byte[] page = page(ctx).getBytes(StandardCharsets.UTF_8);
        ctx.publish("report.html", page, "report: " + title(ctx), "text/html");
    }

    private static String title(VisualizerContext<Params> ctx) {
        if (ctx.params().title() != null) {
            return ctx.params().title();
        }
        String experiment = ctx.run().experiment();
        return experiment == null || experiment.isBlank() ? "NeuronMonkey report" : experiment;
    }

    static String page(VisualizerContext<Params> ctx) {
        RunSummary run = ctx.run();
        List<StepOutput> results = ctx.inputs().stream().filter(s -> s.result().isPresent()).toList();
        List<StepOutput> figures = ctx.inputs().stream().filter(s -> !s.artifacts().isEmpty()).toList();
        String title = title(ctx);

        Html h = new Html();
        h.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                .el("title", title).raw("\n<style>").raw(CSS).raw("</style>\n</head>\n<body>\n<header>\n")
                .el("h1", title).raw("\n<p class=\"sub\">NeuronMonkey report");
        if (run.experiment() != null && !run.experiment().equals(title)) {
            h.raw(" &middot; experiment <code>").text(run.experiment()).raw("</code>");
        }
        h.raw(" &middot; written by step <code>").text(ctx.stepId()).raw("</code></p>\n");
        h.raw("<nav><a href=\"#run\">Run</a> ");
        for (StepOutput s : results) {
            h.open("a", "href", "#" + Html.id("result", s.stepId())).text(s.stepId()).raw("</a> ");
        }
        if (!figures.isEmpty()) {
            h.raw("<a href=\"#figures\">Figures</a> ");
        }
        h.raw("<a href=\"#config\">Configuration</a> <a href=\"#model\">Model</a> <a href=\"#data\">Data</a>");
        h.raw("</nav>\n</header>\n<main>\n");

        // findings first: the short run facts, every result, the figures; then the details a reader checks later
        runFacts(h, run.provenance());
        for (StepOutput s : results) {
            AnalysisResult r = s.result().orElseThrow();
            h.raw("<section class=\"result\" id=\"").raw(Html.id("result", s.stepId())).raw("\">\n<h2>")
                    .text(s.stepId()).raw(" <small>").text(s.extension());
            if (s.data() != null) {
                h.raw(" on ").text(s.data());
            }
            h.raw("</small></h2>\n");
            resultBody(h, s, r);
            h.raw("</section>\n");
        }
        if (!figures.isEmpty()) {
            h.raw("<section id=\"figures\">\n<h2>Figures</h2>\n");
            for (StepOutput s : figures) {
                figures(h, ctx, s);
            }
            h.raw("</section>\n");
        }
        config(h, run.configYaml());
        model(h, run);
        data(h, run.data());
        h.raw("</main>\n<footer>Self-contained page: styles and pictures are embedded; other files are linked "
                + "relative to the run folder.</footer>\n</body>\n</html>\n");
        return h.toString();
    }

    /**
     * Renders a result with the view its analyzer has, or generically. A result that names a known analyzer but is
     * malformed is shown generically under a warning: one bad result should not cost the whole report.
     */
    private static void resultBody(Html h, StepOutput s, AnalysisResult r) {
        try {
            if (ActivationStats.isActivationStats(r)) {
                activationStats(h, ActivationStats.parse(s.stepId(), s.data(), r));
                return;
            }
            // the other views need their layers; without them (an older or foreign format) the generic view is right
            if (r.summary().get("layers") instanceof List<?>) {
                if (TopActivations.isTopActivations(r)) {
                    ResultSections.topActivations(h, TopActivations.parse(s.stepId(), r));
                    return;
                }
                if (ActivationBreakdown.isActivationBreakdown(r)) {
                    ResultSections.breakdown(h, ActivationBreakdown.parse(s.stepId(), r));
                    return;
                }
                if (CensusDiff.isCensusDiff(r)) {
                    ResultSections.censusDiff(h, CensusDiff.parse(s.stepId(), r));
                    return;
                }
            }
        } catch (OutputException e) {
            h.raw("<p class=\"warn\">").text(e.getMessage()).raw("</p>\n");
        }
        genericResult(h, r);
    }

    // ---- run, config, model, data ----------------------------------------------------------------------------

    private static void runFacts(Html h, Map<String, Object> provenance) {
        h.raw("<section id=\"run\">\n<h2>Run</h2>\n");
        Map<String, Object> flat = new LinkedHashMap<>();
        flatten("", provenance, flat);
        if (flat.isEmpty()) {
            h.raw("<p class=\"muted\">No provenance recorded.</p>\n");
        } else {
            Map<String, Object> key = new LinkedHashMap<>();
            for (String k : KEY_FACTS) {
                flat.entrySet().stream().filter(e -> e.getKey().equals(k) || k.endsWith(".*") && e.getKey().startsWith(k.substring(0, k.length() - 1))
                        && e.getKey().endsWith(".sha256")).forEach(e -> key.put(e.getKey(), e.getValue()));
            }
            kvTable(h, key);
            h.raw("<details><summary>Full provenance (").text(String.valueOf(flat.size())).raw(" entries)</summary>\n");
            kvTable(h, flat);
            h.raw("</details>\n");
        }
        h.raw("</section>\n");
    }

    /** The provenance entries a reader looks for first; {@code data.*} stands for every data set's hash. */
    private static final List<String> KEY_FACTS = List.of("experiment", "startedAt", "seed",
            "framework.version", "java.version", "os.name", "os.arch", "execution.threads", "execution.peakHeapMB",
            "model.path", "model.sha256", "data.*", "plugins");

    private static void kvTable(Html h, Map<String, Object> entries) {
        h.raw("<table class=\"kv\">\n");
        entries.forEach((k, v) -> {
            h.raw("<tr><th>").text(k).raw("</th><td>");
            value(h, v);
            h.raw("</td></tr>\n");
        });
        h.raw("</table>\n");
    }

    /**
     * Flattens nested maps to dotted keys (sorted, since the run summary's maps keep no order); lists of scalars and
     * lists of flat records (shown as tables) stay whole; other lists get indexed keys.
     */
    static void flatten(String prefix, Object value, Map<String, Object> out) {
        if (value instanceof Map<?, ?> m && !m.isEmpty()) {
            Map<String, Object> sorted = new TreeMap<>();
            m.forEach((k, v) -> sorted.put(String.valueOf(k), v));
            sorted.forEach((k, v) -> flatten(prefix.isEmpty() ? k : prefix + "." + k, v, out));
        } else if (value instanceof List<?> l && !l.isEmpty() && !allScalars(l) && !isRecordList(l)) {
            for (int i = 0; i < l.size(); i++) {
                flatten(prefix + "[" + i + "]", l.get(i), out);
            }
        } else if (!prefix.isEmpty()) {
            out.put(prefix, value);
        }
    }

    private static void config(Html h, String yaml) {
        h.raw("<section id=\"config\">\n<h2>Experiment configuration</h2>\n");
        if (yaml == null || yaml.isBlank()) {
            h.raw("<p class=\"muted\">No configuration text recorded.</p>\n");
        } else {
            long lines = yaml.lines().count();
            h.raw("<details open><summary>experiment YAML (").text(lines).raw(lines == 1 ? " line" : " lines")
                    .raw(")</summary>\n<pre class=\"yaml\">").text(yaml).raw("</pre></details>\n");
        }
        h.raw("</section>\n");
    }

    private static void model(Html h, RunSummary run) {
        h.raw("<section id=\"model\">\n<h2>Model</h2>\n");
        if (run.modelDescription() != null && !run.modelDescription().isBlank()) {
            h.raw("<pre class=\"desc\">").text(run.modelDescription()).raw("</pre>\n");
        }
        if (run.layers().isEmpty()) {
            h.raw("<p class=\"muted\">No model layers recorded.</p>\n");
        } else {
            h.raw("<table class=\"grid\">\n<thead><tr><th>layer</th><th>op</th><th>shape</th>"
                    + "<th class=\"num\">neurons</th><th>role</th></tr></thead>\n<tbody>\n");
            for (LayerInfo l : run.layers()) {
                h.raw("<tr><td><code>").text(l.name()).raw("</code></td><td>").text(l.opType()).raw("</td><td>")
                        .text(Arrays.toString(l.shape())).raw("</td><td class=\"num\">").text(l.neurons())
                        .raw("</td><td>").text(l.role() == null ? "" : l.role().name().toLowerCase(Locale.ROOT))
                        .raw("</td></tr>\n");
            }
            h.raw("</tbody></table>\n");
        }
        h.raw("</section>\n");
    }

    private static void data(Html h, Map<String, DatasetInfo> data) {
        h.raw("<section id=\"data\">\n<h2>Data</h2>\n");
        if (data.isEmpty()) {
            h.raw("<p class=\"muted\">No data sets.</p>\n");
        } else {
            h.raw("<table class=\"grid\">\n<thead><tr><th>data set</th><th class=\"num\">examples</th>"
                    + "<th>example shape</th><th>classes</th></tr></thead>\n<tbody>\n");
            for (Map.Entry<String, DatasetInfo> e : new TreeMap<>(data).entrySet()) {
                DatasetInfo d = e.getValue();
                h.raw("<tr><td><code>").text(e.getKey()).raw("</code></td><td class=\"num\">")
                        .text(d.size() < 0 ? "unknown" : Long.toString(d.size())).raw("</td><td>")
                        .text(Arrays.toString(d.exampleShape())).raw("</td><td>");
                if (d.classNames().isEmpty()) {
                    h.raw("<span class=\"muted\">no labels</span>");
                } else {
                    h.text(d.classNames().size() + ": ");
                    list(h, d.classNames());
                }
                h.raw("</td></tr>\n");
            }
            h.raw("</tbody></table>\n");
        }
        h.raw("</section>\n");
    }

    // ---- activation-stats --------------------------------------------------------------------------------------

    private static void activationStats(Html h, ActivationStats s) {
        h.raw("<p class=\"facts\">");
        List<String> facts = new ArrayList<>();
        if (s.examples() >= 0) {
            facts.add(s.examples() + " examples");
        }
        if (!s.reduce().isEmpty()) {
            facts.add("conv channels reduced by " + s.reduce() + " over positions");
        }
        if (!Double.isNaN(s.threshold())) {
            facts.add("a neuron fires when its value > " + Charts.number(s.threshold()));
        }
        facts.add(s.classNames().isEmpty() ? "no labels" : "classes: " + String.join(", ", s.classNames()));
        h.text(String.join(" \u00b7 ", facts)).raw("</p>\n");
        health(h, s);
        if (!s.criteria().isEmpty()) {
            h.raw("<ul class=\"criteria\">\n");
            s.criteria().forEach((k, v) -> h.raw("<li><b>").text(flagLabel(k)).raw("</b>: ").text(v).raw("</li>\n"));
            h.raw("</ul>\n");
        }
        boolean rarely = s.layers().stream()
                .anyMatch(l -> !Double.isNaN(l.rarelyFiringFraction()) || !l.rarelyFiring().isEmpty());
        h.raw("<table class=\"grid\">\n<thead><tr><th>layer</th><th>op</th><th>shape</th>"
                + "<th class=\"num\">neurons</th><th class=\"num\">dead</th><th class=\"num\">always-on</th>")
                .raw(rarely ? "<th class=\"num\">rarely firing</th>" : "")
                .raw("<th class=\"num\">saturated</th><th class=\"num\">sparsity</th>"
                + "<th class=\"num\">mean firing rate</th><th>flagged neurons</th></tr></thead>\n<tbody>\n");
        for (ActivationStats.Layer l : s.layers()) {
            h.raw("<tr><td><code>").text(l.name()).raw("</code></td><td>").text(l.opType()).raw("</td><td>")
                    .text(l.shape()).raw("</td><td class=\"num\">").text(l.neurons()).raw("</td>");
            countCell(h, l.deadFraction(), l.dead().size());
            countCell(h, l.alwaysOnFraction(), l.alwaysOn().size());
            if (rarely) {
                countCell(h, Double.isNaN(l.rarelyFiringFraction()) && l.neurons() > 0
                        ? l.rarelyFiring().size() / (double) l.neurons() : l.rarelyFiringFraction(),
                        l.rarelyFiring().size());
            }
            countCell(h, l.saturatedFraction(), l.saturated().size());
            h.raw("<td class=\"num\">").text(Charts.percent(l.sparsity())).raw("</td><td class=\"num\">")
                    .text(Charts.percent(l.meanFiringRate())).raw("</td><td>");
            flagged(h, l);
            h.raw("</td></tr>\n");
        }
        h.raw("</tbody></table>\n");
        for (ActivationStats.Layer l : s.layers()) {
            neuronTable(h, s, l);
        }
    }

    private static void countCell(Html h, double fraction, int count) {
        h.raw(count > 0 ? "<td class=\"num warn\">" : "<td class=\"num\">").text(Charts.percent(fraction))
                .raw(" <span class=\"muted\">(").text(count).raw(")</span></td>");
    }

    private static void flagged(Html h, ActivationStats.Layer l) {
        String[] labels = {"dead", "always-on", "saturated", "rarely-firing"};
        List<List<Integer>> indices = List.of(l.dead(), l.alwaysOn(), l.saturated(), l.rarelyFiring());
        boolean any = false;
        for (int i = 0; i < labels.length; i++) {
            if (indices.get(i).isEmpty()) {
                continue;
            }
            h.raw(any ? "<br>" : "").raw("<span class=\"tag\">").text(labels[i]).raw("</span> ");
            list(h, indices.get(i));
            any = true;
        }
        if (!any) {
            h.raw("<span class=\"muted\">none</span>");
        }
    }

    /** Quantile columns shown in per-neuron tables, when the summary has them. */
    static final List<String> QUANTILES = List.of("p05", "p50", "p95");
    /** Most neurons named per flag and layer in the health summary. */
    static final int MAX_HEALTH_NAMES = 12;

    /**
     * Names the flagged neurons of every layer, each with its firing rate and interval, so that a reader sees at once
     * which neurons are in trouble and how sure the census is.
     */
    private static void health(Html h, ActivationStats s) {
        String[] labels = {"dead", "always-on", "rarely-firing", "saturated"};
        List<String> healthy = new ArrayList<>();
        h.raw("<div class=\"health\"><h3>Health</h3>\n<ul>\n");
        for (ActivationStats.Layer l : s.layers()) {
            List<List<Integer>> indices = List.of(l.dead(), l.alwaysOn(), l.rarelyFiring(), l.saturated());
            if (indices.stream().allMatch(List::isEmpty)) {
                healthy.add(l.name());
                continue;
            }
            Map<Integer, ActivationStats.NeuronRow> rows = new LinkedHashMap<>();
            (l.neuronRows().isEmpty() ? rowsFromArrays(s, l) : l.neuronRows()).forEach(r -> rows.put(r.index(), r));
            h.raw("<li><code>").text(l.name()).raw("</code>");
            for (int i = 0; i < labels.length; i++) {
                List<Integer> idx = indices.get(i);
                if (idx.isEmpty()) {
                    continue;
                }
                h.raw(" <span class=\"tag\">").text(labels[i] + " " + idx.size() + " of " + l.neurons())
                        .raw("</span> ");
                List<String> named = new ArrayList<>();
                for (int n : idx.subList(0, Math.min(idx.size(), MAX_HEALTH_NAMES))) {
                    ActivationStats.NeuronRow r = rows.get(n);
                    named.add("#" + n + (r == null ? "" : " " + (r.hasInterval() ? withInterval(r)
                            : rate(r.firingRate()))));
                }
                h.text(String.join(", ", named));
                if (idx.size() > MAX_HEALTH_NAMES) {
                    h.raw(" <span class=\"note\">&hellip; and ").text(idx.size() - MAX_HEALTH_NAMES)
                            .raw(" more</span>");
                }
            }
            h.raw("</li>\n");
        }
        if (!healthy.isEmpty()) {
            h.raw("<li class=\"muted\">").text((healthy.size() == s.layers().size() ? "Every layer" : "Also")
                    + " without dead, always-on, rarely-firing or saturated neurons: " + String.join(", ", healthy))
                    .raw("</li>\n");
        }
        h.raw("</ul>\n<p class=\"note\">Firing rates as fractions of examples, with their 95% (Wilson) interval "
                + "in brackets where the census gives one.</p></div>\n");
    }

    /** @return {@code 0.31 [0.29, 0.33]}: the firing rate and its interval */
    static String withInterval(ActivationStats.NeuronRow r) {
        return rate(r.firingRate()) + " [" + rate(r.firingRateLow()) + ", " + rate(r.firingRateHigh()) + "]";
    }

    /**
     * @return a rate as a fraction: two decimals between 0.1 and 0.9, and two significant digits of the rate (or of
     * its distance to 1) nearer the ends, so that a rarely-firing neuron never reads as dead nor a nearly always-on
     * one as always on; {@code n/a} for NaN
     */
    static String rate(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (v <= 0 || v >= 1 || Double.isInfinite(v)) {
            return Charts.number(v);
        }
        if (v < 0.1) {
            return new BigDecimal(v).round(new MathContext(2)).stripTrailingZeros().toPlainString();
        }
        if (v > 0.9) {
            return BigDecimal.ONE.subtract(new BigDecimal(1 - v).round(new MathContext(2))).stripTrailingZeros()
                    .toPlainString();
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String flagLabel(String key) {
        return key.equals("alwaysOn") ? "always-on" : key;
    }

    private static void neuronTable(Html h, ActivationStats s, ActivationStats.Layer l) {
        List<ActivationStats.NeuronRow> rows = l.neuronRows().isEmpty() ? rowsFromArrays(s, l) : l.neuronRows();
        if (rows.isEmpty()) {
            return;
        }
        long flaggedCount = rows.stream().filter(r -> !r.flags().isEmpty()).count();
        boolean intervals = rows.stream().anyMatch(ActivationStats.NeuronRow::hasInterval);
        List<String> quantiles = QUANTILES.stream()
                .filter(q -> rows.stream().anyMatch(r -> r.quantiles().containsKey(q))).toList();
        h.raw("<details class=\"neurons\"><summary><code>").text(l.name()).raw("</code> per-neuron statistics (")
                .text(rows.size() + " neurons, " + flaggedCount + " flagged").raw(")</summary>\n")
                .raw("<table class=\"grid\">\n<thead><tr><th class=\"num\">neuron</th><th class=\"num\">mean</th>"
                        + "<th class=\"num\">std</th><th class=\"num\">min</th><th class=\"num\">max</th>");
        quantiles.forEach(q -> h.raw("<th class=\"num\">").text(q).raw("</th>"));
        h.raw(intervals ? "<th class=\"num\">firing rate [95% CI]</th>" : "<th class=\"num\">firing rate</th>")
                .raw("<th>flags</th></tr></thead>\n<tbody>\n");
        int shown = Math.min(rows.size(), MAX_NEURON_ROWS);
        for (int i = 0; i < shown; i++) {
            ActivationStats.NeuronRow r = rows.get(i);
            if (r.flags().isEmpty()) {
                h.raw("<tr>");
            } else {
                StringBuilder cls = new StringBuilder("flagged");
                r.flags().forEach(f -> cls.append(" flag-").append(f.replaceAll("[^A-Za-z0-9_-]", "_")));
                h.open("tr", "class", cls.toString());
            }
            h.raw("<td class=\"num\">").text(r.index()).raw("</td>");
            for (double v : new double[] {r.mean(), r.std(), r.min(), r.max()}) {
                h.raw("<td class=\"num\">").text(Charts.number(v)).raw("</td>");
            }
            for (String q : quantiles) {
                h.raw("<td class=\"num\">").text(Charts.number(r.quantiles().getOrDefault(q, Double.NaN)))
                        .raw("</td>");
            }
            h.raw("<td class=\"num\">").text(r.hasInterval() ? withInterval(r) : Charts.percent(r.firingRate()))
                    .raw("</td><td>");
            h.text(String.join(", ", r.flags().stream().map(HtmlReportVisualizer::flagLabel).toList()))
                    .raw("</td></tr>\n");
        }
        h.raw("</tbody></table>\n");
        if (shown < rows.size()) {
            h.raw("<p class=\"note\">").text("Showing the first " + shown + " of " + rows.size()
                    + " neurons; all values are in this step's arrays (" + String.join(", ", l.arrays().values())
                    + ").").raw("</p>\n");
        }
        h.raw("</details>\n");
    }

    /** Builds per-neuron rows from the arrays when the summary does not list them. */
    private static List<ActivationStats.NeuronRow> rowsFromArrays(ActivationStats s, ActivationStats.Layer l) {
        Optional<float[]> mean = floats(s, l, "mean");
        if (mean.isEmpty()) {
            return List.of();
        }
        float[] std = floats(s, l, "std").orElse(null);
        float[] min = floats(s, l, "min").orElse(null);
        float[] max = floats(s, l, "max").orElse(null);
        float[] rate = floats(s, l, "firingRate").orElse(null);
        List<ActivationStats.NeuronRow> rows = new ArrayList<>();
        for (int n = 0; n < mean.get().length; n++) {
            List<String> flags = new ArrayList<>();
            if (l.dead().contains(n)) {
                flags.add("dead");
            }
            if (l.alwaysOn().contains(n)) {
                flags.add("alwaysOn");
            }
            if (l.rarelyFiring().contains(n)) {
                flags.add("rarely-firing");
            }
            if (l.saturated().contains(n)) {
                flags.add("saturated");
            }
            rows.add(new ActivationStats.NeuronRow(n, mean.get()[n], at(std, n), at(min, n), at(max, n),
                    at(rate, n), Double.NaN, Double.NaN, Map.of(), flags));
        }
        return rows;
    }

    private static Optional<float[]> floats(ActivationStats s, ActivationStats.Layer l, String role) {
        return s.array(l, role).filter(t -> t.dtype() == DType.FLOAT32).map(Tensor::floats);
    }

    private static double at(float[] a, int i) {
        return a == null || i >= a.length ? Double.NaN : a[i];
    }

    // ---- other results -----------------------------------------------------------------------------------------

    private static void genericResult(Html h, AnalysisResult r) {
        if (r.summary().isEmpty()) {
            h.raw("<p class=\"muted\">Empty summary.</p>\n");
        } else {
            value(h, r.summary());
        }
        if (!r.arrays().isEmpty()) {
            h.raw("<details><summary>arrays (").text(r.arrays().size()).raw(")</summary>\n<table class=\"grid\">"
                    + "<thead><tr><th>array</th><th>dtype</th><th>shape</th></tr></thead>\n<tbody>\n");
            r.arrays().forEach((name, t) -> h.raw("<tr><td><code>").text(name).raw("</code></td><td>")
                    .text(t.dtype()).raw("</td><td>").text(Arrays.toString(t.shape())).raw("</td></tr>\n"));
            h.raw("</tbody></table></details>\n");
        }
    }

    /** Renders any JSON-like value: maps as key/value tables, lists of records as tables, long lists cut. */
    static void value(Html h, Object v) {
        if (v == null) {
            h.raw("<span class=\"muted\">null</span>");
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                h.raw("<span class=\"muted\">{}</span>");
                return;
            }
            h.raw("<table class=\"kv\">\n");
            m.forEach((k, x) -> {
                h.raw("<tr><th>").text(k).raw("</th><td>");
                value(h, x);
                h.raw("</td></tr>\n");
            });
            h.raw("</table>");
        } else if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                h.raw("<span class=\"muted\">[]</span>");
            } else if (allScalars(l)) {
                list(h, l);
            } else if (isRecordList(l)) {
                recordTable(h, l);
            } else {
                h.raw("<ol start=\"0\">");
                for (Object x : l.subList(0, Math.min(l.size(), MAX_LIST))) {
                    h.raw("<li>");
                    value(h, x);
                    h.raw("</li>");
                }
                h.raw("</ol>");
                cutNote(h, l.size());
            }
        } else {
            String s = scalar(v);
            if (s.length() > MAX_INLINE || s.contains("\n")) {
                String first = s.lines().findFirst().orElse("");
                h.raw("<details><summary>").text(first.length() > 60 ? first.substring(0, 60) : first)
                        .raw("&hellip; (").text(s.length()).raw(" characters)</summary><pre>").text(s)
                        .raw("</pre></details>");
            } else {
                h.text(s);
            }
        }
    }

    private static void recordTable(Html h, List<?> rows) {
        Set<String> columns = new LinkedHashSet<>();
        rows.forEach(r -> ((Map<?, ?>) r).keySet().forEach(k -> columns.add(String.valueOf(k))));
        h.raw("<table class=\"grid\">\n<thead><tr>");
        columns.forEach(c -> h.raw("<th>").text(c).raw("</th>"));
        h.raw("</tr></thead>\n<tbody>\n");
        for (Object r : rows.subList(0, Math.min(rows.size(), MAX_LIST))) {
            Map<?, ?> m = (Map<?, ?>) r;
            h.raw("<tr>");
            for (String c : columns) {
                Object x = m.get(c);
                h.raw(x instanceof Number ? "<td class=\"num\">" : "<td>");
                if (x instanceof List<?> l) {
                    list(h, l);
                } else {
                    h.text(x == null ? "" : scalar(x));
                }
                h.raw("</td>");
            }
            h.raw("</tr>\n");
        }
        h.raw("</tbody></table>");
        cutNote(h, rows.size());
    }

    /** Writes a comma-separated list of scalars, cut after {@link #MAX_LIST} items with a note. */
    static void list(Html h, List<?> items) {
        List<String> shown = items.subList(0, Math.min(items.size(), MAX_LIST)).stream()
                .map(HtmlReportVisualizer::scalar).toList();
        h.text(String.join(", ", shown));
        if (items.size() > MAX_LIST) {
            h.raw(" <span class=\"note\">&hellip; and ").text(items.size() - MAX_LIST).raw(" more (")
                    .text(items.size()).raw(" in all)</span>");
        }
    }

    private static void cutNote(Html h, int size) {
        if (size > MAX_LIST) {
            h.raw("<p class=\"note\">Showing the first ").text(MAX_LIST).raw(" of ").text(size)
                    .raw(" entries.</p>");
        }
    }

    private static boolean isRecordList(List<?> l) {
        return l.stream().allMatch(x -> x instanceof Map<?, ?> m && allScalars(m.values()));
    }

    private static boolean allScalars(Collection<?> values) {
        return values.stream().allMatch(x -> !(x instanceof Map<?, ?>)
                && !(x instanceof List<?> l && !allScalars(l)));
    }

    private static String scalar(Object v) {
        if (v == null) {
            return "null";
        }
        if (v instanceof List<?> l) {
            return "[" + String.join(", ", l.stream().map(HtmlReportVisualizer::scalar).toList()) + "]";
        }
        if (v instanceof Double || v instanceof Float) {
            return Charts.number(((Number) v).doubleValue());
        }
        return String.valueOf(v);
    }

    // ---- figures -----------------------------------------------------------------------------------------------

    private static void figures(Html h, VisualizerContext<Params> ctx, StepOutput s) {
        h.raw("<h3>").text(s.stepId()).raw(" <small>").text(s.extension()).raw("</small></h3>\n")
                .raw("<div class=\"figures\">\n");
        for (Artifact a : s.artifacts()) {
            h.raw("<figure>");
            String type = a.mediaType() == null ? "" : a.mediaType().toLowerCase(Locale.ROOT);
            if (EMBEDDED.contains(type)) {
                byte[] bytes;
                try {
                    bytes = ctx.read(a);
                } catch (RuntimeException e) {
                    h.raw("<p class=\"warn\">").text("Could not read " + a.file() + ": " + e.getMessage())
                            .raw("</p>");
                    bytes = null;
                }
                if (bytes != null) {
                    h.raw("<img src=\"data:").raw(Html.escape(type)).raw(";base64,")
                            .raw(Base64.getEncoder().encodeToString(bytes)).raw("\" alt=\"").text(a.title())
                            .raw("\">");
                }
            } else {
                h.open("a", "href", Html.encodePath(a.file())).text(a.file()).raw("</a>");
            }
            h.raw("<figcaption>").text(a.title() == null ? a.file() : a.title()).raw("</figcaption></figure>\n");
        }
        h.raw("</div>\n");
    }

    private static final String CSS = """
            :root{--fg:#1d2330;--muted:#6b7280;--line:#e3e6eb;--accent:#3b6ea8;--warn:#b45309;--flag:#fff4e0}
            *{box-sizing:border-box}
            body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;\
            color:var(--fg);background:#fafbfc}
            header{background:#fff;border-bottom:1px solid var(--line);padding:1.2rem 2rem .6rem}
            h1{margin:0;font-size:1.7rem}
            .sub{margin:.2rem 0 .6rem;color:var(--muted)}
            nav a{margin-right:1rem;color:var(--accent);text-decoration:none;font-size:.9rem}
            main{max-width:1200px;margin:0 auto;padding:1rem 2rem 3rem}
            section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.4rem 1.2rem 1rem;\
            margin:1rem 0}
            h2{font-size:1.25rem;margin:.8rem 0}
            h2 small,h3 small{color:var(--muted);font-weight:normal;font-size:.8em}
            table{border-collapse:collapse;margin:.4rem 0;font-size:.88rem}
            th,td{padding:.25rem .6rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
            thead th{background:#f3f5f8;border-bottom:2px solid var(--line)}
            table.kv th{font-weight:600;color:#374151;white-space:nowrap}
            td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
            td.warn{color:var(--warn);font-weight:600}
            tr.flagged td{background:var(--flag)}
            tr.flag-dead td{background:#fde8e8}
            tr.top td{background:#e6f0fa;font-weight:600}
            .health{border-left:4px solid var(--accent);background:#f7f9fc;padding:.2rem .9rem;margin:.6rem 0}
            .health h3{margin:.4rem 0 .2rem;font-size:1rem}
            .health ul{margin:.2rem 0;padding-left:1.2rem}
            table.tops td.ex{font-size:.8rem;min-width:7rem}
            td.makeup{white-space:pre-line;font-size:.8rem;color:#374151}
            h4{margin:.8rem 0 .2rem;font-size:.95rem}
            .tag{display:inline-block;padding:0 .4rem;border-radius:4px;background:#eef2f7;font-size:.8rem}
            .muted{color:var(--muted)}
            .note{color:var(--muted);font-size:.85rem;font-style:italic}
            .warn{color:var(--warn)}
            pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:.7rem;overflow:auto;\
            font-size:.82rem;line-height:1.4}
            code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:.9em}
            details{margin:.5rem 0}
            summary{cursor:pointer;color:#374151}
            .facts{color:#374151}
            .figures{display:flex;flex-wrap:wrap;gap:1rem}
            figure{margin:0;background:#fff;border:1px solid var(--line);border-radius:6px;padding:.5rem;\
            max-width:100%}
            figure img{max-width:100%;height:auto;display:block}
            figcaption{font-size:.85rem;color:var(--muted);margin-top:.3rem}
            footer{text-align:center;color:var(--muted);font-size:.8rem;padding:1rem}
            @media print{body{background:#fff}section{border:none}details{display:block}}
            """;
}
