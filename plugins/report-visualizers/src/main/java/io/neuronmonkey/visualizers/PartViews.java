package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.InputMaps;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.result.ResultPart;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.visual.Artifact;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.api.visual.VisualizerContext;
import j2html.tags.DomContent;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static j2html.TagCreator.a;
import static j2html.TagCreator.b;
import static j2html.TagCreator.code;
import static j2html.TagCreator.details;
import static j2html.TagCreator.div;
import static j2html.TagCreator.each;
import static j2html.TagCreator.figcaption;
import static j2html.TagCreator.figure;
import static j2html.TagCreator.h2;
import static j2html.TagCreator.h3;
import static j2html.TagCreator.img;
import static j2html.TagCreator.input;
import static j2html.TagCreator.join;
import static j2html.TagCreator.li;
import static j2html.TagCreator.p;
import static j2html.TagCreator.rawHtml;
import static j2html.TagCreator.section;
import static j2html.TagCreator.small;
import static j2html.TagCreator.span;
import static j2html.TagCreator.summary;
import static j2html.TagCreator.table;
import static j2html.TagCreator.tbody;
import static j2html.TagCreator.td;
import static j2html.TagCreator.text;
import static j2html.TagCreator.th;
import static j2html.TagCreator.thead;
import static j2html.TagCreator.tr;
import static j2html.TagCreator.ul;

/**
 * Draws every kind of result part, findings and neuron references. Each part is drawn by its kind alone: a neuron
 * table as a per-neuron bar chart of its first column plus a sortable table, a ranking as bars with intervals plus a
 * table, an example set as image rows (or a table without images), a matrix as a coloured table, a series as lines,
 * input maps as pictures. A part that fails to draw becomes an error box and is recorded in {@link #errors()}.
 */
final class PartViews {

    /** Findings whose evidence pictures are drawn inline; later ones link to them. */
    static final int INLINE_EVIDENCE = 8;
    /** Rows shown before a table is folded. */
    static final int OPEN_ROWS = 20;
    /** Rows a table holds at most; the rest are counted. */
    static final int MAX_ROWS = 2000;
    /** Neurons of an example set drawn as image rows in its section. */
    static final int MAX_IMAGE_ROWS = 32;

    private final List<StepOutput> inputs;
    private final List<String> errors = new ArrayList<>();
    private Set<NeuronRef> cards = Set.of();

    PartViews(List<StepOutput> inputs) {
        this.inputs = List.copyOf(inputs);
    }

    /** A finding with the step it came from; step and result are null for findings of the runtime about the run. */
    record Located(StepOutput step, AnalysisResult result, Finding finding) {
    }

    /** @return the sections that could not be drawn, each with why */
    List<String> errors() {
        return errors;
    }

    /** @param neurons the neurons that have a card, so that links to them work */
    void cards(Set<NeuronRef> neurons) {
        this.cards = Set.copyOf(neurons);
    }

    List<StepOutput> inputs() {
        return inputs;
    }

    /**
     * @param run the runtime's own findings about the run, listed before the steps' at equal severity
     * @return every finding, warnings first, then notable, then informational; run, then step order within each
     */
    List<Located> findings(List<Finding> run) {
        List<Located> all = new ArrayList<>();
        run.forEach(f -> all.add(new Located(null, null, f)));
        for (StepOutput s : inputs) {
            s.result().ifPresent(r -> r.findings().forEach(f -> all.add(new Located(s, r, f))));
        }
        all.sort(Comparator.comparingInt(l -> l.finding().severity().ordinal()));
        return all;
    }

    // ---- findings --------------------------------------------------------------------------------------------

    DomContent finding(Located l, boolean inline) {
        Finding f = l.finding();
        String sev = f.severity().name().toLowerCase(Locale.ROOT);
        List<DomContent> evidence = new ArrayList<>();
        try {
            if (inline && l.step() != null) {
                for (NeuronRef n : f.neurons().stream().limit(1).toList()) {
                    exampleSetFor(n).filter(set -> informative(set, n.neuron()))
                            .ifPresent(set -> evidence.add(hasText(set)
                                    ? contexts(set, n.neuron(), 4, "top contexts of " + n + " (" + set.value() + ")")
                                    : strip(set, n.neuron(), 40, "top inputs of " + n + " (" + set.value() + ")")));
                }
                // the first evidence part that draws small: a curve, maps over their inputs, or the ranking the neuron leads
                for (String id : f.evidence()) {
                    Optional<Series> se = l.result().part(id, Series.class);
                    Optional<InputMaps> im = l.result().part(id, InputMaps.class);
                    Optional<Ranking> r = l.result().part(id, Ranking.class);
                    Optional<ExampleSet> es = l.result().part(id, ExampleSet.class).filter(PartViews::hasText);
                    if (es.isPresent() && !es.get().neurons().isEmpty()) {
                        ExampleSet set = es.get();
                        int neuron = f.neurons().stream().filter(x -> x.layer().equals(set.layer())).mapToInt(NeuronRef::neuron)
                                .filter(x -> set.of(x).isPresent()).findFirst().orElse(set.neurons().get(0).neuron());
                        evidence.add(contexts(set, neuron, 4, set.title()));
                        break;
                    } else if (se.isPresent()) {
                        evidence.add(div(rawHtml(Svg.series(se.get(), 560, 240))).withClass("mini"));
                        break;
                    } else if (im.isPresent()) {
                        // a finding about some neurons shows their optimized inputs only, when the maps are per neuron
                        List<Integer> theirs = new ArrayList<>();
                        f.neurons().forEach(n -> theirs.addAll(optimizedFor(im.get(), n)));
                        evidence.add(div(theirs.isEmpty() ? mapPictures(im.get(), 8)
                                : mapPictures(im.get(), theirs.subList(0, Math.min(8, theirs.size())))).withClass("mini"));
                        break;
                    } else if (r.isPresent() && !f.neurons().isEmpty()) {
                        evidence.add(div(rawHtml(Svg.ranking(r.get(), 8, f.neurons().get(0), 520))).withClass("mini"));
                        break;
                    }
                }
            }
        } catch (RuntimeException e) {
            evidence.add(error("evidence of finding '" + f.id() + "' of step '" + l.step().stepId() + "'", e));
        }
        return div(
                p(span(sev).withClass("sev " + sev), text(" "), b(f.claim()), strength(f.strength())),
                f.neurons().isEmpty() ? null : p(text("neurons: "), neuronList(f.neurons(), 12)).withClass("small"),
                evidence.isEmpty() ? null : div(evidence.toArray(new DomContent[0])).withClass("evidence"),
                l.step() == null ? p("found by the runtime while reading the data").withClass("small muted")
                        : p(text("evidence: "), join(evidenceLinks(l)), text(" · step "),
                        a(l.step().stepId()).withHref("#" + stepAnchor(l.step().stepId()))).withClass("small muted"))
                .withClass("finding " + sev);
    }

    private static Object[] evidenceLinks(Located l) {
        List<Object> out = new ArrayList<>();
        for (String id : l.finding().evidence()) {
            if (!out.isEmpty()) {
                out.add(" · ");
            }
            out.add(a(partTitle(l.result(), id)).withHref("#" + partAnchor(l.step().stepId(), id)));
        }
        return out.toArray();
    }

    private static DomContent strength(Finding.Strength s) {
        if (s == null) {
            return null;
        }
        StringBuilder t = new StringBuilder(" — ").append(s.measure()).append(" ").append(Charts.number(s.value()));
        if (s.interval() != null) {
            t.append(", ").append(interval(s.interval()));
        }
        if (s.q() != null) {
            t.append(", q ").append(pValue(s.q()));
        }
        return span(t.toString()).withClass("strength");
    }

    static String interval(Interval i) {
        return Math.round(i.level() * 100) + "% CI [" + Charts.number(i.low()) + ", " + Charts.number(i.high()) + "]";
    }

    static String pValue(double p) {
        if (Double.isNaN(p)) {
            return "n/a";
        }
        return p == 0 ? "< 1e-300" : p < 1e-4 ? String.format(Locale.ROOT, "%.1e", p) : Charts.number(p);
    }

    private static String partTitle(AnalysisResult r, String id) {
        return r.parts().stream().filter(p -> p.id().equals(id)).map(ResultPart::title).findFirst().orElse(id);
    }

    // ---- steps and parts -------------------------------------------------------------------------------------

    DomContent stepSection(StepOutput s) {
        AnalysisResult r = s.result().orElseThrow();
        List<DomContent> parts = new ArrayList<>();
        for (ResultPart part : r.parts()) {
            DomContent body;
            try {
                body = part(s, r, part);
            } catch (RuntimeException e) {
                body = error("part '" + part.id() + "' of step '" + s.stepId() + "'", e);
            }
            parts.add(div(h3(join(part.title(), small(part.kind()))), body).withClass("part")
                    .withId(partAnchor(s.stepId(), part.id())));
        }
        return section(
                h2(join(s.stepId(), small(s.extension() + (s.data() == null ? "" : " on " + s.data())))),
                r.findings().isEmpty() ? null : p(r.findings().size() + " finding" + (r.findings().size() == 1 ? "" : "s")
                        + " (listed under Findings)").withClass("muted small"),
                parts.isEmpty() && r.summary().isEmpty() ? p("This step wrote no parts.").withClass("muted") : null,
                each(parts, x -> x),
                r.summary().isEmpty() ? null : details(summary("method and run facts (" + r.summary().size() + " entries)"),
                        facts(r.summary())))
                .withClass("result").withId(stepAnchor(s.stepId()));
    }

    DomContent part(StepOutput s, AnalysisResult r, ResultPart part) {
        if (part instanceof NeuronTable t) {
            return neuronTable(t);
        } else if (part instanceof Ranking rk) {
            return ranking(rk);
        } else if (part instanceof ExampleSet e) {
            return exampleSet(e);
        } else if (part instanceof Matrix m) {
            return matrix(s, r, m);
        } else if (part instanceof Series se) {
            return join(p(se.description()).withClass("muted small"), rawHtml(Svg.series(se)));
        }
        return inputMaps((InputMaps) part);
    }

    DomContent neuronTable(NeuronTable t) {
        NeuronTable.Column first = t.columns().get(0);
        List<DomContent> head = new ArrayList<>();
        head.add(th("neuron").withClass("num"));
        for (NeuronTable.Column c : t.columns()) {
            head.add(th(c.name()).withTitle(c.description() + (c.unit().isEmpty() ? "" : " (" + c.unit() + ")")).withClass("num"));
        }
        if (!t.tags().isEmpty()) {
            head.add(th("tags"));
        }
        Map<Integer, List<String>> tagsOf = new LinkedHashMap<>();
        for (NeuronTable.Tag tag : t.tags()) {
            tag.neurons().forEach(n -> tagsOf.computeIfAbsent(n, k -> new ArrayList<>()).add(tag.name()));
        }
        List<DomContent> rows = new ArrayList<>();
        for (int n = 0; n < Math.min(t.neurons(), MAX_ROWS); n++) {
            List<DomContent> cells = new ArrayList<>();
            cells.add(td(neuronLink(new NeuronRef(t.layer(), n), "#" + n)).attr("data-v", n).withClass("num"));
            for (NeuronTable.Column c : t.columns()) {
                double v = c.values().get(n);
                String shown = Charts.number(v) + (c.hasInterval() ? " [" + Charts.number(c.low().get(n)) + ", "
                        + Charts.number(c.high().get(n)) + "]" : "");
                cells.add(td(shown).attr("data-v", sortKey(v)).withClass("num"));
            }
            if (!t.tags().isEmpty()) {
                cells.add(td(String.join(", ", tagsOf.getOrDefault(n, List.of()))));
            }
            rows.add(tr(cells.toArray(new DomContent[0])));
        }
        DomContent tags = t.tags().isEmpty() ? null : ul(each(t.tags(), tag -> li(b(tag.name() + ": " + tag.neurons().size()),
                text(tag.neurons().isEmpty() ? "" : " — "), neuronIndexList(t.layer(), tag.neurons(), 24),
                tag.description().isEmpty() ? null : span(" (" + tag.description() + ")").withClass("muted"))))
                .withClass("tags");
        return join(
                t.description().isEmpty() ? null : p(t.description()).withClass("muted small"),
                tags,
                figure(rawHtml(Svg.perNeuron(t, first)),
                        figcaption(first.name() + " per neuron" + (first.hasInterval() ? ", with its interval" : ""))),
                sortable(head, rows, t.neurons() + " neurons"));
    }

    DomContent ranking(Ranking r) {
        List<DomContent> head = List.of(th("rank").withClass("num"), th("neuron"), th("score").withClass("num"),
                th("interval"), th("p").withClass("num"), th("q").withClass("num"), th("note"));
        List<DomContent> rows = new ArrayList<>();
        int rank = 0;
        for (Ranking.Entry e : r.entries().subList(0, Math.min(r.entries().size(), MAX_ROWS))) {
            rank++;
            rows.add(tr(td(String.valueOf(rank)).attr("data-v", rank).withClass("num"),
                    td(neuronLink(e.neuron(), e.neuron().toString())).attr("data-v", e.neuron().toString()),
                    td(Charts.number(e.score())).attr("data-v", sortKey(e.score())).withClass("num"),
                    td(e.interval() == null ? "" : interval(e.interval())),
                    td(e.p() == null ? "" : pValue(e.p())).attr("data-v", e.p() == null ? "" : sortKey(e.p())).withClass("num"),
                    td(e.q() == null ? "" : pValue(e.q())).attr("data-v", e.q() == null ? "" : sortKey(e.q())).withClass("num"),
                    td(e.note())));
        }
        return join(p(join(text("score: "), b(r.score()), text(r.description().isEmpty() ? "" : " — " + r.description())))
                        .withClass("muted small"),
                r.entries().isEmpty() ? p("No neuron was ranked.").withClass("muted")
                        : figure(rawHtml(Svg.ranking(r, 20, null)), figcaption("first " + Math.min(20, r.entries().size())
                        + " of " + r.entries().size() + " ranked neurons" + (r.entries().stream().anyMatch(x -> x.interval() != null)
                        ? ", whiskers: interval" : ""))),
                sortable(head, rows, r.entries().size() + " ranked neurons"));
    }

    DomContent exampleSet(ExampleSet e) {
        List<DomContent> out = new ArrayList<>();
        out.add(p(e.order() + " examples per neuron of " + e.layer() + " by " + e.value()).withClass("muted small"));
        if (e.inputs() != null && e.inputs().data().rank() >= 4) {
            List<DomContent> strips = new ArrayList<>();
            for (ExampleSet.NeuronExamples ne : e.neurons().subList(0, Math.min(MAX_IMAGE_ROWS, e.neurons().size()))) {
                strips.add(div(span(neuronLink(new NeuronRef(e.layer(), ne.neuron()), "#" + ne.neuron())).withClass("rowlabel"),
                        strip(e, ne.neuron(), 40, e.layer() + " #" + ne.neuron() + " (" + e.value() + ")")).withClass("striprow"));
            }
            out.add(fold(Math.min(MAX_IMAGE_ROWS, e.neurons().size()) + " of " + e.neurons().size() + " neurons as pictures",
                    true, div(strips.toArray(new DomContent[0])).withClass("strips")));
        }
        if (hasText(e)) {
            List<DomContent> blocks = new ArrayList<>();
            for (ExampleSet.NeuronExamples ne : e.neurons().subList(0, Math.min(MAX_IMAGE_ROWS, e.neurons().size()))) {
                blocks.add(div(span(neuronLink(new NeuronRef(e.layer(), ne.neuron()), "#" + ne.neuron())).withClass("rowlabel"),
                        contexts(e, ne.neuron(), 5, null)).withClass("striprow"));
            }
            out.add(fold(Math.min(MAX_IMAGE_ROWS, e.neurons().size()) + " of " + e.neurons().size()
                    + " neurons as highlighted text", true, div(blocks.toArray(new DomContent[0])).withClass("strips")));
        }
        boolean text = hasText(e);
        List<DomContent> head = List.of(th("neuron").withClass("num"), th("rank").withClass("num"), th("example"),
                th("value").withClass("num"), th("label"), th(text ? "token" : "position"), th("metadata"));
        List<DomContent> rows = new ArrayList<>();
        for (ExampleSet.NeuronExamples ne : e.neurons()) {
            for (ExampleSet.Example x : ne.examples()) {
                if (rows.size() == MAX_ROWS) {
                    break;
                }
                rows.add(tr(td(neuronLink(new NeuronRef(e.layer(), ne.neuron()), "#" + ne.neuron())).attr("data-v", ne.neuron()).withClass("num"),
                        td(String.valueOf(x.rank())).attr("data-v", x.rank()).withClass("num"),
                        td(code(x.exampleId())), td(Charts.number(x.value())).attr("data-v", sortKey(x.value())).withClass("num"),
                        td(label(x.label(), e.classNames())),
                        td(x.text() != null ? x.text().token()
                                : x.position() == null ? "" : java.util.Arrays.toString(x.position())),
                        td(shortValue(x.metadata()))));
            }
        }
        out.add(sortable(head, rows, e.neurons().stream().mapToInt(n -> n.examples().size()).sum() + " examples"));
        return join(out.toArray(new DomContent[0]));
    }

    DomContent matrix(StepOutput s, AnalysisResult r, Matrix m) {
        if (Parts.isHistogram(m)) {
            return join(p("counts per bin, pooled over the " + m.rows().size() + " neurons of " + m.layer()
                    + "; each neuron's own histogram is on its card").withClass("muted small"),
                    figure(rawHtml(Svg.histogram(new Parts.Found<>(s, r, m)))));
        }
        int cols = Math.min(m.cols().size(), 64);
        List<DomContent> head = new ArrayList<>();
        head.add(th(m.rows().name() + " \\ " + m.cols().name()));
        for (int c = 0; c < cols; c++) {
            head.add(th(axisLabel(m, m.cols(), c)).withClass("num"));
        }
        // one colour scale for the matrix, or one per column when the columns are different metrics (a fraction beside
        // a count would otherwise paint every fraction the same)
        boolean perColumn = m.cols().name().equals("metric");
        ViridisPaintScale[] scales = new ViridisPaintScale[cols];
        for (int c = 0; c < cols; c++) {
            if (perColumn || c == 0) {
                double lo = Double.POSITIVE_INFINITY;
                double hi = Double.NEGATIVE_INFINITY;
                for (int row = 0; row < m.rows().size(); row++) {
                    for (int cc = perColumn ? c : 0; cc < (perColumn ? c + 1 : m.cols().size()); cc++) {
                        double v = m.get(row, cc);
                        if (Double.isFinite(v)) {
                            lo = Math.min(lo, v);
                            hi = Math.max(hi, v);
                        }
                    }
                }
                scales[c] = new ViridisPaintScale(Double.isFinite(lo) ? lo : 0, hi > lo ? hi : (Double.isFinite(lo) ? lo : 0) + 1);
            } else {
                scales[c] = scales[0];
            }
        }
        List<DomContent> rows = new ArrayList<>();
        for (int row = 0; row < Math.min(m.rows().size(), MAX_ROWS); row++) {
            List<DomContent> cells = new ArrayList<>();
            cells.add(th(axisLabel(m, m.rows(), row)));
            for (int c = 0; c < cols; c++) {
                double v = m.get(row, c);
                java.awt.Color bg = Double.isFinite(v) ? (java.awt.Color) scales[c].getPaint(v) : ViridisPaintScale.MISSING;
                double luminance = 0.299 * bg.getRed() + 0.587 * bg.getGreen() + 0.114 * bg.getBlue();
                cells.add(td(Charts.number(v)).attr("data-v", sortKey(v)).withClass("num heat")
                        .withStyle(String.format(Locale.ROOT, "background:#%02x%02x%02x;color:%s", bg.getRed(), bg.getGreen(),
                                bg.getBlue(), luminance > 140 ? "#111" : "#fff")));
            }
            rows.add(tr(cells.toArray(new DomContent[0])));
        }
        return join(p(join(text(m.rows().name() + " × " + m.cols().name()), text(m.unit().isEmpty() ? "" : ", " + m.unit()),
                        text(cols < m.cols().size() ? " (first " + cols + " of " + m.cols().size() + " columns)" : ""),
                        text(perColumn ? "; colours scaled per column" : ""),
                        text(m.description().isEmpty() ? "" : " — " + m.description()))).withClass("muted small"),
                sortable(head, rows, m.rows().size() + " rows"));
    }

    DomContent inputMaps(InputMaps im) {
        return mapPictures(im, 24);
    }

    /** The first {@code most} maps as pictures (over their inputs when the part has them), with the legend. */
    DomContent mapPictures(InputMaps im, int most) {
        List<Integer> first = new ArrayList<>();
        for (int i = 0; i < Math.min(im.exampleIds().size(), most); i++) {
            first.add(i);
        }
        return mapPictures(im, first);
    }

    /**
     * The maps of a feature visualization for one neuron: the producer names each optimized input
     * {@code LAYER-NEURON-IMAGE} ({@code feature-visualization}'s {@code optimized} part).
     *
     * @return the indices of the neuron's maps, in order; empty when the part has none of it
     */
    static List<Integer> optimizedFor(InputMaps im, NeuronRef n) {
        String prefix = n.layer() + "-" + n.neuron() + "-";
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < im.exampleIds().size(); i++) {
            String id = im.exampleIds().get(i);
            if (id.startsWith(prefix) && id.length() > prefix.length() && id.substring(prefix.length()).chars().allMatch(Character::isDigit)) {
                out.add(i);
            }
        }
        return out;
    }

    /** The chosen maps as pictures (over their inputs when the part has them), with the legend. */
    DomContent mapPictures(InputMaps im, List<Integer> chosen) {
        List<DomContent> pics = new ArrayList<>();
        int[] s = im.maps().data().shape();
        if (s.length >= 3) {
            int h = s[1];
            int w = s[2];
            int c = s.length == 4 ? s[3] : 1;
            float[] all = im.maps().data().floats();
            float[] inputs = im.inputs() == null ? null : im.inputs().data().floats();
            for (int i : chosen) {
                float[] sum = channelSum(all, i, h * w, c, false);
                BufferedImage pic = inputs == null ? Images.heatmap(sum, h, w, 3)
                        : Images.overlay(channelSum(inputs, i, h * w, c, true), sum, h, w, 3);
                pics.add(figure(img().withSrc(png(pic)).withAlt(im.exampleIds().get(i)),
                        figcaption(im.exampleIds().get(i))).withClass("map"));
            }
        }
        return join(p("target: " + im.target() + (im.description().isEmpty() ? "" : " — " + im.description())
                        + (pics.isEmpty() ? "" : im.inputs() == null ? "; red positive, blue negative, each map scaled to its largest |value|"
                        : "; over the input in grey: red positive, blue negative, each map scaled to its largest |value|")).withClass("muted small"),
                pics.isEmpty() ? p("maps of shape " + java.util.Arrays.toString(s) + " are not drawn as pictures").withClass("muted")
                        : div(pics.toArray(new DomContent[0])).withClass("maps"));
    }

    /** @return example {@code i}'s {@code hw} values, each the sum (or the mean) over its {@code c} channels */
    private static float[] channelSum(float[] all, int i, int hw, int c, boolean mean) {
        float[] out = new float[hw];
        for (int k = 0; k < hw; k++) {
            float acc = 0;
            for (int ch = 0; ch < c; ch++) {
                acc += all[(i * hw + k) * c + ch];
            }
            out[k] = mean ? acc / c : acc;
        }
        return out;
    }

    /** Pictures written by a visualizer step. */
    DomContent figures(VisualizerContext<?> ctx, StepOutput s) {
        List<DomContent> out = new ArrayList<>();
        for (Artifact a : s.artifacts()) {
            if (a.mediaType().startsWith("image/")) {
                try {
                    byte[] bytes = ctx.read(a);
                    out.add(figure(img().withSrc("data:" + a.mediaType() + ";base64," + Base64.getEncoder().encodeToString(bytes))
                            .withAlt(a.title()), figcaption(a.title())));
                } catch (RuntimeException e) {
                    out.add(error("picture " + a.file() + " of step '" + s.stepId() + "'", e));
                }
            } else {
                out.add(p(a(a.title()).withHref(Html.encodePath(a.file()))));
            }
        }
        return div(h3(join(s.stepId(), small(s.extension()))),
                fold(s.artifacts().size() + " picture" + (s.artifacts().size() == 1 ? "" : "s"), s.artifacts().size() <= 4,
                        div(out.toArray(new DomContent[0])).withClass("figs"))).withId(stepAnchor(s.stepId()));
    }

    // ---- shared pieces ---------------------------------------------------------------------------------------

    /** @return the first example set (with images, largest first) among the inputs for the neuron's layer */
    Optional<ExampleSet> exampleSetFor(NeuronRef n) {
        for (StepOutput s : inputs) {
            if (s.result().isEmpty()) {
                continue;
            }
            for (ExampleSet e : s.result().get().parts(ExampleSet.class)) {
                if (e.layer().equals(n.layer()) && e.order().equals("top") && (e.inputs() != null || hasText(e))
                        && e.of(n.neuron()).isPresent()) {
                    return Optional.of(e);
                }
            }
        }
        return Optional.empty();
    }

    /** @return true when the set's examples are text with token contexts */
    static boolean hasText(ExampleSet e) {
        return e.neurons().stream().flatMap(n -> n.examples().stream()).anyMatch(x -> x.text() != null);
    }

    /**
     * One neuron's text examples as lines of highlighted text: each token shaded by the neuron's value on it (warm
     * for positive, cool for negative, relative to the largest magnitude among the lines shown), the token that
     * fired underlined, the value on the right.
     */
    DomContent contexts(ExampleSet e, int neuron, int max, String title) {
        List<ExampleSet.Example> ex = e.of(neuron).map(ExampleSet.NeuronExamples::examples).orElse(List.of()).stream()
                .filter(x -> x.text() != null).limit(max).toList();
        double scale = 0;
        for (ExampleSet.Example x : ex) {
            for (float v : x.text().values()) {
                if (Float.isFinite(v)) {
                    scale = Math.max(scale, Math.abs(v));
                }
            }
        }
        List<DomContent> lines = new ArrayList<>();
        for (ExampleSet.Example x : ex) {
            lines.add(div(span(Charts.number(x.value())).withClass("tv num"), highlighted(x.text(), scale),
                    span(" " + x.exampleId() + (x.label() == null ? "" : " · " + label(x.label(), e.classNames())))
                            .withClass("muted small")).withClass("tline"));
        }
        return div(title == null ? null : p(title).withClass("small muted"), div(lines.toArray(new DomContent[0])))
                .withClass("texts");
    }

    /** The window's pieces as spans shaded by value; the text is escaped by the HTML builder. */
    static DomContent highlighted(ExampleSet.TextContext t, double scale) {
        List<DomContent> spans = new ArrayList<>();
        float[] values = t.values();
        if (t.first() > 0) {
            spans.add(span("\u2026").withClass("muted"));
        }
        for (int i = 0; i < t.pieces().size(); i++) {
            String piece = t.pieces().get(i);
            int lead = 0;
            while (lead < piece.length() && Character.isWhitespace(piece.charAt(lead))) {
                lead++;
            }
            float v = values[i];
            String style = "";
            if (Float.isFinite(v) && scale > 0 && v != 0) {
                double a = Math.min(1, Math.abs(v) / scale) * 0.85;
                style = v > 0 ? String.format(Locale.ROOT, "background: rgba(230, 85, 13, %.2f)", a)
                        : String.format(Locale.ROOT, "background: rgba(49, 130, 189, %.2f)", a);
            }
            if (lead > 0) {
                spans.add(text(piece.substring(0, lead)));
            }
            spans.add(span(piece.substring(lead)).withClass(i == t.focus() ? "tok focus" : "tok")
                    .withCondStyle(!style.isEmpty(), style).attr("title", Float.isNaN(v) ? "not observed" : Charts.number(v)));
        }
        return span(spans.toArray(new DomContent[0])).withClass("ttext");
    }

    /** One neuron's examples as one row of pictures, with values and labels under each. */
    DomContent strip(ExampleSet e, int neuron, int cell, String title) {
        TopActivationsGridVisualizer.Grid grid = TopActivationsGridVisualizer.Grid.of(e, List.of(neuron), 1);
        BufferedImage image = TopActivationsGridVisualizer.draw(grid, title, cell, null, true);
        return img().withSrc(png(image)).withAlt(title).withClass("strip");
    }

    /** @return false when every kept example of the neuron has the same value (a dead neuron's "top" examples) */
    static boolean informative(ExampleSet e, int neuron) {
        List<ExampleSet.Example> ex = e.of(neuron).map(ExampleSet.NeuronExamples::examples).orElse(List.of());
        return ex.stream().mapToDouble(ExampleSet.Example::value).distinct().count() > 1;
    }

    static String png(BufferedImage image) {
        return "data:image/png;base64," + Base64.getEncoder().encodeToString(TopActivationsGridVisualizer.png(image, "picture"));
    }

    DomContent neuronLink(NeuronRef n, String text) {
        return cards.contains(n) ? a(text).withHref("#" + neuronAnchor(n)) : text(text);
    }

    DomContent neuronList(List<NeuronRef> neurons, int max) {
        List<DomContent> out = new ArrayList<>();
        for (NeuronRef n : neurons.subList(0, Math.min(max, neurons.size()))) {
            out.add(join(neuronLink(n, n.toString()), text(" ")));
        }
        if (neurons.size() > max) {
            out.add(text("and " + (neurons.size() - max) + " more"));
        }
        return join(out.toArray(new Object[0]));
    }

    DomContent neuronIndexList(String layer, List<Integer> neurons, int max) {
        List<DomContent> out = new ArrayList<>();
        for (int n : neurons.subList(0, Math.min(max, neurons.size()))) {
            out.add(join(neuronLink(new NeuronRef(layer, n), "#" + n), text(" ")));
        }
        if (neurons.size() > max) {
            out.add(text("and " + (neurons.size() - max) + " more"));
        }
        return join(out.toArray(new Object[0]));
    }

    static String label(Integer label, List<String> classes) {
        if (label == null) {
            return "";
        }
        return label >= 0 && label < classes.size() ? classes.get(label) : String.valueOf(label);
    }

    private static String axisLabel(Matrix m, Matrix.Axis axis, int i) {
        return axis.name().equals("neuron") ? "#" + axis.labels().get(i) : axis.labels().get(i);
    }

    /** A table with sort buttons on its headers and a filter box, folded when long, its row count shown. */
    static DomContent sortable(List<DomContent> head, List<DomContent> rows, String count) {
        String id = "t" + TABLES.incrementAndGet();
        DomContent t = scroll(table(j2html.TagCreator.thead(tr(head.toArray(new DomContent[0]))),
                tbody(rows.toArray(new DomContent[0]))).withClass("grid sortable").withId(id));
        DomContent filter = rows.size() > 8 ? input().withType("search").withClass("filter").attr("data-table", id)
                .attr("placeholder", "filter rows") : null;
        return fold(count, rows.size() <= OPEN_ROWS, join(filter, t));
    }

    private static final java.util.concurrent.atomic.AtomicInteger TABLES = new java.util.concurrent.atomic.AtomicInteger();

    static DomContent fold(String label, boolean open, DomContent body) {
        return open ? details(summary(label), body).attr("open") : details(summary(label), body);
    }

    static DomContent scroll(DomContent table) {
        return div(table).withClass("scroll");
    }

    static DomContent num(long v) {
        return td(String.valueOf(v)).attr("data-v", v).withClass("num");
    }

    /** A numeric sort key that keeps NaN at the bottom of an ascending sort and infinities in order. */
    static String sortKey(double v) {
        return Double.isNaN(v) ? "-1e308" : Double.isInfinite(v) ? (v > 0 ? "1e308" : "-1e307") : Double.toString(v);
    }

    static String shortList(Collection<?> items, int max) {
        List<String> s = items.stream().limit(max).map(String::valueOf).toList();
        return String.join(", ", s) + (items.size() > max ? " and " + (items.size() - max) + " more" : "");
    }

    /** A value as short text: scalars as they are, lists and maps cut to a few items. */
    static String shortValue(Object v) {
        if (v == null) {
            return "";
        }
        if (v instanceof Double d) {
            return Charts.number(d);
        }
        if (v instanceof Float f) {
            return Charts.number(f);
        }
        if (v instanceof Map<?, ?> m) {
            List<String> parts = new ArrayList<>();
            m.forEach((k, x) -> parts.add(k + "=" + shortValue(x)));
            return shortList(parts, 8);
        }
        if (v instanceof Collection<?> c) {
            return "[" + shortList(c.stream().map(PartViews::shortValue).toList(), 12) + "]";
        }
        String s = String.valueOf(v);
        return s.length() > 300 ? s.substring(0, 300) + "…" : s;
    }

    /** The summary of a result: scalars as a key/value table, lists of records as tables, the rest as short text. */
    static DomContent facts(Map<String, Object> summary) {
        List<DomContent> rows = new ArrayList<>();
        List<DomContent> tables = new ArrayList<>();
        for (Map.Entry<String, Object> e : summary.entrySet()) {
            Object v = e.getValue();
            if (v instanceof List<?> l && !l.isEmpty() && l.stream().allMatch(x -> x instanceof Map<?, ?>)) {
                Set<String> keys = new java.util.LinkedHashSet<>();
                l.forEach(x -> ((Map<?, ?>) x).keySet().forEach(k -> keys.add(String.valueOf(k))));
                tables.add(div(p(b(e.getKey())), scroll(table(j2html.TagCreator.thead(tr(each(keys, k -> th(k)))),
                        tbody(each(l, x -> tr(each(keys, k -> td(shortValue(((Map<?, ?>) x).get(k))))))))
                        .withClass("grid"))));
            } else if (v instanceof Map<?, ?> m && !m.isEmpty()) {
                m.forEach((k, x) -> rows.add(tr(th(e.getKey() + "." + k), td(shortValue(x)))));
            } else {
                rows.add(tr(th(e.getKey()), td(shortValue(v))));
            }
        }
        return join(scroll(table(tbody(rows.toArray(new DomContent[0]))).withClass("kv")), each(tables, x -> x));
    }

    DomContent error(String what, RuntimeException e) {
        String message = what + " could not be drawn: " + (e.getMessage() == null ? e.toString() : e.getMessage());
        errors.add(message);
        return p(message).withClass("error");
    }

    static String stepAnchor(String step) {
        return Html.id("step", step);
    }

    static String partAnchor(String step, String part) {
        return Html.id("part", step + "--" + part);
    }

    static String neuronAnchor(NeuronRef n) {
        return Html.id("neuron", n.layer() + "--" + n.neuron());
    }
}
