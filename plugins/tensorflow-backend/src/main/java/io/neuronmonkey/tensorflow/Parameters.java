package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.model.LayerInfo;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.TensorShapeProto;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * Finds each listed layer's own parameter tensors in the forward graph and draws replacement values for them.
 * A layer's parameters are the float tensors that feed it and no earlier listed layer, found by walking its inputs
 * up to other listed layers and the input: variable reads ({@code ReadVariableOp}, or TF1 variables, through their
 * {@code Identity} reads where there is one) and, in frozen graphs, float constants with more than one element that
 * an op with weights consumes (matrix products, convolutions, bias additions, batch norms, element-wise additions
 * and products), directly or through {@code Identity} ops. The backend's own ops (preprocessing, splices) are never
 * walked into.
 */
final class Parameters {

    /** Ops whose constant operands are weights. */
    private static final Set<String> WEIGHTED = Set.of("MatMul", "BatchMatMul", "BatchMatMulV2", "BatchMatMulV3",
            "Conv2D", "Conv3D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "BiasAdd", "Add", "AddV2",
            "Mul", "FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3", "Einsum");
    private static final Set<String> VARIABLES = Set.of("VariableV2", "Variable");

    private Parameters() {
    }

    /**
     * @param analysis the imported analysis graph
     * @return each listed layer with parameters to its parameter tensors ({@code op:index}, in the order found),
     *         in graph order
     */
    static Map<String, List<String>> find(AnalysisGraph analysis) {
        String scope = analysis.raw.substring(0, analysis.raw.length() - "raw".length());
        Set<String> assigned = new HashSet<>();
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (LayerInfo l : analysis.layers) {
            if (l.role() == LayerInfo.Role.INPUT) {
                continue;
            }
            AnalysisGraph.Splice splice = analysis.splices.get(l.name());
            String mul = splice.scale().substring(0, splice.scale().length() - "scale".length()) + "mul";
            NodeDef start = analysis.nodes.get(mul);
            List<String> found = new ArrayList<>();
            Deque<String[]> todo = new ArrayDeque<>();
            todo.push(new String[] {start.getInput(0), "Mul"});
            Set<String> seen = new HashSet<>();
            while (!todo.isEmpty()) {
                String[] item = todo.pop();
                TensorRef ref = TensorRef.parse(item[0]);
                NodeDef n = analysis.nodes.get(ref.op());
                if (n == null || n.getName().startsWith(scope) || !seen.add(ref.op() + ":" + ref.index())) {
                    continue;
                }
                String tensor = ref.op() + ":" + ref.index();
                String parameter = null;
                if (n.getOp().equals("ReadVariableOp")) {
                    parameter = type(n, "dtype") == DataType.DT_FLOAT ? tensor : null;
                } else if (VARIABLES.contains(n.getOp())) {
                    parameter = type(n, "dtype") == DataType.DT_FLOAT ? tensor : null;
                } else if (n.getOp().equals("Identity") && n.getInputCount() > 0 && isVariable(analysis, n.getInput(0))) {
                    parameter = type(n, "T") == DataType.DT_FLOAT ? tensor : null;
                } else if (n.getOp().equals("Const")) {
                    parameter = WEIGHTED.contains(item[1]) && isWeight(n) ? tensor : null;
                } else {
                    String consumer = n.getOp().equals("Identity") ? item[1] : n.getOp();
                    for (String in : n.getInputList()) {
                        if (!in.startsWith("^")) {
                            todo.push(new String[] {in, consumer});
                        }
                    }
                    continue;
                }
                if (parameter != null && assigned.add(parameter)) {
                    found.add(parameter);
                }
            }
            if (!found.isEmpty()) {
                out.put(l.name(), found);
            }
        }
        return out;
    }

    private static boolean isVariable(AnalysisGraph analysis, String input) {
        NodeDef v = analysis.nodes.get(TensorRef.parse(input).op());
        return v != null && VARIABLES.contains(v.getOp());
    }

    private static DataType type(NodeDef n, String attr) {
        return n.getAttrOrDefault(attr, AttrValue.getDefaultInstance()).getType();
    }

    /** A float constant of more than one element (shapes, axes and scalars are never weights). */
    private static boolean isWeight(NodeDef n) {
        if (type(n, "dtype") != DataType.DT_FLOAT) {
            return false;
        }
        long size = 1;
        for (TensorShapeProto.Dim d : n.getAttrOrThrow("value").getTensor().getTensorShape().getDimList()) {
            size *= d.getSize();
        }
        return size > 1;
    }

    /**
     * @param original the tensor's values
     * @return the population standard deviation of the values (0 for fewer than two)
     */
    static double std(float[] original) {
        if (original.length < 2) {
            return 0;
        }
        double mean = 0;
        for (float v : original) {
            mean += v;
        }
        mean /= original.length;
        double ss = 0;
        for (float v : original) {
            ss += (v - mean) * (v - mean);
        }
        return Math.sqrt(ss / original.length);
    }

    /**
     * Values drawn from a normal distribution with mean 0 and the given standard deviation, seeded from the seed
     * and the tensor's name (the same seed redraws the same values for the same tensor, different tensors differ).
     *
     * @param size   how many values
     * @param std    the standard deviation
     * @param seed   the user's seed
     * @param tensor the tensor's name
     * @return the values
     */
    static float[] draw(int size, double std, long seed, String tensor) {
        long h = 0xcbf29ce484222325L;
        for (byte b : tensor.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        Random random = new Random(seed * 0x9E3779B97F4A7C15L ^ h);
        float[] out = new float[size];
        for (int i = 0; i < size; i++) {
            out[i] = (float) (random.nextGaussian() * std);
        }
        return out;
    }
}
