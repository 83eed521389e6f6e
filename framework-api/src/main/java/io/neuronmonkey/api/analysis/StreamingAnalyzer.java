package io.neuronmonkey.api.analysis;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * An analyzer that needs one pass over the activations of its layers. The runtime creates accumulators with
 * {@link #start}, feeds each the activations of its own layers batch by batch (possibly several accumulators on
 * several threads), merges them in data order and calls {@link Accumulator#finish()}. Memory must not grow with
 * the number of examples.
 *
 * @param <P> the params record
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.1.0")
public interface StreamingAnalyzer<P extends Record> extends Analyzer<P> {

    /**
     * Mutable per-pass state. Not thread-safe: each thread gets its own, and {@link #merge} combines them.
     */
    interface Accumulator {

        /** @param batch one batch of examples with the activations of the step's layers */
        void accept(ActivationBatch batch);

        /**
         * Folds {@code other} (created by the same {@link #start} call's analyzer and context, fed with the examples
         * that come after this one's) into this accumulator.
         *
         * @param other an accumulator of the same type; not used afterwards
         */
        void merge(Accumulator other);

        /** @return the result of everything accepted and merged */
        AnalysisResult finish();
    }

    /**
     * @param ctx the step's context (params, layers, data info); non-null
     * @return a fresh, empty accumulator
     */
    Accumulator start(AnalyzerContext<P> ctx);

    /** Runs the pass alone, on the calling thread; the runtime normally fuses streaming steps instead. */
    @Override
    default AnalysisResult analyze(AnalyzerContext<P> ctx) {
        LoadedModel model = ctx.requireModel();
        List<String> names = ctx.layers().stream().map(LayerInfo::name).toList();
        Accumulator acc = start(ctx);
        Iterator<Batch> it = ctx.requireData().batches(ctx.batchSize());
        while (it.hasNext() && !ctx.cancelled()) {
            Batch b = it.next();
            Map<String, Tensor> act = model.run(b.inputs(), names);
            acc.accept(new ActivationBatch(b, act));
            ctx.progress().advance(b.size());
        }
        return acc.finish();
    }
}
