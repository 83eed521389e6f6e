package io.neuronmonkey.runtime.live;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.runtime.pipeline.ExperimentRunner;
import io.neuronmonkey.runtime.pipeline.RunListener;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns what a run tells (progress, step ends, every batch of a fused pass, training curves) into the live page's
 * events on a {@link LiveServer}.
 * <p>
 * The running census is the live view's own, computed on the fused pass's own lane from the activations the pass
 * already captured (no extra model run): per neuron (a channel of a spatial layer) the fraction of examples whose
 * mean over positions (real tokens only for text) is above 0, the {@code activation-stats} defaults. A neuron that
 * has not fired on any example so far is counted as "not fired yet" (dead, if the pass ends so). It is published at
 * most every {@link #CENSUS_INTERVAL_NANOS} and when the pass ends. Progress is published at most every
 * {@link #PROGRESS_INTERVAL_NANOS}, and at each start and finish.
 */
public final class LiveRun implements RunListener {

    static final long PROGRESS_INTERVAL_NANOS = 200_000_000L;
    static final long CENSUS_INTERVAL_NANOS = 500_000_000L;
    /** Bins of the firing-rate histogram of the neurons that fired at least once: [0, 0.1), ..., [0.9, 1]. */
    static final int BINS = 10;

    private final LiveServer server;
    private final long startNanos = System.nanoTime();
    private int passes;
    private int tasks;

    /**
     * @param kind "run" or "train"
     * @param name the experiment's name
     */
    public LiveRun(LiveServer server, String kind, String name) {
        this.server = server;
        server.state("run", event("run", "kind", kind, "name", name, "startedAtMillis", System.currentTimeMillis()));
    }

    /** The steps of the experiment, in order, as id and extension name pairs. */
    public void steps(List<Map.Entry<String, String>> steps) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Map.Entry<String, String> s : steps) {
            list.add(event(null, "id", s.getKey(), "extension", s.getValue()));
        }
        server.state("steps", event("steps", "steps", list));
    }

    /**
     * The run ended.
     *
     * @param status  completed, failed or interrupted
     * @param report  the report file relative to the run folder, or null when there is none
     * @param message what to say (the results folder, the saved model, an error), or null
     */
    public void ended(String status, String report, String message) {
        server.state(LiveServer.END, event("end", "status", status, "report", report, "message", message,
                "seconds", (System.nanoTime() - startNanos) / 1e9));
    }

    /** @return a reporter that passes everything to {@code console} and publishes it as progress events */
    public ProgressReporter progress(ProgressReporter console) {
        return new ProgressReporter() {
            private String task;
            private long total;
            private long done;
            private long started;
            private long last;
            private String key;

            @Override
            public synchronized void start(String task, long total) {
                console.start(task, total);
                this.task = task;
                this.total = total;
                this.done = 0;
                this.started = System.nanoTime();
                this.last = started;
                this.key = "progress-" + (tasks++);
                publish(false);
            }

            @Override
            public synchronized void advance(long n) {
                console.advance(n);
                done += n;
                long now = System.nanoTime();
                if (key != null && now - last >= PROGRESS_INTERVAL_NANOS) {
                    last = now;
                    publish(false);
                }
            }

            @Override
            public synchronized void finish() {
                console.finish();
                if (key != null) {
                    publish(true);
                    key = null;
                }
            }

            private void publish(boolean finished) {
                double secs = (System.nanoTime() - started) / 1e9;
                Double eta = finished ? Double.valueOf(0) : total > 0 && done > 0 ? secs * (total - done) / done : null;
                server.state(key, event("progress", "index", Integer.parseInt(key.substring(9)), "task", task,
                        "done", done, "total", total, "seconds", secs, "eta", eta, "finished", finished));
            }
        };
    }

    @Override
    public void stepsStarting(List<String> ids) {
        for (String id : ids) {
            server.state("step-" + id, event("step", "id", id, "state", "running", "seconds", null, "error", null));
        }
    }

    @Override
    public void stepEnded(ExperimentRunner.StepStatus s) {
        server.state("step-" + s.id(), event("step", "id", s.id(), "state", s.reused() ? "reused" : s.state(),
                "seconds", s.seconds(), "error", s.error()));
    }

    @Override
    public void metric(String name, long step, double value) {
        server.append(event("metric", "name", name, "step", step, "value", Double.isFinite(value) ? value : null));
    }

    @Override
    public synchronized PassWatcher passStarted(String data, List<LayerInfo> layers) {
        List<LayerInfo> spatial = new ArrayList<>();
        for (LayerInfo l : layers) {
            if (!"Softmax".equals(l.opType()) && l.role() != LayerInfo.Role.INPUT) {
                spatial.add(l);
            }
        }
        return spatial.isEmpty() ? null : new Census(passes++, data, spatial);
    }

    /** The running census of one pass. */
    private final class Census implements PassWatcher {
        private final int pass;
        private final String data;
        private final List<LayerInfo> layers;
        private final Map<String, long[]> fired = new LinkedHashMap<>();
        private final Map<String, long[]> seen = new LinkedHashMap<>();
        private long examples;
        private long last = System.nanoTime();

        Census(int pass, String data, List<LayerInfo> layers) {
            this.pass = pass;
            this.data = data;
            this.layers = layers;
        }

        @Override
        public void accept(ActivationBatch batch) {
            for (LayerInfo l : layers) {
                Tensor t = batch.activations().get(l.name());
                if (t == null || t.dtype() != DType.FLOAT32 || t.rows() == 0) {
                    continue;
                }
                count(l.name(), t, batch.batch());
            }
            examples += batch.size();
            long now = System.nanoTime();
            if (now - last >= CENSUS_INTERVAL_NANOS) {
                last = now;
                publish(false);
            }
        }

        private void count(String layer, Tensor t, Batch b) {
            int n = t.rows();
            int c = t.dim(t.rank() - 1);
            int positions = t.rowSize() / c;
            long[] f = fired.computeIfAbsent(layer, k -> new long[c]);
            long[] s = seen.computeIfAbsent(layer, k -> new long[c]);
            boolean[] mask = b.positionMask(positions);
            float[] a = t.floats();
            double[] sum = new double[c];
            for (int i = 0; i < n; i++) {
                java.util.Arrays.fill(sum, 0);
                int real = 0;
                int base = i * positions * c;
                for (int p = 0; p < positions; p++) {
                    if (mask != null && !mask[i * positions + p]) {
                        continue;
                    }
                    real++;
                    int off = base + p * c;
                    for (int k = 0; k < c; k++) {
                        sum[k] += a[off + k];
                    }
                }
                if (real == 0) {
                    continue;
                }
                for (int k = 0; k < c; k++) {
                    s[k]++;
                    if (sum[k] / real > 0) {
                        f[k]++;
                    }
                }
            }
        }

        @Override
        public void finished() {
            publish(true);
        }

        private void publish(boolean finished) {
            for (LayerInfo l : layers) {
                long[] f = fired.get(l.name());
                long[] s = seen.get(l.name());
                if (f == null) {
                    continue;
                }
                long[] hist = new long[BINS];
                int notFired = 0;
                int alwaysOn = 0;
                for (int k = 0; k < f.length; k++) {
                    if (s[k] == 0) {
                        continue;
                    }
                    if (f[k] == 0) {
                        notFired++;
                        continue;
                    }
                    if (f[k] == s[k]) {
                        alwaysOn++;
                    }
                    double rate = (double) f[k] / s[k];
                    hist[Math.min(BINS - 1, (int) (rate * BINS))]++;
                }
                server.state("census-" + pass + "-" + l.name(), event("census", "pass", pass, "data", data,
                        "layer", l.name(), "op", l.opType(), "neurons", f.length, "examples", examples,
                        "notFired", notFired, "alwaysOn", alwaysOn, "histogram", hist, "finished", finished));
            }
        }
    }

    /** An event: its type (null for a nested object) and key-value pairs. */
    private static Map<String, Object> event(String type, Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (type != null) {
            m.put("type", type);
        }
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }
}
