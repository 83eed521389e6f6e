package io.neuronmonkey.api.result;

import io.neuronmonkey.api.ApiStatus;

/**
 * A confidence (or credible) interval.
 *
 * @param low   lower bound; may be {@code -Infinity}
 * @param high  upper bound, {@code >= low}; may be {@code +Infinity}
 * @param level coverage in (0, 1), e.g. 0.95
 * @param method how it was computed, e.g. {@code Wilson score}, {@code bootstrap percentile}; non-null
 */
@ApiStatus(value = ApiStatus.Status.EXPERIMENTAL, since = "0.2.0")
public record Interval(double low, double high, double level, String method) {

    /**
     * Checks the bounds and level.
     *
     * @param low lower bound; may be {@code -Infinity}
     * @param high upper bound, {@code >= low}; may be {@code +Infinity}
     * @param level coverage in (0, 1), e.g. 0.95
     * @param method how it was computed, e.g. {@code Wilson score}, {@code bootstrap percentile}; non-null
     */
    public Interval {
        if (Double.isNaN(low) || Double.isNaN(high) || low > high) {
            throw new IllegalArgumentException("interval bounds must satisfy low <= high, found [" + low + ", " + high + "]");
        }
        if (!(level > 0 && level < 1)) {
            throw new IllegalArgumentException("interval level must be in (0, 1), found " + level);
        }
        method = method == null ? "" : method;
    }
}
