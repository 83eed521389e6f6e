/** Streaming per-neuron activation statistics: the health census of a model's neurons. */
package io.neuronmonkey.stats;
