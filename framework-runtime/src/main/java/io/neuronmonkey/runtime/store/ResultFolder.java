package io.neuronmonkey.runtime.store;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.NeuronMonkeyException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Reads back what a step wrote: {@code result.json} ({@code summary} plus an {@code arrays} index) and the
 * {@code .npy} files it lists, so analyzers can compare with results of earlier runs without parsing files themselves.
 */
public final class ResultFolder {

    private ResultFolder() {
    }

    /**
     * @param path a step folder or its result.json
     * @return the result as it was written
     */
    @SuppressWarnings("unchecked")
    public static AnalysisResult read(Path path) {
        Path json = Files.isDirectory(path) ? path.resolve("result.json") : path;
        if (!Files.isRegularFile(json)) {
            throw new AnalysisException("no result at " + path + ": expected a step folder of an earlier run, or its result.json");
        }
        try {
            Map<String, Object> file = Json.readMap(json);
            if (!(file.get("summary") instanceof Map<?, ?> summary)) {
                throw new AnalysisException(json + " is not a step result: it has no \"summary\" (a visualizer's folder?)");
            }
            Map<String, Tensor> arrays = new LinkedHashMap<>();
            if (file.get("arrays") instanceof Map<?, ?> index) {
                for (Map.Entry<?, ?> e : index.entrySet()) {
                    Object name = ((Map<String, Object>) e.getValue()).get("file");
                    arrays.put(String.valueOf(e.getKey()), Npy.read(json.getParent().resolve(String.valueOf(name))));
                }
            }
            return AnalysisResult.of((Map<String, Object>) summary, arrays);
        } catch (NeuronMonkeyException | ClassCastException e) {
            throw new AnalysisException("cannot read the result at " + json + ": " + e.getMessage(), e);
        }
    }
}
