package io.neuronmonkey.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * States how stable an SPI type is and since which version it exists. SPI types evolve by adding {@code default}
 * methods only; {@link Status#STABLE} types keep their abstract methods across minor versions.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target({ElementType.TYPE, ElementType.METHOD})
public @interface ApiStatus {

    /** Stability levels. */
    enum Status {
        /** May change in any release. */
        EXPERIMENTAL,
        /** Abstract methods are kept; new methods arrive as defaults. */
        STABLE
    }

    /** @return the stability of the annotated element */
    Status value();

    /** @return the first NeuronMonkey version that had the element, e.g. {@code "0.1.0"} */
    String since();
}
