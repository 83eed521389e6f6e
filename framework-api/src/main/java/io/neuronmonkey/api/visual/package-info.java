/** The visualizer extension point: pictures and reports drawn from step results. */
package io.neuronmonkey.api.visual;
