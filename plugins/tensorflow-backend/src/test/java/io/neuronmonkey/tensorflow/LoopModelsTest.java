package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.ConcreteFunction;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.While;
import org.tensorflow.types.TFloat32;
import org.tensorflow.types.TInt32;

import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A recurrent model whose steps run in a loop: token ids -> {@code embedding} -> {@code h = tanh(x_t U + h W)} for
 * every step inside a loop -> the final state -> {@code logits} -> {@code probabilities}. Built twice: with a
 * functional {@code While} op (body and condition are library functions) and with TF1 control flow (Enter / Exit
 * frames). The layers outside the loop are captured against a Java loop; those inside are refused, saying so.
 */
class LoopModelsTest {

    private static final int T = 4;
    private static final int V = 6;
    private static final int D = 3;
    private static final int H = 2;
    private static final int C = 2;
    private static final int N = 3;
    private static final int[] IDS = {1, 4, 2, 0, 5, 5, 3, 1, 2, 0, 0, 4};
    private static final float TOL = 1e-5f;

    private final float[] table = TinyModels.random(V * D, 31);
    private final float[] u = TinyModels.random(D * H, 32);
    private final float[] w = TinyModels.random(H * H, 33);
    private final float[] dense = TinyModels.random(H * C, 34);
    private final float[] bias = TinyModels.random(C, 35);

    @TempDir
    Path dir;

    @Test
    void functionalWhileLoopRefusesItsBodyAndCapturesWhatIsOutside() throws Exception {
        Path model = dir.resolve("functional");
        exportFunctional(model);
        String cell;
        try (SavedModelBundle b = SavedModelBundle.load(model.toString(), TensorFlowBackend.TAG)) {
            // the loop body's tanh, by its name inside the body function
            cell = b.metaGraphDef().getGraphDef().getLibrary().getFunctionList().stream()
                    .flatMap(f -> f.getNodeDefList().stream()).filter(n -> n.getOp().equals("Tanh"))
                    .map(org.tensorflow.proto.NodeDef::getName).findFirst().orElseThrow();
        }
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(model))) {
            assertTrue(m.layers().stream().anyMatch(l -> l.name().equals("embedding")), m.layers().toString());
            assertTrue(m.capturable().stream().anyMatch(l -> l.name().equals("rnn:1")), m.capturable().toString());
            checkOutside(m, "rnn:1");
            ModelException e = assertThrows(ModelException.class, () -> m.run(ModelInputs.of(Tensor.ofInts(IDS, N, T)),
                    List.of(cell), List.of()));
            assertTrue(e.getMessage().contains("layer '" + cell + "'") && e.getMessage().contains("inside the loop 'rnn'")
                    && e.getMessage().contains("rnn:1") && e.getMessage().contains("embedding")
                    && e.getMessage().contains("logits"), e.getMessage());
            ModelException g = assertThrows(ModelException.class, () -> m.gradient(ModelInputs.of(
                    Tensor.ofInts(IDS, N, T)), GradientTarget.neuron("logits", 0), "embedding", List.of()));
            assertTrue(g.getMessage().contains("rnn") && g.getMessage().contains("control flow"), g.getMessage());
        }
    }

    @Test
    void tf1WhileFramesAreNeitherListedNorCaptured() throws Exception {
        Path model = dir.resolve("frames");
        String[] loopOps = exportFrames(model);
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(model))) {
            for (LayerInfo l : m.capturable()) {
                assertFalse(l.opType().equals("Tanh") || l.opType().equals("Merge") || l.opType().equals("Enter"),
                        "inside the loop: " + l);
            }
            assertTrue(m.capturable().stream().anyMatch(l -> l.name().equals(loopOps[1])), m.capturable().toString());
            checkOutside(m, loopOps[1]);
            ModelException e = assertThrows(ModelException.class, () -> m.run(ModelInputs.of(Tensor.ofInts(IDS, N, T)),
                    List.of(loopOps[0]), List.of()));
            assertTrue(e.getMessage().contains("layer '" + loopOps[0] + "'") && e.getMessage().contains("inside the loop")
                    && e.getMessage().contains(loopOps[1]) && e.getMessage().contains("embedding"), e.getMessage());
        }
    }

    private void checkOutside(LoadedModel m, String finalState) {
        Map<String, Tensor> out = m.run(ModelInputs.of(Tensor.ofInts(IDS, N, T)), List.of("embedding", finalState,
                "logits"), List.of());
        float[] embedding = new float[N * T * D];
        for (int i = 0; i < N * T; i++) {
            System.arraycopy(table, IDS[i] * D, embedding, i * D, D);
        }
        assertArrayEquals(embedding, out.get("embedding").floats(), TOL);
        float[] h = new float[N * H];
        for (int t = 0; t < T; t++) {
            float[] next = new float[N * H];
            for (int e = 0; e < N; e++) {
                for (int k = 0; k < H; k++) {
                    double z = 0;
                    for (int d = 0; d < D; d++) {
                        z += embedding[(e * T + t) * D + d] * u[d * H + k];
                    }
                    for (int j = 0; j < H; j++) {
                        z += h[e * H + j] * w[j * H + k];
                    }
                    next[e * H + k] = (float) Math.tanh(z);
                }
            }
            h = next;
        }
        assertArrayEquals(h, out.get(finalState).floats(), TOL);
        float[] logits = new float[N * C];
        for (int e = 0; e < N; e++) {
            for (int c = 0; c < C; c++) {
                double z = bias[c];
                for (int k = 0; k < H; k++) {
                    z += h[e * H + k] * dense[k * C + c];
                }
                logits[e * C + c] = (float) z;
            }
        }
        assertArrayEquals(logits, out.get("logits").floats(), TOL);
    }

    /** The head after the loop and the export, shared by both builds. */
    private void finish(Graph g, Ops tf, Placeholder<TInt32> ids, Operand<TFloat32> state, Path model)
            throws java.io.IOException {
        Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.linalg.matMul(state,
                tf.constant(Shape.of(H, C), DataBuffers.of(dense))), tf.constant(bias));
        Operand<TFloat32> probs = tf.withName("probabilities").nn.softmax(logits);
        try (Session s = new Session(g)) {
            Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("input_ids", ids)
                    .output("probabilities", probs).build();
            SavedModelBundle.exporter(model.toString()).withFunction(SessionFunction.create(sig, s)).export();
        }
    }

    private Operand<TFloat32> embedding(Ops tf, Placeholder<TInt32> ids) {
        return tf.withName("embedding").gather(tf.constant(Shape.of(V, D), DataBuffers.of(table)), ids,
                tf.constant(0));
    }

    private Operand<TFloat32> zeros(Ops tf, Placeholder<TInt32> ids) {
        Operand<TInt32> rows = tf.gather(tf.shape(ids), tf.constant(0), tf.constant(0));
        return tf.fill(tf.stack(List.of(rows, tf.constant(H))), tf.constant(0f));
    }

    @SuppressWarnings("unchecked")
    private void exportFunctional(Path model) throws Exception {
        ConcreteFunction cond = ConcreteFunction.create(tf -> {
            Placeholder<TInt32> i = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
            Placeholder<TFloat32> h = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, H)));
            Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(T, -1, D)));
            return Signature.builder().input("a_i", i).input("b_h", h).input("c_x", x)
                    .output("go", tf.math.less(i, tf.constant(T))).build();
        });
        ConcreteFunction body = ConcreteFunction.create(tf -> {
            Placeholder<TInt32> i = tf.placeholder(TInt32.class, Placeholder.shape(Shape.scalar()));
            Placeholder<TFloat32> h = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, H)));
            Placeholder<TFloat32> x = tf.placeholder(TFloat32.class, Placeholder.shape(Shape.of(T, -1, D)));
            Operand<TFloat32> xt = tf.gather(x, i, tf.constant(0));
            Operand<TFloat32> next = tf.withName("cell").math.tanh(tf.math.add(
                    tf.linalg.matMul(xt, tf.constant(Shape.of(D, H), DataBuffers.of(u))),
                    tf.linalg.matMul(h, tf.constant(Shape.of(H, H), DataBuffers.of(w)))));
            return Signature.builder().input("a_i", i).input("b_h", h).input("c_x", x)
                    .output("a_i", tf.math.add(i, tf.constant(1))).output("b_h", next).output("c_x", x).build();
        });
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TInt32> ids = tf.withName("input_ids").placeholder(TInt32.class,
                    Placeholder.shape(Shape.of(-1, T)));
            Operand<TFloat32> xs = tf.linalg.transpose(embedding(tf, ids), tf.constant(new int[] {1, 0, 2}));
            While loop = tf.withName("rnn").whileOp(List.of(tf.constant(0), zeros(tf, ids), xs), cond, body,
                    While.outputShapes(Shape.scalar(), Shape.of(-1, H), Shape.of(T, -1, D)));
            Iterator<Operand<org.tensorflow.types.family.TType>> outs = loop.iterator();
            outs.next();
            finish(g, tf, ids, (Operand<TFloat32>) (Operand<?>) outs.next(), model);
        }
    }

    /** @return the name of the loop's tanh op (inside) and of the final state's tensor (outside) */
    @SuppressWarnings("unchecked")
    private String[] exportFrames(Path model) throws Exception {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TInt32> ids = tf.withName("input_ids").placeholder(TInt32.class,
                    Placeholder.shape(Shape.of(-1, T)));
            Operand<TFloat32> xs = tf.linalg.transpose(embedding(tf, ids), tf.constant(new int[] {1, 0, 2}));
            Output<?>[] in = {tf.constant(0).asOutput(), zeros(tf, ids).asOutput(), xs.asOutput()};
            Output<?>[] out = g.whileLoop(in, (cg, inputs, outputs) -> {
                Ops c = Ops.create(cg);
                outputs[0] = c.math.less((Operand<TInt32>) inputs[0], c.constant(T)).asOutput();
            }, (bg, inputs, outputs) -> {
                Ops b = Ops.create(bg);
                Operand<TFloat32> xt = b.gather((Operand<TFloat32>) inputs[2], (Operand<TInt32>) inputs[0],
                        b.constant(0));
                outputs[0] = b.math.add((Operand<TInt32>) inputs[0], b.constant(1)).asOutput();
                outputs[1] = b.math.tanh(b.math.add(
                        b.linalg.matMul(xt, b.constant(Shape.of(D, H), DataBuffers.of(u))),
                        b.linalg.matMul((Operand<TFloat32>) inputs[1], b.constant(Shape.of(H, H), DataBuffers.of(w)))))
                        .asOutput();
                outputs[2] = inputs[2];
            }, "rnn");
            String tanh = null;
            for (Iterator<GraphOperation> it = g.operations(); it.hasNext(); ) {
                GraphOperation op = it.next();
                if (op.type().equals("Tanh")) {
                    tanh = op.name();
                }
            }
            Operand<TFloat32> state = tf.reshape((Operand<TFloat32>) out[1], tf.constant(new int[] {-1, H}));
            String stateName = ((Output<?>) state.asOutput()).op().name();
            finish(g, tf, ids, state, model);
            assertEquals(false, tanh == null);
            return new String[] {tanh, stateName};
        }
    }
}
