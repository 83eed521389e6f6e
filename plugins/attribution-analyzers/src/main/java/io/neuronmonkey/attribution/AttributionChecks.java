package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.apache.commons.math3.stat.correlation.SpearmansCorrelation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The checks and summaries of input attributions, folded batch by batch: kept maps, per-class and per-group mean
 * |map|, the share of positive attribution in a region, deletion and insertion curves against random pixel orders,
 * and the model-parameter randomization check.
 */
final class AttributionChecks {

    /** Bootstrap resamples of the region share's interval. */
    static final int BOOTSTRAP = 2000;
    /** Distinct values of a groupBy key beyond which its means are left out. */
    static final int MAX_GROUPS = 100;
    /** Mean rank correlation with every layer randomized above which the maps are said not to explain the model. */
    static final double SANITY_LIMIT = 0.5;

    private AttributionChecks() {
    }

    /** Everything the pass folds, and the parts it writes at the end. */
    static final class Folds {
        private final InputAttribution.Setup s;
        private final InputAttribution.Options o;
        private final AttributionMethod method;
        private final List<String> classNames;
        private int[] rowShape;
        private int rs;
        private int pixels;
        private int channels;
        private final List<String> keptIds = new ArrayList<>();
        private final List<float[]> keptMaps = new ArrayList<>();
        private final List<float[]> keptInputs = new ArrayList<>();
        private final Map<Integer, double[]> classSums = new java.util.TreeMap<>();
        private final Map<Integer, Long> classCounts = new java.util.TreeMap<>();
        private final Map<String, Map<String, double[]>> groupSums = new LinkedHashMap<>();
        private final Map<String, Map<String, Long>> groupCounts = new LinkedHashMap<>();
        private final List<String> roiIds = new ArrayList<>();
        private final List<Double> roiShares = new ArrayList<>();
        private double roiArea;
        private final Deletion deletion;
        private final List<Kept> sanity = new ArrayList<>();
        private int sanityCount;

        /** A few examples kept for the randomization check. */
        private record Kept(Batch batch, int[] rows, float[] maps) {
        }

        Folds(InputAttribution.Setup s, InputAttribution.Options o, DatasetInfo info, AttributionMethod method) {
            this.s = s;
            this.o = o;
            this.method = method;
            this.classNames = info.classNames();
            this.deletion = o.deletion() ? new Deletion(o.deletionSteps(), o.randomOrders()) : null;
            for (String key : o.groupBy()) {
                groupSums.put(key, new LinkedHashMap<>());
                groupCounts.put(key, new LinkedHashMap<>());
            }
        }

        void accept(Batch b, int[] rows, Tensor maps, InputAttribution.Reference reference) {
            if (rowShape == null) {
                rowShape = InputGradients.exampleShape(b);
                rs = b.inputs().rowSize();
                channels = rowShape.length == 3 ? rowShape[2] : 1;
                pixels = rs / channels;
                if (o.roi() != null) {
                    if (rowShape.length < 2) {
                        throw new AnalysisException("step '" + s.step() + "': roi needs image inputs [height, width(, channels)],"
                                + " found example shape " + Arrays.toString(rowShape));
                    }
                    if (o.roi().get(2) >= rowShape[0] || o.roi().get(3) >= rowShape[1]) {
                        throw new AnalysisException("step '" + s.step() + "': roi " + o.roi() + " lies outside the "
                                + rowShape[0] + " x " + rowShape[1] + " input (rows 0.." + (rowShape[0] - 1) + ", columns 0.."
                                + (rowShape[1] - 1) + ")");
                    }
                    roiArea = (double) (o.roi().get(2) - o.roi().get(0) + 1) * (o.roi().get(3) - o.roi().get(1) + 1) / pixels;
                }
            }
            int n = b.size();
            float[] m = maps.floats();
            float[] x = b.inputs().floats();
            for (int r = 0; r < n && keptIds.size() < o.keep(); r++) {
                keptIds.add(b.ids().get(r));
                keptMaps.add(Arrays.copyOfRange(m, r * rs, (r + 1) * rs));
                keptInputs.add(Arrays.copyOfRange(x, r * rs, (r + 1) * rs));
            }
            for (int r = 0; r < n; r++) {
                int c = classOf(b, r, rows);
                if (c >= 0) {
                    add(classSums.computeIfAbsent(c, k -> new double[rs]), m, r);
                    classCounts.merge(c, 1L, Long::sum);
                }
                for (String key : o.groupBy()) {
                    Map<String, double[]> sums = groupSums.get(key);
                    String v = b.metadata().get(r).get(key);
                    if (sums == null || v == null) {
                        continue;
                    }
                    if (!sums.containsKey(v) && sums.size() == MAX_GROUPS) {
                        groupSums.put(key, null);
                        continue;
                    }
                    add(sums.computeIfAbsent(v, k -> new double[rs]), m, r);
                    groupCounts.get(key).merge(v, 1L, Long::sum);
                }
                if (o.roi() != null) {
                    roiIds.add(b.ids().get(r));
                    roiShares.add(regionShare(m, r));
                }
            }
            if (deletion != null && deletion.examples < o.deletionExamples()) {
                int take = (int) Math.min(n, o.deletionExamples() - deletion.examples);
                Batch sub = take == n ? b : ExampleFilter.select(b, range(take));
                deletion.accept(s, sub, Arrays.copyOf(rows, take), Arrays.copyOf(m, take * rs), reference.of(sub), pixels,
                        channels, o.internalBatch());
            }
            if (o.sanity() && sanityCount < o.sanityExamples()) {
                int take = Math.min(n, o.sanityExamples() - sanityCount);
                Batch sub = take == n ? b : ExampleFilter.select(b, range(take));
                sanity.add(new Kept(sub, Arrays.copyOf(rows, take), Arrays.copyOf(m, take * rs)));
                sanityCount += take;
            }
        }

        private int classOf(Batch b, int r, int[] rows) {
            if (s.target().target().kind() != Target.Kind.NEURON) {
                return rows[r];
            }
            return b.hasLabels() ? b.labels()[r] : -1;
        }

        private void add(double[] sum, float[] m, int r) {
            for (int i = 0; i < rs; i++) {
                sum[i] += Math.abs(m[r * rs + i]);
            }
        }

        /** The share of the example's positive attribution (per pixel, summed over channels) inside the region. */
        private double regionShare(float[] m, int r) {
            int w = rowShape[1];
            double inside = 0;
            double total = 0;
            for (int p = 0; p < pixels; p++) {
                double v = 0;
                for (int c = 0; c < channels; c++) {
                    v += m[r * rs + p * channels + c];
                }
                if (v > 0) {
                    total += v;
                    int row = p / w;
                    int col = p % w;
                    if (row >= o.roi().get(0) && row <= o.roi().get(2) && col >= o.roi().get(1) && col <= o.roi().get(3)) {
                        inside += v;
                    }
                }
            }
            return total > 0 ? inside / total : Double.NaN;
        }

        void finish(AnalysisResult.Builder r, String target, String notes) {
            float[] kept = new float[keptIds.size() * rs];
            float[] inputs = new float[keptIds.size() * rs];
            for (int i = 0; i < keptIds.size(); i++) {
                System.arraycopy(keptMaps.get(i), 0, kept, i * rs, rs);
                System.arraycopy(keptInputs.get(i), 0, inputs, i * rs, rs);
            }
            if (!keptIds.isEmpty()) {
                r.part(InputAttribution.maps("maps", method.name() + ": the first " + keptIds.size() + " examples", target,
                        keptIds, kept, inputs, rowShape, notes));
            }
            if (!classSums.isEmpty()) {
                List<String> ids = new ArrayList<>();
                float[] means = new float[classSums.size() * rs];
                int i = 0;
                for (Map.Entry<Integer, double[]> e : classSums.entrySet()) {
                    ids.add("class=" + InputAttribution.className(e.getKey(), classNames));
                    mean(e.getValue(), classCounts.get(e.getKey()), means, i++);
                }
                r.part(InputAttribution.maps("class-mean", method.name() + ": mean |map| per class of the target", target,
                        ids, means, null, rowShape, notes + "; mean of |map| over the examples whose target is the class"
                                + (s.target().target().kind() == Target.Kind.NEURON ? " (for a neuron target: the label)" : "")));
            }
            List<String> skipped = new ArrayList<>();
            groupSums.forEach((key, sums) -> {
                if (sums == null) {
                    skipped.add(key);
                    return;
                }
                if (sums.isEmpty()) {
                    return;
                }
                List<String> ids = new ArrayList<>();
                float[] means = new float[sums.size() * rs];
                int i = 0;
                for (Map.Entry<String, double[]> e : sums.entrySet()) {
                    ids.add(key + "=" + e.getKey());
                    mean(e.getValue(), groupCounts.get(key).get(e.getKey()), means, i++);
                }
                r.part(InputAttribution.maps("group-mean-" + key.replaceAll("[^A-Za-z0-9_-]", "_"),
                        method.name() + ": mean |map| per value of " + key, target, ids, means, null, rowShape,
                        notes + "; mean of |map| over the examples with each value"));
            });
            if (!skipped.isEmpty()) {
                r.put("groupBySkipped", "more than " + MAX_GROUPS + " values: " + String.join(", ", skipped));
            }
            if (o.roi() != null) {
                roi(r);
            }
            if (deletion != null) {
                deletion.finish(r, method.name(), target, s.target().target().kind() != Target.Kind.NEURON);
            }
            if (o.sanity()) {
                sanity(r);
            } else {
                r.put("sanity", "not run (sanity: false)");
            }
        }

        private void mean(double[] sum, long count, float[] out, int i) {
            for (int j = 0; j < rs; j++) {
                out[i * rs + j] = (float) (sum[j] / count);
            }
        }

        private void roi(AnalysisResult.Builder r) {
            int n = roiShares.size();
            float[] v = new float[n * 2];
            double[] finite = roiShares.stream().filter(Double::isFinite).mapToDouble(Double::doubleValue).toArray();
            for (int i = 0; i < n; i++) {
                v[2 * i] = roiShares.get(i).floatValue();
                v[2 * i + 1] = (float) roiArea;
            }
            r.part(new Matrix("roi", "share of positive attribution inside the region " + o.roi(),
                    Matrix.Axis.of("example", roiIds), Matrix.Axis.of("measure", List.of("share", "areaShare")),
                    NdArray.of(Tensor.ofFloats(v, n, 2), "example", "measure"), "fraction", null,
                    "share: positive attribution (per pixel, summed over channels) inside [top, left, bottom, right] = "
                            + o.roi() + " (inclusive) over all positive attribution of the example (NaN when it has none);"
                            + " areaShare: the region's pixels over the image's"));
            if (finite.length == 0) {
                r.put("roi", "no example has positive attribution");
                return;
            }
            double mean = Arrays.stream(finite).average().orElse(Double.NaN);
            double[] ci = bootstrap(finite, s.seed());
            Interval interval = new Interval(ci[0], ci[1], 0.95, "bootstrap percentile (" + BOOTSTRAP + " resamples of the examples)");
            r.put("roi", summary("region", o.roi(), "meanShare", mean, "low", ci[0], "high", ci[1],
                    "areaShare", roiArea, "examples", finite.length, "withoutPositive", n - finite.length));
            boolean notable = mean >= 2 * roiArea;
            String claim = method.name() + " puts " + percent(mean) + " of the positive attribution of " + finite.length
                    + " examples (" + o.selection() + ") in the region " + region() + ", which is " + percent(roiArea)
                    + " of the image (95% interval " + percent(ci[0]) + " to " + percent(ci[1]) + ", "
                    + ratio(mean / roiArea) + " its area share)";
            r.finding(new Finding("roi-share", notable ? Finding.Severity.NOTABLE : Finding.Severity.INFO, claim,
                    new Finding.Strength("mean share of positive attribution in the region", mean, interval, null),
                    List.of(), keptIds.isEmpty() ? List.of("roi") : List.of("maps", "roi")));
        }

        private String region() {
            return "[" + o.roi().get(0) + "," + o.roi().get(1) + "," + o.roi().get(2) + "," + o.roi().get(3) + "]";
        }

        private void sanity(AnalysisResult.Builder r) {
            LoadedModel model = s.model();
            List<String> layers = new ArrayList<>(model.parameterCounts().keySet());
            if (layers.isEmpty() || sanity.isEmpty()) {
                r.put("sanity", "skipped: " + (sanity.isEmpty() ? "no examples" : model.description()
                        + " cannot randomize parameters (no parameterCounts)"));
                return;
            }
            Collections.reverse(layers);
            int l = layers.size();
            float[] x = new float[l];
            float[] mean = new float[l];
            float[] low = new float[l];
            float[] high = new float[l];
            List<String> labels = new ArrayList<>();
            int constant = 0;
            SpearmansCorrelation spearman = new SpearmansCorrelation();
            for (int k = 1; k <= l; k++) {
                List<String> top = layers.subList(0, k);
                double sum = 0;
                double lo = Double.POSITIVE_INFINITY;
                double hi = Double.NEGATIVE_INFINITY;
                int count = 0;
                try (LoadedModel random = model.randomized(top, s.seed() + k)) {
                    for (Kept kept : sanity) {
                        float[] m = method.attribute(random, kept.batch(), s.target(), kept.rows()).floats();
                        for (int e = 0; e < kept.rows().length; e++) {
                            double rho = spearman.correlation(abs(kept.maps(), e), abs(m, e));
                            if (!Double.isFinite(rho)) {
                                rho = 0;
                                constant++;
                            }
                            sum += rho;
                            lo = Math.min(lo, rho);
                            hi = Math.max(hi, rho);
                            count++;
                        }
                    }
                } catch (ModelException e) {
                    r.put("sanity", "skipped: " + e.getMessage());
                    return;
                }
                x[k - 1] = k;
                mean[k - 1] = (float) (sum / count);
                low[k - 1] = (float) lo;
                high[k - 1] = (float) hi;
                labels.add(k + ": " + String.join(" + ", top));
            }
            r.part(new Series("sanity", "rank correlation of |map| with the trained model's, randomizing layers from the top",
                    "layers randomized (from the top)", "Spearman rho of |map|",
                    List.of(new Series.Curve("mean over examples", points(x), points(mean), points(low), points(high))),
                    "cascading model-parameter randomization over " + sanityCount + " examples: the top k layers of the"
                            + " model's parameterized layers re-drawn at random (seeded), maps recomputed with each example's"
                            + " target fixed; band: min and max over the examples"));
            r.put("sanity", summary("layers", labels, "examples", sanityCount, "rhoAllLayers", (double) mean[l - 1],
                    "constantMaps", constant, "note", "a randomized map that is constant counts as rho 0"));
            double rho = mean[l - 1];
            boolean similar = rho > SANITY_LIMIT;
            String claim = similar
                    ? method.name() + ": the maps of " + sanityCount + " examples stay similar (mean Spearman rho " + fmt(rho)
                    + " of |map|) after every layer's parameters are re-drawn: they follow the input more than the learned"
                    + " model, so they do not explain it alone"
                    : "randomizing every layer (" + l + " layers) leaves a rank correlation of " + fmt(rho) + " with the trained"
                    + " model's maps (" + sanityCount + " examples): " + method.name() + " depends on the learned parameters";
            r.finding(new Finding("sanity", similar ? Finding.Severity.WARNING : Finding.Severity.INFO, claim,
                    new Finding.Strength("mean Spearman rho of |map|, every layer randomized", rho,
                            new Interval(low[l - 1], high[l - 1], 0.95, "min and max over the examples (not a confidence interval)"), null),
                    List.<NeuronRef>of(), List.of("sanity")));
        }

        private double[] abs(float[] m, int e) {
            double[] out = new double[rs];
            for (int i = 0; i < rs; i++) {
                out[i] = Math.abs(m[e * rs + i]);
            }
            return out;
        }
    }

    /** Deletion and insertion curves, attribution order against seeded random orders. */
    static final class Deletion {
        private final int steps;
        private final int orders;
        /** [mode][order][fraction] sums over examples; mode 0 deletion, 1 insertion; order 0 attribution */
        private final double[][][] sums;
        long examples;

        Deletion(int steps, int randomOrders) {
            this.steps = steps;
            this.orders = randomOrders + 1;
            this.sums = new double[2][orders][steps + 1];
        }

        void accept(InputAttribution.Setup s, Batch b, int[] rows, float[] maps, float[] reference, int pixels,
                    int channels, int chunk) {
            int n = b.size();
            int rs = b.inputs().rowSize();
            float[] x = b.inputs().floats();
            int perExample = 2 * orders * (steps + 1);
            int group = Math.max(1, chunk / perExample);
            int[] rowShape = InputGradients.exampleShape(b);
            for (int first = 0; first < n; first += group) {
                int count = Math.min(group, n - first);
                float[] buf = new float[count * perExample * rs];
                for (int e = 0; e < count; e++) {
                    int ex = first + e;
                    for (int ord = 0; ord < orders; ord++) {
                        int[] order = ord == 0 ? attributionOrder(maps, ex, rs, pixels, channels)
                                : randomOrder(pixels, s.seed(), b.ids().get(ex), ord);
                        for (int mode = 0; mode < 2; mode++) {
                            float[] start = mode == 0 ? x : reference;
                            float[] end = mode == 0 ? reference : x;
                            int base = ((e * orders + ord) * 2 + mode) * (steps + 1);
                            System.arraycopy(start, ex * rs, buf, base * rs, rs);
                            int done = 0;
                            for (int j = 1; j <= steps; j++) {
                                int o = (base + j) * rs;
                                System.arraycopy(buf, o - rs, buf, o, rs);
                                int upto = (int) Math.round((double) j * pixels / steps);
                                for (; done < upto; done++) {
                                    int p = order[done] * channels;
                                    System.arraycopy(end, ex * rs + p, buf, o + p, channels);
                                }
                            }
                        }
                    }
                }
                int[] shape = new int[rowShape.length + 1];
                shape[0] = count * perExample;
                System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
                int[] of = new int[count * perExample];
                for (int i = 0; i < of.length; i++) {
                    of[i] = first + i / perExample;
                }
                float[] score = score(s, TextAttribution.rowsOf(b.modelInputs(), of, Tensor.ofFloats(buf, shape)), rows, first,
                        perExample);
                for (int e = 0; e < count; e++) {
                    for (int ord = 0; ord < orders; ord++) {
                        for (int mode = 0; mode < 2; mode++) {
                            int base = ((e * orders + ord) * 2 + mode) * (steps + 1);
                            for (int j = 0; j <= steps; j++) {
                                sums[mode][ord][j] += score[base + j];
                            }
                        }
                    }
                }
            }
            examples += n;
        }

        /** The target's probability (softmax of the logits) for a class target, else the neuron's value, per row. */
        private static float[] score(InputAttribution.Setup s, ModelInputs inputs, int[] rows, int first, int perExample) {
            Target.Bound t = s.target();
            float[] v = Values.perNeuron(s.model().run(inputs, List.of(t.layer()), List.of()).get(t.layer()));
            int c = t.neurons();
            int n = inputs.rows();
            float[] out = new float[n];
            boolean probability = t.target().kind() != Target.Kind.NEURON;
            for (int i = 0; i < n; i++) {
                int neuron = rows[first + i / perExample];
                if (probability) {
                    double max = Double.NEGATIVE_INFINITY;
                    for (int k = 0; k < c; k++) {
                        max = Math.max(max, v[i * c + k]);
                    }
                    double z = 0;
                    for (int k = 0; k < c; k++) {
                        z += Math.exp(v[i * c + k] - max);
                    }
                    out[i] = (float) (Math.exp(v[i * c + neuron] - max) / z);
                } else {
                    out[i] = v[i * c + neuron];
                }
            }
            return out;
        }

        void finish(AnalysisResult.Builder r, String method, String target, boolean probability) {
            float[] x = new float[steps + 1];
            for (int j = 0; j <= steps; j++) {
                x[j] = (float) j / steps;
            }
            double[] area = new double[2];
            double[] randomArea = new double[2];
            String[] ids = {"deletion", "insertion"};
            for (int mode = 0; mode < 2; mode++) {
                float[] y = new float[steps + 1];
                float[] mean = new float[steps + 1];
                float[] lo = new float[steps + 1];
                float[] hi = new float[steps + 1];
                Arrays.fill(lo, Float.POSITIVE_INFINITY);
                Arrays.fill(hi, Float.NEGATIVE_INFINITY);
                for (int j = 0; j <= steps; j++) {
                    y[j] = (float) (sums[mode][0][j] / examples);
                    for (int ord = 1; ord < orders; ord++) {
                        float v = (float) (sums[mode][ord][j] / examples);
                        mean[j] += v / (orders - 1);
                        lo[j] = Math.min(lo[j], v);
                        hi[j] = Math.max(hi[j], v);
                    }
                }
                area[mode] = trapezoid(y, steps);
                randomArea[mode] = trapezoid(mean, steps);
                r.part(new Series(ids[mode], (mode == 0 ? "deletion" : "insertion") + ": the target as pixels are "
                        + (mode == 0 ? "set to the baseline" : "revealed from the baseline"), "fraction of pixels",
                        probability ? "target probability" : "target value",
                        List.of(Series.Curve.of("attribution order", x.clone(), y),
                                new Series.Curve("random order", points(x.clone()), points(mean), points(lo), points(hi))),
                        "pixels (summed over channels) ordered most relevant first by " + method + ", against "
                                + (orders - 1) + " seeded random orders (band: min and max over them); mean over "
                                + examples + " examples of " + target + ", as a softmax probability for a class target"));
            }
            r.put("deletionArea", area[0]);
            r.put("deletionRandomArea", randomArea[0]);
            r.put("insertionArea", area[1]);
            r.put("insertionRandomArea", randomArea[1]);
            r.put("deletionExamples", examples);
            boolean beats = area[0] < randomArea[0];
            String claim = "deleting pixels in " + method + " order " + (beats ? "lowers the target faster than" : "does not lower the target faster than")
                    + " random order: deletion area " + fmt(area[0]) + " vs " + fmt(randomArea[0]) + " (mean of " + (orders - 1)
                    + " random orders); insertion area " + fmt(area[1]) + " vs " + fmt(randomArea[1]) + ", on " + examples + " examples";
            r.finding(new Finding("deletion", beats ? Finding.Severity.INFO : Finding.Severity.WARNING, claim,
                    new Finding.Strength("deletion area, random minus attribution order", randomArea[0] - area[0], null, null),
                    List.of(), List.of("deletion", "insertion")));
        }
    }

    /** Pixels by descending relevance (the map summed over channels), ties by index. */
    static int[] attributionOrder(float[] maps, int e, int rs, int pixels, int channels) {
        long[] keyed = new long[pixels];
        for (int p = 0; p < pixels; p++) {
            float v = 0;
            for (int c = 0; c < channels; c++) {
                v += maps[e * rs + p * channels + c];
            }
            int bits = Float.floatToIntBits(-v);
            int sortable = bits >= 0 ? bits : bits ^ 0x7FFFFFFF;
            keyed[p] = ((long) sortable << 32) | p;
        }
        Arrays.sort(keyed);
        int[] order = new int[pixels];
        for (int p = 0; p < pixels; p++) {
            order[p] = (int) keyed[p];
        }
        return order;
    }

    /** A seeded random permutation of the pixels, per example id and order number. */
    static int[] randomOrder(int pixels, long seed, String id, int k) {
        Random random = new Random(seed * 0x9E3779B97F4A7C15L + id.hashCode() * 31L + k * 1_000_003L);
        int[] order = new int[pixels];
        for (int i = 0; i < pixels; i++) {
            order[i] = i;
        }
        for (int i = pixels - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        return order;
    }

    static double trapezoid(float[] y, int steps) {
        double a = 0;
        for (int j = 1; j <= steps; j++) {
            a += (y[j - 1] + y[j]) / 2.0 / steps;
        }
        return a;
    }

    /** The 2.5% and 97.5% percentiles of the mean over {@link #BOOTSTRAP} seeded resamples. */
    static double[] bootstrap(double[] v, long seed) {
        Random random = new Random(seed * 0x9E3779B97F4A7C15L + 17);
        double[] means = new double[BOOTSTRAP];
        for (int b = 0; b < BOOTSTRAP; b++) {
            double sum = 0;
            for (int i = 0; i < v.length; i++) {
                sum += v[random.nextInt(v.length)];
            }
            means[b] = sum / v.length;
        }
        Arrays.sort(means);
        return new double[] {means[(int) Math.floor(0.025 * (BOOTSTRAP - 1))], means[(int) Math.ceil(0.975 * (BOOTSTRAP - 1))]};
    }

    /** @return the keys and values, alternating, as an ordered summary map */
    static Map<String, Object> summary(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static NdArray points(float[] v) {
        return NdArray.of(Tensor.ofFloats(v, v.length), "point");
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    static String percent(double v) {
        return String.format(Locale.ROOT, v < 0.1 ? "%.1f%%" : "%.0f%%", 100 * v);
    }

    static String ratio(double v) {
        return String.format(Locale.ROOT, "%.1fx", v);
    }

    static String fmt(double v) {
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.0f" : "%.3g", v);
    }
}
