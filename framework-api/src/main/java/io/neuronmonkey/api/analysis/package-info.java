/**
 * The analyzer extension point, its streaming variant (which the runtime fuses into shared passes over the data),
 * and the result type that analyzers return and visualizers read.
 */
package io.neuronmonkey.api.analysis;
