package io.neuronmonkey.runtime.cli;

import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

    /** A model that only describes itself: token ids and a mask, or one float input. */
    private static LoadedModel model(List<ModelInput> inputs) {
        return new LoadedModel() {
            @Override
            public List<LayerInfo> layers() {
                return List.of(new LayerInfo("input_ids", "Placeholder", new int[]{16}, LayerInfo.Role.INPUT),
                        new LayerInfo("logits", "BiasAdd", new int[]{2}, LayerInfo.Role.LOGITS));
            }

            @Override
            public List<ModelInput> inputs() {
                return inputs;
            }

            @Override
            public int[] inputShape() {
                return new int[]{16};
            }

            @Override
            public String logitsLayer() {
                return "logits";
            }

            @Override
            public Map<String, Tensor> run(Tensor in, Collection<String> layers) {
                throw new UnsupportedOperationException();
            }

            @Override
            public String description() {
                return "text model";
            }

            @Override
            public String fingerprint() {
                return "0";
            }

            @Override
            public void close() {
            }
        };
    }

    private static String printed(LoadedModel m) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        InspectCommand.print(m, new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void typedOrSeveralInputsArePrintedWithThePrimaryMarked() {
        String text = printed(model(List.of(new ModelInput("input_ids", DType.INT32, new int[]{16}, true),
                new ModelInput("attention_mask", DType.INT32, new int[]{16}, false))));
        assertTrue(text.contains("inputs input_ids INT32 [16] (primary), attention_mask INT32 [16]\n"), text);
        String image = printed(model(List.of(new ModelInput("x", DType.FLOAT32, new int[]{16}, true))));
        assertFalse(image.contains("inputs "), image);
    }
}
