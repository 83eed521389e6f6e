package io.neuronmonkey.stats;

import java.util.List;

/**
 * Adds a batch of reduced values {@code [n, neurons]} into per-group exact moments (one {@link ExactMoments} per
 * group, a slot per neuron), the groups given per row: rows are ordered by group and transposed to neuron-major once,
 * so each (group, neuron) is one contiguous run for {@link ExactMoments#addRun}. Non-finite values are left out, as
 * value by value; the sums are exact, so the result is the same as adding each value in row order. Scratch is reused;
 * one instance per thread.
 */
final class GroupedMoments implements java.io.Serializable {

    private static final long serialVersionUID = 1L;

    private int[] order = new int[0];
    private int[] start = new int[0];
    private float[] columns = new float[0];

    /**
     * @param v       reduced values, row-major {@code [n, neurons]}
     * @param group   per row its group, or -1 to leave the row out
     * @param targets the moments of each group
     */
    void add(float[] v, int n, int neurons, int[] group, List<ExactMoments> targets) {
        int groups = targets.size();
        if (start.length < groups + 1) {
            start = new int[groups + 1];
        }
        if (order.length < n) {
            order = new int[n];
        }
        int[] size = new int[groups];
        for (int e = 0; e < n; e++) {
            if (group[e] >= 0) {
                size[group[e]]++;
            }
        }
        int rows = 0;
        for (int g = 0; g < groups; g++) {
            start[g] = rows;
            rows += size[g];
        }
        start[groups] = rows;
        int[] next = new int[groups];
        for (int g = 0; g < groups; g++) {
            next[g] = start[g];
        }
        for (int e = 0; e < n; e++) {
            if (group[e] >= 0) {
                order[next[group[e]]++] = e;
            }
        }
        if (rows == 0) {
            return;
        }
        if (columns.length < rows * neurons) {
            columns = new float[rows * neurons];
        }
        float[] col = columns;
        for (int c0 = 0; c0 < neurons; c0 += 64) {
            int c1 = Math.min(neurons, c0 + 64);
            for (int j = 0; j < rows; j++) {
                int src = order[j] * neurons;
                for (int c = c0; c < c1; c++) {
                    col[c * rows + j] = v[src + c];
                }
            }
        }
        for (int c = 0; c < neurons; c++) {
            int off = c * rows;
            for (int g = 0; g < groups; g++) {
                int from = off + start[g];
                int to = off + start[g + 1];
                if (from == to) {
                    continue;
                }
                boolean finite = true;
                for (int i = from; i < to; i++) {
                    finite &= col[i] - col[i] == 0;
                }
                ExactMoments m = targets.get(g);
                if (finite) {
                    m.addRun(c, col, from, to);
                } else {
                    for (int i = from; i < to; i++) {
                        if (Float.isFinite(col[i])) {
                            m.add(c, col[i]);
                        }
                    }
                }
            }
        }
    }
}
