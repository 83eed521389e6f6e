package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.model.LayerInfo;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Layer names users know from Keras. Inside a Keras function an op is named {@code <model>/<layer>/<op>} (e.g.
 * {@code sequential/conv2d_1/Relu}): the layer is the part between the model scope and the op. A layer's output is
 * its last listed op, which takes the plain layer name; earlier listed ops of the same layer (the pre-softmax
 * {@code BiasAdd} of a dense layer with a softmax activation) are named {@code <layer>/<op>}.
 */
final class KerasNames {

    private KerasNames() {
    }

    /**
     * @param local an op's name inside its function
     * @return the Keras layer it belongs to
     */
    static String scope(String local) {
        String[] parts = local.split("/");
        if (parts.length >= 3) {
            return String.join("/", java.util.Arrays.copyOfRange(parts, 1, parts.length - 1));
        }
        return parts[0];
    }

    /**
     * @param layers     the selected layers, named by graph op
     * @param localNames inlined op name to its name inside the innermost function
     * @param tensorOf   layer name to graph tensor; entries are added for the new names
     * @return the layers renamed to Keras layer names, with the op path inside the function as their path
     */
    static List<LayerInfo> rename(List<LayerInfo> layers, Map<String, String> localNames,
                                  Map<String, TensorRef> tensorOf) {
        Map<String, List<Integer>> byScope = new LinkedHashMap<>();
        String[] local = new String[layers.size()];
        for (int i = 0; i < layers.size(); i++) {
            LayerInfo l = layers.get(i);
            if (l.role() == LayerInfo.Role.INPUT) {
                continue;
            }
            TensorRef t = tensorOf.get(l.name());
            local[i] = localNames.get(t.op());
            if (local[i] != null) {
                byScope.computeIfAbsent(scope(local[i]), k -> new ArrayList<>()).add(i);
            }
        }
        Map<Integer, String> names = new HashMap<>();
        byScope.forEach((scope, members) -> {
            for (int j = 0; j < members.size(); j++) {
                int i = members.get(j);
                String op = local[i].substring(local[i].lastIndexOf('/') + 1);
                names.put(i, j == members.size() - 1 ? scope : scope + "/" + op);
            }
        });
        Set<String> used = new HashSet<>();
        List<LayerInfo> out = new ArrayList<>();
        for (int i = 0; i < layers.size(); i++) {
            LayerInfo l = layers.get(i);
            String name = names.getOrDefault(i, l.name());
            if (!used.add(name)) {
                name = local[i] != null && used.add(local[i]) ? local[i] : l.name();
                used.add(name);
            }
            String path = local[i] != null ? local[i] : l.path();
            tensorOf.put(name, tensorOf.get(l.name()));
            out.add(new LayerInfo(name, l.opType(), l.shape(), l.role(), path));
        }
        return out;
    }
}
