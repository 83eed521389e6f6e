package io.neuronmonkey.concepts;

import org.apache.commons.math3.distribution.BinomialDistribution;
import org.apache.commons.math3.distribution.ChiSquaredDistribution;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The categorical metadata of a data set (fields with at most a few distinct values, plus the class as
 * {@code class}) and how a group of examples departs from it: per field a chi-square test of the group's value
 * counts against the data set's base rates, and per value a one-sided binomial test of over-representation.
 */
final class PolysemanticityMetadata {

    /** The name the class label goes by among the fields. */
    static final String CLASS = "class";

    private final int maxValues;
    private final Map<String, Map<String, Long>> counts = new LinkedHashMap<>();
    private long examples;

    /** @param maxValues a field with more distinct values than this is not categorical and is dropped */
    PolysemanticityMetadata(int maxValues) {
        this.maxValues = maxValues;
    }

    /**
     * Counts one example's values.
     *
     * @param fields its metadata and class
     */
    void count(Map<String, String> fields) {
        if (examples == 0) {
            fields.keySet().forEach(k -> counts.put(k, new LinkedHashMap<>()));
        }
        examples++;
        for (Map.Entry<String, String> e : fields.entrySet()) {
            Map<String, Long> c = counts.get(e.getKey());
            if (c != null && e.getValue() != null) {
                c.merge(e.getValue(), 1L, Long::sum);
                if (c.size() > maxValues) {
                    counts.put(e.getKey(), null);
                }
            }
        }
    }

    /** @return the categorical fields, in the order first seen */
    List<String> fields() {
        return counts.entrySet().stream().filter(e -> e.getValue() != null && e.getValue().size() >= 2)
                .map(Map.Entry::getKey).toList();
    }

    /** @return examples counted */
    long examples() {
        return examples;
    }

    /**
     * @param field a field
     * @param value one of its values
     * @return the value's share of the data set
     */
    double baseRate(String field, String value) {
        Map<String, Long> c = counts.get(field);
        return c == null ? 0 : c.getOrDefault(value, 0L) / (double) examples;
    }

    /**
     * A value over-represented in a group.
     *
     * @param field the field
     * @param value the value
     * @param count examples of the group with the value
     * @param share its share of the group
     * @param base  its share of the data set
     * @param p     the one-sided binomial p-value of at least {@code count} in the group at the base rate
     */
    record Value(String field, String value, int count, double share, double base, double p) {

        /** @return e.g. {@code watermark=on} */
        String label() {
            return field + "=" + value;
        }
    }

    /**
     * @param group per example of the group its fields
     * @param alpha the largest p-value kept
     * @return the values over-represented in the group (p at most {@code alpha} and share at least 1.5 times the
     *         base rate), the smallest p first (ties: the largest share)
     */
    List<Value> overRepresented(List<Map<String, String>> group, double alpha) {
        List<Value> out = new ArrayList<>();
        int n = group.size();
        if (n == 0) {
            return out;
        }
        for (String field : fields()) {
            Map<String, Integer> c = tally(group, field);
            for (Map.Entry<String, Integer> e : c.entrySet()) {
                double base = baseRate(field, e.getKey());
                double share = e.getValue() / (double) n;
                if (base <= 0 || base >= 1 || share < 1.5 * base) {
                    continue;
                }
                double p = 1 - new BinomialDistribution(null, n, base).cumulativeProbability(e.getValue() - 1);
                if (p <= alpha) {
                    out.add(new Value(field, e.getKey(), e.getValue(), share, base, Math.max(0, p)));
                }
            }
        }
        out.sort(Comparator.comparingDouble(Value::p).thenComparing(Comparator.comparingDouble(Value::share).reversed()));
        return out;
    }

    /**
     * The chi-square statistic of a group's value counts of one field against the base rates, and its p-value.
     *
     * @param group per example its fields
     * @param field a categorical field
     * @return {statistic, p}
     */
    double[] chiSquare(List<Map<String, String>> group, String field) {
        Map<String, Long> base = counts.get(field);
        Map<String, Integer> c = tally(group, field);
        int n = group.size();
        double stat = 0;
        for (Map.Entry<String, Long> e : base.entrySet()) {
            double expected = n * e.getValue() / (double) examples;
            double d = c.getOrDefault(e.getKey(), 0) - expected;
            stat += d * d / expected;
        }
        int df = base.size() - 1;
        return new double[] {stat, 1 - new ChiSquaredDistribution(null, df).cumulativeProbability(stat)};
    }

    /**
     * Groups a neuron's top examples by metadata: greedily, the most over-represented value first, a value counting
     * as a new group only when fewer than half of the examples it covers are in groups already found, and when it
     * covers at least {@code minShare} of the examples.
     *
     * @param top      per top example its fields
     * @param alpha    the largest p-value of an over-represented value
     * @param minShare the smallest share of the top examples a group covers
     * @return the groups' values, in the order found
     */
    List<Value> groups(List<Map<String, String>> top, double alpha, double minShare) {
        List<Value> found = new ArrayList<>();
        boolean[] covered = new boolean[top.size()];
        for (Value v : overRepresented(top, alpha)) {
            if (v.share() < minShare) {
                continue;
            }
            int overlap = 0;
            for (int i = 0; i < top.size(); i++) {
                if (v.value().equals(top.get(i).get(v.field())) && covered[i]) {
                    overlap++;
                }
            }
            if (2 * overlap >= v.count()) {
                continue;
            }
            found.add(v);
            for (int i = 0; i < top.size(); i++) {
                covered[i] |= v.value().equals(top.get(i).get(v.field()));
            }
        }
        return found;
    }

    private static Map<String, Integer> tally(List<Map<String, String>> group, String field) {
        Map<String, Integer> c = new LinkedHashMap<>();
        for (Map<String, String> m : group) {
            String v = m.get(field);
            if (v != null) {
                c.merge(v, 1, Integer::sum);
            }
        }
        return c;
    }
}
