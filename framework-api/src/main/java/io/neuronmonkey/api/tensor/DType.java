package io.neuronmonkey.api.tensor;

import io.neuronmonkey.api.ApiStatus;

/** Element types a {@link Tensor} can hold. */
@ApiStatus(value = ApiStatus.Status.STABLE, since = "0.1.0")
public enum DType {
    /** 32-bit IEEE float, backed by {@code float[]}. */
    FLOAT32,
    /** 32-bit signed integer, backed by {@code int[]}. */
    INT32,
    /** 64-bit signed integer, backed by {@code long[]} (token ids of models exported from PyTorch). @since 0.4.0 */
    INT64,
    /** UTF-8 text, one string per element, backed by {@code String[]} (raw text for graphs that tokenize). @since 0.4.0 */
    STRING
}
