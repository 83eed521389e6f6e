/**
 * The NeuronMonkey test kit: what a plugin's unit tests need to run an extension without the runtime. Contexts
 * ({@link io.neuronmonkey.testkit.TestKit}), a model with known weights ({@link io.neuronmonkey.testkit.TinyMlp}),
 * an in-memory data set ({@link io.neuronmonkey.testkit.InMemoryData}). No TensorFlow, no runtime.
 */
module io.neuronmonkey.testkit {
    requires transitive io.neuronmonkey.api;

    exports io.neuronmonkey.testkit;
}
