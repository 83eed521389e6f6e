package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attribution on text, against the tiny text model of {@link TextFixtures} (known weights, plain loops): integrated
 * gradients over the embedding (completeness, per-token sums against a naive loop, padding excluded, the planted
 * toxic words ranked first), token occlusion against the model run by hand, and the refusal of float-input methods.
 */
class TextAttributionTest {

    static final TextFixtures.TinyTextModel MODEL = new TextFixtures.TinyTextModel(5);

    static <P extends Record> AnalysisResult run(Analyzer<P> analyzer, Class<P> type, String yaml, TextFixtures.TextData d) {
        return analyzer.analyze(new TestSupport.Context<>("text", InputFixtures.bind(type, yaml), MODEL, d, List.of(), 7,
                Path.of("target")));
    }

    /** Logit {@code cls} per row of some model inputs, with interventions. */
    static float[] logit(ModelInputs in, int cls, List<Intervention> ivs) {
        float[] l = MODEL.run(in, List.of("logits"), ivs).get("logits").floats();
        float[] out = new float[in.rows()];
        for (int r = 0; r < out.length; r++) {
            out[r] = l[r * 2 + cls];
        }
        return out;
    }

    /**
     * Integrated gradients over the embedding from zero by a naive loop: midpoint Riemann sum of the gradient of the
     * toxic logit at alpha * h, one example and one step at a time, with the steps each example used.
     *
     * @return per example and real token the sum over the embedding dimension
     */
    static Map<String, float[]> naiveTokenAttributions(TextFixtures.TextData d, Map<String, Integer> stepsOf) {
        Map<String, float[]> out = new HashMap<>();
        Batch all = d.batch(0, d.texts.size());
        int dim = TextFixtures.TinyTextModel.D;
        int t = TextFixtures.T;
        for (int e = 0; e < all.size(); e++) {
            ModelInputs one = all.modelInputs().select(new int[] {e});
            int steps = stepsOf.get(all.ids().get(e));
            float[] h = MODEL.run(one, List.of("embedding"), List.of()).get("embedding").floats();
            double[] acc = new double[t * dim];
            for (int s = 0; s < steps; s++) {
                float a = (s + 0.5f) / steps;
                float[] point = new float[t * dim];
                for (int j = 0; j < point.length; j++) {
                    point[j] = a * h[j];
                }
                float[] g = MODEL.gradient(one, GradientTarget.perRow("logits", new int[] {1}), "embedding",
                        List.of(Intervention.patch("embedding", Tensor.ofFloats(point, 1, t, dim)))).floats();
                for (int j = 0; j < acc.length; j++) {
                    acc[j] += g[j] / steps;
                }
            }
            Tokens tokens = all.tokens().get(e);
            float[] perToken = new float[tokens.length()];
            for (int q = 0; q < tokens.length(); q++) {
                double sum = 0;
                for (int c = 0; c < dim; c++) {
                    sum += h[q * dim + c] * acc[q * dim + c];
                }
                perToken[q] = (float) sum;
            }
            out.put(all.ids().get(e), perToken);
        }
        return out;
    }

    @Test
    void integratedGradientsOverTheEmbeddingSumPerTokenAsANaiveLoopDoes() {
        TextFixtures.TextData d = TextFixtures.corpus(40, 3, 0.9);
        AnalysisResult r = run(new IntegratedGradientsAnalyzer(), IntegratedGradientsAnalyzer.Params.class,
                "layer: embedding\ntarget: class:toxic\nrule: middle\nsteps: 48\nkeep: 40\ntolerance: 0.002\nmaxSteps: 768\n", d);
        Matrix c = r.part("completeness", Matrix.class).orElseThrow();
        Map<String, Integer> stepsOf = new HashMap<>();
        for (int i = 0; i < c.rows().size(); i++) {
            stepsOf.put(c.rows().labels().get(i), (int) c.get(i, 3));
        }
        assertTrue(stepsOf.values().stream().anyMatch(s -> s > 48), "some example needs doubled steps: " + stepsOf.values());
        Map<String, float[]> naive = naiveTokenAttributions(d, stepsOf);
        ExampleSet set = r.part("tokens", ExampleSet.class).orElseThrow();
        assertEquals("logits", set.layer());
        List<ExampleSet.Example> examples = set.of(1).orElseThrow().examples();
        assertEquals(40, examples.size());
        Map<String, double[]> byToken = new HashMap<>();
        for (ExampleSet.Example ex : examples) {
            ExampleSet.TextContext text = ex.text();
            float[] expected = naive.get(ex.exampleId());
            // only the real tokens carry values: padding is never shown or counted
            assertEquals(expected.length, text.values().length, ex.exampleId());
            Tokens tokens = TextFixtures.tokenize(d.texts.get(Integer.parseInt(ex.exampleId().substring(1))));
            assertEquals(d.texts.get((int) ex.index()), String.join("", text.pieces()).substring("[CLS]".length()));
            double sum = 0;
            int focus = 0;
            for (int q = 0; q < expected.length; q++) {
                assertEquals(expected[q], text.values()[q], 2e-3 * Math.max(1, Math.abs(expected[q])), ex.exampleId() + " token " + q);
                sum += text.values()[q];
                focus = Math.abs(expected[q]) > Math.abs(expected[focus]) ? q : focus;
                byToken.computeIfAbsent(tokens.tokens().get(q), k -> new double[2])[0] += expected[q];
                byToken.get(tokens.tokens().get(q))[1]++;
            }
            assertEquals(focus, text.focus(), ex.exampleId());
            assertEquals(sum, ex.value(), 1e-3 * Math.max(1, Math.abs(sum)), "the example's value is its attribution total");
        }
        // completeness against F(x) - F(0 patched into the real tokens), computed by hand
        Batch all = d.batch(0, 40);
        float[] fx = logit(all.modelInputs(), 1, List.of());
        float[] h = MODEL.run(all.modelInputs(), List.of("embedding"), List.of()).get("embedding").floats();
        float[] zero = h.clone();
        boolean[] real = all.positionMask(TextFixtures.T);
        for (int i = 0; i < real.length; i++) {
            if (real[i]) {
                java.util.Arrays.fill(zero, i * TextFixtures.TinyTextModel.D, (i + 1) * TextFixtures.TinyTextModel.D, 0f);
            }
        }
        float[] fb = logit(all.modelInputs(), 1, List.of(Intervention.patch("embedding", Tensor.ofFloats(zero, 40, TextFixtures.T,
                TextFixtures.TinyTextModel.D))));
        for (int e = 0; e < 40; e++) {
            int row = c.rows().labels().indexOf("t" + e);
            assertEquals(fx[e] - fb[e], c.get(row, 1), 1e-4, "delta of t" + e);
            assertEquals(fx[e] - fb[e], c.get(row, 0), 0.002 * Math.max(1, Math.abs(fx[e] - fb[e])), "sum of t" + e);
        }
        // the ranking: mean over occurrences as the naive loop gives it, the planted toxic words first
        Matrix ranking = r.part("token-ranking", Matrix.class).orElseThrow();
        for (int i = 0; i < ranking.rows().size(); i++) {
            double[] s = byToken.get(ranking.rows().labels().get(i));
            assertEquals(s[0] / s[1], ranking.get(i, 0), 2e-3 * Math.max(1, Math.abs(s[0] / s[1])), ranking.rows().labels().get(i));
            assertEquals(s[1], ranking.get(i, 4), 0.0);
        }
        assertTrue(TextFixtures.TOXIC.contains(ranking.rows().labels().get(0)), "top token " + ranking.rows().labels());
        assertTrue(TextFixtures.TOXIC.contains(ranking.rows().labels().get(1)), "second token " + ranking.rows().labels());
        Matrix tags = r.part("token-tags", Matrix.class).orElseThrow();
        int toxic = tags.rows().labels().indexOf("lexicon=toxic");
        int none = tags.rows().labels().indexOf("lexicon=none");
        assertTrue(tags.get(toxic, 0) > tags.get(none, 0) + 0.5, "toxic lexicon " + tags.get(toxic, 0) + " vs none " + tags.get(none, 0));
        assertTrue(r.findings().stream().anyMatch(f -> f.id().equals("tokens")));
    }

    @Test
    void tokenOcclusionMatchesTheModelRunByHand() {
        TextFixtures.TextData d = TextFixtures.corpus(12, 8, 0.9);
        for (String replacement : List.of("1", "mask")) {
            AnalysisResult r = run(new OcclusionAnalyzer(), OcclusionAnalyzer.Params.class,
                    "target: class:toxic\nkeep: 12\nreplacement: " + replacement + "\ninternalBatch: 5\n", d);
            ExampleSet set = r.part("tokens", ExampleSet.class).orElseThrow();
            long seen = 0;
            for (ExampleSet.Example ex : set.of(1).orElseThrow().examples()) {
                int e = (int) ex.index();
                Batch one = d.batch(e, e + 1);
                float fx = logit(one.modelInputs(), 1, List.of())[0];
                assertEquals(fx, ex.value(), 1e-5);
                int len = one.tokens().get(0).length();
                assertEquals(len, ex.text().values().length);
                for (int q = 0; q < len; q++) {
                    int[] ids = one.inputs().ints().clone();
                    int[] mask = one.features().get(Batch.ATTENTION_MASK).ints().clone();
                    if (replacement.equals("mask")) {
                        mask[q] = 0;
                    } else {
                        ids[q] = 1;
                    }
                    float f = logit(new ModelInputs(Tensor.ofInts(ids, 1, TextFixtures.T),
                            Map.of(Batch.ATTENTION_MASK, Tensor.ofInts(mask, 1, TextFixtures.T))), 1, List.of())[0];
                    assertEquals(fx - f, ex.text().values()[q], 1e-5, "example " + e + " token " + q + " (" + replacement + ")");
                    seen++;
                }
            }
            assertEquals(seen, ((Number) r.summary().get("tokensOccluded")).longValue());
        }
    }

    @Test
    void floatInputMethodsRefuseTokenIdsAndNameWhatWorksOnText() {
        TextFixtures.TextData d = TextFixtures.corpus(4, 1, 0.5);
        List<AnalysisException> errors = List.of(
                assertThrows(AnalysisException.class, () -> run(new IntegratedGradientsAnalyzer(), IntegratedGradientsAnalyzer.Params.class, "", d)),
                assertThrows(AnalysisException.class, () -> run(new SaliencyAnalyzer(), SaliencyAnalyzer.Params.class, "", d)),
                assertThrows(AnalysisException.class, () -> run(new SmoothGradAnalyzer(), SmoothGradAnalyzer.Params.class, "", d)),
                assertThrows(AnalysisException.class, () -> run(new GradientTimesInputAnalyzer(), GradientTimesInputAnalyzer.Params.class, "", d)),
                assertThrows(AnalysisException.class, () -> run(new GradCamAnalyzer(), GradCamAnalyzer.Params.class, "", d)));
        for (AnalysisException e : errors) {
            assertTrue(e.getMessage().contains("INT32") && e.getMessage().contains("layer: embedding")
                    && e.getMessage().contains("occlusion") && e.getMessage().contains("ablation"), e.getMessage());
        }
        AnalysisException conductance = assertThrows(AnalysisException.class, () -> new NeuronConductanceAnalyzer().analyze(
                new TestSupport.Context<>("text", InputFixtures.bind(NeuronConductanceAnalyzer.Params.class, ""), MODEL, d,
                        List.of("hidden"), 4, Path.of("target"))));
        assertTrue(conductance.getMessage().contains("neuron conductance") && conductance.getMessage().contains("layer: embedding"),
                conductance.getMessage());
        AnalysisException mask = assertThrows(AnalysisException.class, () -> new OcclusionAnalyzer().analyze(
                new TestSupport.Context<>("text", InputFixtures.bind(OcclusionAnalyzer.Params.class, "replacement: mask\n"),
                        new TextFixtures.TinyTextModel(5) {
                            @Override
                            public List<io.neuronmonkey.api.model.ModelInput> inputs() {
                                return List.of(super.inputs().get(0));
                            }
                        }, d, List.of(), 4, Path.of("target"))));
        assertTrue(mask.getMessage().contains("attention_mask") && mask.getMessage().contains("input_ids"), mask.getMessage());
        assertFalse(InputFixtures.problems(OcclusionAnalyzer.Params.class, "replacement: unk\n").isEmpty());
    }
}
