package io.neuronmonkey.spark;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one partition sends back to the driver: each step's accumulator, serialized with its plugin's classes (the
 * driver reads it with that plugin's class loader), and the steps that failed there.
 *
 * @param index    the partition's index (its place in data order)
 * @param states   serialized accumulators by step id
 * @param failures why a step failed on this partition, by step id
 * @param examples the examples the partition read
 * @param loadSeconds the time the task spent loading the experiment (0 when its executor had it loaded)
 * @param passSeconds the time of the partition's pass
 */
record PartitionState(int index, LinkedHashMap<String, byte[]> states, LinkedHashMap<String, String> failures, long examples,
                      double loadSeconds, double passSeconds) implements Serializable {

    private static final long serialVersionUID = 1L;

    /** @return the serialized size of the states, in bytes */
    long bytes() {
        long n = 0;
        for (Map.Entry<String, byte[]> e : states.entrySet()) {
            n += e.getValue().length;
        }
        return n;
    }
}
