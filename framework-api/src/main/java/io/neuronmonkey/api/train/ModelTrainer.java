package io.neuronmonkey.api.train;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.analysis.AnalysisResult;
import org.pf4j.ExtensionPoint;

/**
 * Trains a model and saves it in a format a {@link io.neuronmonkey.api.model.ModelBackend} loads. Referenced from a
 * training YAML by its {@link io.neuronmonkey.api.ExtensionName} under {@code trainer.type}.
 *
 * @param <P> the immutable params record
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.1.0")
public interface ModelTrainer<P extends Record> extends ExtensionPoint {

    /**
     * @param ctx params, data sets and the output folder; non-null
     * @return metrics (for example accuracy per evaluation data set)
     */
    AnalysisResult train(TrainerContext<P> ctx);
}
