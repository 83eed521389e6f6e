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
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.tensor.DType;
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
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Gradients;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * NeuronMonkey's trainer for the demo text model (see {@link TextTransformerGraph}): a small transformer encoder over
 * token ids and an attention mask, trained with Adam on softmax cross-entropy from a seeded initialization on one
 * thread, exported as a TF1-style SavedModel with inputs {@code input_ids} and {@code attention_mask} that
 * {@link TensorFlowBackend} loads, and the vocabulary as {@code vocab.txt} next to it (line number = token id).
 */
@Extension
@ExtensionName(value = "tensorflow-text",
        description = "Trains the small demo text transformer (embeddings, encoder blocks, mean pooling, classifier) with "
                + "TensorFlow Java and saves a SavedModel with its vocab.txt")
public class TextTransformerTrainer implements ModelTrainer<TextTransformerTrainer.Params> {

    /** The file the vocabulary is saved to, next to the SavedModel. */
    public static final String VOCABULARY_FILE = "vocab.txt";

    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.999f;
    private static final float EPSILON = 1e-7f;
    private static final int EVAL_BATCH = 512;

    /**
     * Training settings.
     *
     * @param epochs       passes over the training data
     * @param batchSize    examples per Adam step
     * @param learningRate Adam step size
     * @param dim          model width
     * @param heads        attention heads
     * @param mlpUnits     hidden units of each block's MLP
     * @param blocks       encoder blocks
     * @param vocabulary   a vocabulary file (one token a line, line number = id), or null (or blank) to read it off
     *                     the data
     * @param specialTokens the tokens of ids 0, 1, ... where the data never show those ids (padding, unknown)
     * @param groupKey     metadata key whose groups the evaluation compares, or null (or blank) for none
     */
    public record Params(
            @Param(defaultValue = "4", description = "passes over the training data, >= 1") int epochs,
            @Param(defaultValue = "32", description = "examples per Adam step, >= 1") int batchSize,
            @Param(defaultValue = "0.003", description = "Adam learning rate, > 0") double learningRate,
            @Param(defaultValue = "32", description = "model width (embedding, attention and residual), >= 1") int dim,
            @Param(defaultValue = "2", description = "attention heads, >= 1, dividing dim") int heads,
            @Param(defaultValue = "64", description = "hidden units of each block's MLP, >= 1") int mlpUnits,
            @Param(defaultValue = "1", description = "encoder blocks, 1..8") int blocks,
            @Param(description = "vocabulary file (one token a line, line number = token id) saved as vocab.txt; when "
                    + "absent it is read off the data's tokens, with specialTokens for the first ids they never show")
            String vocabulary,
            @Param(defaultValue = "[\"[PAD]\", \"[UNK]\", \"[CLS]\"]", description = "when the vocabulary is read off the "
                    + "data: the tokens of ids 0, 1, ... (the word vocabulary's padding, unknown and start tokens) where no "
                    + "real token shows the id") List<String> specialTokens,
            @Param(defaultValue = "group", description = "metadata key whose values the evaluation compares per true "
                    + "class (accuracy and predicted-class rates per group); null for none") String groupKey) {

        /** Validates every param at once. */
        public Params {
            Violations.check()
                    .require(epochs >= 1, "epochs", "must be >= 1, found " + epochs)
                    .require(batchSize >= 1, "batchSize", "must be >= 1, found " + batchSize)
                    .require(learningRate > 0 && Double.isFinite(learningRate), "learningRate",
                            "must be finite and > 0, found " + learningRate)
                    .require(dim >= 1, "dim", "must be >= 1, found " + dim)
                    .require(heads >= 1 && dim % Math.max(heads, 1) == 0, "heads",
                            "must be >= 1 and divide dim " + dim + ", found " + heads)
                    .require(mlpUnits >= 1, "mlpUnits", "must be >= 1, found " + mlpUnits)
                    .require(blocks >= 1 && blocks <= 8, "blocks", "must be 1..8, found " + blocks)
                    .require(specialTokens != null && specialTokens.stream().allMatch(t -> t != null && !t.isBlank()
                            && t.strip().equals(t) && !t.contains("\n")), "specialTokens",
                            "must be a list of non-blank tokens without surrounding spaces, found " + specialTokens)
                    .throwIfAny();
            vocabulary = vocabulary == null || vocabulary.isBlank() ? null : vocabulary;
            groupKey = groupKey == null || groupKey.isBlank() ? null : groupKey;
        }
    }

    /** Creates the trainer. */
    public TextTransformerTrainer() {
    }

    @Override
    public AnalysisResult train(TrainerContext<Params> ctx) {
        NativeLogging.quiet();
        Params p = ctx.params();
        Dataset train = ctx.trainData();
        int[] shape = train.info().exampleShape();
        List<String> classNames = train.info().classNames();
        if (shape.length != 1 || shape[0] < 1) {
            throw new DataException("training data must hold token ids [T], found example shape "
                    + Arrays.toString(shape) + (shape.length == 0 ? " (raw text: give the source a tokenizer)" : ""));
        }
        if (classNames.size() < 2) {
            throw new DataException("training data must name at least 2 classes, found " + classNames);
        }
        int length = shape[0];
        Examples data = Examples.read(train, "train", length, classNames.size(), p.groupKey());
        if (data.count == 0) {
            throw new DataException("training data is empty");
        }
        Map<String, Examples> evaluation = new LinkedHashMap<>();
        for (Map.Entry<String, Dataset> e : ctx.evaluationData().entrySet()) {
            int[] s = e.getValue().info().exampleShape();
            if (!Arrays.equals(s, shape)) {
                throw new DataException("evaluation data '" + e.getKey() + "' has example shape " + Arrays.toString(s)
                        + ", the model is trained on " + Arrays.toString(shape));
            }
            evaluation.put(e.getKey(), Examples.read(e.getValue(), e.getKey(), length, classNames.size(),
                    p.groupKey()));
        }
        List<String> vocabulary = vocabulary(ctx, data, evaluation);
        TextTransformerGraph.Spec spec = new TextTransformerGraph.Spec(vocabulary.size(), length, p.dim(), p.heads(),
                p.mlpUnits(), p.blocks(), classNames.size());

        long start = System.nanoTime();
        float[][] initial = spec.initialWeights(ctx.random("trainer"));
        List<Double> losses = new ArrayList<>();
        float[][] trained = fit(ctx, spec, data, initial, losses);
        double seconds = (System.nanoTime() - start) / 1e9;

        Map<String, Object> accuracy = new LinkedHashMap<>();
        Map<String, Object> groups = new LinkedHashMap<>();
        try (Graph g = new Graph()) {
            TextTransformerGraph net = new TextTransformerGraph(g, spec, trained);
            try (Session session = new Session(g)) {
                session.initialize();
                Map<String, Examples> all = new LinkedHashMap<>();
                all.put("train", data);
                all.putAll(evaluation);
                for (Map.Entry<String, Examples> e : all.entrySet()) {
                    Examples x = e.getValue();
                    if (!x.labelled) {
                        continue;
                    }
                    int[] predicted = predict(session, x);
                    accuracy.put(e.getKey(), accuracy(predicted, x.labels));
                    if (x.groups != null) {
                        groups.put(e.getKey(), groupBreakdown(predicted, x, classNames));
                    }
                }
                export(ctx, net, session);
            }
        }
        writeVocabulary(ctx.outputDir().resolve(VOCABULARY_FILE), vocabulary);

        float[] lossArray = new float[losses.size()];
        for (int i = 0; i < lossArray.length; i++) {
            lossArray[i] = losses.get(i).floatValue();
        }
        AnalysisResult.Builder result = AnalysisResult.builder()
                .put("model", "tensorflow-text (transformer encoder, " + p.blocks() + " block"
                        + (p.blocks() == 1 ? "" : "s") + ")")
                .put("sequenceLength", length)
                .put("vocabularySize", vocabulary.size())
                .put("classes", classNames)
                .put("parameters", spec.parameters())
                .put("examples", data.count)
                .put("epochs", p.epochs())
                .put("lossPerEpoch", losses)
                .put("accuracy", accuracy);
        if (!groups.isEmpty()) {
            result.put("groups", groups);
        }
        List<String> layers = new ArrayList<>(List.of("input_ids"));
        layers.addAll(spec.layerNames());
        return result.put("trainSeconds", seconds)
                .put("layers", layers)
                .array("loss", Tensor.ofFloats(lossArray, lossArray.length))
                .build();
    }

    /** Runs Adam for {@code epochs} passes; appends the mean loss of each epoch; returns the trained weights. */
    private static float[][] fit(TrainerContext<Params> ctx, TextTransformerGraph.Spec spec, Examples data,
                                 float[][] initial, List<Double> losses) {
        Params p = ctx.params();
        int n = data.count;
        int k = spec.classes();
        int t = spec.length();
        int steps = (n + p.batchSize() - 1) / p.batchSize();
        try (Graph g = new Graph()) {
            TextTransformerGraph net = new TextTransformerGraph(g, spec, initial);
            Ops tf = net.tf;
            Placeholder<TFloat32> labels = tf.withName("labels").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.of(-1, k)));
            Operand<TFloat32> loss = tf.withName("loss").math.mean(
                    tf.nn.softmaxCrossEntropyWithLogits(net.logits, labels).loss(), tf.constant(0));
            Gradients grads = tf.gradients(loss, net.variables);
            Placeholder<TFloat32> beta1Power = tf.withName("beta1_power").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.scalar()));
            Placeholder<TFloat32> beta2Power = tf.withName("beta2_power").placeholder(TFloat32.class,
                    Placeholder.shape(Shape.scalar()));
            Operand<TFloat32> lr = tf.constant((float) p.learningRate());
            Operand<TFloat32> b1 = tf.constant(BETA1);
            Operand<TFloat32> b2 = tf.constant(BETA2);
            Operand<TFloat32> eps = tf.constant(EPSILON);
            long[][] shapes = spec.shapes();
            // every gradient is complete before any weight changes, so a step never depends on the op schedule
            List<Op> gradientOps = new ArrayList<>();
            for (int i = 0; i < net.variables.size(); i++) {
                gradientOps.add(grads.<TFloat32>dy(i));
            }
            Ops afterGradients = tf.withControlDependencies(gradientOps);
            List<Op> updates = new ArrayList<>();
            for (int i = 0; i < net.variables.size(); i++) {
                Operand<TFloat32> m = tf.variable(tf.zeros(tf.constant(shapes[i]), TFloat32.class));
                Operand<TFloat32> v = tf.variable(tf.zeros(tf.constant(shapes[i]), TFloat32.class));
                updates.add(afterGradients.train.applyAdam(net.variables.get(i), m, v, beta1Power, beta2Power, lr, b1,
                        b2, eps, grads.<TFloat32>dy(i)));
            }
            Op step = tf.withControlDependencies(updates).withName("train").noOp();

            try (Session session = new Session(g, ShapesCnnTrainer.SINGLE_THREADED)) {
                session.initialize();
                Random shuffle = ctx.random("trainer-shuffle");
                int[] order = new int[n];
                for (int i = 0; i < n; i++) {
                    order[i] = i;
                }
                long iteration = 0;
                ctx.progress().start("training tensorflow-text on " + n + " examples", (long) p.epochs() * steps);
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
                        int[] ids = new int[b * t];
                        int[] mask = new int[b * t];
                        float[] y = new float[b * k];
                        for (int i = 0; i < b; i++) {
                            int e = order[from + i];
                            System.arraycopy(data.ids, e * t, ids, i * t, t);
                            System.arraycopy(data.mask, e * t, mask, i * t, t);
                            y[i * k + data.labels[e]] = 1f;
                        }
                        iteration++;
                        try (TInt32 idt = ints(ids, b, t);
                             TInt32 mt = ints(mask, b, t);
                             TFloat32 yt = TfTensors.floats(y, b, k);
                             TFloat32 p1 = TFloat32.scalarOf((float) Math.pow(BETA1, iteration));
                             TFloat32 p2 = TFloat32.scalarOf((float) Math.pow(BETA2, iteration));
                             Result r = session.runner().feed(net.inputIds, idt).feed(net.attentionMask, mt)
                                     .feed(labels, yt).feed(beta1Power, p1).feed(beta2Power, p2)
                                     .addTarget(step).fetch(loss).run()) {
                            sum += ((TFloat32) r.get(0)).getFloat() * b;
                            ctx.metrics().metric("loss", iteration, ((TFloat32) r.get(0)).getFloat());
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

    private static TInt32 ints(int[] data, long... shape) {
        return TInt32.tensorOf(Shape.of(shape), DataBuffers.of(data, true, false));
    }

    private static void shuffle(int[] a, Random rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = a[i];
            a[i] = a[j];
            a[j] = tmp;
        }
    }

    /**
     * The vocabulary, id by id: the {@code vocabulary} file's lines, checked against the tokens the data name, or the
     * tokens read off the data.
     */
    private static List<String> vocabulary(TrainerContext<Params> ctx, Examples train,
                                           Map<String, Examples> evaluation) {
        TreeMap<Integer, String> seen = new TreeMap<>(train.vocabulary);
        int maxId = train.maxId;
        for (Examples e : evaluation.values()) {
            maxId = Math.max(maxId, e.maxId);
            for (Map.Entry<Integer, String> v : e.vocabulary.entrySet()) {
                String before = seen.putIfAbsent(v.getKey(), v.getValue());
                if (before != null && !before.equals(v.getValue())) {
                    throw new DataException("evaluation data '" + e.name + "' has token '" + v.getValue() + "' as id "
                            + v.getKey() + ", the training data '" + before + "': the sets use different vocabularies");
                }
            }
        }
        String file = ctx.params().vocabulary();
        if (file != null) {
            Path path = ctx.resolve(file);
            List<String> lines;
            try {
                lines = Files.readAllLines(path, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new DataException("trainer param vocabulary: cannot read " + path + ": " + e.getMessage(), e);
            }
            if (maxId >= lines.size()) {
                throw new DataException("trainer param vocabulary: " + path + " lists " + lines.size()
                        + " tokens, but the data use token id " + maxId);
            }
            for (Map.Entry<Integer, String> v : seen.entrySet()) {
                if (!lines.get(v.getKey()).equals(v.getValue())) {
                    throw new DataException("trainer param vocabulary: " + path + " line " + (v.getKey() + 1)
                            + " is '" + lines.get(v.getKey()) + "', but the data give id " + v.getKey() + " to '"
                            + v.getValue() + "'");
                }
            }
            return lines;
        }
        List<String> special = ctx.params().specialTokens();
        List<String> out = new ArrayList<>(maxId + 1);
        Map<String, Integer> idOf = new java.util.HashMap<>();
        for (int id = 0; id <= Math.max(maxId, special.size() - 1); id++) {
            String token = seen.get(id);
            if (token == null && id < special.size()) {
                token = special.get(id);
            }
            if (token == null) {
                throw new DataException("token id " + id + " never appears among the data's tokens and is not one of the "
                        + special.size() + " specialTokens " + special + ", so the vocabulary cannot be read off the "
                        + "data: give the trainer param vocabulary (a file, one token a line)");
            }
            Integer before = idOf.putIfAbsent(token, id);
            if (before != null) {
                throw new DataException("the vocabulary read off the data names '" + token + "' twice (ids " + before
                        + " and " + id + "): check specialTokens " + special);
            }
            out.add(token);
        }
        return out;
    }

    private static void writeVocabulary(Path file, List<String> vocabulary) {
        try {
            Files.write(file, vocabulary, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OutputException("cannot write the vocabulary to " + file + ": " + e.getMessage(), e);
        }
    }

    private static void export(TrainerContext<Params> ctx, TextTransformerGraph net, Session session) {
        Signature signature = Signature.builder().key(Signature.DEFAULT_KEY)
                .input("input_ids", net.inputIds)
                .input("attention_mask", net.attentionMask)
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

    /** @return the predicted class of every example */
    private static int[] predict(Session session, Examples data) {
        int t = data.length;
        int[] predicted = new int[data.count];
        for (int from = 0; from < data.count; from += EVAL_BATCH) {
            int b = Math.min(EVAL_BATCH, data.count - from);
            try (TInt32 ids = ints(Arrays.copyOfRange(data.ids, from * t, (from + b) * t), b, t);
                 TInt32 mask = ints(Arrays.copyOfRange(data.mask, from * t, (from + b) * t), b, t);
                 Result r = session.runner().feed("input_ids", ids).feed("attention_mask", mask).fetch("logits").run()) {
                float[] logits = TfTensors.toTensor(r.get(0), "logits").floats();
                int k = logits.length / b;
                for (int i = 0; i < b; i++) {
                    int best = 0;
                    for (int c = 1; c < k; c++) {
                        if (logits[i * k + c] > logits[i * k + best]) {
                            best = c;
                        }
                    }
                    predicted[from + i] = best;
                }
            }
        }
        return predicted;
    }

    private static double accuracy(int[] predicted, int[] labels) {
        int correct = 0;
        for (int i = 0; i < predicted.length; i++) {
            correct += predicted[i] == labels[i] ? 1 : 0;
        }
        return (double) correct / predicted.length;
    }

    /**
     * Per true class and group value: examples, accuracy and the rate of each predicted class; per true class the gap
     * (largest minus smallest accuracy over the groups, for two classes the difference in the rate of predicting the
     * other class).
     */
    private static Map<String, Object> groupBreakdown(int[] predicted, Examples data, List<String> classNames) {
        int k = classNames.size();
        Map<String, Object> byClass = new LinkedHashMap<>();
        for (int c = 0; c < k; c++) {
            TreeMap<String, int[]> counts = new TreeMap<>();
            for (int i = 0; i < data.count; i++) {
                if (data.labels[i] == c) {
                    counts.computeIfAbsent(data.groups[i], g -> new int[k])[predicted[i]]++;
                }
            }
            Map<String, Object> perGroup = new LinkedHashMap<>();
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (Map.Entry<String, int[]> g : counts.entrySet()) {
                int total = Arrays.stream(g.getValue()).sum();
                Map<String, Object> rates = new LinkedHashMap<>();
                for (int q = 0; q < k; q++) {
                    rates.put(classNames.get(q), (double) g.getValue()[q] / total);
                }
                double acc = (double) g.getValue()[c] / total;
                lo = Math.min(lo, acc);
                hi = Math.max(hi, acc);
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("examples", total);
                entry.put("accuracy", acc);
                entry.put("predicted", rates);
                perGroup.put(g.getKey(), entry);
            }
            Map<String, Object> cls = new LinkedHashMap<>();
            cls.put("groups", perGroup);
            cls.put("gap", counts.size() < 2 ? 0.0 : hi - lo);
            byClass.put(classNames.get(c), cls);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("key", data.groupKey);
        out.put("byClass", byClass);
        return out;
    }

    /** A tokenized data set held in memory: ids and mask row-major {@code [count, length]}. */
    private static final class Examples {
        final String name;
        final int length;
        int[] ids;
        int[] mask;
        int[] labels;
        String[] groups;
        String groupKey;
        boolean labelled = true;
        int count;
        int maxId;
        final Map<Integer, String> vocabulary = new TreeMap<>();

        private Examples(String name, int length) {
            this.name = name;
            this.length = length;
        }

        static Examples read(Dataset dataset, String name, int length, int classes, String groupKey) {
            Examples x = new Examples(name, length);
            boolean grouped = groupKey != null && dataset.info().metadataKeys().contains(groupKey);
            int capacity = (int) Math.max(Math.min(dataset.info().size(), Integer.MAX_VALUE / length - 8), 16);
            x.ids = new int[capacity * length];
            x.mask = new int[capacity * length];
            x.labels = new int[capacity];
            x.groups = grouped ? new String[capacity] : null;
            x.groupKey = grouped ? groupKey : null;
            Iterator<Batch> it = dataset.batches(1024);
            while (it.hasNext()) {
                Batch b = it.next();
                int n = b.size();
                int[] shape = b.inputs().shape();
                if (shape.length != 2 || shape[1] != length) {
                    throw new DataException("data set '" + name + "' yielded token ids of shape " + Arrays.toString(shape)
                            + ", expected [" + n + ", " + length + "]");
                }
                Tensor maskTensor = b.features().get(Batch.ATTENTION_MASK);
                if (maskTensor == null) {
                    throw new DataException("data set '" + name + "' has no feature '" + Batch.ATTENTION_MASK
                            + "' (found " + b.features().keySet() + "); the text model needs it");
                }
                if (!Arrays.equals(maskTensor.shape(), shape)) {
                    throw new DataException("data set '" + name + "' has an attention mask of shape "
                            + Arrays.toString(maskTensor.shape()) + " for token ids " + Arrays.toString(shape));
                }
                if (!b.hasLabels()) {
                    x.labelled = false;
                }
                if ((long) x.count + n > Integer.MAX_VALUE / length - 8) {
                    throw new DataException("data set '" + name + "' is too large to train in memory: more than "
                            + x.count + " examples of " + length + " tokens");
                }
                x.ensure(x.count + n);
                System.arraycopy(asInts(b.inputs(), name, "token ids"), 0, x.ids, x.count * length, n * length);
                System.arraycopy(asInts(maskTensor, name, Batch.ATTENTION_MASK), 0, x.mask, x.count * length,
                        n * length);
                for (int i = 0; i < n; i++) {
                    int row = x.count + i;
                    if (b.hasLabels()) {
                        int label = b.labels()[i];
                        if (label < 0 || label >= classes) {
                            throw new DataException("data set '" + name + "' example " + (b.offset() + i) + " ("
                                    + b.ids().get(i) + ") has label " + label + "; expected 0.." + (classes - 1));
                        }
                        x.labels[row] = label;
                    }
                    if (grouped) {
                        x.groups[row] = b.metadata().get(i).getOrDefault(groupKey, "");
                    }
                    boolean any = false;
                    for (int p = 0; p < length; p++) {
                        int id = x.ids[row * length + p];
                        if (id < 0) {
                            throw new DataException("data set '" + name + "' example " + (b.offset() + i)
                                    + " has negative token id " + id + " at position " + p);
                        }
                        if (x.mask[row * length + p] != 0) {
                            any = true;
                            x.maxId = Math.max(x.maxId, id);
                        }
                    }
                    if (!any) {
                        throw new DataException("data set '" + name + "' example " + (b.offset() + i) + " ("
                                + b.ids().get(i) + ") has no real token (its attention mask is all 0)");
                    }
                    if (b.isText()) {
                        x.learn(b.tokens().get(i), row, b.offset() + i);
                    }
                }
                x.count += n;
            }
            return x;
        }

        /** Records which token string each id stands for, checking that an id always names the same token. */
        private void learn(Tokens tokens, int row, long example) {
            int real = Math.min(tokens.length(), length);
            for (int p = 0; p < real; p++) {
                int id = ids[row * length + p];
                String token = tokens.tokens().get(p);
                String before = vocabulary.putIfAbsent(id, token);
                if (before != null && !before.equals(token)) {
                    throw new DataException("data set '" + name + "' example " + example + " has token '" + token
                            + "' as id " + id + ", which other examples give to '" + before + "'");
                }
            }
        }

        private void ensure(int rows) {
            if (rows <= labels.length) {
                return;
            }
            int grow = Math.max(rows, labels.length * 2);
            ids = Arrays.copyOf(ids, grow * length);
            mask = Arrays.copyOf(mask, grow * length);
            labels = Arrays.copyOf(labels, grow);
            if (groups != null) {
                groups = Arrays.copyOf(groups, grow);
            }
        }

        private static int[] asInts(Tensor t, String name, String what) {
            if (t.dtype() == DType.INT32) {
                return t.ints();
            }
            if (t.dtype() == DType.INT64) {
                long[] l = t.longs();
                int[] out = new int[l.length];
                for (int i = 0; i < l.length; i++) {
                    out[i] = Math.toIntExact(l[i]);
                }
                return out;
            }
            throw new DataException("data set '" + name + "' has " + what + " of type " + t.dtype()
                    + "; the text model takes INT32 or INT64");
        }
    }
}
