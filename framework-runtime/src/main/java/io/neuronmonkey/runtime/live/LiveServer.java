package io.neuronmonkey.runtime.live;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.neuronmonkey.api.ConfigException;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The live page's server: the JDK's HTTP server bound to 127.0.0.1 only, every request checked for a random
 * 128-bit token (in the {@code token} query parameter, or the cookie the page sets so that a report's relative links
 * work); anything else gets 403. It serves the page ({@code /}), a Server-Sent Events stream of the run's events
 * ({@code /events}), the same events so far as one JSON array ({@code /snapshot}, which the page polls where a
 * browser has no working EventSource) and, once known, the files of the run folder ({@code /run/PATH}).
 * <p>
 * Events are JSON objects. A <em>state</em> event replaces the earlier one with the same key (the progress of a
 * pass, a layer's census), an <em>appended</em> event adds to a bounded log (curve points, thinned to every second
 * one when the log is full); a client that connects late first gets every state and the log (the {@link #END} state
 * last), then live events.
 */
public final class LiveServer implements AutoCloseable {

    /** Appended events kept for clients that connect later; beyond it every second one is dropped. */
    static final int LOG_LIMIT = 20_000;
    /** The key of the state event that says the run ended; replayed after everything else. */
    public static final String END = "end";
    private static final String CLOSE = "\u0000close";
    private static final long HEARTBEAT_SECONDS = 15;
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final HttpServer http;
    private final ExecutorService pool;
    private final String token;
    private final String cookie;
    private final byte[] page;
    private final Object lock = new Object();
    private final Map<String, String> states = new LinkedHashMap<>();
    private final List<String> log = new ArrayList<>();
    private final List<BlockingQueue<String>> clients = new CopyOnWriteArrayList<>();
    private volatile Path runDir;
    private volatile boolean closed;

    private LiveServer(HttpServer http, ExecutorService pool, String token, byte[] page) {
        this.http = http;
        this.pool = pool;
        this.token = token;
        this.cookie = "nm_live_" + http.getAddress().getPort();
        this.page = page;
    }

    /**
     * Starts a server on 127.0.0.1.
     *
     * @param port 0 for a free port, else 1..65535
     * @throws ConfigException when the port is out of range or taken
     */
    public static LiveServer start(int port) {
        if (port < 0 || port > 65535) {
            throw new ConfigException("--live " + port + ": the port must be 0 (any free port) or 1..65535");
        }
        byte[] page;
        try (InputStream in = LiveServer.class.getResourceAsStream("live.html")) {
            if (in == null) {
                throw new IllegalStateException("live.html is missing from the runtime");
            }
            page = in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        HttpServer http;
        try {
            http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        } catch (BindException e) {
            throw new ConfigException("--live " + port + ": port " + port + " on 127.0.0.1 is in use (" + e.getMessage()
                    + "); give another port, or --live 0 for any free one");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the live page's server: " + e.getMessage(), e);
        }
        byte[] t = new byte[16];
        new SecureRandom().nextBytes(t);
        AtomicInteger n = new AtomicInteger();
        ExecutorService pool = Executors.newCachedThreadPool(r -> {
            Thread th = new Thread(r, "nm-live-" + n.incrementAndGet());
            th.setDaemon(true);
            return th;
        });
        LiveServer server = new LiveServer(http, pool, HexFormat.of().formatHex(t), page);
        http.setExecutor(pool);
        http.createContext("/", server::handle);
        http.start();
        return server;
    }

    /** @return the address the server listens on (always the loopback address) */
    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** @return the page's address with its token, e.g. {@code http://127.0.0.1:PORT/?token=...} */
    public String url() {
        return "http://127.0.0.1:" + http.getAddress().getPort() + "/?token=" + token;
    }

    /** @param dir the run folder whose files {@code /run/PATH} serves from now on */
    public void runDir(Path dir) {
        this.runDir = dir.toAbsolutePath().normalize();
    }

    /** Sends a state event: it replaces the last one with the same key for clients that connect later. */
    public void state(String key, Map<String, Object> event) {
        String json = json(event);
        synchronized (lock) {
            states.remove(key);
            states.put(key, json);
            clients.forEach(q -> q.offer(json));
        }
    }

    /** Sends an appended event: it joins the bounded log replayed to clients that connect later. */
    public void append(Map<String, Object> event) {
        String json = json(event);
        synchronized (lock) {
            if (log.size() >= LOG_LIMIT) {
                List<String> kept = new ArrayList<>(LOG_LIMIT / 2 + 1);
                for (int i = 0; i < log.size(); i += 2) {
                    kept.add(log.get(i));
                }
                log.clear();
                log.addAll(kept);
            }
            log.add(json);
            clients.forEach(q -> q.offer(json));
        }
    }

    /** @return the last state event with this key as JSON, or null; what a client connecting now gets for it */
    String lastState(String key) {
        synchronized (lock) {
            return states.get(key);
        }
    }

    /** Every state, then the log, with the end last (a page may stop listening once it has it); call under the lock. */
    private List<String> replay() {
        List<String> out = new ArrayList<>(states.size() + log.size());
        states.forEach((k, v) -> {
            if (!k.equals(END)) {
                out.add(v);
            }
        });
        out.addAll(log);
        if (states.containsKey(END)) {
            out.add(states.get(END));
        }
        return out;
    }

    /** Ends every event stream and stops the server. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        clients.forEach(q -> q.offer(CLOSE));
        http.stop(1);
        pool.shutdownNow();
    }

    /** One line of JSON (a JSON string escapes its line breaks), as an SSE data line needs. */
    private static String json(Map<String, Object> event) {
        try {
            return MAPPER.writeValueAsString(event);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("cannot encode a live event: " + e.getMessage(), e);
        }
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            if (!authorized(ex)) {
                send(ex, 403, "text/plain; charset=utf-8",
                        "403 forbidden: this live page needs the token printed on the console (?token=...)\n"
                                .getBytes(StandardCharsets.UTF_8));
                return;
            }
            if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
                send(ex, 405, "text/plain; charset=utf-8", "405 only GET\n".getBytes(StandardCharsets.UTF_8));
                return;
            }
            String path = ex.getRequestURI().getPath();
            if (path.equals("/")) {
                ex.getResponseHeaders().add("Set-Cookie", cookie + "=" + token + "; Path=/; HttpOnly; SameSite=Strict");
                send(ex, 200, "text/html; charset=utf-8", page);
            } else if (path.equals("/events")) {
                stream(ex);
            } else if (path.equals("/snapshot")) {
                String events;
                synchronized (lock) {
                    events = "[" + String.join(",", replay()) + "]";
                }
                send(ex, 200, "application/json", events.getBytes(StandardCharsets.UTF_8));
            } else if (path.startsWith("/run/")) {
                file(ex, path.substring("/run/".length()));
            } else {
                send(ex, 404, "text/plain; charset=utf-8", "404 not found\n".getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            // the browser went away
        }
    }

    private boolean authorized(HttpExchange ex) {
        String query = ex.getRequestURI().getRawQuery();
        if (query != null) {
            for (String kv : query.split("&")) {
                if (kv.startsWith("token=")) {
                    return matches(URLDecoder.decode(kv.substring(6), StandardCharsets.UTF_8));
                }
            }
        }
        for (String header : ex.getRequestHeaders().getOrDefault("Cookie", List.of())) {
            for (String c : header.split(";")) {
                String kv = c.trim();
                if (kv.startsWith(cookie + "=")) {
                    return matches(kv.substring(cookie.length() + 1));
                }
            }
        }
        return false;
    }

    private boolean matches(String given) {
        return MessageDigest.isEqual(given.getBytes(StandardCharsets.UTF_8), token.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange ex, int code, String type, byte[] body) throws IOException {
        Headers h = ex.getResponseHeaders();
        h.set("Content-Type", type);
        h.set("Cache-Control", "no-store");
        h.set("X-Content-Type-Options", "nosniff");
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(code, head ? -1 : body.length);
        if (!head) {
            ex.getResponseBody().write(body);
        }
    }

    private void stream(HttpExchange ex) throws IOException {
        Headers h = ex.getResponseHeaders();
        h.set("Content-Type", "text/event-stream; charset=utf-8");
        h.set("Cache-Control", "no-store");
        ex.sendResponseHeaders(200, 0);
        BlockingQueue<String> queue = new LinkedBlockingQueue<>();
        synchronized (lock) {
            queue.addAll(replay());
            if (closed) {
                queue.add(CLOSE);
            }
            clients.add(queue);
        }
        OutputStream out = ex.getResponseBody();
        try {
            out.write(("retry: 2000\n\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            while (true) {
                String event = queue.poll(HEARTBEAT_SECONDS, TimeUnit.SECONDS);
                if (event == null) {
                    out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                } else if (event.equals(CLOSE)) {
                    break;
                } else {
                    StringBuilder frames = new StringBuilder("data: ").append(event).append("\n\n");
                    String more;
                    while ((more = queue.peek()) != null && !more.equals(CLOSE)) {
                        frames.append("data: ").append(queue.poll()).append("\n\n");
                    }
                    out.write(frames.toString().getBytes(StandardCharsets.UTF_8));
                }
                out.flush();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            clients.remove(queue);
        }
    }

    private void file(HttpExchange ex, String rel) throws IOException {
        Path dir = runDir;
        Path f = dir == null ? null : dir.resolve(URLDecoder.decode(rel, StandardCharsets.UTF_8)).normalize();
        if (f == null || !f.startsWith(dir) || !Files.isRegularFile(f)
                || !f.toRealPath().startsWith(dir.toRealPath())) {
            send(ex, 404, "text/plain; charset=utf-8", "404 no such file in the run folder\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        send(ex, 200, mediaType(f.getFileName().toString()), Files.readAllBytes(f));
    }

    private static String mediaType(String name) {
        String n = name.toLowerCase(java.util.Locale.ROOT);
        if (n.endsWith(".html")) {
            return "text/html; charset=utf-8";
        } else if (n.endsWith(".png")) {
            return "image/png";
        } else if (n.endsWith(".svg")) {
            return "image/svg+xml";
        } else if (n.endsWith(".json")) {
            return "application/json";
        } else if (n.endsWith(".csv")) {
            return "text/csv; charset=utf-8";
        } else if (n.endsWith(".yaml") || n.endsWith(".txt")) {
            return "text/plain; charset=utf-8";
        }
        return "application/octet-stream";
    }
}
