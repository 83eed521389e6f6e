package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.InputMaps;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one pass every input-attribution analyzer makes: it reads the selected examples batch by batch, assigns each
 * its target neuron at the input, computes the batch's maps with the method and folds them into the result parts at
 * once (the first {@code keep} maps, per-class and per-group mean |map|, region shares, deletion and insertion
 * curves), so it holds one batch of maps plus the kept ones, whatever the number of examples. After the pass it runs
 * the model-parameter randomization check on the first examples. Part ids: {@code maps}, {@code class-mean},
 * {@code group-mean-<key>}, {@code roi}, {@code deletion}, {@code insertion}, {@code sanity}.
 */
final class InputAttribution {

    /** The gradient-free methods, named when a backend has no gradients. */
    static final String GRADIENT_FREE = "occlusion, ablation, activation-patching";

    /**
     * The settings every input-attribution analyzer shares (its params record holds them as its own fields).
     *
     * @param target           what is explained ({@link Target#FORMS})
     * @param where            metadata filter of the examples
     * @param limit            the most examples explained
     * @param keep             maps kept with their inputs in the part {@code maps}
     * @param groupBy          metadata keys for per-group mean maps
     * @param roi              {@code [top, left, bottom, right]} inclusive pixel region, or null
     * @param deletion         whether to draw deletion and insertion curves
     * @param deletionSteps    fractions of pixels (besides 0)
     * @param deletionExamples examples the curves are drawn on (the first ones)
     * @param randomOrders     random pixel orders the attribution order is compared with
     * @param sanity           whether to run the model-parameter randomization check
     * @param sanityExamples   examples the check recomputes
     * @param internalBatch    the most rows per model call
     */
    record Options(String target, Map<String, String> where, int limit, int keep, List<String> groupBy, List<Integer> roi,
                   boolean deletion, int deletionSteps, int deletionExamples, int randomOrders, boolean sanity,
                   int sanityExamples, int internalBatch) {

        /** Defensive copies. */
        Options {
            where = where == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(where));
            groupBy = groupBy == null ? List.of() : List.copyOf(groupBy);
            roi = roi == null ? null : List.copyOf(roi);
        }

        /**
         * @param raw a {@code where:} mapping as bound from YAML (values may be numbers or booleans)
         * @return the same filter with string values, in order; empty for null
         */
        static Map<String, String> strings(Map<String, ?> raw) {
            Map<String, String> out = new LinkedHashMap<>();
            if (raw != null) {
                ((Map<?, ?>) raw).forEach((k, v) -> out.put(String.valueOf(k), v == null ? null : String.valueOf(v)));
            }
            return java.util.Collections.unmodifiableMap(out);
        }

        /** @return the filter as written, e.g. {@code watermark=on, class=square}, or {@code all examples} */
        String selection() {
            List<String> parts = new ArrayList<>();
            where.forEach((k, v) -> parts.add(k + "=" + v));
            return parts.isEmpty() ? "all examples" : String.join(", ", parts);
        }

        /**
         * Records every violation of the shared fields.
         *
         * @return {@code v}
         */
        static Violations check(Violations v, String target, Map<String, String> where, int limit, int keep,
                                List<String> groupBy, List<Integer> roi, int deletionSteps, int deletionExamples,
                                int randomOrders, int sanityExamples, int internalBatch) {
            return v.require(Target.problem(target, "target") == null, "target", String.valueOf(Target.problem(target, "target")))
                    .require(where == null || where.values().stream().allMatch(s -> s != null && !s.isBlank()), "where",
                            "every key needs a value (v, or !v for every value but v), found " + where)
                    .require(limit >= 1, "limit", "must be >= 1, found " + limit)
                    .require(keep >= 0 && keep <= 10_000, "keep", "must be between 0 and 10000, found " + keep)
                    .require(groupBy == null || groupBy.stream().allMatch(k -> k != null && !k.isBlank()), "groupBy",
                            "must list metadata keys, found " + groupBy)
                    .require(roi == null || roi.size() == 4 && roi.stream().allMatch(i -> i != null && i >= 0)
                                    && roi.get(0) <= roi.get(2) && roi.get(1) <= roi.get(3), "roi",
                            "must be [top, left, bottom, right] (inclusive pixel rows and columns, top <= bottom, left <= right), found " + roi)
                    .require(deletionSteps >= 1 && deletionSteps <= 1000, "deletionSteps", "must be between 1 and 1000, found " + deletionSteps)
                    .require(deletionExamples >= 1, "deletionExamples", "must be >= 1, found " + deletionExamples)
                    .require(randomOrders >= 1 && randomOrders <= 100, "randomOrders", "must be between 1 and 100, found " + randomOrders)
                    .require(sanityExamples >= 1 && sanityExamples <= 10_000, "sanityExamples", "must be between 1 and 10000, found " + sanityExamples)
                    .require(internalBatch >= 1 && internalBatch <= 1 << 20, "internalBatch", "must be between 1 and 1048576, found " + internalBatch);
        }
    }

    /** Computes one batch's maps (integrated gradients records completeness here). */
    interface BatchStep {
        /**
         * @param model  the model
         * @param batch  the examples
         * @param target the target
         * @param rows   each example's neuron
         * @return the maps, shaped like the inputs
         */
        Tensor maps(LoadedModel model, Batch batch, Target.Bound target, int[] rows);
    }

    /** The input that deletion sets pixels to, per example. */
    interface Reference {
        /**
         * @param batch examples
         * @return {@code [n * rowSize]} reference values
         */
        float[] of(Batch batch);

        /** Zero everywhere. */
        Reference ZERO = b -> new float[b.inputs().size()];
    }

    /**
     * The pass's context: model, data, the resolved target and the examples.
     *
     * @param step     the step id
     * @param model    the model
     * @param data     the data
     * @param target   the resolved target
     * @param examples the selected examples
     * @param seed     the run's seed
     */
    record Setup(String step, LoadedModel model, Dataset data, Target.Bound target, ExampleFilter examples, long seed) {

        /**
         * @param ctx    the step's context
         * @param o      the shared settings
         * @param method the method (checked against the backend)
         * @return the setup
         * @throws AnalysisException when the backend lacks gradients the method needs, or the target, filter or
         *                           keys do not fit the model and data
         */
        static Setup of(AnalyzerContext<?> ctx, Options o, AttributionMethod method) {
            LoadedModel model = ctx.requireModel();
            Dataset data = ctx.requireData();
            if (method.needsGradients() && !model.supportsGradients()) {
                throw new AnalysisException("step '" + ctx.stepId() + "': " + method.name() + " needs gradients, and "
                        + model.description() + " does not compute them; gradient-free methods that work: " + GRADIENT_FREE);
            }
            DatasetInfo info = data.info();
            TextAttribution.requireFloatInput(ctx.stepId(), method.name(), info);
            for (String key : o.groupBy()) {
                if (!info.metadataKeys().contains(key)) {
                    throw new AnalysisException("step '" + ctx.stepId() + "': groupBy key '" + key + "' is not a metadata key"
                            + " of the data; valid: " + String.join(", ", info.metadataKeys()));
                }
            }
            Target.Bound t = Target.parse(o.target()).orElseThrow().resolve(model, info, ctx.stepId());
            return new Setup(ctx.stepId(), model, data, t, new ExampleFilter(data, o.where(), o.limit(), ctx.stepId()), ctx.seed());
        }

        /** @return the mean input of the selected examples (one pass) */
        float[] meanInput(int batchSize) {
            double[] sum = null;
            long n = 0;
            for (Iterator<Batch> it = examples.batches(batchSize); it.hasNext(); ) {
                Batch b = it.next();
                float[] x = b.inputs().floats();
                int rs = b.inputs().rowSize();
                sum = sum == null ? new double[rs] : sum;
                for (int i = 0; i < x.length; i++) {
                    sum[i % rs] += x[i];
                }
                n += b.size();
            }
            if (sum == null) {
                throw new AnalysisException("step '" + step + "': no example matches " + examples.describe());
            }
            float[] mean = new float[sum.length];
            for (int i = 0; i < mean.length; i++) {
                mean[i] = (float) (sum[i] / n);
            }
            return mean;
        }
    }

    private InputAttribution() {
    }

    /**
     * Runs the pass and adds the shared parts, summary entries and findings.
     *
     * @param analyzer  the analyzer's extension name, for the summary
     * @param ctx       the step's context (batch size)
     * @param s         the setup
     * @param o         the shared settings
     * @param method    the method (also used again by the randomization check)
     * @param step      the batch computation (usually {@code method::attribute})
     * @param reference the input deletion sets pixels to
     * @param notes     the method's description for the parts and the summary (method, baseline, steps)
     * @return a builder holding the shared parts; the analyzer adds its own and builds
     */
    static AnalysisResult.Builder run(String analyzer, AnalyzerContext<?> ctx, Setup s, Options o, AttributionMethod method, BatchStep step,
                                      Reference reference, String notes) {
        DatasetInfo info = s.data().info();
        String target = describe(s.target(), info.classNames());
        AttributionChecks.Folds folds = new AttributionChecks.Folds(s, o, info, method);
        long examples = 0;
        ctx.progress().start(method.name(), o.limit());
        for (Iterator<Batch> it = s.examples().batches(ctx.batchSize()); it.hasNext(); ) {
            if (ctx.cancelled()) {
                throw new AnalysisException("step '" + s.step() + "' was cancelled");
            }
            Batch b = it.next();
            int[] rows = s.target().rows(s.model(), b, null);
            Tensor maps = step.maps(s.model(), b, s.target(), rows);
            folds.accept(b, rows, maps, reference);
            examples += b.size();
            ctx.progress().advance(b.size());
        }
        ctx.progress().finish();
        if (examples == 0) {
            throw new AnalysisException("step '" + s.step() + "': no example matches " + s.examples().describe());
        }
        AnalysisResult.Builder r = AnalysisResult.builder()
                .put("analyzer", analyzer)
                .put("method", notes)
                .put("target", s.target().target().toString())
                .put("targetLayer", s.target().layer())
                .put("examples", examples)
                .put("selection", s.examples().describe());
        folds.finish(r, target, notes);
        return r;
    }

    /**
     * @param t          a target
     * @param classNames the data's class names
     * @return what the maps explain, e.g. {@code logit 'square'}, {@code the predicted class's logit}, {@code conv2 #4}
     */
    static String describe(Target.Bound t, List<String> classNames) {
        return switch (t.target().kind()) {
            case PREDICTED -> "the predicted class's logit (" + t.layer() + ")";
            case LABEL -> "the labelled class's logit (" + t.layer() + ")";
            case CLASS -> "logit '" + className(t.fixed(), classNames) + "' (" + t.layer() + ")";
            case NEURON -> t.layer() + " #" + t.fixed() + " (summed over positions)";
        };
    }

    /** @return the class's name, or its index when the data has no name for it */
    static String className(int c, List<String> classNames) {
        return c >= 0 && c < classNames.size() ? classNames.get(c) : Integer.toString(c);
    }

    /**
     * @param shape a batch's shape {@code [n, ...]}
     * @return dimension names {@code example, height, width, channel} for images, {@code example, height, width} for
     *         two-dimensional inputs, else {@code example, feature...}
     */
    static String[] dims(int[] shape) {
        return switch (shape.length) {
            case 4 -> new String[] {"example", "height", "width", "channel"};
            case 3 -> new String[] {"example", "height", "width"};
            case 2 -> new String[] {"example", "feature"};
            default -> {
                String[] d = new String[shape.length];
                d[0] = "example";
                for (int i = 1; i < d.length; i++) {
                    d[i] = "axis" + i;
                }
                yield d;
            }
        };
    }

    /**
     * @param id        part id
     * @param title     title
     * @param target    what the maps explain
     * @param ids       one id per map
     * @param maps      {@code [ids.size() * rowSize]} values
     * @param inputs    the inputs, or null
     * @param rowShape  one map's shape
     * @param notes     method notes
     * @return the part
     */
    static InputMaps maps(String id, String title, String target, List<String> ids, float[] maps, float[] inputs,
                          int[] rowShape, String notes) {
        int[] shape = new int[rowShape.length + 1];
        shape[0] = ids.size();
        System.arraycopy(rowShape, 0, shape, 1, rowShape.length);
        String[] dims = dims(shape);
        return new InputMaps(id, title, target, ids, NdArray.of(Tensor.ofFloats(maps, shape), dims),
                inputs == null ? null : NdArray.of(Tensor.ofFloats(inputs, shape), dims), notes);
    }
}
