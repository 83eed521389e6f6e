/**
 * Why and what if: input attributions ({@code integrated-gradients}, {@code saliency}, {@code gradient-x-input},
 * {@code smoothgrad}, {@code grad-cam}, {@code occlusion}), hidden-neuron importance ({@code neuron-conductance}) and
 * interventions ({@code ablation}, {@code steering}, {@code activation-patching}). Every method runs batched with
 * bounded memory and checks its own answer where an axiom or a control allows: completeness, model-parameter
 * randomization, deletion and insertion curves, random neuron sets of the same size.
 */
package io.neuronmonkey.attribution;
