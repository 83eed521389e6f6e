package io.neuronmonkey.onnx;

import com.google.protobuf.ByteString;
import io.neuronmonkey.onnx.proto.Onnx.AttributeProto;
import io.neuronmonkey.onnx.proto.Onnx.GraphProto;
import io.neuronmonkey.onnx.proto.Onnx.ModelProto;
import io.neuronmonkey.onnx.proto.Onnx.NodeProto;
import io.neuronmonkey.onnx.proto.Onnx.OperatorSetIdProto;
import io.neuronmonkey.onnx.proto.Onnx.TensorProto;
import io.neuronmonkey.onnx.proto.Onnx.TensorShapeProto;
import io.neuronmonkey.onnx.proto.Onnx.TypeProto;
import io.neuronmonkey.onnx.proto.Onnx.ValueInfoProto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes ONNX models for tests with the generated protobuf builders: inputs with symbolic or fixed dimensions,
 * float and int64 initializers (raw little-endian data, as exporters write them), nodes with attributes, outputs.
 * Public so that the experiments' end-to-end tests (through this module's test jar) can export models too.
 */
public final class OnnxBuilder {

    private final GraphProto.Builder graph = GraphProto.newBuilder().setName("test");
    private final int opset;
    private int nodes;

    /** @param opset the standard operator set version imported */
    public OnnxBuilder(int opset) {
        this.opset = opset;
    }

    /**
     * A graph input.
     *
     * @param name     its name
     * @param elemType an ONNX element type, e.g. {@code TensorProto.DataType.FLOAT_VALUE}
     * @param dims     dimensions; -1 for a symbolic one (named {@code batch} at axis 0, else {@code dim<i>})
     * @return this
     */
    public OnnxBuilder input(String name, int elemType, long... dims) {
        graph.addInput(value(name, elemType, dims));
        return this;
    }

    /** A float graph input, see {@link #input(String, int, long...)}. */
    public OnnxBuilder input(String name, long... dims) {
        return input(name, TensorProto.DataType.FLOAT_VALUE, dims);
    }

    /**
     * A float graph output.
     *
     * @param name the value
     * @return this
     */
    public OnnxBuilder output(String name) {
        graph.addOutput(ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
        return this;
    }

    /**
     * A float initializer, row-major.
     *
     * @param name   its name
     * @param values the values
     * @param dims   its shape
     * @return this
     */
    public OnnxBuilder floats(String name, float[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        graph.addInitializer(TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE)
                .addAllDims(java.util.Arrays.stream(dims).boxed().toList()).setRawData(ByteString.copyFrom(b.array())));
        return this;
    }

    /**
     * An int64 initializer (shapes, axes, indices).
     *
     * @param name   its name
     * @param values the values
     * @param dims   its shape
     * @return this
     */
    public OnnxBuilder longs(String name, long[] values, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE)
                .addAllDims(java.util.Arrays.stream(dims).boxed().toList());
        for (long v : values) {
            t.addInt64Data(v);
        }
        graph.addInitializer(t);
        return this;
    }

    /**
     * A node; attributes as name/value pairs: {@code Long}, {@code Float}, {@code String}, {@code long[]} or
     * {@code float[]}.
     *
     * @param op         the op type
     * @param inputs     input values
     * @param output     the output value
     * @param attributes name, value, name, value, ...
     * @return this
     */
    public OnnxBuilder node(String op, String[] inputs, String output, Object... attributes) {
        NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(op + "_" + nodes++).addOutput(output);
        for (String in : inputs) {
            n.addInput(in);
        }
        for (int i = 0; i < attributes.length; i += 2) {
            AttributeProto.Builder a = AttributeProto.newBuilder().setName((String) attributes[i]);
            Object v = attributes[i + 1];
            if (v instanceof Long l) {
                a.setType(AttributeProto.AttributeType.INT).setI(l);
            } else if (v instanceof Integer k) {
                a.setType(AttributeProto.AttributeType.INT).setI(k);
            } else if (v instanceof Float f) {
                a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
            } else if (v instanceof String s) {
                a.setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(s));
            } else if (v instanceof long[] ls) {
                a.setType(AttributeProto.AttributeType.INTS);
                for (long l : ls) {
                    a.addInts(l);
                }
            } else if (v instanceof float[] fs) {
                a.setType(AttributeProto.AttributeType.FLOATS);
                for (float f : fs) {
                    a.addFloats(f);
                }
            } else {
                throw new IllegalArgumentException("attribute " + attributes[i] + ": " + v);
            }
            n.addAttribute(a);
        }
        graph.addNode(n);
        return this;
    }

    /** {@link #node(String, String[], String, Object...)} with one input. */
    public OnnxBuilder node(String op, String input, String output, Object... attributes) {
        return node(op, new String[] {input}, output, attributes);
    }

    /** @return the model, IR version 8 */
    public ModelProto build() {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("neuronmonkey-tests").setProducerVersion("1")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
                .setGraph(graph).build();
    }

    /**
     * Writes the model.
     *
     * @param file where
     * @return the file
     * @throws IOException when it cannot be written
     */
    public Path write(Path file) throws IOException {
        Files.write(file, build().toByteArray());
        return file;
    }

    private static ValueInfoProto value(String name, int elemType, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (int i = 0; i < dims.length; i++) {
            TensorShapeProto.Dimension.Builder d = TensorShapeProto.Dimension.newBuilder();
            if (dims[i] < 0) {
                d.setDimParam(i == 0 ? "batch" : "dim" + i);
            } else {
                d.setDimValue(dims[i]);
            }
            s.addDim(d);
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
    }
}
