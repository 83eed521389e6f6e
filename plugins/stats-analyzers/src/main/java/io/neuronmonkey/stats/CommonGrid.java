package io.neuronmonkey.stats;

import java.util.ArrayList;
import java.util.List;

/**
 * Puts the per-neuron histograms of a layer on one grid (the coarsest level among them, widened until the union
 * fits), so neurons can be compared and pooled. The grid covers the occupied span: at most the requested bins.
 */
final class CommonGrid {

    private final int bins;
    private final int level;
    private final long start;
    private final float[] perNeuron;
    private final long[] pooled;

    private CommonGrid(int bins, int level, long start, float[] perNeuron, long[] pooled) {
        this.bins = bins;
        this.level = level;
        this.start = start;
        this.perNeuron = perNeuron;
        this.pooled = pooled;
    }

    static CommonGrid of(DoublingHistogram[] hists, int bins) {
        int level = 0;
        for (DoublingHistogram h : hists) {
            if (!h.isEmpty()) {
                level = Math.max(level, h.level());
            }
        }
        long lo;
        long hi;
        while (true) {
            lo = Long.MAX_VALUE;
            hi = Long.MIN_VALUE;
            for (DoublingHistogram h : hists) {
                if (!h.isEmpty()) {
                    lo = Math.min(lo, h.lo() >> (level - h.level()));
                    hi = Math.max(hi, h.hi() >> (level - h.level()));
                }
            }
            if (lo == Long.MAX_VALUE || hi - lo + 1 <= bins) {
                break;
            }
            level++;
        }
        if (lo == Long.MAX_VALUE) {
            lo = 0;
            hi = 0;
        }
        // emit the occupied span only (at most `bins` bins): no empty padding on either side
        long start = lo;
        bins = (int) (hi - lo + 1);
        float[] per = new float[hists.length * bins];
        long[] pooled = new long[bins];
        for (int c = 0; c < hists.length; c++) {
            DoublingHistogram h = hists[c];
            if (h.isEmpty()) {
                continue;
            }
            int shift = level - h.level();
            for (long i = h.lo(); i <= h.hi(); i++) {
                long cnt = h.count((int) (i - h.lo()));
                if (cnt == 0) {
                    continue;
                }
                int b = (int) ((i >> shift) - start);
                per[c * bins + b] += cnt;
                pooled[b] += cnt;
            }
        }
        return new CommonGrid(bins, level, start, per, pooled);
    }

    int bins() {
        return bins;
    }

    float[] perNeuron() {
        return perNeuron;
    }

    double edge(int i) {
        return (start + i) * DoublingHistogram.width(level);
    }

    List<Double> edgeList() {
        List<Double> e = new ArrayList<>(bins + 1);
        for (int i = 0; i <= bins; i++) {
            e.add(edge(i));
        }
        return e;
    }

    List<Long> pooledList() {
        List<Long> p = new ArrayList<>(bins);
        for (long c : pooled) {
            p.add(c);
        }
        return p;
    }
}
