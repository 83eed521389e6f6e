/** The trainer extension point: NeuronMonkey's own model trainers, used to make demo models with known ground truth. */
package io.neuronmonkey.api.train;
