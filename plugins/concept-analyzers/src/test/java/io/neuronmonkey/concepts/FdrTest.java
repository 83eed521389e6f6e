package io.neuronmonkey.concepts;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FdrTest {

    @Test
    void qValuesMatchAHandComputedExample() {
        // sorted p: 0.01, 0.02, 0.03, 0.04, 0.20 (m = 5); p m / rank = 0.05, 0.05, 0.05, 0.05, 0.20;
        // running minimum from the top keeps them; given out of order.
        double[] p = {0.04, 0.20, 0.01, 0.03, 0.02};
        assertArrayEquals(new double[] {0.05, 0.20, 0.05, 0.05, 0.05}, Fdr.qValues(p), 1e-12);
        // 0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216 (m = 10):
        // p m / rank = 0.01, 0.04, 0.13, 0.1025, 0.084, 0.1, 0.10571, 0.25625, 0.23556, 0.216;
        // monotone from the top: 0.01, 0.04, 0.084, 0.084, 0.084, 0.1, 0.10571, 0.216, 0.216, 0.216
        double[] p2 = {0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216};
        assertArrayEquals(new double[] {0.01, 0.04, 0.084, 0.084, 0.084, 0.1, 0.074 * 10 / 7, 0.216, 0.216, 0.216},
                Fdr.qValues(p2), 1e-12);
        assertEquals(2, Fdr.discoveries(Fdr.qValues(p2), 0.05));
        assertEquals(5, Fdr.discoveries(Fdr.qValues(p2), 0.09));
    }

    @Test
    void qValuesAreCappedAtOne() {
        assertArrayEquals(new double[] {1, 1}, Fdr.qValues(new double[] {0.9, 1.0}), 0);
    }

    @Test
    void rejectsAPValueOutsideTheUnitInterval() {
        assertThrows(IllegalArgumentException.class, () -> Fdr.qValues(new double[] {0.1, Double.NaN}));
        assertThrows(IllegalArgumentException.class, () -> Fdr.qValues(new double[] {1.5}));
    }
}
