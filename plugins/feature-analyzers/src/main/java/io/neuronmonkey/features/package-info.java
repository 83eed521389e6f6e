/**
 * What a neuron wants and what the model can lose: inputs optimized to maximize chosen neurons
 * ({@code feature-visualization}) and accuracy curves of pruned neurons against random pruning ({@code prune}).
 */
package io.neuronmonkey.features;
