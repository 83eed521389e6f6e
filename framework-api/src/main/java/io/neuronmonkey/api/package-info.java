/**
 * Core SPI types shared by every extension point: extension naming, parameter validation, progress reporting and
 * the exception hierarchy. Types are non-null unless documented otherwise; absent values are {@link java.util.Optional}.
 */
package io.neuronmonkey.api;
