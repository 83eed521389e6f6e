/**
 * Streaming neuron analysis: the health census ({@code activation-stats}), comparison of two censuses
 * ({@code census-diff}), top-activating examples per neuron ({@code top-activations}) and per-class / per-metadata
 * breakdowns with effect sizes ({@code activation-breakdown}) and the model's accuracy against the labels, per class,
 * per metadata value and calibrated ({@code evaluate}). Streaming results do not depend on how the data is split
 * across threads (exact sums, exact heaps, quantile sketches merged by adding bin counts).
 */
package io.neuronmonkey.stats;
