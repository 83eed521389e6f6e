package io.neuronmonkey.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Documents a component of a params record and gives its default. When the key is absent from YAML the binder
 * parses {@link #defaultValue()} as if it had been written there; without a default, a primitive component is
 * required and a reference component receives {@code null} (the compact constructor may then choose a default).
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.PARAMETER, ElementType.FIELD})
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public @interface Param {

    /** Marker for "no default". */
    String NONE = "\u0000";

    /** @return the default, written as it would be in YAML ({@code "10"}, {@code "mean"}, {@code "[a, b]"}) */
    String defaultValue() default NONE;

    /** @return a one-line description of the parameter, with units */
    String description() default "";
}
