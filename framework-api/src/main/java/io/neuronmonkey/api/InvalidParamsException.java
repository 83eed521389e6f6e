package io.neuronmonkey.api;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Thrown by a params record's compact constructor (through {@link Violations}) when one or more params are invalid.
 * The runtime maps each {@link Violation#field()} to its YAML line and column.
 */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public class InvalidParamsException extends ConfigException {

    /**
     * One invalid field.
     *
     * @param field   record component name or dotted path, non-null
     * @param message what was expected and what was found, non-null
     */
    public record Violation(String field, String message) {
    }

    /** The violations, in the order found. */
    private final List<Violation> violations;

    /** @param violations at least one violation */
    public InvalidParamsException(List<Violation> violations) {
        super(violations.stream().map(v -> v.field() + " - " + v.message()).collect(Collectors.joining("; ")));
        this.violations = List.copyOf(violations);
    }

    /** @return every violation, in the order found */
    public List<Violation> violations() {
        return violations;
    }
}
