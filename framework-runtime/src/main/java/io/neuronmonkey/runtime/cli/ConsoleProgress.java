package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.ProgressReporter;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress on stderr: a redrawn bar on a terminal, plain lines every few seconds otherwise (CI logs, pipes).
 */
final class ConsoleProgress implements ProgressReporter {

    private static final long LINE_INTERVAL_NANOS = 5_000_000_000L;
    private final PrintStream err;
    private final boolean interactive;
    private String task = "";
    private long total;
    private long done;
    /** True between a start and its finish: a second finish (the runtime's, after an analyzer's own) prints nothing. */
    private boolean open;
    private long startNanos;
    private long lastPrint;

    ConsoleProgress(PrintStream err, boolean interactive) {
        this.err = err;
        this.interactive = interactive;
    }

    static ConsoleProgress forConsole() {
        boolean tty = System.console() != null && System.getenv("CI") == null && !"dumb".equals(System.getenv("TERM"));
        return new ConsoleProgress(System.err, tty);
    }

    @Override
    public synchronized void start(String task, long total) {
        this.task = task;
        this.total = total;
        this.done = 0;
        this.open = true;
        this.startNanos = System.nanoTime();
        this.lastPrint = startNanos;
        if (!interactive) {
            err.println(task + (total > 0 ? " (" + total + ")" : "") + " ...");
        } else {
            draw();
        }
    }

    @Override
    public synchronized void advance(long n) {
        done += n;
        long now = System.nanoTime();
        if (interactive) {
            if (now - lastPrint > 100_000_000L) {
                lastPrint = now;
                draw();
            }
        } else if (now - lastPrint > LINE_INTERVAL_NANOS) {
            lastPrint = now;
            err.println("  " + status());
        }
    }

    @Override
    public synchronized void finish() {
        if (!open) {
            return;
        }
        open = false;
        if (interactive) {
            draw();
            err.println();
        } else {
            err.println("  done: " + status());
        }
    }

    private void draw() {
        int width = 30;
        int filled = total > 0 ? (int) Math.min(width, done * width / total) : 0;
        String bar = "#".repeat(filled) + " ".repeat(width - filled);
        err.print("\r[" + bar + "] " + status() + "  " + task);
        err.flush();
    }

    private String status() {
        double secs = (System.nanoTime() - startNanos) / 1e9;
        String pct = total > 0 ? String.format(Locale.ROOT, "%3d%% ", done * 100 / total) : "";
        if (total <= 0 && done == 0) {
            return String.format(Locale.ROOT, "%.1fs", secs);
        }
        double rate = secs > 0 ? done / secs : 0;
        return pct + done + (total > 0 ? "/" + total : "") + String.format(Locale.ROOT, " %.1fs %.0f/s", secs, rate);
    }
}
