package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import org.tensorflow.Graph;
import org.tensorflow.GraphOperation;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A frozen GraphDef has no signature: its input is the one float placeholder (without any, the only placeholder or
 * the first that is not a mask) and its output the one float op that nothing consumes and that depends on the input. When either is ambiguous or missing the error lists the
 * candidates as lines to paste into the experiment's {@code model:} section.
 */
final class FrozenGraphs {

    private static final Set<DataType> FLOATS = Set.of(DataType.DT_FLOAT, DataType.DT_HALF, DataType.DT_DOUBLE,
            DataType.DT_BFLOAT16);
    /** Unconsumed ops that are never a model output. */
    private static final Set<String> NOT_OUTPUTS = Set.of("Const", "NoOp", "Placeholder", "PlaceholderWithDefault",
            "Assign", "AssignVariableOp", "VarHandleOp", "VariableV2", "SaveV2", "RestoreV2", "Identity_Save");

    private FrozenGraphs() {
    }

    /**
     * @param def    the graph
     * @param params the backend params, of which {@code input} or {@code output} is missing
     * @param where  the model, for messages
     * @return the params with input and output filled in
     * @throws ModelException listing the candidates when a choice is not clear
     */
    static TensorFlowBackend.Params infer(GraphDef def, TensorFlowBackend.Params params, String where) {
        Map<String, NodeDef> nodes = new HashMap<>();
        def.getNodeList().forEach(n -> nodes.put(n.getName(), n));
        List<String> placeholders = new ArrayList<>();
        List<String> floatPlaceholders = new ArrayList<>();
        for (NodeDef n : def.getNodeList()) {
            if (n.getOp().equals("Placeholder")) {
                placeholders.add(n.getName());
                if (FLOATS.contains(n.getAttrOrDefault("dtype", AttrValue.getDefaultInstance()).getType())) {
                    floatPlaceholders.add(n.getName());
                }
            }
        }
        String input = params.input();
        if (input == null) {
            if (floatPlaceholders.size() == 1) {
                input = floatPlaceholders.get(0);
            } else if (floatPlaceholders.isEmpty() && !placeholders.isEmpty()) {
                input = TfInputs.primary(placeholders); // token ids: the one that is not a mask
            }
        }
        List<String> sinks = input == null ? List.of() : floatSinks(def, nodes, TensorRef.parse(input).op());
        String output = params.output();
        if (output == null && sinks.size() == 1) {
            output = sinks.get(0);
        }
        if (input != null && output != null) {
            return params.withInputOutput(input, output);
        }
        StringBuilder m = new StringBuilder(where).append(" has no signature, and ");
        if (input == null) {
            List<String> shown = floatPlaceholders.isEmpty() ? placeholders : floatPlaceholders;
            m.append(shown.isEmpty() ? "no placeholder to feed" : shown.size() + (floatPlaceholders.isEmpty()
                    ? " placeholders" : " float placeholders") + " could be its input");
            m.append("; say which in the model section:\n  input: ").append(shown.isEmpty() ? "<op>" : shown.get(0));
            if (shown.size() > 1) {
                m.append("    # one of: ").append(String.join(", ", shown.subList(0, Math.min(12, shown.size()))));
            }
            if (output == null) {
                m.append("\n  output: <op>    # an op that depends on the input");
            }
        } else {
            m.append(sinks.isEmpty() ? "no float op that depends on '" + input + "' is left unconsumed"
                    : sinks.size() + " unconsumed float ops could be its output");
            m.append("; say which in the model section:\n  output: ").append(sinks.isEmpty() ? "<op>" : sinks.get(0));
            if (sinks.size() > 1) {
                m.append("    # one of: ").append(String.join(", ", sinks.subList(0, Math.min(12, sinks.size()))));
            }
        }
        throw new ModelException(m.toString());
    }

    /** @return ops nothing consumes whose first output is float and that depend on {@code input}, in graph order */
    private static List<String> floatSinks(GraphDef def, Map<String, NodeDef> nodes, String input) {
        Set<String> consumed = new HashSet<>();
        def.getNodeList().forEach(n -> n.getInputList().forEach(i -> consumed.add(NodeDefs.opOf(i))));
        Map<String, DataType> types = outputTypes(def);
        List<String> out = new ArrayList<>();
        for (NodeDef n : def.getNodeList()) {
            if (consumed.contains(n.getName()) || NOT_OUTPUTS.contains(n.getOp()) || !FLOATS.contains(types.get(
                    n.getName()))) {
                continue;
            }
            if (NodeDefs.ancestors(nodes, List.of(n.getName())).contains(input)) {
                out.add(n.getName());
            }
        }
        return out;
    }

    /** @return each op's first output dtype, from TensorFlow's own import (or the {@code T} attr when it fails) */
    private static Map<String, DataType> outputTypes(GraphDef def) {
        Map<String, DataType> types = new HashMap<>();
        try (Graph g = new Graph()) {
            g.importGraphDef(def);
            for (NodeDef n : def.getNodeList()) {
                GraphOperation op = g.operation(n.getName());
                if (op != null && op.numOutputs() > 0) {
                    types.put(n.getName(), op.output(0).dataType());
                }
            }
        } catch (RuntimeException e) {
            def.getNodeList().forEach(n -> types.put(n.getName(),
                    n.getAttrOrDefault("T", AttrValue.getDefaultInstance()).getType()));
        }
        return types;
    }
}
