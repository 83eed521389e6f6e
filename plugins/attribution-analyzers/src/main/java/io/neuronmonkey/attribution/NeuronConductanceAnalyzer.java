package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * Which neurons of a layer matter for a target: neuron conductance, the integrated-gradients attribution carried
 * through each hidden neuron. Along the straight path from a baseline {@code b} to the input {@code x}, at
 * {@code steps} points {@code x_k = b + k/steps (x - b)} (right Riemann sum, {@code x_0 = b}),
 * <pre>conductance_j = sum_k dF/dh_j(x_k) * (h_j(x_k) - h_j(x_{k-1}))</pre>
 * summed over positions for spatial layers (a neuron is a channel). The neurons of a layer together satisfy
 * completeness, {@code sum_j conductance_j = F(x) - F(b)} up to the Riemann error, which is reported per layer.
 * <p>
 * Every chunk of {@code internalBatch} path rows is one model run capturing all of the step's layers and one
 * gradient call per layer, never one pass per neuron. The conductances are aggregated over the examples: per neuron
 * the mean with its 95% t interval, the mean absolute value and the mean per class of the target.
 */
@Extension
@ExtensionName(value = "neuron-conductance",
        description = "Which hidden neurons carry a target's integrated gradients (conductance per neuron, completeness checked, per class)")
public final class NeuronConductanceAnalyzer implements Analyzer<NeuronConductanceAnalyzer.Params> {

    /** Mean relative completeness error above which a layer gets a warning. */
    static final double COMPLETENESS_LIMIT = 0.05;
    /** |F(x) - F(b)| below which an example's relative completeness error is not computed. */
    static final double TINY_DIFFERENCE = 1e-6;

    /** The path's start. */
    public enum Baseline {
        /** every input value 0 */
        ZERO,
        /** the data set's mean input (one extra pass over the data) */
        MEAN
    }

    /**
     * Params of neuron-conductance.
     *
     * @param target        what is explained ({@link Target#FORMS})
     * @param baseline      the path's start
     * @param steps         points on the path
     * @param internalBatch path rows per model run (bounds memory)
     * @param where         metadata filter of the examples explained
     * @param limit         the most examples explained
     * @param top           neurons in the ranking, across layers
     */
    public record Params(
            @Param(defaultValue = "predicted", description = "what is explained: " + Target.FORMS) String target,
            @Param(defaultValue = "zero", description = "path start: zero or mean (the data set's mean input)") Baseline baseline,
            @Param(defaultValue = "32", description = "points on the path from the baseline to the input (right Riemann sum), 1..4096") int steps,
            @Param(defaultValue = "512", description = "path rows per model run, bounds memory; 1..1000000") int internalBatch,
            @Param(description = "metadata filter of the explained examples, e.g. {watermark: on, class: '!square'}") Map<String, String> where,
            @Param(defaultValue = "1000", description = "the most examples explained, >= 1") long limit,
            @Param(defaultValue = "10", description = "neurons listed in the ranking across layers, 1..100000") int top) {

        /** Checks every field. */
        public Params {
            where = RowBlocks.strings(where);
            Violations.check()
                    .require(Target.parse(target).isPresent(), "target", Target.problem(target, "target"))
                    .require(baseline != null, "baseline", "must be zero or mean")
                    .require(steps >= 1 && steps <= 4096, "steps", "must be between 1 and 4096, found " + steps)
                    .require(internalBatch >= 1 && internalBatch <= 1_000_000, "internalBatch",
                            "must be between 1 and 1000000, found " + internalBatch)
                    .require(limit >= 1, "limit", "must be >= 1, found " + limit)
                    .require(top >= 1 && top <= 100_000, "top", "must be between 1 and 100000, found " + top)
                    .throwIfAny();
        }
    }

    /** Per-layer sums over examples. */
    private static final class LayerSums {
        final LayerInfo layer;
        final int neurons;
        final double[] sum;
        final double[] sumSq;
        final double[] sumAbs;
        final double[][] byClass;
        double errorSum;
        double errorMax;
        long errorCount;

        LayerSums(LayerInfo layer, int classes) {
            this.layer = layer;
            this.neurons = layer.neurons();
            sum = new double[neurons];
            sumSq = new double[neurons];
            sumAbs = new double[neurons];
            byClass = new double[classes][neurons];
        }
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        LoadedModel model = ctx.requireModel();
        Dataset data = ctx.requireData();
        String step = ctx.stepId();
        if (!model.supportsGradients()) {
            throw new AnalysisException("step '" + step + "': neuron conductance needs gradients, and the model ("
                    + model.description() + ") does not compute them");
        }
        TextAttribution.requireFloatInput(step, "neuron conductance (a path from a baseline input)", data.info());
        List<LayerInfo> layers = ctx.layers();
        if (layers.isEmpty()) {
            throw new AnalysisException("step '" + step + "': give the layers whose neurons are scored, e.g. 'layers: [conv2, dense1]'");
        }
        Target.Bound target = Target.parse(p.target()).orElseThrow().resolve(model, data.info(), step);
        ExampleFilter examples = new ExampleFilter(data, p.where(), p.limit(), step);
        boolean byTargetClass = target.layer().equals(model.logitsLayer());
        List<String> classNames = classNames(target, data.info().classNames(), byTargetClass);
        int classes = classNames.size();

        int[] inShape = data.info().exampleShape();
        float[] base = p.baseline() == Baseline.MEAN ? meanInput(data, ctx.batchSize(), step) : new float[size(inShape)];
        Tensor baseTensor = Tensor.ofFloats(base, prepend(1, inShape));
        LinkedHashSet<String> capture = new LinkedHashSet<>();
        layers.forEach(l -> capture.add(l.name()));
        capture.add(target.layer());
        Map<String, Tensor> atBase = model.run(ModelInputs.of(baseTensor), capture, List.of());
        float[] baseTarget = Values.perNeuron(atBase.get(target.layer()));

        List<LayerSums> sums = new ArrayList<>();
        for (LayerInfo l : layers) {
            sums.add(new LayerSums(l, classes));
        }
        long[] classCount = new long[classes];
        long n = 0;
        int steps = p.steps();
        int perChunk = Math.max(1, p.internalBatch() / steps);
        ctx.progress().start("neuron conductance: examples", -1);
        for (Iterator<Batch> it = examples.batches(perChunk); it.hasNext(); ) {
            Batch b = it.next();
            int m = b.size();
            ctx.progress().advance(m);
            int[] rows = target.rows(model, b, null);
            int[] of = new int[m * steps];
            for (int i = 0; i < of.length; i++) {
                of[i] = i / steps;
            }
            ModelInputs path = TextAttribution.rowsOf(b.modelInputs(), of, path(b.inputs(), base, steps));
            Map<String, Tensor> h = model.run(path, capture, List.of());
            float[] targetValues = Values.perNeuron(h.get(target.layer()));
            int[] cls = new int[m];
            for (int e = 0; e < m; e++) {
                cls[e] = byTargetClass ? rows[e] : b.hasLabels() && b.labels()[e] >= 0 && b.labels()[e] < classes ? b.labels()[e] : -1;
                if (cls[e] >= 0) {
                    classCount[cls[e]]++;
                }
            }
            for (LayerSums s : sums) {
                String name = s.layer.name();
                Tensor g = model.gradient(path, target.gradientTarget(rows, steps), name, List.of());
                double[] c = conductance(g.floats(), h.get(name).floats(), atBase.get(name).floats(), m, steps, s.neurons);
                for (int e = 0; e < m; e++) {
                    double total = 0;
                    for (int j = 0; j < s.neurons; j++) {
                        double v = c[e * s.neurons + j];
                        total += v;
                        s.sum[j] += v;
                        s.sumSq[j] += v * v;
                        s.sumAbs[j] += Math.abs(v);
                        if (cls[e] >= 0) {
                            s.byClass[cls[e]][j] += v;
                        }
                    }
                    double fx = targetValues[(e * steps + steps - 1) * target.neurons() + rows[e]];
                    double diff = fx - baseTarget[rows[e]];
                    if (Math.abs(diff) > TINY_DIFFERENCE) {
                        double err = Math.abs(total - diff) / Math.abs(diff);
                        s.errorSum += err;
                        s.errorMax = Math.max(s.errorMax, err);
                        s.errorCount++;
                    }
                }
            }
            n += m;
        }
        if (n == 0) {
            throw new AnalysisException("step '" + step + "': no example matches " + examples.describe());
        }
        return result(p, target, examples, sums, classNames, classCount, n);
    }

    /**
     * Conductance of every neuron for every example of a chunk.
     *
     * @param grad    d F / d h at the path rows, {@code [m * steps * positions * neurons]}
     * @param h       the layer at the path rows, same layout
     * @param hBase   the layer at the baseline, {@code [positions * neurons]}
     * @param m       examples
     * @param steps   path points per example
     * @param neurons neurons of the layer
     * @return {@code [m * neurons]}
     */
    static double[] conductance(float[] grad, float[] h, float[] hBase, int m, int steps, int neurons) {
        int rowSize = hBase.length;
        int positions = rowSize / neurons;
        double[] out = new double[m * neurons];
        for (int e = 0; e < m; e++) {
            int o = e * neurons;
            for (int k = 0; k < steps; k++) {
                int row = (e * steps + k) * rowSize;
                int prev = (e * steps + k - 1) * rowSize;
                for (int q = 0; q < positions; q++) {
                    int at = q * neurons;
                    for (int j = 0; j < neurons; j++) {
                        float before = k == 0 ? hBase[at + j] : h[prev + at + j];
                        out[o + j] += (double) grad[row + at + j] * (h[row + at + j] - before);
                    }
                }
            }
        }
        return out;
    }

    /** @return {@code [m * steps, ...]}: per example the points {@code b + k/steps (x - b)}, k = 1..steps (the last is x) */
    static Tensor path(Tensor inputs, float[] base, int steps) {
        int m = inputs.rows();
        int rs = inputs.rowSize();
        float[] x = inputs.floats();
        float[] out = new float[m * steps * rs];
        for (int e = 0; e < m; e++) {
            for (int k = 1; k <= steps; k++) {
                int o = (e * steps + k - 1) * rs;
                if (k == steps) {
                    System.arraycopy(x, e * rs, out, o, rs);
                    continue;
                }
                float a = (float) k / steps;
                for (int i = 0; i < rs; i++) {
                    out[o + i] = base[i] + a * (x[e * rs + i] - base[i]);
                }
            }
        }
        int[] shape = inputs.shape();
        shape[0] = m * steps;
        return Tensor.ofFloats(out, shape);
    }

    private static float[] meanInput(Dataset data, int batchSize, String step) {
        double[] sum = null;
        long n = 0;
        for (Iterator<Batch> it = data.batches(batchSize); it.hasNext(); ) {
            Batch b = it.next();
            float[] x = b.inputs().floats();
            int rs = b.inputs().rowSize();
            if (sum == null) {
                sum = new double[rs];
            }
            for (int i = 0; i < x.length; i++) {
                sum[i % rs] += x[i];
            }
            n += b.size();
        }
        if (n == 0) {
            throw new AnalysisException("step '" + step + "': the data set is empty, so it has no mean input for 'baseline: mean'");
        }
        float[] mean = new float[sum.length];
        for (int i = 0; i < mean.length; i++) {
            mean[i] = (float) (sum[i] / n);
        }
        return mean;
    }

    private static List<String> classNames(Target.Bound target, List<String> dataNames, boolean byTargetClass) {
        int count = byTargetClass ? target.neurons() : dataNames.size();
        List<String> names = new ArrayList<>();
        for (int c = 0; c < count; c++) {
            names.add(c < dataNames.size() ? dataNames.get(c) : Integer.toString(c));
        }
        return names;
    }

    private static AnalysisResult result(Params p, Target.Bound target, ExampleFilter examples, List<LayerSums> sums,
                                         List<String> classNames, long[] classCount, long n) {
        AnalysisResult.Builder r = AnalysisResult.builder();
        r.put("analyzer", "neuron-conductance");
        r.put("target", p.target());
        r.put("examples", n);
        r.put("selection", examples.describe());
        r.put("baseline", p.baseline().name().toLowerCase(java.util.Locale.ROOT));
        r.put("steps", p.steps());
        r.put("conductance", "sum_k dF/dh_j(x_k) (h_j(x_k) - h_j(x_{k-1})), x_k = b + k/steps (x - b), k = 1..steps, x_0 = b; "
                + "summed over positions for spatial layers");
        r.put("completenessError", "|sum_j conductance_j - (F(x) - F(b))| / |F(x) - F(b)| per example (examples with "
                + "|F(x) - F(b)| <= " + TINY_DIFFERENCE + " left out), averaged");
        r.put("interval", "95% Student t interval of the mean over examples");
        Map<String, Object> completeness = new LinkedHashMap<>();
        List<Finding> warnings = new ArrayList<>();
        List<Ranking.Entry> all = new ArrayList<>();
        for (LayerSums s : sums) {
            String name = s.layer.name();
            String id = RowBlocks.idOf(name);
            float[] mean = new float[s.neurons];
            float[] low = new float[s.neurons];
            float[] high = new float[s.neurons];
            float[] meanAbs = new float[s.neurons];
            for (int j = 0; j < s.neurons; j++) {
                Interval iv = RowBlocks.tInterval(s.sum[j], s.sumSq[j], n);
                mean[j] = (float) (s.sum[j] / n);
                low[j] = (float) iv.low();
                high[j] = (float) iv.high();
                meanAbs[j] = (float) (s.sumAbs[j] / n);
                all.add(new Ranking.Entry(new NeuronRef(name, j), mean[j], iv, null, null,
                        "mean |conductance| " + RowBlocks.fmt(meanAbs[j])));
            }
            r.part(new NeuronTable(id + "-conductance", "conductance of " + name + " for " + p.target(), name, s.neurons,
                    List.of(new NeuronTable.Column("mean", "conductance", "mean conductance over the examples, 95% t interval",
                                    NdArray.perNeuron(mean), NdArray.perNeuron(low), NdArray.perNeuron(high)),
                            NeuronTable.Column.of("meanAbs", "conductance", meanAbs)),
                    List.of(), "neuron conductance of " + p.target() + " on " + n + " examples (" + RowBlocks.selection(examples)
                    + "), " + p.baseline().name().toLowerCase(java.util.Locale.ROOT) + " baseline, " + p.steps() + " steps"));
            float[] byClass = new float[classNames.size() * s.neurons];
            for (int c = 0; c < classNames.size(); c++) {
                for (int j = 0; j < s.neurons; j++) {
                    byClass[c * s.neurons + j] = classCount[c] == 0 ? Float.NaN : (float) (s.byClass[c][j] / classCount[c]);
                }
            }
            if (!classNames.isEmpty()) {
                r.part(new Matrix(id + "-conductance-by-class", "mean conductance of " + name + " per class",
                        Matrix.Axis.of("class", classNames), Matrix.Axis.neurons(s.neurons),
                        NdArray.of(Tensor.ofFloats(byClass, classNames.size(), s.neurons), "class", "neuron"),
                        "mean conductance", name, "rows: the target's class (" + p.target() + ") of each example; NaN for a class with no example"));
            }
            double meanError = s.errorCount == 0 ? 0 : s.errorSum / s.errorCount;
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("meanRelativeError", meanError);
            c.put("maxRelativeError", s.errorMax);
            c.put("examples", s.errorCount);
            completeness.put(name, c);
            if (meanError > COMPLETENESS_LIMIT) {
                warnings.add(new Finding(id + "-completeness", Finding.Severity.WARNING, "the conductances of " + name
                        + " miss completeness by " + RowBlocks.fmt(100 * meanError) + "% on average (sum over neurons vs F(x) - F(baseline));"
                        + " raise 'steps' (now " + p.steps() + ")",
                        new Finding.Strength("mean relative completeness error", meanError, null, null), List.of(),
                        List.of(id + "-conductance")));
            }
        }
        r.put("completeness", completeness);
        all.sort(Comparator.comparingDouble(Ranking.Entry::score).reversed());
        List<Ranking.Entry> top = all.subList(0, Math.min(p.top(), all.size()));
        r.part(new Ranking("conductance-ranking", "neurons by mean conductance for " + p.target(), "mean conductance",
                top, "the " + top.size() + " neurons of " + String.join(", ", sums.stream().map(s -> s.layer.name()).toList())
                + " with the largest mean conductance over " + n + " examples; 95% t intervals"));
        warnings.forEach(r::finding);
        if (!top.isEmpty()) {
            Ranking.Entry e = top.get(0);
            r.finding(new Finding("top-neuron", Finding.Severity.NOTABLE, e.neuron() + " carries the most of " + p.target()
                    + ": mean conductance " + RowBlocks.fmt(e.score()) + " [" + RowBlocks.fmt(e.interval().low()) + ", "
                    + RowBlocks.fmt(e.interval().high()) + "] on " + n + " examples (" + RowBlocks.selection(examples) + ")",
                    new Finding.Strength("mean conductance", e.score(), e.interval(), null), List.of(e.neuron()),
                    List.of("conductance-ranking", RowBlocks.idOf(e.neuron().layer()) + "-conductance")));
        }
        return r.build();
    }

    private static int size(int[] shape) {
        int s = 1;
        for (int d : shape) {
            s *= d;
        }
        return s;
    }

    private static int[] prepend(int n, int[] shape) {
        int[] s = new int[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }
}
