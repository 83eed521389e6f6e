package io.neuronmonkey.api.train;

import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.RunEnvironment;
import io.neuronmonkey.api.data.Dataset;

import java.nio.file.Path;
import java.util.Map;

/**
 * What a {@link ModelTrainer} gets.
 *
 * @param <P> the trainer's params record
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.1.0")
public interface TrainerContext<P extends Record> extends RunEnvironment {

    /** @return the validated params */
    P params();

    /** @return the training data ({@code data.train}) */
    Dataset trainData();

    /** @return every other data set of the file, by name, for evaluation */
    Map<String, Dataset> evaluationData();

    /** @return an empty folder to save the model into; the runtime moves it into place when training succeeds */
    Path outputDir();

    /** @return where to report training curves (loss per step and the like); never null, {@link TrainingMetrics#NONE} unless a live page listens */
    default TrainingMetrics metrics() {
        return TrainingMetrics.NONE;
    }
}
