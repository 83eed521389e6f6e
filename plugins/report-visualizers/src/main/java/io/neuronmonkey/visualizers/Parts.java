package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.ResultPart;
import io.neuronmonkey.api.visual.StepOutput;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * Finds typed result parts among a visualizer's inputs. Visualizers select parts by kind and shape (a matrix whose
 * axes are neuron x bin is a histogram, one with a neuron axis and a labelled axis a heatmap), never by which analyzer
 * wrote them, so any analyzer that speaks the vocabulary is drawn.
 */
final class Parts {

    private Parts() {
    }

    /**
     * A part with the step and result it came from.
     *
     * @param step   the step
     * @param result its result
     * @param part   the part
     * @param <T>    the part type
     */
    record Found<T extends ResultPart>(StepOutput step, AnalysisResult result, T part) {

        /** @return {@code step: title} */
        String caption() {
            return step.stepId() + ": " + part.title();
        }
    }

    /**
     * @param inputs the visualizer's inputs
     * @param type   the part type
     * @param keep   which parts to keep
     * @param <T>    the part type
     * @return every matching part of every input, in input and part order
     */
    static <T extends ResultPart> List<Found<T>> all(List<StepOutput> inputs, Class<T> type, Predicate<T> keep) {
        List<Found<T>> out = new ArrayList<>();
        for (StepOutput in : inputs) {
            if (in.result().isEmpty()) {
                continue;
            }
            AnalysisResult r = in.result().get();
            for (T p : r.parts(type)) {
                if (keep.test(p)) {
                    out.add(new Found<>(in, r, p));
                }
            }
        }
        return out;
    }

    /**
     * Keeps the parts of the named layers, failing when a name matches none.
     *
     * @param found      candidate parts
     * @param filter     layer names, or null for all
     * @param layerOf    a part's layer (null when it has none)
     * @param visualizer for messages
     * @param <T>        the part type
     * @return the kept parts
     */
    static <T extends ResultPart> List<Found<T>> ofLayers(List<Found<T>> found, List<String> filter,
                                                         Function<T, String> layerOf, String visualizer) {
        if (filter == null) {
            return found;
        }
        Set<String> known = new LinkedHashSet<>();
        found.forEach(f -> known.add(String.valueOf(layerOf.apply(f.part()))));
        List<String> missing = filter.stream().filter(f -> !known.contains(f)).toList();
        if (!missing.isEmpty()) {
            throw new OutputException(visualizer + " params.layers names " + missing
                    + " which no input part has; layers there: " + String.join(", ", known));
        }
        return found.stream().filter(f -> filter.contains(layerOf.apply(f.part()))).toList();
    }

    /**
     * @param visualizer the visualizer
     * @param wanted     what it draws, e.g. {@code neuron x bin matrices (histograms)}
     * @param inputs     its inputs
     * @return the error for inputs that have nothing to draw, listing them with the kinds of parts they have
     */
    static OutputException nothingToDraw(String visualizer, String wanted, List<StepOutput> inputs) {
        List<String> seen = new ArrayList<>();
        for (StepOutput in : inputs) {
            Set<String> kinds = new LinkedHashSet<>();
            in.result().ifPresent(r -> r.parts().forEach(p -> kinds.add(p.kind())));
            seen.add(in.stepId() + " (" + in.extension() + (kinds.isEmpty() ? "" : ": " + String.join(", ", kinds)) + ")");
        }
        return new OutputException(visualizer + " draws " + wanted + ", but no input has one; inputs: "
                + (seen.isEmpty() ? "none" : String.join(", ", seen)));
    }

    /** @return true for a matrix of per-neuron histograms: rows named {@code neuron}, columns {@code bin} with edges */
    static boolean isHistogram(Matrix m) {
        return m.rows().name().equals("neuron") && m.cols().name().equals("bin") && m.cols().edges() != null;
    }

    /** @return true for a matrix of one labelled axis (class, metadata value) by neuron */
    static boolean isGroupByNeuron(Matrix m) {
        return m.cols().name().equals("neuron") && !m.rows().name().equals("neuron") && m.rows().edges() == null;
    }

    /**
     * @param result a result
     * @param layer  a layer
     * @return the first neuron table of that layer in the result
     */
    static Optional<NeuronTable> table(AnalysisResult result, String layer) {
        return result.parts(NeuronTable.class).stream().filter(t -> t.layer().equals(layer)).findFirst();
    }
}
