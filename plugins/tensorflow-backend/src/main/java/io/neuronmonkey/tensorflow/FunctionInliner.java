package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import org.tensorflow.TensorFlow;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.FunctionDef;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;
import org.tensorflow.proto.OpDef;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Replaces function-call nodes ({@code StatefulPartitionedCall}, {@code PartitionedCall}, or a node whose op is a
 * library function) that the chosen tensors depend on by the bodies of the functions they call, recursively. Keras
 * and other TF2 SavedModels keep every layer inside such functions; once inlined, each op is a graph node that can be
 * fetched, differentiated and spliced. Body nodes are named {@code <call node>/<node in function>}; variables are
 * reached through the resource handles the call received, so no second restore is needed.
 */
final class FunctionInliner {

    /** Op types that call the function named by their {@code f} attr. */
    static final Set<String> CALL_OPS = Set.of("StatefulPartitionedCall", "PartitionedCall");

    private static Map<String, OpDef> registered;

    /**
     * The inlined graph.
     *
     * @param graph      the graph with the calls replaced (each call node kept as a {@code NoOp} for control edges)
     * @param aliases    {@code call:i} (and {@code call} for output 0) mapped to the tensor that now produces it
     * @param localNames for every inlined node, its name inside the innermost function (e.g.
     *                   {@code sequential/conv2d/Relu})
     * @param calls      how many call nodes were inlined
     */
    record Result(GraphDef graph, Map<String, String> aliases, Map<String, String> localNames, int calls) {

        /** @return the tensor now producing {@code tensor} (an op name or {@code op:index}), following aliases */
        String resolve(String tensor) {
            String t = tensor;
            for (int hops = 0; hops < 1000; hops++) {
                TensorRef ref = TensorRef.parse(t);
                String next = aliases.get(ref.layerName());
                if (next == null && ref.index() == 0) {
                    next = aliases.get(ref.op() + ":0");
                }
                if (next == null) {
                    return t;
                }
                t = next;
            }
            throw new IllegalStateException("alias cycle at " + tensor);
        }
    }

    private final Map<String, FunctionDef> library = new HashMap<>();
    private final Map<String, NodeDef> nodes = new LinkedHashMap<>();
    private final Map<String, String> aliases = new HashMap<>();
    private final Map<String, String> localNames = new HashMap<>();

    private FunctionInliner(GraphDef def) {
        for (FunctionDef f : def.getLibrary().getFunctionList()) {
            library.put(f.getSignature().getName(), f);
        }
        for (NodeDef n : def.getNodeList()) {
            nodes.put(n.getName(), n);
        }
    }

    /**
     * @param def     a graph with its function library
     * @param targets the tensors ({@code op} or {@code op:index}) whose computation should become addressable
     * @return the graph with every call those tensors depend on inlined; the input is returned unchanged (with no
     *         aliases) when there is nothing to inline
     * @throws ModelException if a call names a function the library lacks or an op this TensorFlow does not know
     */
    static Result inline(GraphDef def, Collection<String> targets) {
        FunctionInliner inliner = new FunctionInliner(def);
        List<String> roots = targets.stream().map(NodeDefs::opOf).toList();
        ArrayDeque<String> todo = new ArrayDeque<>();
        for (String op : NodeDefs.ancestors(inliner.nodes, roots)) {
            if (inliner.isCall(inliner.nodes.get(op))) {
                todo.add(op);
            }
        }
        if (todo.isEmpty()) {
            return new Result(def, Map.of(), Map.of(), 0);
        }
        int calls = 0;
        while (!todo.isEmpty()) {
            inliner.inlineCall(todo.poll(), todo);
            calls++;
        }
        List<NodeDef> out = new ArrayList<>(inliner.nodes.size());
        Result partial = new Result(null, inliner.aliases, null, calls);
        for (NodeDef n : inliner.nodes.values()) {
            NodeDef.Builder b = n.toBuilder().clearInput();
            for (String in : n.getInputList()) {
                b.addInput(in.startsWith("^") ? in : partial.resolve(in));
            }
            out.add(b.build());
        }
        GraphDef graph = def.toBuilder().clearNode().addAllNode(out).build();
        return new Result(graph, Map.copyOf(inliner.aliases), Map.copyOf(inliner.localNames), calls);
    }

    private boolean isCall(NodeDef n) {
        return n != null && (CALL_OPS.contains(n.getOp()) || library.containsKey(n.getOp()));
    }

    private void inlineCall(String name, ArrayDeque<String> todo) {
        NodeDef call = nodes.get(name);
        String fname = CALL_OPS.contains(call.getOp()) ? call.getAttrOrDefault("f", AttrValue.getDefaultInstance())
                .getFunc().getName() : call.getOp();
        FunctionDef f = library.get(fname);
        if (f == null) {
            throw new ModelException("call op '" + name + "' (" + call.getOp() + ") calls function '" + fname
                    + "', which the graph's function library does not have");
        }
        List<String> data = call.getInputList().stream().filter(s -> !s.startsWith("^")).toList();
        List<String> control = call.getInputList().stream().filter(s -> s.startsWith("^")).toList();
        OpDef sig = f.getSignature();
        if (data.size() != sig.getInputArgCount()) {
            throw new ModelException("call op '" + name + "' passes " + data.size() + " inputs to function '"
                    + fname + "', which takes " + sig.getInputArgCount());
        }
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i < data.size(); i++) {
            args.put(sig.getInputArg(i).getName(), data.get(i));
        }
        Map<String, NodeDef> body = new HashMap<>();
        for (NodeDef n : f.getNodeDefList()) {
            body.put(n.getName(), n);
        }
        String prefix = name + "/";
        for (NodeDef n : f.getNodeDefList()) {
            NodeDef.Builder b = n.toBuilder().setName(prefix + n.getName()).clearInput().clearDevice();
            for (String in : n.getInputList()) {
                if (in.startsWith("^")) {
                    String src = in.substring(1);
                    b.addInput("^" + (args.containsKey(src) ? NodeDefs.opOf(args.get(src)) : prefix + src));
                } else {
                    b.addInput(bodyRef(in, prefix, args, body, fname));
                }
            }
            if (n.getInputCount() == 0) {
                b.addAllInput(control);
            }
            for (Map.Entry<String, AttrValue> a : n.getAttrMap().entrySet()) {
                if (!a.getValue().getPlaceholder().isEmpty()) {
                    AttrValue bound = call.getAttrMap().get(a.getValue().getPlaceholder());
                    if (bound == null) {
                        throw new ModelException("node '" + n.getName() + "' of function '" + fname + "' takes attr '"
                                + a.getKey() + "' from the caller, which '" + name + "' does not set");
                    }
                    b.putAttr(a.getKey(), bound);
                }
            }
            NodeDef inlined = b.build();
            nodes.put(inlined.getName(), inlined);
            localNames.put(inlined.getName(), n.getName());
            if (isCall(inlined)) {
                todo.add(inlined.getName());
            }
        }
        NodeDef.Builder done = NodeDefs.op(name, "NoOp");
        for (int i = 0; i < sig.getOutputArgCount(); i++) {
            String ret = f.getRetOrThrow(sig.getOutputArg(i).getName());
            String tensor = bodyRef(ret, prefix, args, body, fname);
            aliases.put(name + ":" + i, tensor);
            done.addInput("^" + NodeDefs.opOf(tensor));
        }
        done.addAllInput(control);
        nodes.put(name, done.build());
    }

    /** Maps a function-body reference ({@code arg}, {@code node:out_arg:i}) to a graph tensor name. */
    private String bodyRef(String ref, String prefix, Map<String, String> args, Map<String, NodeDef> body,
                           String fname) {
        String[] parts = ref.split(":");
        if (args.containsKey(parts[0])) {
            return args.get(parts[0]);
        }
        if (parts.length < 3) {
            return prefix + ref;
        }
        NodeDef n = body.get(parts[0]);
        if (n == null) {
            throw new ModelException("function '" + fname + "' refers to node '" + parts[0] + "', which it lacks");
        }
        int flat = flatIndex(n, parts[1], Integer.parseInt(parts[2]), fname);
        return prefix + parts[0] + (flat == 0 ? "" : ":" + flat);
    }

    /** The position of output {@code arg:idx} of node {@code n} among all of the node's outputs. */
    private int flatIndex(NodeDef n, String arg, int idx, String fname) {
        OpDef def = opDef(n.getOp());
        if (def == null) {
            throw new ModelException("op type '" + n.getOp() + "' (node '" + n.getName() + "' in function '" + fname
                    + "') is not registered in this TensorFlow build, and the graph's library has no function of"
                    + " that name");
        }
        int offset = 0;
        for (OpDef.ArgDef a : def.getOutputArgList()) {
            if (a.getName().equals(arg)) {
                return offset + idx;
            }
            if (!a.getNumberAttr().isEmpty()) {
                offset += (int) attr(n, def, a.getNumberAttr()).getI();
            } else if (!a.getTypeListAttr().isEmpty()) {
                offset += attr(n, def, a.getTypeListAttr()).getList().getTypeCount();
            } else {
                offset++;
            }
        }
        throw new ModelException("op '" + n.getOp() + "' has no output '" + arg + "' (node '" + n.getName()
                + "' in function '" + fname + "')");
    }

    private OpDef opDef(String type) {
        FunctionDef f = library.get(type);
        return f != null ? f.getSignature() : registeredOps().get(type);
    }

    private static AttrValue attr(NodeDef n, OpDef def, String name) {
        AttrValue v = n.getAttrMap().get(name);
        if (v != null) {
            return v;
        }
        return def.getAttrList().stream().filter(a -> a.getName().equals(name)).findFirst()
                .map(OpDef.AttrDef::getDefaultValue).orElse(AttrValue.getDefaultInstance());
    }

    private static synchronized Map<String, OpDef> registeredOps() {
        if (registered == null) {
            Map<String, OpDef> m = new HashMap<>();
            for (OpDef d : TensorFlow.registeredOpList().getOpList()) {
                m.put(d.getName(), d);
            }
            registered = m;
        }
        return registered;
    }
}
