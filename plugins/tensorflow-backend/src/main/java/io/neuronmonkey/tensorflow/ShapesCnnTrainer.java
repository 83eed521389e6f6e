package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.api.train.ModelTrainer;
import io.neuronmonkey.api.train.TrainerContext;
import org.pf4j.Extension;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.types.TFloat32;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * NeuronMonkey's trainer for the demo CNN (see {@link CnnGraph}): Adam on softmax cross-entropy, seeded
 * initialization and shuffling, exported as a TF1-style SavedModel that {@link TensorFlowBackend} loads.
 */
@Extension
@ExtensionName(value = "tensorflow-cnn",
        description = "Trains the small demo CNN (2 conv + 2 dense) with TensorFlow Java and saves a SavedModel")
public class ShapesCnnTrainer implements ModelTrainer<ShapesCnnTrainer.Params> {

    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.999f;
    private static final float EPSILON = 1e-7f;
    private static final int EVAL_BATCH = 512;

    /**
     * Training runs every op on one thread. Multi-threaded CPU kernels split their sums (over the batch, over a
     * convolution's positions) by the size of the thread pool, so the same seed gave other weights on a machine with
     * another core count; on one thread the order of every float addition is fixed (about 25% slower on 2 cores).
     */
    static final ConfigProto SINGLE_THREADED = ConfigProto.newBuilder()
            .setIntraOpParallelismThreads(1)
            .setInterOpParallelismThreads(1)
            .build();

    /**
     * Training settings.
     *
     * @param epochs        passes over the training data
     * @param batchSize     examples per Adam step
     * @param learningRate  Adam step size
     * @param conv1Channels channels of the first conv layer
     * @param conv2Channels channels of the second conv layer
     * @param denseUnits    units of the hidden dense layer
     */
    public record Params(
            @Param(defaultValue = "3", description = "passes over the training data, >= 1") int epochs,
            @Param(defaultValue = "64", description = "examples per Adam step, >= 1") int batchSize,
            @Param(defaultValue = "0.002", description = "Adam learning rate, > 0") double learningRate,
            @Param(defaultValue = "8", description = "channels of conv1, >= 1") int conv1Channels,
            @Param(defaultValue = "16", description = "channels of conv2, >= 1") int conv2Channels,
            @Param(defaultValue = "32", description = "units of dense1 (cnn), >= 1") int denseUnits,
            @Param(defaultValue = "cnn", description = "cnn (2 conv + pool blocks, dense1, logits) or mlp (hiddenUnits dense layers on the flattened input)") Architecture architecture,
            @Param(defaultValue = "[512, 512]", description = "units of each hidden dense layer of the mlp") List<Integer> hiddenUnits) {

        /** Validates every param at once. */
        public Params {
            Violations.check()
                    .require(epochs >= 1, "epochs", "must be >= 1, found " + epochs)
                    .require(batchSize >= 1, "batchSize", "must be >= 1, found " + batchSize)
                    .require(learningRate > 0 && Double.isFinite(learningRate), "learningRate",
                            "must be finite and > 0, found " + learningRate)
                    .require(conv1Channels >= 1, "conv1Channels", "must be >= 1, found " + conv1Channels)
                    .require(conv2Channels >= 1, "conv2Channels", "must be >= 1, found " + conv2Channels)
                    .require(denseUnits >= 1, "denseUnits", "must be >= 1, found " + denseUnits)
                    .require(architecture != null, "architecture", "must be cnn or mlp")
                    .require(hiddenUnits != null && !hiddenUnits.isEmpty() && hiddenUnits.stream().allMatch(u -> u != null && u >= 1),
                            "hiddenUnits", "must be a non-empty list of positive unit counts, found " + hiddenUnits)
                    .throwIfAny();
        }
    }

    /** The network family. */
    public enum Architecture { CNN, MLP }

    /** Creates the trainer. */
    public ShapesCnnTrainer() {
    }

    @Override
    public AnalysisResult train(TrainerContext<Params> ctx) {
        NativeLogging.quiet();
        Params p = ctx.params();
        Dataset train = ctx.trainData();
        int[] shape = train.info().exampleShape();
        int classes = train.info().classNames().size();
        if (shape.length != 3) {
            throw new DataException("training data must hold images [H, W, C], found example shape "
                    + Arrays.toString(shape));
        }
        if (classes < 2) {
            throw new DataException("training data must name at least 2 classes, found " + train.info().classNames());
        }
        boolean conv = p.architecture() == Architecture.CNN;
        CnnGraph.Spec spec = new CnnGraph.Spec(shape[0], shape[1], shape[2], conv, p.conv1Channels(), p.conv2Channels(),
                conv ? List.of(p.denseUnits()) : p.hiddenUnits(), classes);
        Examples data = Examples.read(train, "train", classes);
        if (data.count == 0) {
            throw new DataException("training data is empty");
        }

        long start = System.nanoTime();
        float[][] initial = spec.initialWeights(ctx.random("trainer"));
        List<Double> losses = new ArrayList<>();
        float[][] trained = fit(ctx, spec, data, initial, losses);
        double seconds = (System.nanoTime() - start) / 1e9;

        Map<String, Object> accuracy = new LinkedHashMap<>();
        try (Graph g = new Graph()) {
            CnnGraph net = new CnnGraph(g, spec, trained);
            try (Session session = new Session(g)) {
                session.initialize();
                accuracy.put("train", accuracy(session, data));
                for (Map.Entry<String, Dataset> e : ctx.evaluationData().entrySet()) {
                    accuracy.put(e.getKey(), accuracy(session, e.getKey(), e.getValue(), shape));
                }
                export(ctx, net, session);
            }
        }
        float[] lossArray = new float[losses.size()];
        for (int i = 0; i < lossArray.length; i++) {
            lossArray[i] = losses.get(i).floatValue();
        }
        return AnalysisResult.builder()
                .put("model", "tensorflow-cnn (" + p.architecture().name().toLowerCase(java.util.Locale.ROOT) + ")")
                .put("inputShape", List.of(shape[0], shape[1], shape[2]))
                .put("classes", train.info().classNames())
                .put("parameters", spec.parameters())
                .put("examples", data.count)
                .put("epochs", p.epochs())
                .put("lossPerEpoch", losses)
                .put("accuracy", accuracy)
                .put("trainSeconds", seconds)
                .put("layers", List.of("images", "conv1", "pool1", "conv2", "pool2", "dense1", "logits",
                        "probabilities"))
                .array("loss", Tensor.ofFloats(lossArray, lossArray.length))
                .build();
    }

    /** Runs Adam for {@code epochs} passes; appends the mean loss of each epoch; returns the trained weights. */
    private static float[][] fit(TrainerContext<Params> ctx, CnnGraph.Spec spec, Examples data, float[][] initial,
                                 List<Double> losses) {
        Params p = ctx.params();
        int n = data.count;
        int k = spec.classes();
        int steps = (n + p.batchSize() - 1) / p.batchSize();
        try (Graph g = new Graph()) {
            CnnGraph net = new CnnGraph(g, spec, initial);
            Ops tf = net.tf;
            Placeholder<TFloat32> labels = tf.withName("labels").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.of(-1, k)));
            Operand<TFloat32> loss = tf.withName("loss").math.mean(
                    tf.nn.softmaxCrossEntropyWithLogits(net.logits, labels).loss(), tf.constant(0));
            Operand<TFloat32> hits = tf.math.mean(tf.dtypes.cast(tf.math.equal(tf.math.argMax(net.logits, tf.constant(1)),
                    tf.math.argMax(labels, tf.constant(1))), TFloat32.class), tf.constant(0));
            Gradients grads = tf.gradients(loss, net.variables);
            Placeholder<TFloat32> beta1Power = tf.withName("beta1_power").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.scalar()));
            Placeholder<TFloat32> beta2Power = tf.withName("beta2_power").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.scalar()));
            Operand<TFloat32> lr = tf.constant((float) p.learningRate());
            Operand<TFloat32> b1 = tf.constant(BETA1);
            Operand<TFloat32> b2 = tf.constant(BETA2);
            Operand<TFloat32> eps = tf.constant(EPSILON);
            List<Op> updates = new ArrayList<>();
            long[][] shapes = spec.shapes();
            // every gradient is complete before any weight changes: the gradient ops read the weights (reference
            // variables) when they run, so an update racing ahead of them made the step depend on the schedule
            List<Op> gradientOps = new ArrayList<>();
            for (int i = 0; i < net.variables.size(); i++) {
                gradientOps.add(grads.<TFloat32>dy(i));
            }
            Ops afterGradients = tf.withControlDependencies(gradientOps);
            for (int i = 0; i < net.variables.size(); i++) {
                Operand<TFloat32> m = tf.variable(tf.zeros(tf.constant(shapes[i]), TFloat32.class));
                Operand<TFloat32> v = tf.variable(tf.zeros(tf.constant(shapes[i]), TFloat32.class));
                updates.add(afterGradients.train.applyAdam(net.variables.get(i), m, v, beta1Power, beta2Power, lr, b1,
                        b2, eps, grads.<TFloat32>dy(i)));
            }
            Op step = tf.withControlDependencies(updates).withName("train").noOp();

            try (Session session = new Session(g, SINGLE_THREADED)) {
                session.initialize();
                Random shuffle = ctx.random("trainer-shuffle");
                int[] order = new int[n];
                for (int i = 0; i < n; i++) {
                    order[i] = i;
                }
                int d = data.exampleSize;
                float[] x = new float[p.batchSize() * d];
                float[] y = new float[p.batchSize() * k];
                long t = 0;
                ctx.progress().start("training tensorflow-cnn on " + n + " examples", (long) p.epochs() * steps);
                for (int epoch = 0; epoch < p.epochs(); epoch++) {
                    shuffle(order, shuffle);
                    double sum = 0;
                    for (int s = 0; s < steps; s++) {
                        if (ctx.cancelled()) {
                            throw new AnalysisException("training cancelled in epoch " + (epoch + 1) + " of "
                                    + p.epochs());
                        }
                        int from = s * p.batchSize();
                        int b = Math.min(p.batchSize(), n - from);
                        float[] xb = b == p.batchSize() ? x : new float[b * d];
                        float[] yb = b == p.batchSize() ? y : new float[b * k];
                        Arrays.fill(yb, 0f);
                        for (int i = 0; i < b; i++) {
                            int e = order[from + i];
                            System.arraycopy(data.inputs, e * d, xb, i * d, d);
                            yb[i * k + data.labels[e]] = 1f;
                        }
                        t++;
                        try (TFloat32 xt = TfTensors.floats(xb, b, spec.height(), spec.width(), spec.channels());
                             TFloat32 yt = TfTensors.floats(yb, b, k);
                             TFloat32 p1 = TFloat32.scalarOf((float) Math.pow(BETA1, t));
                             TFloat32 p2 = TFloat32.scalarOf((float) Math.pow(BETA2, t));
                             Result r = session.runner().feed(net.images, xt).feed(labels, yt)
                                     .feed(beta1Power, p1).feed(beta2Power, p2)
                                     .addTarget(step).fetch(loss).fetch(hits).run()) {
                            sum += ((TFloat32) r.get(0)).getFloat() * b;
                            ctx.metrics().metric("loss", t, ((TFloat32) r.get(0)).getFloat());
                            ctx.metrics().metric("batch accuracy", t, ((TFloat32) r.get(1)).getFloat());
                        }
                        ctx.progress().advance(1);
                    }
                    losses.add(sum / n);
                }
                ctx.progress().finish();
                float[][] trained = new float[net.variables.size()][];
                Session.Runner read = session.runner();
                net.variables.forEach(read::fetch);
                try (Result r = read.run()) {
                    for (int i = 0; i < trained.length; i++) {
                        trained[i] = TfTensors.toTensor(r.get(i), spec.variableNames().get(i)).floats();
                    }
                }
                return trained;
            }
        }
    }

    private static void shuffle(int[] a, Random rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    private static void export(TrainerContext<Params> ctx, CnnGraph net, Session session) {
        Signature signature = Signature.builder().key(Signature.DEFAULT_KEY)
                .input("images", net.images)
                .output("probabilities", net.probabilities)
                .output("logits", net.logits)
                .build();
        try {
            SavedModelBundle.exporter(ctx.outputDir().toString())
                    .withTags(TensorFlowBackend.TAG)
                    .withFunction(SessionFunction.create(signature, session))
                    .export();
        } catch (IOException | RuntimeException e) {
            throw new OutputException("cannot save the trained model as a SavedModel into " + ctx.outputDir() + ": "
                    + e.getMessage(), e);
        }
    }

    private static double accuracy(Session session, Examples data) {
        int correct = 0;
        int d = data.exampleSize;
        for (int from = 0; from < data.count; from += EVAL_BATCH) {
            int b = Math.min(EVAL_BATCH, data.count - from);
            float[] x = Arrays.copyOfRange(data.inputs, from * d, (from + b) * d);
            int[] labels = Arrays.copyOfRange(data.labels, from, from + b);
            correct += correct(session, x, b, data.shape, labels);
        }
        return (double) correct / data.count;
    }

    /** @return the accuracy on a labelled data set read batch by batch, or null when it has no labels */
    private static Double accuracy(Session session, String name, Dataset dataset, int[] shape) {
        if (!Arrays.equals(dataset.info().exampleShape(), shape)) {
            throw new DataException("evaluation data '" + name + "' has example shape "
                    + Arrays.toString(dataset.info().exampleShape()) + ", the model expects " + Arrays.toString(shape));
        }
        long correct = 0;
        long seen = 0;
        Iterator<Batch> it = dataset.batches(EVAL_BATCH);
        while (it.hasNext()) {
            Batch batch = it.next();
            if (!batch.hasLabels()) {
                return null;
            }
            correct += correct(session, batch.inputs().floats(), batch.size(), shape, batch.labels());
            seen += batch.size();
        }
        return seen == 0 ? null : (double) correct / seen;
    }

    private static int correct(Session session, float[] x, int n, int[] shape, int[] labels) {
        try (TFloat32 xt = TfTensors.floats(x, n, shape[0], shape[1], shape[2]);
             Result r = session.runner().feed("images", xt).fetch("logits").run()) {
            float[] logits = TfTensors.toTensor(r.get(0), "logits").floats();
            int k = logits.length / n;
            int correct = 0;
            for (int i = 0; i < n; i++) {
                int best = 0;
                for (int c = 1; c < k; c++) {
                    if (logits[i * k + c] > logits[i * k + best]) {
                        best = c;
                    }
                }
                correct += best == labels[i] ? 1 : 0;
            }
            return correct;
        }
    }

    /** A labelled data set held in memory as one row-major float array. */
    private static final class Examples {
        final float[] inputs;
        final int[] labels;
        final int count;
        final int exampleSize;
        final int[] shape;

        private Examples(float[] inputs, int[] labels, int count, int[] shape) {
            this.inputs = inputs;
            this.labels = labels;
            this.count = count;
            this.shape = shape;
            int size = 1;
            for (int s : shape) {
                size *= s;
            }
            this.exampleSize = size;
        }

        static Examples read(Dataset dataset, String name, int classes) {
            int[] shape = dataset.info().exampleShape();
            int d = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
            long expected = dataset.info().size();
            float[] x = new float[Math.toIntExact(Math.max(expected, 1) * d)];
            int[] y = new int[(int) Math.max(expected, 1)];
            int n = 0;
            Iterator<Batch> it = dataset.batches(1024);
            while (it.hasNext()) {
                Batch b = it.next();
                if (!b.hasLabels()) {
                    throw new DataException("data set '" + name + "' has no labels; the trainer needs a class per"
                            + " example");
                }
                if (!Arrays.equals(b.inputs().shape(), concat(b.size(), shape))) {
                    throw new DataException("data set '" + name + "' yielded a batch of shape "
                            + Arrays.toString(b.inputs().shape()) + ", expected " + Arrays.toString(concat(b.size(), shape)));
                }
                if ((long) (n + b.size()) * d > Integer.MAX_VALUE - 8) {
                    throw new DataException("data set '" + name + "' is too large to train in memory: more than "
                            + n + " examples of " + d + " values");
                }
                if (n + b.size() > y.length) {
                    int grow = Math.max(n + b.size(), y.length * 2);
                    y = Arrays.copyOf(y, grow);
                    x = Arrays.copyOf(x, Math.toIntExact((long) grow * d));
                }
                System.arraycopy(b.inputs().floats(), 0, x, n * d, b.size() * d);
                for (int i = 0; i < b.size(); i++) {
                    int label = b.labels()[i];
                    if (label < 0 || label >= classes) {
                        throw new DataException("data set '" + name + "' example " + (b.offset() + i) + " ("
                                + b.ids().get(i) + ") has label " + label + "; expected 0.." + (classes - 1));
                    }
                    y[n + i] = label;
                }
                n += b.size();
            }
            return new Examples(x, y, n, shape);
        }

        private static int[] concat(int n, int[] shape) {
            int[] s = new int[shape.length + 1];
            s[0] = n;
            System.arraycopy(shape, 0, s, 1, shape.length);
            return s;
        }
    }
}
