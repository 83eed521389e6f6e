package io.neuronmonkey.attribution;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ablation analyzer's gap between groups on text: the predicted-toxic share per group before and after ablating
 * the tiny text model's group-term unit, and its change, against the model run here by hand on every example; the
 * bootstrap intervals against the normal approximation of a difference of proportions.
 */
class AblationGroupGapTest {

    static final TextFixtures.TinyTextModel MODEL = new TextFixtures.TinyTextModel(5);

    /** Per group [examples, predicted toxic] with the given interventions, by running every example alone. */
    static double[][] byHand(TextFixtures.TextData d, List<Intervention> ivs) {
        double[][] out = new double[2][2];
        for (int e = 0; e < d.texts.size(); e++) {
            Batch one = d.batch(e, e + 1);
            float[] l = MODEL.run(one.modelInputs(), List.of("logits"), ivs).get("logits").floats();
            int g = one.metadata().get(0).get("group").equals("zorblin") ? 0 : 1;
            out[g][0]++;
            out[g][1] += l[1] > l[0] ? 1 : 0;
        }
        return out;
    }

    @Test
    void ablatingTheBiasUnitShrinksTheGapAsTheModelRunByHandSays() {
        // group independent of the label: the bias unit alone makes zorblin sentences look toxic
        TextFixtures.TextData d = TextFixtures.corpus(300, 21, 0.5);
        AnalysisResult r = new AblationAnalyzer().analyze(new TestSupport.Context<>("gap", InputFixtures.bind(
                AblationAnalyzer.Params.class, "layer: hidden\nneurons: [1]\nwatchClass: toxic\ngroupBy: [group]\nrandomSets: 3\n"),
                MODEL, d, List.of(), 64, Path.of("target")));
        double[][] before = byHand(d, List.of());
        double[][] after = byHand(d, List.of(Intervention.ablate("hidden", 1)));
        // the bias unit makes zorblin sentences look toxic, so its share is the higher one: the pair is zorblin - quenti
        Matrix m = r.part("ablation-gap-group", Matrix.class).orElseThrow();
        assertEquals(List.of("zorblin - quenti"), m.rows().labels());
        double gap = before[0][1] / before[0][0] - before[1][1] / before[1][0];
        double gapAfter = after[0][1] / after[0][0] - after[1][1] / after[1][0];
        assertEquals(before[0][1] / before[0][0], m.get(0, 0), 1e-6);
        assertEquals(before[1][1] / before[1][0], m.get(0, 1), 1e-6);
        assertEquals(gap, m.get(0, 2), 1e-6);
        assertEquals(after[0][1] / after[0][0], m.get(0, 5), 1e-6);
        assertEquals(after[1][1] / after[1][0], m.get(0, 6), 1e-6);
        assertEquals(gapAfter, m.get(0, 7), 1e-6);
        assertEquals(gapAfter - gap, m.get(0, 10), 1e-6);
        assertTrue(gap > 0.25 && Math.abs(gapAfter) < gap / 2, "gap " + gap + " -> " + gapAfter);
        // the bootstrap interval of the gap before ablation against the normal approximation
        double pa = before[0][1] / before[0][0];
        double pb = before[1][1] / before[1][0];
        double se = Math.sqrt(pa * (1 - pa) / before[0][0] + pb * (1 - pb) / before[1][0]);
        double width = m.get(0, 4) - m.get(0, 3);
        assertTrue(width > 2 * 1.96 * se * 0.7 && width < 2 * 1.96 * se * 1.3, "bootstrap width " + width + ", normal " + 2 * 1.96 * se);
        assertTrue(m.get(0, 3) <= gap && gap <= m.get(0, 4));
        assertTrue(m.get(0, 11) <= gapAfter - gap && gapAfter - gap <= m.get(0, 12));
        // random single units of hidden, the same draws as the analyzer's, give the mean gap of the last column
        double randomGap = 0;
        List<int[]> sets = NeuronSets.random(TextFixtures.TinyTextModel.H, 1, 3, 42);
        for (int[] set : sets) {
            double[][] a = byHand(d, List.of(Intervention.ablate("hidden", set)));
            randomGap += (a[0][1] / a[0][0] - a[1][1] / a[1][0]) / sets.size();
        }
        assertEquals(randomGap, m.get(0, 13), 1e-5);
        Finding f = r.findings().stream().filter(x -> x.id().equals("ablation-gap-group-1")).findFirst().orElseThrow();
        assertEquals(Finding.Severity.NOTABLE, f.severity(), f.claim());
        assertTrue(f.claim().contains("shrinks") && f.claim().contains("group=zorblin"), f.claim());
    }

    @Test
    void withoutWatchClassTheGapIsNotComputedAndTheSummarySaysWhy() {
        TextFixtures.TextData d = TextFixtures.corpus(20, 2, 0.9);
        AnalysisResult r = new AblationAnalyzer().analyze(new TestSupport.Context<>("gap", InputFixtures.bind(
                AblationAnalyzer.Params.class, "layer: hidden\nneurons: [0]\ngroupBy: [group]\nrandomSets: 0\n"),
                MODEL, d, List.of(), 8, Path.of("target")));
        assertTrue(r.part("ablation-gap-group", Matrix.class).isEmpty());
        assertTrue(String.valueOf(r.summary().get("groupGap")).contains("watchClass"));
    }
}
