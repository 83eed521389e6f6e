package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.tensorflow.TensorFlowBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.ReduceSum;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The text attributions through the real TensorFlow backend, on a small text SavedModel built here with known weights
 * (token ids and attention mask in, {@code embedding} = table[ids], masked mean, {@code hidden} = ReLU layer,
 * {@code logits}); every expected number comes from those weights by plain Java loops: integrated gradients over the
 * embedding (completeness against F(x) - F(zero embedding)), token occlusion, and the ablation gap between groups.
 */
class TfTextModelAttributionTest {

    static final int T = TextFixtures.T;
    static final int V = TextFixtures.VOCAB.size();
    static final int D = 4;
    static final int H = 3;

    static final float[] TABLE = new float[V * D];
    static final float[] A = new float[D * H];
    static final float[] ABIAS = {0f, 0f, 0.2f};
    static final float[] W = {-1f, 3f, -1f, 2f, 0.1f, -0.1f};
    static final float[] WBIAS = {0f, -2f};

    static LoadedModel model;

    static {
        Random r = new Random(9);
        for (int v = 0; v < V; v++) {
            String word = TextFixtures.VOCAB.get(v);
            TABLE[v * D] = TextFixtures.TOXIC.contains(word) ? 4f : 0f;
            TABLE[v * D + 1] = word.equals("zorblin") ? 4f : 0f;
            TABLE[v * D + 2] = (float) r.nextGaussian();
            TABLE[v * D + 3] = (float) r.nextGaussian();
        }
        A[0] = 2f;
        A[H + 1] = 2f;
        A[2 * H + 2] = 0.5f;
        A[3 * H + 2] = -0.5f;
    }

    @BeforeAll
    static void build(@TempDir Path dir) throws Exception {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Operand<TFloat32> table = tf.withName("table").variable(tf.constant(Shape.of(V, D), DataBuffers.of(TABLE)));
            Operand<TFloat32> a = tf.withName("a").variable(tf.constant(Shape.of(D, H), DataBuffers.of(A)));
            Operand<TFloat32> ab = tf.withName("ab").variable(tf.constant(Shape.of(H), DataBuffers.of(ABIAS)));
            Operand<TFloat32> w = tf.withName("w").variable(tf.constant(Shape.of(H, 2), DataBuffers.of(W)));
            Operand<TFloat32> wb = tf.withName("wb").variable(tf.constant(Shape.of(2), DataBuffers.of(WBIAS)));
            Placeholder<TInt32> ids = tf.withName("input_ids").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, T)));
            Placeholder<TInt32> mask = tf.withName("attention_mask").placeholder(TInt32.class, Placeholder.shape(Shape.of(-1, T)));
            Operand<TFloat32> embedding = tf.withName("embedding").gather(table, ids, tf.constant(0));
            Operand<TFloat32> m = tf.dtypes.cast(mask, TFloat32.class);
            Operand<TFloat32> masked = tf.math.mul(embedding, tf.expandDims(m, tf.constant(-1)));
            Operand<TFloat32> count = tf.math.maximum(tf.reduceSum(m, tf.constant(1), ReduceSum.keepDims(true)), tf.constant(1f));
            Operand<TFloat32> pooled = tf.withName("pooled").identity(tf.math.div(tf.reduceSum(masked, tf.constant(1)), count));
            Operand<TFloat32> hidden = tf.withName("hidden").nn.relu(tf.nn.biasAdd(tf.linalg.matMul(pooled, a), ab));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.linalg.matMul(hidden, w), wb);
            Operand<TFloat32> probs = tf.withName("probabilities").nn.softmax(logits);
            try (Session s = new Session(g)) {
                s.initialize();
                Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("input_ids", ids)
                        .input("attention_mask", mask).output("probabilities", probs).output("logits", logits).build();
                SavedModelBundle.exporter(dir.resolve("text").toString()).withFunction(SessionFunction.create(sig, s)).export();
            }
        }
        model = TestSupport.loadModel(dir.resolve("text"), TensorFlowBackend.Params.defaults());
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /**
     * The model by hand: logits of one example whose real tokens have the given embeddings, hidden unit
     * {@code ablated} set to 0 (or -1 for none).
     */
    static float[] logits(float[][] emb, int ablated) {
        double[] pooled = new double[D];
        for (float[] e : emb) {
            for (int d = 0; d < D; d++) {
                pooled[d] += e[d] / emb.length;
            }
        }
        double[] out = {WBIAS[0], WBIAS[1]};
        for (int h = 0; h < H; h++) {
            double z = ABIAS[h];
            for (int d = 0; d < D; d++) {
                z += pooled[d] * A[d * H + h];
            }
            double v = h == ablated ? 0 : Math.max(0, z);
            out[0] += v * W[h * 2];
            out[1] += v * W[h * 2 + 1];
        }
        return new float[] {(float) out[0], (float) out[1]};
    }

    /** @return the embeddings of an example's real tokens, one of them replaced by token {@code swap} (-1: none) */
    static float[][] embeddings(Batch one, int at, int swap) {
        int len = one.tokens().get(0).length();
        float[][] out = new float[len][];
        for (int q = 0; q < len; q++) {
            int id = q == at ? swap : one.inputs().ints()[q];
            out[q] = java.util.Arrays.copyOfRange(TABLE, id * D, id * D + D);
        }
        return out;
    }

    static AnalysisResult run(io.neuronmonkey.api.analysis.Analyzer<? extends Record> analyzer, Record params,
                              TextFixtures.TextData d) {
        @SuppressWarnings({"unchecked", "rawtypes"})
        AnalysisResult r = ((io.neuronmonkey.api.analysis.Analyzer) analyzer).analyze(new TestSupport.Context<>("tf-text",
                params, model, d, List.of(), 16, Path.of("target")));
        return r;
    }

    @Test
    void integratedGradientsOverTheEmbeddingIsCompleteAndRanksTheToxicWordsFirst() {
        TextFixtures.TextData d = TextFixtures.corpus(48, 12, 0.9);
        AnalysisResult r = run(new IntegratedGradientsAnalyzer(), InputFixtures.bind(IntegratedGradientsAnalyzer.Params.class,
                "layer: embedding\ntarget: class:toxic\nsteps: 32\ntolerance: 0.002\nmaxSteps: 1024\nkeep: 48\n"), d);
        Matrix c = r.part("completeness", Matrix.class).orElseThrow();
        for (int e = 0; e < 48; e++) {
            Batch one = d.batch(e, e + 1);
            float[][] zero = new float[one.tokens().get(0).length()][D];
            double delta = logits(embeddings(one, -1, 0), -1)[1] - logits(zero, -1)[1];
            int row = c.rows().labels().indexOf("t" + e);
            assertEquals(delta, c.get(row, 1), 1e-4, "delta of t" + e);
            assertEquals(delta, c.get(row, 0), 0.002 * Math.max(1, Math.abs(delta)), "sum of t" + e);
        }
        Matrix ranking = r.part("token-ranking", Matrix.class).orElseThrow();
        assertTrue(TextFixtures.TOXIC.containsAll(ranking.rows().labels().subList(0, 2)), "ranking " + ranking.rows().labels());
        ExampleSet set = r.part("tokens", ExampleSet.class).orElseThrow();
        for (ExampleSet.Example ex : set.of(1).orElseThrow().examples()) {
            if (d.labels[(int) ex.index()] == 1) {
                assertTrue(TextFixtures.TOXIC.contains(ex.text().token()), "focus of " + ex.exampleId() + ": " + ex.text().token());
            }
        }
    }

    @Test
    void tokenOcclusionAndTheAblationGapAgreeWithTheWeights() {
        TextFixtures.TextData d = TextFixtures.corpus(200, 13, 0.5);
        AnalysisResult occ = run(new OcclusionAnalyzer(), InputFixtures.bind(OcclusionAnalyzer.Params.class,
                "target: class:toxic\nkeep: 5\nlimit: 30\n"), d);
        for (ExampleSet.Example ex : occ.part("tokens", ExampleSet.class).orElseThrow().of(1).orElseThrow().examples()) {
            Batch one = d.batch((int) ex.index(), (int) ex.index() + 1);
            float fx = logits(embeddings(one, -1, 0), -1)[1];
            for (int q = 0; q < ex.text().values().length; q++) {
                float f = logits(embeddings(one, q, 1), -1)[1];
                assertEquals(fx - f, ex.text().values()[q], 1e-4, ex.exampleId() + " token " + q);
            }
        }
        AnalysisResult gap = run(new AblationAnalyzer(), InputFixtures.bind(AblationAnalyzer.Params.class,
                "layer: hidden\nneurons: [1]\nwatchClass: toxic\ngroupBy: [group]\nrandomSets: 0\n"), d);
        double[][] counts = new double[2][3];
        for (int e = 0; e < 200; e++) {
            Batch one = d.batch(e, e + 1);
            int g = one.metadata().get(0).get("group").equals("zorblin") ? 0 : 1;
            float[] before = logits(embeddings(one, -1, 0), -1);
            float[] after = logits(embeddings(one, -1, 0), 1);
            counts[g][0]++;
            counts[g][1] += before[1] > before[0] ? 1 : 0;
            counts[g][2] += after[1] > after[0] ? 1 : 0;
        }
        Matrix m = gap.part("ablation-gap-group", Matrix.class).orElseThrow();
        assertEquals(List.of("zorblin - quenti"), m.rows().labels());
        double before = counts[0][1] / counts[0][0] - counts[1][1] / counts[1][0];
        double after = counts[0][2] / counts[0][0] - counts[1][2] / counts[1][0];
        assertEquals(before, m.get(0, 2), 1e-6);
        assertEquals(after, m.get(0, 7), 1e-6);
        assertTrue(before > 0.25 && Math.abs(after) < before / 2, "gap " + before + " -> " + after);
    }
}
