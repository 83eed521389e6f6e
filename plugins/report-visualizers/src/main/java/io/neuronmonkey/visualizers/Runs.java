package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.visual.RunSummary;
import j2html.tags.DomContent;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static j2html.TagCreator.code;
import static j2html.TagCreator.details;
import static j2html.TagCreator.each;
import static j2html.TagCreator.h2;
import static j2html.TagCreator.p;
import static j2html.TagCreator.pre;
import static j2html.TagCreator.section;
import static j2html.TagCreator.span;
import static j2html.TagCreator.summary;
import static j2html.TagCreator.table;
import static j2html.TagCreator.tbody;
import static j2html.TagCreator.td;
import static j2html.TagCreator.th;
import static j2html.TagCreator.thead;
import static j2html.TagCreator.tr;

/** The run's own sections: how it stands, configuration, model, data and provenance. */
final class Runs {

    private Runs() {
    }

    /**
     * @param run     the run
     * @param current the report's own step id
     * @return one line: how many steps ended how, the failures named, and the run's key facts
     */
    static DomContent outcome(RunSummary run, String current) {
        List<RunSummary.StepState> earlier = new ArrayList<>();
        for (RunSummary.StepState s : run.steps()) {
            if (s.id().equals(current)) {
                break;
            }
            earlier.add(s);
        }
        long completed = earlier.stream().filter(s -> s.state().equals("completed")).count();
        List<String> bad = earlier.stream().filter(s -> !s.state().equals("completed"))
                .map(s -> s.id() + " " + s.state() + (s.error() == null ? "" : ": " + s.error())).toList();
        List<String> facts = new ArrayList<>();
        facts.add(run.steps().isEmpty() ? "run state not recorded"
                : completed + " of " + earlier.size() + " step" + (earlier.size() == 1 ? "" : "s") + " before this report completed");
        Object started = run.provenance().get("startedAt");
        if (started != null) {
            String t = String.valueOf(started);
            facts.add("started " + (t.length() > 19 && t.charAt(10) == 'T' ? t.substring(0, 10) + " " + t.substring(11, 19) + " UTC" : t));
        }
        Object seed = run.provenance().get("seed");
        if (seed != null) {
            facts.add("seed " + seed);
        }
        run.data().forEach((k, d) -> facts.add(k + ": " + (d.size() < 0 ? "?" : d.size()) + " examples"));
        return p(span(String.join(" \u00b7 ", facts)), bad.isEmpty() ? null
                : span(" \u00b7 not completed: " + String.join("; ", bad)).withClass("bad")).withClass("sub");
    }

    static DomContent config(RunSummary run) {
        String yaml = run.configYaml();
        return section(h2("Experiment configuration"), yaml == null || yaml.isBlank()
                ? p("No configuration text recorded.").withClass("muted")
                : details(summary("experiment YAML (" + yaml.lines().count() + " lines)"), pre(yaml).withClass("yaml")))
                .withId("config");
    }

    static DomContent model(RunSummary run) {
        List<LayerInfo> layers = run.layers();
        return section(h2("Model"),
                run.modelDescription() == null || run.modelDescription().isBlank() ? null
                        : pre(run.modelDescription()).withClass("desc"),
                layers.isEmpty() ? p("No model layers recorded.").withClass("muted")
                        : PartViews.fold(layers.size() + " layers", layers.size() <= 20,
                        PartViews.scroll(table(thead(tr(th("layer"), th("op"), th("shape"), th("neurons").withClass("num"), th("role"))),
                                tbody(each(layers, l -> tr(td(code(l.name())), td(l.opType()), td(Arrays.toString(l.shape())),
                                        PartViews.num(l.neurons()),
                                        td(l.role() == null ? "" : l.role().name().toLowerCase(Locale.ROOT))))))
                                .withClass("grid sortable")))).withId("model");
    }

    static DomContent data(RunSummary run) {
        Map<String, DatasetInfo> data = new TreeMap<>(run.data());
        return section(h2("Data"), data.isEmpty() ? p("No data sets.").withClass("muted")
                : PartViews.scroll(table(thead(tr(th("data set"), th("examples").withClass("num"), th("example shape"), th("classes"))),
                tbody(each(data.entrySet(), e -> tr(td(code(e.getKey())), PartViews.num(e.getValue().size()),
                        td(Arrays.toString(e.getValue().exampleShape())),
                        td(e.getValue().classNames().isEmpty() ? "no labels"
                                : e.getValue().classNames().size() + ": " + PartViews.shortList(e.getValue().classNames(), 12))))))
                .withClass("grid")))
                .withId("data");
    }

    static DomContent provenance(RunSummary run, String current) {
        Map<String, Object> flat = new LinkedHashMap<>();
        flatten("", run.provenance(), flat);
        if (!run.steps().isEmpty()) {
            // provenance.json is final only after the last step; the report says how the steps it follows ended
            StringBuilder state = new StringBuilder("when this report was written: ");
            for (RunSummary.StepState s : run.steps()) {
                state.append(s.id()).append(' ').append(s.id().equals(current) ? "(this report)" : s.state()).append("; ");
            }
            flat.put("status", state.substring(0, state.length() - 2) + " (the final state is in provenance.json)");
        }
        return section(h2("Provenance"), flat.isEmpty() ? p("No provenance recorded.").withClass("muted")
                : details(summary("versions, hashes, seeds, timings (" + flat.size() + " entries)"),
                PartViews.scroll(table(tbody(each(flat.entrySet(), e -> tr(th(e.getKey()), td(PartViews.shortValue(e.getValue()))))))
                        .withClass("kv")))).withId("provenance");
    }

    /** Flattens nested maps to dotted keys, sorted; lists get indexed keys unless all their items are scalars. */
    static void flatten(String prefix, Object value, Map<String, Object> out) {
        if (value instanceof Map<?, ?> m && !m.isEmpty()) {
            Map<String, Object> sorted = new TreeMap<>();
            m.forEach((k, v) -> sorted.put(String.valueOf(k), v));
            sorted.forEach((k, v) -> flatten(prefix.isEmpty() ? k : prefix + "." + k, v, out));
        } else if (value instanceof List<?> l && !l.isEmpty() && l.stream().anyMatch(x -> x instanceof Map || x instanceof List)) {
            for (int i = 0; i < l.size(); i++) {
                flatten(prefix + "[" + i + "]", l.get(i), out);
            }
        } else if (!prefix.isEmpty()) {
            out.put(prefix, value);
        }
    }
}
