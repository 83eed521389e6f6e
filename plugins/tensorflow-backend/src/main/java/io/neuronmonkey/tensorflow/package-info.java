/**
 * The TensorFlow Java backend ({@code tensorflow}): loads SavedModels and frozen GraphDefs, lists their activation
 * layers and captures them in one session run; plus NeuronMonkey's demo-model trainer ({@code tensorflow-cnn}).
 * Only this plugin touches TensorFlow; tensors leave it as {@link io.neuronmonkey.api.tensor.Tensor}.
 */
package io.neuronmonkey.tensorflow;
