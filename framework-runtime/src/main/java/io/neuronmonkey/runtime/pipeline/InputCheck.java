package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Counts the NaN and infinite values in the inputs of every pass over one data set, where the batches enter the
 * pipeline (the fused pass, or an analyzer's own passes through its context). A model maps such inputs to
 * activations that look ordinary (ReLU turns NaN into 0, so every neuron would look dead): the count goes into
 * provenance and a warning, so that results computed from them are never taken at face value. The count is one bulk
 * loop over each batch's float buffer, without copies.
 */
final class InputCheck {

    /** What one pass saw; updated under its own lock by whichever thread reads the next batch. */
    static final class Pass {
        long examples;
        long affectedExamples;
        long nanValues;
        long infiniteValues;
        String firstAffected;

        long nonFinite() {
            return nanValues + infiniteValues;
        }
    }

    private final String name;
    private final Dataset data;
    private final List<Pass> passes = new ArrayList<>();

    InputCheck(String name, Dataset data) {
        this.name = name;
        this.data = data;
    }

    String name() {
        return name;
    }

    /** @return the data set, whose every pass is counted */
    Dataset dataset() {
        return new Dataset() {
            @Override
            public DatasetInfo info() {
                return data.info();
            }

            @Override
            public Iterator<Batch> batches(int batchSize) {
                Iterator<Batch> it = data.batches(batchSize);
                Pass pass = new Pass();
                synchronized (passes) {
                    passes.add(pass);
                }
                return new Iterator<>() {
                    @Override
                    public boolean hasNext() {
                        return it.hasNext();
                    }

                    @Override
                    public Batch next() {
                        Batch b = it.next();
                        synchronized (pass) {
                            count(b, pass);
                        }
                        return b;
                    }
                };
            }

            @Override
            public String fingerprint() {
                return data.fingerprint();
            }

            @Override
            public void close() {
                data.close();
            }
        };
    }

    /** @return the number of passes started so far */
    int passCount() {
        synchronized (passes) {
            return passes.size();
        }
    }

    /** @return the passes started since {@code from} passes had been */
    List<Pass> passesSince(int from) {
        synchronized (passes) {
            return List.copyOf(passes.subList(from, passes.size()));
        }
    }

    static void count(Batch b, Pass pass) {
        Tensor x = b.inputs();
        int n = b.size();
        pass.examples += n;
        if (x.dtype() != DType.FLOAT32 || n == 0) {
            return;
        }
        float[] v = x.floats();
        int row = x.rowSize();
        for (int e = 0, o = 0; e < n; e++, o += row) {
            long bad = 0;
            for (int i = o, end = o + row; i < end; i++) {
                // one compare per value: false for NaN and for both infinities
                if (!(Math.abs(v[i]) <= Float.MAX_VALUE)) {
                    bad++;
                    if (v[i] != v[i]) {
                        pass.nanValues++;
                    } else {
                        pass.infiniteValues++;
                    }
                }
            }
            if (bad > 0) {
                pass.affectedExamples++;
                if (pass.firstAffected == null) {
                    pass.firstAffected = b.ids().get(e);
                }
            }
        }
    }

    /**
     * @return the pass that read the most examples (a complete one where any was), or null when none was made
     */
    Pass widest() {
        synchronized (passes) {
            Pass best = null;
            for (Pass p : passes) {
                synchronized (p) {
                    if (best == null || p.examples > best.examples) {
                        best = p;
                    }
                }
            }
            return best;
        }
    }

    /** The provenance entry: {@code {examples, affectedExamples, nanValues, infiniteValues[, firstAffectedExample]}}. */
    Map<String, Object> summary() {
        Pass p = widest();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("examples", p == null ? 0 : p.examples);
        m.put("affectedExamples", p == null ? 0 : p.affectedExamples);
        m.put("nanValues", p == null ? 0 : p.nanValues);
        m.put("infiniteValues", p == null ? 0 : p.infiniteValues);
        if (p != null && p.firstAffected != null) {
            m.put("firstAffectedExample", p.firstAffected);
        }
        return m;
    }

    /** The console warning for a pass with non-finite inputs. */
    String warning(Pass p) {
        return "warning: data set '" + name + "': " + p.nonFinite() + " input value(s) are NaN or infinite ("
                + p.nanValues + " NaN, " + p.infiniteValues + " infinite) in " + p.affectedExamples + " of " + p.examples
                + " examples (first: '" + p.firstAffected + "'); activations and statistics computed from them are not "
                + "meaningful";
    }
}
