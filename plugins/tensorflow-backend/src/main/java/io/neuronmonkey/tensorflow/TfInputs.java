package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.ModelException;
import io.neuronmonkey.api.model.ModelInput;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import org.tensorflow.proto.AttrValue;
import org.tensorflow.proto.DataType;
import org.tensorflow.proto.GraphDef;
import org.tensorflow.proto.NodeDef;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The inputs a model takes, each with the graph tensor it is fed through, and the check that turns a batch of named
 * data tensors into feeds: the primary data go to the primary input, every other input takes the data tensor of its
 * name (or of the name model param {@code inputNames} gives it). INT32 data feed an INT64 input by widening; every
 * other mismatch is refused, naming the model input and what the data have.
 */
final class TfInputs {

    /** Input names that are never the primary input by default. */
    static final Set<String> MASKS = Set.of("attention_mask", "token_type_ids", "mask");

    /**
     * One model input.
     *
     * @param input    what users see
     * @param tensor   the graph tensor fed (imported name)
     * @param type     its element type
     * @param known    false when the graph does not say the input's rank (no shape check)
     * @param dataName the name of the data tensor feeding it (null for the primary)
     */
    record Feed(ModelInput input, String tensor, DataType type, boolean known, String dataName) {
    }

    /**
     * What one run feeds: a data tensor into a graph tensor of a type.
     *
     * @param tensor the graph tensor
     * @param data   the data
     * @param type   the graph tensor's type (INT64 for widened INT32 data)
     */
    record Fed(String tensor, Tensor data, DataType type) {
    }

    private final Feed primary;
    private final List<Feed> others;
    private final List<ModelInput> inputs;

    private TfInputs(Feed primary, List<Feed> others) {
        this.primary = primary;
        this.others = List.copyOf(others);
        List<ModelInput> all = new ArrayList<>();
        all.add(primary.input());
        others.forEach(f -> all.add(f.input()));
        this.inputs = List.copyOf(all);
    }

    /**
     * @param names the model's input names, in order
     * @return the default primary input: the only one, else the first that is not a mask; null when all are masks
     */
    static String primary(List<String> names) {
        if (names.size() == 1) {
            return names.get(0);
        }
        return names.stream().filter(n -> !MASKS.contains(n)).findFirst().orElse(null);
    }

    /**
     * @param primaryName the primary input's name
     * @param analysis    the analysis graph (its raw placeholder feeds the primary input)
     * @param def         the model graph (placeholders' types and shapes)
     * @param others      the other inputs: name to placeholder tensor before the import prefix
     * @param renames     model param {@code inputNames}
     * @param where       the model, for messages
     * @return the inputs
     */
    static TfInputs of(String primaryName, AnalysisGraph analysis, GraphDef def, Map<String, TensorRef> others,
                       Map<String, String> renames, String where) {
        Feed primary = new Feed(new ModelInput(primaryName, dtype(analysis.rawType, primaryName, where),
                analysis.inputShape, true), analysis.raw + ":0", analysis.rawType, true, null);
        Map<String, NodeDef> nodes = new LinkedHashMap<>();
        def.getNodeList().forEach(n -> nodes.put(n.getName(), n));
        List<Feed> feeds = new ArrayList<>();
        for (Map.Entry<String, TensorRef> e : others.entrySet()) {
            String imported = analysis.opNames.get(e.getValue().op());
            NodeDef n = nodes.get(e.getValue().op());
            if (imported == null || n == null) {
                continue; // the outputs do not need it
            }
            DataType type = n.getAttrOrDefault("dtype", AttrValue.getDefaultInstance()).getType();
            long[] dims = AnalysisGraph.dims(n.getAttrOrDefault("shape", AttrValue.getDefaultInstance()).getShape());
            int[] shape = dims == null || dims.length == 0 ? new int[0]
                    : Arrays.stream(dims).skip(1).mapToInt(d -> d < 0 ? -1 : Math.toIntExact(d)).toArray();
            feeds.add(new Feed(new ModelInput(e.getKey(), dtype(type, e.getKey(), where), shape, false),
                    imported + ":" + e.getValue().index(), type, dims != null && dims.length > 0,
                    renames.getOrDefault(e.getKey(), e.getKey())));
        }
        for (String key : renames.keySet()) {
            if (feeds.stream().noneMatch(f -> f.input().name().equals(key))) {
                throw new ModelException(where + ": model param inputNames names model input '" + key + "', which"
                        + " is not one of its other inputs: " + (feeds.isEmpty() ? "it has none besides the primary '"
                        + primaryName + "'" : feeds.stream().map(f -> f.input().name()).collect(Collectors.joining(", "))));
            }
        }
        return new TfInputs(primary, feeds);
    }

    private static DType dtype(DataType type, String name, String where) {
        return switch (type) {
            case DT_INT32 -> DType.INT32;
            case DT_INT64 -> DType.INT64;
            case DT_STRING -> DType.STRING;
            case DT_FLOAT -> DType.FLOAT32;
            default -> throw new ModelException(where + ": input '" + name + "' has dtype " + type + "; the backend"
                    + " feeds DT_FLOAT, DT_INT32, DT_INT64 and DT_STRING inputs besides the primary one");
        };
    }

    /** @return every input, the primary first */
    List<ModelInput> list() {
        return inputs;
    }

    /** @return the primary input */
    Feed primary() {
        return primary;
    }

    /** @return the inputs other than the primary */
    List<Feed> others() {
        return others;
    }

    /**
     * Matches data to the inputs.
     *
     * @param data  the primary data and the named data tensors
     * @param named the named data tensors
     * @param where the model, for messages
     * @return the feeds, the primary first
     * @throws ModelException when an input has no data or data of the wrong type or shape, naming both sides
     */
    List<Fed> feeds(Tensor data, Map<String, Tensor> named, String where) {
        List<Fed> out = new ArrayList<>(others.size() + 1);
        out.add(fed(primary, data, "the data's primary tensor", where));
        for (Feed f : others) {
            Tensor t = named.get(f.dataName());
            if (t == null) {
                String has = "the primary tensor " + describe(data) + (named.isEmpty() ? " and no named tensors"
                        : " and named tensors " + named.entrySet().stream().map(e -> e.getKey() + " "
                        + describe(e.getValue())).collect(Collectors.joining(", ", "[", "]")));
                throw new ModelException("model " + where + ": input '" + f.input().name() + "' (" + describe(f)
                        + ") has no match in the data" + (f.dataName().equals(f.input().name()) ? ""
                        : " (model param inputNames maps it to '" + f.dataName() + "')") + "; the data have " + has
                        + (named.isEmpty() ? "" : "; map it to one of them with model param inputNames, e.g. {"
                        + f.input().name() + ": " + named.keySet().iterator().next() + "}"));
            }
            out.add(fed(f, t, "the data's '" + f.dataName() + "'", where));
        }
        return out;
    }

    private static Fed fed(Feed f, Tensor t, String what, String where) {
        DataType type = f.type();
        boolean ok = switch (t.dtype()) {
            case FLOAT32 -> type == DataType.DT_FLOAT;
            case INT32 -> type == DataType.DT_INT32 || type == DataType.DT_INT64;
            case INT64 -> type == DataType.DT_INT64;
            case STRING -> type == DataType.DT_STRING;
        };
        int[] expected = f.input().shape();
        int[] s = t.shape();
        boolean shaped = !f.known() || s.length == expected.length + 1;
        for (int i = 0; shaped && f.known() && i < expected.length; i++) {
            shaped = expected[i] < 0 || s[i + 1] == expected[i];
        }
        if (!ok || !shaped) {
            throw new ModelException("model " + where + ": input '" + f.input().name() + "' takes " + describe(f)
                    + " per batch, but " + what + " is " + describe(t) + (ok ? "" : t.dtype() == DType.INT64
                    && type == DataType.DT_INT32 ? " (INT64 values are not narrowed to INT32)" : ""));
        }
        return new Fed(f.tensor(), t, type);
    }

    /**
     * @param f a feed
     * @return its data as the model sees them: INT32 data of an INT64 input widened, otherwise the data themselves
     */
    static Tensor asFed(Fed f) {
        Tensor t = f.data();
        if (f.type() != DataType.DT_INT64 || t.dtype() != DType.INT32) {
            return t;
        }
        int[] src = t.ints();
        long[] wide = new long[src.length];
        for (int i = 0; i < src.length; i++) {
            wide[i] = src[i];
        }
        return Tensor.ofLongs(wide, t.shape());
    }

    private static String describe(Feed f) {
        int[] s = f.input().shape();
        return f.input().dtype() + " " + (f.known() ? Arrays.stream(s).mapToObj(d -> d < 0 ? "?" : String.valueOf(d))
                .collect(Collectors.joining(", ", "[n, ", "]")).replace("[n, ]", "[n]") : "of any shape");
    }

    private static String describe(Tensor t) {
        return t.dtype() + " " + Arrays.toString(t.shape());
    }
}
