/**
 * Data sources: a seeded synthetic-shapes generator with planted ground truth (shape, texture, position and a
 * watermark correlated with one class), and readers for NPY, CSV and IDX files.
 */
package io.neuronmonkey.datasets;
