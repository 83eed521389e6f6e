package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.Analyzer;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import org.pf4j.Extension;

import java.util.List;
import java.util.Map;

/**
 * Grad-CAM maps ({@link GradCam}) at a spatial layer, upsampled to the input, with the shared input-attribution parts
 * and checks ({@link InputAttribution}); deletion sets pixels to 0.
 */
@Extension
@ExtensionName(value = "grad-cam", description = "Grad-CAM at a spatial layer, upsampled to the input, checked by region shares, deletion curves and parameter randomization")
public final class GradCamAnalyzer implements Analyzer<GradCamAnalyzer.Params> {

    /**
     * Params of grad-cam.
     *
     * @param target           what is explained
     * @param where            metadata filter
     * @param limit            the most examples
 * @param layer            the spatial layer; null: the model's last spatial layer
     * @param internalBatch    the most rows per gradient call
     * @param keep             maps kept with their inputs
     * @param groupBy          metadata keys of per-group mean maps
     * @param roi              region {@code [top, left, bottom, right]}, or null
     * @param deletion         deletion and insertion curves
     * @param deletionSteps    fractions of pixels
     * @param deletionExamples examples of the curves
     * @param randomOrders     random orders compared
     * @param sanity           model-parameter randomization check
     * @param sanityExamples   examples of the check
     */
    public record Params(
            @Param(defaultValue = "predicted", description = "what is explained: " + Target.FORMS) String target,
            @Param(description = "metadata filter of the examples, key: value (class: NAME for the label; !v for every value but v)") Map<String, String> where,
            @Param(defaultValue = "256", description = "the most examples explained, >= 1") int limit,
            @Param(description = "the spatial layer [height, width, channels] of the maps; default: the model's last spatial layer") String layer,
            @Param(defaultValue = "1024", description = "the most rows per gradient call (bounds memory), 1..1048576") int internalBatch,
            @Param(defaultValue = "16", description = "maps kept with their inputs in the part 'maps', 0..10000") int keep,
            @Param(description = "metadata keys: one mean |map| per value (parts group-mean-<key>)") List<String> groupBy,
            @Param(description = "region [top, left, bottom, right] (inclusive pixel rows and columns): share of positive attribution inside it") List<Integer> roi,
            @Param(defaultValue = "true", description = "deletion and insertion curves against random pixel orders (pixels set to 0)") boolean deletion,
            @Param(defaultValue = "16", description = "fractions of pixels of the curves (besides 0), 1..1000") int deletionSteps,
            @Param(defaultValue = "64", description = "examples the curves are drawn on (the first ones), >= 1") int deletionExamples,
            @Param(defaultValue = "5", description = "seeded random pixel orders compared with the attribution order, 1..100") int randomOrders,
            @Param(defaultValue = "true", description = "model-parameter randomization check (needs a backend that can randomize)") boolean sanity,
            @Param(defaultValue = "16", description = "examples the randomization check recomputes, 1..10000") int sanityExamples) {

        /** Checks every field. */
        public Params {
            where = InputAttribution.Options.strings(where);
            groupBy = groupBy == null ? List.of() : List.copyOf(groupBy);
            roi = roi == null ? null : List.copyOf(roi);
            InputAttribution.Options.check(Violations.check(), target, where, limit, keep, groupBy, roi, deletionSteps,
                            deletionExamples, randomOrders, sanityExamples, internalBatch)
                    .require(layer == null || !layer.isBlank(), "layer", "must name a spatial layer, or be left out")
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
        InputAttribution.Options o = p.options();
        LoadedModel model = ctx.requireModel();
        TextAttribution.requireFloatInput(ctx.stepId(), "grad-cam (maps upsampled to an image)", ctx.requireData().info());
        String layer = p.layer() != null ? p.layer() : model.layers().stream().filter(LayerInfo::spatial)
                .reduce((a, b) -> b).map(LayerInfo::name).orElseThrow(() -> new AnalysisException("step '" + ctx.stepId()
                        + "': grad-cam needs a spatial layer [height, width, channels]; the model has none (layers: "
                        + String.join(", ", model.layers().stream().map(LayerInfo::name).toList()) + ")"));
        GradCam method = new GradCam(layer);
        InputAttribution.Setup s = InputAttribution.Setup.of(ctx, o, method);
        method.layerOf(model);
        return InputAttribution.run("grad-cam", ctx, s, o, method, method::attribute, InputAttribution.Reference.ZERO,
                "grad-cam at layer " + layer + ", upsampled bilinearly to the input").put("layer", layer)
                .put("deletionBaseline", "zero").build();
    }
}
