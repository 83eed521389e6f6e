/**
 * NeuronMonkey's own small tensor type: a shape, a dtype and one bulk buffer in row-major (C) order. Tensors are how
 * activations, inputs and result arrays cross the API, so analyzers work with any backend.
 */
package io.neuronmonkey.api.tensor;
