package io.neuronmonkey.features;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.InputMaps;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Feature visualization by activation maximization: for each chosen neuron (a channel's spatial mean on spatial
 * layers) an input is optimized by Adam gradient ascent, the images of every neuron batched into one gradient call
 * per step. Inputs stay in the data's range: {@code x = sigmoid(z)} with {@code z} the pixels ({@code pixel}),
 * 1/f-scaled coefficients of an orthonormal 2-D cosine basis ({@code cosine}, dense matrices), or Lucid's decorrelated
 * Fourier parametrization ({@code fourier}: a 1/f-scaled real FFT spectrum per channel, {@code z = irfft2}, the
 * gradient back through the inverse FFT's adjoint, see {@link Spectra}); or MACO ({@code maco}: the Fourier magnitude
 * fixed to the data's mean amplitude spectrum, only the phase optimized, see {@link Parametrization.Maco}). Instead
 * of neurons, a direction of the layer's channel space can be maximized (its projection of the channel means; given,
 * or an earlier step's per-channel ranking such as a concept-vectors CAV). Regularizers: random jitter (circular
 * shifts, fresh per image and step), random rotation and scaling (bilinear; the gradient goes back through the
 * transform's adjoint), total variation, L2, and diversity (the mean pairwise cosine similarity of one
 * neuron's images, subtracted with a weight). A neuron of a spatial layer can also be maximized at one position (a
 * given one, or where it fires most over the data), optionally ascending its pre-activation so that a unit that is
 * off on the start image still gets a gradient; the result then says how the image's energy splits between that
 * position's receptive field, a region inside it and the rest. The neurons are listed, or the best of an earlier
 * step's ranking. The result compares the activation the optimized input reaches with the neuron's maximum over the
 * real data (one pass over the data).
 */
@Extension
@ExtensionName(value = "feature-visualization", description = "Feature visualization: inputs optimized to maximize chosen or top-ranked neurons or a direction (e.g. a CAV), as channel means or at one position (jitter, rotation, scaling, total variation, L2, diversity; pixel, cosine, FFT Fourier or MACO phase-only basis), compared with the neuron's maximum over the data, with the energy share of the position's receptive field")
public final class FeatureVisualizationAnalyzer implements Analyzer<FeatureVisualizationAnalyzer.Params> {

    /** The parametrizations of the optimized input. */
    public enum Basis {
        /** every pixel is a parameter */
        PIXEL,
        /** 1/f-scaled coefficients of an orthonormal 2-D cosine basis, by dense matrix products (the former "fourier") */
        COSINE,
        /** Lucid's decorrelated Fourier parametrization: a 1/f-scaled real FFT half spectrum (JTransforms) */
        FOURIER,
        /** magnitude-constrained optimization: the data's mean Fourier magnitude fixed, only the phase optimized */
        MACO
    }

    /**
     * Params of feature visualization.
     *
     * @param layer        the layer of the neurons
     * @param neurons      neuron (channel) indices
     * @param images       optimized images per neuron, each from its own seeded start
     * @param steps        ascent steps
     * @param learningRate Adam's rate
     * @param jitter       largest random shift in pixels
     * @param tv           total-variation weight
     * @param l2           L2 weight
     * @param basis        pixel, cosine, fourier (FFT) or maco
     * @param region       region [top, left, bottom, right] whose energy share is reported, or null
     * @param dataLimit    the most data examples scanned for the data maximum
     * @param position     the targeted position of a spatial layer: {@code [row, col]} of its grid, {@code [max]}
     *                     (where the neuron peaks over the data), or null for the channel mean
     * @param preActivation a capturable tensor of the layer's shape whose gradient drives the ascent (the layer's
     *                      input before its activation), or null for the layer itself
     * @param diversity    weight of the penalty on the mean cosine similarity of one neuron's images
     * @param from         {@code STEP} or {@code STEP/PART}: the neurons are the best of that step's ranking
     * @param top          how many neurons {@code from} takes
     * @param rotate       largest random rotation per image and step, degrees
     * @param scale        largest random relative scale change per image and step
     * @param direction    a direction in the layer's channel space (one weight per channel): its projection is
     *                     maximized instead of single neurons, or null
     * @param directionFrom {@code STEP/PART}: the direction is a per-channel ranking of an earlier step, e.g. a
     *                     {@code concept-vectors} CAV ({@code cav-CONCEPT-LAYER}), or null
     * @param spectrumExamples with basis maco: the most data examples whose mean amplitude spectrum is the fixed
     *                     magnitude
     */
    public record Params(
            @Param(description = "the layer whose neurons are visualized, e.g. conv2") String layer,
            @Param(description = "neuron (channel) indices of the layer, e.g. [4, 7]") List<Integer> neurons,
            @Param(defaultValue = "1", description = "optimized images per neuron, each from its own seeded start, 1..64") int images,
            @Param(defaultValue = "256", description = "gradient-ascent steps, 1..100000") int steps,
            @Param(defaultValue = "0.2", description = "Adam learning rate, > 0") double learningRate,
            @Param(defaultValue = "1", description = "largest random shift (pixels, circular) per image and step, 0..64") int jitter,
            @Param(defaultValue = "0.0", description = "total-variation penalty weight, >= 0") double tv,
            @Param(defaultValue = "0.0", description = "L2 penalty weight on the input, >= 0") double l2,
            @Param(defaultValue = "fourier", description = "parametrization: pixel; cosine (1/f-scaled orthonormal 2-D cosine basis, dense matrix products, cubic in the side; what 'fourier' meant before 0.6); fourier (Lucid's decorrelated parametrization: a 1/f-scaled real FFT spectrum per channel, JTransforms, image = sigmoid(irfft2)); maco (magnitude-constrained: the mean Fourier magnitude of spectrumExamples data images is fixed, only the phase is optimized, image standardized and mapped into the data's range by a sigmoid)") String basis,
            @Param(description = "region [top, left, bottom, right] (inclusive): share of the input's energy (sum of squares) inside it") List<Integer> region,
            @Param(defaultValue = "100000", description = "the most data examples scanned for each neuron's data maximum, >= 1") int dataLimit,
            @Param(description = "spatial layers: maximize the neuron at one position instead of its channel mean: [row, col] of the layer's grid, or [max] for the position where it fires most over the data (its top example's peak); the result adds the share of the image's energy inside that position's receptive field") List<String> position,
            @Param(description = "ascend the gradient of this capturable tensor of the layer's shape instead of the layer's (its pre-activation, e.g. conv2_bias before the ReLU conv2): a unit that is off on the start image gets no gradient through its ReLU; values are still reported for the layer") String preActivation,
            @Param(defaultValue = "0.0", description = "diversity: weight of the penalty on the mean cosine similarity between one neuron's images (centred), pushing them apart (on the demo CNN 0.003 takes the mean cosine from 0.6 to about 0 and keeps the activation; 0.03 starts to cost activation); needs images >= 2, >= 0") double diversity,
            @Param(description = "take the neurons from an earlier step's ranking: STEP or STEP/PART (a Ranking part on this layer; the step must be in inputs:); instead of neurons") String from,
            @Param(defaultValue = "4", description = "with from: how many of the ranking's best neurons, 1..64") int top,
            @Param(defaultValue = "0.0", description = "transformation robustness: largest random rotation per image and step, in degrees (about the image centre, bilinear), 0..180") double rotate,
            @Param(defaultValue = "0.0", description = "transformation robustness: largest random relative scale change per image and step, a factor drawn from [1 - scale, 1 + scale], 0..0.5") double scale,
            @Param(description = "maximize the projection onto this direction of the layer's activation (channel means on spatial layers), one weight per channel, e.g. [0, 1, -0.5, ...]; instead of neurons (the direction is normalized to unit length)") List<Double> direction,
            @Param(description = "the direction is an earlier step's per-channel ranking, STEP/PART, e.g. a concept-vectors CAV: watermark-tcav/cav-watermark-conv2 (its scores, the mean CAV weight per channel); the step must be in inputs:; instead of neurons") String directionFrom,
            @Param(defaultValue = "256", description = "basis maco: the most data examples whose mean Fourier amplitude spectrum is the fixed magnitude, 1..100000") int spectrumExamples) {

        /** The params of earlier releases: the channel mean is maximized. */
        public Params(String layer, List<Integer> neurons, int images, int steps, double learningRate, int jitter,
                      double tv, double l2, String basis, List<Integer> region, int dataLimit) {
            this(layer, neurons, images, steps, learningRate, jitter, tv, l2, basis, region, dataLimit, null, null, 0.0,
                    null, 4);
        }

        /** The params without transformation robustness: no rotation, no scaling. */
        public Params(String layer, List<Integer> neurons, int images, int steps, double learningRate, int jitter,
                      double tv, double l2, String basis, List<Integer> region, int dataLimit, List<String> position,
                      String preActivation, double diversity, String from, int top) {
            this(layer, neurons, images, steps, learningRate, jitter, tv, l2, basis, region, dataLimit, position,
                    preActivation, diversity, from, top, 0.0, 0.0);
        }

        /** The params without a direction target. */
        public Params(String layer, List<Integer> neurons, int images, int steps, double learningRate, int jitter,
                      double tv, double l2, String basis, List<Integer> region, int dataLimit, List<String> position,
                      String preActivation, double diversity, String from, int top, double rotate, double scale) {
            this(layer, neurons, images, steps, learningRate, jitter, tv, l2, basis, region, dataLimit, position,
                    preActivation, diversity, from, top, rotate, scale, null, null, 256);
        }

        /** Checks every field. */
        public Params {
            neurons = neurons == null ? List.of() : List.copyOf(neurons);
            region = region == null ? null : List.copyOf(region);
            position = position == null ? null : List.copyOf(position);
            List<String> at = position;
            basis = basis == null ? "fourier" : basis;
            String b = basis;
            List<Integer> ns = neurons;
            List<Integer> r = region;
            direction = direction == null ? null : List.copyOf(direction);
            List<Double> d = direction;
            int given = (from != null ? 1 : 0) + (ns.isEmpty() ? 0 : 1) + (d != null ? 1 : 0) + (directionFrom != null ? 1 : 0);
            Violations.check()
                    .require(layer != null && !layer.isBlank(), "layer", "is required, e.g. conv2")
                    .require(given == 1, "neurons",
                            "give exactly one of neurons, 'from' (a ranking of an earlier step), 'direction' (weights per channel)"
                                    + " or 'directionFrom' (STEP/PART), found " + given)
                    .require(d == null || !d.isEmpty() && d.stream().allMatch(v -> v != null && Double.isFinite(v))
                                    && d.stream().anyMatch(v -> v != 0), "direction",
                            "must be a non-empty list of finite weights, not all 0, found " + d)
                    .require(directionFrom == null || directionFrom.indexOf('/') > 0 && directionFrom.indexOf('/') < directionFrom.length() - 1,
                            "directionFrom", "must be STEP/PART (a per-channel ranking, e.g. watermark-tcav/cav-watermark-conv2), found '" + directionFrom + "'")
                    .require(position == null || d == null && directionFrom == null, "position",
                            "a direction is maximized on channel means; leave position out")
                    .require(spectrumExamples >= 1 && spectrumExamples <= 100000, "spectrumExamples",
                            "must be in 1..100000, found " + spectrumExamples)
                    .require(ns.stream().allMatch(i -> i != null && i >= 0), "neurons", "indices must be >= 0, found " + ns)
                    .require(from == null || !from.isBlank(), "from", "must be STEP or STEP/PART, found an empty value")
                    .require(top >= 1 && top <= 64, "top", "must be in 1..64, found " + top)
                    .require(diversity >= 0 && Double.isFinite(diversity), "diversity", "must be >= 0, found " + diversity)
                    .require(diversity == 0 || images >= 2, "diversity", "needs images >= 2 (images of one neuron are pushed apart), found images " + images)
                    .require(images >= 1 && images <= 64, "images", "must be in 1..64, found " + images)
                    .require(steps >= 1 && steps <= 100000, "steps", "must be in 1..100000, found " + steps)
                    .require(learningRate > 0 && Double.isFinite(learningRate), "learningRate", "must be > 0, found " + learningRate)
                    .require(jitter >= 0 && jitter <= 64, "jitter", "must be in 0..64, found " + jitter)
                    .require(rotate >= 0 && rotate <= 180, "rotate", "must be in 0..180 (degrees), found " + rotate)
                    .require(scale >= 0 && scale <= 0.5, "scale", "must be in 0..0.5, found " + scale)
                    .require(tv >= 0 && Double.isFinite(tv), "tv", "must be >= 0, found " + tv)
                    .require(l2 >= 0 && Double.isFinite(l2), "l2", "must be >= 0, found " + l2)
                    .require(java.util.Arrays.stream(Basis.values()).anyMatch(v -> v.name().equalsIgnoreCase(b)), "basis",
                            "must be pixel, cosine, fourier or maco, found " + b)
                    .require(r == null || (r.size() == 4 && r.get(0) <= r.get(2) && r.get(1) <= r.get(3) && r.get(0) >= 0 && r.get(1) >= 0),
                            "region", "must be [top, left, bottom, right] with top <= bottom, left <= right, >= 0, found " + r)
                    .require(dataLimit >= 1, "dataLimit", "must be >= 1, found " + dataLimit)
                    .require(at == null || at.size() == 1 && at.get(0).equalsIgnoreCase("max")
                                    || at.size() == 2 && at.stream().allMatch(v -> v.matches("\\d{1,6}")), "position",
                            "must be [row, col] (integers >= 0) or [max], found " + at)
                    .require(preActivation == null || !preActivation.isBlank(), "preActivation",
                            "must name a capturable tensor of the layer's shape, found an empty value")
                    .throwIfAny();
        }

        /** @return a copy with these neurons */
        Params withNeurons(List<Integer> chosen) {
            return new Params(layer, chosen, images, steps, learningRate, jitter, tv, l2, basis, region, dataLimit,
                    position, preActivation, diversity, null, top, rotate, scale, null, null, spectrumExamples);
        }

        /** @return true when the position is where each neuron peaks over the data */
        boolean peakPosition() {
            return position != null && position.size() == 1;
        }

        /** @return the parametrization */
        Basis parsedBasis() {
            return Basis.valueOf(basis.toUpperCase(Locale.ROOT));
        }
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params given = ctx.params();
        LoadedModel model = ctx.requireModel();
        LayerInfo layer = ImageMath.requireLayer(model, given.layer());
        Directions.Direction direction = given.direction() == null && given.directionFrom() == null ? null
                : Directions.resolve(ctx.inputs(), given.direction(), given.directionFrom(), layer);
        Params p = given.from() == null ? given
                : given.withNeurons(RankedNeurons.fromRanking(ctx.inputs(), given.from(), layer, given.top()));
        for (int i : p.neurons()) {
            if (i >= layer.neurons()) {
                throw new IllegalArgumentException("neurons: " + i + " is out of range, layer " + layer.name() + " has "
                        + layer.neurons() + " neurons (0.." + (layer.neurons() - 1) + ")");
            }
        }
        int[] shape = model.inputShape();
        if (shape.length != 3) {
            throw new IllegalArgumentException("feature-visualization needs image inputs [height, width, channels], the model takes "
                    + java.util.Arrays.toString(shape));
        }
        if (p.region() != null && (p.region().get(2) >= shape[0] || p.region().get(3) >= shape[1])) {
            throw new IllegalArgumentException("region: " + p.region() + " lies outside the " + shape[0] + " x " + shape[1] + " input");
        }
        String ascended = layer.name();
        if (p.preActivation() != null) {
            LayerInfo pre = model.layer(p.preActivation()).orElseThrow(() -> new IllegalArgumentException("preActivation: model "
                    + model.description() + " has no capturable tensor '" + p.preActivation() + "' ('neuronmonkey inspect --all' lists them)"));
            if (!java.util.Arrays.equals(pre.shape(), layer.shape())) {
                throw new IllegalArgumentException("preActivation: '" + pre.name() + "' has shape " + java.util.Arrays.toString(pre.shape())
                        + ", layer " + layer.name() + " has " + java.util.Arrays.toString(layer.shape()) + "; name the tensor the layer's activation is applied to");
            }
            ascended = pre.name();
        }
        int[] positions = null;
        float[] dataMax;
        if (p.position() != null) {
            if (!layer.spatial() || layer.shape().length != 3) {
                throw new IllegalArgumentException("position: layer " + layer.name() + " " + java.util.Arrays.toString(layer.shape())
                        + " has no [rows, cols] grid of positions; use a spatial layer such as a convolution, or leave position out");
            }
            Positions.Peaks peaks = Positions.peaks(ctx.requireData(), model, layer, p.neurons(), p.dataLimit(), ctx.batchSize());
            positions = p.peakPosition() ? peaks.position() : Positions.fixed(layer, p.position(), p.neurons().size());
            dataMax = peaks.maxAt(positions);
        } else if (direction != null) {
            float[] max = {Float.NEGATIVE_INFINITY};
            Positions.scan(ctx.requireData(), model, layer, p.dataLimit(), ctx.batchSize(), (t, n) -> {
                float[] v = Directions.project(t, direction.weights());
                for (int r = 0; r < n; r++) {
                    max[0] = Math.max(max[0], v[r]);
                }
            });
            dataMax = max;
        } else {
            dataMax = dataMax(ctx.requireData(), model, layer, p.neurons(), p.dataLimit(), ctx.batchSize());
        }
        Parametrization param = parametrization(p.parsedBasis(), shape, ctx, p.spectrumExamples());
        Optimizer opt = new Optimizer(model, layer, ascended, p, shape, ctx.seed(), positions,
                direction == null ? null : direction.weights(), param);
        long t0 = System.nanoTime();
        float[] images = opt.run();
        double seconds = (System.nanoTime() - t0) / 1e9;
        float[] reached = opt.values(images);
        boolean[][] fields = positions == null ? null : Positions.fields(model, ascended, p.neurons(), positions, shape, ctx.seed());
        return result(p, layer, shape, images, reached, dataMax, seconds / opt.count, positions, fields, direction, param);
    }

    /**
     * @param basis     the basis
     * @param shape     the input {@code [h, w, c]}
     * @param ctx       the step (its data, for maco's magnitude spectrum)
     * @param examples  maco: the most data examples of the magnitude spectrum
     * @return the parametrization of the optimized images
     */
    static Parametrization parametrization(Basis basis, int[] shape, AnalyzerContext<?> ctx, int examples) {
        return switch (basis) {
            case PIXEL -> new Parametrization.Pixel(shape[0], shape[1], shape[2]);
            case COSINE -> new Parametrization.Cosine(shape[0], shape[1], shape[2]);
            case FOURIER -> new Parametrization.Fourier(shape[0], shape[1], shape[2]);
            case MACO -> Parametrization.Maco.fromData(ctx.requireData(), examples, ctx.batchSize(), shape[0], shape[1], shape[2]);
        };
    }

    /**
     * The neurons' largest value (channel mean on spatial layers) over the data.
     *
     * @param data      the data
     * @param model     the model
     * @param layer     the layer
     * @param neurons   the neurons
     * @param limit     the most examples
     * @param batchSize rows per run
     * @return one maximum per neuron
     */
    static float[] dataMax(Dataset data, LoadedModel model, LayerInfo layer, List<Integer> neurons, int limit, int batchSize) {
        float[] max = new float[neurons.size()];
        java.util.Arrays.fill(max, Float.NEGATIVE_INFINITY);
        Positions.scan(data, model, layer, limit, batchSize, (t, n) -> {
            float[] v = reduce(t, layer, neurons);
            for (int r = 0; r < n; r++) {
                for (int k = 0; k < neurons.size(); k++) {
                    max[k] = Math.max(max[k], v[r * neurons.size() + k]);
                }
            }
        });
        return max;
    }

    /**
     * Channel means per row of the chosen neurons.
     *
     * @param t       the layer's output {@code [n, positions..., neurons]}
     * @param layer   the layer
     * @param neurons the neurons
     * @return {@code [n, neurons.size()]}
     */
    static float[] reduce(Tensor t, LayerInfo layer, List<Integer> neurons) {
        float[] a = t.floats();
        int n = t.dim(0);
        int c = layer.neurons();
        int pos = a.length / (n * c);
        float[] out = new float[n * neurons.size()];
        for (int r = 0; r < n; r++) {
            for (int k = 0; k < neurons.size(); k++) {
                int ch = neurons.get(k);
                double s = 0;
                for (int q = 0; q < pos; q++) {
                    s += a[(r * pos + q) * c + ch];
                }
                out[r * neurons.size() + k] = (float) (s / pos);
            }
        }
        return out;
    }

    /**
     * Share of an image's energy (sum of squares) inside a region.
     *
     * @param img    one image {@code [h, w, c]} at {@code offset}
     * @param offset start of the image
     * @param h      rows
     * @param w      columns
     * @param c      channels
     * @param region [top, left, bottom, right] inclusive
     * @return the share, 0..1 (0 for an all-zero image)
     */
    static double energyShare(float[] img, int offset, int h, int w, int c, List<Integer> region) {
        double in = 0;
        double all = 0;
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) {
                boolean inside = i >= region.get(0) && i <= region.get(2) && j >= region.get(1) && j <= region.get(3);
                for (int ch = 0; ch < c; ch++) {
                    double v = img[offset + (i * w + j) * c + ch];
                    all += v * v;
                    if (inside) {
                        in += v * v;
                    }
                }
            }
        }
        return all == 0 ? 0 : in / all;
    }

    private static AnalysisResult result(Params p, LayerInfo layer, int[] shape, float[] images, float[] reached,
                                         float[] dataMax, double secondsPerImage, int[] positions,
                                         boolean[][] fields, Directions.Direction direction, Parametrization param) {
        int k = direction != null ? 1 : p.neurons().size();
        int per = p.images();
        int size = shape[0] * shape[1] * shape[2];
        // what each target is called: a neuron, or the direction (its refs: the channels it weighs most)
        List<String> prefix = new ArrayList<>();
        List<String> label = new ArrayList<>();
        List<List<NeuronRef>> refs = new ArrayList<>();
        if (direction != null) {
            prefix.add(layer.name() + "-direction");
            label.add(layer.name() + " along " + direction.name());
            refs.add(topChannels(layer.name(), direction.weights(), 3));
        } else {
            for (int n : p.neurons()) {
                prefix.add(layer.name() + "-" + n);
                label.add(layer.name() + " #" + n);
                refs.add(List.of(new NeuronRef(layer.name(), n)));
            }
        }
        List<String> ids = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        List<String> cols = new ArrayList<>(List.of("optimized", "data max", "ratio"));
        if (p.region() != null) {
            cols.add("region energy share");
            cols.add("region area share");
        }
        double[] cosine = per > 1 ? Diversity.meanCosine(images, per, size) : null;
        int cosineCol = cols.size();
        if (cosine != null) {
            cols.add("mean cosine to the neuron's other images");
        }
        int fieldCol = cols.size();
        if (positions != null) {
            cols.add("field energy share");
            cols.add("field area share");
            if (p.region() != null) {
                cols.add("region energy share of field");
                cols.add("region area share of field");
            }
        }
        float[] table = new float[k * per * cols.size()];
        double area = p.region() == null ? 0 : (double) (p.region().get(2) - p.region().get(0) + 1)
                * (p.region().get(3) - p.region().get(1) + 1) / (shape[0] * shape[1]);
        AnalysisResult.Builder r = AnalysisResult.builder();
        for (int n = 0; n < k; n++) {
            for (int j = 0; j < per; j++) {
                int row = n * per + j;
                ids.add(prefix.get(n) + "-" + j);
                rows.add(label.get(n) + (per > 1 ? " image " + j : ""));
                int at = row * cols.size();
                table[at] = reached[row];
                table[at + 1] = dataMax[n];
                table[at + 2] = dataMax[n] > 0 ? reached[row] / dataMax[n] : Float.NaN;
                if (p.region() != null) {
                    table[at + 3] = (float) energyShare(images, row * size, shape[0], shape[1], shape[2], p.region());
                    table[at + 4] = (float) area;
                }
                if (cosine != null) {
                    table[at + cosineCol] = (float) cosine[row];
                }
                if (positions != null) {
                    double[] f = Positions.shares(images, row * size, shape, fields[n], p.region());
                    for (int i = 0; i < f.length; i++) {
                        table[at + fieldCol + i] = (float) f[i];
                    }
                }
            }
        }
        int[] mapShape = {k * per, shape[0], shape[1], shape[2]};
        String target = direction != null ? label.get(0)
                : layer.name() + " " + p.neurons().stream().map(i -> "#" + i).toList();
        String objective = direction != null ? "projection of the " + (layer.spatial() ? "channel means" : "activation")
                + " onto the unit direction" : positions != null ? "value at one position" : layer.spatial() ? "channel mean" : "value";
        String basis = p.parsedBasis().name().toLowerCase(Locale.ROOT);
        r.part(new InputMaps("optimized", "Optimized inputs", target, ids,
                NdArray.of(Tensor.ofFloats(images, mapShape), "example", "height", "width", "channel"), null,
                "inputs maximizing " + (direction != null ? "the " : "each neuron (") + objective + (direction != null ? "" : ")")
                        + ", " + p.steps() + " Adam steps, " + basis + " basis"));
        r.part(new Matrix("activation", "Activation reached vs the data maximum", Matrix.Axis.of("image", rows),
                Matrix.Axis.of("measure", cols), NdArray.of(Tensor.ofFloats(table, k * per, cols.size()), "image", "measure"),
                "activation", null, "optimized: the " + (direction != null ? "" : "neuron's ") + objective + " on the optimized input; data max: its largest value over"
                + " the data; ratio: optimized / data max; energy: sum of squared pixel values (the data's background is 0)"
                + (positions == null ? "" : "; field: the input pixels whose gradient of the target is non-zero on random inputs")));
        for (int n = 0; n < k; n++) {
            int row = n * per;
            float ratio = table[row * cols.size() + 2];
            String what = direction != null ? "the projection of " + label.get(n) + " (" + objective + ")" : label.get(n);
            String claim = String.format(Locale.ROOT, "optimized input drives %s to %.3g, %.1fx its data maximum (%.3g)",
                    what, reached[row], ratio, dataMax[n]);
            if (p.region() != null) {
                claim += String.format(Locale.ROOT, "; %.0f%% of its energy lies in region %s (%.1f%% of the area)",
                        100 * table[row * cols.size() + 3], p.region(), 100 * area);
            }
            if (positions != null) {
                int at = row * cols.size() + fieldCol;
                int gw = layer.shape()[1];
                claim += String.format(Locale.ROOT, "; at position (%d, %d) %.0f%% of its energy lies in that position's"
                                + " receptive field (%.1f%% of the image)", positions[n] / gw, positions[n] % gw,
                        100 * table[at], 100 * table[at + 1]);
                if (p.region() != null) {
                    claim += String.format(Locale.ROOT, ", %.0f%% of the field's energy in the region (%.1f%% of the"
                            + " field's area)", 100 * table[at + 2], 100 * table[at + 3]);
                }
            }
            r.finding(new Finding("drive-" + prefix.get(n),
                    ratio > 1 ? Finding.Severity.NOTABLE : Finding.Severity.INFO, claim,
                    new Finding.Strength("optimized / data max", ratio, null, null),
                    refs.get(n), List.of("activation", "optimized")));
        }
        if (positions != null) {
            int gw = layer.shape()[1];
            r.put("positions", java.util.Arrays.stream(positions).mapToObj(q -> List.of(q / gw, q % gw)).toList());
        }
        if (direction != null) {
            List<Double> unit = new ArrayList<>();
            for (float v : direction.weights()) {
                unit.add((double) v);
            }
            r.put("direction", unit);
            r.put("directionName", direction.name());
        }
        if (param instanceof Parametrization.Maco m) {
            r.put("macoRange", List.of(m.range()[0], m.range()[1]));
            r.put("macoExamples", p.spectrumExamples());
        }
        return r.put("layer", layer.name())
                .put("neurons", p.neurons())
                .put("imagesPerNeuron", per)
                .put("steps", p.steps())
                .put("basis", basis)
                .put("secondsPerImage", secondsPerImage)
                .put("diversity", p.diversity())
                .put("method", "Adam ascent on the " + basis + " parametrization (" + describe(p.parsedBasis())
                        + "), one batched gradient call per step for all images; jitter "
                        + p.jitter() + " px, rotation up to " + p.rotate() + " degrees, scale within 1 +- " + p.scale()
                        + " (bilinear, about the centre), tv " + p.tv() + ", l2 " + p.l2() + ", diversity " + p.diversity()
                        + " (weight of the mean pairwise cosine similarity of a neuron's centred images)")
                .build();
    }

    private static String describe(Basis b) {
        return switch (b) {
            case PIXEL -> "x = sigmoid(u), one parameter per pixel";
            case COSINE -> "x = sigmoid(inverse 2-D DCT of 1/f-scaled coefficients), dense matrices";
            case FOURIER -> "x = sigmoid(irfft2(scale * spectrum)), scale 1/max(f, 1/max(h, w)), JTransforms FFT";
            case MACO -> "x = lo + (hi - lo) sigmoid(standardized irfft2(M e^{i phase})), M the data's mean amplitude spectrum, only the phase optimized";
        };
    }

    /** @return the {@code k} channels of largest weight */
    private static List<NeuronRef> topChannels(String layer, float[] weights, int k) {
        return java.util.stream.IntStream.range(0, weights.length).boxed()
                .sorted((a, b) -> Float.compare(weights[b], weights[a])).limit(k)
                .map(i -> new NeuronRef(layer, i)).toList();
    }

    /** The gradient ascent of every image at once. */
    static final class Optimizer {
        private final LoadedModel model;
        private final LayerInfo layer;
        private final Params p;
        private final int h;
        private final int w;
        private final int c;
        final int count;
        private final int[] targetPerRow;
        private final Random random;
        private final String input;
        private final int[] positionPerRow;
        private final String ascended;
        private final float[] direction;
        private final Parametrization param;
        private float[] last;

        /**
         * @param direction unit weights per channel whose projection is maximized (then {@code p.neurons()} is
         *                  ignored), or null
         * @param param     the parametrization of the images
         */
        Optimizer(LoadedModel model, LayerInfo layer, String ascended, Params p, int[] shape, long seed, int[] positions,
                  float[] direction, Parametrization param) {
            this.model = model;
            this.layer = layer;
            this.ascended = ascended;
            this.p = p;
            this.h = shape[0];
            this.w = shape[1];
            this.c = shape[2];
            this.direction = direction;
            this.param = param;
            this.count = (direction != null ? 1 : p.neurons().size()) * p.images();
            this.targetPerRow = new int[count];
            this.positionPerRow = positions == null ? null : new int[count];
            for (int i = 0; i < count && direction == null; i++) {
                targetPerRow[i] = p.neurons().get(i / p.images());
                if (positions != null) {
                    positionPerRow[i] = positions[i / p.images()];
                }
            }
            this.random = new Random(seed);
            this.input = model.layers().stream().filter(l -> l.role() == LayerInfo.Role.INPUT).map(LayerInfo::name)
                    .findFirst().orElseThrow(() -> new IllegalStateException(model.description() + " names no input layer"));
        }

        /** @return the parameters after the last {@link #run} */
        float[] parameters() {
            return last.clone();
        }

        /** @return the optimized images {@code [count, h, w, c]} */
        float[] run() {
            float[] u = param.init(count, random);
            ImageMath.Adam adam = new ImageMath.Adam(u.length, p.learningRate());
            GradientTarget target = direction != null ? GradientTarget.weighted(ascended, direction)
                    : positionPerRow == null ? GradientTarget.perRow(ascended, targetPerRow)
                    : GradientTarget.perRowAtPositions(ascended, targetPerRow, positionPerRow);
            // a weighted or per-row target on a spatial layer sums over positions: divide to ascend the channel mean
            double perPosition = positionPerRow == null ? 1.0 / layer.positions() : 1.0;
            int[] dy = new int[count];
            int[] dx = new int[count];
            double[] angle = new double[count];
            double[] factor = new double[count];
            for (int step = 0; step < p.steps(); step++) {
                float[] x = param.image(u, count);
                for (int b = 0; b < count; b++) {
                    dy[b] = p.jitter() == 0 ? 0 : random.nextInt(2 * p.jitter() + 1) - p.jitter();
                    dx[b] = p.jitter() == 0 ? 0 : random.nextInt(2 * p.jitter() + 1) - p.jitter();
                }
                float[] shifted = p.jitter() == 0 ? x : ImageMath.roll(x, count, h, w, c, dy, dx);
                boolean transformed = p.rotate() > 0 || p.scale() > 0;
                if (transformed) {
                    for (int b = 0; b < count; b++) {
                        angle[b] = p.rotate() == 0 ? 0 : Math.toRadians((2 * random.nextDouble() - 1) * p.rotate());
                        factor[b] = p.scale() == 0 ? 1 : 1 + (2 * random.nextDouble() - 1) * p.scale();
                    }
                    shifted = ImageMath.affine(shifted, count, h, w, c, angle, factor, false);
                }
                float[] g = model.gradient(Tensor.ofFloats(shifted, count, h, w, c), target, input).floats();
                if (transformed) {
                    g = ImageMath.affine(g, count, h, w, c, angle, factor, true);
                }
                if (p.jitter() > 0) {
                    g = ImageMath.roll(g, count, h, w, c, negate(dy), negate(dx));
                }
                for (int i = 0; i < g.length; i++) {
                    g[i] = (float) (g[i] * perPosition - 2 * p.l2() * x[i]);
                }
                if (p.tv() > 0) {
                    ImageMath.totalVariation(x, count, h, w, c, -p.tv(), g);
                }
                Diversity.addGradient(x, p.images(), h * w * c, p.diversity(), g);
                adam.ascend(u, param.backward(u, x, g, count));
            }
            last = u;
            return param.image(u, count);
        }

        /**
         * @param images {@code [count, h, w, c]}
         * @return each image's value of its target: its neuron, or the projection onto the direction
         */
        float[] values(float[] images) {
            Tensor t = model.run(Tensor.ofFloats(images, count, h, w, c), List.of(layer.name()), List.of()).get(layer.name());
            if (direction != null) {
                return Directions.project(t, direction);
            }
            if (positionPerRow != null) {
                float[] a = t.floats();
                int units = a.length / count;
                float[] out = new float[count];
                for (int b = 0; b < count; b++) {
                    out[b] = a[b * units + positionPerRow[b] * layer.neurons() + targetPerRow[b]];
                }
                return out;
            }
            float[] all = reduce(t, layer, java.util.stream.IntStream.range(0, layer.neurons()).boxed().toList());
            float[] out = new float[count];
            for (int b = 0; b < count; b++) {
                out[b] = all[b * layer.neurons() + targetPerRow[b]];
            }
            return out;
        }

        private static int[] negate(int[] a) {
            int[] o = new int[a.length];
            for (int i = 0; i < a.length; i++) {
                o[i] = -a[i];
            }
            return o;
        }
    }
}
