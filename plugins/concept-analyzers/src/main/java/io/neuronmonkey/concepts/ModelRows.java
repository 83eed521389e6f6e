package io.neuronmonkey.concepts;

import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Joins the model inputs of examples kept from different batches into one batch (every input, any element type). */
final class ModelRows {

    private ModelRows() {
    }

    /**
     * @param parts model inputs with the same named inputs and row shapes
     * @return their rows one after the other (bulk copies)
     * @throws IllegalArgumentException when the parts do not have the same inputs
     */
    static ModelInputs concat(List<ModelInputs> parts) {
        ModelInputs first = parts.get(0);
        Map<String, Tensor> named = new LinkedHashMap<>();
        for (String key : first.named().keySet()) {
            List<Tensor> t = new ArrayList<>(parts.size());
            for (ModelInputs m : parts) {
                Tensor v = m.named().get(key);
                if (v == null) {
                    throw new IllegalArgumentException("cannot join model inputs: input '" + key + "' is missing in some of them");
                }
                t.add(v);
            }
            named.put(key, concatTensors(t));
        }
        return new ModelInputs(concatTensors(parts.stream().map(ModelInputs::primary).toList()), named);
    }

    private static Tensor concatTensors(List<Tensor> parts) {
        Tensor first = parts.get(0);
        int rows = 0;
        for (Tensor t : parts) {
            if (t.dtype() != first.dtype() || t.rowSize() != first.rowSize() || t.rank() != first.rank()) {
                throw new IllegalArgumentException("cannot join tensors " + first + " and " + t);
            }
            rows += t.rows();
        }
        int[] shape = first.shape();
        shape[0] = rows;
        int n = rows * first.rowSize();
        Object out = switch (first.dtype()) {
            case FLOAT32 -> new float[n];
            case INT32 -> new int[n];
            case INT64 -> new long[n];
            case STRING -> new String[n];
        };
        int at = 0;
        for (Tensor t : parts) {
            Object src = switch (t.dtype()) {
                case FLOAT32 -> t.floats();
                case INT32 -> t.ints();
                case INT64 -> t.longs();
                case STRING -> t.strings();
            };
            System.arraycopy(src, 0, out, at, t.size());
            at += t.size();
        }
        return switch (first.dtype()) {
            case FLOAT32 -> Tensor.ofFloats((float[]) out, shape);
            case INT32 -> Tensor.ofInts((int[]) out, shape);
            case INT64 -> Tensor.ofLongs((long[]) out, shape);
            case STRING -> Tensor.ofStrings((String[]) out, shape);
        };
    }
}
