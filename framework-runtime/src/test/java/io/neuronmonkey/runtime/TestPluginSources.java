package io.neuronmonkey.runtime;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Sources of a small but complete test plugin: a pure-Java model backend with known weights, a data source, a
 * streaming analyzer, a failing analyzer and a visualizer. The model: hidden = relu(W x + b), logits = V hidden.
 */
public final class TestPluginSources {

    public static final double[][] W = {{1, -1, 0}, {0, 1, 1}, {-1, 0, 2}, {0.5, 0.5, 0.5}};
    public static final double[] B = {0, -1, 0.5, 0};
    public static final double[][] V = {{1, 0, 1, 0}, {0, 1, 0, 1}};

    private TestPluginSources() {
    }

    /** Example i of the "table" source. */
    public static double[] example(int i) {
        return new double[]{i % 5, (i % 3) - 1, 1};
    }

    public static Map<String, String> linearPlugin() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("testplugin.LinearBackend", """
                package testplugin;

                import io.neuronmonkey.api.*;
                import io.neuronmonkey.api.model.*;
                import io.neuronmonkey.api.tensor.Tensor;
                import org.pf4j.Extension;
                import java.nio.file.*;
                import java.util.*;
                import java.util.concurrent.atomic.AtomicInteger;

                @Extension
                @ExtensionName(value = "linear", description = "known-weights MLP")
                public class LinearBackend implements ModelBackend<LinearBackend.Params> {
                    public static final AtomicInteger RUNS = new AtomicInteger();
                    public record Params(@Param(defaultValue = "1.0") double scale) {}
                    static final double[][] W = {{1, -1, 0}, {0, 1, 1}, {-1, 0, 2}, {0.5, 0.5, 0.5}};
                    static final double[] B = {0, -1, 0.5, 0};
                    static final double[][] V = {{1, 0, 1, 0}, {0, 1, 0, 1}};

                    @Override
                    public LoadedModel load(ModelContext<Params> ctx) {
                        if (!Files.isRegularFile(ctx.path())) {
                            throw new ModelException("not a model file: " + ctx.path());
                        }
                        double scale = ctx.params().scale();
                        List<LayerInfo> layers = List.of(
                                new LayerInfo("input", "Placeholder", new int[]{3}, LayerInfo.Role.INPUT),
                                new LayerInfo("hidden", "Relu", new int[]{4}, LayerInfo.Role.HIDDEN),
                                new LayerInfo("logits", "MatMul", new int[]{2}, LayerInfo.Role.LOGITS));
                        return new LoadedModel() {
                            public List<LayerInfo> layers() { return layers; }
                            public int[] inputShape() { return new int[]{3}; }
                            public String logitsLayer() { return "logits"; }
                            public String description() { return "linear test model"; }
                            public String fingerprint() { return "0".repeat(64); }
                            public void close() { }
                            public Map<String, Tensor> run(Tensor in, Collection<String> names) {
                                RUNS.incrementAndGet();
                                int n = in.rows();
                                float[] x = in.floats();
                                float[] h = new float[n * 4];
                                float[] o = new float[n * 2];
                                for (int e = 0; e < n; e++) {
                                    for (int j = 0; j < 4; j++) {
                                        double a = B[j];
                                        for (int i = 0; i < 3; i++) a += W[j][i] * x[e * 3 + i] * scale;
                                        h[e * 4 + j] = (float) Math.max(0, a);
                                    }
                                    for (int k = 0; k < 2; k++) {
                                        double a = 0;
                                        for (int j = 0; j < 4; j++) a += V[k][j] * h[e * 4 + j];
                                        o[e * 2 + k] = (float) a;
                                    }
                                }
                                Map<String, Tensor> out = new LinkedHashMap<>();
                                for (String name : names) {
                                    switch (name) {
                                        case "input" -> out.put(name, in);
                                        case "hidden" -> out.put(name, Tensor.ofFloats(h, n, 4));
                                        case "logits" -> out.put(name, Tensor.ofFloats(o, n, 2));
                                        default -> throw new ModelException("no layer " + name);
                                    }
                                }
                                return out;
                            }
                        };
                    }
                }
                """);
        s.put("testplugin.TableSource", """
                package testplugin;

                import io.neuronmonkey.api.*;
                import io.neuronmonkey.api.data.*;
                import io.neuronmonkey.api.tensor.Tensor;
                import org.pf4j.Extension;
                import java.util.*;

                @Extension
                @ExtensionName(value = "table", description = "rows x_i = [i % 5, i % 3 - 1, 1]")
                public class TableSource implements DataSource<TableSource.Params> {
                    public record Params(@Param(defaultValue = "10") int count, @Param(defaultValue = "0") int nanEvery,
                                         @Param(defaultValue = "false") boolean empty,
                                         @Param(defaultValue = "true") boolean knownSize,
                                         @Param(defaultValue = "-1") int failAt) {
                        public Params {
                            Violations.check().require(count >= 1, "count", "must be >= 1, found " + count).throwIfAny();
                        }
                    }

                    @Override
                    public Dataset open(DataContext<Params> ctx) {
                        int count = ctx.params().empty() ? 0 : ctx.params().count();
                        int nanEvery = ctx.params().nanEvery();
                        long size = ctx.params().knownSize() ? count : -1;
                        int failAt = ctx.params().failAt();
                        return new Dataset() {
                            public DatasetInfo info() {
                                return new DatasetInfo(size, new int[]{3}, List.of("even", "odd"), List.of("parity"));
                            }
                            public String fingerprint() { return "1".repeat(64); }
                            public Iterator<Batch> batches(int size) {
                                return new Iterator<>() {
                                    int next = 0;
                                    public boolean hasNext() { return next < count; }
                                    public Batch next() {
                                        int n = Math.min(size, count - next);
                                        if (failAt >= 0 && next + n > failAt) throw new DataException("failing at row " + failAt + " as asked");
                                        float[] x = new float[n * 3];
                                        int[] labels = new int[n];
                                        List<String> ids = new ArrayList<>();
                                        List<Map<String, String>> meta = new ArrayList<>();
                                        for (int e = 0; e < n; e++) {
                                            int i = next + e;
                                            x[e * 3] = i % 5; x[e * 3 + 1] = (i % 3) - 1; x[e * 3 + 2] = 1;
                                            if (nanEvery > 0 && i % nanEvery == 0) {
                                                x[e * 3] = Float.NaN;
                                                x[e * 3 + 2] = Float.POSITIVE_INFINITY;
                                            }
                                            labels[e] = i % 2;
                                            ids.add("row-" + i);
                                            meta.add(Map.of("parity", i % 2 == 0 ? "even" : "odd"));
                                        }
                                        Batch b = new Batch(next, Tensor.ofFloats(x, n, 3), labels, ids, meta);
                                        next += n;
                                        return b;
                                    }
                                };
                            }
                        };
                    }
                }
                """);
        s.put("testplugin.SumAnalyzer", """
                package testplugin;

                import io.neuronmonkey.api.*;
                import io.neuronmonkey.api.analysis.*;
                import io.neuronmonkey.api.model.LayerInfo;
                import io.neuronmonkey.api.tensor.Tensor;
                import org.pf4j.Extension;
                import java.util.*;

                @Extension
                @ExtensionName(value = "sum", description = "sums each neuron over the data")
                public class SumAnalyzer implements StreamingAnalyzer<SumAnalyzer.Params> {
                    public record Params(@Param(defaultValue = "1") int k, @Param(defaultValue = "1.0") double weight,
                                         @Param(defaultValue = "-1") int failAfter) {
                        public Params {
                            Violations.check()
                                    .require(k >= 1, "k", "must be >= 1, found " + k)
                                    .require(weight > 0, "weight", "must be > 0, found " + weight)
                                    .throwIfAny();
                        }
                    }

                    public Accumulator start(AnalyzerContext<Params> ctx) {
                        Map<String, double[]> sums = new LinkedHashMap<>();
                        for (LayerInfo l : ctx.layers()) sums.put(l.name(), new double[l.neurons()]);
                        double w = ctx.params().weight();
                        int failAfter = ctx.params().failAfter();
                        return new Accumulator() {
                            long n;
                            public void accept(ActivationBatch b) {
                                if (failAfter >= 0 && n >= failAfter) throw new AnalysisException("failing after " + n + " examples as asked");
                                if (b.activations().size() != sums.size()) throw new AnalysisException("got layers " + b.activations().keySet());
                                n += b.size();
                                for (var e : sums.entrySet()) {
                                    float[] a = b.activation(e.getKey()).floats();
                                    double[] s = e.getValue();
                                    for (int i = 0; i < a.length; i++) s[i % s.length] += a[i] * w;
                                }
                            }
                            public void merge(Accumulator other) { throw new UnsupportedOperationException(); }
                            public AnalysisResult finish() {
                                AnalysisResult.Builder r = AnalysisResult.builder().put("examples", n);
                                Map<String, Object> layers = new LinkedHashMap<>();
                                for (var e : sums.entrySet()) {
                                    List<Double> l = new ArrayList<>();
                                    float[] f = new float[e.getValue().length];
                                    for (int i = 0; i < f.length; i++) { l.add(e.getValue()[i]); f[i] = (float) e.getValue()[i]; }
                                    layers.put(e.getKey(), l);
                                    r.array(e.getKey() + "-sum", Tensor.ofFloats(f, f.length));
                                }
                                return r.put("sums", layers).build();
                            }
                        };
                    }
                }
                """);
        s.put("testplugin.ExplodingAnalyzer", """
                package testplugin;

                import io.neuronmonkey.api.*;
                import io.neuronmonkey.api.analysis.*;
                import org.pf4j.Extension;

                @Extension
                @ExtensionName("explode")
                public class ExplodingAnalyzer implements Analyzer<NoParams> {
                    public AnalysisResult analyze(AnalyzerContext<NoParams> ctx) {
                        throw new AnalysisException("boom: the analysis failed on purpose");
                    }
                }
                """);
        s.put("testplugin.TextVisualizer", """
                package testplugin;

                import io.neuronmonkey.api.*;
                import io.neuronmonkey.api.visual.*;
                import org.pf4j.Extension;
                import java.nio.charset.StandardCharsets;

                @Extension
                @ExtensionName(value = "text", description = "lists its inputs")
                public class TextVisualizer implements Visualizer<NoParams> {
                    public void render(VisualizerContext<NoParams> ctx) {
                        StringBuilder sb = new StringBuilder();
                        for (StepOutput o : ctx.inputs()) sb.append(o.stepId()).append(' ').append(o.extension()).append('\\n');
                        Artifact a = ctx.write("inputs.txt", sb.toString().getBytes(StandardCharsets.UTF_8), "inputs", "text/plain");
                        String back = new String(ctx.read(a), StandardCharsets.UTF_8);
                        ctx.publish("report.html", ("<html><body><pre>" + back + "</pre></body></html>").getBytes(StandardCharsets.UTF_8),
                                "report", "text/html");
                    }
                }
                """);
        return s;
    }

    /** A second plugin whose visualizer reuses the name "text". */
    public static Map<String, String> duplicatePlugin() {
        return Map.of("dupplugin.OtherText", """
                package dupplugin;

                import io.neuronmonkey.api.*;
                import io.neuronmonkey.api.visual.*;
                import org.pf4j.Extension;

                @Extension
                @ExtensionName("text")
                public class OtherText implements Visualizer<NoParams> {
                    public void render(VisualizerContext<NoParams> ctx) { }
                }
                """);
    }

    /** An analyzer {@code name} in class {@code pkg.cls}; {@code failing} makes its constructor throw. */
    public static Map<String, String> analyzer(String pkg, String cls, String name, boolean failing) {
        return Map.of(pkg + "." + cls, """
                package PKG;

                import io.neuronmonkey.api.*;
                import io.neuronmonkey.api.analysis.*;
                import org.pf4j.Extension;

                @Extension
                @ExtensionName("NAME")
                public class CLS implements Analyzer<NoParams> {
                    public CLS() {
                        if (FAILING) {
                            throw new IllegalStateException("licence file not found");
                        }
                    }

                    public AnalysisResult analyze(AnalyzerContext<NoParams> ctx) {
                        return AnalysisResult.builder().put("name", "NAME").build();
                    }
                }
                """.replace("PKG", pkg).replace("CLS", cls).replace("NAME", name).replace("FAILING", Boolean.toString(failing)));
    }
}
