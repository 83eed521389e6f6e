package io.neuronmonkey.tensorflow;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** absl's threshold is reachable in the TensorFlow build the backend ships with, and follows TF_CPP_MIN_LOG_LEVEL. */
class NativeLoggingTest {

    @Test
    void abslThresholdIsSetInTheShippedTensorFlow() {
        assertTrue(NativeLogging.quiet(), "symbol " + NativeLogging.SET_MIN_LOG_LEVEL + " not found: did the "
                + "TensorFlow (absl) version change?");
    }

    @Test
    void levelFollowsTheTensorFlowVariable() {
        assertEquals(1, NativeLogging.level(null));
        assertEquals(1, NativeLogging.level(" "));
        assertEquals(0, NativeLogging.level("0"));
        assertEquals(2, NativeLogging.level("2"));
        assertEquals(3, NativeLogging.level("7"));
        assertEquals(1, NativeLogging.level("loud"));
    }
}
