package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.model.ModelInputs;
import io.neuronmonkey.api.tensor.DType;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
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
        int n = in.rows();
        int[] rows = new int[n * times];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i % n;
        }
        return in.select(rows);
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
