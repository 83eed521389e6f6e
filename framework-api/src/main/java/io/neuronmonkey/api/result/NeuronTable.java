package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;

import java.util.List;
import java.util.Objects;

/**
 * Per-neuron columns of one layer: one row per neuron, e.g. mean, firing rate, effect size, attribution. The report
 * draws the first column as a per-neuron chart and shows the table sortable; neuron cards gather every column.
 *
 * @param id          part id
 * @param title       title
 * @param layer       the layer, non-null
 * @param neurons     number of rows, {@code >= 0}
 * @param columns     the columns, each with {@code neurons} values; non-empty
 * @param tags        named neuron sets of this layer, e.g. {@code dead}; may be empty
 * @param description what the table shows and how it was computed; may be empty
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public record NeuronTable(String id, String title, String layer, int neurons, List<Column> columns, List<Tag> tags,
                          String description) implements ResultPart {

    /**
     * Checks that every column has one value per neuron.
     *
     * @param id part id
     * @param title title
     * @param layer the layer, non-null
     * @param neurons number of rows, {@code >= 0}
     * @param columns the columns, each with {@code neurons} values; non-empty
     * @param tags named neuron sets of this layer, e.g. {@code dead}; may be empty
     * @param description what the table shows and how it was computed; may be empty
     */
    public NeuronTable {
        ResultPart.checkId(id);
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(layer, "layer");
        columns = List.copyOf(columns);
        tags = List.copyOf(tags);
        description = description == null ? "" : description;
        if (columns.isEmpty()) {
            throw new IllegalArgumentException("neuron table '" + id + "' needs at least one column");
        }
        for (Column c : columns) {
            if (c.values().size() != neurons) {
                throw new IllegalArgumentException("neuron table '" + id + "' column '" + c.name() + "' has "
                        + c.values().size() + " values for " + neurons + " neurons");
            }
        }
        for (Tag t : tags) {
            for (int n : t.neurons()) {
                if (n < 0 || n >= neurons) {
                    throw new IllegalArgumentException("neuron table '" + id + "' tag '" + t.name() + "' names neuron "
                            + n + " of " + neurons);
                }
            }
        }
    }

    /**
     * @param name a column name
     * @return the column, if present
     */
    public java.util.Optional<Column> column(String name) {
        return columns.stream().filter(c -> c.name().equals(name)).findFirst();
    }

    /**
     * One column.
     *
     * @param name        short name, unique in the table, e.g. {@code mean}
     * @param unit        unit or scale, e.g. {@code activation}, {@code fraction}, {@code Cohen's d}; may be empty
     * @param description what the column means; may be empty
     * @param values      {@code ["neuron"]} values
     * @param low         lower interval bounds, {@code ["neuron"]}, or null
     * @param high        upper interval bounds, {@code ["neuron"]}, or null (present exactly when {@code low} is)
     */
    public record Column(String name, String unit, String description, NdArray values, NdArray low, NdArray high) {

        /**
         * Checks that the bounds come together and match the values.
         *
         * @param name short name, unique in the table, e.g. {@code mean}
         * @param unit unit or scale, e.g. {@code activation}, {@code fraction}, {@code Cohen's d}; may be empty
         * @param description what the column means; may be empty
         * @param values {@code ["neuron"]} values
         * @param low lower interval bounds, {@code ["neuron"]}, or null
         * @param high upper interval bounds, {@code ["neuron"]}, or null (present exactly when {@code low} is)
         */
        public Column {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(values, "values");
            unit = unit == null ? "" : unit;
            description = description == null ? "" : description;
            if ((low == null) != (high == null)) {
                throw new IllegalArgumentException("column '" + name + "': give both interval bounds or neither");
            }
            if (low != null && (low.size() != values.size() || high.size() != values.size())) {
                throw new IllegalArgumentException("column '" + name + "': interval bounds need one value per neuron");
            }
        }

        /**
         * @param name   name
         * @param unit   unit
         * @param values one value per neuron (ownership passes)
         * @return a column without intervals
         */
        public static Column of(String name, String unit, float[] values) {
            return new Column(name, unit, "", NdArray.perNeuron(values), null, null);
        }

        /** @return true when the column has interval bounds */
        public boolean hasInterval() {
            return low != null;
        }
    }

    /**
     * A named set of neurons, e.g. the dead ones.
     *
     * @param name        short name, e.g. {@code dead}
     * @param description the criterion, e.g. {@code never above 0 on any of the 4000 examples}
     * @param neurons     neuron indices, ascending
     */
    public record Tag(String name, String description, List<Integer> neurons) {

        /**
         * Defensive copy.
         *
         * @param name short name, e.g. {@code dead}
         * @param description the criterion, e.g. {@code never above 0 on any of the 4000 examples}
         * @param neurons neuron indices, ascending
         */
        public Tag {
            Objects.requireNonNull(name, "name");
            description = description == null ? "" : description;
            neurons = List.copyOf(neurons);
        }
    }
}
