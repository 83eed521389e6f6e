package io.neuronmonkey.api.analysis;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.RunEnvironment;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Everything one analyzer step gets: its params, the model, its data, its layers and the results it depends on.
 *
 * @param <P> the analyzer's params record
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface AnalyzerContext<P extends Record> extends RunEnvironment {

    /** @return the step id (also its output folder name) */
    String stepId();

    /** @return the validated params */
    P params();

    /** @return the experiment's model, if it declares one */
    Optional<LoadedModel> model();

    /** @return the model; throws naming the step when the experiment has none */
    default LoadedModel requireModel() {
        return model().orElseThrow(() -> new AnalysisException("step '" + stepId() + "' needs a model; add a 'model:' section"));
    }

    /** @return the step's data set ({@code steps[i].data}), if it names one */
    Optional<Dataset> data();

    /** @return the data; throws naming the step when it has none */
    default Dataset requireData() {
        return data().orElseThrow(() -> new AnalysisException("step '" + stepId() + "' needs data; add 'data: <name>'"));
    }

    /**
     * @return the name of the step's data set as the experiment declares it ({@code steps[i].data}), for messages and
     *         claims ({@code accuracy 0.97 on 4000 examples of 'probe'}); empty when the step has no data or the
     *         runtime does not tell
     * @since 0.3.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.3.0")
    default Optional<String> dataName() {
        return Optional.empty();
    }

    /**
     * Another data set of the experiment, by its name under {@code data:}, for analyzers that compare or pair two
     * sets of examples (activation patching: clean and corrupted inputs; concepts against random examples). Name it
     * in a param of the step; the step's own data stays {@link #data()}.
     *
     * @param name a data set name
     * @return the data set, or empty when the experiment has none of that name
     * @since 0.3.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.3.0")
    default Optional<Dataset> dataset(String name) {
        return Optional.empty();
    }

    /**
     * @return the names of every data set of the experiment, in declaration order (for messages)
     * @since 0.3.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.3.0")
    default List<String> datasetNames() {
        return List.of();
    }

    /**
     * Loads another model through the experiment's model backend and model params, e.g. one checkpoint of a
     * training series; the caller closes it.
     *
     * @param path the model's path, resolved like the experiment's other paths
     * @return the loaded model
     * @since 0.4.0
     */
    @ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.4.0")
    default LoadedModel loadModel(String path) {
        throw new AnalysisException("step '" + stepId() + "' needs to load the model '" + path
                + "', but this runtime cannot load other models for an analyzer");
    }

    /** @return the step's layers, checked against the model, in the order given; empty without a model */
    List<LayerInfo> layers();

    /** @return examples per model run, >= 1 */
    int batchSize();

    /** @return results of the steps named in {@code inputs:}, by step id, in that order */
    Map<String, AnalysisResult> inputs();

    /** @return a scratch folder for this step, deleted when the run ends */
    Path workDir();

    /**
     * Reads back a result that a run wrote to disk, e.g. a baseline from an earlier run to compare with.
     *
     * @param path a step's output folder or its {@code result.json}, already resolved (see {@link #resolve})
     * @return the summary and every array listed in the file
     * @throws AnalysisException when there is no readable result at {@code path}, naming it
     */
    default AnalysisResult readResult(Path path) {
        throw new AnalysisException("step '" + stepId() + "': this runtime cannot read results from disk (" + path + ")");
    }
}
