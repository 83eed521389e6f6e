package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A SavedModel that holds variables needs its variables/ folder: loading says so instead of the first run failing. */
class SavedModelFilesTest {

    @TempDir
    Path dir;

    private static GraphDef graph(String... ops) {
        GraphDef.Builder g = GraphDef.newBuilder();
        for (int i = 0; i < ops.length; i++) {
            g.addNode(NodeDef.newBuilder().setName("n" + i + "/" + ops[i]).setOp(ops[i]));
        }
        return g.build();
    }

    @Test
    void variablesWithoutTheirFolderAreRefusedWithTheReason() throws IOException {
        GraphDef g = graph("Placeholder", "VarHandleOp", "VarHandleOp", "MatMul");
        ModelException e = assertThrows(ModelException.class, () -> TensorFlowBackend.requireVariables(dir, g));
        assertEquals("SavedModel " + dir + " holds 2 variable(s) (e.g. 'n1/VarHandleOp') but has no variables/ folder: its "
                + "weights are missing; copy the whole SavedModel directory, variables/ included", e.getMessage());
        Files.createDirectories(dir.resolve("variables"));
        ModelException f = assertThrows(ModelException.class, () -> TensorFlowBackend.requireVariables(dir, g));
        assertEquals(true, f.getMessage().contains("its variables/ folder has no variables.index"), f.getMessage());
        Files.writeString(dir.resolve("variables/variables.index"), "index");
        assertDoesNotThrow(() -> TensorFlowBackend.requireVariables(dir, g));
    }

    @Test
    void aGraphOfConstantsNeedsNoVariablesFolder() {
        assertDoesNotThrow(() -> TensorFlowBackend.requireVariables(dir, graph("Placeholder", "Const", "MatMul")));
    }
}
