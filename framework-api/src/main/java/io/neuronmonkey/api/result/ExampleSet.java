package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Per neuron of one layer, the examples that drive it most (or least), with their ids, values, labels, metadata and
 * the input region that a spatial position covers; optionally copies of the inputs, for pictures.
 *
 * @param id         part id
 * @param title      title
 * @param layer      the layer
 * @param order      {@code top} (largest first) or {@code bottom} (smallest first)
 * @param value      what the value is, e.g. {@code max over positions}; non-null
 * @param neurons    one entry per neuron that has examples, ascending neuron index
 * @param inputs     {@code ["neuron", "rank", <input dims>...]} copies of the inputs as fed, NaN where a rank is empty;
 *                   or null
 * @param classNames label index to name; may be empty
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public record ExampleSet(String id, String title, String layer, String order, String value, List<NeuronExamples> neurons,
                         NdArray inputs, List<String> classNames) implements ResultPart {

    /**
     * Checks the fields.
     *
     * @param id part id
     * @param title title
     * @param layer the layer
     * @param order {@code top} (largest first) or {@code bottom} (smallest first)
     * @param value what the value is, e.g. {@code max over positions}; non-null
     * @param neurons one entry per neuron that has examples, ascending neuron index
     * @param inputs {@code ["neuron", "rank", <input dims>...]} copies of the inputs as fed, NaN where a rank is empty;
     *              or null
     * @param classNames label index to name; may be empty
     */
    public ExampleSet {
        ResultPart.checkId(id);
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(layer, "layer");
        if (!"top".equals(order) && !"bottom".equals(order)) {
            throw new IllegalArgumentException("example set order must be top or bottom, found " + order);
        }
        Objects.requireNonNull(value, "value");
        neurons = List.copyOf(neurons);
        classNames = List.copyOf(classNames);
        if (inputs != null && (inputs.dims().size() < 3 || !inputs.dims().get(0).equals("neuron")
                || !inputs.dims().get(1).equals("rank"))) {
            throw new IllegalArgumentException("example set inputs need dimensions [neuron, rank, ...], found " + inputs.dims());
        }
    }

    /**
     * @param neuron a neuron index
     * @return its examples, if any
     */
    public java.util.Optional<NeuronExamples> of(int neuron) {
        return neurons.stream().filter(n -> n.neuron() == neuron).findFirst();
    }

    /**
     * The examples of one neuron.
     *
     * @param neuron   neuron index
     * @param examples by rank, first is rank 1
     */
    public record NeuronExamples(int neuron, List<Example> examples) {

        /**
         * Defensive copy.
         *
         * @param neuron neuron index
         * @param examples by rank, first is rank 1
         */
        public NeuronExamples {
            examples = List.copyOf(examples);
        }
    }

    /**
     * One example.
     *
     * @param rank     1-based rank
     * @param index    the example's position in its data set, {@code >= 0}
     * @param exampleId the data source's example id, non-null
     * @param value    the neuron's value on it
     * @param label    its label index, or null when unlabelled
     * @param metadata its metadata (String, Number or Boolean values); may be empty
     * @param position {@code [row, col]} in the layer's grid of the value, {@code [p]} the token position of a text example, or null for dense layers
     * @param region   {@code [top, left, bottom, right]} (inclusive) input pixels the position covers, or null
     * @param text     for a text example, the tokens around the one that fired with the neuron's value on each; null
     *                 otherwise
     */
    public record Example(int rank, long index, String exampleId, double value, Integer label, Map<String, Object> metadata,
                          int[] position, int[] region, TextContext text) {

        /**
         * An example that is not text.
         *
         * @param rank     1-based rank
         * @param index    the example's position in its data set
         * @param exampleId the data source's example id
         * @param value    the neuron's value on it
         * @param label    its label index, or null when unlabelled
         * @param metadata its metadata; may be empty
         * @param position {@code [row, col]} of the value, or null for dense layers
         * @param region   input pixels the position covers, or null
         */
        public Example(int rank, long index, String exampleId, double value, Integer label, Map<String, Object> metadata,
                       int[] position, int[] region) {
            this(rank, index, exampleId, value, label, metadata, position, region, null);
        }

        /**
         * An unmodifiable copy of metadata, in its iteration order, that examples keep by reference: an analyzer that
         * lists one example under many neurons makes it once and hands the same map to each (a copy per example is a
         * large share of building the top examples of a wide layer). The constructor copies any other map.
         *
         * @param metadata the metadata, or null for none
         * @return the shared copy; the argument itself when it is one already
         */
        public static Map<String, Object> sharedMetadata(Map<String, Object> metadata) {
            if (metadata == null || metadata.isEmpty()) {
                return Map.of();
            }
            return metadata instanceof Shared ? metadata : new Shared(metadata);
        }

        /** The unmodifiable, ordered metadata maps examples share. */
        private static final class Shared extends java.util.AbstractMap<String, Object> {
            private final Map<String, Object> map;

            Shared(Map<String, Object> source) {
                map = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(source));
            }

            @Override
            public java.util.Set<Map.Entry<String, Object>> entrySet() {
                return map.entrySet();
            }

            @Override
            public Object get(Object key) {
                return map.get(key);
            }

            @Override
            public boolean containsKey(Object key) {
                return map.containsKey(key);
            }

            @Override
            public int size() {
                return map.size();
            }
        }

        /**
         * Defensive copies (metadata made by {@link #sharedMetadata} is kept by reference).
         *
         * @param rank 1-based rank
         * @param index the example's position in its data set, {@code >= 0}
         * @param exampleId the data source's example id, non-null
         * @param value the neuron's value on it
         * @param label its label index, or null when unlabelled
         * @param metadata its metadata (String, Number or Boolean values); may be empty
         * @param position {@code [row, col]} in the layer's grid of the value, {@code [p]} the token position of a text example, or null for dense layers
         * @param region {@code [top, left, bottom, right]} (inclusive) input pixels the position covers, or null
         * @param text the text window around the token that fired, or null when the example is not text
         */
        public Example {
            Objects.requireNonNull(exampleId, "exampleId");
            metadata = sharedMetadata(metadata);
            position = position == null ? null : position.clone();
            region = region == null ? null : region.clone();
        }

        /** @return the position, a copy (the record keeps its own) */
        @Override
        public int[] position() {
            return position == null ? null : position.clone();
        }

        /** @return the region, a copy (the record keeps its own) */
        @Override
        public int[] region() {
            return region == null ? null : region.clone();
        }
    }

    /**
     * A window of a text example around a token: the pieces of text in order (each token's surface with the text
     * before it since the previous token, so that joining the pieces gives the window's text) and the neuron's value
     * at each token, for shading.
     *
     * @param pieces per token of the window its text, non-null
     * @param values per token of the window the neuron's value (NaN where not observed)
     * @param focus  the index in the window of the token that fired
     * @param first  the sequence position of the window's first token
     */
    public record TextContext(List<String> pieces, float[] values, int focus, int first) {

        /**
         * Checks one value per piece and the focus inside the window.
         *
         * @param pieces per token of the window its text
         * @param values per token of the window the neuron's value
         * @param focus  the index in the window of the token that fired
         * @param first  the sequence position of the window's first token
         */
        public TextContext {
            pieces = List.copyOf(pieces);
            values = values.clone();
            if (values.length != pieces.size() || focus < 0 || focus >= pieces.size() || first < 0) {
                throw new IllegalArgumentException("text context of " + pieces.size() + " pieces needs as many values ("
                        + values.length + ") and a focus inside it (" + focus + ")");
            }
        }

        /** @return the values, a copy */
        @Override
        public float[] values() {
            return values.clone();
        }

        /** @return the text of the token that fired, trimmed */
        public String token() {
            return pieces.get(focus).strip();
        }
    }
}
