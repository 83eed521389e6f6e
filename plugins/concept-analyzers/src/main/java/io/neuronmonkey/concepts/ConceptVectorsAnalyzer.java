package io.neuronmonkey.concepts;

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
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.tensor.Tensor;
import org.apache.commons.math3.distribution.TDistribution;
import org.pf4j.Extension;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * Concept activation vectors (CAVs) and TCAV scores, each claim with its error rate.
 * <p>
 * <b>CAVs.</b> Per concept, {@code randomSets} = N runs. Run {@code i} draws (seeded by the run seed and the concept's
 * NAME, so the order concepts are listed changes nothing) a concept set {@code C_i} of {@code conceptSize} examples
 * from the concept's examples, a random set {@code R_i} of {@code conceptSize} examples from the random pool, and two
 * further disjoint random sets {@code A_i, B_i} from the pool. The random pool is the step's data minus the
 * concept's examples ({@code where:} concepts: the examples the filter rejects; {@code label:} concepts: the other
 * classes; {@code data:} concepts: the whole step's data). Within a set examples are distinct; sets of different runs
 * are independent draws. Per layer a logistic regression (liblinear, L2, held-out share {@code holdout}) separates
 * {@code C_i} from {@code R_i}: its unit weight vector towards {@code C_i} is the concept CAV; {@code A_i} against
 * {@code B_i} gives a random CAV of the null distribution. Under the null hypothesis (the concept's examples are
 * like any others) both kinds of CAV come from the same distribution, which is what the tests below assume.
 * <p>
 * <b>Space.</b> {@code flattened}: a CAV has one weight per position and channel, and the directional derivative is
 * {@code grad . cav} over every position and channel. {@code channel-mean}: activations are averaged over positions
 * before training, a CAV has one weight per channel, and the directional derivative is
 * {@code sum_p grad_p . cav / positions} (the derivative along adding {@code cav/positions} at every position, i.e.
 * moving the channel means by {@code cav}).
 * <p>
 * <b>TCAV score</b> of a CAV for class {@code k}: the share of the first {@code examplesPerClass} examples of class
 * {@code k} (data order) whose directional derivative of logit {@code k} along the CAV is positive. One gradient call
 * per layer and batch (each row differentiates its own class's logit) serves every CAV of the layer at once.
 * <p>
 * <b>Test</b> per concept, layer and class: the N concept TCAV scores against the N random ones: two-sided Welch t test
 * and two-sided permutation test of the difference of means (the decision uses the permutation p), Benjamini-Hochberg
 * q over every concept x layer x class tested, the difference with a 95% percentile bootstrap interval, and Cohen's d.
 */
@Extension
@ExtensionName(value = "concept-vectors",
        description = "Concept activation vectors and TCAV scores against random CAVs: Welch and permutation tests, BH q over every concept x layer x class, CAV accuracy and top channels")
public final class ConceptVectorsAnalyzer implements Analyzer<ConceptVectorsAnalyzer.Params> {

    /** The space a CAV lives in. */
    public enum Space {
        /** every position and channel of the layer */
        FLATTENED,
        /** channel means over positions */
        CHANNEL_MEAN
    }

    /**
     * Params of concept-vectors.
     *
     * @param concepts         concept name to {@code {where: {...}}}, {@code {data: NAME}} or {@code {label: CLASS}}
     * @param randomSets       runs per concept (concept CAVs and random CAVs each)
     * @param conceptSize      examples per concept set and per random set
     * @param classes          classes tested; empty for every class
     * @param reduce           the CAV space
     * @param alpha            false discovery rate of the findings
     * @param examplesPerClass examples per class for the TCAV score
     * @param permutations     permutations of the permutation test
     * @param bootstrap        bootstrap resamples of the difference's interval
     * @param holdout          share of each set held out of training for the CAV's accuracy
     * @param cost             inverse regularization strength of the logistic regression
     */
    public record Params(
            @Param(description = "concepts by name: {where: {metadata: value}} on the step's data, {data: DATASET} (another data set) or {label: CLASS}") Map<String, Object> concepts,
            @Param(defaultValue = "20", description = "runs per concept: concept-vs-random CAVs and as many random-vs-random CAVs, 2..1000") int randomSets,
            @Param(defaultValue = "64", description = "examples per concept set and per random set, 4..100000") int conceptSize,
            @Param(description = "classes whose TCAV scores are tested; empty for every class") List<String> classes,
            @Param(defaultValue = "flattened", description = "CAV space of spatial layers: flattened (every position and channel) or channel-mean (channel means over positions)") Space reduce,
            @Param(defaultValue = "0.05", description = "false discovery rate (Benjamini-Hochberg) of the findings, in (0, 1)") double alpha,
            @Param(defaultValue = "64", description = "examples per class (the first in data order) for the TCAV score, 1..1000000") int examplesPerClass,
            @Param(defaultValue = "10000", description = "permutations of the permutation test, 100..10000000") int permutations,
            @Param(defaultValue = "2000", description = "bootstrap resamples of the difference's 95% interval, 100..1000000") int bootstrap,
            @Param(defaultValue = "0.2", description = "share of each set held out of training to measure a CAV's accuracy, in (0, 0.5]") double holdout,
            @Param(defaultValue = "1.0", description = "inverse L2 regularization strength C of the logistic regression, > 0") double cost) {

        /** Checks every field. */
        public Params {
            concepts = concepts == null ? Map.of() : new LinkedHashMap<>(concepts);
            classes = classes == null ? List.of() : List.copyOf(classes);
            List<String> problems = new ArrayList<>();
            List<ConceptSpec> specs = ConceptSpec.parse(concepts, problems);
            Violations.check()
                    .require(!concepts.isEmpty(), "concepts", "give at least one concept, e.g. {watermark: {where: {watermark: on}}}")
                    .require(problems.isEmpty(), "concepts", String.join("; ", problems))
                    .require(randomSets >= 2 && randomSets <= 1000, "randomSets", "must be between 2 and 1000, found " + randomSets)
                    .require(conceptSize >= 4 && conceptSize <= 100_000, "conceptSize", "must be between 4 and 100000, found " + conceptSize)
                    .require(reduce != null, "reduce", "must be flattened or channel-mean")
                    .require(alpha > 0 && alpha < 1, "alpha", "must be in (0, 1), found " + alpha)
                    .require(examplesPerClass >= 1 && examplesPerClass <= 1_000_000, "examplesPerClass",
                            "must be between 1 and 1000000, found " + examplesPerClass)
                    .require(permutations >= 100 && permutations <= 10_000_000, "permutations",
                            "must be between 100 and 10000000, found " + permutations)
                    .require(bootstrap >= 100 && bootstrap <= 1_000_000, "bootstrap", "must be between 100 and 1000000, found " + bootstrap)
                    .require(holdout > 0 && holdout <= 0.5, "holdout", "must be in (0, 0.5], found " + holdout)
                    .require(cost > 0 && Double.isFinite(cost), "cost", "must be finite and > 0, found " + cost)
                    .throwIfAny();
        }

        /** @return the parsed concepts, in the order given */
        List<ConceptSpec> specs() {
            return ConceptSpec.parse(concepts, new ArrayList<>());
        }
    }

    /** The sets of one concept's runs: indices into the concept's data and into the step's data. */
    private record Draws(ConceptSpec spec, Dataset source, int poolSize, int randomPoolSize, int[][] concept,
                         int[][] random, int[][] nullA, int[][] nullB) {
    }

    /** One test's numbers. */
    private record Test(int concept, int layer, int cls, ConceptStats.Comparison c) {
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        String step = ctx.stepId();
        LoadedModel model = ctx.requireModel();
        Dataset data = ctx.requireData();
        if (!model.supportsGradients()) {
            throw new AnalysisException("step '" + step + "': TCAV needs gradients, and the model (" + model.description()
                    + ") does not compute them");
        }
        List<LayerInfo> layers = ctx.layers();
        if (layers.isEmpty()) {
            throw new AnalysisException("step '" + step + "': give the layers whose CAVs are learned, e.g. 'layers: [conv1, conv2, dense1]'");
        }
        List<String> classNames = data.info().classNames();
        String logits = model.logitsLayer();
        int logitCount = model.layer(logits).map(LayerInfo::neurons).orElse(classNames.size());
        List<Integer> tested = testedClasses(p.classes(), classNames, logitCount, step);
        List<ConceptSpec> specs = p.specs();

        // one pass over the step's data: labels, and which concept each example belongs to
        Scan scan = Scan.of(data, specs, ctx.batchSize(), step);
        List<Draws> draws = new ArrayList<>();
        for (int ci = 0; ci < specs.size(); ci++) {
            draws.add(draw(ctx, specs.get(ci), scan, ci, p, data));
        }
        int[] classRows = classRows(scan.labels, tested, p.examplesPerClass(), classNames, step);
        ClassInputs inputs = ClassInputs.of(data, classRows, scan.labels, ctx.batchSize());

        int n = p.randomSets();
        int k = specs.size() * 2 * n;
        // per layer: [cav k][class] TCAV scores, concept-CAV accuracies, and per concept the channel weights of each run
        double[][][] scores = new double[layers.size()][][];
        double[][] accuracy = new double[specs.size()][layers.size()];
        double[][] nullAccuracy = new double[specs.size()][layers.size()];
        double[][][][] channelWeights = new double[specs.size()][layers.size()][][];
        for (int li = 0; li < layers.size(); li++) {
            LayerInfo layer = layers.get(li);
            int dim = p.reduce() == Space.FLATTENED ? layer.positions() * layer.neurons() : layer.neurons();
            float[] cavs = new float[k * dim];
            for (int ci = 0; ci < specs.size(); ci++) {
                Draws d = draws.get(ci);
                Rows stepRows = Rows.of(model, data, stepIndices(d, d.source == data), layer, p.reduce(), ctx.batchSize());
                Rows conceptRows = d.source == data ? stepRows
                        : Rows.of(model, d.source, union(d.concept), layer, p.reduce(), ctx.batchSize());
                channelWeights[ci][li] = new double[n][];
                for (int i = 0; i < n; i++) {
                    long s = seedOf(ctx.seed(), d.spec.name(), layer.name(), Integer.toString(i));
                    CavTrainer.Cav cav = trainAcross(conceptRows, d.concept[i], stepRows, d.random[i], dim, p, s);
                    CavTrainer.Cav nul = CavTrainer.train(stepRows.values, dim, stepRows.rows(d.nullA[i]),
                            stepRows.rows(d.nullB[i]), p.holdout(), p.cost(), s ^ 0x5DEECE66DL);
                    System.arraycopy(cav.direction(), 0, cavs, ((ci * 2) * n + i) * dim, dim);
                    System.arraycopy(nul.direction(), 0, cavs, ((ci * 2 + 1) * n + i) * dim, dim);
                    accuracy[ci][li] += cav.accuracy() / n;
                    nullAccuracy[ci][li] += nul.accuracy() / n;
                    channelWeights[ci][li][i] = channelWeights(cav.direction(), layer, p.reduce());
                }
            }
            scores[li] = tcavScores(model, inputs, layer, p.reduce(), cavs, k, tested, ctx.batchSize());
        }

        List<Test> tests = new ArrayList<>();
        for (int ci = 0; ci < specs.size(); ci++) {
            for (int li = 0; li < layers.size(); li++) {
                for (int t = 0; t < tested.size(); t++) {
                    double[] a = new double[n];
                    double[] b = new double[n];
                    for (int i = 0; i < n; i++) {
                        a[i] = scores[li][(ci * 2) * n + i][t];
                        b[i] = scores[li][(ci * 2 + 1) * n + i][t];
                    }
                    long s = seedOf(ctx.seed(), specs.get(ci).name(), layers.get(li).name(), classNames.get(tested.get(t)), "test");
                    tests.add(new Test(ci, li, t, ConceptStats.compare(a, b, p.permutations(), p.bootstrap(), s)));
                }
            }
        }
        double[] q = Fdr.qValues(tests.stream().mapToDouble(t -> t.c.permutationP()).toArray());
        return result(p, ctx, specs, draws, layers, tested, classNames, inputs, tests, q, accuracy, nullAccuracy, channelWeights);
    }

    // ---------------------------------------------------------------- examples

    /** Labels of the step's data and, per concept of the step's data, which examples belong to it. */
    private record Scan(int[] labels, boolean[][] member) {

        static Scan of(Dataset data, List<ConceptSpec> specs, int batchSize, String step) {
            List<String> classNames = data.info().classNames();
            ExampleFilter[] filters = new ExampleFilter[specs.size()];
            int[] label = new int[specs.size()];
            for (int c = 0; c < specs.size(); c++) {
                ConceptSpec s = specs.get(c);
                if (s.kind() == ConceptSpec.Kind.WHERE) {
                    filters[c] = new ExampleFilter(data, s.where(), Long.MAX_VALUE, step + "' concept '" + s.name());
                } else if (s.kind() == ConceptSpec.Kind.LABEL) {
                    label[c] = classNames.indexOf(s.source());
                    if (label[c] < 0) {
                        throw new AnalysisException("step '" + step + "': concept '" + s.name() + "' names label '" + s.source()
                                + "', which is not a class of the data; valid: " + String.join(", ", classNames));
                    }
                }
            }
            List<int[]> labelChunks = new ArrayList<>();
            List<boolean[][]> memberChunks = new ArrayList<>();
            int total = 0;
            for (Iterator<Batch> it = data.batches(batchSize); it.hasNext(); ) {
                Batch b = it.next();
                int[] lab = new int[b.size()];
                boolean[][] mem = new boolean[specs.size()][b.size()];
                for (int r = 0; r < b.size(); r++) {
                    lab[r] = b.hasLabels() ? b.labels()[r] : -1;
                    for (int c = 0; c < specs.size(); c++) {
                        mem[c][r] = switch (specs.get(c).kind()) {
                            case WHERE -> filters[c].test(b, r);
                            case LABEL -> lab[r] == label[c];
                            case DATA -> false;
                        };
                    }
                }
                labelChunks.add(lab);
                memberChunks.add(mem);
                total += b.size();
            }
            int[] labels = new int[total];
            boolean[][] member = new boolean[specs.size()][total];
            int at = 0;
            for (int i = 0; i < labelChunks.size(); i++) {
                int m = labelChunks.get(i).length;
                System.arraycopy(labelChunks.get(i), 0, labels, at, m);
                for (int c = 0; c < specs.size(); c++) {
                    System.arraycopy(memberChunks.get(i)[c], 0, member[c], at, m);
                }
                at += m;
            }
            return new Scan(labels, member);
        }
    }

    private static Draws draw(AnalyzerContext<Params> ctx, ConceptSpec spec, Scan scan, int ci, Params p, Dataset data) {
        String step = ctx.stepId();
        int size = p.conceptSize();
        Dataset source = data;
        int[] pool;
        if (spec.kind() == ConceptSpec.Kind.DATA) {
            source = ctx.dataset(spec.source()).orElseThrow(() -> new AnalysisException("step '" + step + "': concept '"
                    + spec.name() + "' names data set '" + spec.source() + "', which the experiment does not declare; valid: "
                    + String.join(", ", ctx.datasetNames())));
            if (!Arrays.equals(source.info().exampleShape(), data.info().exampleShape())) {
                throw new AnalysisException("step '" + step + "': concept '" + spec.name() + "': data set '" + spec.source()
                        + "' has examples of shape " + Arrays.toString(source.info().exampleShape()) + ", the step's data "
                        + Arrays.toString(data.info().exampleShape()));
            }
            pool = range(count(source, ctx.batchSize()));
        } else {
            pool = indicesWhere(scan.member[ci], true);
        }
        int[] randomPool = spec.kind() == ConceptSpec.Kind.DATA ? range(scan.labels.length) : indicesWhere(scan.member[ci], false);
        if (pool.length == 0) {
            throw new AnalysisException("step '" + step + "': concept '" + spec.name() + "' (" + spec.describe()
                    + ") matches 0 examples" + (spec.kind() == ConceptSpec.Kind.DATA ? "" : " of the step's data (" + scan.labels.length + " examples)"));
        }
        if (pool.length < size) {
            throw new AnalysisException("step '" + step + "': concept '" + spec.name() + "' (" + spec.describe() + ") has "
                    + pool.length + " examples, fewer than conceptSize " + size + "; lower conceptSize or widen the concept");
        }
        if (randomPool.length < 2 * size) {
            throw new AnalysisException("step '" + step + "': concept '" + spec.name() + "' leaves " + randomPool.length
                    + " examples of the step's data for random sets, fewer than 2 x conceptSize = " + 2 * size
                    + " (two disjoint random sets per run); lower conceptSize or give more data");
        }
        int n = p.randomSets();
        SplittableRandom rnd = new SplittableRandom(seedOf(ctx.seed(), spec.name(), "draws"));
        int[][] concept = new int[n][];
        int[][] random = new int[n][];
        int[][] a = new int[n][];
        int[][] b = new int[n][];
        for (int i = 0; i < n; i++) {
            concept[i] = sample(pool, size, rnd);
            random[i] = sample(randomPool, size, rnd);
            int[] pair = sample(randomPool, 2 * size, rnd);
            a[i] = Arrays.copyOfRange(pair, 0, size);
            b[i] = Arrays.copyOfRange(pair, size, 2 * size);
        }
        return new Draws(spec, source, pool.length, randomPool.length, concept, random, a, b);
    }

    /** @return the first {@code perClass} examples of each tested class, in data order */
    private static int[] classRows(int[] labels, List<Integer> tested, int perClass, List<String> classNames, String step) {
        int[] count = new int[classNames.size()];
        boolean[] want = new boolean[classNames.size()];
        tested.forEach(c -> want[c] = true);
        int[] rows = new int[labels.length];
        int m = 0;
        for (int r = 0; r < labels.length; r++) {
            int c = labels[r];
            if (c >= 0 && c < want.length && want[c] && count[c] < perClass) {
                count[c]++;
                rows[m++] = r;
            }
        }
        for (int c : tested) {
            if (count[c] == 0) {
                throw new AnalysisException("step '" + step + "': class '" + classNames.get(c)
                        + "' has no labelled example in the step's data, so it has no TCAV score; drop it from 'classes'");
            }
        }
        return Arrays.copyOf(rows, m);
    }

    /**
     * The model inputs of the TCAV examples (every input the model takes, in parts of at most a batch, in data order),
     * their labels and per tested class how many there are.
     */
    private record ClassInputs(List<ModelInputs> parts, int[] labels) {

        static ClassInputs of(Dataset data, int[] rows, int[] allLabels, int batchSize) {
            List<ModelInputs> parts = new ArrayList<>();
            int at = 0;
            for (Iterator<Batch> it = data.batches(batchSize); it.hasNext() && at < rows.length; ) {
                Batch b = it.next();
                int from = at;
                while (at < rows.length && rows[at] < b.offset() + b.size()) {
                    at++;
                }
                if (at > from) {
                    int[] local = new int[at - from];
                    for (int i = 0; i < local.length; i++) {
                        local[i] = (int) (rows[from + i] - b.offset());
                    }
                    parts.add(b.modelInputs().select(local));
                }
            }
            int[] labels = new int[rows.length];
            for (int i = 0; i < rows.length; i++) {
                labels[i] = allLabels[rows[i]];
            }
            return new ClassInputs(parts, labels);
        }

        int count(int cls) {
            int n = 0;
            for (int l : labels) {
                n += l == cls ? 1 : 0;
            }
            return n;
        }
    }

    /**
     * The activations of chosen examples of one data set at one layer, in the CAV space.
     *
     * @param index  the chosen example indices, ascending
     * @param values row-major {@code [index.length, dim]}
     */
    private record Rows(int[] index, float[] values) {

        static Rows of(LoadedModel model, Dataset data, int[] index, LayerInfo layer, Space space, int batchSize) {
            int dim = space == Space.FLATTENED ? layer.positions() * layer.neurons() : layer.neurons();
            float[] out = new float[index.length * dim];
            int at = 0;
            for (Iterator<Batch> it = data.batches(batchSize); it.hasNext() && at < index.length; ) {
                Batch b = it.next();
                int from = at;
                while (at < index.length && index[at] < b.offset() + b.size()) {
                    at++;
                }
                if (at == from) {
                    continue;
                }
                int[] rows = new int[at - from];
                for (int i = 0; i < rows.length; i++) {
                    rows[i] = (int) (index[from + i] - b.offset());
                }
                Batch chosen = rows.length == b.size() ? b : ExampleFilter.select(b, rows);
                Tensor t = model.run(chosen.modelInputs(), List.of(layer.name()), List.of()).get(layer.name());
                float[] v = space == Space.FLATTENED ? t.floats() : LayerActivations.reduce(t, layer.neurons(), LayerActivations.Reduce.MEAN);
                System.arraycopy(v, 0, out, from * dim, rows.length * dim);
            }
            if (at != index.length) {
                throw new AnalysisException("the data served " + at + " of the " + index.length + " examples it counted before");
            }
            return new Rows(index, out);
        }

        /** @return the row positions of the given example indices */
        int[] rows(int[] examples) {
            int[] out = new int[examples.length];
            for (int i = 0; i < examples.length; i++) {
                out[i] = Arrays.binarySearch(index, examples[i]);
            }
            return out;
        }
    }

    /** Trains one CAV whose positive rows may live in another data set's activations than the negative ones. */
    private static CavTrainer.Cav trainAcross(Rows pos, int[] posExamples, Rows neg, int[] negExamples, int dim, Params p, long seed) {
        if (pos == neg) {
            return CavTrainer.train(pos.values, dim, pos.rows(posExamples), neg.rows(negExamples), p.holdout(), p.cost(), seed);
        }
        int[] pr = pos.rows(posExamples);
        int[] nr = neg.rows(negExamples);
        float[] both = new float[(pr.length + nr.length) * dim];
        int[] a = new int[pr.length];
        int[] b = new int[nr.length];
        for (int i = 0; i < pr.length; i++) {
            System.arraycopy(pos.values, pr[i] * dim, both, i * dim, dim);
            a[i] = i;
        }
        for (int i = 0; i < nr.length; i++) {
            System.arraycopy(neg.values, nr[i] * dim, both, (pr.length + i) * dim, dim);
            b[i] = pr.length + i;
        }
        return CavTrainer.train(both, dim, a, b, p.holdout(), p.cost(), seed);
    }

    // ---------------------------------------------------------------- TCAV

    /**
     * @return per CAV and tested class the share of that class's examples whose directional derivative of the class
     *         logit along the CAV is positive
     */
    private static double[][] tcavScores(LoadedModel model, ClassInputs in, LayerInfo layer, Space space, float[] cavs, int k,
                                         List<Integer> tested, int batchSize) {
        double[] dd = new double[in.labels().length * k];
        int at = 0;
        for (ModelInputs part : in.parts()) {
            int m = part.rows();
            double[] d = directionalDerivatives(model, part, Arrays.copyOfRange(in.labels(), at, at + m), layer, space, cavs, k,
                    batchSize);
            System.arraycopy(d, 0, dd, at * k, m * k);
            at += m;
        }
        int[] col = new int[in.labels().length];
        for (int e = 0; e < col.length; e++) {
            col[e] = tested.indexOf(in.labels()[e]);
        }
        double[][] score = new double[k][tested.size()];
        for (int e = 0; e < col.length; e++) {
            for (int c = 0; c < k; c++) {
                if (dd[e * k + c] > 0) {
                    score[c][col[e]]++;
                }
            }
        }
        for (int t = 0; t < tested.size(); t++) {
            double count = in.count(tested.get(t));
            for (int c = 0; c < k; c++) {
                score[c][t] /= count;
            }
        }
        return score;
    }

    /**
     * Directional derivatives of each row's logit along every CAV of a layer: one gradient call per batch serves all
     * CAVs.
     *
     * @param model     the model
     * @param inputs    the model inputs of n rows
     * @param logit     per row the logit differentiated
     * @param layer     the CAVs' layer
     * @param space     the CAVs' space
     * @param cavs      row-major {@code [k, dim]} CAVs
     * @param k         the number of CAVs
     * @param batchSize rows per gradient call
     * @return row-major {@code [n, k]}: {@code grad . cav} (flattened) or {@code sum_p grad_p . cav / positions}
     *         (channel-mean)
     */
    static double[] directionalDerivatives(LoadedModel model, ModelInputs inputs, int[] logit, LayerInfo layer, Space space,
                                           float[] cavs, int k, int batchSize) {
        int n = inputs.rows();
        int dim = cavs.length / k;
        double[] out = new double[n * k];
        for (int from = 0; from < n; from += batchSize) {
            int m = Math.min(batchSize, n - from);
            int[] rows = new int[m];
            for (int i = 0; i < m; i++) {
                rows[i] = from + i;
            }
            ModelInputs chunk = m == n ? inputs : inputs.select(rows);
            Tensor g = model.gradient(chunk, GradientTarget.perRow(model.logitsLayer(), Arrays.copyOfRange(logit, from, from + m)),
                    layer.name(), List.of());
            float[] grad = space == Space.FLATTENED ? g.floats() : LayerActivations.reduce(g, layer.neurons(), LayerActivations.Reduce.MEAN);
            for (int e = 0; e < m; e++) {
                int base = e * dim;
                for (int c = 0; c < k; c++) {
                    int cb = c * dim;
                    double dot = 0;
                    for (int j = 0; j < dim; j++) {
                        dot += grad[base + j] * cavs[cb + j];
                    }
                    out[(from + e) * k + c] = dot;
                }
            }
        }
        return out;
    }

    /** @return per channel the CAV's weight: the sum over positions in the flattened space, the weight itself per channel */
    static double[] channelWeights(float[] cav, LayerInfo layer, Space space) {
        int channels = layer.neurons();
        double[] w = new double[channels];
        for (int j = 0; j < cav.length; j++) {
            w[space == Space.FLATTENED ? j % channels : j] += cav[j];
        }
        return w;
    }

    // ---------------------------------------------------------------- result

    private static AnalysisResult result(Params p, AnalyzerContext<Params> ctx, List<ConceptSpec> specs, List<Draws> draws,
                                         List<LayerInfo> layers, List<Integer> tested, List<String> classNames,
                                         ClassInputs inputs, List<Test> tests, double[] q, double[][] accuracy,
                                         double[][] nullAccuracy, double[][][][] channelWeights) {
        AnalysisResult.Builder r = AnalysisResult.builder();
        List<String> layerNames = layers.stream().map(LayerInfo::name).toList();
        List<String> testedNames = tested.stream().map(classNames::get).toList();
        r.put("analyzer", "concept-vectors");
        r.put("randomSets", p.randomSets());
        r.put("conceptSize", p.conceptSize());
        r.put("space", p.reduce().name().toLowerCase(Locale.ROOT).replace('_', '-'));
        r.put("alpha", p.alpha());
        r.put("permutations", p.permutations());
        r.put("tested", tests.size());
        Map<String, Object> perClass = new LinkedHashMap<>();
        for (int c : tested) {
            perClass.put(classNames.get(c), inputs.count(c));
        }
        r.put("examplesPerClass", perClass);
        r.put("sets", "per run i: concept set C_i (conceptSize distinct examples of the concept), random set R_i and two "
                + "disjoint random sets A_i, B_i (conceptSize each) from the random pool = the step's data minus the concept's "
                + "examples (where: rejected by the filter; label: other classes; data: the whole step's data); seeded by the "
                + "run seed and the concept's name");
        r.put("cav", "unit weight vector of an L2 logistic regression (liblinear, C " + p.cost() + "), towards C_i against R_i "
                + "(concept CAV) or A_i against B_i (random CAV); held-out share " + p.holdout() + " of each set gives its accuracy");
        r.put("directionalDerivative", p.reduce() == Space.FLATTENED ? "grad . cav over every position and channel"
                : "sum over positions of grad_p . cav / positions (CAV on channel means)");
        r.put("tcav", "share of a class's examples whose directional derivative of the class logit along the CAV is > 0");
        r.put("test", "concept TCAV scores (randomSets values) vs random-CAV TCAV scores (randomSets values): two-sided Welch t "
                + "test and two-sided permutation test of the difference of means (decides); q: Benjamini-Hochberg over "
                + "every concept x layer x class; interval: 95% percentile bootstrap of the difference; d: Cohen's d, pooled sd");

        List<Map<String, Object>> rows = new ArrayList<>();
        List<Finding> notable = new ArrayList<>();
        List<Finding> warnings = new ArrayList<>();
        Matrix.Axis layerAxis = Matrix.Axis.of("layer", layerNames);
        Matrix.Axis classAxis = Matrix.Axis.of("class", testedNames);
        float[] acc = new float[specs.size() * layers.size()];
        for (int ci = 0; ci < specs.size(); ci++) {
            ConceptSpec s = specs.get(ci);
            Draws d = draws.get(ci);
            if (d.poolSize < 2 * p.conceptSize()) {
                warnings.add(new Finding("overlap-" + s.name(), Finding.Severity.WARNING, "concept '" + s.name() + "' has "
                        + d.poolSize + " examples for concept sets of " + p.conceptSize() + ", so its " + p.randomSets()
                        + " concept sets overlap heavily and the test treats these examples as fixed: its error rate holds for "
                        + "them, not for the concept at large", null, List.of(), List.of()));
            }
            float[] score = new float[layers.size() * tested.size()];
            float[] random = new float[score.length];
            float[] qs = new float[score.length];
            for (int i = 0; i < tests.size(); i++) {
                Test t = tests.get(i);
                if (t.concept != ci) {
                    continue;
                }
                int at = t.layer * tested.size() + t.cls;
                score[at] = (float) t.c.concept();
                random[at] = (float) t.c.random();
                qs[at] = (float) q[i];
            }
            String desc = "concept " + s.describe() + "; " + p.randomSets() + " runs";
            r.part(new Matrix("tcav-" + s.name(), "TCAV scores of concept '" + s.name() + "'", layerAxis, classAxis,
                    NdArray.of(Tensor.ofFloats(score, layers.size(), tested.size()), "layer", "class"),
                    "mean TCAV score over concept CAVs", null, desc));
            r.part(new Matrix("tcav-random-" + s.name(), "TCAV scores of the random CAVs of concept '" + s.name() + "'",
                    layerAxis, classAxis, NdArray.of(Tensor.ofFloats(random, layers.size(), tested.size()), "layer", "class"),
                    "mean TCAV score over random CAVs", null, "random CAVs: A_i against B_i from the random pool"));
            r.part(new Matrix("tcav-q-" + s.name(), "q-values of concept '" + s.name() + "'", layerAxis, classAxis,
                    NdArray.of(Tensor.ofFloats(qs, layers.size(), tested.size()), "layer", "class"), "q-value",
                    null, "Benjamini-Hochberg over the permutation p-values of all " + tests.size() + " tests"));
            for (int li = 0; li < layers.size(); li++) {
                acc[ci * layers.size() + li] = (float) accuracy[ci][li];
                r.part(ranking(s, layers.get(li), p, channelWeights[ci][li]));
            }
        }
        r.part(new Matrix("cav-accuracy", "held-out accuracy of the concept CAVs",
                Matrix.Axis.of("concept", specs.stream().map(ConceptSpec::name).toList()), layerAxis,
                NdArray.of(Tensor.ofFloats(acc, specs.size(), layers.size()), "concept", "layer"), "accuracy", null,
                "mean over runs of the held-out accuracy of C_i against R_i"));

        Map<String, Object> nullAcc = new LinkedHashMap<>();
        Map<String, Object> concepts = new LinkedHashMap<>();
        for (int ci = 0; ci < specs.size(); ci++) {
            Map<String, Object> perLayer = new LinkedHashMap<>();
            for (int li = 0; li < layers.size(); li++) {
                perLayer.put(layerNames.get(li), accuracy(nullAccuracy[ci][li]));
            }
            nullAcc.put(specs.get(ci).name(), perLayer);
            Draws d = draws.get(ci);
            concepts.put(specs.get(ci).name(), Map.of("source", specs.get(ci).describe(), "examples", d.poolSize,
                    "randomPool", d.randomPoolSize));
        }
        r.put("concepts", concepts);
        r.put("randomCavAccuracy", nullAcc);

        int significant = 0;
        double smallest = 1;
        Map<String, List<Integer>> bySet = new LinkedHashMap<>();
        for (int i = 0; i < tests.size(); i++) {
            Test t = tests.get(i);
            ConceptStats.Comparison c = t.c;
            String concept = specs.get(t.concept).name();
            String layer = layerNames.get(t.layer);
            String cls = testedNames.get(t.cls);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("concept", concept);
            row.put("layer", layer);
            row.put("class", cls);
            row.put("score", c.concept());
            row.put("random", c.random());
            row.put("difference", c.difference());
            row.put("low", c.low());
            row.put("high", c.high());
            row.put("cohensD", Double.isFinite(c.cohensD()) ? c.cohensD() : null);
            row.put("welchP", Double.isNaN(c.welchP()) ? null : c.welchP());
            row.put("permutationP", c.permutationP());
            row.put("q", q[i]);
            rows.add(row);
            smallest = Math.min(smallest, q[i]);
            if (q[i] < p.alpha()) {
                significant++;
                bySet.computeIfAbsent(t.concept + "\u0000" + t.layer, k -> new ArrayList<>()).add(i);
            }
        }
        // one finding per concept and layer, naming every class it raises or lowers significantly, strongest first
        for (List<Integer> group : bySet.values()) {
            group.sort(Comparator.<Integer>comparingDouble(i -> q[i])
                    .thenComparingDouble(i -> -Math.abs(tests.get(i).c.difference())));
            Test first = tests.get(group.get(0));
            String concept = specs.get(first.concept).name();
            String layer = layerNames.get(first.layer);
            List<String> raises = new ArrayList<>();
            List<String> lowers = new ArrayList<>();
            for (int i : group) {
                ConceptStats.Comparison c = tests.get(i).c;
                String one = "'" + testedNames.get(tests.get(i).cls) + "' (score " + fmt(c.concept()) + " vs random "
                        + fmt(c.random()) + ", difference " + fmt(c.difference()) + " [" + fmt(c.low()) + ", "
                        + fmt(c.high()) + "], d " + fmt(c.cohensD()) + ", q " + fmt(q[i]) + ")";
                (c.difference() > 0 ? raises : lowers).add(one);
            }
            String claim = "TCAV: concept '" + concept + "' at " + layer
                    + (raises.isEmpty() ? "" : " raises " + String.join(" and ", raises))
                    + (raises.isEmpty() || lowers.isEmpty() ? "" : "; it")
                    + (lowers.isEmpty() ? "" : " lowers " + String.join(" and ", lowers));
            ConceptStats.Comparison c = first.c;
            List<NeuronRef> top = topNeurons(channelWeights[first.concept][first.layer], layer, 3);
            notable.add(new Finding(RowIds.of("tcav-" + concept + "-" + layer), Finding.Severity.NOTABLE, claim,
                    new Finding.Strength("difference of mean TCAV score, concept - random ('"
                            + testedNames.get(first.cls) + "', the strongest)", c.difference(),
                            new Interval(c.low(), c.high(), 0.95, "percentile bootstrap"), q[group.get(0)]),
                    top, List.of("tcav-" + concept, "tcav-q-" + concept, RowIds.of("cav-" + concept + "-" + layer))));
        }
        r.put("tests", rows);
        r.put("significant", significant);
        warnings.forEach(r::finding);
        notable.sort(Comparator.comparingDouble(f -> f.strength().q()));
        notable.forEach(r::finding);
        if (significant == 0) {
            r.finding(new Finding("tcav-none", Finding.Severity.INFO, "TCAV: none of the " + tests.size()
                    + " concept x layer x class tests differs from random CAVs at FDR " + fmt(p.alpha()) + " (smallest q "
                    + fmt(smallest) + ")", null, List.of(), specs.stream().map(s -> "tcav-q-" + s.name()).toList()));
        }
        return r.build();
    }

    private static Ranking ranking(ConceptSpec s, LayerInfo layer, Params p, double[][] weights) {
        int n = weights.length;
        int channels = layer.neurons();
        TDistribution t = new TDistribution(n - 1);
        double crit = t.inverseCumulativeProbability(0.975);
        List<Ranking.Entry> entries = new ArrayList<>();
        for (int c = 0; c < channels; c++) {
            double sum = 0;
            double sq = 0;
            for (double[] w : weights) {
                sum += w[c];
                sq += w[c] * w[c];
            }
            double mean = sum / n;
            double sd = Math.sqrt(Math.max(0, (sq - n * mean * mean) / (n - 1)));
            double half = crit * sd / Math.sqrt(n);
            entries.add(new Ranking.Entry(new NeuronRef(layer.name(), c), mean,
                    new Interval(mean - half, mean + half, 0.95, "Student t over runs"), null, null, ""));
        }
        entries.sort(Comparator.comparingDouble(Ranking.Entry::score).reversed());
        return new Ranking(RowIds.of("cav-" + s.name() + "-" + layer.name()), "channels of " + layer.name()
                + " along the CAV of '" + s.name() + "'", "mean CAV weight" + (p.reduce() == Space.FLATTENED && layer.positions() > 1
                ? " (summed over positions)" : ""), entries,
                "per channel the concept CAV's weight, mean over " + n + " runs, highest (most towards the concept) first");
    }

    private static List<NeuronRef> topNeurons(double[][] weights, String layer, int k) {
        int channels = weights[0].length;
        double[] mean = new double[channels];
        for (double[] w : weights) {
            for (int c = 0; c < channels; c++) {
                mean[c] += w[c] / weights.length;
            }
        }
        Integer[] order = new Integer[channels];
        for (int c = 0; c < channels; c++) {
            order[c] = c;
        }
        Arrays.sort(order, (a, b) -> Double.compare(mean[b], mean[a]));
        List<NeuronRef> out = new ArrayList<>();
        for (int i = 0; i < Math.min(k, channels); i++) {
            out.add(new NeuronRef(layer, order[i]));
        }
        return out;
    }

    // ---------------------------------------------------------------- small helpers

    private static List<Integer> testedClasses(List<String> wanted, List<String> classNames, int logits, String step) {
        if (classNames.isEmpty()) {
            throw new AnalysisException("step '" + step + "': the data has no class names, so no class logit to test");
        }
        List<Integer> out = new ArrayList<>();
        for (String w : wanted.isEmpty() ? classNames : wanted) {
            int c = classNames.indexOf(w);
            if (c < 0) {
                throw new AnalysisException("step '" + step + "': 'classes' names '" + w + "', which is not a class of the data; valid: "
                        + String.join(", ", classNames));
            }
            if (c >= logits) {
                throw new AnalysisException("step '" + step + "': class '" + w + "' has index " + c + ", but the logits layer has "
                        + logits + " neurons");
            }
            if (!out.contains(c)) {
                out.add(c);
            }
        }
        return out;
    }

    /** @return the step-data examples of a concept's random sets, and of its concept sets when they come from the step's data */
    private static int[] stepIndices(Draws d, boolean withConcept) {
        TreeSet<Integer> all = new TreeSet<>();
        for (int[][] sets : List.of(d.random, d.nullA, d.nullB)) {
            for (int[] s : sets) {
                for (int i : s) {
                    all.add(i);
                }
            }
        }
        if (withConcept) {
            for (int[] s : d.concept) {
                for (int i : s) {
                    all.add(i);
                }
            }
        }
        return all.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int[] union(int[][] sets) {
        TreeSet<Integer> all = new TreeSet<>();
        for (int[] s : sets) {
            for (int i : s) {
                all.add(i);
            }
        }
        return all.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int count(Dataset d, int batchSize) {
        int n = 0;
        for (Iterator<Batch> it = d.batches(batchSize); it.hasNext(); ) {
            n += it.next().size();
        }
        return n;
    }

    private static int[] range(int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = i;
        }
        return out;
    }

    private static int[] indicesWhere(boolean[] member, boolean want) {
        int[] out = new int[member.length];
        int m = 0;
        for (int i = 0; i < member.length; i++) {
            if (member[i] == want) {
                out[m++] = i;
            }
        }
        return Arrays.copyOf(out, m);
    }

    /** @return {@code k} distinct entries of {@code pool} (a partial Fisher-Yates shuffle of a copy) */
    static int[] sample(int[] pool, int k, SplittableRandom rnd) {
        int[] a = pool.clone();
        for (int i = 0; i < k; i++) {
            int j = i + rnd.nextInt(a.length - i);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return Arrays.copyOf(a, k);
    }

    /** @return a seed from the run seed and names (FNV-1a over the names, then a SplitMix64 finalizer) */
    static long seedOf(long seed, String... parts) {
        long h = 0xcbf29ce484222325L ^ seed;
        for (String part : parts) {
            for (byte b : part.getBytes(StandardCharsets.UTF_8)) {
                h = (h ^ (b & 0xff)) * 0x100000001b3L;
            }
            h = (h ^ 0xff) * 0x100000001b3L;
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }

    private static Object accuracy(double v) {
        return Math.round(v * 1e4) / 1e4;
    }

    private static String fmt(double v) {
        if (Double.isInfinite(v)) {
            return v > 0 ? "inf" : "-inf";
        }
        if (v != 0 && Math.abs(v) < 0.001) {
            return String.format(Locale.ROOT, "%.1e", v);
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 100 ? "%.1f" : "%.3g", v);
    }

    /** Part and finding ids from names. */
    private static final class RowIds {
        private RowIds() {
        }

        static String of(String name) {
            return name.replaceAll("[^A-Za-z0-9_-]", "_");
        }
    }
}
