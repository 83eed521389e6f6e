/** Neurons over training: analyses of a series of checkpoints of one model. */
package io.neuronmonkey.dynamics;
