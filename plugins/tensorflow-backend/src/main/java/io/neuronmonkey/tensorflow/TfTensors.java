package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.tensor.Tensor;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.DataType;
import org.tensorflow.types.TFloat32;

import java.util.Arrays;

/** Bulk conversion between NeuronMonkey tensors and TensorFlow tensors; never element by element. */
final class TfTensors {

    private TfTensors() {
    }

    /**
     * @param data  row-major values, copied into native memory
     * @param shape dimensions
     * @return a new TF tensor; the caller closes it
     */
    static TFloat32 floats(float[] data, long... shape) {
        return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(data, true, false));
    }

    /**
     * Copies a FLOAT, INT32 or INT64 TF tensor into a new NeuronMonkey tensor in one bulk read.
     *
     * @param t    the TF tensor (not closed here)
     * @param what what the tensor is, for error messages
     * @return the copy
     */
    static Tensor toTensor(org.tensorflow.Tensor t, String what) {
        long[] dims = t.shape().asArray();
        int[] shape = new int[dims.length];
        long size = 1;
        for (int i = 0; i < dims.length; i++) {
            shape[i] = Math.toIntExact(dims[i]);
            size *= dims[i];
        }
        if (size > Integer.MAX_VALUE - 8) {
            throw new ModelException(what + " has " + size + " elements " + Arrays.toString(shape)
                    + "; at most " + (Integer.MAX_VALUE - 8) + " fit one array: use smaller batches");
        }
        DataType type = t.dataType();
        if (type == DataType.DT_FLOAT) {
            float[] out = new float[(int) size];
            t.asRawTensor().data().asFloats().read(out);
            return Tensor.ofFloats(out, shape);
        }
        if (type == DataType.DT_INT32) {
            int[] out = new int[(int) size];
            t.asRawTensor().data().asInts().read(out);
            return Tensor.ofInts(out, shape);
        }
        if (type == DataType.DT_INT64) {
            long[] out = new long[(int) size];
            t.asRawTensor().data().asLongs().read(out);
            return Tensor.ofLongs(out, shape);
        }
        throw new ModelException(what + " has dtype " + type + "; only DT_FLOAT, DT_INT32 and DT_INT64 outputs can be"
                + " captured");
    }
}
