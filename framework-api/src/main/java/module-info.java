/**
 * The NeuronMonkey SPI: what analyzer, model-backend, data-source, trainer and visualizer plugins compile against.
 * It knows no Guice, YAML or TensorFlow; PF4J appears only as the {@code ExtensionPoint} marker.
 */
module io.neuronmonkey.api {
    requires transitive org.pf4j;

    exports io.neuronmonkey.api;
    exports io.neuronmonkey.api.tensor;
    exports io.neuronmonkey.api.model;
    exports io.neuronmonkey.api.data;
    exports io.neuronmonkey.api.analysis;
    exports io.neuronmonkey.api.result;
    exports io.neuronmonkey.api.visual;
    exports io.neuronmonkey.api.train;
}
