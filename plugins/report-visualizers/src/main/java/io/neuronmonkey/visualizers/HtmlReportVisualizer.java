package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.api.visual.Visualizer;
import io.neuronmonkey.api.visual.VisualizerContext;
import j2html.tags.DomContent;
import org.pf4j.Extension;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static j2html.TagCreator.a;
import static j2html.TagCreator.body;
import static j2html.TagCreator.div;
import static j2html.TagCreator.document;
import static j2html.TagCreator.each;
import static j2html.TagCreator.footer;
import static j2html.TagCreator.h1;
import static j2html.TagCreator.h2;
import static j2html.TagCreator.head;
import static j2html.TagCreator.header;
import static j2html.TagCreator.html;
import static j2html.TagCreator.main;
import static j2html.TagCreator.meta;
import static j2html.TagCreator.nav;
import static j2html.TagCreator.p;
import static j2html.TagCreator.rawHtml;
import static j2html.TagCreator.script;
import static j2html.TagCreator.section;
import static j2html.TagCreator.small;
import static j2html.TagCreator.style;
import static j2html.TagCreator.title;

/**
 * The self-contained HTML report, findings first. The page, top to bottom: what was found (every step's findings,
 * warnings first, each with its number, interval and evidence pictures inline); one section per analysis step, every
 * typed part drawn by its kind (tables sortable and filterable, lines and bars as SVG, example grids as PNG); the
 * pictures of visualizer steps; one card per ranked or flagged neuron; then configuration, model, data and, folded,
 * provenance. Results are read only through the result vocabulary, so a new analyzer appears with no code here.
 * <p>
 * A part that cannot be drawn is shown as an error box and fails the step after the page is written: a broken
 * section is never reported as completed.
 */
@Extension
@ExtensionName(value = "html-report",
        description = "One self-contained report.html: findings first, every result part, neuron cards, figures, provenance")
public class HtmlReportVisualizer implements Visualizer<HtmlReportVisualizer.Params> {

    /**
     * Params of {@code html-report}.
     *
     * @param title    page title; the experiment name when absent
     * @param maxCards most neuron cards
     */
    public record Params(
            @Param(description = "page title; the experiment name when absent") String title,
            @Param(defaultValue = "60", description = "most neuron cards (ranked and flagged neurons), 0 to 1000") int maxCards) {

        /** Validates every param at once. */
        public Params {
            Violations.check()
                    .require(title == null || !title.isBlank(), "title", "must not be blank when given")
                    .require(maxCards >= 0 && maxCards <= 1000, "maxCards", "must be 0 to 1000, found " + maxCards)
                    .throwIfAny();
        }
    }

    /** Creates the visualizer; PF4J needs the public no-arg constructor. */
    public HtmlReportVisualizer() {
    }

    @Override
    public void render(VisualizerContext<Params> ctx) {
        Report report = new Report(ctx);
        String page = report.page();
        ctx.publish("report.html", page.getBytes(StandardCharsets.UTF_8), "report: " + report.title, "text/html");
        if (!report.views.errors().isEmpty()) {
            throw new OutputException("report.html was written, but " + report.views.errors().size()
                    + " section(s) could not be drawn: " + String.join("; ", report.views.errors()));
        }
    }

    /** One page being built. */
    static final class Report {
        final VisualizerContext<Params> ctx;
        final String title;
        final PartViews views;
        final List<StepOutput> analyses;
        final List<StepOutput> figures;

        Report(VisualizerContext<Params> ctx) {
            this.ctx = ctx;
            this.title = ctx.params().title() != null ? ctx.params().title()
                    : ctx.run().experiment() == null || ctx.run().experiment().isBlank() ? "NeuronMonkey report"
                    : ctx.run().experiment();
            this.analyses = ctx.inputs().stream().filter(s -> s.result().isPresent()).toList();
            this.figures = ctx.inputs().stream().filter(s -> !s.artifacts().isEmpty()).toList();
            this.views = new PartViews(ctx.inputs());
        }

        /** The page: its structure at a glance. */
        String page() {
            List<PartViews.Located> findings = views.findings(ctx.run().findings());
            NeuronCards cards = new NeuronCards(views, findings, ctx.params().maxCards());
            return document(html(
                    head(meta().withCharset("utf-8"),
                            meta().withName("viewport").withContent("width=device-width, initial-scale=1"),
                            title(title),
                            style(rawHtml(resource("report.css")))),
                    body(
                            header(h1(title), Runs.outcome(ctx.run(), ctx.stepId()),
                                    nav(a("Findings").withHref("#findings"),
                                            each(analyses, s -> a(s.stepId()).withHref("#" + PartViews.stepAnchor(s.stepId()))),
                                            figures.isEmpty() ? null : a("Figures").withHref("#figures"),
                                            cards.isEmpty() ? null : a("Neurons").withHref("#neurons"),
                                            a("Configuration").withHref("#config"), a("Model").withHref("#model"),
                                            a("Data").withHref("#data"), a("Provenance").withHref("#provenance"))),
                            main(
                                    findingsSection(findings),
                                    each(analyses, views::stepSection),
                                    figures.isEmpty() ? null : section(h2("Figures"), each(figures, s -> views.figures(ctx, s)))
                                            .withId("figures"),
                                    cards.section(),
                                    Runs.config(ctx.run()),
                                    Runs.model(ctx.run()),
                                    Runs.data(ctx.run()),
                                    Runs.provenance(ctx.run(), ctx.stepId())),
                            footer("Self-contained page: styles, scripts and pictures are embedded; other files are "
                                    + "linked relative to the run folder."),
                            script(rawHtml(resource("report.js")))))).replace("<html>", "<html lang=\"en\">");
        }

        DomContent findingsSection(List<PartViews.Located> findings) {
            List<DomContent> items = new ArrayList<>();
            for (PartViews.Located f : findings) {
                items.add(views.finding(f, items.size() < PartViews.INLINE_EVIDENCE));
            }
            DomContent body = findings.isEmpty()
                    ? p("No step made a finding. The sections below hold every result.").withClass("muted")
                    : div(items.toArray(new DomContent[0])).withClass("findings");
            return section(h2(join("Findings ", small(findings.size() + " from " + analyses.size() + " analysis step"
                    + (analyses.size() == 1 ? "" : "s")))), body).withId("findings");
        }
    }

    private static DomContent join(Object... parts) {
        return j2html.TagCreator.join(parts);
    }

    /**
     * @param name a file next to this class
     * @return its text
     */
    static String resource(String name) {
        try (InputStream in = Objects.requireNonNull(HtmlReportVisualizer.class.getResourceAsStream(name), name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
