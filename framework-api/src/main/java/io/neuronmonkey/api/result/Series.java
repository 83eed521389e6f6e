package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;

import java.util.List;
import java.util.Objects;

/**
 * Curves over a shared x axis, each with an optional band: ablation curves, deletion curves, training curves.
 *
 * @param id          part id
 * @param title       title
 * @param x           x axis label, e.g. {@code neurons removed}
 * @param y           y axis label, e.g. {@code accuracy}
 * @param curves      the curves, non-empty
 * @param description how they were computed; may be empty
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public record Series(String id, String title, String x, String y, List<Curve> curves, String description)
        implements ResultPart {

    /**
     * Checks the fields.
     *
     * @param id part id
     * @param title title
     * @param x x axis label, e.g. {@code neurons removed}
     * @param y y axis label, e.g. {@code accuracy}
     * @param curves the curves, non-empty
     * @param description how they were computed; may be empty
     */
    public Series {
        ResultPart.checkId(id);
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(y, "y");
        curves = List.copyOf(curves);
        description = description == null ? "" : description;
        if (curves.isEmpty()) {
            throw new IllegalArgumentException("series '" + id + "' needs at least one curve");
        }
    }

    /**
     * One curve.
     *
     * @param name name (legend)
     * @param x    {@code ["point"]} x values
     * @param y    {@code ["point"]} y values, as many as x
     * @param low  band lower bounds, or null
     * @param high band upper bounds, or null (present exactly when low is)
     */
    public record Curve(String name, NdArray x, NdArray y, NdArray low, NdArray high) {

        /**
         * Checks lengths.
         *
         * @param name name (legend)
         * @param x {@code ["point"]} x values
         * @param y {@code ["point"]} y values, as many as x
         * @param low band lower bounds, or null
         * @param high band upper bounds, or null (present exactly when low is)
         */
        public Curve {
            Objects.requireNonNull(name, "name");
            if (x.size() != y.size()) {
                throw new IllegalArgumentException("curve '" + name + "' has " + x.size() + " x and " + y.size() + " y values");
            }
            if ((low == null) != (high == null) || low != null && (low.size() != y.size() || high.size() != y.size())) {
                throw new IllegalArgumentException("curve '" + name + "': a band needs both bounds, one per point");
            }
        }

        /**
         * @param name name
         * @param x    x values (ownership passes)
         * @param y    y values (ownership passes)
         * @return a curve without band
         */
        public static Curve of(String name, float[] x, float[] y) {
            return new Curve(name, NdArray.of(io.neuronmonkey.api.tensor.Tensor.ofFloats(x, x.length), "point"),
                    NdArray.of(io.neuronmonkey.api.tensor.Tensor.ofFloats(y, y.length), "point"), null, null);
        }
    }
}
