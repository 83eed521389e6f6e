package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The neuron health census: per neuron count, mean, standard deviation, min, max, firing rate (with a 95% Wilson
 * interval), a fixed-bin histogram and quantiles (p01..p99, from a DDSketch relative-accuracy sketch); flags for dead,
 * rarely-firing, always-on and saturated neurons; per layer fractions and sparsity; mean activation per class. Conv
 * channels are one neuron each, their positions reduced by mean or max. One streaming pass; memory independent of
 * the number of examples. Everything is deterministic and identical however the data is split and merged: the
 * statistics are exact, and the quantile sketches merge by adding bin counts.
 * <p>
 * Per layer {@code L} (id prefix {@code p}: the name with characters outside {@code [A-Za-z0-9_-]} as '_') the result
 * holds a neuron table {@code p-stats} (mean, std, min, max, firingRate with its interval, p01..p99; tags dead,
 * rarely-firing, always-on, saturated), a matrix {@code p-histogram} (neuron x bin counts) and, with classes, a matrix
 * {@code p-class-mean} (class x neuron). Findings: non-finite values, dead neurons of rectifier layers (warnings) and
 * saturated neurons of bounded layers other than Softmax outputs (notable). The summary holds run facts, criteria and
 * per-layer fractions only.
 * <p>
 * <b>Text.</b> A layer shaped {@code [T, D]} of a text batch is D neurons observed at T positions, and padding
 * positions ({@code Batch.positionMask} false) never enter a statistic: max and mean are over the real tokens,
 * {@code first} and {@code last} take the first and the last real token, and {@code token} makes every real token an
 * observation (counts, rates and denominators are then tokens). The summary then says how many sequences and tokens
 * were observed and how many padding positions were left out. On image data {@code first} and {@code last} are the
 * first and the last position (row-major) and {@code token} makes every position an observation.
 */
@Extension
@ExtensionName(value = "activation-stats",
        description = "Per-neuron census: moments, firing rates, histograms, quantiles; dead, rarely-firing, always-on and saturated neurons")
public final class ActivationStatsAnalyzer implements StreamingAnalyzer<ActivationStatsAnalyzer.Params> {

    /** How a neuron's positions (a conv channel's cells, a sequence's real tokens) become observations. */
    public enum Reduce {
        /** one value per example: the mean over its (real) positions */
        MEAN,
        /** one value per example: the max over its (real) positions */
        MAX,
        /** one value per example: the value at its first (real) position */
        FIRST,
        /** one value per example: the value at its last (real) position */
        LAST,
        /** every (real) position is an observation of its own */
        TOKEN
    }

    /** The quantiles reported per neuron, as ranks in [0, 1], and their names. */
    static final double[] QUANTILE_RANKS = {0.01, 0.05, 0.25, 0.50, 0.75, 0.95, 0.99};
    static final List<String> QUANTILE_NAMES = List.of("p01", "p05", "p25", "p50", "p75", "p95", "p99");

    /** Ops whose outputs are bounded, with their bounds, for the saturation check. */
    static final Map<String, double[]> BOUNDED = Map.of(
            "Sigmoid", new double[]{0, 1},
            "Tanh", new double[]{-1, 1},
            "Relu6", new double[]{0, 6},
            "Softsign", new double[]{-1, 1},
            "Softmax", new double[]{0, 1});

    /** Rectifier ops: the only ones where a neuron that never fires is dead rather than merely negative. */
    static final List<String> RECTIFIERS = List.of("Relu", "Relu6", "Elu", "Selu", "LeakyRelu");

    /**
     * Ops whose neurons get the firing tags (dead, rarely-firing, always-on): rectifiers, and pooling, which passes a
     * rectifier's zeros on. Linear ops (MatMul, BiasAdd, Add, Conv2D...) are negative half the time by design and
     * get none unless {@code flagAllOps} is set; probability outputs (Softmax, model outputs) get none at all.
     */
    static final Set<String> FIRING_OPS = Set.of("Relu", "Relu6", "Elu", "Selu", "LeakyRelu", "Softplus",
            "MaxPool", "MaxPoolV2", "MaxPool3D", "AvgPool", "AvgPool3D");

    /** @return what the {@code std} column is, for the chosen convention */
    static String stdConvention(int ddof) {
        return (ddof == 1 ? "sample standard deviation (n - 1 denominator, ddof 1)"
                : "population standard deviation (n denominator, ddof 0)") + ", from exact sums; 0 below two values";
    }

    /**
     * Params of activation-stats.
     *
     * @param reduce         how positions become observations: mean, max, first, last (one value per example) or
     *                       token (every real token, or every position of image data, is an observation)
     * @param threshold      a neuron fires on an example when its reduced value is above this
     * @param bins           histogram bins per neuron and layer
     * @param alwaysOnRate   firing rate at or above which a neuron is flagged always-on
     * @param saturationMargin distance to a bound of a bounded op (sigmoid, tanh, relu6) that counts as "at the bound",
     *                       as a fraction of the op's range
     * @param saturationRate fraction of examples at a bound above which a neuron is flagged saturated
     * @param rarelyFiringRate firing rate below which a neuron that fires at all is flagged rarely-firing
     * @param quantileAccuracy relative accuracy of the quantiles: each is within this fraction of the exact value
     * @param ddof           1: sample standard deviation (n - 1), 0: population (n)
     * @param flagAllOps     give the firing tags to every op, linear ones included
     */
    public record Params(
            @Param(defaultValue = "mean", description = "positions of a neuron (conv cells, real tokens; padding never counts): mean, max, first, last (one value per example; image data: first/last position) or token (every real token, every position of image data, is an observation)") Reduce reduce,
            @Param(defaultValue = "0.0", description = "a neuron fires when its value is above this") double threshold,
            @Param(defaultValue = "32", description = "histogram bins, 2..1024") int bins,
            @Param(defaultValue = "1.0", description = "firing rate at/above which a neuron is always-on, (0, 1]") double alwaysOnRate,
            @Param(defaultValue = "0.02", description = "distance to a bound, as a fraction of the op's range, counted as saturated") double saturationMargin,
            @Param(defaultValue = "0.95", description = "fraction of examples at a bound that flags a neuron saturated") double saturationRate,
            @Param(defaultValue = "0.01", description = "firing rate below which a neuron that fires at all is rarely-firing, [0, 1)") double rarelyFiringRate,
            @Param(defaultValue = "0.01", description = "relative accuracy of the per-neuron quantiles, (0, 0.5]: each is within this fraction of the exact value") double quantileAccuracy,
            @Param(defaultValue = "1", description = "standard deviation convention: 1 = sample (n - 1 denominator), 0 = population (n)") int ddof,
            @Param(defaultValue = "false", description = "tag dead, rarely-firing and always-on neurons on every op, not only on rectifiers and pooling") boolean flagAllOps,
            @Param(defaultValue = "[quantiles, histogram, classMeans]", description = "optional per-neuron statistics, each priced separately by bench: quantiles (p01..p99 columns), histogram (the p-histogram matrix), classMeans (the p-class-mean matrix); moments, extremes and firing rates are always computed") List<String> extras) implements java.io.Serializable {

        /** Checks every field. */
        public Params {
            Violations.check()
                    .require(reduce != null, "reduce", "must be mean, max, first, last or token")
                    .require(Double.isFinite(threshold), "threshold", "must be a finite number, found " + threshold)
                    .require(bins >= 2 && bins <= 1024, "bins", "must be between 2 and 1024, found " + bins)
                    .require(alwaysOnRate > 0 && alwaysOnRate <= 1, "alwaysOnRate", "must be in (0, 1], found " + alwaysOnRate)
                    .require(saturationMargin >= 0 && saturationMargin < 0.5, "saturationMargin", "must be in [0, 0.5), found " + saturationMargin)
                    .require(saturationRate > 0 && saturationRate <= 1, "saturationRate", "must be in (0, 1], found " + saturationRate)
                    .require(rarelyFiringRate >= 0 && rarelyFiringRate < 1, "rarelyFiringRate", "must be in [0, 1), found " + rarelyFiringRate)
                    .require(quantileAccuracy > 0 && quantileAccuracy <= 0.5, "quantileAccuracy", "must be in (0, 0.5], found " + quantileAccuracy)
                    .require(ddof == 0 || ddof == 1, "ddof", "must be 0 (population) or 1 (sample), found " + ddof)
                    .require(extras != null && EXTRAS.containsAll(extras), "extras", "must list some of " + EXTRAS
                            + ", found " + extras)
                    .throwIfAny();
            extras = List.copyOf(extras);
        }

        /**
         * The params of the previous release: every extra statistic on.
         *
         * @param reduce           see the record
         * @param threshold        see the record
         * @param bins             see the record
         * @param alwaysOnRate     see the record
         * @param saturationMargin see the record
         * @param saturationRate   see the record
         * @param rarelyFiringRate see the record
         * @param quantileAccuracy see the record
         * @param ddof             see the record
         * @param flagAllOps       see the record
         */
        public Params(Reduce reduce, double threshold, int bins, double alwaysOnRate, double saturationMargin,
                      double saturationRate, double rarelyFiringRate, double quantileAccuracy, int ddof, boolean flagAllOps) {
            this(reduce, threshold, bins, alwaysOnRate, saturationMargin, saturationRate, rarelyFiringRate, quantileAccuracy,
                    ddof, flagAllOps, EXTRAS);
        }

        boolean quantiles() {
            return extras.contains("quantiles");
        }

        boolean histogram() {
            return extras.contains("histogram");
        }

        boolean classMeans() {
            return extras.contains("classMeans");
        }

        /**
         * The params of earlier releases: sample standard deviation, firing tags on rectifiers and pooling only.
         *
         * @param reduce           see the record
         * @param threshold        see the record
         * @param bins             see the record
         * @param alwaysOnRate     see the record
         * @param saturationMargin see the record
         * @param saturationRate   see the record
         * @param rarelyFiringRate see the record
         * @param quantileAccuracy see the record
         */
        public Params(Reduce reduce, double threshold, int bins, double alwaysOnRate, double saturationMargin,
                      double saturationRate, double rarelyFiringRate, double quantileAccuracy) {
            this(reduce, threshold, bins, alwaysOnRate, saturationMargin, saturationRate, rarelyFiringRate, quantileAccuracy, 1, false);
        }
    }

    /** The optional statistics, all on by default. */
    static final List<String> EXTRAS = List.of("quantiles", "histogram", "classMeans");

    @Override
    public Accumulator start(AnalyzerContext<Params> ctx) {
        List<String> classes = ctx.data().map(d -> d.info().classNames()).orElse(List.of());
        return new Census(ctx.params(), ctx.layers(), classes);
    }

    /** The accumulator: one {@link LayerStats} per layer. */
    static final class Census implements Accumulator, java.io.Serializable {

        private static final long serialVersionUID = 1L;
        private final Params params;
        private final List<LayerInfo> layers;
        private final List<String> classNames;
        private final Map<String, LayerStats> stats = new LinkedHashMap<>();

        Census(Params params, List<LayerInfo> layers, List<String> classNames) {
            this.params = params;
            this.layers = List.copyOf(layers);
            this.classNames = List.copyOf(classNames);
            for (LayerInfo l : layers) {
                stats.put(l.name(), new LayerStats(l.neurons(), l.positions(), classNames.size(), params.bins(), params.quantileAccuracy(),
                        params.quantiles(), params.histogram(), params.classMeans()));
            }
        }

        @Override
        public void accept(ActivationBatch batch) {
            int n = batch.size();
            int[] labels = batch.batch().labels();
            boolean text = batch.batch().isText();
            for (LayerInfo l : layers) {
                Tensor t = batch.activation(l.name());
                if (t.size() != (long) n * l.neurons() * l.positions()) {
                    throw new AnalysisException("layer '" + l.name() + "' gave " + t + " for " + n + " examples; expected "
                            + l.positions() * l.neurons() + " values per example");
                }
                double[] b = bounds(l);
                boolean[] mask = text ? batch.batch().positionMask(l.positions()) : null;
                stats.get(l.name()).accept(t.floats(), n, labels, params.reduce(), mask, params.threshold(), b[0], b[1]);
            }
        }

        private double[] bounds(LayerInfo l) {
            double[] b = BOUNDED.get(l.opType());
            if (b == null) {
                return new double[]{Double.NEGATIVE_INFINITY, Double.POSITIVE_INFINITY};
            }
            double m = params.saturationMargin() * (b[1] - b[0]);
            return new double[]{b[0] + m, b[1] - m};
        }

        @Override
        public void merge(Accumulator other) {
            Census o = (Census) other;
            for (Map.Entry<String, LayerStats> e : stats.entrySet()) {
                e.getValue().merge(o.stats.get(e.getKey()));
            }
        }

        @Override
        public AnalysisResult finish() {
            AnalysisResult.Builder r = AnalysisResult.builder();
            long examples = stats.isEmpty() ? 0 : stats.values().iterator().next().sequences;
            r.put("analyzer", "activation-stats");
            r.put("reduce", params.reduce().name().toLowerCase(Locale.ROOT));
            r.put("threshold", params.threshold());
            r.put("examples", examples);
            r.put("classNames", classNames);
            Map<String, Object> criteria = new LinkedHashMap<>();
            criteria.put("fires", "reduced value > " + params.threshold());
            criteria.put("dead", params.reduce() == Reduce.TOKEN ? "never fires (value > " + params.threshold()
                    + ") on any observation: any of the examples, or of the (real) positions of a multi-position layer"
                    : deadCriterion(examples));
            criteria.put("rarelyFiring", rarelyCriterion());
            criteria.put("alwaysOn", alwaysOnCriterion());
            criteria.put("saturated", saturatedCriterion());
            criteria.put("sparsity", "fraction of raw activation values (every position) <= " + params.threshold());
            criteria.put("firingRateInterval", "95% Wilson score interval");
            criteria.put("std", stdConvention(params.ddof()));
            criteria.put("firingTags", (params.flagAllOps() ? "every op" : "ops " + new java.util.TreeSet<>(FIRING_OPS))
                    + "; Softmax and model outputs never; spatial layers: always-on by the firing rate over (example, "
                    + "position) values, so that a channel that is above the threshold somewhere on every image is not "
                    + "always-on");
            criteria.put("findings", "dead neurons are reported for rectifier ops only (" + String.join(", ", RECTIFIERS)
                    + "), as a warning when at least half of the layer is dead and as information otherwise; saturated neurons for bounded ops other than Softmax, and not for model outputs");
            // an ordered map: result.json is then the same from run to run (Map.of iterates in a per-JVM order)
            Map<String, Object> thresholds = new LinkedHashMap<>();
            thresholds.put("threshold", params.threshold());
            thresholds.put("rarelyFiringRate", params.rarelyFiringRate());
            thresholds.put("alwaysOnRate", params.alwaysOnRate());
            thresholds.put("saturationMargin", params.saturationMargin());
            thresholds.put("saturationRate", params.saturationRate());
            criteria.put("thresholds", thresholds);
            r.put("criteria", criteria);
            observed(r, examples);
            Map<String, Object> sketch = new LinkedHashMap<>();
            sketch.put("library", "DDSketch (com.datadoghq:sketches-java), cubically interpolated mapping, dense stores");
            sketch.put("relativeAccuracy", params.quantileAccuracy());
            sketch.put("zeroBelow", LayerStats.SKETCH_MIN_VALUE);
            sketch.put("quantiles", QUANTILE_NAMES);
            sketch.put("ranks", java.util.Arrays.stream(QUANTILE_RANKS).boxed().toList());
            sketch.put("deterministic", true);
            sketch.put("note", "the value at rank q*(n-1) of the sorted reduced values, within the relative accuracy; values "
                    + "closer to zero than zeroBelow count as 0; merging adds bin counts, so the quantiles do "
                    + "not depend on thread count or batch order");
            r.put("quantileSketch", sketch);
            Ids ids = new Ids();
            List<Object> layerList = new ArrayList<>();
            List<Finding> warnings = new ArrayList<>();
            List<Finding> notable = new ArrayList<>();
            List<Finding> info = new ArrayList<>();
            for (LayerInfo l : layers) {
                layerList.add(layer(l, stats.get(l.name()), ids, r, warnings, notable, info));
            }
            r.put("layers", layerList);
            warnings.forEach(r::finding);
            notable.forEach(r::finding);
            info.forEach(r::finding);
            return r.build();
        }

        private String deadCriterion(long examples) {
            return deadCriterion(examples, "examples");
        }

        private String deadCriterion(long n, String unit) {
            return "never fires (reduced value > " + params.threshold() + ") on any of the " + n
                    + " " + unit + " (firing rate 0)";
        }

        /** For text (a layer with token positions): how many sequences and tokens entered, how much padding did not. */
        private void observed(AnalysisResult.Builder r, long examples) {
            LayerStats tokens = stats.values().stream().filter(x -> x.masked).findFirst().orElse(null);
            if (tokens == null) {
                return;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("sequences", examples);
            m.put("tokens", tokens.observedPositions);
            m.put("paddingPositionsExcluded", tokens.paddingExcluded);
            m.put("observation", params.reduce() == Reduce.TOKEN ? "token" : "sequence");
            m.put("note", examples + " sequences with " + tokens.observedPositions + " real tokens were observed; "
                    + tokens.paddingExcluded + " padding positions (attention mask 0) entered no statistic"
                    + (params.reduce() == Reduce.TOKEN ? "; every real token of a token-level layer is an observation"
                    : "; each sequence is one observation, reduced over its real tokens (" + reduction(true) + ")"));
            r.put("observed", m);
        }

        /** @return true when a layer's texts name its reduction and observations the new way (text or a new mode) */
        private boolean described(LayerStats s) {
            return s.masked || params.reduce() != Reduce.MEAN && params.reduce() != Reduce.MAX;
        }

        /** @return what one observation of a multi-position layer is */
        private String reduction(boolean tokens) {
            String where = tokens ? "real token" : "position";
            return switch (params.reduce()) {
                case MEAN -> "mean over " + where + "s";
                case MAX -> "max over " + where + "s";
                case FIRST -> "value at the first " + where;
                case LAST -> "value at the last " + where;
                case TOKEN -> "activation at each " + where;
            };
        }

        /** @return the observations of a layer: examples, or tokens (positions on image data) with reduce token */
        private String unit(LayerInfo l, LayerStats s) {
            if (params.reduce() != Reduce.TOKEN || l.positions() == 1) {
                return "examples";
            }
            return s.masked ? "tokens" : "positions";
        }

        private String rarelyCriterion() {
            return "fires on at least one example, firing rate < " + params.rarelyFiringRate();
        }

        private String alwaysOnCriterion() {
            return "firing rate >= " + params.alwaysOnRate() + " (spatial layers: over every (example, position) value)";
        }

        private String saturatedCriterion() {
            return "bounded ops only (" + String.join(", ", Set.copyOf(BOUNDED.keySet()).stream().sorted().toList())
                    + "): within " + params.saturationMargin() + " of the op's range from a bound on >= "
                    + params.saturationRate() + " of the examples";
        }

        /** Adds the layer's {@code p-histogram} matrix. */
        private void histogram(LayerInfo l, LayerStats s, Ids ids, AnalysisResult.Builder r, String p, String unit, String reduced) {
            int nn = s.neurons;
            CommonGrid grid = CommonGrid.of(s.hist, params.bins());
            int bins = grid.bins();
            double[] edges = new double[bins + 1];
            List<String> labels = new ArrayList<>(bins);
            for (int i = 0; i <= bins; i++) {
                edges[i] = grid.edge(i);
            }
            for (int i = 0; i < bins; i++) {
                labels.add("[" + Numbers.exact(edges[i]) + ", " + Numbers.exact(edges[i + 1]) + ")");
            }
            r.part(new Matrix(ids.unique(p + "-histogram"), l.name() + ": histogram per neuron", Matrix.Axis.neurons(nn),
                    new Matrix.Axis("bin", labels, edges), NdArray.of(Tensor.ofFloats(grid.perNeuron(), nn, bins), "neuron", "bin"),
                    unit, l.name(), unit + " per bin of the " + reduced + "; bins of equal width, a power of two, "
                    + "aligned to multiples of it; the union of the occupied bins of the layer's neurons, at most "
                    + params.bins()));
        }

        /**
         * Adds the layer's parts ({@code p-stats}, {@code p-histogram}, {@code p-class-mean}) and findings.
         *
         * @return the layer's facts for the summary
         */
        private Map<String, Object> layer(LayerInfo l, LayerStats s, Ids ids, AnalysisResult.Builder r,
                                          List<Finding> warnings, List<Finding> notable, List<Finding> info) {
            // observations: the examples, or with reduce token the (real) positions of a multi-position layer
            s.flushSketches();
            long examples = s.count;
            String unit = unit(l, s);
            int nn = s.neurons;
            int nq = QUANTILE_RANKS.length;
            float[] mean = new float[nn];
            float[] std = new float[nn];
            float[] min = new float[nn];
            float[] max = new float[nn];
            float[] rate = new float[nn];
            float[] rateLow = new float[nn];
            float[] rateHigh = new float[nn];
            float[][] quant = new float[nq][nn];
            List<Integer> dead = new ArrayList<>();
            List<Integer> alwaysOn = new ArrayList<>();
            List<Integer> rarely = new ArrayList<>();
            List<Integer> saturated = new ArrayList<>();
            boolean probabilities = "Softmax".equals(l.opType()) || l.role() == LayerInfo.Role.OUTPUT;
            boolean bounded = BOUNDED.containsKey(l.opType()) && !probabilities;
            boolean firingTags = !probabilities && (params.flagAllOps() || FIRING_OPS.contains(l.opType()));
            float[] positionRate = s.positions > 1 && params.reduce() != Reduce.TOKEN ? new float[nn] : null;
            double rateSum = 0;
            for (int c = 0; c < nn; c++) {
                long n = s.seen[c];
                mean[c] = n == 0 ? Float.NaN : (float) s.mean(c);
                std[c] = n == 0 ? Float.NaN : (float) s.std(c, params.ddof());
                min[c] = n == 0 ? Float.NaN : (float) s.min[c];
                max[c] = n == 0 ? Float.NaN : (float) s.max[c];
                double fr = n == 0 ? 0 : (double) s.fired[c] / n;
                rate[c] = (float) fr;
                rateSum += fr;
                double[] ci = wilson(s.fired[c], n);
                rateLow[c] = (float) ci[0];
                rateHigh[c] = (float) ci[1];
                double onRate = fr;
                if (positionRate != null) {
                    // the examples' positions, NaN included: a channel above the threshold on every value of every image
                    long values = s.observedPositions;
                    onRate = values == 0 ? 0 : (double) s.positionsFired[c] / values;
                    positionRate[c] = (float) onRate;
                }
                if (firingTags && n > 0 && s.fired[c] == 0) {
                    dead.add(c);
                }
                if (firingTags && s.fired[c] > 0 && fr < params.rarelyFiringRate()) {
                    rarely.add(c);
                }
                if (firingTags && n > 0 && onRate >= params.alwaysOnRate()) {
                    alwaysOn.add(c);
                }
                if (bounded && n > 0 && (double) s.saturated[c] / n >= params.saturationRate()) {
                    saturated.add(c);
                }
                if (params.quantiles()) {
                    // all ranks from one walk of the sketch (its count is summed once, not once per rank)
                    double[] at = n == 0 || s.sketch[c].isEmpty() ? null : s.sketch[c].getValuesAtQuantiles(QUANTILE_RANKS);
                    for (int i = 0; i < nq; i++) {
                        // the sketch is within its relative accuracy of the exact quantile, which lies in [min, max]:
                        // clamping to the exact extremes can only move it closer
                        quant[i][c] = at == null ? Float.NaN : Math.max(min[c], Math.min(max[c], (float) at[i]));
                    }
                }
            }
            String p = ids.prefix(l.name());
            String reduced = !described(s) ? l.spatial() ? params.reduce().name().toLowerCase(Locale.ROOT) + " over positions"
                    : "activation" : l.positions() == 1 ? "activation" : reduction(s.masked);
            List<NeuronTable.Column> cols = new ArrayList<>();
            cols.add(column("mean", "activation", "mean of the " + reduced + " over the " + unit + " (non-finite values "
                    + "skipped; NaN when a neuron has none)", mean));
            cols.add(column("std", "activation", stdConvention(params.ddof()), std));
            cols.add(column("min", "activation", "smallest value", min));
            cols.add(column("max", "activation", "largest value", max));
            cols.add(new NeuronTable.Column("firingRate", "fraction", "fraction of the " + unit + " with a value > "
                    + params.threshold() + "; interval: 95% Wilson score", NdArray.perNeuron(rate),
                    NdArray.perNeuron(rateLow), NdArray.perNeuron(rateHigh)));
            if (positionRate != null) {
                cols.add(column("positionFiringRate", "fraction", "fraction of every (example, position) value > "
                        + params.threshold() + ": how much of the feature map the channel covers", positionRate));
            }
            for (int i = 0; i < nq && params.quantiles(); i++) {
                cols.add(column(QUANTILE_NAMES.get(i), "activation", "quantile at rank " + QUANTILE_RANKS[i]
                        + " (DDSketch, relative accuracy " + params.quantileAccuracy() + ")", quant[i]));
            }
            String noFiring = probabilities ? "; not tagged on probability outputs"
                    : firingTags ? "" : "; not tagged on " + l.opType() + " (not a rectifier or pooling op; set flagAllOps: true)";
            List<NeuronTable.Tag> tags = List.of(
                    new NeuronTable.Tag("dead", deadCriterion(examples, unit) + noFiring, dead),
                    new NeuronTable.Tag("rarely-firing", rarelyCriterion() + noFiring, rarely),
                    new NeuronTable.Tag("always-on", alwaysOnCriterion() + noFiring, alwaysOn),
                    new NeuronTable.Tag("saturated", bounded ? saturatedCriterion()
                            : saturatedCriterion() + "; " + (probabilities ? "not tagged on probability outputs"
                            : l.opType() + " is not bounded"), saturated));
            String statsId = ids.unique(p + "-stats");
            r.part(new NeuronTable(statsId, l.name() + ": neuron statistics", l.name(), nn, cols, tags,
                    "per neuron of " + l.name() + " (" + l.opType() + ", " + (l.spatial() ? "one neuron per channel, "
                            + reduced : l.positions() > 1 && described(s) ? "one neuron per unit, " + reduced
                            : "one value per unit") + ") over " + examples + " " + unit));

            if (params.histogram()) {
                histogram(l, s, ids, r, p, unit, reduced);
            }
            if (s.classes > 0 && params.classMeans()) {
                float[] cm = new float[s.classes * nn];
                for (int k = 0; k < s.classes; k++) {
                    for (int c = 0; c < nn; c++) {
                        cm[k * nn + c] = (float) s.classMean(k, c);
                    }
                }
                r.part(new Matrix(ids.unique(p + "-class-mean"), l.name() + ": mean per class", Matrix.Axis.of("class", classNames),
                        Matrix.Axis.neurons(nn), NdArray.of(Tensor.ofFloats(cm, s.classes, nn), "class", "neuron"),
                        "mean activation", l.name(), "mean of the " + reduced + " over the " + unit + " of each class; NaN "
                        + "where a class has no example"));
            }

            if (s.nonFinite > 0) {
                warnings.add(new Finding(ids.unique(p + "-non-finite"), Finding.Severity.WARNING, l.name() + " produced "
                        + s.nonFinite + " non-finite values (NaN or infinite) on " + examples + " " + unit + "; the statistics "
                        + "skip them", null, List.of(), List.of(statsId)));
            }
            if (!dead.isEmpty() && RECTIFIERS.contains(l.opType())) {
                // a few dead rectifiers are ordinary in a trained net; most of a layer dead is a broken layer
                boolean most = dead.size() * 2 >= nn;
                (most ? warnings : info).add(new Finding(ids.unique(p + "-dead"), most ? Finding.Severity.WARNING
                        : Finding.Severity.INFO, dead.size() + " of " + nn
                        + " neurons of " + l.name() + " never fire on " + examples + " " + unit + " (dead)",
                        new Finding.Strength("dead fraction", (double) dead.size() / nn, null, null),
                        refs(l.name(), dead), List.of(statsId)));
            }
            if (!saturated.isEmpty() && !"Softmax".equals(l.opType()) && l.role() != LayerInfo.Role.OUTPUT) {
                notable.add(new Finding(ids.unique(p + "-saturated"), Finding.Severity.NOTABLE, saturated.size() + " of "
                        + nn + " neurons of " + l.name() + " (" + l.opType() + ") are saturated: at a bound on >= "
                        + params.saturationRate() + " of " + examples + " " + unit,
                        new Finding.Strength("saturated fraction", (double) saturated.size() / nn, null, null),
                        refs(l.name(), saturated), List.of(statsId)));
            }

            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", l.name());
            m.put("opType", l.opType());
            m.put("shape", java.util.Arrays.stream(l.shape()).boxed().toList());
            m.put("neurons", nn);
            m.put("spatial", l.spatial());
            m.put("deadFraction", nn == 0 ? 0.0 : (double) dead.size() / nn);
            m.put("rarelyFiringFraction", nn == 0 ? 0.0 : (double) rarely.size() / nn);
            m.put("alwaysOnFraction", nn == 0 ? 0.0 : (double) alwaysOn.size() / nn);
            m.put("saturatedFraction", nn == 0 ? 0.0 : (double) saturated.size() / nn);
            m.put("sparsity", s.rawValues == 0 ? 0.0 : (double) s.rawAtOrBelow / s.rawValues);
            m.put("meanFiringRate", nn == 0 ? 0.0 : rateSum / nn);
            m.put("nonFiniteValues", s.nonFinite);
            if (described(s)) {
                m.put("observations", s.count);
                m.put("observationUnit", unit);
                m.put("sequences", s.sequences);
                m.put("positionsObserved", s.observedPositions);
                m.put("paddingPositionsExcluded", s.paddingExcluded);
            }
            return m;
        }

        private static NeuronTable.Column column(String name, String unit, String description, float[] values) {
            return new NeuronTable.Column(name, unit, description, NdArray.perNeuron(values), null, null);
        }

        private static List<NeuronRef> refs(String layer, List<Integer> neurons) {
            return neurons.stream().map(c -> new NeuronRef(layer, c)).toList();
        }
    }

    /** 95% Wilson score interval of a binomial proportion; [0, 1] when nothing was seen. */
    static double[] wilson(long successes, long n) {
        if (n == 0) {
            return new double[]{0, 1};
        }
        double z = 1.959963984540054;
        double p = (double) successes / n;
        double z2n = z * z / n;
        double centre = (p + z2n / 2) / (1 + z2n);
        double half = z * Math.sqrt(p * (1 - p) / n + z2n / (4.0 * n)) / (1 + z2n);
        // the closed form gives exactly 0 (or 1) at the boundaries; floating point leaves a residue of ~1e-19
        double lo = successes == 0 ? 0 : Math.max(0, centre - half);
        double hi = successes == n ? 1 : Math.min(1, centre + half);
        return new double[]{lo, hi};
    }
}
