package io.neuronmonkey.stats;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.testkit.TestKit;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EvaluateAnalyzerTest {

    static final LayerInfo LOGITS = new LayerInfo("logits", "BiasAdd", new int[]{3}, LayerInfo.Role.LOGITS);
    static final LayerInfo PROBS = new LayerInfo("probabilities", "Softmax", new int[]{3}, LayerInfo.Role.OUTPUT);
    static final List<String> ABC = List.of("a", "b", "c");

    /**
     * Eight examples whose outcome is counted by hand below: label, logits, argmax (first of equal maxima), whether
     * the label is in the top 2 (ties broken by class index).
     */
    static final int[] HAND_LABELS = {0, 0, 1, 1, 2, 2, 2, 0};
    static final float[][] HAND_LOGITS = {
        {2, 1, 0},      // 0: pred 0, right
        {0, 3, 1},      // 0: pred 1, wrong; label third: not top 2
        {1, 2, 0},      // 1: pred 1, right
        {1, 0.5f, 0},   // 1: pred 0, wrong; label second: top 2
        {0, 0, 5},      // 2: pred 2, right
        {1, 1, 1},      // 2: a tie, pred 0, wrong; label after a and b: not top 2
        {0, 2, 1},      // 2: pred 1, wrong; top 2
        {4, 0, 0}};     // 0: pred 0, right
    static final String[] HAND_FLAG = {"on", "off", "on", "off", "on", "off", "off", "on"};

    static Batch batch(long offset, int[] labels, List<Map<String, String>> meta) {
        int n = labels == null ? meta.size() : labels.length;
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add("ex-" + (offset + i));
        }
        return new Batch(offset, Tensor.ofFloats(new float[n], n, 1), labels, ids, meta);
    }

    /** The hand examples in batches of 3, 3 and 2. */
    static List<ActivationBatch> hand(LayerInfo layer, boolean softmax) {
        List<ActivationBatch> out = new ArrayList<>();
        for (int from = 0; from < 8; from += 3) {
            int n = Math.min(3, 8 - from);
            float[] s = new float[n * 3];
            List<Map<String, String>> meta = new ArrayList<>();
            for (int e = 0; e < n; e++) {
                float[] v = softmax ? softmax(HAND_LOGITS[from + e]) : HAND_LOGITS[from + e];
                System.arraycopy(v, 0, s, e * 3, 3);
                meta.add(Map.of("flag", HAND_FLAG[from + e]));
            }
            int[] labels = java.util.Arrays.copyOfRange(HAND_LABELS, from, from + n);
            out.add(new ActivationBatch(batch(from, labels, meta), Map.of(layer.name(), Tensor.ofFloats(s, n, 3))));
        }
        return out;
    }

    static float[] softmax(float[] z) {
        double max = Double.NEGATIVE_INFINITY;
        for (float v : z) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : z) {
            sum += Math.exp(v - max);
        }
        float[] p = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            p[i] = (float) (Math.exp(z[i] - max) / sum);
        }
        return p;
    }

    static EvaluateAnalyzer.Params params(int topK, int bins, List<String> keys, int keep) {
        return new EvaluateAnalyzer.Params(null, EvaluateAnalyzer.Scores.AUTO, topK, bins, keys, 12, keep);
    }

    static EvaluateAnalyzer.Evaluation evaluation(EvaluateAnalyzer.Params p, LayerInfo layer, List<String> classes) {
        return new EvaluateAnalyzer.Evaluation(EvaluateAnalyzer.setup(p, layer, classes, "probe", List.of("flag", "texture")));
    }

    static AnalysisResult run(List<ActivationBatch> bs, EvaluateAnalyzer.Params p, LayerInfo layer, List<String> classes) {
        EvaluateAnalyzer.Evaluation ev = evaluation(p, layer, classes);
        bs.forEach(ev::accept);
        return ev.finish();
    }

    static Matrix matrix(AnalysisResult r, String id) {
        return r.part(id, Matrix.class).orElseThrow(() -> new AssertionError("no part " + id + ": "
                + r.parts().stream().map(x -> x.id()).toList()));
    }

    static double[][] values(Matrix m) {
        double[][] v = new double[m.rows().size()][m.cols().size()];
        for (int i = 0; i < v.length; i++) {
            for (int j = 0; j < v[i].length; j++) {
                v[i][j] = m.get(i, j);
            }
        }
        return v;
    }

    @Test
    void handCountedExamplesGiveTheirConfusionPrecisionRecallAndTopK() {
        AnalysisResult r = run(hand(LOGITS, false), params(2, 5, null, 100), LOGITS, ABC);
        Matrix confusion = matrix(r, "confusion");
        assertEquals("true", confusion.rows().name());
        assertEquals("predicted", confusion.cols().name());
        assertEquals(ABC, confusion.rows().labels());
        assertEquals("examples", confusion.unit());
        assertEquals(List.of("true", "predicted"), confusion.values().dims());
        assertArrayEquals(new double[][]{{2, 1, 0}, {1, 1, 0}, {1, 1, 1}}, values(confusion));

        Matrix pc = matrix(r, "per-class");
        assertEquals(List.of("precision", "recall", "f1", "support"), pc.cols().labels());
        // predicted as a: examples 0, 3, 5, 7 (2 right); as b: 1, 2, 6 (1 right); as c: 4 (right)
        double[] precision = {2 / 4.0, 1 / 3.0, 1};
        double[] recall = {2 / 3.0, 1 / 2.0, 1 / 3.0};
        double[] support = {3, 2, 3};
        for (int c = 0; c < 3; c++) {
            assertEquals(precision[c], pc.get(c, 0), 1e-7, "precision " + ABC.get(c));
            assertEquals(recall[c], pc.get(c, 1), 1e-7, "recall " + ABC.get(c));
            assertEquals(2 * precision[c] * recall[c] / (precision[c] + recall[c]), pc.get(c, 2), 1e-7, "f1 " + ABC.get(c));
            assertEquals(support[c], pc.get(c, 3), "support " + ABC.get(c));
        }
        assertEquals(8L, r.summary().get("examples"));
        assertEquals(4L, r.summary().get("correct"));
        assertEquals(0.5, (double) r.summary().get("accuracy"), 0.0);
        assertEquals(2, r.summary().get("topK"));
        assertEquals(6 / 8.0, (double) r.summary().get("topKAccuracy"), 0.0, "examples 1 and 5 miss the top 2");
        assertArrayEquals(new int[]{0, 1, 1, 0, 2, 0, 1, 0}, r.array("predictions").orElseThrow().ints());
        assertArrayEquals(HAND_LABELS, r.array("labels").orElseThrow().ints());
        float[] conf = r.array("confidence").orElseThrow().floats();
        for (int e = 0; e < 8; e++) {
            float[] p = softmax(HAND_LOGITS[e]);
            float max = Math.max(p[0], Math.max(p[1], p[2]));
            assertEquals(max, conf[e], 1e-6, "confidence of example " + e);
        }
        assertEquals(1 / 3.0, conf[5], 1e-6, "three equal logits");

        // watermark-like flag: every 'on' example is right, every 'off' one wrong
        Matrix by = matrix(r, "accuracy-by-flag");
        assertEquals(List.of("off", "on"), by.rows().labels());
        assertEquals(List.of("accuracy", "low", "high", "examples"), by.cols().labels());
        assertEquals(0, by.get(0, 0));
        assertEquals(1, by.get(1, 0));
        assertEquals(4, by.get(1, 3));
        // Wilson at p = 1: low = n / (n + z^2); at p = 0: high = z^2 / (n + z^2)
        double z2 = 1.959963984540054 * 1.959963984540054;
        assertEquals(4 / (4 + z2), by.get(1, 1), 1e-6);
        assertEquals(z2 / (4 + z2), by.get(0, 2), 1e-6);
    }

    @Test
    void findingsSayAccuracyChanceAndTheGroupThatDiffers() {
        AnalysisResult r = run(hand(LOGITS, false), params(2, 5, null, 100), LOGITS, ABC);
        List<String> ids = r.findings().stream().map(Finding::id).toList();
        assertEquals(List.of("at-chance", "flag-accuracy-differs", "calibration", "accuracy"), ids);
        Finding chance = r.findings().get(0);
        assertEquals(Finding.Severity.WARNING, chance.severity());
        assertTrue(chance.claim().startsWith("the model is at chance: accuracy 0.5000 (95% CI [0.2152, 0.7848]) on 8 "
                + "examples of 'probe' against 1/3 = 0.3333"), chance.claim());
        assertTrue(chance.claim().contains("is the preprocessing right"), chance.claim());

        // 4 of 4 vs 0 of 4: pooled 0.5, z = 1 / sqrt(0.25 * (1/4 + 1/4)) = 2 sqrt(2), p = 2 (1 - Phi(2.828)) = 0.004678
        Finding group = r.findings().get(1);
        assertEquals(Finding.Severity.NOTABLE, group.severity());
        assertEquals(0.004677734981047, EvaluateAnalyzer.twoProportionP(4, 4, 0, 4), 1e-12);
        assertTrue(group.claim().startsWith("accuracy on 'probe' differs with flag: on 1.0000 (95% CI [0.5101, 1.0000], "
                + "4 examples) vs off 0.0000 (95% CI [0.0000, 0.4899], 4 examples); p 0.00468 after Bonferroni over 1 test"),
                group.claim());
        assertEquals(1.0, group.strength().value());
        assertEquals(List.of("accuracy-by-flag"), group.evidence());

        Finding acc = r.findings().get(3);
        assertEquals(Finding.Severity.INFO, acc.severity());
        assertEquals("accuracy 0.5000 (95% CI [0.2152, 0.7848]) on 8 examples of 'probe'; top-2 0.7500", acc.claim());
        assertEquals(List.of("confusion", "per-class"), acc.evidence());
        Interval ci = acc.strength().interval();
        assertEquals("Wilson score", ci.method());
    }

    @Test
    void wilsonIntervalIsTheRootPairOfTheScoreTestQuadratic() {
        // the interval's ends solve (p^ - p)^2 = z^2 p (1 - p) / n, i.e. (1 + z^2/n) p^2 - (2 p^ + z^2/n) p + p^2 = 0
        double z2 = 1.959963984540054 * 1.959963984540054;
        long[][] cases = {{4, 8}, {81, 263}, {1, 1000}, {3980, 4000}};
        for (long[] c : cases) {
            double ph = (double) c[0] / c[1];
            double a = 1 + z2 / c[1];
            double b = -(2 * ph + z2 / c[1]);
            double cc = ph * ph;
            double disc = Math.sqrt(b * b - 4 * a * cc);
            Interval w = EvaluateAnalyzer.wilson(c[0], c[1]);
            assertEquals((-b - disc) / (2 * a), w.low(), 1e-12, c[0] + "/" + c[1]);
            assertEquals((-b + disc) / (2 * a), w.high(), 1e-12, c[0] + "/" + c[1]);
        }
        assertEquals(0.2152, EvaluateAnalyzer.wilson(4, 8).low(), 5e-5);
        assertNull(EvaluateAnalyzer.wilson(0, 0));
    }

    @Test
    void expectedCalibrationErrorAndReliabilityCurveMatchANaiveLoop() {
        List<ActivationBatch> bs = random(500, 4, 7, 64);
        int bins = 7;
        AnalysisResult r = run(bs, params(5, bins, null, 1000), LOGITS4, CLASSES4);
        long[] n = new long[bins];
        long[] right = new long[bins];
        double[] confSum = new double[bins];
        long total = 0;
        for (ActivationBatch b : bs) {
            float[] s = b.activation("logits").floats();
            for (int e = 0; e < b.size(); e++) {
                float[] z = java.util.Arrays.copyOfRange(s, e * 4, e * 4 + 4);
                int best = 0;
                for (int c = 1; c < 4; c++) {
                    if (z[c] > z[best]) {
                        best = c;
                    }
                }
                double den = 0;
                for (float v : z) {
                    den += Math.exp((double) v - z[best]);
                }
                float conf = (float) (1 / den);
                int bin = Math.min(bins - 1, (int) (conf * bins));
                n[bin]++;
                right[bin] += best == b.batch().labels()[e] ? 1 : 0;
                confSum[bin] += conf;
                total++;
            }
        }
        double ece = 0;
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (int i = 0; i < bins; i++) {
            if (n[i] > 0) {
                ece += (double) n[i] / total * Math.abs((double) right[i] / n[i] - confSum[i] / n[i]);
                xs.add(confSum[i] / n[i]);
                ys.add((double) right[i] / n[i]);
            }
        }
        assertEquals(ece, (double) r.summary().get("ece"), 1e-12);
        assertTrue(ece > 0.01, "the random model is miscalibrated: " + ece);
        Series rel = r.part("reliability", Series.class).orElseThrow();
        assertEquals(List.of("model", "ideal"), rel.curves().stream().map(Series.Curve::name).toList());
        Series.Curve model = rel.curves().get(0);
        assertEquals(xs.size(), model.x().size());
        for (int j = 0; j < xs.size(); j++) {
            assertEquals(xs.get(j), model.x().get(j), 1e-6);
            assertEquals(ys.get(j), model.y().get(j), 1e-6);
            assertTrue(model.low().get(j) <= model.y().get(j) && model.y().get(j) <= model.high().get(j));
        }
        assertTrue(rel.description().startsWith("ECE " + String.format(java.util.Locale.ROOT, "%.4f", ece)), rel.description());
        Series.Curve ideal = rel.curves().get(1);
        assertArrayEquals(new float[]{0, 1}, ideal.x().floats());
        assertArrayEquals(new float[]{0, 1}, ideal.y().floats());
        Matrix table = matrix(r, "calibration-bins");
        assertEquals(bins, table.rows().size());
        for (int i = 0; i < bins; i++) {
            assertEquals(n[i], table.get(i, 0), "examples in bin " + i);
        }
        assertEquals(1.0 / bins, table.rows().edges()[1], 1e-15);
    }

    static final LayerInfo LOGITS4 = new LayerInfo("logits", "BiasAdd", new int[]{4}, LayerInfo.Role.LOGITS);
    static final List<String> CLASSES4 = List.of("circle", "square", "triangle", "cross");

    /**
     * A noisy 4-class model: the right logit gets a boost; 'texture' has 3 values, 'x' many, 'flag' hurts accuracy and
     * 'shape' is the label's class name.
     */
    static List<ActivationBatch> random(int n, int classes, long seed, int batch) {
        Random rnd = new Random(seed);
        List<ActivationBatch> out = new ArrayList<>();
        for (int done = 0; done < n; done += batch) {
            int b = Math.min(batch, n - done);
            float[] s = new float[b * classes];
            int[] labels = new int[b];
            List<Map<String, String>> meta = new ArrayList<>();
            for (int e = 0; e < b; e++) {
                labels[e] = rnd.nextInt(classes);
                boolean flag = rnd.nextBoolean();
                for (int c = 0; c < classes; c++) {
                    s[e * classes + c] = (float) (2 * rnd.nextGaussian() + (c == labels[e] ? (flag ? 0.5 : 3) : 0));
                }
                meta.add(Map.of("flag", flag ? "on" : "off", "texture", List.of("solid", "striped", "dotted").get(rnd.nextInt(3)),
                        "x", Integer.toString(rnd.nextInt(50)), "shape", CLASSES4.get(labels[e])));
            }
            out.add(new ActivationBatch(batch(done, labels, meta), Map.of("logits", Tensor.ofFloats(s, b, classes))));
        }
        return out;
    }

    @Test
    void splitAccumulatorsMergedInDataOrderEqualOneAccumulator() {
        List<ActivationBatch> bs = random(900, 4, 3, 50);
        int[] cuts = {0, 1, 5, 6, 11, bs.size()};
        // a cap that the first chunks stay under and the fourth crosses, and one that nothing reaches
        for (int keep : new int[]{400, 0, 1_000_000}) {
            EvaluateAnalyzer.Params p = params(2, 15, null, keep);
            AnalysisResult single = run(bs, p, LOGITS4, CLASSES4);
            List<EvaluateAnalyzer.Evaluation> chunks = new ArrayList<>();
            for (int i = 0; i + 1 < cuts.length; i++) {
                EvaluateAnalyzer.Evaluation ev = evaluation(p, LOGITS4, CLASSES4);
                bs.subList(cuts[i], cuts[i + 1]).forEach(ev::accept);
                chunks.add(ev);
            }
            for (int i = 1; i < chunks.size(); i++) {
                chunks.get(0).merge(chunks.get(i));
            }
            ResultTrees.assertSameResult(single, chunks.get(0).finish());
            assertEquals(Math.min(keep, 900), single.array("predictions").orElseThrow().size());
            assertEquals(keep < 900, single.findings().stream().anyMatch(f -> f.id().equals("predictions-cut")), "keep " + keep);
        }
        AnalysisResult r = run(bs, params(2, 15, null, 400), LOGITS4, CLASSES4);
        assertEquals(List.of("flag", "texture"), r.summary().get("keys"));
        assertEquals(Map.of("x", "50 distinct values > maxValues 12", "shape", "its values are the class names of the "
                + "labels (accuracy per class is the recall in per-class)"), r.summary().get("skippedKeys"));
        var named = new EvaluateAnalyzer.Params(null, EvaluateAnalyzer.Scores.AUTO, 2, 15, List.of("shape"), 12, 0);
        assertEquals(List.of("shape"), run(bs, named, LOGITS4, CLASSES4).summary().get("keys"), "unless asked for");
        // the kept predictions are those of the first 400 examples, in data order
        int[] pred = r.array("predictions").orElseThrow().ints();
        float[] s0 = bs.get(0).activation("logits").floats();
        for (int e = 0; e < 50; e++) {
            int best = 0;
            for (int c = 1; c < 4; c++) {
                if (s0[e * 4 + c] > s0[e * 4 + best]) {
                    best = c;
                }
            }
            assertEquals(best, pred[e], "example " + e);
        }
        // flag=on weakens the right logit: the notable group finding names it, and only it
        List<Finding> differs = r.findings().stream().filter(f -> f.id().endsWith("-accuracy-differs")).toList();
        assertEquals(List.of("flag-accuracy-differs"), differs.stream().map(Finding::id).toList());
        assertTrue(differs.get(0).claim().contains("differs with flag: on "), differs.get(0).claim());
        assertTrue(differs.get(0).strength().value() < -0.2, "on is worse: " + differs.get(0).strength());
        assertEquals(4, r.summary().get("groupTests"), "one test for flag, one per texture value");
    }

    @Test
    void aKeyWithSeveralDifferingValuesGivesOneFindingForItsStrongest() {
        // pos=a: 40 of 40 right, pos=b: 0 of 40, pos=c: 20 of 40; a and b each differ from the rest, c does not. Wilson
        // by hand: 40/40 low = 40 / (40 + z^2) = 0.9124; 20/80: centre 0.26146, half 1.87016 * 0.049938 = 0.09339
        int n = 120;
        int[] labels = new int[n];
        float[] s = new float[n * 3];
        List<Map<String, String>> meta = new ArrayList<>();
        for (int e = 0; e < n; e++) {
            String pos = List.of("a", "b", "c").get(e / 40);
            boolean right = pos.equals("a") || pos.equals("c") && e % 2 == 0;
            labels[e] = right ? 0 : 1;
            s[e * 3] = 1;
            meta.add(Map.of("pos", pos));
        }
        AnalysisResult r = run(List.of(new ActivationBatch(batch(0, labels, meta), Map.of("logits", Tensor.ofFloats(s, n, 3)))),
                params(1, 10, List.of("pos"), 0), LOGITS, ABC);
        List<Finding> differs = r.findings().stream().filter(f -> f.severity() == Finding.Severity.NOTABLE
                && f.id().endsWith("-accuracy-differs")).toList();
        assertEquals(1, differs.size(), r.findings().toString());
        assertEquals("pos-accuracy-differs", differs.get(0).id());
        double p = 3 * EvaluateAnalyzer.twoProportionP(40, 40, 20, 80);
        assertEquals("accuracy on 'probe' differs with pos: pos=a 1.0000 (95% CI [0.9124, 1.0000], 40 examples) vs the other "
                + "values 0.2500 (95% CI [0.1681, 0.3548], 80 examples); p " + Numbers.sig3(p) + " after Bonferroni over 3 "
                + "tests; 2 of the 3 values of pos differ from the rest", differs.get(0).claim());
        assertEquals(1, EvaluateAnalyzer.twoProportionP(20, 40, 40, 80), 1e-12, "c: the same accuracy as the rest");
        Matrix by = matrix(r, "accuracy-by-pos");
        assertArrayEquals(new double[]{1, 0, 0.5}, new double[]{by.get(0, 0), by.get(1, 0), by.get(2, 0)});
    }

    @Test
    void probabilitiesAreUsedAsTheyAreAndGiveTheCountsOfTheirLogits() {
        EvaluateAnalyzer.Params p = params(2, 5, null, 100);
        AnalysisResult fromLogits = run(hand(LOGITS, false), p, LOGITS, ABC);
        AnalysisResult fromProbs = run(hand(PROBS, true), p, PROBS, ABC);
        assertEquals("probabilities (as given)", fromProbs.summary().get("scores"), "a Softmax layer is read as probabilities");
        assertEquals("logits (softmax for the confidence)", fromLogits.summary().get("scores"));
        assertArrayEquals(values(matrix(fromLogits, "confusion")), values(matrix(fromProbs, "confusion")));
        assertEquals(fromLogits.summary().get("topKAccuracy"), fromProbs.summary().get("topKAccuracy"));
        assertArrayEquals(fromLogits.array("predictions").orElseThrow().ints(), fromProbs.array("predictions").orElseThrow().ints());
        assertArrayEquals(fromLogits.array("confidence").orElseThrow().floats(), fromProbs.array("confidence").orElseThrow().floats(), 1e-6f);
        assertEquals((double) fromLogits.summary().get("ece"), (double) fromProbs.summary().get("ece"), 1e-6);

        // the same probabilities read as logits would get a softmax of their own: a flatter confidence
        var asLogits = new EvaluateAnalyzer.Params(null, EvaluateAnalyzer.Scores.LOGITS, 2, 5, null, 12, 100);
        AnalysisResult twice = run(hand(PROBS, true), asLogits, PROBS, ABC);
        float[] c = twice.array("confidence").orElseThrow().floats();
        float[] e4 = softmax(softmax(HAND_LOGITS[4]));
        assertEquals(Math.max(e4[0], Math.max(e4[1], e4[2])), c[4], 1e-6);

        // log-probabilities are read as logits: their softmax is the probabilities
        LayerInfo logSoftmax = new LayerInfo("log_probs", "LogSoftmax", new int[]{3}, LayerInfo.Role.OUTPUT);
        assertFalse(EvaluateAnalyzer.setup(p, logSoftmax, ABC, "probe", List.of()).probabilities(), "LogSoftmax output");
        assertTrue(EvaluateAnalyzer.setup(p, new LayerInfo("out", "Sigmoid", new int[]{3}, LayerInfo.Role.OUTPUT), ABC,
                "probe", List.of()).probabilities(), "another output layer is read as probabilities");

        // values outside [0, 1] are not probabilities
        var asProbs = new EvaluateAnalyzer.Params(null, EvaluateAnalyzer.Scores.PROBABILITIES, 2, 5, null, 12, 100);
        AnalysisException e = assertThrows(AnalysisException.class, () -> run(hand(LOGITS, false), asProbs, LOGITS, ABC));
        assertEquals("layer 'logits' is read as probabilities, but example 'ex-0' of data set 'probe' scores class 0 with "
                + "2.0, outside [0, 1]; set params.scores to logits", e.getMessage());
    }

    @Test
    void unlabelledDataIsRefusedNamingTheDataSet() {
        EvaluateAnalyzer.Evaluation ev = evaluation(params(5, 15, null, 10), LOGITS, ABC);
        Batch b = batch(0, null, Collections.nCopies(2, Map.of()));
        AnalysisException e = assertThrows(AnalysisException.class,
                () -> ev.accept(new ActivationBatch(b, Map.of("logits", Tensor.ofFloats(new float[6], 2, 3)))));
        assertEquals("evaluate compares labels with predictions, but data set 'probe' has no labels (batch at example 0); "
                + "give it a labelled source", e.getMessage());

        // refused before the pass when the data set says it has no classes
        AnalyzerContext<EvaluateAnalyzer.Params> ctx = ctx(params(5, 15, null, 10), List.of(LOGITS), List.of());
        AnalysisException early = assertThrows(AnalysisException.class, () -> new EvaluateAnalyzer().start(ctx));
        assertEquals("step 'eval' compares labels with predictions, but data set 'probe' has no labels (no class names); "
                + "give it a labelled source", early.getMessage());
    }

    @Test
    void labelsBeyondTheModelsClassesAndNonFiniteScoresAreSaidSo() {
        EvaluateAnalyzer.Evaluation ev = evaluation(params(5, 15, null, 10), LOGITS, ABC);
        Batch b = batch(10, new int[]{0, 3}, Collections.nCopies(2, Map.of()));
        AnalysisException e = assertThrows(AnalysisException.class,
                () -> ev.accept(new ActivationBatch(b, Map.of("logits", Tensor.ofFloats(new float[6], 2, 3)))));
        assertEquals("example 'ex-11' (index 11) of data set 'probe' has label 3, but layer 'logits' scores 3 classes (0..2): "
                + "do the data and the model have the same classes?", e.getMessage());

        EvaluateAnalyzer.Evaluation nan = evaluation(params(5, 15, null, 10), LOGITS, ABC);
        Batch b2 = batch(0, new int[]{0, 1, -1}, Collections.nCopies(3, Map.of()));
        nan.accept(new ActivationBatch(b2, Map.of("logits", Tensor.ofFloats(new float[]{1, 0, 0, Float.NaN, 0, 0, 0, 0, 1}, 3, 3))));
        AnalysisResult r = nan.finish();
        assertEquals(1L, r.summary().get("examples"), "the NaN example and the unlabelled one are not counted");
        assertEquals(1L, r.summary().get("nonFiniteExamples"));
        assertEquals(1L, r.summary().get("unlabelledExamples"));
        assertArrayEquals(new int[]{0, -1, 2}, r.array("predictions").orElseThrow().ints());
        assertArrayEquals(new int[]{0, 1, -1}, r.array("labels").orElseThrow().ints());
        Finding w = r.findings().get(0);
        assertEquals("non-finite-scores", w.id());
        assertEquals(Finding.Severity.WARNING, w.severity());
        assertEquals("1 of 3 examples of 'probe' have NaN or infinite scores in 'logits' (first 'ex-1'): they are left out "
                + "of every count", w.claim());

        EvaluateAnalyzer.Evaluation none = evaluation(params(5, 15, null, 10), LOGITS, ABC);
        none.accept(new ActivationBatch(batch(0, new int[]{-1}, List.of(Map.of())), Map.of("logits", Tensor.ofFloats(new float[3], 1, 3))));
        AnalysisException empty = assertThrows(AnalysisException.class, none::finish);
        assertTrue(empty.getMessage().startsWith("data set 'probe' gave no labelled example with finite scores"), empty.getMessage());
    }

    @Test
    void theDefaultLayerIsTheModelsLogitsAndMustBeCaptured() {
        LayerInfo dense = new LayerInfo("dense1", "Relu", new int[]{8}, LayerInfo.Role.HIDDEN);
        LoadedModel model = new Model(List.of(dense, LOGITS, PROBS));
        EvaluateAnalyzer.Params dflt = params(5, 15, null, 10);
        assertEquals(LOGITS, EvaluateAnalyzer.outputLayer("eval", dflt, model, List.of(dense, LOGITS, PROBS)));
        assertEquals(PROBS, EvaluateAnalyzer.outputLayer("eval", dflt, model, List.of(dense, PROBS)), "the output layer");
        AnalysisException none = assertThrows(AnalysisException.class,
                () -> EvaluateAnalyzer.outputLayer("eval", dflt, model, List.of(dense)));
        assertEquals("step 'eval' found no logits or output layer among its layers [dense1]; add 'logits' to 'layers:' or "
                + "set params.layer", none.getMessage());
        var named = new EvaluateAnalyzer.Params("probabilities", EvaluateAnalyzer.Scores.AUTO, 5, 15, null, 12, 10);
        assertEquals(PROBS, EvaluateAnalyzer.outputLayer("eval", named, model, List.of(LOGITS, PROBS)));
        AnalysisException missing = assertThrows(AnalysisException.class,
                () -> EvaluateAnalyzer.outputLayer("eval", named, model, List.of(LOGITS)));
        assertEquals("step 'eval': params.layer 'probabilities' is not among the step's layers [logits]; add it to "
                + "'layers:' or leave 'layers:' out", missing.getMessage());
        AnalysisException shape = assertThrows(AnalysisException.class,
                () -> EvaluateAnalyzer.setup(dflt, new LayerInfo("conv", "Relu", new int[]{4, 4, 3}, LayerInfo.Role.HIDDEN),
                        ABC, "probe", List.of()));
        assertTrue(shape.getMessage().startsWith("layer 'conv' of shape [4, 4, 3] is not one score per class"), shape.getMessage());
        AnalysisException sequence = assertThrows(AnalysisException.class,
                () -> EvaluateAnalyzer.setup(dflt, new LayerInfo("seq", "MatMul", new int[]{5, 3}, LayerInfo.Role.LOGITS),
                        ABC, "probe", List.of()));
        assertTrue(sequence.getMessage().startsWith("layer 'seq' of shape [5, 3] is not one score per class"), sequence.getMessage());

        // topK is capped at the classes; class names come from the data
        EvaluateAnalyzer.Accumulator acc = new EvaluateAnalyzer().start(ctx(dflt, List.of(dense, LOGITS), ABC));
        hand(LOGITS, false).forEach(acc::accept);
        AnalysisResult r = acc.finish();
        assertEquals(3, r.summary().get("topK"));
        assertEquals(1.0, (double) r.summary().get("topKAccuracy"));
        assertEquals(ABC, matrix(r, "confusion").cols().labels());
        assertEquals("logits", r.summary().get("layer"));
    }

    @Test
    void rejectsBadParamsAllAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new EvaluateAnalyzer.Params(" ", null, 0, 0, List.of("a", "a"), 1, -1));
        assertEquals(List.of("layer", "scores", "topK", "bins", "keys", "maxValues", "keepPredictions"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
        assertFalse(EvaluateAnalyzer.Params.defaults().keepPredictions() < 1_000_000);
    }

    /** A model that only lists layers. */
    record Model(List<LayerInfo> layers) implements LoadedModel {
        public int[] inputShape() {
            return new int[]{1};
        }

        public String logitsLayer() {
            return "logits";
        }

        public Map<String, Tensor> run(Tensor inputs, Collection<String> layers) {
            throw new UnsupportedOperationException();
        }

        public String description() {
            return "layers only";
        }

        public String fingerprint() {
            return "0";
        }

        public void close() {
        }
    }

    /** A step context over a data set named 'probe' with the given class names, from the test kit. */
    static AnalyzerContext<EvaluateAnalyzer.Params> ctx(EvaluateAnalyzer.Params params, List<LayerInfo> layers,
                                                        List<String> classNames) {
        DatasetInfo info = new DatasetInfo(8, new int[]{1}, classNames, List.of("flag"));
        Dataset data = new Dataset() {
            public DatasetInfo info() {
                return info;
            }

            public Iterator<Batch> batches(int batchSize) {
                return Collections.emptyIterator();
            }

            public String fingerprint() {
                return "0";
            }
        };
        return TestKit.analyzer(params).stepId("eval").model(new Model(List.of(LOGITS, PROBS))).data("probe", data)
                .layers(layers.toArray(new LayerInfo[0])).batchSize(8).seed(1).build();
    }
}
