package io.neuronmonkey.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The stable name under which an extension is referenced from experiment YAML (for example
 * {@code analyzer: activation-stats}). Every extension class carries it next to PF4J's {@code @Extension}.
 * Names are lower-case words joined by hyphens; two extensions of one point with the same name fail at start-up.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public @interface ExtensionName {

    /** @return the name used in YAML, matching {@code [a-z][a-z0-9]*(-[a-z0-9]+)*} */
    String value();

    /** @return a one-line description shown by {@code neuronmonkey plugins}; may be empty */
    String description() default "";
}
