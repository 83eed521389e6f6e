package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;

import java.util.List;
import java.util.Objects;

/**
 * Input-shaped maps, one per example: attributions, saliency, occlusion effects.
 *
 * @param id          part id
 * @param title       title
 * @param target      what the maps explain, e.g. {@code logit 'square'} or {@code conv2 #4}; non-null
 * @param exampleIds  one id per map
 * @param maps        {@code ["example", <input dims>...]} values
 * @param inputs      the inputs as fed, same shape as maps, or null
 * @param description method, baseline, steps; may be empty
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public record InputMaps(String id, String title, String target, List<String> exampleIds, NdArray maps, NdArray inputs,
                        String description) implements ResultPart {

    /**
     * Checks the fields.
     *
     * @param id part id
     * @param title title
     * @param target what the maps explain, e.g. {@code logit 'square'} or {@code conv2 #4}; non-null
     * @param exampleIds one id per map
     * @param maps {@code ["example", <input dims>...]} values
     * @param inputs the inputs as fed, same shape as maps, or null
     * @param description method, baseline, steps; may be empty
     */
    public InputMaps {
        ResultPart.checkId(id);
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(target, "target");
        exampleIds = List.copyOf(exampleIds);
        Objects.requireNonNull(maps, "maps");
        description = description == null ? "" : description;
        if (maps.dims().isEmpty() || !maps.dims().get(0).equals("example") || maps.data().dim(0) != exampleIds.size()) {
            throw new IllegalArgumentException("input maps '" + id + "' need dimensions [example, ...] with one map per id");
        }
        if (inputs != null && !java.util.Arrays.equals(inputs.data().shape(), maps.data().shape())) {
            throw new IllegalArgumentException("input maps '" + id + "': inputs and maps must have the same shape");
        }
    }
}
