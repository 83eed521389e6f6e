package io.neuronmonkey.concepts;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.attribution.TestSupport;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

class LayerActivationsTest {

    @Test
    void reducesEveryLayerAsANaiveLoopDoes() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 40)) {
            List<LayerInfo> layers = List.of(m.layer("conv2").orElseThrow(), m.layer("dense1").orElseThrow());
            LayerActivations a = LayerActivations.collect(m, new ExampleFilter(d, Map.of("watermark", "on"), 1000, "s"),
                    layers, LayerActivations.Reduce.MAX, 16, "s");
            Batch all = d.batches(40).next();
            Tensor conv2 = m.run(all.inputs(), List.of("conv2")).get("conv2");
            int row = 0;
            for (int e = 0; e < 40; e++) {
                if (!all.metadata().get(e).get("watermark").equals("on")) {
                    continue;
                }
                assertEquals(all.ids().get(e), a.ids().get(row));
                for (int c = 0; c < 16; c++) {
                    float max = Float.NEGATIVE_INFINITY;
                    for (int p = 0; p < 14 * 14; p++) {
                        max = Math.max(max, conv2.floats()[(e * 196 + p) * 16 + c]);
                    }
                    assertEquals(max, a.of("conv2")[row * 16 + c], 0f);
                }
                row++;
            }
            assertEquals(row, a.examples());
        }
    }
}
