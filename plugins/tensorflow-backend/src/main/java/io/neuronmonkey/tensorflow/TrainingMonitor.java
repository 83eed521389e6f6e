package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.result.Series;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.Session;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.types.TFloat32;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Watches training from inside the training graph: per hidden layer the mean, variance and dead fraction of its
 * activations on the training batch, per variable the norm of the gradient the optimizer applies, and which
 * gradients vanish or explode. Every quantity is reduced in the graph to one small vector per layer or variable and
 * fetched in the same session run as the train op, so a monitored step costs a few reductions and no extra forward
 * or backward pass.
 */
public final class TrainingMonitor {

    /** A variable's gradient vanishes when its L2 norm is below this. */
    public static final double VANISHING_NORM = 1e-5;
    /** A variable's gradient explodes when its L2 norm is above this. */
    public static final double EXPLODING_NORM = 1e2;
    /** An output unit of a variable (last axis) gets no gradient when the norm of its slice is below this. */
    public static final double UNIT_VANISHING_NORM = 1e-8;

    private final List<String> layers;
    private final List<String> variables;
    private final List<Operand<TFloat32>> fetches = new ArrayList<>();
    private final List<Sample> samples = new ArrayList<>();
    private final TfEventsWriter events;
    private final List<TrainingListener> listeners;

    /**
     * One monitored step.
     *
     * @param step          the training step, from 1
     * @param epoch         the epoch, from 1
     * @param loss          the batch loss
     * @param layerMean     per layer: mean activation over the batch, positions and neurons
     * @param layerVariance per layer: variance of those activations
     * @param deadFraction  per layer: fraction of neurons (channels) that were zero on every row and position
     * @param neuronMeans   per layer: each neuron's mean activation
     * @param gradientNorm  per variable: L2 norm of its gradient
     * @param deadUnits     per variable: output units (last axis) whose gradient norm is below
     *                      {@link #UNIT_VANISHING_NORM}
     * @param unitNorms     per variable: the gradient norm of each output unit (last axis)
     */
    public record Sample(long step, int epoch, double loss, double[] layerMean, double[] layerVariance,
                         double[] deadFraction, float[][] neuronMeans, double[] gradientNorm, int[] deadUnits,
                         float[][] unitNorms) {
    }

    /**
     * Adds the reductions to the training graph.
     *
     * @param graph     the training graph, holding ops named by {@code layers}
     * @param tf        its ops
     * @param layers    the layers to watch (op names; outputs channels last)
     * @param variables the variables' names, in the order of {@code gradients}
     * @param gradients the gradients the optimizer applies
     * @param logDir    where the TensorBoard event file goes, or null for none
     * @param listeners told of every sample
     */
    TrainingMonitor(Graph graph, Ops tf, List<String> layers, List<String> variables, Gradients gradients,
                    Path logDir, List<TrainingListener> listeners) {
        this.layers = List.copyOf(layers);
        this.variables = List.copyOf(variables);
        this.listeners = List.copyOf(listeners);
        for (String layer : layers) {
            Operand<TFloat32> x = graph.operation(layer).output(0);
            Operand<org.tensorflow.types.TInt32> axes = allButLast(tf, x.shape().numDimensions());
            fetches.add(tf.math.mean(x, axes));
            fetches.add(tf.math.mean(tf.math.square(x), axes));
            fetches.add(tf.math.mean(tf.dtypes.cast(tf.math.greater(x, tf.constant(0f)), TFloat32.class), axes));
        }
        for (int i = 0; i < variables.size(); i++) {
            Operand<TFloat32> g = gradients.dy(i);
            int rank = g.shape().numDimensions();
            fetches.add(rank == 1 ? tf.math.abs(g) : tf.math.sqrt(tf.reduceSum(tf.math.square(g), allButLast(tf, rank))));
        }
        this.events = logDir == null ? null : TfEventsWriter.open(logDir);
    }

    private static Operand<org.tensorflow.types.TInt32> allButLast(Ops tf, int rank) {
        int[] axes = new int[rank - 1];
        for (int a = 0; a < axes.length; a++) {
            axes[a] = a;
        }
        return tf.constant(axes);
    }

    /**
     * Adds the monitor's fetches to a training step's run.
     *
     * @param runner the runner of the step
     * @return the runner
     */
    Session.Runner fetch(Session.Runner runner) {
        fetches.forEach(runner::fetch);
        return runner;
    }

    /**
     * Reads a monitored step's fetches.
     *
     * @param result the run's result
     * @param first  the index of the monitor's first fetch in it
     * @param step   the training step
     * @param epoch  the epoch, from 1
     * @param loss   the batch loss
     */
    void record(Result result, int first, long step, int epoch, double loss) {
        int l = layers.size();
        double[] mean = new double[l];
        double[] variance = new double[l];
        double[] dead = new double[l];
        float[][] neuronMeans = new float[l][];
        for (int i = 0; i < l; i++) {
            float[] m = floats(result, first + 3 * i);
            float[] sq = floats(result, first + 3 * i + 1);
            float[] fire = floats(result, first + 3 * i + 2);
            double sm = 0;
            double ss = 0;
            int zero = 0;
            for (int j = 0; j < m.length; j++) {
                sm += m[j];
                ss += sq[j];
                zero += fire[j] == 0f ? 1 : 0;
            }
            mean[i] = sm / m.length;
            variance[i] = Math.max(0, ss / m.length - mean[i] * mean[i]);
            dead[i] = (double) zero / m.length;
            neuronMeans[i] = m;
        }
        double[] norm = new double[variables.size()];
        int[] deadUnits = new int[variables.size()];
        float[][] unitNorms = new float[variables.size()][];
        for (int v = 0; v < variables.size(); v++) {
            float[] u = floats(result, first + 3 * l + v);
            double s = 0;
            for (float x : u) {
                s += (double) x * x;
                deadUnits[v] += x < UNIT_VANISHING_NORM ? 1 : 0;
            }
            norm[v] = Math.sqrt(s);
            unitNorms[v] = u;
        }
        Sample sample = new Sample(step, epoch, loss, mean, variance, dead, neuronMeans, norm, deadUnits, unitNorms);
        samples.add(sample);
        if (events != null) {
            events.scalar("loss", step, loss);
            for (int i = 0; i < l; i++) {
                events.scalar(layers.get(i) + "/mean", step, mean[i]);
                events.scalar(layers.get(i) + "/variance", step, variance[i]);
                events.scalar(layers.get(i) + "/dead_fraction", step, dead[i]);
                events.histogram(layers.get(i) + "/neuron_mean", step, neuronMeans[i]);
            }
            for (int v = 0; v < variables.size(); v++) {
                events.scalar("gradient_norm/" + variables.get(v), step, norm[v]);
                events.histogram("gradient_unit_norm/" + variables.get(v), step, unitNorms[v]);
            }
        }
        listeners.forEach(x -> x.sampled(sample));
    }

    private static float[] floats(Result result, int index) {
        return TfTensors.toTensor(result.get(index), "monitor").floats();
    }

    /** Flushes the event file (at the end of an epoch). */
    void flush() {
        if (events != null) {
            events.flush();
        }
    }

    /** @return the samples so far, in step order */
    List<Sample> samples() {
        return List.copyOf(samples);
    }

    /** @return the event file, or null when none is written */
    Path eventFile() {
        return events == null ? null : events.file();
    }

    /** Closes the event file. */
    void close() {
        if (events != null) {
            events.close();
        }
    }

    /**
     * @param every the monitoring interval in steps
     * @return the summary entry: thresholds, and per layer and variable the first, last and extreme values, and per
     * gradient flag the steps it was raised
     */
    Map<String, Object> summary(int every) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("every", every);
        s.put("samples", samples.size());
        s.put("thresholds", Map.of(
                "vanishing", "a variable's gradient L2 norm < " + VANISHING_NORM,
                "exploding", "a variable's gradient L2 norm > " + EXPLODING_NORM,
                "deadUnits", "output units whose gradient slice has L2 norm < " + UNIT_VANISHING_NORM,
                "stuckUnits", "units with no gradient in every sample through the last, for >= max(3, samples/4)"
                        + " samples",
                "dead", "a neuron (channel) that is zero on every row and position of the training batch"));
        if (samples.isEmpty()) {
            return s;
        }
        Sample first = samples.get(0);
        Sample last = samples.get(samples.size() - 1);
        Map<String, Object> perLayer = new LinkedHashMap<>();
        for (int i = 0; i < layers.size(); i++) {
            perLayer.put(layers.get(i), Map.of("firstDeadFraction", first.deadFraction()[i],
                    "lastDeadFraction", last.deadFraction()[i], "lastMean", last.layerMean()[i],
                    "lastVariance", last.layerVariance()[i]));
        }
        s.put("layers", perLayer);
        List<Map<String, Object>> flags = new ArrayList<>();
        Map<String, Object> perVariable = new LinkedHashMap<>();
        for (int v = 0; v < variables.size(); v++) {
            perVariable.put(variables.get(v), Map.of("firstNorm", first.gradientNorm()[v],
                    "lastNorm", last.gradientNorm()[v], "lastDeadUnits", last.deadUnits()[v]));
            int vi = v;
            addFlag(flags, v, "vanishing", samples.stream().filter(x -> x.gradientNorm()[vi] < VANISHING_NORM).toList());
            addFlag(flags, v, "exploding", samples.stream().filter(x -> x.gradientNorm()[vi] > EXPLODING_NORM).toList());
            addFlag(flags, v, "deadUnits", samples.stream().filter(x -> x.deadUnits()[vi] > 0).toList());
        }
        s.put("gradients", perVariable);
        s.put("flags", flags);
        s.put("stuckUnits", stuckUnits());
        return s;
    }

    /**
     * A unit is stuck when its gradient stayed below {@link #UNIT_VANISHING_NORM} in every sample since some sample,
     * through the last one, for at least {@code max(3, samples / 4)} samples: a ReLU unit that stopped firing.
     *
     * @return per variable with stuck units: the units, and the step and epoch since which each got no gradient
     */
    private List<Map<String, Object>> stuckUnits() {
        int minimum = Math.max(3, samples.size() / 4);
        List<Map<String, Object>> stuck = new ArrayList<>();
        for (int v = 0; v < variables.size(); v++) {
            List<Integer> units = new ArrayList<>();
            List<Long> steps = new ArrayList<>();
            List<Integer> epochs = new ArrayList<>();
            int width = samples.get(0).unitNorms()[v].length;
            for (int u = 0; u < width; u++) {
                int since = samples.size();
                while (since > 0 && samples.get(since - 1).unitNorms()[v][u] < UNIT_VANISHING_NORM) {
                    since--;
                }
                if (samples.size() - since >= minimum) {
                    units.add(u);
                    steps.add(samples.get(since).step());
                    epochs.add(samples.get(since).epoch());
                }
            }
            if (!units.isEmpty()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("variable", variables.get(v));
                m.put("units", units);
                m.put("sinceStep", steps);
                m.put("sinceEpoch", epochs);
                stuck.add(m);
            }
        }
        return stuck;
    }

    private void addFlag(List<Map<String, Object>> flags, int v, String kind, List<Sample> raised) {
        if (raised.isEmpty()) {
            return;
        }
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("variable", variables.get(v));
        f.put("flag", kind);
        f.put("firstStep", raised.get(0).step());
        f.put("firstEpoch", raised.get(0).epoch());
        f.put("steps", raised.size());
        if (kind.equals("deadUnits")) {
            f.put("maxDeadUnits", raised.stream().mapToInt(x -> x.deadUnits()[v]).max().orElse(0));
        }
        flags.add(f);
    }

    /**
     * @return curves over steps: each layer's dead fraction, and each variable's gradient norm
     */
    List<Series> series() {
        float[] x = new float[samples.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = samples.get(i).step();
        }
        List<Series.Curve> dead = new ArrayList<>();
        for (int l = 0; l < layers.size(); l++) {
            int li = l;
            dead.add(Series.Curve.of(layers.get(l), x.clone(), column(s -> s.deadFraction()[li])));
        }
        List<Series.Curve> norms = new ArrayList<>();
        for (int v = 0; v < variables.size(); v++) {
            int vi = v;
            norms.add(Series.Curve.of(variables.get(v), x.clone(), column(s -> s.gradientNorm()[vi])));
        }
        return List.of(
                new Series("monitor-dead-fraction", "Dead fraction per layer during training", "step",
                        "dead fraction", dead, "fraction of neurons (channels) zero on every row and position of"
                        + " the training batch"),
                new Series("monitor-gradient-norm", "Gradient norm per variable during training", "step",
                        "L2 norm", norms, "vanishing below " + VANISHING_NORM + ", exploding above "
                        + EXPLODING_NORM));
    }

    private float[] column(java.util.function.ToDoubleFunction<Sample> f) {
        float[] y = new float[samples.size()];
        for (int i = 0; i < y.length; i++) {
            y[i] = (float) f.applyAsDouble(samples.get(i));
        }
        return y;
    }
}
