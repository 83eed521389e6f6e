package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import org.htmlunit.WebClient;
import org.htmlunit.html.HtmlPage;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every experiment shipped in {@code experiments/} runs here, with small example counts: run experiments end with
 * every step completed, results and index valid against the schemas and a report that renders with no error and
 * whose scripts run; training experiments train (one short epoch) into a scratch folder. A new YAML file in
 * {@code experiments/} is picked up without touching this test.
 */
class ShippedExperimentsTest {

    @TempDir
    Path work;

    static List<Path> shipped() throws IOException {
        Path dir = Launcher.ROOT.resolve("experiments");
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> p.toString().endsWith(".yaml") && !p.toString().contains("/target/")
                    && !p.toString().contains("/src/")).sorted().toList();
        }
    }

    /** The experiment with its counts capped, its relative paths made absolute and training output moved to scratch. */
    Path small(Path yaml, int cap) throws IOException {
        String text = Files.readString(yaml);
        Matcher m = Pattern.compile("count: (\\d+)").matcher(text);
        StringBuilder b = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(b, "count: " + Math.min(cap, Integer.parseInt(m.group(1))));
        }
        m.appendTail(b);
        String dir = yaml.getParent().toString();
        String out = b.toString()
                .replaceAll("path: (models/\\S+)", "path: " + dir + "/$1")
                .replaceAll("series: (models/\\S+)", "series: " + dir + "/$1")
                .replaceAll("output: (\\S+)", "output: " + work.resolve("trained").resolve(yaml.getFileName().toString()))
                .replaceAll("epochs: \\d+", "epochs: 1")
                .replaceAll("killUnits: \\d+", "killUnits: 0")
                .replaceAll("hiddenUnits: \\[[^]]*]", "hiddenUnits: [32, 16]");
        return Files.writeString(work.resolve(yaml.getFileName()), out);
    }

    @TestFactory
    Stream<DynamicTest> everyShippedExperimentRuns() throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path yaml : shipped()) {
            String name = Launcher.ROOT.relativize(yaml).toString();
            tests.add(DynamicTest.dynamicTest(name, () -> {
                boolean training = Files.readString(yaml).contains("\ntrainer:");
                Path file = small(yaml, training ? 300 : 400);
                if (training) {
                    Launcher.Result r = Launcher.run(work, "train", file.toString());
                    assertEquals(0, r.code(), name + ": " + r.all());
                    return;
                }
                Path out = work.resolve("run-" + yaml.getFileName().toString().replace(".yaml", ""));
                Launcher.Result r = Launcher.run(work, "run", file.toString(), "--out", out.toString(), "--no-cache");
                assertEquals(0, r.code(), name + ": " + r.all());
                RunFolder run = new RunFolder(out);
                JsonNode prov = RunFolder.JSON.readTree(out.resolve("provenance.json").toFile());
                for (JsonNode s : prov.get("steps")) {
                    assertEquals("completed", s.get("state").asText(), name + ": " + s);
                }
                run.assertValidAgainstSchemas();
                if (Files.isRegularFile(out.resolve("report.html"))) {
                    try (WebClient wc = new WebClient()) {
                        HtmlPage page = run.report(wc);
                        assertEquals("findings", page.getElementsByTagName("section").get(0).getId(), name);
                    }
                }
            }));
        }
        assertTrue(tests.size() >= 4, "quickstart, compare-splits and the two training files: " + tests.size());
        return tests.stream();
    }

    @Test
    void compareSplitsReportChartsTheLargestShifts() throws Exception {
        Path yaml = small(Launcher.ROOT.resolve("experiments/compare-splits.yaml"), 600);
        Path out = work.resolve("compare");
        Launcher.Result r = Launcher.run(work, "run", yaml.toString(), "--out", out.toString(), "--no-cache");
        assertEquals(0, r.code(), r.all());
        // no evaluate step: the first pass over each labelled data set says its accuracy, once
        for (String data : List.of("train-like", "decorrelated")) {
            List<String> lines = r.err().lines().filter(l -> l.startsWith("accuracy on '" + data + "': ")).toList();
            assertEquals(1, lines.size(), data + ": " + r.err());
            assertTrue(lines.get(0).matches("accuracy on '" + data + "': 0\\.\\d{4} \\(\\d+ of 600\\), labels vs argmax of 'logits'"),
                    lines.get(0));
        }
        String html = Files.readString(out.resolve("report.html"));
        int part = html.indexOf("id=\"part-shift--shift-ranking\"");
        assertTrue(part > 0, "the shift ranking has a section");
        assertTrue(html.indexOf("<svg class=\"chart\"", part) > part, "with a chart");
        JsonNode first = new RunFolder(out).part("shift", "shift-ranking").get("entries").get(0);
        assertTrue(html.indexOf(first.get("layer").asText() + " #" + first.get("neuron").asInt()) > 0,
                "the largest shift is named: " + first);
    }
}
