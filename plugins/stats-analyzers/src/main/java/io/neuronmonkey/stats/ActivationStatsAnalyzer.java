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
 */
@Extension
@ExtensionName(value = "activation-stats",
        description = "Per-neuron census: moments, firing rates, histograms, quantiles; dead, rarely-firing, always-on and saturated neurons")
public final class ActivationStatsAnalyzer implements StreamingAnalyzer<ActivationStatsAnalyzer.Params> {

    /** How the spatial positions of a conv channel are reduced to one value per example. */
    public enum Reduce { MEAN, MAX }

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

    /**
     * Params of activation-stats.
     *
     * @param reduce         mean or max over the positions of a conv channel
     * @param threshold      a neuron fires on an example when its reduced value is above this
     * @param bins           histogram bins per neuron and layer
     * @param alwaysOnRate   firing rate at or above which a neuron is flagged always-on
     * @param saturationMargin distance to a bound of a bounded op (sigmoid, tanh, relu6) that counts as "at the bound",
     *                       as a fraction of the op's range
     * @param saturationRate fraction of examples at a bound above which a neuron is flagged saturated
     * @param rarelyFiringRate firing rate below which a neuron that fires at all is flagged rarely-firing
     * @param quantileAccuracy relative accuracy of the quantiles: each is within this fraction of the exact value
     */
    public record Params(
            @Param(defaultValue = "mean", description = "reduce conv channels over positions: mean or max") Reduce reduce,
            @Param(defaultValue = "0.0", description = "a neuron fires when its value is above this") double threshold,
            @Param(defaultValue = "32", description = "histogram bins, 2..1024") int bins,
            @Param(defaultValue = "1.0", description = "firing rate at/above which a neuron is always-on, (0, 1]") double alwaysOnRate,
            @Param(defaultValue = "0.02", description = "distance to a bound, as a fraction of the op's range, counted as saturated") double saturationMargin,
            @Param(defaultValue = "0.95", description = "fraction of examples at a bound that flags a neuron saturated") double saturationRate,
            @Param(defaultValue = "0.01", description = "firing rate below which a neuron that fires at all is rarely-firing, [0, 1)") double rarelyFiringRate,
            @Param(defaultValue = "0.01", description = "relative accuracy of the per-neuron quantiles, (0, 0.5]: each is within this fraction of the exact value") double quantileAccuracy) {

        /** Checks every field. */
        public Params {
            Violations.check()
                    .require(reduce != null, "reduce", "must be mean or max")
                    .require(Double.isFinite(threshold), "threshold", "must be a finite number, found " + threshold)
                    .require(bins >= 2 && bins <= 1024, "bins", "must be between 2 and 1024, found " + bins)
                    .require(alwaysOnRate > 0 && alwaysOnRate <= 1, "alwaysOnRate", "must be in (0, 1], found " + alwaysOnRate)
                    .require(saturationMargin >= 0 && saturationMargin < 0.5, "saturationMargin", "must be in [0, 0.5), found " + saturationMargin)
                    .require(saturationRate > 0 && saturationRate <= 1, "saturationRate", "must be in (0, 1], found " + saturationRate)
                    .require(rarelyFiringRate >= 0 && rarelyFiringRate < 1, "rarelyFiringRate", "must be in [0, 1), found " + rarelyFiringRate)
                    .require(quantileAccuracy > 0 && quantileAccuracy <= 0.5, "quantileAccuracy", "must be in (0, 0.5], found " + quantileAccuracy)
                    .throwIfAny();
        }
    }

    @Override
    public Accumulator start(AnalyzerContext<Params> ctx) {
        List<String> classes = ctx.data().map(d -> d.info().classNames()).orElse(List.of());
        return new Census(ctx.params(), ctx.layers(), classes);
    }

    /** The accumulator: one {@link LayerStats} per layer. */
    static final class Census implements Accumulator {
        private final Params params;
        private final List<LayerInfo> layers;
        private final List<String> classNames;
        private final Map<String, LayerStats> stats = new LinkedHashMap<>();

        Census(Params params, List<LayerInfo> layers, List<String> classNames) {
            this.params = params;
            this.layers = List.copyOf(layers);
            this.classNames = List.copyOf(classNames);
            for (LayerInfo l : layers) {
                stats.put(l.name(), new LayerStats(l.neurons(), l.positions(), classNames.size(), params.bins(), params.quantileAccuracy()));
            }
        }

        @Override
        public void accept(ActivationBatch batch) {
            int n = batch.size();
            int[] labels = batch.batch().labels();
            for (LayerInfo l : layers) {
                Tensor t = batch.activation(l.name());
                if (t.size() != (long) n * l.neurons() * l.positions()) {
                    throw new AnalysisException("layer '" + l.name() + "' gave " + t + " for " + n + " examples; expected "
                            + l.positions() * l.neurons() + " values per example");
                }
                double[] b = bounds(l);
                stats.get(l.name()).accept(t.floats(), n, labels, params.reduce() == Reduce.MAX, params.threshold(), b[0], b[1]);
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
            long examples = stats.isEmpty() ? 0 : stats.values().iterator().next().count;
            r.put("analyzer", "activation-stats");
            r.put("reduce", params.reduce().name().toLowerCase(Locale.ROOT));
            r.put("threshold", params.threshold());
            r.put("examples", examples);
            r.put("classNames", classNames);
            Map<String, Object> criteria = new LinkedHashMap<>();
            criteria.put("fires", "reduced value > " + params.threshold());
            criteria.put("dead", "never fires on any of the " + examples + " examples (firing rate 0)");
            criteria.put("rarelyFiring", "fires on at least one example, firing rate < " + params.rarelyFiringRate());
            criteria.put("alwaysOn", "firing rate >= " + params.alwaysOnRate());
            criteria.put("saturated", "bounded ops only (" + String.join(", ", Set.copyOf(BOUNDED.keySet()).stream().sorted().toList())
                    + "): within " + params.saturationMargin() + " of the op's range from a bound on >= "
                    + params.saturationRate() + " of the examples");
            criteria.put("sparsity", "fraction of raw activation values (every position) <= " + params.threshold());
            criteria.put("firingRateInterval", "95% Wilson score interval");
            criteria.put("thresholds", Map.of("threshold", params.threshold(), "rarelyFiringRate", params.rarelyFiringRate(),
                    "alwaysOnRate", params.alwaysOnRate(), "saturationMargin", params.saturationMargin(),
                    "saturationRate", params.saturationRate()));
            r.put("criteria", criteria);
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
            List<Object> layerList = new ArrayList<>();
            for (LayerInfo l : layers) {
                layerList.add(layerSummary(l, stats.get(l.name()), r));
            }
            r.put("layers", layerList);
            return r.build();
        }

        private Map<String, Object> layerSummary(LayerInfo l, LayerStats s, AnalysisResult.Builder r) {
            int nn = s.neurons;
            float[] mean = new float[nn];
            float[] std = new float[nn];
            float[] min = new float[nn];
            float[] max = new float[nn];
            float[] rate = new float[nn];
            List<Integer> dead = new ArrayList<>();
            List<Integer> alwaysOn = new ArrayList<>();
            List<Integer> rarely = new ArrayList<>();
            float[] quant = new float[nn * QUANTILE_RANKS.length];
            List<Integer> saturated = new ArrayList<>();
            List<Object> neurons = new ArrayList<>();
            boolean bounded = BOUNDED.containsKey(l.opType());
            double rateSum = 0;
            for (int c = 0; c < nn; c++) {
                long n = s.seen[c];
                double mu = s.mean(c);
                mean[c] = (float) mu;
                std[c] = (float) s.std(c);
                min[c] = n == 0 ? Float.NaN : (float) s.min[c];
                max[c] = n == 0 ? Float.NaN : (float) s.max[c];
                double fr = n == 0 ? 0 : (double) s.fired[c] / n;
                rate[c] = (float) fr;
                rateSum += fr;
                double[] ci = wilson(s.fired[c], n);
                List<String> flags = new ArrayList<>();
                if (n > 0 && s.fired[c] == 0) {
                    flags.add("dead");
                    dead.add(c);
                }
                if (s.fired[c] > 0 && fr < params.rarelyFiringRate()) {
                    flags.add("rarely-firing");
                    rarely.add(c);
                }
                if (n > 0 && fr >= params.alwaysOnRate()) {
                    flags.add("always-on");
                    alwaysOn.add(c);
                }
                if (bounded && n > 0 && (double) s.saturated[c] / n >= params.saturationRate()) {
                    flags.add("saturated");
                    saturated.add(c);
                }
                Map<String, Object> nm = new LinkedHashMap<>();
                nm.put("index", c);
                nm.put("count", n);
                nm.put("mean", mu);
                nm.put("std", (double) std[c]);
                nm.put("min", (double) min[c]);
                nm.put("max", (double) max[c]);
                nm.put("firingRate", fr);
                nm.put("firingRateLow", ci[0]);
                nm.put("firingRateHigh", ci[1]);
                Map<String, Object> q = new LinkedHashMap<>();
                for (int i = 0; i < QUANTILE_RANKS.length; i++) {
                    float v = n == 0 || s.sketch[c].isEmpty() ? Float.NaN : (float) s.sketch[c].getValueAtQuantile(QUANTILE_RANKS[i]);
                    quant[c * QUANTILE_RANKS.length + i] = v;
                    q.put(QUANTILE_NAMES.get(i), (double) v);
                }
                nm.put("quantiles", q);
                nm.put("flags", flags);
                neurons.add(nm);
            }
            String prefix = l.name().replaceAll("[^A-Za-z0-9_-]", "_");
            Map<String, Object> arrays = new LinkedHashMap<>();
            r.array(prefix + "-mean", Tensor.ofFloats(mean, nn));
            arrays.put("mean", prefix + "-mean");
            r.array(prefix + "-std", Tensor.ofFloats(std, nn));
            arrays.put("std", prefix + "-std");
            r.array(prefix + "-min", Tensor.ofFloats(min, nn));
            arrays.put("min", prefix + "-min");
            r.array(prefix + "-max", Tensor.ofFloats(max, nn));
            arrays.put("max", prefix + "-max");
            r.array(prefix + "-firing-rate", Tensor.ofFloats(rate, nn));
            arrays.put("firingRate", prefix + "-firing-rate");
            r.array(prefix + "-quantiles", Tensor.ofFloats(quant, nn, QUANTILE_RANKS.length));
            arrays.put("quantiles", prefix + "-quantiles");

            CommonGrid grid = CommonGrid.of(s.hist, params.bins());
            r.array(prefix + "-histogram", Tensor.ofFloats(grid.perNeuron(), nn, grid.bins()));
            arrays.put("histogram", prefix + "-histogram");
            if (s.classes > 0) {
                float[] cm = new float[s.classes * nn];
                for (int k = 0; k < s.classes; k++) {
                    for (int c = 0; c < nn; c++) {
                        cm[k * nn + c] = (float) s.classMean(k, c);
                    }
                }
                r.array(prefix + "-class-mean", Tensor.ofFloats(cm, s.classes, nn));
                arrays.put("classMean", prefix + "-class-mean");
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
            m.put("dead", dead);
            m.put("rarelyFiring", rarely);
            m.put("alwaysOn", alwaysOn);
            m.put("saturated", saturated);
            m.put("histogram", Map.of("edges", grid.edgeList(), "counts", grid.pooledList()));
            m.put("arrays", arrays);
            m.put("neuronStats", neurons);
            return m;
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
