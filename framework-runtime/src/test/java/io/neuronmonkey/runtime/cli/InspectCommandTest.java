package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.model.LayerInfo;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class InspectCommandTest {

    private static LayerInfo layer(String name, String path) {
        return new LayerInfo(name, "Relu", new int[]{4}, LayerInfo.Role.HIDDEN, path);
    }

    @Test
    void scopeIsThePathBeforeTheLayerName() {
        assertEquals("sequential", InspectCommand.scope(layer("conv2d", "sequential/conv2d/Relu")));
        assertEquals("model/block_1", InspectCommand.scope(layer("dense", "model/block_1/dense/BiasAdd")));
        assertEquals("sequential", InspectCommand.scope(layer("dense_1/BiasAdd", "sequential/dense_1/BiasAdd")));
        assertEquals("", InspectCommand.scope(layer("conv1", "conv1")));
        assertEquals("", InspectCommand.scope(layer("input_1", "serving_default_input_1")));
    }
}
