/**
 * The result vocabulary: the typed parts that analyzers build and that visualizers, the report and other tools read.
 * <p>
 * A result is a list of {@link io.neuronmonkey.api.result.ResultPart}s (neuron tables, rankings, example sets,
 * matrices, series, input-shaped maps) plus {@link io.neuronmonkey.api.result.Finding}s, one-sentence claims that point
 * at the parts that are their evidence. Every array is an {@link io.neuronmonkey.api.result.NdArray} with named
 * dimensions. The runtime writes and reads all of it with one codec ({@code result.json} with a schema version, plus
 * one {@code .npy} file per array), so a new analyzer shows up in the report, and in Python, with no reader of its own.
 */
package io.neuronmonkey.api.result;
