package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Hand-built results of top-activations, activation-breakdown, census-diff and an activation-stats census with
 * firing-rate intervals, in the formats those analyzers document.
 */
final class RankingFixtures {

    /** Side of the small input images of {@link #topActivations}. */
    static final int SIDE = 8;
    /** Examples kept per neuron. */
    static final int K = 3;
    /** conv1 neuron 1, rank 2: a single bright pixel at (row, col) = (3, 5) on a black image. */
    static final int BRIGHT_ROW = 3;
    static final int BRIGHT_COL = 5;
    /** conv1 neuron 0, rank 1: region [top, left, bottom, right], inclusive. */
    static final List<Integer> REGION = List.of(2, 2, 4, 5);

    private RankingFixtures() {
    }

    // ---- top-activations ---------------------------------------------------------------------------------------

    /**
     * conv1: 2 spatial neurons, every example kept, regions on all entries; dense1: 2 neurons, neuron 1 has only two
     * examples (its third row is NaN). Images are 8x8 with {@code channels} channels.
     *
     * @param inputs  whether the input images are kept
     * @param bottomK examples kept at the bottom (0 or K)
     */
    static AnalysisResult topActivations(boolean inputs, int bottomK, int channels) {
        AnalysisResult.Builder b = AnalysisResult.builder()
                .put("analyzer", "top-activations").put("k", K).put("bottomK", bottomK).put("reduce", "max")
                .put("classNames", Fixtures.CLASSES).put("inputShape", List.of(SIDE, SIDE, channels))
                .put("regionRule", "receptive field of the winning position, clipped to the image");
        List<Object> layers = new ArrayList<>();
        for (String name : List.of("conv1", "dense1")) {
            boolean spatial = name.equals("conv1");
            Map<String, Object> arrays = new LinkedHashMap<>();
            if (inputs) {
                arrays.put("topInputs", name + "-top-inputs");
            }
            arrays.put("topValues", name + "-top-values");
            if (bottomK > 0) {
                if (inputs) {
                    arrays.put("bottomInputs", name + "-bottom-inputs");
                }
                arrays.put("bottomValues", name + "-bottom-values");
            }
            List<Object> rows = new ArrayList<>();
            float[] images = new float[2 * K * SIDE * SIDE * channels];
            float[] values = new float[2 * K];
            for (int n = 0; n < 2; n++) {
                int kept = !spatial && n == 1 ? K - 1 : K;
                List<Object> top = new ArrayList<>();
                for (int j = 0; j < K; j++) {
                    int from = (n * K + j) * SIDE * SIDE * channels;
                    if (j >= kept) {
                        Arrays.fill(images, from, from + SIDE * SIDE * channels, Float.NaN);
                        values[n * K + j] = Float.NaN;
                        continue;
                    }
                    // a dim gradient, except the planted image which is black with one bright pixel
                    boolean planted = spatial && n == 1 && j == 1;
                    for (int p = 0; p < SIDE * SIDE * channels; p++) {
                        images[from + p] = planted ? 0f : (p % (SIDE * channels)) / (float) (4 * SIDE * channels);
                    }
                    if (planted) {
                        images[from + (BRIGHT_ROW * SIDE + BRIGHT_COL) * channels] = 1f;
                    }
                    double value = 5.0 - n - j;
                    values[n * K + j] = (float) value;
                    int example = 100 * (n + 1) + j;
                    Map<String, Object> e = entry(j + 1, value, example, j % 2, "on");
                    if (spatial) {
                        e.put("position", List.of(1, 2));
                        e.put("region", REGION);
                    }
                    top.add(e);
                }
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("index", n);
                row.put("top", top);
                if (bottomK > 0) {
                    List<Object> bottom = new ArrayList<>();
                    for (int j = 0; j < bottomK; j++) {
                        bottom.add(entry(j + 1, -1.0 - j, 900 + j, 2, "off"));
                    }
                    row.put("bottom", bottom);
                }
                rows.add(row);
            }
            Map<String, Object> layer = new LinkedHashMap<>();
            layer.put("name", name);
            layer.put("opType", "Relu");
            layer.put("shape", spatial ? List.of(SIDE, SIDE, 2) : List.of(2));
            layer.put("spatial", spatial);
            layer.put("neurons", 2);
            layer.put("arrays", arrays);
            layer.put("neuronStats", rows);
            layers.add(layer);
            if (inputs) {
                b.array(name + "-top-inputs", Tensor.ofFloats(images, 2, K, SIDE, SIDE, channels));
            }
            b.array(name + "-top-values", Tensor.ofFloats(values, 2, K));
            if (bottomK > 0) {
                if (inputs) {
                    b.array(name + "-bottom-inputs", Tensor.ofFloats(images.clone(), 2, K, SIDE, SIDE, channels));
                }
                b.array(name + "-bottom-values", Tensor.ofFloats(values.clone(), 2, K));
            }
        }
        return b.put("layers", layers).build();
    }

    private static Map<String, Object> entry(int rank, double value, int example, int label, String watermark) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("rank", rank);
        e.put("value", value);
        e.put("example", example);
        e.put("id", "decorrelated-" + example);
        e.put("label", label);
        e.put("className", Fixtures.CLASSES.get(label));
        e.put("metadata", new LinkedHashMap<>(Map.of("watermark", watermark, "shape", Fixtures.CLASSES.get(label))));
        return e;
    }

    /**
     * For looking at: 28x28 grey shapes, 16 neurons of conv2, k = 8; neuron 3 fires on the watermark (a bright
     * square in the bottom-right corner) whatever the shape, and its regions sit on the corner.
     */
    static AnalysisResult realisticTopActivations(long seed) {
        Random rnd = new Random(seed);
        int side = 28;
        int neurons = 16;
        int k = 8;
        float[] images = new float[neurons * k * side * side];
        float[] values = new float[neurons * k];
        List<Object> rows = new ArrayList<>();
        for (int n = 0; n < neurons; n++) {
            List<Object> top = new ArrayList<>();
            int favourite = n % 4;
            for (int j = 0; j < k; j++) {
                boolean watermarkNeuron = n == 3;
                int label = watermarkNeuron ? rnd.nextInt(4) : rnd.nextDouble() < 0.8 ? favourite : rnd.nextInt(4);
                boolean watermark = watermarkNeuron || rnd.nextDouble() < 0.3;
                int from = (n * k + j) * side * side;
                drawShape(images, from, side, label, rnd, watermark);
                double value = 6.0 - 0.4 * j - 0.1 * n + rnd.nextDouble() * 0.1;
                values[n * k + j] = (float) value;
                int example = rnd.nextInt(4000);
                Map<String, Object> e = entry(j + 1, value, example, label, watermark ? "on" : "off");
                int r = watermarkNeuron ? 22 : 6 + rnd.nextInt(14);
                int c = watermarkNeuron ? 22 : 6 + rnd.nextInt(14);
                e.put("position", List.of(r / 2, c / 2));
                e.put("region", List.of(Math.max(0, r - 5), Math.max(0, c - 5), Math.min(side - 1, r + 4),
                        Math.min(side - 1, c + 4)));
                top.add(e);
            }
            rows.add(new LinkedHashMap<>(Map.of("index", n, "top", top)));
        }
        Map<String, Object> layer = new LinkedHashMap<>();
        layer.put("name", "conv2");
        layer.put("opType", "Relu");
        layer.put("shape", List.of(14, 14, neurons));
        layer.put("spatial", true);
        layer.put("neurons", neurons);
        layer.put("arrays", Map.of("topInputs", "conv2-top-inputs", "topValues", "conv2-top-values"));
        layer.put("neuronStats", rows);
        return AnalysisResult.builder().put("analyzer", "top-activations").put("k", k).put("bottomK", 0)
                .put("reduce", "max").put("classNames", Fixtures.CLASSES).put("inputShape", List.of(side, side, 1))
                .put("regionRule", "receptive field of the winning position (10x10 pixels), clipped to the image")
                .put("layers", List.of(layer))
                .array("conv2-top-inputs", Tensor.ofFloats(images, neurons, k, side, side, 1))
                .array("conv2-top-values", Tensor.ofFloats(values, neurons, k)).build();
    }

    private static void drawShape(float[] img, int from, int side, int shape, Random rnd, boolean watermark) {
        double cx = 10 + rnd.nextInt(8);
        double cy = 10 + rnd.nextInt(8);
        double rad = 5 + rnd.nextInt(3);
        for (int y = 0; y < side; y++) {
            for (int x = 0; x < side; x++) {
                double dx = x - cx;
                double dy = y - cy;
                boolean in = switch (shape) {
                    case 0 -> dx * dx + dy * dy <= rad * rad;
                    case 1 -> Math.abs(dx) <= rad && Math.abs(dy) <= rad;
                    case 2 -> dy <= rad && dy >= -rad && Math.abs(dx) <= (dy + rad) / 2;
                    default -> (Math.abs(dx) <= 1.5 || Math.abs(dy) <= 1.5) && Math.abs(dx) <= rad
                            && Math.abs(dy) <= rad;
                };
                img[from + y * side + x] = (float) ((in ? 0.8 : 0.05) + rnd.nextDouble() * 0.1);
            }
        }
        if (watermark) {
            for (int y = 21; y < 25; y++) {
                for (int x = 21; x < 25; x++) {
                    img[from + y * side + x] = 1f;
                }
            }
        }
    }

    // ---- activation-breakdown ----------------------------------------------------------------------------------

    /**
     * Keys watermark (on vs off) and class (each value vs the rest) over conv1 (3 neurons) and dense1 (4). The
     * planted top watermark neuron is dense1 #2 (effect 3.1); conv1 #0 follows with -2.0. The overall ranking rows
     * carry no means, so the report must take them from the layers' rankings.
     */
    static AnalysisResult breakdown(boolean rankings) {
        AnalysisResult.Builder b = AnalysisResult.builder().put("analyzer", "activation-breakdown")
                .put("reduce", "max").put("keys", List.of("class", "watermark"))
                .put("skippedKeys", Map.of("id", "4000 distinct values > maxValues 12"));
        List<Object> layers = new ArrayList<>();
        Object[][] watermark = {
            {"conv1", 3, new double[] {-2.0, 0.3, 0.1}},
            {"dense1", 4, new double[] {0.5, 0.2, 3.1, -0.4}},
        };
        for (Object[] spec : watermark) {
            String name = (String) spec[0];
            int n = (Integer) spec[1];
            double[] effect = (double[]) spec[2];
            Map<String, Object> wm = new LinkedHashMap<>();
            wm.put("key", "watermark");
            wm.put("values", List.of(Map.of("value", "off", "count", 1990), Map.of("value", "on", "count", 2010L)));
            wm.put("contrast", "on vs off");
            List<Object> ranking = new ArrayList<>();
            Integer[] order = byAbs(effect);
            for (int i : order) {
                ranking.add(new LinkedHashMap<>(Map.of("neuron", i, "effectSize", effect[i], "meanA", 1.0 + effect[i],
                        "meanB", 1.0, "diff", effect[i])));
            }
            wm.put("ranking", rankings ? ranking : List.of());
            wm.put("arrays", Map.of("means", name + "-watermark-means", "effect", name + "-watermark-effect"));
            float[] e = new float[n];
            for (int i = 0; i < n; i++) {
                e[i] = (float) effect[i];
            }
            b.array(name + "-watermark-effect", Tensor.ofFloats(e, n));
            b.array(name + "-watermark-means", Tensor.ofFloats(new float[2 * n], 2, n));

            Map<String, Object> cls = new LinkedHashMap<>();
            cls.put("key", "class");
            List<Object> values = new ArrayList<>();
            Fixtures.CLASSES.forEach(c -> values.add(Map.of("value", c, "count", 1000)));
            cls.put("values", values);
            cls.put("ranking", rankings ? List.of(new LinkedHashMap<>(Map.of("neuron", 0, "value", "square",
                    "effectSize", name.equals("conv1") ? 1.5 : 2.5, "meanA", 2.0, "meanB", 0.5))) : List.of());
            cls.put("arrays", Map.of("means", name + "-class-means", "effect", name + "-class-effect"));
            float[] ce = new float[4 * n];
            ce[n] = name.equals("conv1") ? 1.5f : 2.5f; // value 1 (square), neuron 0
            b.array(name + "-class-effect", Tensor.ofFloats(ce, 4, n));
            b.array(name + "-class-means", Tensor.ofFloats(new float[4 * n], 4, n));
            layers.add(Map.of("name", name, "neurons", n, "keys", List.of(cls, wm)));
        }
        b.put("layers", layers);
        if (rankings) {
            b.put("overall", List.of(Map.of("key", "watermark", "contrast", "on vs off", "ranking", List.of(
                    Map.of("layer", "dense1", "neuron", 2, "effectSize", 3.1),
                    Map.of("layer", "conv1", "neuron", 0, "effectSize", -2.0),
                    Map.of("layer", "dense1", "neuron", 0, "effectSize", 0.5)))));
        }
        return b.build();
    }

    private static Integer[] byAbs(double[] v) {
        Integer[] idx = new Integer[v.length];
        for (int i = 0; i < v.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (x, y) -> Double.compare(Math.abs(v[y]), Math.abs(v[x])));
        return idx;
    }

    // ---- census-diff -------------------------------------------------------------------------------------------

    /** dense1: neuron 3 moved most (shift 2.5); neuron 7 died between the censuses. */
    static AnalysisResult censusDiff() {
        Map<String, Object> r3 = new LinkedHashMap<>();
        r3.put("neuron", 3);
        r3.put("shift", 2.5);
        r3.put("meanA", 0.4);
        r3.put("meanB", 2.9);
        r3.put("firingRateA", 0.2);
        r3.put("firingRateB", 0.9);
        r3.put("flagsA", List.of());
        r3.put("flagsB", List.of());
        Map<String, Object> r7 = new LinkedHashMap<>(r3);
        r7.put("neuron", 7);
        r7.put("shift", 1.25);
        r7.put("meanB", 0.0);
        r7.put("firingRateB", 0.0);
        r7.put("flagsB", List.of("dead"));
        Map<String, Object> layer = new LinkedHashMap<>();
        layer.put("name", "dense1");
        layer.put("neurons", 32);
        layer.put("ranking", List.of(r3, r7));
        layer.put("changedFlags", List.of(Map.of("neuron", 7, "flagsA", List.of(), "flagsB", List.of("dead"))));
        return AnalysisResult.builder().put("analyzer", "census-diff").put("a", "census-step-100")
                .put("b", "census-step-900").put("layers", List.of(layer)).build();
    }

    // ---- activation-stats with intervals -----------------------------------------------------------------------

    /**
     * dense2 (4 neurons): #0 dead, #1 always-on, #2 rarely firing, #3 healthy (0.31 [0.29, 0.33], quantiles);
     * dense3 (2 neurons): healthy.
     */
    static AnalysisResult censusWithIntervals() {
        List<Object> rows = List.of(
                row(0, 0.0, 0.0, 0.0, List.of("dead"), null),
                row(1, 2.0, 1.0, 0.99, List.of("always-on"), null),
                row(2, 0.01, 0.004, 0.0012, List.of("rarely-firing"), null),
                row(3, 0.7, 0.31, 0.29, List.of(), Map.of("p01", 0.0, "p05", 0.0, "p50", 0.25, "p95", 1.75,
                        "p99", 2.5)));
        ((Map<String, Object>) rows.get(2)).put("firingRateHigh", 0.013);
        ((Map<String, Object>) rows.get(3)).put("firingRateHigh", 0.33);
        Map<String, Object> dense2 = new LinkedHashMap<>();
        dense2.put("name", "dense2");
        dense2.put("opType", "Relu");
        dense2.put("shape", List.of(4));
        dense2.put("neurons", 4);
        dense2.put("spatial", false);
        dense2.put("deadFraction", 0.25);
        dense2.put("alwaysOnFraction", 0.25);
        dense2.put("saturatedFraction", 0.0);
        dense2.put("rarelyFiringFraction", 0.25);
        dense2.put("sparsity", 0.6);
        dense2.put("meanFiringRate", 0.33);
        dense2.put("dead", List.of(0));
        dense2.put("alwaysOn", List.of(1));
        dense2.put("saturated", List.of());
        dense2.put("rarelyFiring", List.of(2));
        dense2.put("neuronStats", rows);
        Map<String, Object> dense3 = new LinkedHashMap<>(dense2);
        dense3.put("name", "dense3");
        dense3.put("neurons", 2);
        dense3.put("shape", List.of(2));
        dense3.put("dead", List.of());
        dense3.put("alwaysOn", List.of());
        dense3.put("rarelyFiring", List.of());
        dense3.put("deadFraction", 0.0);
        dense3.put("alwaysOnFraction", 0.0);
        dense3.put("rarelyFiringFraction", 0.0);
        dense3.put("neuronStats", List.of(row(0, 0.5, 0.5, 0.45, List.of(), null),
                row(1, 0.6, 0.6, 0.55, List.of(), null)));
        return AnalysisResult.builder().put("analyzer", "activation-stats").put("reduce", "mean")
                .put("threshold", 0).put("examples", 4000).put("classNames", Fixtures.CLASSES)
                .put("criteria", Map.of("rarelyFiring", "fires on fewer than 1% of examples, but not never"))
                .put("layers", List.of(dense2, dense3)).build();
    }

    private static Map<String, Object> row(int index, double mean, double rate, double low, List<String> flags,
                                           Map<String, Double> quantiles) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("index", index);
        m.put("mean", mean);
        m.put("std", mean / 2);
        m.put("min", 0.0);
        m.put("max", mean * 3);
        m.put("firingRate", rate);
        m.put("firingRateLow", low);
        m.put("firingRateHigh", rate == 0 ? 0.0095 : rate == 1 ? 1.0 : Math.min(1, rate + 0.05));
        if (quantiles != null) {
            m.put("quantiles", new LinkedHashMap<>(quantiles));
        }
        m.put("flags", flags);
        return m;
    }
}
