/**
 * Concepts and groups, each claim with its error rate: concept activation vectors and TCAV scores
 * ({@code concept-vectors}), sparse linear probes ({@code probe}), per-neuron group differences with false-discovery
 * control ({@code group-compare}), polysemanticity of a neuron's top examples ({@code polysemanticity}) and every
 * method side by side per neuron ({@code scorecard}).
 */
package io.neuronmonkey.concepts;
