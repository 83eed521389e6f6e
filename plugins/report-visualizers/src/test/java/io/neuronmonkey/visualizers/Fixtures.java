package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.api.visual.RunSummary;
import io.neuronmonkey.api.visual.StepOutput;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/** Hand-built activation-stats results in the documented format, and a run summary around them. */
final class Fixtures {

    static final List<String> CLASSES = List.of("circle", "square", "triangle", "cross");

    /** conv1 class means, [4 classes, 3 neurons]; neuron 1 is dead. */
    static final float[] CONV1_CLASS_MEAN = {
        1.0f, 0f, 0.2f,
        3.0f, 0f, 0.4f,
        2.0f, 0f, 0.6f,
        5.0f, 0f, 0.8f,
    };

    /** block/dense1 class means, [4 classes, 5 neurons]; neurons 0 and 4 are dead, 2 is always on. */
    static final float[] DENSE1_CLASS_MEAN = {
        0f, 0.1f, 4.0f, -2.0f, 0f,
        0f, 0.9f, 4.0f, 2.0f, 0f,
        0f, 0.5f, 4.0f, 0.0f, 0f,
        0f, 0.3f, 4.0f, 6.0f, 0f,
    };

    private Fixtures() {
    }

    /** The small result of step {@code census}: conv1 (3 neurons, spatial) and block/dense1 (5 neurons, dense). */
    static AnalysisResult census() {
        Map<String, Object> conv1 = layer("conv1", "Relu", List.of(4, 4, 3), 3, true,
                1 / 3.0, 0.0, 0.0, 0.5, 0.5, List.of(1), List.of(), List.of(),
                List.of(0.0, 0.5, 1.0, 1.5, 2.0), List.of(60, 20L, 15, 5), "conv1",
                List.of(neuron(0, 1.1, 0.4, 0.0, 2.0, 0.8, List.of()),
                        neuron(1, 0, 0, 0, 0, 0, List.of("dead")),
                        neuron(2, 0.5, 0.2, 0.0, 1.9, 0.7, List.of())));
        Map<String, Object> dense1 = layer("block/dense1", "MatMul", List.of(5), 5, false,
                0.4, 0.2, 0.0, 0.52, 0.48, List.of(0, 4), List.of(2), List.of(),
                List.of(-1.0, -0.5, 0, 0.5, 1, 1.5), List.of(3, 7, 50, 20, 15), "block_dense1",
                List.of()); // no per-neuron rows: the count stays under "neurons" and rows come from arrays
        Map<String, Object> criteria = new LinkedHashMap<>();
        criteria.put("dead", "never above the threshold on any example");
        criteria.put("alwaysOn", "above the threshold on every example");
        criteria.put("saturated", "at its maximum on more than 99% of examples");
        AnalysisResult.Builder b = AnalysisResult.builder()
                .put("analyzer", "activation-stats")
                .put("reduce", "mean")
                .put("threshold", 0)
                .put("examples", 100L)
                .put("classNames", CLASSES)
                .put("criteria", criteria)
                .put("layers", List.of(conv1, dense1));
        arrays(b, "conv1", 3, CONV1_CLASS_MEAN);
        arrays(b, "block_dense1", 5, DENSE1_CLASS_MEAN);
        return b.build();
    }

    static StepOutput censusStep() {
        return analyzerStep("census", census());
    }

    static StepOutput analyzerStep(String id, AnalysisResult r) {
        return new StepOutput(id, "analyzer", String.valueOf(r.summary().get("analyzer")), "probe", Optional.of(r),
                List.of());
    }

    /** The census result without per-class means (as for unlabelled data). */
    static AnalysisResult unlabelled() {
        AnalysisResult r = census();
        Map<String, Object> summary = new LinkedHashMap<>(r.summary());
        summary.put("classNames", List.of());
        List<Object> layers = new ArrayList<>();
        for (Object o : (List<?>) summary.get("layers")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> l = new LinkedHashMap<>((Map<String, Object>) o);
            Map<String, Object> arrays = new LinkedHashMap<>(castMap((Map<?, ?>) l.get("arrays")));
            arrays.remove("classMean");
            l.put("arrays", arrays);
            layers.add(l);
        }
        summary.put("layers", layers);
        Map<String, Tensor> arrays = new LinkedHashMap<>(r.arrays());
        arrays.keySet().removeIf(k -> k.endsWith("-class-mean"));
        return AnalysisResult.of(summary, arrays);
    }

    static RunSummary run(String yaml) {
        Map<String, Object> provenance = new LinkedHashMap<>();
        provenance.put("experiment", "shapes-census");
        provenance.put("startedAt", "2025-01-02T03:04:05Z");
        provenance.put("seed", 42);
        provenance.put("versions", Map.of("java", "17.0.15", "neuronmonkey", "0.1.0-SNAPSHOT"));
        provenance.put("plugins", List.of(Map.of("id", "stats-analyzers", "version", "0.1.0")));
        provenance.put("model", Map.of("sha256", "ab12cd34"));
        return new RunSummary("shapes-census", yaml, "shapes-cnn: a small CNN for 28x28 shapes",
                List.of(new LayerInfo("input", "Placeholder", new int[] {28, 28, 1}, LayerInfo.Role.INPUT),
                        new LayerInfo("conv1", "Relu", new int[] {4, 4, 3}, LayerInfo.Role.HIDDEN),
                        new LayerInfo("block/dense1", "MatMul", new int[] {5}, LayerInfo.Role.HIDDEN),
                        new LayerInfo("logits", "BiasAdd", new int[] {4}, LayerInfo.Role.LOGITS)),
                Map.of("probe", new DatasetInfo(100, new int[] {28, 28, 1}, CLASSES, List.of("split"))),
                provenance);
    }

    static final String YAML = """
            experiment: shapes-census   # <script>alert('x')</script>
            seed: 42
            model: {backend: tensorflow, path: models/shapes-cnn}
            data:
              probe: {source: synthetic-shapes, params: {count: 100}}
            steps:
              - id: census
                analyzer: activation-stats
                data: probe
                params: {reduce: mean, threshold: 0.0}
              - {id: report, visualizer: html-report, inputs: [census]}
            """;

    /**
     * A larger, realistic result for looking at: ReLU-like distributions (a spike at zero and a long tail), a conv
     * layer of 16 channels and a dense layer of 300 neurons (more than the heatmap shows by default).
     */
    static AnalysisResult realistic(long seed) {
        Random rnd = new Random(seed);
        List<Object> layers = new ArrayList<>();
        AnalysisResult.Builder b = AnalysisResult.builder();
        String[][] specs = {{"conv1", "Relu", "16", "spatial"}, {"dense1", "Relu", "300", "dense"}};
        for (String[] spec : specs) {
            int n = Integer.parseInt(spec[2]);
            float[] classMean = new float[CLASSES.size() * n];
            List<Integer> dead = new ArrayList<>();
            List<Object> rows = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                boolean isDead = rnd.nextDouble() < 0.1;
                double scale = 0.2 + 3 * rnd.nextDouble();
                int favourite = rnd.nextInt(CLASSES.size());
                for (int c = 0; c < CLASSES.size(); c++) {
                    classMean[c * n + j] = isDead ? 0f
                            : (float) (scale * (0.3 + rnd.nextDouble() * 0.4 + (c == favourite ? 1.2 : 0)));
                }
                if (isDead) {
                    dead.add(j);
                }
                rows.add(neuron(j, isDead ? 0 : scale, isDead ? 0 : scale / 2, 0, isDead ? 0 : scale * 4,
                        isDead ? 0 : 0.4 + 0.5 * rnd.nextDouble(), isDead ? List.of("dead") : List.of()));
            }
            int bins = 40;
            List<Double> edges = new ArrayList<>();
            List<Long> counts = new ArrayList<>();
            for (int i = 0; i <= bins; i++) {
                edges.add(i * 0.25);
            }
            for (int i = 0; i < bins; i++) {
                counts.add(i == 0 ? 48_000L : Math.round(9000 * Math.exp(-i / 6.0) * (0.9 + 0.2 * rnd.nextDouble())));
            }
            String prefix = spec[0];
            layers.add(layer(spec[0], spec[1], spec[3].equals("spatial") ? List.of(14, 14, n) : List.of(n), n,
                    spec[3].equals("spatial"), dead.size() / (double) n, 0.0, 0.0, 0.46, 0.54, dead, List.of(),
                    List.of(), edges, counts, prefix, rows));
            arrays(b, prefix, n, classMean);
        }
        return b.put("analyzer", "activation-stats").put("reduce", "mean").put("threshold", 0.0)
                .put("examples", 4000).put("classNames", CLASSES)
                .put("criteria", Map.of("dead", "never above the threshold")).put("layers", layers).build();
    }

    private static Map<String, Object> layer(String name, String op, List<Integer> shape, int neurons,
                                             boolean spatial, double dead, double alwaysOn, double saturated,
                                             double sparsity, double firing, List<Integer> deadIdx,
                                             List<Integer> alwaysOnIdx, List<Integer> saturatedIdx,
                                             List<? extends Number> edges, List<? extends Number> counts,
                                             String prefix, List<Object> neuronRows) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("opType", op);
        m.put("shape", shape);
        m.put("neurons", neurons);
        m.put("spatial", spatial);
        m.put("deadFraction", dead);
        m.put("alwaysOnFraction", alwaysOn);
        m.put("saturatedFraction", saturated);
        m.put("sparsity", sparsity);
        m.put("meanFiringRate", firing);
        m.put("dead", deadIdx);
        m.put("alwaysOn", alwaysOnIdx);
        m.put("saturated", saturatedIdx);
        m.put("histogram", Map.of("edges", edges, "counts", counts));
        Map<String, Object> arrays = new LinkedHashMap<>();
        for (String role : List.of("mean", "std", "min", "max")) {
            arrays.put(role, prefix + "-" + role);
        }
        arrays.put("firingRate", prefix + "-firing-rate");
        arrays.put("histogram", prefix + "-histogram");
        arrays.put("classMean", prefix + "-class-mean");
        m.put("arrays", arrays);
        if (!neuronRows.isEmpty()) {
            m.put("neuronStats", neuronRows);
        }
        return m;
    }

    private static Map<String, Object> neuron(int index, double mean, double std, double min, double max,
                                              double rate, List<String> flags) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("index", index);
        m.put("mean", mean);
        m.put("std", std);
        m.put("min", min);
        m.put("max", max);
        m.put("firingRate", rate);
        m.put("flags", flags);
        return m;
    }

    /** Per-neuron arrays derived from the class means (mean over classes, min, max...), and the class means. */
    private static void arrays(AnalysisResult.Builder b, String prefix, int n, float[] classMean) {
        int classes = CLASSES.size();
        float[] mean = new float[n];
        float[] min = new float[n];
        float[] max = new float[n];
        float[] std = new float[n];
        float[] rate = new float[n];
        for (int j = 0; j < n; j++) {
            min[j] = Float.POSITIVE_INFINITY;
            max[j] = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                float v = classMean[c * n + j];
                mean[j] += v / classes;
                min[j] = Math.min(min[j], v);
                max[j] = Math.max(max[j], v);
            }
            std[j] = (max[j] - min[j]) / 2;
            rate[j] = mean[j] > 0 ? 0.75f : 0f;
        }
        b.array(prefix + "-mean", Tensor.ofFloats(mean, n));
        b.array(prefix + "-std", Tensor.ofFloats(std, n));
        b.array(prefix + "-min", Tensor.ofFloats(min, n));
        b.array(prefix + "-max", Tensor.ofFloats(max, n));
        b.array(prefix + "-firing-rate", Tensor.ofFloats(rate, n));
        b.array(prefix + "-class-mean", Tensor.ofFloats(classMean.clone(), classes, n));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> castMap(Map<?, ?> m) {
        return (Map<String, Object>) m;
    }
}
