package io.neuronmonkey.api.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One neuron rule for every rank: the channel axis (delivered last) indexes neurons, every other axis is a position. */
class LayerInfoTest {

    private static LayerInfo layer(int... shape) {
        return new LayerInfo("l", "Relu", shape, LayerInfo.Role.HIDDEN);
    }

    @Test
    void neuronsAreTheLastAxisAndPositionsTheRestForEveryRank() {
        int[][] shapes = {{28, 28, 1}, {28, 28}, {1, 28, 28}, {784}, {}, {4, 5, 6, 7}};
        int[] neurons = {1, 28, 28, 784, 1, 7};
        int[] positions = {784, 28, 28, 1, 1, 120};
        for (int i = 0; i < shapes.length; i++) {
            LayerInfo l = layer(shapes[i]);
            assertEquals(neurons[i], l.neurons(), java.util.Arrays.toString(shapes[i]));
            assertEquals(positions[i], l.positions(), java.util.Arrays.toString(shapes[i]));
            long size = 1;
            for (int d : shapes[i]) {
                size *= d;
            }
            assertEquals(size, (long) l.neurons() * l.positions(), "neurons x positions = elements");
            assertTrue(l.channelsLast());
        }
    }

    @Test
    void aChannelsFirstModelTensorIsDescribedChannelsLast() {
        // the model computes [1, 28, 28] (one channel first); the layer is delivered [28, 28, 1]
        LayerInfo l = new LayerInfo("conv", "Relu", new int[] {28, 28, 1}, LayerInfo.Role.HIDDEN, null, 0);
        assertEquals(1, l.neurons());
        assertEquals(784, l.positions());
        assertFalse(l.channelsLast());
        assertArrayEquals(new int[] {1, 28, 28}, l.modelShape());
        LayerInfo nchw = new LayerInfo("c", "Relu", new int[] {12, 12, 10}, LayerInfo.Role.HIDDEN, null, 0);
        assertArrayEquals(new int[] {10, 12, 12}, nchw.modelShape());
        assertEquals(10, nchw.neurons());
        assertTrue(nchw.spatial());
    }

    @Test
    void channelAxisOutsideTheShapeIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new LayerInfo("c", "Relu", new int[] {4, 4}, LayerInfo.Role.HIDDEN, null, 2));
        assertTrue(e.getMessage().contains("cannot have channel axis 2; valid: 0..1"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new LayerInfo("s", "Sum", new int[] {}, LayerInfo.Role.HIDDEN, null, 0));
        assertEquals(-1, layer().channelAxis());
    }
}
