package io.neuronmonkey.runtime.pipeline;

import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.model.LoadedModel;

import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Rides along the first fused pass over a labelled data set that no {@code evaluate} step reads, so that every run
 * says whether the model is loaded right: labels against the argmax of the logits, one line. A consumer of the pass
 * like the analyzers (its own lane, every batch in data order), so its count is the same for any thread count.
 */
final class PassAccuracy implements FusedPass.Consumer {

    /** The analyzer that reports accuracy in full; where a step runs it, this line is not needed. */
    static final String EVALUATE = "evaluate";

    private final String data;
    private final String logits;
    private final int classes;
    private long correct;
    private long counted;

    private PassAccuracy(String data, String logits, int classes) {
        this.data = data;
        this.logits = logits;
        this.classes = classes;
    }

    /** @return a counter for a pass over {@code dataName}, when the data has labels and the model a vector of logits */
    static Optional<PassAccuracy> of(PreparedExperiment exp, String dataName, boolean labelled) {
        LoadedModel model = exp.model();
        if (model == null || !labelled || exp.steps().stream().anyMatch(s -> s.extension() != null
                && EVALUATE.equals(s.extension().name()) && dataName.equals(s.data()))) {
            return Optional.empty();
        }
        return model.layer(model.logitsLayer()).filter(l -> l.positions() == 1 && l.neurons() >= 2)
                .map(l -> new PassAccuracy(dataName, l.name(), l.neurons()));
    }

    @Override
    public String id() {
        return "(accuracy of '" + data + "')";
    }

    @Override
    public List<String> layers() {
        return List.of(logits);
    }

    @Override
    public void accept(ActivationBatch batch) {
        int[] labels = batch.batch().labels();
        if (labels == null) {
            return;
        }
        float[] s = batch.activation(logits).floats();
        for (int e = 0; e < labels.length; e++) {
            if (labels[e] < 0) {
                continue;
            }
            int best = -1;
            for (int c = 0; c < classes; c++) {
                float v = s[e * classes + c];
                if (Float.isNaN(v)) {
                    best = -1;
                    break;
                }
                if (best < 0 || v > s[e * classes + best]) {
                    best = c;
                }
            }
            counted++;
            correct += best == labels[e] ? 1 : 0;
        }
    }

    /** @return {@code accuracy on 'probe': 0.9950 (3980 of 4000), labels vs argmax of 'logits'}, or empty when none counted */
    Optional<String> line() {
        return counted == 0 ? Optional.empty() : Optional.of(String.format(Locale.ROOT,
                "accuracy on '%s': %.4f (%d of %d), labels vs argmax of '%s'", data, (double) correct / counted, correct,
                counted, logits));
    }
}
