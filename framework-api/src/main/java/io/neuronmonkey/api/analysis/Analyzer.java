package io.neuronmonkey.api.analysis;

import io.neuronmonkey.api.ApiStatus;
import org.pf4j.ExtensionPoint;

/**
 * One analysis. Referenced from YAML by its {@link io.neuronmonkey.api.ExtensionName} under {@code steps[i].analyzer};
 * {@code steps[i].params} is bound to {@code P}. Analyzers that make one pass over activations should implement
 * {@link StreamingAnalyzer} instead, so the runtime can share the pass with other steps.
 *
 * @param <P> the immutable params record ({@link io.neuronmonkey.api.NoParams} for none)
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public interface Analyzer<P extends Record> extends ExtensionPoint {

    /**
     * Runs the analysis.
     *
     * @param ctx model, data, layers, params and inputs of the step; non-null
     * @return the result; the runtime writes it to {@code <out>/<step-id>/}
     * @throws io.neuronmonkey.api.AnalysisException when the analysis cannot be done, saying why
     */
    AnalysisResult analyze(AnalyzerContext<P> ctx);
}
