package io.neuronmonkey.api.data;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.ApiStatus;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;

/**
 * The examples a step explains: the data set filtered by {@code where:} (metadata key to value; the key
 * {@code class} matches the label's class name; a value {@code !v} matches every value but {@code v}) and cut at
 * {@code limit}, served in compact batches of at most the
 * given size, in data order. Filtering copies the kept rows once per batch (bulk row copies).
 * <p>
 * Analyzers that explain or compare chosen examples take {@code where:} and {@code limit:} params and read their data
 * through this class, so every analyzer filters the same way.
 *
 * @since 0.3.0
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.3.0")
public final class ExampleFilter {

    private final Dataset data;
    private final Map<String, String> where;
    private final long limit;

    /**
     * @param data  the data set
     * @param where metadata filter (may be empty)
     * @param limit the most examples to keep, >= 1
     * @param step  the step id, for messages
     * @throws AnalysisException when a key is neither {@code class} nor a metadata key of the data
     */
    public ExampleFilter(Dataset data, Map<String, String> where, long limit, String step) {
        this.data = data;
        this.where = where == null ? Map.of() : new LinkedHashMap<>(where);
        this.limit = limit;
        DatasetInfo info = data.info();
        for (String key : this.where.keySet()) {
            if (!key.equals("class") && !info.metadataKeys().contains(key)) {
                throw new AnalysisException("step '" + step + "': 'where' key '" + key + "' is not a metadata key of the data;"
                        + " valid: class" + (info.metadataKeys().isEmpty() ? "" : ", " + String.join(", ", info.metadataKeys())));
            }
        }
        String cls = this.where.get("class");
        cls = cls != null && cls.startsWith("!") ? cls.substring(1) : cls;
        if (cls != null && !info.classNames().contains(cls)) {
            throw new AnalysisException("step '" + step + "': 'where' class '" + cls + "' is not a class of the data; valid: "
                    + String.join(", ", info.classNames()));
        }
    }

    /** @return a description for results, e.g. {@code watermark=on, class=square (at most 64)} */
    public String describe() {
        List<String> parts = new ArrayList<>();
        where.forEach((k, v) -> parts.add(k + "=" + v));
        return (parts.isEmpty() ? "all examples" : String.join(", ", parts)) + (limit < Long.MAX_VALUE ? " (at most " + limit + ")" : "");
    }

    /**
     * @param batchSize the most examples per batch
     * @return the kept examples in batches of at most {@code batchSize}
     */
    public Iterator<Batch> batches(int batchSize) {
        List<String> classes = data.info().classNames();
        Iterator<Batch> source = data.batches(batchSize);
        return new Iterator<>() {
            long kept;
            Batch next;

            @Override
            public boolean hasNext() {
                while (next == null && kept < limit && source.hasNext()) {
                    Batch b = source.next();
                    int[] rows = new int[b.size()];
                    int m = 0;
                    for (int r = 0; r < b.size() && kept + m < limit; r++) {
                        if (matches(b, r, classes)) {
                            rows[m++] = r;
                        }
                    }
                    if (m > 0) {
                        next = m == b.size() ? b : select(b, java.util.Arrays.copyOf(rows, m));
                        kept += m;
                    }
                }
                return next != null;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                Batch b = next;
                next = null;
                return b;
            }
        };
    }

    private boolean matches(Batch b, int r, List<String> classes) {
        for (Map.Entry<String, String> e : where.entrySet()) {
            String v;
            if (e.getKey().equals("class")) {
                int label = b.hasLabels() ? b.labels()[r] : -1;
                v = label >= 0 && label < classes.size() ? classes.get(label) : null;
            } else {
                v = b.metadata().get(r).get(e.getKey());
            }
            String want = e.getValue();
            boolean ok = want.startsWith("!") ? !want.substring(1).equals(v) : want.equals(v);
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /**
     * @param b    a batch
     * @param r    a row of it
     * @return true when the row passes the filter
     */
    public boolean test(Batch b, int r) {
        return matches(b, r, data.info().classNames());
    }

    /**
     * @param b    a batch
     * @param rows rows to keep, ascending
     * @return a batch of those rows (offset of the first kept row)
     */
    public static Batch select(Batch b, int[] rows) {
        return b.select(rows);
    }
}
