package io.neuronmonkey.runtime.live;

import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.runtime.pipeline.RunListener;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The live page's server: loopback only, the token on every route, the event stream's replay and the census. */
class LiveServerTest {

    private static HttpURLConnection get(String url, String cookie) throws IOException {
        HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
        c.setConnectTimeout(5000);
        c.setReadTimeout(10000);
        if (cookie != null) {
            c.setRequestProperty("Cookie", cookie);
        }
        return c;
    }

    private static Map<String, Object> read(String json) throws IOException {
        return new ObjectMapper().readValue(json, new com.fasterxml.jackson.core.type.TypeReference<Map<String, Object>>() { });
    }

    private static String token(LiveServer s) {
        return s.url().substring(s.url().indexOf("token=") + 6);
    }

    @Test
    void bindsToLoopbackOnlyAndRefusesRequestsWithoutTheToken(@TempDir Path dir) throws Exception {
        try (LiveServer s = LiveServer.start(0)) {
            InetSocketAddress a = s.address();
            assertEquals(InetAddress.getByName("127.0.0.1"), a.getAddress());
            assertTrue(a.getPort() > 0);
            String base = "http://127.0.0.1:" + a.getPort();
            String token = token(s);
            assertTrue(token.matches("[0-9a-f]{32}"), token);
            assertEquals(base + "/?token=" + token, s.url());

            char last = token.charAt(31);
            String wrong = token.substring(0, 31) + (last == '0' ? '1' : '0');
            for (String path : List.of("/", "/events", "/snapshot", "/run/report.html", "/nothing")) {
                assertEquals(403, get(base + path, null).getResponseCode(), path + " without a token");
                assertEquals(403, get(base + path + "?token=" + wrong, null).getResponseCode(), path + " with a wrong token");
                assertEquals(403, get(base + path + "?token=", null).getResponseCode(), path + " with an empty token");
                assertEquals(403, get(base + path, "nm_live_" + a.getPort() + "=" + wrong).getResponseCode(), path + " with a wrong cookie");
            }

            HttpURLConnection page = get(s.url(), null);
            assertEquals(200, page.getResponseCode());
            assertTrue(page.getContentType().startsWith("text/html"));
            String cookie = page.getHeaderField("Set-Cookie");
            assertTrue(cookie.startsWith("nm_live_" + a.getPort() + "=" + token + ";") && cookie.contains("HttpOnly"), cookie);
            String html = new String(page.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String local = html.replace("http://www.w3.org/2000/svg", "");
            assertTrue(html.contains("new EventSource("), "the page listens to the event stream");
            for (String external : List.of("http://", "https://", "<script src", "<link", "@import", "url(")) {
                assertTrue(!local.contains(external), "the page is self-contained, yet has " + external);
            }

            // the run folder: served under the token (query or the page's cookie), nothing outside it
            Files.writeString(dir.resolve("report.html"), "<html>the report</html>");
            Files.writeString(dir.getParent().resolve("outside-" + a.getPort() + ".txt"), "secret");
            assertEquals(404, get(base + "/run/report.html?token=" + token, null).getResponseCode(), "no run folder yet");
            s.runDir(dir);
            HttpURLConnection rep = get(base + "/run/report.html", "nm_live_" + a.getPort() + "=" + token);
            assertEquals(200, rep.getResponseCode());
            assertEquals("<html>the report</html>", new String(rep.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            assertEquals(404, get(base + "/run/..%2Foutside-" + a.getPort() + ".txt?token=" + token, null).getResponseCode());
            assertEquals(404, get(base + "/run/%2e%2e/outside-" + a.getPort() + ".txt?token=" + token, null).getResponseCode());
        }
    }

    @Test
    void isNotReachableOnOtherAddressesOfTheMachine() throws Exception {
        List<InetAddress> others = new ArrayList<>();
        for (NetworkInterface ni : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress ad : Collections.list(ni.getInetAddresses())) {
                if (!ad.isLoopbackAddress() && ad instanceof Inet4Address) {
                    others.add(ad);
                }
            }
        }
        org.junit.jupiter.api.Assumptions.assumeFalse(others.isEmpty(), "the machine has no non-loopback IPv4 address");
        try (LiveServer s = LiveServer.start(0)) {
            for (InetAddress ad : others) {
                assertThrows(ConnectException.class, () -> {
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress(ad, s.address().getPort()), 3000);
                    }
                }, "connect to " + ad);
            }
        }
    }

    @Test
    void theEventStreamReplaysStatesThenTheLogWithTheEndLastThenGoesLive() throws Exception {
        try (LiveServer s = LiveServer.start(0)) {
            s.state("run", Map.of("type", "run", "name", "x"));
            s.append(Map.of("type", "metric", "name", "loss", "step", 1, "value", 0.5));
            s.state(LiveServer.END, Map.of("type", "end", "status", "completed"));
            s.state("run", Map.of("type", "run", "name", "y"));
            HttpURLConnection c = get("http://127.0.0.1:" + s.address().getPort() + "/events?token=" + token(s), null);
            assertEquals(200, c.getResponseCode());
            assertTrue(c.getContentType().startsWith("text/event-stream"), c.getContentType());
            try (BufferedReader in = new BufferedReader(new InputStreamReader(c.getInputStream(), StandardCharsets.UTF_8))) {
                List<Map<String, Object>> events = new ArrayList<>();
                while (events.size() < 3) {
                    String line = in.readLine();
                    if (line.startsWith("data: ")) {
                        events.add(read(line.substring(6)));
                    }
                }
                assertEquals("y", events.get(0).get("name"), "a state replaced by a later one is sent once, as it is now");
                assertEquals("metric", events.get(1).get("type"));
                assertEquals("end", events.get(2).get("type"));
                s.append(Map.of("type", "metric", "name", "loss", "step", 2, "value", 0.25));
                String line;
                do {
                    line = in.readLine();
                } while (!line.startsWith("data: "));
                assertEquals(0.25, ((Number) read(line.substring(6)).get("value")).doubleValue());
                HttpURLConnection snap = get("http://127.0.0.1:" + s.address().getPort() + "/snapshot?token=" + token(s), null);
                List<?> all = new ObjectMapper().readValue(snap.getInputStream(), List.class);
                assertEquals(4, all.size(), "the snapshot is the replay: " + all);
                assertEquals("y", ((Map<?, ?>) all.get(0)).get("name"));
                assertEquals(0.25, ((Number) ((Map<?, ?>) all.get(2)).get("value")).doubleValue());
                assertEquals("end", ((Map<?, ?>) all.get(3)).get("type"));
                s.close();
                assertEquals(null, drain(in), "closing the server ends the stream");
            }
        }
    }

    private static String drain(BufferedReader in) throws IOException {
        String line;
        while ((line = in.readLine()) != null) {
            if (line.startsWith("data: ")) {
                return line;
            }
        }
        return null;
    }

    @Test
    void theRunningCensusCountsWhatANaiveLoopCounts() throws IOException {
        try (LiveServer s = LiveServer.start(0)) {
            LiveRun run = new LiveRun(s, "run", "census");
            LayerInfo layer = new LayerInfo("conv", "Relu", new int[]{2, 4}, LayerInfo.Role.HIDDEN);
            RunListener.PassWatcher w = run.passStarted("probe", List.of(layer));
            java.util.Random rnd = new java.util.Random(7);
            int n = 5;
            int positions = 2;
            int c = 4;
            long[] fired = new long[c];
            long examples = 0;
            for (int b = 0; b < 3; b++) {
                float[] a = new float[n * positions * c];
                for (int i = 0; i < a.length; i++) {
                    int ch = i % c;
                    // channel 0 always above 0, channel 1 never, channels 2 and 3 random signs
                    a[i] = ch == 0 ? 1f + rnd.nextFloat() : ch == 1 ? -rnd.nextFloat() : (float) rnd.nextGaussian();
                }
                for (int i = 0; i < n; i++) {
                    for (int k = 0; k < c; k++) {
                        double sum = 0;
                        for (int p = 0; p < positions; p++) {
                            sum += a[(i * positions + p) * c + k];
                        }
                        if (sum / positions > 0) {
                            fired[k]++;
                        }
                    }
                }
                examples += n;
                List<String> ids = new ArrayList<>();
                List<Map<String, String>> meta = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    ids.add("e" + (b * n + i));
                    meta.add(Map.of());
                }
                Batch batch = new Batch(b * n, Tensor.ofFloats(new float[n], n, 1), null, ids, meta);
                w.accept(new ActivationBatch(batch, Map.of("conv", Tensor.ofFloats(a, n, positions, c))));
            }
            w.finished();
            long[] hist = new long[LiveRun.BINS];
            int notFired = 0;
            int alwaysOn = 0;
            for (int k = 0; k < c; k++) {
                if (fired[k] == 0) {
                    notFired++;
                } else {
                    hist[Math.min(LiveRun.BINS - 1, (int) ((double) fired[k] / examples * LiveRun.BINS))]++;
                    alwaysOn += fired[k] == examples ? 1 : 0;
                }
            }
            Map<String, Object> ev = read(s.lastState("census-0-conv"));
            assertNotNull(ev);
            assertEquals(1, notFired);
            assertEquals(notFired, ((Number) ev.get("notFired")).intValue());
            assertEquals(alwaysOn, ((Number) ev.get("alwaysOn")).intValue());
            assertEquals(15, ((Number) ev.get("examples")).intValue());
            assertEquals(true, ev.get("finished"));
            List<?> got = (List<?>) ev.get("histogram");
            for (int i = 0; i < LiveRun.BINS; i++) {
                assertEquals(hist[i], ((Number) got.get(i)).longValue(), "bin " + i);
            }
        }
    }
}
