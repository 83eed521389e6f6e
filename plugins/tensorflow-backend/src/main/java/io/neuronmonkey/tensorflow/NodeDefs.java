package io.neuronmonkey.tensorflow;

import com.google.protobuf.ByteString;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorProto;
import org.tensorflow.proto.TensorShapeProto;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Small builders for the {@link NodeDef}s the backend writes into rewritten graphs, and graph-walking helpers. */
final class NodeDefs {

    private NodeDefs() {
    }

    static AttrValue type(DataType t) {
        return AttrValue.newBuilder().setType(t).build();
    }

    static TensorShapeProto shape(long... dims) {
        TensorShapeProto.Builder b = TensorShapeProto.newBuilder();
        for (long d : dims) {
            b.addDim(TensorShapeProto.Dim.newBuilder().setSize(d));
        }
        return b.build();
    }

    static NodeDef.Builder op(String name, String type, String... inputs) {
        NodeDef.Builder b = NodeDef.newBuilder().setName(name).setOp(type);
        for (String i : inputs) {
            b.addInput(i);
        }
        return b;
    }

    /** A binary float op {@code type(a, b)} with attr {@code T}. */
    static NodeDef binary(String name, String type, String a, String b, DataType t) {
        return op(name, type, a, b).putAttr("T", type(t)).build();
    }

    static NodeDef placeholder(String name, DataType t, long... dims) {
        return op(name, "Placeholder").putAttr("dtype", type(t))
                .putAttr("shape", AttrValue.newBuilder().setShape(shape(dims)).build()).build();
    }

    /** A {@code PlaceholderWithDefault} of the given shape whose default is {@code defaultNode}. */
    static NodeDef placeholderWithDefault(String name, String defaultNode, DataType t, long... dims) {
        return op(name, "PlaceholderWithDefault", defaultNode).putAttr("dtype", type(t))
                .putAttr("shape", AttrValue.newBuilder().setShape(shape(dims)).build()).build();
    }

    /** A float32 constant filled with {@code value} (bit pattern kept, so {@code -0.0f} stays negative zero). */
    static NodeDef fill(String name, float value, long... dims) {
        long size = 1;
        for (long d : dims) {
            size *= d;
        }
        float[] v = new float[Math.toIntExact(size)];
        java.util.Arrays.fill(v, value);
        return floats(name, v, dims);
    }

    static NodeDef floats(String name, float[] values, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asFloatBuffer().put(values);
        return constant(name, DataType.DT_FLOAT, ByteString.copyFrom(buf.array()), dims);
    }

    static NodeDef ints(String name, int[] values, long... dims) {
        ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        buf.asIntBuffer().put(values);
        return constant(name, DataType.DT_INT32, ByteString.copyFrom(buf.array()), dims);
    }

    private static NodeDef constant(String name, DataType t, ByteString content, long... dims) {
        TensorProto value = TensorProto.newBuilder().setDtype(t).setTensorShape(shape(dims))
                .setTensorContent(content).build();
        return op(name, "Const").putAttr("dtype", type(t))
                .putAttr("value", AttrValue.newBuilder().setTensor(value).build()).build();
    }

    /**
     * @param n a node
     * @return the values of an int32 or int64 {@code Const}, or null for anything else
     */
    static long[] intConstant(NodeDef n) {
        if (!n.getOp().equals("Const") || !n.containsAttr("value")) {
            return null;
        }
        TensorProto t = n.getAttrOrThrow("value").getTensor();
        long count = 1;
        for (TensorShapeProto.Dim d : t.getTensorShape().getDimList()) {
            count *= d.getSize();
        }
        if (count > 64) {
            return null;
        }
        long[] out = new long[(int) count];
        ByteBuffer content = t.getTensorContent().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        if (t.getDtype() == DataType.DT_INT32) {
            for (int i = 0; i < out.length; i++) {
                out[i] = content.remaining() >= 4 ? content.getInt()
                        : t.getIntValCount() == 0 ? 0 : t.getIntVal(Math.min(i, t.getIntValCount() - 1));
            }
            return out;
        }
        if (t.getDtype() == DataType.DT_INT64) {
            for (int i = 0; i < out.length; i++) {
                out[i] = content.remaining() >= 8 ? content.getLong()
                        : t.getInt64ValCount() == 0 ? 0 : t.getInt64Val(Math.min(i, t.getInt64ValCount() - 1));
            }
            return out;
        }
        return null;
    }

    /** @return names of every Placeholder op, in graph order */
    static java.util.List<String> placeholders(org.tensorflow.proto.GraphDef def) {
        return def.getNodeList().stream().filter(n -> n.getOp().startsWith("Placeholder")).map(NodeDef::getName)
                .toList();
    }

    /** @return names of float ops (attr {@code T} float) that nothing consumes, in graph order, at most {@code max} */
    static java.util.List<String> floatSinks(org.tensorflow.proto.GraphDef def, int max) {
        Set<String> consumed = new HashSet<>();
        def.getNodeList().forEach(n -> n.getInputList().forEach(i -> consumed.add(opOf(i))));
        return def.getNodeList().stream()
                .filter(n -> !consumed.contains(n.getName()) && !n.getOp().startsWith("Placeholder")
                        && n.getAttrOrDefault("T", AttrValue.getDefaultInstance()).getType() == DataType.DT_FLOAT)
                .map(NodeDef::getName).limit(max).toList();
    }

    /** @return the op name of an input string ({@code op}, {@code op:1} or {@code ^op}) */
    static String opOf(String input) {
        return TensorRef.parse(input).op();
    }

    /**
     * @param nodes the graph's nodes by name
     * @param roots op names to start from
     * @return the names of every op the roots depend on (data and control inputs), roots included
     */
    static Set<String> ancestors(Map<String, NodeDef> nodes, Collection<String> roots) {
        Set<String> seen = new HashSet<>();
        ArrayDeque<String> todo = new ArrayDeque<>();
        for (String r : roots) {
            if (seen.add(r)) {
                todo.add(r);
            }
        }
        while (!todo.isEmpty()) {
            NodeDef n = nodes.get(todo.poll());
            if (n == null) {
                continue;
            }
            for (String in : n.getInputList()) {
                String op = opOf(in);
                if (seen.add(op)) {
                    todo.add(op);
                }
            }
        }
        return seen;
    }
}
