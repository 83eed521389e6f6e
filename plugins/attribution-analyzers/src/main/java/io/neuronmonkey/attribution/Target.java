package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.model.GradientTarget;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * What an attribution explains, as written in YAML ({@code target:}):
 * <ul>
 *   <li>{@code predicted}: each example's predicted class (the arg-max logit at the input itself, kept fixed along
 *       any path to a baseline);</li>
 *   <li>{@code label}: each example's label;</li>
 *   <li>{@code class:NAME} or {@code class:INDEX}: one class for every example;</li>
 *   <li>{@code neuron:LAYER:INDEX}: a hidden neuron (for a spatial layer a channel, its value summed over
 *       positions).</li>
 * </ul>
 * {@link #parse} checks the syntax (in the params record); {@link #resolve} checks it against the model and data.
 *
 * @param kind  which of the four
 * @param name  the class name or index as written ({@code CLASS}), or the layer ({@code NEURON}); null otherwise
 * @param index the neuron index ({@code NEURON}), or -1
 */
public record Target(Kind kind, String name, int index) {

    /** The four kinds of target. */
    public enum Kind {
        PREDICTED, LABEL, CLASS, NEURON
    }

    /** The forms a target may take, for messages. */
    public static final String FORMS = "predicted, label, class:NAME (or class:INDEX), neuron:LAYER:INDEX";

    /**
     * @param spec the YAML value
     * @return the target, or empty when the value is not one of {@link #FORMS}
     */
    public static Optional<Target> parse(String spec) {
        if (spec == null) {
            return Optional.empty();
        }
        String s = spec.trim();
        String lower = s.toLowerCase(Locale.ROOT);
        if (lower.equals("predicted")) {
            return Optional.of(new Target(Kind.PREDICTED, null, -1));
        }
        if (lower.equals("label")) {
            return Optional.of(new Target(Kind.LABEL, null, -1));
        }
        if (lower.startsWith("class:") && s.length() > 6) {
            return Optional.of(new Target(Kind.CLASS, s.substring(6).trim(), -1));
        }
        if (lower.startsWith("neuron:")) {
            int colon = s.lastIndexOf(':');
            if (colon > 7) {
                try {
                    int i = Integer.parseInt(s.substring(colon + 1).trim());
                    String layer = s.substring(7, colon).trim();
                    if (i >= 0 && !layer.isEmpty()) {
                        return Optional.of(new Target(Kind.NEURON, layer, i));
                    }
                } catch (NumberFormatException e) {
                    return Optional.empty();
                }
            }
        }
        return Optional.empty();
    }

    /**
     * @param spec  the YAML value
     * @param field the params field, for the message
     * @return null when valid, else what is wrong
     */
    public static String problem(String spec, String field) {
        return parse(spec).isPresent() ? null
                : "must be one of " + FORMS + ", found '" + spec + "'";
    }

    /**
     * Checks the target against the model and the data.
     *
     * @param model the model
     * @param info  the data set (class names, labels)
     * @param step  the step id, for messages
     * @return the target bound to a layer and, for a class, its index
     * @throws AnalysisException naming the valid classes, layers or neuron range
     */
    public Bound resolve(LoadedModel model, DatasetInfo info, String step) {
        String logits = model.logitsLayer();
        switch (kind) {
            case PREDICTED, LABEL -> {
                return new Bound(this, logits, neuronsOf(model, logits, step), -1);
            }
            case CLASS -> {
                int classes = neuronsOf(model, logits, step);
                List<String> names = info.classNames();
                int c = names.indexOf(name);
                if (c < 0) {
                    try {
                        c = Integer.parseInt(name);
                    } catch (NumberFormatException e) {
                        c = -1;
                    }
                }
                if (c < 0 || c >= classes) {
                    throw new AnalysisException("step '" + step + "': target class '" + name + "' does not exist; valid: "
                            + (names.isEmpty() ? "" : String.join(", ", names) + " or ") + "0.." + (classes - 1));
                }
                return new Bound(this, logits, classes, c);
            }
            default -> {
                LayerInfo l = model.layer(name).orElseThrow(() -> new AnalysisException("step '" + step
                        + "': target layer '" + name + "' is not a layer of the model; layers: "
                        + String.join(", ", model.layers().stream().map(LayerInfo::name).toList())));
                int neurons = l.neurons();
                if (index >= neurons) {
                    throw new AnalysisException("step '" + step + "': target neuron " + index + " is outside layer '" + name
                            + "' (0.." + (neurons - 1) + ")");
                }
                return new Bound(this, l.name(), neurons, index);
            }
        }
    }

    private static int neuronsOf(LoadedModel model, String layer, String step) {
        return model.layer(layer).map(LayerInfo::neurons).orElseThrow(() -> new AnalysisException("step '" + step
                + "': the model's logits layer '" + layer + "' is not capturable"));
    }

    @Override
    public String toString() {
        return switch (kind) {
            case PREDICTED -> "predicted";
            case LABEL -> "label";
            case CLASS -> "class:" + name;
            case NEURON -> "neuron:" + name + ":" + index;
        };
    }

    /**
     * A target checked against a model: the layer it reads and, for a fixed class or neuron, its index.
     *
     * @param target  as written
     * @param layer   the layer whose neuron is explained (the logits for classes)
     * @param neurons the layer's neuron count
     * @param fixed   the class or neuron index for every row, or -1 when it depends on the row
     */
    public record Bound(Target target, String layer, int neurons, int fixed) {

        /**
         * The neuron explained for every row of a batch. For {@code predicted} this runs the model once on the batch
         * (pass {@code layerValues} to reuse a run that captured {@link #layer()}).
         *
         * @param model       the model
         * @param batch       the examples
         * @param layerValues the batch's values of {@link #layer()} if already captured, else null
         * @return one neuron index per row
         * @throws AnalysisException for {@code label} when an example has no label
         */
        public int[] rows(LoadedModel model, Batch batch, Tensor layerValues) {
            int n = batch.size();
            int[] idx = new int[n];
            switch (target.kind()) {
                case LABEL -> {
                    if (!batch.hasLabels()) {
                        throw new AnalysisException("target 'label' needs labelled data; this data set has no labels"
                                + " (use predicted or class:NAME)");
                    }
                    for (int r = 0; r < n; r++) {
                        if (batch.labels()[r] < 0 || batch.labels()[r] >= neurons) {
                            throw new AnalysisException("target 'label': example '" + batch.ids().get(r) + "' has label "
                                    + batch.labels()[r] + ", not a class of the model (0.." + (neurons - 1) + ")");
                        }
                        idx[r] = batch.labels()[r];
                    }
                }
                case PREDICTED -> {
                    Tensor v = layerValues != null ? layerValues : model.run(batch.modelInputs(), List.of(layer), List.of()).get(layer);
                    float[] sums = Values.perNeuron(v);
                    for (int r = 0; r < n; r++) {
                        int best = 0;
                        for (int c = 1; c < neurons; c++) {
                            if (sums[r * neurons + c] > sums[r * neurons + best]) {
                                best = c;
                            }
                        }
                        idx[r] = best;
                    }
                }
                default -> java.util.Arrays.fill(idx, fixed);
            }
            return idx;
        }

        /**
         * @param perRow the neuron of each row ({@link #rows})
         * @param repeat how many consecutive rows each entry stands for (e.g. interpolation steps)
         * @return the backend's gradient target: each row's neuron
         */
        public GradientTarget gradientTarget(int[] perRow, int repeat) {
            int[] idx = new int[perRow.length * repeat];
            for (int i = 0; i < perRow.length; i++) {
                java.util.Arrays.fill(idx, i * repeat, (i + 1) * repeat, perRow[i]);
            }
            return GradientTarget.perRow(layer, idx);
        }

        /**
         * @param captured a run's captures, including {@link #layer()}
         * @param perRow   the neuron of each row
         * @return the target's value per row (F(x)): the neuron's value, summed over positions
         */
        public float[] values(Map<String, Tensor> captured, int[] perRow) {
            float[] sums = Values.perNeuron(captured.get(layer));
            float[] out = new float[perRow.length];
            for (int r = 0; r < perRow.length; r++) {
                out[r] = sums[r * neurons + perRow[r]];
            }
            return out;
        }
    }
}
