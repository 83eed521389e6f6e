/**
 * Charts, image grids and the self-contained HTML report: activation histograms ({@code histogram}), per-class
 * heatmaps ({@code heatmap}), top-activation image grids ({@code top-activations-grid}), effect-size bar charts
 * ({@code effect-sizes}) and the run report ({@code html-report}). Charts are drawn with JFreeChart and image grids
 * with Java2D, headless.
 */
package io.neuronmonkey.visualizers;
