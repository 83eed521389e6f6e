package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.runtime.config.ParamsBinder;
import io.neuronmonkey.runtime.config.Problems;
import io.neuronmonkey.runtime.config.Yaml;
import io.neuronmonkey.tensorflow.TensorFlowBackend;
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
import org.tensorflow.types.TFloat32;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Random;

/** Params bound by the runtime's binder, analyzer runs, a linear model with known weights, a model without gradients. */
final class InputFixtures {

    /** Linear model: input 6 x 6 x 1, flattened, logits = x W + b for 3 classes. */
    static final int SIDE = 6;
    static final int PIXELS = SIDE * SIDE;
    static final int CLASSES = 3;

    private InputFixtures() {
    }

    /**
     * @param type params record
     * @param yaml the params as YAML (may be empty)
     * @return the record, bound as the runtime binds a step's params
     * @throws AssertionError listing the problems
     */
    static <P extends Record> P bind(Class<P> type, String yaml) {
        Problems problems = new Problems();
        var node = yaml.isBlank() ? null : Yaml.compose(yaml, "test.yaml").orElse(null);
        return ParamsBinder.bind(type, node, "params", problems).orElseThrow(() -> new AssertionError(problems.list()));
    }

    /**
     * @param type params record
     * @param yaml the params as YAML
     * @return the problems the binder reports
     */
    static List<String> problems(Class<? extends Record> type, String yaml) {
        Problems problems = new Problems();
        ParamsBinder.bind(type, Yaml.compose(yaml, "test.yaml").orElse(null), "params", problems);
        return problems.list().stream().map(Object::toString).toList();
    }

    /** Runs an analyzer on a real model and data. */
    static <P extends Record> AnalysisResult run(Analyzer<P> analyzer, P params, LoadedModel m, Dataset d, int batchSize) {
        return analyzer.analyze(new TestSupport.Context<>("attr", params, m, d, List.of(), batchSize, Path.of("target")));
    }

    /** The linear model's weights {@code [PIXELS, CLASSES]} and biases. */
    static final float[] W = gaussian(PIXELS * CLASSES, 11);
    static final float[] B = gaussian(CLASSES, 12);

    static float[] gaussian(int n, long seed) {
        Random r = new Random(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    /** Exports the linear model (weights as variables) as a SavedModel: x [-1, 6, 6, 1] -> probs. */
    static LoadedModel linearModel(Path dir) {
        try (Graph g = new Graph()) {
            Ops tf = Ops.create(g);
            Placeholder<TFloat32> x = tf.withName("x").placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, SIDE, SIDE, 1)));
            Operand<TFloat32> w = tf.withName("w").variable(tf.constant(Shape.of(PIXELS, CLASSES), DataBuffers.of(W)));
            Operand<TFloat32> b = tf.withName("b").variable(tf.constant(Shape.of(CLASSES), DataBuffers.of(B)));
            Operand<TFloat32> flat = tf.withName("flatten").reshape(x, tf.constant(new int[] {-1, PIXELS}));
            Operand<TFloat32> logits = tf.withName("logits").nn.biasAdd(tf.withName("matmul").linalg.matMul(flat, w), b);
            Operand<TFloat32> probs = tf.withName("probs").nn.softmax(logits);
            try (Session s = new Session(g)) {
                s.initialize();
                Signature sig = Signature.builder().key(Signature.DEFAULT_KEY).input("x", x).output("probs", probs).build();
                SavedModelBundle.exporter(dir.toString()).withFunction(SessionFunction.create(sig, s)).export();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        return TestSupport.loadModel(dir, TensorFlowBackend.Params.defaults());
    }

    /** A model that runs but has no gradients, as a gradient-free backend would be. */
    static LoadedModel withoutGradients(LoadedModel m) {
        return new LoadedModel() {
            public List<LayerInfo> layers() {
                return m.layers();
            }

            public int[] inputShape() {
                return m.inputShape();
            }

            public String logitsLayer() {
                return m.logitsLayer();
            }

            public Map<String, Tensor> run(Tensor inputs, Collection<String> layers) {
                return m.run(inputs, layers);
            }

            public String description() {
                return "a gradient-free test backend";
            }

            public String fingerprint() {
                return m.fingerprint();
            }

            public void close() {
            }
        };
    }
}
