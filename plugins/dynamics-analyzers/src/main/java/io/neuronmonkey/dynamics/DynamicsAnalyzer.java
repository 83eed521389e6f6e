package io.neuronmonkey.dynamics;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The census of every checkpoint of a training series on the same probe data, one model run per batch capturing
 * every requested layer: per layer the dead fraction, mean and variance over the checkpoints; per neuron the
 * checkpoint at which it died or came back; the standardized mean shift between consecutive checkpoints; the neurons
 * whose role changed most.
 */
@Extension
@ExtensionName(value = "dynamics",
        description = "Runs the census over every checkpoint of a series: when neurons die or come back, drift between checkpoints")
public final class DynamicsAnalyzer implements Analyzer<DynamicsAnalyzer.Params> {

    static final String SHIFT = "(mean at c+1 - mean at c) / pooled std over the probe examples (spatial layers:"
            + " each example's mean over positions), as census-diff computes it";

    /**
     * Settings.
     *
     * @param series the folder of checkpoints
     * @param top    neurons listed in the role-change ranking
     */
    public record Params(
            @Param(defaultValue = "", description = "folder holding the checkpoints (epoch_01, epoch_02, ... or ckpt-1, ckpt-2, ...), ordered by the number their name ends in; each is loaded with the experiment's model backend and params") String series,
            @Param(defaultValue = "10", description = "neurons listed in the role-change ranking, 1..100000") int top) {

        /** Checks every field. */
        public Params {
            Violations.check()
                    .require(series != null && !series.isBlank(), "series",
                            "must name the folder of checkpoints, e.g. models/run/checkpoints")
                    .require(top >= 1 && top <= 100_000, "top", "must be between 1 and 100000, found " + top)
                    .throwIfAny();
        }
    }

    /** Creates the analyzer. */
    public DynamicsAnalyzer() {
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        List<Checkpoints.Checkpoint> series = Checkpoints.list(ctx.resolve(p.series()), "series");
        List<LayerInfo> layers = ctx.layers().stream().filter(l -> l.role() != LayerInfo.Role.INPUT).toList();
        if (layers.isEmpty()) {
            throw new AnalysisException("step '" + ctx.stepId() + "' needs layers to follow; add 'layers: [dense1]'");
        }
        List<String> names = layers.stream().map(LayerInfo::name).toList();
        Dataset data = ctx.requireData();
        int c = series.size();
        // census[layer][checkpoint]
        Census[][] census = new Census[layers.size()][c];
        ctx.progress().start("dynamics over " + c + " checkpoints", c);
        for (int k = 0; k < c; k++) {
            try (LoadedModel model = ctx.loadModel(series.get(k).folder().toString())) {
                for (int l = 0; l < layers.size(); l++) {
                    LayerInfo info = model.layer(names.get(l)).orElseThrow(() -> new AnalysisException("step '"
                            + ctx.stepId() + "': a checkpoint of the series lacks a requested layer"));
                    int[] shape = info.shape();
                    census[l][k] = new Census(shape[shape.length - 1]);
                }
                Iterator<Batch> it = data.batches(ctx.batchSize());
                while (it.hasNext()) {
                    Batch b = it.next();
                    Map<String, Tensor> out = model.run(b.modelInputs(), names, List.of());
                    for (int l = 0; l < layers.size(); l++) {
                        census[l][k].add(out.get(names.get(l)).floats(), b.size());
                    }
                }
            }
            ctx.progress().advance(1);
        }
        ctx.progress().finish();

        AnalysisResult.Builder r = AnalysisResult.builder();
        float[] x = new float[c];
        for (int k = 0; k < c; k++) {
            x[k] = series.get(k).step();
        }
        List<Ranked> ranked = new ArrayList<>();
        List<Map<String, Object>> deaths = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            layer(r, names.get(l), census[l], series, x, ranked, deaths);
        }
        ranked.sort(Comparator.comparingDouble((Ranked e) -> -Math.abs(e.shift)));
        List<Ranking.Entry> entries = new ArrayList<>();
        for (Ranked e : ranked.subList(0, Math.min(p.top(), ranked.size()))) {
            entries.add(new Ranking.Entry(e.ref, e.shift, null, null, null, "between " + series.get(e.from).name()
                    + " and " + series.get(e.from + 1).name()));
        }
        if (!entries.isEmpty()) {
            r.part(new Ranking("role-change", "Neurons whose role changed most", "largest standardized mean shift"
                    + " between consecutive checkpoints", entries, SHIFT));
        }
        List<String> checkpointNames = series.stream().map(Checkpoints.Checkpoint::name).toList();
        return r.put("analyzer", "dynamics")
                .put("series", p.series())
                .put("checkpoints", checkpointNames)
                .put("steps", series.stream().map(Checkpoints.Checkpoint::step).toList())
                .put("layers", names)
                .put("examples", census[0][0].examples)
                .put("deaths", deaths)
                .put("method", "dead = never above 0 on any probe example and position; died at c = alive at c-1,"
                        + " dead at c and every later checkpoint; came back at c = dead at c-1, alive at c; shift: "
                        + SHIFT)
                .build();
    }

    private static void layer(AnalysisResult.Builder r, String layer, Census[] census,
                              List<Checkpoints.Checkpoint> series, float[] x, List<Ranked> ranked,
                              List<Map<String, Object>> deaths) {
        int c = census.length;
        int n = census[0].neurons;
        float[] deadFraction = new float[c];
        float[] mean = new float[c];
        float[] variance = new float[c];
        for (int k = 0; k < c; k++) {
            deadFraction[k] = (float) census[k].deadCount() / n;
            mean[k] = (float) census[k].layerMean();
            variance[k] = (float) census[k].layerVariance();
        }
        r.part(new Series(layer + "-dead-fraction", layer + ": dead fraction over checkpoints", "step",
                "dead fraction", List.of(Series.Curve.of(layer, x.clone(), deadFraction)),
                "fraction of neurons never above 0 on the probe data"));
        r.part(new Series(layer + "-mean-variance", layer + ": activation mean and variance over checkpoints", "step",
                "activation", List.of(Series.Curve.of("mean", x.clone(), mean),
                Series.Curve.of("variance", x.clone(), variance)), "over probe examples (spatial layers: each example's mean over positions) and neurons"));

        float[] diedAt = new float[n];
        float[] cameBackAt = new float[n];
        float[] maxShift = new float[n];
        List<Integer> endedDead = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            diedAt[j] = Float.NaN;
            cameBackAt[j] = Float.NaN;
            int lastAlive = -1;
            for (int k = 0; k < c; k++) {
                if (!census[k].isDead(j)) {
                    lastAlive = k;
                }
                if (k > 0 && census[k - 1].isDead(j) && !census[k].isDead(j) && Float.isNaN(cameBackAt[j])) {
                    cameBackAt[j] = x[k];
                }
            }
            if (lastAlive >= 0 && lastAlive < c - 1) {
                diedAt[j] = x[lastAlive + 1];
            }
            if (census[c - 1].isDead(j)) {
                endedDead.add(j);
            }
            double best = 0;
            int from = -1;
            for (int k = 0; k + 1 < c; k++) {
                double s = census[k].shift(census[k + 1], j);
                if (Double.isFinite(s) && Math.abs(s) > Math.abs(best)) {
                    best = s;
                    from = k;
                }
            }
            maxShift[j] = (float) best;
            if (from >= 0) {
                ranked.add(new Ranked(new NeuronRef(layer, j), best, from));
            }
        }
        float[] first = census[0].means();
        float[] last = census[c - 1].means();
        r.part(new NeuronTable(layer + "-dynamics", layer + ": per neuron over checkpoints", layer, n, List.of(
                NeuronTable.Column.of("diedAt", "step", diedAt),
                NeuronTable.Column.of("cameBackAt", "step", cameBackAt),
                NeuronTable.Column.of("maxShift", "pooled std", maxShift),
                NeuronTable.Column.of("firstMean", "activation", first),
                NeuronTable.Column.of("lastMean", "activation", last)),
                List.of(new NeuronTable.Tag("dead", "dead at the last checkpoint", endedDead)),
                "diedAt: the checkpoint step from which the neuron never fires again (NaN: alive at the end, or dead"
                        + " from the first); cameBackAt: the first step it fired again after being dead; maxShift: "
                        + SHIFT));

        for (int k = 1; k < c; k++) {
            List<NeuronRef> died = new ArrayList<>();
            for (int j = 0; j < n; j++) {
                if (diedAt[j] == x[k]) {
                    died.add(new NeuronRef(layer, j));
                }
            }
            if (died.isEmpty()) {
                continue;
            }
            String from = series.get(k - 1).name();
            String to = series.get(k).name();
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("layer", layer);
            d.put("from", from);
            d.put("to", to);
            d.put("neurons", died.stream().map(NeuronRef::neuron).toList());
            deaths.add(d);
            r.finding(new Finding(layer + "-died-" + series.get(k).step(), Finding.Severity.WARNING,
                    died.size() + " of " + n + " " + layer + " neurons died between " + from + " and " + to
                            + " and stayed dead",
                    new Finding.Strength("neurons died", died.size(), null, null), died,
                    List.of(layer + "-dynamics", layer + "-dead-fraction")));
        }
    }

    private record Ranked(NeuronRef ref, double shift, int from) {
    }

    /** One layer of one checkpoint: per neuron the sum and sum of squares of per-example values, and firing. */
    private static final class Census {
        final int neurons;
        final double[] sum;
        final double[] squares;
        final boolean[] fired;
        long examples;

        Census(int neurons) {
            this.neurons = neurons;
            sum = new double[neurons];
            squares = new double[neurons];
            fired = new boolean[neurons];
        }

        /** Adds a batch {@code [rows, positions..., neurons]}. */
        void add(float[] a, int rows) {
            int positions = a.length / (rows * neurons);
            for (int e = 0; e < rows; e++) {
                int base = e * positions * neurons;
                for (int j = 0; j < neurons; j++) {
                    double s = 0;
                    for (int q = 0; q < positions; q++) {
                        float v = a[base + q * neurons + j];
                        s += v;
                        fired[j] |= v > 0;
                    }
                    double m = s / positions;
                    sum[j] += m;
                    squares[j] += m * m;
                }
            }
            examples += rows;
        }

        boolean isDead(int j) {
            return !fired[j];
        }

        int deadCount() {
            int d = 0;
            for (boolean f : fired) {
                d += f ? 0 : 1;
            }
            return d;
        }

        double mean(int j) {
            return sum[j] / examples;
        }

        double variance(int j) {
            return examples < 2 ? 0 : Math.max(0, (squares[j] - examples * mean(j) * mean(j)) / (examples - 1));
        }

        float[] means() {
            float[] m = new float[neurons];
            for (int j = 0; j < neurons; j++) {
                m[j] = (float) mean(j);
            }
            return m;
        }

        double layerMean() {
            double s = 0;
            for (int j = 0; j < neurons; j++) {
                s += sum[j];
            }
            return s / ((double) examples * neurons);
        }

        double layerVariance() {
            double s = 0;
            for (int j = 0; j < neurons; j++) {
                s += squares[j];
            }
            double m = layerMean();
            return Math.max(0, s / ((double) examples * neurons) - m * m);
        }

        /** @return the standardized mean shift of neuron j from this census to {@code next}; NaN when both are flat */
        double shift(Census next, int j) {
            double a = variance(j);
            double b = next.variance(j);
            double pooled = ((examples - 1) * a + (next.examples - 1) * b) / (examples + next.examples - 2);
            double d = next.mean(j) - mean(j);
            return pooled > 0 ? d / Math.sqrt(pooled) : d == 0 ? 0 : Double.NaN;
        }
    }
}
