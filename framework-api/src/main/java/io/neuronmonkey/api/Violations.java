package io.neuronmonkey.api;

import java.util.ArrayList;
import java.util.List;

/**
 * Collects every violation of a params record before failing, so that users see all of them at once. Use it in the
 * record's compact constructor:
 * <pre>{@code
 * record Params(int k, double threshold) {
 *     Params {
 *         Violations.check()
 *             .require(k >= 1, "k", "must be >= 1, found " + k)
 *             .require(Double.isFinite(threshold), "threshold", "must be finite, found " + threshold)
 *             .throwIfAny();
 *     }
 * }
 * }</pre>
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public final class Violations {

    private final List<InvalidParamsException.Violation> found = new ArrayList<>();

    private Violations() {
    }

    /** @return an empty collector */
    public static Violations check() {
        return new Violations();
    }

    /**
     * Records a violation of {@code field} unless {@code condition} holds.
     *
     * @param condition what must be true
     * @param field     the record component name (a dotted path for nested records)
     * @param message   what was expected and what was found
     * @return this collector
     */
    public Violations require(boolean condition, String field, String message) {
        if (!condition) {
            found.add(new InvalidParamsException.Violation(field, message));
        }
        return this;
    }

    /** @throws InvalidParamsException listing every recorded violation, if there is any */
    public void throwIfAny() {
        if (!found.isEmpty()) {
            throw new InvalidParamsException(found);
        }
    }
}
