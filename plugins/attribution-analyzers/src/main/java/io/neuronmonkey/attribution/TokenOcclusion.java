package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Occlusion of tokens: each real token of a text example in turn is replaced by a token id ({@code replacement:
 * ID}, e.g. 1 for {@code [UNK]}) or dropped from the attention mask ({@code replacement: mask}), and the token's
 * value is the target's drop {@code F(x) - F(x without the token)}. Padding is never occluded. One model run
 * evaluates up to {@code internalBatch} occluded copies, each with its example's other inputs. Writes the token parts
 * of {@link TokenAttributions}, examples ranked by the target's value.
 *
 * @param replacement the token id put in place of the occluded one, or -1 to drop it through the mask
 * @param chunkRows   the most occluded copies per model run
 */
record TokenOcclusion(long replacement, int chunkRows) {

    /** The replacement that drops a token through the attention mask. */
    static final String MASK = "mask";

    /**
     * @param spec the {@code replacement:} param
     * @return null when valid, else what is wrong
     */
    static String problem(String spec) {
        if (spec == null || spec.isBlank()) {
            return "must be a token id (e.g. 1 for [UNK]) or 'mask', found '" + spec + "'";
        }
        if (spec.trim().equals(MASK)) {
            return null;
        }
        try {
            return Long.parseLong(spec.trim()) >= 0 ? null : "a token id must be >= 0, found " + spec;
        } catch (NumberFormatException e) {
            return "must be a token id (e.g. 1 for [UNK]) or 'mask', found '" + spec + "'";
        }
    }

    /**
     * @param spec a valid {@code replacement:} param
     * @return its id, or -1 for {@code mask}
     */
    static long parse(String spec) {
        return spec.trim().equals(MASK) ? -1 : Long.parseLong(spec.trim());
    }

    /**
     * Runs token occlusion for the {@code occlusion} analyzer on integer token inputs.
     *
     * @param ctx the step's context
     * @return the result
     */
    static AnalysisResult run(AnalyzerContext<OcclusionAnalyzer.Params> ctx) {
        OcclusionAnalyzer.Params p = ctx.params();
        String step = ctx.stepId();
        LoadedModel model = ctx.requireModel();
        Dataset data = ctx.requireData();
        TokenOcclusion method = new TokenOcclusion(parse(p.replacement()), p.internalBatch());
        if (method.replacement() < 0) {
            boolean fed = model.inputs().stream().map(ModelInput::name).anyMatch(Batch.ATTENTION_MASK::equals);
            if (!fed || !data.info().features().contains(Batch.ATTENTION_MASK)) {
                throw new AnalysisException("step '" + step + "': 'replacement: mask' drops tokens through the attention"
                        + " mask, and " + (fed ? "the data carry no '" + Batch.ATTENTION_MASK + "' (features: "
                        + data.info().features() + ")" : "the model takes no '" + Batch.ATTENTION_MASK + "' input (inputs: "
                        + model.inputs().stream().map(ModelInput::name).toList() + ")") + "; use a token id such as 1 for [UNK]");
            }
        }
        Target.Bound target = Target.parse(p.target()).orElseThrow().resolve(model, data.info(), step);
        ExampleFilter examples = new ExampleFilter(data, p.where(), p.limit(), step);
        List<String> classes = AblationAnalyzer.classNames(model, data.info().classNames());
        TokenAttributions tokens = new TokenAttributions(target.layer(), classes, target.fixed() < 0, p.keep(), p.tokens());
        long n = 0;
        long occluded = 0;
        ctx.progress().start("occlusion of tokens", p.limit());
        for (Iterator<TextAttribution.Indexed> it = TextAttribution.batches(data, examples, p.limit(), ctx.batchSize()); it.hasNext(); ) {
            if (ctx.cancelled()) {
                throw new AnalysisException("step '" + step + "' was cancelled");
            }
            TextAttribution.Indexed ib = it.next();
            Batch b = ib.batch();
            if (!b.isText() || b.inputs().rank() != 2) {
                throw new AnalysisException("step '" + step + "': occlusion of tokens needs text batches of token ids [n, T];"
                        + " found " + b.inputs());
            }
            int[] rows = target.rows(model, b, null);
            Drops d = method.drops(model, b, target, rows);
            tokens.accept(b, ib.indices(), rows, d.perToken(), b.inputs().dim(1), d.base());
            occluded += d.occluded();
            n += b.size();
            ctx.progress().advance(b.size());
        }
        ctx.progress().finish();
        if (n == 0) {
            throw new AnalysisException("step '" + step + "': no example matches " + examples.describe());
        }
        String explained = InputAttribution.describe(target, classes);
        String how = method.replacement() < 0 ? "dropped through the attention mask" : "replaced by token id " + method.replacement();
        AnalysisResult.Builder r = AnalysisResult.builder()
                .put("analyzer", "occlusion")
                .put("method", "occlusion of tokens: each real token in turn " + how + "; a token's value is the drop of "
                        + explained + " (F(x) - F(occluded))")
                .put("target", target.target().toString())
                .put("targetLayer", target.layer())
                .put("replacement", p.replacement())
                .put("examples", n)
                .put("tokensOccluded", occluded)
                .put("selection", examples.describe());
        tokens.finish(r, "the input tokens", "occlusion drop of " + explained + ", tokens " + how,
                "the target's value at the example (F(x))");
        return r.build();
    }

    /**
     * A batch's occlusion values.
     *
     * @param perToken {@code [n * T]} drops, NaN where there is no real token
     * @param base     per example {@code F(x)}
     * @param occluded how many tokens were occluded
     */
    record Drops(float[] perToken, double[] base, long occluded) {
    }

    /**
     * @param model  the model
     * @param batch  text examples, token ids {@code [n, T]}
     * @param target the target
     * @param rows   each example's neuron
     * @return per real token the target's drop when it is occluded
     */
    Drops drops(LoadedModel model, Batch batch, Target.Bound target, int[] rows) {
        int n = batch.size();
        int len = batch.inputs().dim(1);
        ModelInputs in = batch.modelInputs();
        List<String> layers = List.of(target.layer());
        float[] fx = target.values(model.run(in, layers, List.of()), rows);
        boolean[] real = batch.positionMask(len);
        int total = 0;
        int[] count = new int[n];
        for (int e = 0; e < n; e++) {
            int upto = Math.min(batch.tokens().get(e).length(), len);
            for (int q = 0; q < upto; q++) {
                if (real == null || real[e * len + q]) {
                    count[e]++;
                }
            }
            total += count[e];
        }
        int[] example = new int[total];
        int[] position = new int[total];
        int k = 0;
        for (int e = 0; e < n; e++) {
            int upto = Math.min(batch.tokens().get(e).length(), len);
            for (int q = 0; q < upto; q++) {
                if (real == null || real[e * len + q]) {
                    example[k] = e;
                    position[k++] = q;
                }
            }
        }
        float[] out = new float[n * len];
        java.util.Arrays.fill(out, Float.NaN);
        for (int first = 0; first < total; first += chunkRows) {
            int m = Math.min(chunkRows, total - first);
            int[] ex = java.util.Arrays.copyOfRange(example, first, first + m);
            int[] pos = java.util.Arrays.copyOfRange(position, first, first + m);
            int[] targets = new int[m];
            for (int i = 0; i < m; i++) {
                targets[i] = rows[ex[i]];
            }
            float[] f = target.values(model.run(occluded(in, ex, pos, len), layers, List.of()), targets);
            for (int i = 0; i < m; i++) {
                out[ex[i] * len + pos[i]] = fx[ex[i]] - f[i];
            }
        }
        double[] base = new double[n];
        for (int e = 0; e < n; e++) {
            base[e] = fx[e];
        }
        return new Drops(out, base, total);
    }

    /** Copies of the examples' inputs, row i with token {@code pos[i]} occluded. */
    private ModelInputs occluded(ModelInputs in, int[] ex, int[] pos, int len) {
        Map<String, Tensor> named = new LinkedHashMap<>();
        in.named().forEach((key, v) -> named.put(key, key.equals(Batch.ATTENTION_MASK) && replacement < 0
                ? changed(v, ex, pos, len, 0) : v.select(ex)));
        Tensor primary = replacement < 0 ? in.primary().select(ex) : changed(in.primary(), ex, pos, len, replacement);
        return new ModelInputs(primary, named);
    }

    /** The rows {@code ex} of an integer {@code [n, T]} tensor, row i with position {@code pos[i]} set to value. */
    private static Tensor changed(Tensor t, int[] ex, int[] pos, int len, long value) {
        Tensor rows = t.select(ex);
        if (t.dtype() == DType.INT64) {
            long[] v = rows.longs().clone();
            for (int i = 0; i < ex.length; i++) {
                v[i * len + pos[i]] = value;
            }
            return Tensor.ofLongs(v, rows.shape());
        }
        if (t.dtype() == DType.INT32) {
            int[] v = rows.ints().clone();
            for (int i = 0; i < ex.length; i++) {
                v[i * len + pos[i]] = (int) value;
            }
            return Tensor.ofInts(v, rows.shape());
        }
        float[] v = rows.floats().clone();
        for (int i = 0; i < ex.length; i++) {
            v[i * len + pos[i]] = value;
        }
        return Tensor.ofFloats(v, rows.shape());
    }
}
