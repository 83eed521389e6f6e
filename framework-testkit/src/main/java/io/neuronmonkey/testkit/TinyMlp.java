package io.neuronmonkey.testkit;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * A small multilayer perceptron with known weights, computed by plain loops: an input layer, dense layers with ReLU,
 * a logits layer and its softmax ({@code probabilities}). It implements every capability of {@link LoadedModel}:
 * capture of any layer, interventions, gradients of any target with respect to any earlier layer (with or without
 * interventions), parameter counts and randomized copies. Tests compute their reference from {@link #weights} and
 * {@link #bias} by hand, so the numbers an analyzer reports can be checked independently of any backend.
 *
 * <pre>{@code
 * TinyMlp model = TinyMlp.seeded(7, 4, 6, 3);   // 4 inputs, dense1 with 6 ReLU units, 3 logits
 * }</pre>
 */
public final class TinyMlp implements LoadedModel {

    /** The input layer's name. */
    public static final String INPUT = "input";
    /** The logits layer's name. */
    public static final String LOGITS = "logits";
    /** The softmax output's name. */
    public static final String PROBABILITIES = "probabilities";

    /**
     * One dense layer: {@code out = act(in . weights + bias)}.
     *
     * @param name    the layer name
     * @param in      inputs
     * @param out     outputs (neurons)
     * @param weights {@code [in * out]}, row-major: {@code weights[i * out + o]} connects input i to neuron o
     * @param bias    {@code [out]}
     * @param relu    true for ReLU, false for the identity (the logits)
     */
    record Dense(String name, int in, int out, float[] weights, float[] bias, boolean relu) {
    }

    private final int inputs;
    private final List<Dense> dense;
    private final List<LayerInfo> layers;

    private TinyMlp(int inputs, List<Dense> dense) {
        this.inputs = inputs;
        this.dense = List.copyOf(dense);
        List<LayerInfo> ls = new ArrayList<>();
        ls.add(new LayerInfo(INPUT, "Placeholder", new int[]{inputs}, LayerInfo.Role.INPUT));
        for (Dense d : dense) {
            ls.add(new LayerInfo(d.name(), d.relu() ? "Relu" : "BiasAdd", new int[]{d.out()},
                    d.relu() ? LayerInfo.Role.HIDDEN : LayerInfo.Role.LOGITS));
        }
        ls.add(new LayerInfo(PROBABILITIES, "Softmax", new int[]{dense.get(dense.size() - 1).out()}, LayerInfo.Role.OUTPUT));
        this.layers = List.copyOf(ls);
    }

    /**
     * A model with the given weights: {@code dense1 .. dense(k)} with ReLU, then {@code logits}.
     *
     * @param weights per layer {@code [in][out]}: the first has one row per input, each next as many rows as the
     *                previous has columns; the last is the logits layer
     * @param biases  per layer {@code [out]}
     * @return the model
     * @throws IllegalArgumentException when the shapes do not chain
     */
    public static TinyMlp of(float[][][] weights, float[][] biases) {
        if (weights.length == 0 || weights.length != biases.length) {
            throw new IllegalArgumentException("need one bias per weight matrix and at least one layer, got "
                    + weights.length + " weight matrices and " + biases.length + " biases");
        }
        int in = weights[0].length;
        int prev = in;
        List<Dense> ds = new ArrayList<>();
        for (int l = 0; l < weights.length; l++) {
            float[][] w = weights[l];
            if (w.length != prev || w.length == 0) {
                throw new IllegalArgumentException("layer " + (l + 1) + " has " + w.length + " weight rows, expected " + prev);
            }
            int out = w[0].length;
            if (biases[l].length != out) {
                throw new IllegalArgumentException("layer " + (l + 1) + " has " + out + " neurons but " + biases[l].length + " biases");
            }
            float[] flat = new float[prev * out];
            for (int i = 0; i < prev; i++) {
                if (w[i].length != out) {
                    throw new IllegalArgumentException("layer " + (l + 1) + ": weight row " + i + " has " + w[i].length + " columns, expected " + out);
                }
                System.arraycopy(w[i], 0, flat, i * out, out);
            }
            boolean last = l == weights.length - 1;
            ds.add(new Dense(last ? LOGITS : "dense" + (l + 1), prev, out, flat, biases[l].clone(), !last));
            prev = out;
        }
        return new TinyMlp(in, ds);
    }

    /**
     * A model with weights drawn from a seeded normal distribution (scaled by {@code 1/sqrt(in)}) and biases 0.1.
     *
     * @param seed  the seed
     * @param sizes the input size, the hidden sizes, the number of classes (at least two entries)
     * @return the model
     */
    public static TinyMlp seeded(long seed, int... sizes) {
        if (sizes.length < 2) {
            throw new IllegalArgumentException("give the input size, any hidden sizes and the number of classes");
        }
        Random rnd = new Random(seed);
        float[][][] w = new float[sizes.length - 1][][];
        float[][] b = new float[sizes.length - 1][];
        for (int l = 0; l + 1 < sizes.length; l++) {
            w[l] = new float[sizes[l]][sizes[l + 1]];
            b[l] = new float[sizes[l + 1]];
            Arrays.fill(b[l], 0.1f);
            for (float[] row : w[l]) {
                for (int o = 0; o < row.length; o++) {
                    row[o] = (float) (rnd.nextGaussian() / Math.sqrt(sizes[l]));
                }
            }
        }
        return of(w, b);
    }

    /**
     * @param layer a dense layer name ({@code dense1}, ..., {@code logits})
     * @return its weights {@code [in][out]}, a copy
     */
    public float[][] weights(String layer) {
        Dense d = dense(layer);
        float[][] w = new float[d.in()][d.out()];
        for (int i = 0; i < d.in(); i++) {
            System.arraycopy(d.weights(), i * d.out(), w[i], 0, d.out());
        }
        return w;
    }

    /**
     * @param layer a dense layer name
     * @return its biases, a copy
     */
    public float[] bias(String layer) {
        return dense(layer).bias().clone();
    }

    private Dense dense(String layer) {
        return dense.stream().filter(d -> d.name().equals(layer)).findFirst().orElseThrow(() -> new ModelException(
                "no dense layer '" + layer + "'; dense layers: " + dense.stream().map(Dense::name).toList()));
    }

    @Override
    public List<LayerInfo> layers() {
        return layers;
    }

    @Override
    public int[] inputShape() {
        return new int[]{inputs};
    }

    @Override
    public String logitsLayer() {
        return LOGITS;
    }

    @Override
    public boolean supportsGradients() {
        return true;
    }

    @Override
    public boolean supportsInterventions() {
        return true;
    }

    @Override
    public Map<String, Tensor> run(Tensor inputs, Collection<String> names) {
        return run(inputs, names, List.of());
    }

    @Override
    public Map<String, Tensor> run(Tensor inputs, Collection<String> names, List<Intervention> interventions) {
        Pass p = forward(inputs, interventions);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (String name : names) {
            int s = stage(name);
            out.put(name, Tensor.ofFloats(p.values[s], p.n, layers.get(s).neurons()));
        }
        return out;
    }

    @Override
    public Tensor gradient(Tensor inputs, GradientTarget target, String wrt) {
        return gradient(inputs, target, wrt, List.of());
    }

    @Override
    public Tensor gradient(Tensor inputs, GradientTarget target, String wrt, List<Intervention> interventions) {
        int t = stage(target.layer());
        int w = stage(wrt);
        if (w > t) {
            throw new ModelException("cannot differentiate '" + target.layer() + "' with respect to the later layer '" + wrt + "'");
        }
        Pass p = forward(inputs, interventions);
        int n = p.n;
        int width = layers.get(t).neurons();
        float[] g = seed(target, p.values[t], n, width);
        for (int s = t; s > w; s--) {
            g = back(s, g, p);
        }
        return Tensor.ofFloats(g, n, layers.get(w).neurons());
    }

    @Override
    public Map<String, Long> parameterCounts() {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (Dense d : dense) {
            counts.put(d.name(), (long) d.weights().length + d.bias().length);
        }
        return counts;
    }

    @Override
    public LoadedModel randomized(Collection<String> names, long seed) {
        Set<String> wanted = Set.copyOf(names);
        for (String name : wanted) {
            if (!parameterCounts().containsKey(name)) {
                throw new ModelException("layer '" + name + "' has no parameters; layers with parameters: " + parameterCounts().keySet());
            }
        }
        Random rnd = new Random(seed);
        List<Dense> ds = new ArrayList<>();
        for (Dense d : dense) {
            ds.add(wanted.contains(d.name())
                    ? new Dense(d.name(), d.in(), d.out(), redraw(d.weights(), rnd), redraw(d.bias(), rnd), d.relu())
                    : d);
        }
        return new TinyMlp(inputs, ds);
    }

    @Override
    public String description() {
        StringBuilder s = new StringBuilder("TinyMlp ").append(inputs);
        for (Dense d : dense) {
            s.append('-').append(d.out());
        }
        return s.toString();
    }

    @Override
    public String fingerprint() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Dense d : dense) {
                md.update(d.name().getBytes(java.nio.charset.StandardCharsets.UTF_8));
                md.update(floatBytes(d.weights()));
                md.update(floatBytes(d.bias()));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Nothing to release. */
    @Override
    public void close() {
    }

    /** One forward pass: every stage's values as consumers see them, with what backpropagation needs. */
    private static final class Pass {
        final int n;
        final float[][] values;   // per stage, [n * neurons], after interventions
        final float[][] scale;    // per stage, the intervention's scale (null when none)
        final boolean[][] active; // per dense stage, ReLU's derivative mask (null for the identity)

        Pass(int n, int stages) {
            this.n = n;
            this.values = new float[stages][];
            this.scale = new float[stages][];
            this.active = new boolean[stages][];
        }
    }

    private Pass forward(Tensor inputs, List<Intervention> interventions) {
        if (inputs.dtype() != DType.FLOAT32 || inputs.rank() != 2 || inputs.dim(1) != this.inputs) {
            throw new ModelException(description() + " expects FLOAT32 inputs [n, " + this.inputs + "], got "
                    + inputs.dtype() + " " + Arrays.toString(inputs.shape()));
        }
        for (Intervention iv : interventions) {
            stage(iv.layer());
        }
        int n = inputs.rows();
        Pass p = new Pass(n, layers.size());
        p.values[0] = inputs.floats();
        intervene(p, 0, interventions);
        for (int s = 1; s <= dense.size(); s++) {
            Dense d = dense.get(s - 1);
            float[] a = p.values[s - 1];
            float[] z = new float[n * d.out()];
            boolean[] on = d.relu() ? new boolean[z.length] : null;
            for (int r = 0; r < n; r++) {
                for (int o = 0; o < d.out(); o++) {
                    double sum = d.bias()[o];
                    for (int i = 0; i < d.in(); i++) {
                        sum += a[r * d.in() + i] * d.weights()[i * d.out() + o];
                    }
                    int k = r * d.out() + o;
                    if (on != null) {
                        on[k] = sum > 0;
                        z[k] = on[k] ? (float) sum : 0f;
                    } else {
                        z[k] = (float) sum;
                    }
                }
            }
            p.values[s] = z;
            p.active[s] = on;
            intervene(p, s, interventions);
        }
        int last = layers.size() - 1;
        float[] logits = p.values[last - 1];
        int k = layers.get(last).neurons();
        float[] probs = new float[logits.length];
        for (int r = 0; r < n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                max = Math.max(max, logits[r * k + c]);
            }
            double total = 0;
            for (int c = 0; c < k; c++) {
                total += Math.exp(logits[r * k + c] - max);
            }
            for (int c = 0; c < k; c++) {
                probs[r * k + c] = (float) (Math.exp(logits[r * k + c] - max) / total);
            }
        }
        p.values[last] = probs;
        intervene(p, last, interventions);
        return p;
    }

    private void intervene(Pass p, int s, List<Intervention> interventions) {
        String name = layers.get(s).name();
        int width = layers.get(s).neurons();
        float[] scale = null;
        float[] shift = null;
        for (Intervention iv : interventions) {
            if (!iv.layer().equals(name)) {
                continue;
            }
            if (scale == null) {
                scale = new float[p.n * width];
                shift = new float[p.n * width];
                Arrays.fill(scale, 1f);
            }
            try {
                iv.applyToPositions(scale, shift, p.n, 1, width);
            } catch (IllegalArgumentException e) {
                throw new ModelException(description() + ": " + e.getMessage(), e);
            }
        }
        if (scale != null) {
            float[] v = p.values[s].clone();
            for (int i = 0; i < v.length; i++) {
                v[i] = v[i] * scale[i] + shift[i];
            }
            p.values[s] = v;
            p.scale[s] = scale;
        }
    }

    private static float[] seed(GradientTarget target, float[] values, int n, int width) {
        float[] g = new float[n * width];
        switch (target.mode()) {
            case FIXED -> {
                float[] w;
                try {
                    w = target.weights(width);
                } catch (IllegalArgumentException e) {
                    throw new ModelException(e.getMessage(), e);
                }
                for (int r = 0; r < n; r++) {
                    System.arraycopy(w, 0, g, r * width, width);
                }
            }
            case PER_ROW -> {
                int[] idx = target.indexPerRow();
                if (idx.length != n) {
                    throw new ModelException("target on '" + target.layer() + "' has " + idx.length + " indices for a batch of " + n);
                }
                for (int r = 0; r < n; r++) {
                    if (idx[r] < 0 || idx[r] >= width) {
                        throw new ModelException("neuron " + idx[r] + " is outside layer '" + target.layer() + "' (0.." + (width - 1) + ")");
                    }
                    g[r * width + idx[r]] = 1f;
                }
            }
            case PREDICTED -> {
                for (int r = 0; r < n; r++) {
                    int best = 0;
                    for (int c = 1; c < width; c++) {
                        if (values[r * width + c] > values[r * width + best]) {
                            best = c;
                        }
                    }
                    g[r * width + best] = 1f;
                }
            }
        }
        return g;
    }

    /** From the gradient with respect to stage {@code s}'s values to that with respect to stage {@code s - 1}'s. */
    private float[] back(int s, float[] g, Pass p) {
        int n = p.n;
        float[] h = g.clone();
        if (p.scale[s] != null) {
            for (int i = 0; i < h.length; i++) {
                h[i] *= p.scale[s][i];
            }
        }
        if (s == layers.size() - 1) {
            // softmax: d p_c / d l_j = p_c (delta_cj - p_j)
            float[] probs = softmaxOf(p, s);
            int k = layers.get(s).neurons();
            float[] out = new float[n * k];
            for (int r = 0; r < n; r++) {
                double dot = 0;
                for (int c = 0; c < k; c++) {
                    dot += h[r * k + c] * probs[r * k + c];
                }
                for (int j = 0; j < k; j++) {
                    out[r * k + j] = (float) (probs[r * k + j] * (h[r * k + j] - dot));
                }
            }
            return out;
        }
        Dense d = dense.get(s - 1);
        boolean[] on = p.active[s];
        float[] out = new float[n * d.in()];
        for (int r = 0; r < n; r++) {
            for (int i = 0; i < d.in(); i++) {
                double sum = 0;
                for (int o = 0; o < d.out(); o++) {
                    int k = r * d.out() + o;
                    if (on == null || on[k]) {
                        sum += h[k] * d.weights()[i * d.out() + o];
                    }
                }
                out[r * d.in() + i] = (float) sum;
            }
        }
        return out;
    }

    /** The softmax before its own intervention: recomputed from the logits as consumers saw them. */
    private float[] softmaxOf(Pass p, int s) {
        if (p.scale[s] == null) {
            return p.values[s];
        }
        float[] logits = p.values[s - 1];
        int k = layers.get(s).neurons();
        float[] probs = new float[logits.length];
        for (int r = 0; r < p.n; r++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                max = Math.max(max, logits[r * k + c]);
            }
            double total = 0;
            for (int c = 0; c < k; c++) {
                total += Math.exp(logits[r * k + c] - max);
            }
            for (int c = 0; c < k; c++) {
                probs[r * k + c] = (float) (Math.exp(logits[r * k + c] - max) / total);
            }
        }
        return probs;
    }

    private int stage(String name) {
        for (int s = 0; s < layers.size(); s++) {
            if (layers.get(s).name().equals(name)) {
                return s;
            }
        }
        throw new ModelException(description() + " has no layer '" + name + "'; layers: "
                + layers.stream().map(LayerInfo::name).toList());
    }

    private static float[] redraw(float[] values, Random rnd) {
        double mean = 0;
        for (float v : values) {
            mean += v;
        }
        mean /= values.length;
        double var = 0;
        for (float v : values) {
            var += (v - mean) * (v - mean);
        }
        double sd = Math.sqrt(var / values.length);
        float[] out = new float[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (rnd.nextGaussian() * sd);
        }
        return out;
    }

    private static byte[] floatBytes(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.array();
    }
}
