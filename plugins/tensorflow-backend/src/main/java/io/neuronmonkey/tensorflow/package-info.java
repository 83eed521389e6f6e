/**
 * The TensorFlow Java backend ({@code tensorflow}): loads TF1 and Keras/TF2 SavedModels (inlining the function calls
 * that hide Keras layers) and frozen GraphDefs, runs preprocessing as graph ops, lists activation layers with Keras
 * names, captures them in one session run, applies interventions through spliced {@code x * scale + shift} nodes and
 * computes gradients of fed targets; plus NeuronMonkey's demo-model trainer ({@code tensorflow-cnn}).
 * Only this plugin touches TensorFlow; tensors leave it as {@link io.neuronmonkey.api.tensor.Tensor}.
 */
package io.neuronmonkey.tensorflow;
