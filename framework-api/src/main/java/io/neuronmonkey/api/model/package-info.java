/**
 * The model-backend extension point: loading a model format, listing its layers and neurons, and running batches
 * that capture chosen layers.
 */
package io.neuronmonkey.api.model;
