package io.neuronmonkey.runtime.pipeline;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/** The JVM's peak heap use so far (sum of the heap pools' peaks), for provenance and benchmarks. */
public final class PeakHeap {

    private PeakHeap() {
    }

    public static double megabytes() {
        long peak = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                peak += pool.getPeakUsage().getUsed();
            }
        }
        return Math.round(peak / 1024.0 / 1024.0 * 10) / 10.0;
    }
}
