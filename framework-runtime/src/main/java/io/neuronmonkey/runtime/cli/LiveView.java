package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.runtime.live.LiveRun;
import io.neuronmonkey.runtime.live.LiveServer;
import io.neuronmonkey.runtime.pipeline.RunListener;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * The {@code --live [PORT]} option of {@code run} and {@code train}: starts the live page's server, prints its
 * address, and when the run is over keeps it {@link #GRACE_MILLIS} for the page to receive the end (or, with
 * {@code --keep}, until the process is stopped). Never reads the console: a run without a terminal never waits.
 */
final class LiveView implements AutoCloseable {

    /** How long the server stays up after the run without {@code --keep}, so an open page receives the end. */
    static final long GRACE_MILLIS = 2000;

    private final LiveServer server;
    private final LiveRun run;
    private final boolean keep;
    private final PrintStream err;
    private boolean ended;

    private LiveView(LiveServer server, LiveRun run, boolean keep, PrintStream err) {
        this.server = server;
        this.run = run;
        this.keep = keep;
        this.err = err;
    }

    /** @return the live view on {@code port} (0 = any free port), or null when {@code port} is null (no --live) */
    static LiveView open(Integer port, boolean keep, String kind, String name, PrintStream err) {
        if (port == null) {
            if (keep) {
                throw new io.neuronmonkey.api.ConfigException("--keep keeps the live page open after the run and needs --live [PORT]");
            }
            return null;
        }
        LiveServer server = LiveServer.start(port);
        LiveView view = new LiveView(server, new LiveRun(server, kind, name), keep, err);
        err.println("live view: " + server.url());
        return view;
    }

    static ProgressReporter progress(LiveView view, ProgressReporter console) {
        return view == null ? console : view.run.progress(console);
    }

    static RunListener listener(LiveView view) {
        return view == null ? RunListener.NONE : view.run;
    }

    void steps(List<Map.Entry<String, String>> steps) {
        run.steps(steps);
    }

    void runDir(Path dir) {
        server.runDir(dir);
    }

    /** @see LiveRun#ended */
    void ended(String status, String report, String message) {
        ended = true;
        run.ended(status, report, message);
    }

    /**
     * Publishes a failure if the run did not say how it ended, then waits the grace period (or, with --keep, until
     * the process is stopped) and stops the server.
     */
    @Override
    public void close() {
        if (!ended) {
            run.ended("failed", null, "the run stopped before it started its steps (see the console)");
        }
        try {
            if (keep) {
                err.println("live view kept open (--keep) at " + server.url() + "; stop with Ctrl-C");
                new CountDownLatch(1).await();
            }
            Thread.sleep(GRACE_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            server.close();
        }
    }
}
