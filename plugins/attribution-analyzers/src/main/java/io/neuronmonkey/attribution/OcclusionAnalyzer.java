package io.neuronmonkey.attribution;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.tensor.DType;
import org.pf4j.Extension;

import java.util.List;
import java.util.Map;

/**
 * Occlusion maps ({@link Occlusion}): per pixel the mean drop of the target over the windows covering it, when each
 * {@code patch x patch} window is set to {@code value}. Gradient-free, so it works on any backend. Writes the shared
 * input-attribution parts and checks ({@link InputAttribution}); deletion sets pixels to {@code value}. The
 * randomization check is off by default (occlusion runs the model once per window, for every randomized layer).
 * On token ids it occludes one real token at a time instead ({@link TokenOcclusion}).
 */
@Extension
@ExtensionName(value = "occlusion", description = "Occlusion: the target's drop when square windows are set to a value (gradient-free), checked by region shares and deletion curves; on text, one token at a time")
public final class OcclusionAnalyzer implements Analyzer<OcclusionAnalyzer.Params> {

    /**
     * Params of occlusion.
     *
     * @param target           what is explained
     * @param where            metadata filter
     * @param limit            the most examples
 * @param patch            window side in pixels
 * @param stride           step between windows
 * @param value            what occluded pixels are set to
     * @param internalBatch    the most occluded copies per model run
     * @param keep             maps kept with their inputs
     * @param groupBy          metadata keys of per-group mean maps
     * @param roi              region {@code [top, left, bottom, right]}, or null
     * @param deletion         deletion and insertion curves
     * @param deletionSteps    fractions of pixels
     * @param deletionExamples examples of the curves
     * @param randomOrders     random orders compared
     * @param sanity           model-parameter randomization check
     * @param sanityExamples   examples of the check
     * @param replacement      for token ids: the id an occluded token becomes, or {@code mask}
     * @param tokens           for token ids: tokens listed per token ranking
     */
    public record Params(
            @Param(defaultValue = "predicted", description = "what is explained: " + Target.FORMS) String target,
            @Param(description = "metadata filter of the examples, key: value (class: NAME for the label; !v for every value but v)") Map<String, String> where,
            @Param(defaultValue = "256", description = "the most examples explained, >= 1") int limit,
            @Param(defaultValue = "4", description = "window side in pixels (features for vector inputs), 1..10000") int patch,
            @Param(defaultValue = "2", description = "step between windows, 1..10000") int stride,
            @Param(defaultValue = "0.0", description = "the value occluded inputs (and deleted pixels) are set to") double value,
            @Param(defaultValue = "1024", description = "the most occluded copies per model run (bounds memory), 1..1048576") int internalBatch,
            @Param(defaultValue = "16", description = "maps kept with their inputs in the part 'maps', 0..10000") int keep,
            @Param(description = "metadata keys: one mean |map| per value (parts group-mean-<key>)") List<String> groupBy,
            @Param(description = "region [top, left, bottom, right] (inclusive pixel rows and columns): share of positive attribution inside it") List<Integer> roi,
            @Param(defaultValue = "true", description = "deletion and insertion curves against random pixel orders (pixels set to value)") boolean deletion,
            @Param(defaultValue = "16", description = "fractions of pixels of the curves (besides 0), 1..1000") int deletionSteps,
            @Param(defaultValue = "64", description = "examples the curves are drawn on (the first ones), >= 1") int deletionExamples,
            @Param(defaultValue = "5", description = "seeded random pixel orders compared with the attribution order, 1..100") int randomOrders,
            @Param(defaultValue = "false", description = "model-parameter randomization check (needs a backend that can randomize)") boolean sanity,
            @Param(defaultValue = "16", description = "examples the randomization check recomputes, 1..10000") int sanityExamples,
            @Param(defaultValue = "1", description = "text (token ids): the token id each occluded token becomes (1 = [UNK] of the built-in vocabulary), or 'mask' to drop it through the attention mask") String replacement,
            @Param(defaultValue = "30", description = "text (token ids): tokens listed in each token ranking, 1..10000") int tokens) {

        /** Checks every field. */
        public Params {
            where = InputAttribution.Options.strings(where);
            groupBy = groupBy == null ? List.of() : List.copyOf(groupBy);
            roi = roi == null ? null : List.copyOf(roi);
            InputAttribution.Options.check(Violations.check(), target, where, limit, keep, groupBy, roi, deletionSteps,
                            deletionExamples, randomOrders, sanityExamples, internalBatch)
                    .require(patch >= 1 && patch <= 10_000, "patch", "must be between 1 and 10000, found " + patch)
                    .require(stride >= 1 && stride <= 10_000, "stride", "must be between 1 and 10000, found " + stride)
                    .require(Double.isFinite(value) && Math.abs(value) <= Float.MAX_VALUE, "value", "must be a finite number, found " + value)
                    .require(TokenOcclusion.problem(replacement) == null, "replacement", String.valueOf(TokenOcclusion.problem(replacement)))
                    .require(tokens >= 1 && tokens <= 10_000, "tokens", "must be between 1 and 10000, found " + tokens)
                    .throwIfAny();
        }


        /** @return the settings every input attribution shares */
        InputAttribution.Options options() {
            return new InputAttribution.Options(target, where, limit, keep, groupBy, roi, deletion, deletionSteps,
                    deletionExamples, randomOrders, sanity, sanityExamples, internalBatch);
        }
    }

    @Override
    public AnalysisResult analyze(AnalyzerContext<Params> ctx) {
        Params p = ctx.params();
        DType input = ctx.requireData().info().inputType();
        if (input == DType.INT32 || input == DType.INT64) {
            return TokenOcclusion.run(ctx);
        }
        InputAttribution.Options o = p.options();
        Occlusion method = new Occlusion(p.patch(), p.stride(), (float) p.value(), p.internalBatch());
        InputAttribution.Setup s = InputAttribution.Setup.of(ctx, o, method);
        float fill = (float) p.value();
        InputAttribution.Reference reference = b -> {
            float[] v = new float[b.inputs().size()];
            java.util.Arrays.fill(v, fill);
            return v;
        };
        return InputAttribution.run("occlusion", ctx, s, o, method, method::attribute, reference, "occlusion, " + p.patch() + " x "
                + p.patch() + " windows every " + p.stride() + " pixels set to " + p.value() + "; a pixel's value is the"
                + " mean drop of the target over the windows covering it").put("deletionBaseline", "constant:" + p.value()).build();
    }
}
