package io.neuronmonkey.stats;

import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Evaluate on text batches (token ids, attention masks, tokens): labels against the logits, as for images. */
class TextEvaluateTest {

    static final LayerInfo LOGITS = new LayerInfo("logits", "BiasAdd", new int[]{2}, LayerInfo.Role.LOGITS);

    @Test
    void confusionAccuracyAndGroupsOfTextBatchesMatchANaiveCount() {
        List<TextBatches.Example> ex = TextBatches.examples(180, 1, 12, 41);
        Random r = new Random(42);
        float[][] logits = new float[ex.size()][];
        for (int i = 0; i < ex.size(); i++) {
            // right about 80% of the time
            float margin = (float) (1 + r.nextGaussian());
            logits[i] = ex.get(i).label() == 1 ? new float[]{0, margin} : new float[]{margin, 0};
        }
        List<ActivationBatch> bs = new ArrayList<>();
        for (ActivationBatch b : TextBatches.padded(ex, 12, 32, 9)) {
            int n = b.size();
            float[] s = new float[n * 2];
            for (int e = 0; e < n; e++) {
                System.arraycopy(logits[(int) b.batch().offset() + e], 0, s, e * 2, 2);
            }
            bs.add(new ActivationBatch(b.batch(), Map.of("logits", Tensor.ofFloats(s, n, 2))));
        }
        var ev = new EvaluateAnalyzer.Evaluation(EvaluateAnalyzer.setup(EvaluateAnalyzerTest.params(1, 10, List.of("group"), 1000),
                LOGITS, TextBatches.CLASSES, "text", List.of("group", "tag")));
        bs.forEach(ev::accept);
        AnalysisResult res = ev.finish();
        long[][] confusion = new long[2][2];
        Map<String, long[]> byGroup = new java.util.TreeMap<>();
        int[] predictions = new int[ex.size()];
        for (int i = 0; i < ex.size(); i++) {
            int pred = logits[i][1] > logits[i][0] ? 1 : 0;
            predictions[i] = pred;
            confusion[ex.get(i).label()][pred]++;
            long[] g = byGroup.computeIfAbsent(ex.get(i).metadata().get("group"), k -> new long[2]);
            g[0] += pred == ex.get(i).label() ? 1 : 0;
            g[1]++;
        }
        Matrix m = res.part("confusion", Matrix.class).orElseThrow();
        for (int a = 0; a < 2; a++) {
            for (int b = 0; b < 2; b++) {
                assertEquals(confusion[a][b], (long) m.get(a, b), "confusion " + a + "," + b);
            }
        }
        assertEquals(180L, res.summary().get("examples"));
        assertEquals(confusion[0][0] + confusion[1][1], ((Number) res.summary().get("correct")).longValue());
        assertArrayEquals(predictions, res.array("predictions").orElseThrow().ints());
        Matrix by = res.part("accuracy-by-group", Matrix.class).orElseThrow();
        assertEquals(List.copyOf(byGroup.keySet()), by.rows().labels());
        int row = 0;
        for (long[] g : byGroup.values()) {
            assertEquals((double) g[0] / g[1], by.get(row, 0), 1e-6);
            assertEquals(g[1], (long) by.get(row, 3));
            row++;
        }
    }
}
