package io.neuronmonkey.features;

import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.PrunedModel;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.tensor.Tensor;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The structural side of {@link PruneAnalyzer}: the chosen neurons are cut out of the model by the backend
 * ({@link LoadedModel#prune}), the written model is loaded again through the experiment's backend, and the original
 * and the pruned model are compared on the step's examples: parameters, size on disk, plain inference speed
 * (examples per second over every kept batch, the two models timed alternately, median of the repetitions) and
 * accuracy, with the pruned model's outputs checked against the masked model's.
 */
final class Structural {

    /** Name of the folder {@code export: auto} writes, after the step id. */
    static final String AUTO_SUFFIX = "-pruned-model";

    private Structural() {
    }

    /**
     * Prunes, reloads, measures, and adds the part, the finding and the summary facts to {@code out}.
     *
     * @param ctx            the step
     * @param model          the unpruned model
     * @param layer          the pruned layer
     * @param eval           the kept examples and the masked predictions
     * @param chosen         the pruned neurons, ascending
     * @param maskedAccuracy the accuracy of the masked model
     * @param ruleText       how the neurons were chosen, for the text
     * @param out            the result being built
     */
    static void measure(AnalyzerContext<PruneAnalyzer.Params> ctx, LoadedModel model, LayerInfo layer,
                        PruneAnalyzer.Evaluation eval, int[] chosen, double maskedAccuracy, String ruleText,
                        AnalysisResult.Builder out) {
        PruneAnalyzer.Params p = ctx.params();
        if (chosen.length == 0 || chosen.length >= layer.neurons()) {
            out.put("structural", "not exported: the rule chose " + (chosen.length == 0 ? "no neuron" : "every neuron")
                    + " of " + layer.name());
            return;
        }
        Path dir = target(ctx, p.export());
        PrunedModel pruned = model.prune(Map.of(layer.name(), chosen), dir);
        int[] masked = eval.predictions(chosen);
        try (LoadedModel cut = ctx.loadModel(dir.toString())) {
            int[] preds = new int[0];
            double maxDiff = 0;
            double scale = 0;
            List<io.neuronmonkey.api.model.Intervention> iv = List.of(io.neuronmonkey.api.model.Intervention.ablate(layer.name(), chosen));
            for (Batch b : eval.batches) {
                Tensor a = cut.run(b.modelInputs(), List.of(cut.logitsLayer()), List.of()).get(cut.logitsLayer());
                float[] m = model.run(b.modelInputs(), List.of(model.logitsLayer()), iv).get(model.logitsLayer()).floats();
                float[] c = a.floats();
                for (int i = 0; i < c.length; i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(c[i] - m[i]));
                    scale = Math.max(scale, Math.abs(m[i]));
                }
                int[] q = PruneAnalyzer.Evaluation.argmax(a);
                int[] all = Arrays.copyOf(preds, preds.length + q.length);
                System.arraycopy(q, 0, all, preds.length, q.length);
                preds = all;
            }
            int correct = 0;
            int differ = 0;
            for (int i = 0; i < eval.n; i++) {
                correct += preds[i] == eval.labels[i] ? 1 : 0;
                differ += preds[i] != masked[i] ? 1 : 0;
            }
            double accuracy = (double) correct / eval.n;
            double[] speed = speeds(model, cut, eval.batches, eval.n, p.repeats());
            boolean structural = pruned.structural().contains(layer.name());
            String how = structural ? "cut out" : "masked in the graph (" + pruned.masked().get(layer.name()) + ")";
            out.part(new Matrix("structural", "Original vs pruned model (" + layer.name() + ": " + chosen.length
                    + " neurons " + (structural ? "cut out" : "masked") + ")",
                    Matrix.Axis.of("model", List.of("original", "pruned")),
                    Matrix.Axis.of("measure", List.of("parameters", "size on disk (bytes)", "size frozen (bytes)",
                            "examples/s (median)", "accuracy")),
                    NdArray.of(Tensor.ofFloats(new float[] {pruned.parametersBefore(), pruned.bytesBefore(),
                            pruned.bytesFrozen(), (float) speed[0], (float) eval.baseAccuracy(), pruned.parametersAfter(),
                            pruned.bytesAfter(), pruned.bytesAfter(), (float) speed[1], (float) accuracy}, 2, 5),
                            "model", "measure"),
                    "", layer.name(), "plain inference of every kept batch (" + eval.n + " examples), the two models"
                    + " timed alternately, median of " + p.repeats() + " repetitions; size on disk: the files as"
                    + " loaded; size frozen: written as the pruned model is (a SavedModel with the weights as constants,"
                    + " the fair baseline)"));
            double drop = 1 - (double) pruned.parametersAfter() / pruned.parametersBefore();
            out.finding(new Finding("structural-" + layer.name(), Finding.Severity.INFO,
                    String.format(Locale.ROOT, "the %d %s %s neurons %s: parameters %d -> %d (-%.1f%%), size %d -> %d"
                                    + " bytes (frozen alike, %d as loaded), %.0f -> %.0f examples/s; accuracy %.4f -> %.4f, %d of %d predictions differ"
                                    + " from the masked model (max |logit diff| %.2g)",
                            chosen.length, ruleText, layer.name(), how, pruned.parametersBefore(),
                            pruned.parametersAfter(), 100 * drop, pruned.bytesFrozen(), pruned.bytesAfter(), pruned.bytesBefore(), speed[0],
                            speed[1], eval.baseAccuracy(), accuracy, differ, eval.n, maxDiff),
                    new Finding.Strength("parameters removed (share)", drop, null, null),
                    Arrays.stream(chosen).limit(32).mapToObj(i -> new NeuronRef(layer.name(), i)).toList(),
                    List.of("structural")));
            out.put("exported", dir.toString())
                    .put("structuralLayers", pruned.structural())
                    .put("maskedLayers", pruned.masked())
                    .put("parametersBefore", pruned.parametersBefore())
                    .put("parametersAfter", pruned.parametersAfter())
                    .put("bytesBefore", pruned.bytesBefore())
                    .put("bytesFrozen", pruned.bytesFrozen())
                    .put("bytesAfter", pruned.bytesAfter())
                    .put("examplesPerSecondBefore", speed[0])
                    .put("examplesPerSecondAfter", speed[1])
                    .put("accuracyPruned", accuracy)
                    .put("accuracyMasked", maskedAccuracy)
                    .put("predictionsDifferFromMasked", differ)
                    .put("maxLogitDiffFromMasked", maxDiff)
                    .put("logitScale", scale);
        }
    }

    /**
     * @return the export folder: the given path resolved (the backend refuses one that is not empty), or for
     *         {@code auto} {@code <step>-pruned-model} in the run folder, numbered {@code -2, -3, ...} when an earlier
     *         attempt left one there (nothing is ever overwritten)
     */
    static Path target(AnalyzerContext<?> ctx, String export) {
        if (!export.equalsIgnoreCase("auto")) {
            return ctx.resolve(export);
        }
        Path work = ctx.workDir().toAbsolutePath();
        Path parent = work.getParent();
        Path base = parent != null && parent.getFileName() != null && parent.getFileName().toString().equals(".work")
                && parent.getParent() != null ? parent.getParent() : work;
        Path dir = base.resolve(ctx.stepId() + AUTO_SUFFIX);
        for (int i = 2; java.nio.file.Files.exists(dir); i++) {
            dir = base.resolve(ctx.stepId() + AUTO_SUFFIX + "-" + i);
        }
        return dir;
    }

    /**
     * @return the median examples per second of plain inference of {@code a} and of {@code b} over the batches, the
     *         two timed alternately (which goes first alternates too)
     */
    static double[] speeds(LoadedModel a, LoadedModel b, List<Batch> batches, int n, int repeats) {
        double[] sa = new double[repeats];
        double[] sb = new double[repeats];
        for (int r = 0; r < repeats; r++) {
            if (r % 2 == 0) {
                sa[r] = n / seconds(a, batches);
                sb[r] = n / seconds(b, batches);
            } else {
                sb[r] = n / seconds(b, batches);
                sa[r] = n / seconds(a, batches);
            }
        }
        return new double[] {median(sa), median(sb)};
    }

    private static double seconds(LoadedModel m, List<Batch> batches) {
        List<String> logits = List.of(m.logitsLayer());
        long t0 = System.nanoTime();
        for (Batch b : batches) {
            m.run(b.modelInputs(), logits, List.of());
        }
        return Math.max(1e-9, (System.nanoTime() - t0) / 1e9);
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
