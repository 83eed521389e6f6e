package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.DataSource;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Reads examples (and optionally integer labels) from NumPy {@code .npy} files, in bulk, without loading them whole. */
@Extension
@ExtensionName(value = "npy", description = "Examples from a NumPy .npy file (dim 0 = examples), labels from another")
public class NpySource implements DataSource<NpySource.Params> {

    private static final Set<NpyArray.Kind> INPUT_KINDS = Set.of(NpyArray.Kind.FLOAT32, NpyArray.Kind.FLOAT64,
            NpyArray.Kind.UINT8, NpyArray.Kind.INT8, NpyArray.Kind.INT32, NpyArray.Kind.INT64);
    private static final int LABEL_CHUNK = 1 << 16;

    /**
     * Params of {@code npy}.
     *
     * @param inputs     path of the examples array, required
     * @param labels     path of the labels array, or null
     * @param classNames label names, or null for {@code "0".."max label"}
     * @param scale      factor applied to every input value
     * @param allowNonFinite whether NaN and infinite inputs are read rather than refused
     */
    public record Params(
            @Param(description = "path of a .npy array whose dimension 0 indexes examples (float32, float64, uint8, "
                    + "int32 or int64, little-endian, C order)") String inputs,
            @Param(description = "optional path of a .npy integer array of class indices, shape [n] or [n, 1]")
            String labels,
            @Param(description = "optional label names, indexed by label; default \"0\"..max label")
            List<String> classNames,
            @Param(defaultValue = "1.0", description = "factor applied to every input value") double scale,
            @Param(defaultValue = "false", description = "read NaN and infinite input values instead of failing on the "
                    + "first; the run then counts and reports them") boolean allowNonFinite) {

        /** Validates every field at once. */
        public Params {
            Violations.check()
                    .require(inputs != null && !inputs.isBlank(), "inputs", "must be the path of a .npy file, found "
                            + (inputs == null ? "nothing" : "'" + inputs + "'"))
                    .require(labels == null || !labels.isBlank(), "labels", "must be the path of a .npy file or "
                            + "absent, found ''")
                    .require(classNames == null || labels != null, "classNames", "needs labels: give params.labels")
                    .require(classNames == null || !classNames.isEmpty(), "classNames", "must not be empty")
                    .require(Double.isFinite(scale), "scale", "must be finite, found " + scale)
                    .throwIfAny();
            classNames = classNames == null ? null : List.copyOf(classNames);
        }
    }

    /** Public no-arg constructor for PF4J. */
    public NpySource() {
    }

    @Override
    public Dataset open(DataContext<Params> ctx) {
        Params p = ctx.params();
        Path inputFile = DataFiles.require(ctx, p.inputs(), "inputs");
        Path labelFile = p.labels() == null ? null : DataFiles.require(ctx, p.labels(), "labels");
        return open(inputFile, labelFile, p.classNames(), p.scale(), p.allowNonFinite(), () -> { });
    }

    /**
     * Opens NPY examples (and labels) as a data set, checking dtypes, shapes and labels.
     *
     * @param inputFile  the examples array
     * @param labelFile  the labels array, or null
     * @param classNames label names, or null for {@code "0".."max label"}
     * @param scale      factor applied to every input value
     * @param allowNonFinite whether NaN and infinite inputs are read rather than refused
     * @param onClose    run once when the data set closes (or when opening fails)
     * @return the data set; the caller closes it
     */
    static Dataset open(Path inputFile, Path labelFile, List<String> classNames, double scale, boolean allowNonFinite,
                        Runnable onClose) {
        NpyArray inputs = null;
        NpyArray labels = null;
        try {
            inputs = NpyArray.open(inputFile);
            if (!INPUT_KINDS.contains(inputs.kind())) {
                throw new DataException("NPY file " + inputFile + " has dtype " + inputs.kind().code + "; inputs must "
                        + "be float32 (<f4), float64 (<f8), uint8 (|u1), int8 (|i1), int32 (<i4) or int64 (<i8)");
            }
            if (inputs.rows() > 0 && inputs.rowElements() == 0) {
                throw new DataException("NPY file " + inputFile + " has shape " + Arrays.toString(inputs.shape())
                        + ": examples with no elements");
            }
            List<String> names = List.of();
            if (labelFile != null) {
                labels = NpyArray.open(labelFile);
                names = checkLabels(labels, inputs, classNames);
            }
            return new NpyDataset(inputs, labels, scale, allowNonFinite,
                    new DatasetInfo(inputs.rows(), inputs.rowShape(), names, List.of()), onClose);
        } catch (RuntimeException e) {
            if (inputs != null) {
                inputs.close();
            }
            if (labels != null) {
                labels.close();
            }
            onClose.run();
            throw e;
        }
    }

    private static List<String> checkLabels(NpyArray labels, NpyArray inputs, List<String> given) {
        long[] shape = labels.shape();
        if (!(shape.length == 1 || shape.length == 2 && shape[1] == 1)) {
            throw new DataException("labels file " + labels.file() + " has shape " + Arrays.toString(shape)
                    + "; expected [n] or [n, 1]");
        }
        if (shape[0] != inputs.rows()) {
            throw new DataException("labels file " + labels.file() + " has " + shape[0] + " labels but inputs file "
                    + inputs.file() + " has " + inputs.rows() + " examples");
        }
        LabelCheck check = new LabelCheck();
        for (long from = 0; from < shape[0]; from += LABEL_CHUNK) {
            int n = (int) Math.min(LABEL_CHUNK, shape[0] - from);
            check.accept(labels.readInts(from, n), n, from, labels.file());
        }
        return check.classNames(given, labels.file());
    }

    /** The open files; passes read them with positioned reads, so they may run at once. */
    private static final class NpyDataset implements Dataset {

        private final NpyArray inputs;
        private final NpyArray labels;
        private final double scale;
        private final boolean allowNonFinite;
        private final DatasetInfo info;
        private final Runnable onClose;
        private volatile String fingerprint;
        private boolean closed;

        NpyDataset(NpyArray inputs, NpyArray labels, double scale, boolean allowNonFinite, DatasetInfo info,
                   Runnable onClose) {
            this.inputs = inputs;
            this.labels = labels;
            this.scale = scale;
            this.allowNonFinite = allowNonFinite;
            this.info = info;
            this.onClose = onClose;
        }

        @Override
        public DatasetInfo info() {
            return info;
        }

        @Override
        public Iterator<Batch> batches(int batchSize) {
            int[] shape = info.exampleShape();
            return new BatchCursor(info.size(), batchSize) {
                @Override
                Batch read(long offset, int n) {
                    int[] s = new int[shape.length + 1];
                    s[0] = n;
                    System.arraycopy(shape, 0, s, 1, shape.length);
                    float[] values = inputs.readFloats(offset, n, scale);
                    if (!allowNonFinite) {
                        requireFinite(values, offset, inputs.file());
                    }
                    Tensor x = Tensor.ofFloats(values, s);
                    int[] y = labels == null ? null : labels.readInts(offset, n);
                    return new Batch(offset, x, y, new ExampleIds("", offset, n), Collections.nCopies(n, Map.of()));
                }
            };
        }

        private void requireFinite(float[] values, long offset, Path file) {
            for (int i = 0; i < values.length; i++) {
                if (!(Math.abs(values[i]) <= Float.MAX_VALUE)) {
                    long example = offset + i / rowElements();
                    throw new DataException("NPY file " + file + ": example " + example + " holds " + values[i]
                            + " at element " + (i % rowElements()) + "; inputs must be finite (an integer or float64 value "
                            + "may also overflow float32 with params.scale), or set params.allowNonFinite: true");
                }
            }
        }

        private int rowElements() {
            int r = 1;
            for (int d : info.exampleShape()) {
                r *= d;
            }
            return Math.max(1, r);
        }

        @Override
        public String fingerprint() {
            String f = fingerprint;
            if (f == null) {
                List<Path> files = new ArrayList<>();
                files.add(inputs.file());
                if (labels != null) {
                    files.add(labels.file());
                }
                f = DataFiles.sha256Of(files);
                fingerprint = f;
            }
            return f;
        }

        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            inputs.close();
            if (labels != null) {
                labels.close();
            }
            onClose.run();
        }
    }
}
