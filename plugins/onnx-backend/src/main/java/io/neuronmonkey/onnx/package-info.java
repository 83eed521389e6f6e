/**
 * The ONNX Runtime backend ({@code onnx}): loads {@code .onnx} files as PyTorch and Hugging Face export them, lists
 * every float node output with a batch axis as a layer (channels-first convolution outputs delivered channels last),
 * captures any set of them in one run by rewriting the model so that they are graph outputs, applies interventions
 * through inserted {@code Mul}/{@code Add} nodes, and feeds named, typed inputs (images, token ids, attention masks).
 * Only this plugin touches ONNX Runtime; tensors leave it as {@link io.neuronmonkey.api.tensor.Tensor}.
 */
package io.neuronmonkey.onnx;
