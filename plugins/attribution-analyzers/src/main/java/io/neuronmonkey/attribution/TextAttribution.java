package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * What the attribution analyzers share for text and other non-float inputs: the refusal of methods that perturb a
 * float input, the text pieces of a highlighted example, row replication of every model input, and a pass over the
 * selected examples that keeps each example's index in the data set.
 */
final class TextAttribution {

    /** The methods that work on token ids or raw text, named when a float-input method is refused. */
    static final String TEXT_METHODS = "integrated-gradients with 'layer: embedding' (or another float layer),"
            + " occlusion (one token at a time), ablation, activation-patching";

    private TextAttribution() {
    }

    /**
     * Refuses a method that changes the primary input's values when that input is not FLOAT32 (token ids, text).
     *
     * @param step   the step id
     * @param method the method as users know it, e.g. {@code saliency}
     * @param info   the data
     * @throws AnalysisException naming the input type and the methods that work on text
     */
    static void requireFloatInput(String step, String method, DatasetInfo info) {
        if (info.inputType() != DType.FLOAT32) {
            throw new AnalysisException("step '" + step + "': " + method + " perturbs the values of a float input, and"
                    + " this data's primary input is " + info.inputType() + (info.text() ? " (token ids or raw text)" : "")
                    + "; on text use " + TEXT_METHODS);
        }
    }

    /**
     * The pieces of a highlighted text: per token its surface with the text before it since the previous token (the
     * token string itself for a special token), so that joining the pieces gives the text up to the last token.
     *
     * @param t an example's tokens
     * @return one piece per token
     */
    static List<String> pieces(Tokens t) {
        List<String> out = new ArrayList<>(t.length());
        int prev = 0;
        for (int i = 0; i < t.length(); i++) {
            if (t.start(i) < 0) {
                out.add(t.tokens().get(i));
            } else {
                int from = Math.min(prev, t.start(i));
                out.add(t.text().substring(from, t.end(i)));
                prev = Math.max(prev, t.end(i));
            }
        }
        return out;
    }

    /**
     * @param in    a batch's model inputs
     * @param times how many copies, >= 1
     * @return every input repeated block after block ({@code times * n} rows, bulk copies)
     */
    static ModelInputs repeat(ModelInputs in, int times) {
        if (times == 1) {
            return in;
        }
        return in.select(repeatedRows(in.rows(), times));
    }

    /**
     * @param n     rows of a batch
     * @param times how many copies
     * @return the rows {@code 0..n-1} repeated {@code times} times, block after block
     */
    static int[] repeatedRows(int n, int times) {
        int[] rows = new int[n * times];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i % n;
        }
        return rows;
    }

    /**
     * @param base     a batch's model inputs
     * @param examples per new row the example (row of {@code base}) it belongs to
     * @param primary  the new rows' primary input (e.g. perturbed or interpolated copies)
     * @return the primary with each row's named inputs (attention mask, ...) copied from its example; no copy for a
     *         single-input model
     */
    static ModelInputs rowsOf(ModelInputs base, int[] examples, Tensor primary) {
        if (base.named().isEmpty()) {
            return ModelInputs.of(primary);
        }
        Map<String, Tensor> named = new LinkedHashMap<>();
        base.named().forEach((k, v) -> named.put(k, v.select(examples)));
        return new ModelInputs(primary, named);
    }

    /**
     * Adds each observed position's neuron values of a captured layer into per-neuron sums: every position of image
     * data, the real tokens of text (padding never counts).
     *
     * @param layer a captured layer {@code [n, positions..., neurons]}
     * @param batch the batch it was captured on
     * @param sum   per neuron, updated in place
     * @return the number of positions added
     */
    static long addPositions(Tensor layer, Batch batch, double[] sum) {
        int neurons = sum.length;
        float[] v = layer.floats();
        int positions = layer.rows() == 0 ? 0 : layer.rowSize() / neurons;
        boolean[] real = batch.positionMask(positions);
        long count = 0;
        for (int i = 0; i < layer.rows() * positions; i++) {
            if (real != null && !real[i]) {
                continue;
            }
            for (int c = 0; c < neurons; c++) {
                sum[c] += v[i * neurons + c];
            }
            count++;
        }
        return count;
    }

    /**
     * @param parts model inputs with the same named inputs and row shapes
     * @return their rows one after the other (bulk copies)
     * @throws AnalysisException when the parts do not have the same inputs
     */
    static ModelInputs concat(List<ModelInputs> parts) {
        ModelInputs first = parts.get(0);
        Map<String, Tensor> named = new LinkedHashMap<>();
        for (String key : first.named().keySet()) {
            List<Tensor> t = new ArrayList<>(parts.size());
            for (ModelInputs m : parts) {
                Tensor v = m.named().get(key);
                if (v == null) {
                    throw new AnalysisException("cannot join model inputs: input '" + key + "' is missing in some of them");
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
                throw new AnalysisException("cannot join tensors " + first + " and " + t);
            }
            rows += t.rows();
        }
        int[] shape = first.shape();
        shape[0] = rows;
        int rs = first.rowSize();
        Object out = switch (first.dtype()) {
            case FLOAT32 -> new float[rows * rs];
            case INT32 -> new int[rows * rs];
            case INT64 -> new long[rows * rs];
            case STRING -> new String[rows * rs];
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

    /**
     * A batch of selected examples with each one's index in the data set.
     *
     * @param batch   the examples
     * @param indices per row its position in the data set
     */
    record Indexed(Batch batch, long[] indices) {
    }

    /**
     * The examples a filter keeps, in batches, each row with its index in the data set (the filter's own batches
     * lose it).
     *
     * @param data      the data
     * @param filter    the filter (its {@code where:} and {@code limit})
     * @param limit     the most examples
     * @param batchSize the most examples per batch
     * @return the batches
     */
    static Iterator<Indexed> batches(Dataset data, ExampleFilter filter, long limit, int batchSize) {
        Iterator<Batch> source = data.batches(batchSize);
        return new Iterator<>() {
            long kept;
            Indexed next;

            @Override
            public boolean hasNext() {
                while (next == null && kept < limit && source.hasNext()) {
                    Batch b = source.next();
                    int[] rows = new int[b.size()];
                    int m = 0;
                    for (int r = 0; r < b.size() && kept + m < limit; r++) {
                        if (filter.test(b, r)) {
                            rows[m++] = r;
                        }
                    }
                    if (m > 0) {
                        long[] idx = new long[m];
                        for (int i = 0; i < m; i++) {
                            idx[i] = b.offset() + rows[i];
                        }
                        next = new Indexed(m == b.size() ? b : b.select(java.util.Arrays.copyOf(rows, m)), idx);
                        kept += m;
                    }
                }
                return next != null;
            }

            @Override
            public Indexed next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Indexed b = next;
                next = null;
                return b;
            }
        };
    }
}
