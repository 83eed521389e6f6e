/**
 * Charts and the self-contained HTML report: activation histograms ({@code histogram}), per-class heatmaps
 * ({@code heatmap}) and the run report ({@code html-report}). Charts are drawn with JFreeChart, headless.
 */
package io.neuronmonkey.visualizers;
