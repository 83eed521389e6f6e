package io.neuronmonkey.stats;

import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The text results (text contexts, token-level census and breakdown) written by the runtime's codec and read back. */
class TextResultCodecRoundTripTest {

    @Test
    void textContextsReadBackEqualNaNValuesIncluded(@TempDir Path dir) throws IOException {
        List<TextBatches.Example> ex = TextBatches.examples(60, 1, 10, 51);
        List<ActivationBatch> bs = new ArrayList<>();
        for (ActivationBatch b : TextBatches.padded(ex, 10, 16)) {
            // a NaN at position 2 of example 0, neuron 3: not a candidate itself, shown as NaN in its neighbours' windows
            // (k 400 keeps every real token)
            float[] act = b.activation("block1/mlp").floats().clone();
            if (b.batch().offset() == 0 && ex.get(0).length() > 2) {
                act[2 * TextBatches.D + 3] = Float.NaN;
            }
            bs.add(new ActivationBatch(b.batch(), java.util.Map.of("block1/mlp", Tensor.ofFloats(act, b.size(), 10, TextBatches.D),
                    "pooled", b.activation("pooled"))));
        }
        AnalysisResult tops = TextTopActivationsTest.run(bs, TextTopActivationsTest.params(400, 2, TopActivationsAnalyzer.Reduce.MAX, 3, false));
        AnalysisResult back = ResultCodecRoundTripTest.roundTrip(tops, dir, "text-tops");
        ExampleSet set = back.part("block1_mlp-top", ExampleSet.class).orElseThrow();
        boolean nan = set.of(3).orElseThrow().examples().stream().anyMatch(e -> {
            for (float v : e.text().values()) {
                if (Float.isNaN(v)) {
                    return true;
                }
            }
            return false;
        });
        assertTrue(nan, "a window holds the NaN value");
        assertEquals(tops.summary().get("textRule"), back.summary().get("textRule"));
    }

    @Test
    void tokenLevelCensusAndBreakdownReadBackEqual(@TempDir Path dir) throws IOException {
        List<TextBatches.Example> ex = TextBatches.examples(80, 1, 10, 52);
        ResultCodecRoundTripTest.roundTrip(TextCensusTest.padded(ex, ActivationStatsAnalyzer.Reduce.TOKEN, 16), dir, "census");
        ResultCodecRoundTripTest.roundTrip(TextBreakdownTest.run(TextBatches.padded(ex, 10, 16),
                TextBreakdownTest.params(List.of("lexicon", "group"), ActivationBreakdownAnalyzer.Reduce.TOKEN)), dir, "breakdown");
    }
}
