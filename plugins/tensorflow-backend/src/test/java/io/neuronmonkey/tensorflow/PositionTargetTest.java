package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Gradient targets at one position of a spatial layer, on the tiny CNN (3x3 SAME conv on a 5x5x2 input). */
class PositionTargetTest {

    @TempDir
    Path dir;

    @Test
    void positionsSumToTheChannelAndStayInsideTheirReceptiveField() throws Exception {
        Path pb = dir.resolve("cnn.pb");
        new TinyModels().writeCnn(pb);
        int n = 3;
        float[] x = TinyModels.random(n * 5 * 5 * 2, 41);
        try (LoadedModel m = new TensorFlowBackend().load(TestContexts.model(pb, "x", "probs"))) {
            Tensor in = Tensor.ofFloats(x, n, 5, 5, 2);
            float[] channel = m.gradient(in, GradientTarget.neuron("conv", 1), "x").floats();
            double[] sum = new double[channel.length];
            for (int p = 0; p < 25; p++) {
                float[] g = m.gradient(in, GradientTarget.atPosition("conv", 1, p), "x").floats();
                int row = p / 5;
                int col = p % 5;
                for (int i = 0; i < g.length; i++) {
                    sum[i] += g[i];
                    int r = (i / 2) % 25 / 5;
                    int c = (i / 2) % 5;
                    if (Math.abs(r - row) > 1 || Math.abs(c - col) > 1) {
                        assertEquals(0f, g[i], "position " + p + ": input pixel (" + r + ", " + c + ") is outside its 3x3 field");
                    }
                }
            }
            // linearity: the channel's value is the sum of its positions' values, so are the gradients
            for (int i = 0; i < channel.length; i++) {
                assertEquals(channel[i], sum[i], 1e-5, "input " + i);
            }
            // per row: row r targets position r*6 (the diagonal) of channel r
            float[] perRow = m.gradient(in, GradientTarget.perRowAtPositions("conv", new int[] {0, 1, 2},
                    new int[] {0, 6, 12}), "x").floats();
            for (int r = 0; r < n; r++) {
                float[] one = m.gradient(in, GradientTarget.atPosition("conv", r, r * 6), "x").floats();
                for (int i = r * 50; i < (r + 1) * 50; i++) {
                    assertEquals(one[i], perRow[i], 1e-6);
                }
            }
            // the plain target is unchanged by the unit term
            float[] again = m.gradient(in, GradientTarget.neuron("conv", 1), "x").floats();
            assertTrue(java.util.Arrays.equals(channel, again));
            ModelException e = assertThrows(ModelException.class,
                    () -> m.gradient(in, GradientTarget.atPosition("conv", 1, 25), "x"));
            assertTrue(e.getMessage().contains("position 25"), e.getMessage());
        }
    }
}
