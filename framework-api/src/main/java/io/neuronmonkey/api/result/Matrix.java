package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;

import java.util.List;
import java.util.Objects;

/**
 * A matrix with labelled axes: class x neuron means, a confusion matrix, neuron x histogram bin counts.
 *
 * @param id          part id
 * @param title       title
 * @param rows        the row axis
 * @param cols        the column axis
 * @param values      {@code [rows.name, cols.name]} values
 * @param unit        what the values are, e.g. {@code mean activation}, {@code count}; may be empty
 * @param layer       the layer whose neurons an axis named {@code neuron} indexes, or null
 * @param description how it was computed; may be empty
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public record Matrix(String id, String title, Axis rows, Axis cols, NdArray values, String unit, String layer,
                     String description) implements ResultPart {

    /**
     * Checks that the axes match the values.
     *
     * @param id part id
     * @param title title
     * @param rows the row axis
     * @param cols the column axis
     * @param values {@code [rows.name, cols.name]} values
     * @param unit what the values are, e.g. {@code mean activation}, {@code count}; may be empty
     * @param layer the layer whose neurons an axis named {@code neuron} indexes, or null
     * @param description how it was computed; may be empty
     */
    public Matrix {
        ResultPart.checkId(id);
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(cols, "cols");
        Objects.requireNonNull(values, "values");
        unit = unit == null ? "" : unit;
        description = description == null ? "" : description;
        int[] s = values.data().shape();
        if (s.length != 2 || s[0] != rows.size() || s[1] != cols.size()) {
            throw new IllegalArgumentException("matrix '" + id + "' values of shape " + java.util.Arrays.toString(s)
                    + " do not match axes of " + rows.size() + " x " + cols.size());
        }
        if (!values.dims().equals(List.of(rows.name(), cols.name()))) {
            throw new IllegalArgumentException("matrix '" + id + "' values must have dimensions [" + rows.name() + ", "
                    + cols.name() + "], found " + values.dims());
        }
    }

    /**
     * @param r row
     * @param c column
     * @return the value
     */
    public double get(int r, int c) {
        return values.get(r * cols.size() + c);
    }

    /**
     * One axis: a name, and either a label per position or, for binned axes, {@code size + 1} edges.
     *
     * @param name   dimension name, e.g. {@code class}, {@code neuron}, {@code bin}
     * @param labels one label per position
     * @param edges  bin edges ({@code labels.size() + 1}, ascending), or null
     */
    public record Axis(String name, List<String> labels, double[] edges) {

        /**
         * Checks the fields.
         *
         * @param name dimension name, e.g. {@code class}, {@code neuron}, {@code bin}
         * @param labels one label per position
         * @param edges bin edges ({@code labels.size() + 1}, ascending), or null
         */
        public Axis {
            Objects.requireNonNull(name, "name");
            labels = List.copyOf(labels);
            if (edges != null && edges.length != labels.size() + 1) {
                throw new IllegalArgumentException("axis '" + name + "' needs " + (labels.size() + 1) + " edges, found " + edges.length);
            }
            edges = edges == null ? null : edges.clone();
        }

        /**
         * @param name   name
         * @param labels labels
         * @return an axis without edges
         */
        public static Axis of(String name, List<String> labels) {
            return new Axis(name, labels, null);
        }

        /**
         * @param n neurons
         * @return an axis named {@code neuron} labelled 0..n-1
         */
        public static Axis neurons(int n) {
            return of("neuron", java.util.stream.IntStream.range(0, n).mapToObj(Integer::toString).toList());
        }

        /** @return the number of positions */
        public int size() {
            return labels.size();
        }

        /** @return the edges, a copy (the record keeps its own) */
        @Override
        public double[] edges() {
            return edges == null ? null : edges.clone();
        }
    }
}
