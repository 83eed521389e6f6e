package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TargetTest {

    @Test
    void parsesEveryFormAndRefusesTheRest() {
        assertEquals(Target.Kind.PREDICTED, Target.parse("predicted").orElseThrow().kind());
        assertEquals(Target.Kind.LABEL, Target.parse(" Label ").orElseThrow().kind());
        assertEquals("square", Target.parse("class:square").orElseThrow().name());
        Target n = Target.parse("neuron:conv2:4").orElseThrow();
        assertEquals("conv2", n.name());
        assertEquals(4, n.index());
        for (String bad : new String[] {"", "class:", "neuron:conv2", "neuron:conv2:-1", "neuron::3", "logit"}) {
            assertTrue(Target.parse(bad).isEmpty(), bad);
        }
        assertTrue(Target.problem("x", "target").contains(Target.FORMS));
    }

    @Test
    void resolvesAgainstTheDemoModelAndNamesWhatIsValid() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("test", 16)) {
            Batch b = d.batches(16).next();
            Target.Bound square = Target.parse("class:square").orElseThrow().resolve(m, d.info(), "s");
            assertEquals(m.logitsLayer(), square.layer());
            AnalysisException e = assertThrows(AnalysisException.class,
                    () -> Target.parse("class:hexagon").orElseThrow().resolve(m, d.info(), "s"));
            assertTrue(e.getMessage().contains("circle, square"), e.getMessage());
            e = assertThrows(AnalysisException.class,
                    () -> Target.parse("neuron:conv2:99").orElseThrow().resolve(m, d.info(), "s"));
            assertTrue(e.getMessage().contains("0..15"), e.getMessage());
            e = assertThrows(AnalysisException.class,
                    () -> Target.parse("neuron:conv9:1").orElseThrow().resolve(m, d.info(), "s"));
            assertTrue(e.getMessage().contains("conv2"), e.getMessage());

            // predicted = the arg-max logit, computed here by a naive loop
            Target.Bound predicted = Target.parse("predicted").orElseThrow().resolve(m, d.info(), "s");
            Map<String, Tensor> run = m.run(b.inputs(), List.of(m.logitsLayer()));
            float[] logits = run.get(m.logitsLayer()).floats();
            int[] rows = predicted.rows(m, b, null);
            for (int r = 0; r < b.size(); r++) {
                int best = 0;
                for (int c = 1; c < 4; c++) {
                    best = logits[r * 4 + c] > logits[r * 4 + best] ? c : best;
                }
                assertEquals(best, rows[r]);
                assertEquals(logits[r * 4 + best], predicted.values(run, rows)[r]);
            }
            assertEquals(b.labels()[3], Target.parse("label").orElseThrow().resolve(m, d.info(), "s").rows(m, b, null)[3]);
        }
    }
}
