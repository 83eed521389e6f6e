package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import org.htmlunit.WebClient;
import org.htmlunit.html.DomElement;
import org.htmlunit.html.HtmlAnchor;
import org.htmlunit.html.HtmlPage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code run --live} and {@code train --live} end to end: the real launcher with a small quickstart and a small
 * training. The page is driven by HtmlUnit, whose EventSource is a stub that never connects: there the page falls
 * back to polling {@code /snapshot}, the same events as one array; the event stream itself is read with the JDK's
 * HTTP client (and, with the page's EventSource, by a real browser: see the README).
 */
class LivePageTest {

    private static final Pattern URL = Pattern.compile("live view: (http://127\\.0\\.0\\.1:(\\d+)/\\?token=([0-9a-f]{32}))");

    @TempDir
    Path work;

    /** The shipped experiment with its counts capped and its model path made absolute. */
    private Path small(String name, int count) throws IOException {
        Path yaml = Launcher.ROOT.resolve("experiments").resolve(name);
        String text = Files.readString(yaml).replaceAll("count: \\d+", "count: " + count)
                .replaceAll("path: (models/\\S+)", "path: " + yaml.getParent() + "/$1")
                .replaceAll("output: (\\S+)", "output: " + work.resolve("trained"))
                .replaceAll("epochs: \\d+", "epochs: 1");
        return Files.writeString(work.resolve(name), text);
    }

    private static Matcher awaitUrl(Launcher.Started s) throws Exception {
        for (int i = 0; i < 600; i++) {
            Matcher m = URL.matcher(s.err());
            if (m.find()) {
                return m;
            }
            assertTrue(s.process().isAlive(), "the launcher ended before printing the live view's address: " + s.err());
            Thread.sleep(100);
        }
        throw new AssertionError("no live view address printed: " + s.err());
    }

    private static String text(HtmlPage page, String id) {
        return page.getElementById(id).asNormalizedText();
    }

    @Test
    void thePageFollowsARunShowsTheFinalStateAndLinksTheReport() throws Exception {
        Path out = work.resolve("run");
        Launcher.Started s = Launcher.start(work, "run", small("quickstart.yaml", 3000).toString(), "--out", out.toString(),
                "--threads", "2", "--live", "--keep");
        try (WebClient wc = new WebClient()) {
            Matcher m = awaitUrl(s);
            String url = m.group(1);
            String base = "http://127.0.0.1:" + m.group(2);
            HtmlPage page = wc.getPage(url);
            boolean seenRunning = false;
            for (int i = 0; i < 2400 && !text(page, "status").matches("completed|failed|interrupted"); i++) {
                wc.waitForBackgroundJavaScript(50);
                seenRunning |= text(page, "status").equals("running")
                        && !page.getElementById("progress").getElementsByTagName("div").isEmpty();
                Thread.sleep(50);
            }
            assertTrue(seenRunning, "the page showed the run under way before its end: " + s.err());
            assertEquals("completed", text(page, "status"), page.asNormalizedText() + "\n" + s.err());
            assertTrue(page.getTitleText().contains("quickstart"), page.getTitleText());

            // every step completed, each pass finished at 100%
            for (String step : List.of("census", "top-examples", "watermark-hunt", "evaluate", "report")) {
                DomElement row = page.querySelector("tr[data-step='" + step + "']");
                assertTrue(row != null && row.asNormalizedText().contains("completed"), step + ": " + text(page, "steps"));
            }
            String progress = text(page, "progress");
            assertTrue(progress.contains("one pass over the examples of 'probe'") && progress.contains("3000 / 3000 (100%)")
                    && progress.contains("done"), progress);

            // the running census at the end of the pass agrees with the census step's own dead neurons (same rule:
            // mean over positions above 0) and counts every example
            RunFolder folder = new RunFolder(out);
            for (Map.Entry<String, Integer> l : Map.of("conv1", 8, "conv2", 16, "dense1", 32).entrySet()) {
                String layer = l.getKey();
                DomElement card = page.querySelector("div.layer[data-layer='" + layer + "']");
                assertTrue(card != null, text(page, "census"));
                int dead = folder.tag("census", layer + "-stats", "dead").size();
                int neurons = l.getValue();
                assertTrue(card.asNormalizedText().contains(dead + " of " + neurons + " never fired (dead)"),
                        layer + ": census says " + dead + " of " + neurons + " dead; page: " + card.asNormalizedText());
                long bars = java.util.stream.StreamSupport.stream(card.getDescendants().spliterator(), false)
                        .filter(d -> "rect".equals(d.getLocalName())).count();
                assertEquals(11, bars, "an SVG bar for not fired and one for each of ten rate bins");
            }
            assertTrue(text(page, "census").contains("3000 examples (complete)"), text(page, "census"));

            // the end links the report, served from the run folder under the same token
            HtmlAnchor link = (HtmlAnchor) page.getElementById("report-link");
            assertTrue(link != null, page.asNormalizedText());
            HtmlPage report = wc.getPage(page.getFullyQualifiedUrl(link.getHrefAttribute()));
            assertEquals(200, report.getWebResponse().getStatusCode());
            assertEquals(Files.readString(out.resolve("report.html"), StandardCharsets.UTF_8).length(),
                    report.getWebResponse().getContentAsString().length());

            // the same server, the same routes: without the token or with a wrong one, 403
            HttpClient http = HttpClient.newHttpClient();
            String wrong = m.group(3).substring(0, 31) + (m.group(3).endsWith("0") ? "1" : "0");
            for (String path : List.of("/", "/events", "/snapshot", "/run/report.html")) {
                assertEquals(403, http.send(HttpRequest.newBuilder(URI.create(base + path)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode(), path);
                assertEquals(403, http.send(HttpRequest.newBuilder(URI.create(base + path + "?token=" + wrong)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode(), path);
            }
            assertTrue(s.process().isAlive(), "--keep keeps the server after the run");
            assertTrue(s.err().contains("live view kept open (--keep)"), s.err());
        } finally {
            s.process().destroy();
            s.process().waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void trainingStreamsItsLossPerStepAndTheServerClosesAfterTheEnd() throws Exception {
        int count = 300;
        Launcher.Started s = Launcher.start(work, "train", small("train-shapes-cnn.yaml", count).toString(), "--live", "0");
        Matcher m = awaitUrl(s);
        String events = "http://127.0.0.1:" + m.group(2) + "/events?token=" + m.group(3);
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        HttpResponse<Stream<String>> r = http.send(HttpRequest.newBuilder(URI.create(events)).build(),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/event-stream"));
        List<Map<String, Object>> got = new ArrayList<>();
        try (Stream<String> lines = r.body()) {
            for (String line : (Iterable<String>) lines::iterator) {
                if (line.startsWith("data: ")) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> ev = RunFolder.JSON.readValue(line.substring(6), Map.class);
                    got.add(ev);
                    if ("end".equals(ev.get("type"))) {
                        break;
                    }
                }
            }
        }
        assertTrue(s.process().waitFor(120, TimeUnit.SECONDS), "without --keep the process ends by itself: " + s.err());
        assertEquals(0, s.process().exitValue(), s.err());
        Map<String, Object> end = got.get(got.size() - 1);
        assertEquals("completed", end.get("status"), got.toString());
        assertTrue(String.valueOf(end.get("message")).startsWith("model saved to "), end.toString());

        // the loss points, weighted by their batch sizes, make the epoch's mean loss that training.json records
        int batch = 64;
        List<Double> loss = new ArrayList<>();
        List<Long> steps = new ArrayList<>();
        for (Map<String, Object> ev : got) {
            if ("metric".equals(ev.get("type")) && "loss".equals(ev.get("name"))) {
                loss.add(((Number) ev.get("value")).doubleValue());
                steps.add(((Number) ev.get("step")).longValue());
            }
        }
        int nSteps = (count + batch - 1) / batch;
        assertEquals(nSteps, loss.size(), got.toString());
        for (int i = 0; i < nSteps; i++) {
            assertEquals(i + 1, steps.get(i));
        }
        double sum = 0;
        for (int i = 0; i < nSteps; i++) {
            sum += loss.get(i) * Math.min(batch, count - i * batch);
        }
        JsonNode report = RunFolder.JSON.readTree(work.resolve("trained").resolve("training.json").toFile());
        double epochLoss = report.get("metrics").get("lossPerEpoch").get(0).asDouble();
        assertEquals(epochLoss, sum / count, 1e-5 * Math.max(1, epochLoss));
        long accuracyPoints = got.stream().filter(e -> "batch accuracy".equals(e.get("name"))).count();
        assertEquals(nSteps, accuracyPoints);
        for (Map<String, Object> e : got) {
            if ("batch accuracy".equals(e.get("name"))) {
                double a = ((Number) e.get("value")).doubleValue();
                long step = ((Number) e.get("step")).longValue();
                int b = (int) Math.min(batch, count - (step - 1) * batch);
                // a batch accuracy is a count of hits over the batch
                assertEquals(Math.round(a * b), a * b, 1e-3, "accuracy " + a + " on " + b + " examples");
            }
        }
        // the progress of the training pass: every step, finished
        Map<String, Object> last = null;
        for (Map<String, Object> e : got) {
            if ("progress".equals(e.get("type")) && String.valueOf(e.get("task")).startsWith("training")) {
                last = e;
            }
        }
        assertTrue(last != null && Boolean.TRUE.equals(last.get("finished")) && ((Number) last.get("done")).intValue() == nSteps,
                String.valueOf(last));
    }
}
