package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.InputMaps;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.visual.StepOutput;
import j2html.tags.DomContent;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static j2html.TagCreator.b;
import static j2html.TagCreator.div;
import static j2html.TagCreator.each;
import static j2html.TagCreator.h2;
import static j2html.TagCreator.h3;
import static j2html.TagCreator.join;
import static j2html.TagCreator.li;
import static j2html.TagCreator.p;
import static j2html.TagCreator.rawHtml;
import static j2html.TagCreator.small;
import static j2html.TagCreator.span;
import static j2html.TagCreator.table;
import static j2html.TagCreator.tbody;
import static j2html.TagCreator.td;
import static j2html.TagCreator.th;
import static j2html.TagCreator.tr;
import static j2html.TagCreator.ul;

/**
 * One card per neuron that a finding names or a ranking lists near its top: every column of every neuron table of
 * its layer, its tags, its histogram, its means per class or metadata value, its places in rankings and its top
 * examples, gathered from all steps, and the optimized inputs of a feature visualization next to the top real
 * examples. Tables and findings link to the cards.
 */
final class NeuronCards {

    /** Id suffix of a scorecard's neuron table ({@code <layer>-scorecard}). */
    static final String SCORECARD = "-scorecard";

    /** Entries of each ranking that get a card. */
    static final int PER_RANKING = 8;

    private final PartViews views;
    private final List<NeuronRef> neurons;
    private final int total;

    NeuronCards(PartViews views, List<PartViews.Located> findings, int max) {
        this.views = views;
        Set<NeuronRef> chosen = new LinkedHashSet<>();
        findings.forEach(f -> chosen.addAll(f.finding().neurons()));
        for (StepOutput s : views.inputs()) {
            s.result().ifPresent(r -> r.parts(Ranking.class).forEach(rk -> rk.entries().stream().limit(PER_RANKING)
                    .forEach(e -> chosen.add(e.neuron()))));
        }
        this.total = chosen.size();
        this.neurons = chosen.stream().limit(max).toList();
        views.cards(new LinkedHashSet<>(neurons));
    }

    boolean isEmpty() {
        return neurons.isEmpty();
    }

    DomContent section() {
        if (neurons.isEmpty()) {
            return null;
        }
        List<DomContent> cards = new ArrayList<>();
        for (NeuronRef n : neurons) {
            try {
                cards.add(card(n));
            } catch (RuntimeException e) {
                cards.add(views.error("card of " + n, e));
            }
        }
        return j2html.TagCreator.section(h2(join("Neurons", small(neurons.size() + " cards" + (total > neurons.size()
                        ? " (first " + neurons.size() + " of " + total + " ranked or flagged)" : "")))),
                div(cards.toArray(new DomContent[0])).withClass("cards")).withId("neurons");
    }

    private DomContent card(NeuronRef n) {
        List<DomContent> body = new ArrayList<>();
        List<DomContent> stats = new ArrayList<>();
        List<String> tags = new ArrayList<>();
        List<DomContent> ranks = new ArrayList<>();
        List<DomContent> scorecard = new ArrayList<>();
        List<DomContent> optimized = new ArrayList<>();
        for (StepOutput s : views.inputs()) {
            if (s.result().isEmpty()) {
                continue;
            }
            AnalysisResult r = s.result().get();
            for (NeuronTable t : r.parts(NeuronTable.class)) {
                if (!t.layer().equals(n.layer()) || n.neuron() >= t.neurons()) {
                    continue;
                }
                for (NeuronTable.Column c : t.columns()) {
                    double v = c.values().get(n.neuron());
                    stats.add(tr(th(s.stepId() + " " + c.name()), td(Charts.number(v) + (c.hasInterval() ? " ["
                            + Charts.number(c.low().get(n.neuron())) + ", " + Charts.number(c.high().get(n.neuron())) + "]" : ""))
                            .withClass("num")));
                }
                t.tags().stream().filter(g -> g.neurons().contains(n.neuron())).forEach(g -> tags.add(g.name()));
                if (t.id().endsWith(SCORECARD)) {
                    scorecard.add(scorecardRow(s.stepId(), t, n.neuron()));
                }
            }
            for (Matrix m : r.parts(Matrix.class)) {
                if (!n.layer().equals(m.layer())) {
                    continue;
                }
                if (Parts.isHistogram(m) && n.neuron() < m.rows().size()) {
                    double[] row = new double[m.cols().size()];
                    for (int c = 0; c < row.length; c++) {
                        row[c] = m.get(n.neuron(), c);
                    }
                    double[] e = m.cols().edges();
                    body.add(div(p(s.stepId() + ": histogram, " + Charts.number(e[0]) + " to " + Charts.number(e[e.length - 1]))
                            .withClass("small muted"), rawHtml(MiniSvg.bars(row, 300, 60, null))).withClass("mini"));
                } else if (Parts.isGroupByNeuron(m) && n.neuron() < m.cols().size()) {
                    double[] col = new double[m.rows().size()];
                    for (int k = 0; k < col.length; k++) {
                        col[k] = m.get(k, n.neuron());
                    }
                    body.add(div(p(s.stepId() + ": " + m.title()).withClass("small muted"),
                            rawHtml(MiniSvg.labelled(m.rows().labels().subList(0, Math.min(24, col.length)),
                                    java.util.Arrays.copyOf(col, Math.min(24, col.length)), 320))).withClass("mini"));
                }
            }
            for (InputMaps im : r.parts(InputMaps.class)) {
                // optimized inputs of this neuron (feature visualization), next to its top real examples
                List<Integer> mine = PartViews.optimizedFor(im, n);
                if (!mine.isEmpty()) {
                    optimized.add(div(p(s.stepId() + ": optimized inputs").withClass("small muted"),
                            views.mapPictures(im, mine)).withClass("optimized"));
                }
            }
            for (Ranking rk : r.parts(Ranking.class)) {
                for (int i = 0; i < rk.entries().size(); i++) {
                    Ranking.Entry e = rk.entries().get(i);
                    if (e.neuron().equals(n)) {
                        ranks.add(li(join(b("#" + (i + 1)), span(" of " + rk.entries().size() + " in " + s.stepId() + " · "
                                + rk.title() + ": " + Charts.number(e.score())
                                + (e.interval() == null ? "" : " " + PartViews.interval(e.interval()))
                                + (e.q() == null ? "" : ", q " + PartViews.pValue(e.q()))))));
                        break;
                    }
                }
            }
        }
        ExampleSet examples = views.exampleSetFor(n).orElse(null);
        return div(
                h3(join(n.toString(), tags.isEmpty() ? null : span(String.join(", ", tags)).withClass("tag"))),
                ranks.isEmpty() ? null : ul(each(ranks, x -> x)).withClass("small"),
                scorecard.isEmpty() ? null : div(scorecard.toArray(new DomContent[0])).withClass("scorecard"),
                examples == null || !PartViews.informative(examples, n.neuron()) ? null
                        : PartViews.hasText(examples) ? views.contexts(examples, n.neuron(), 5, "top contexts")
                        : views.strip(examples, n.neuron(), 32, "top inputs"),
                optimized.isEmpty() ? null : div(optimized.toArray(new DomContent[0])),
                div(body.toArray(new DomContent[0])).withClass("minis"),
                stats.isEmpty() ? null : PartViews.fold(stats.size() + " statistics", false,
                        table(tbody(stats.toArray(new DomContent[0]))).withClass("kv")))
                .withClass("card").withId(PartViews.neuronAnchor(n));
    }

    /**
     * The neuron's row of a scorecard as a small table: one line per method with its value and the disagreements
     * that involve it (the scorecard's tags of this neuron whose description names the column in its trailing
     * {@code [columns: a, b]}).
     */
    private static DomContent scorecardRow(String step, NeuronTable t, int neuron) {
        List<DomContent> rows = new ArrayList<>();
        rows.add(tr(th("method"), th("value"), th("flag")));
        for (NeuronTable.Column c : t.columns()) {
            List<String> flags = new ArrayList<>();
            for (NeuronTable.Tag g : t.tags()) {
                if (g.neurons().contains(neuron) && comparedColumns(g.description()).contains(c.name())) {
                    flags.add(g.name());
                }
            }
            double v = c.values().get(neuron);
            rows.add(tr(td(c.name()), td(Double.isNaN(v) ? "not looked at" : Charts.number(v)).withClass("num"),
                    td(String.join(", ", flags))));
        }
        return div(p(step + ": scorecard").withClass("small muted"), table(tbody(rows.toArray(new DomContent[0]))).withClass("kv"));
    }

    /** @return the column names of a tag description's trailing {@code [columns: a, b]}, or none */
    static List<String> comparedColumns(String description) {
        int at = description.lastIndexOf("[columns: ");
        if (at < 0 || !description.endsWith("]")) {
            return List.of();
        }
        return List.of(description.substring(at + "[columns: ".length(), description.length() - 1).split(", "));
    }
}
