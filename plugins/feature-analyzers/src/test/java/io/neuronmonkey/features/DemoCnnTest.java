package io.neuronmonkey.features;

import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.attribution.TestSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

/**
 * Base of the tests on the real demo CNN: the model is loaded through the TensorFlow backend once per test class and
 * closed after it; each test gets its own temporary folder. Test classes run one after another, so the shared field
 * holds the current class's model.
 */
abstract class DemoCnnTest {

    static LoadedModel model;

    @TempDir
    Path dir;

    @BeforeAll
    static void loadModel() {
        model = TestSupport.demoModel();
    }

    @AfterAll
    static void closeModel() {
        model.close();
    }
}
