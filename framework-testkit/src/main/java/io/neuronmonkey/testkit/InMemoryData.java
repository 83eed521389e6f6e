package io.neuronmonkey.testkit;

import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.tensor.Tensor;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.TreeMap;

/**
 * A data set held in memory: examples of one shape, with labels (or none), ids and metadata, read in batches in the
 * order they were added.
 *
 * <pre>{@code
 * Dataset data = InMemoryData.builder(4).classes("a", "b")
 *         .add(new float[]{1, 0, 0, 2}, 0, Map.of("color", "red"))
 *         .add(new float[]{0, 1, 3, 0}, 1, Map.of("color", "blue"))
 *         .build();
 * }</pre>
 */
public final class InMemoryData implements Dataset {

    private final int[] exampleShape;
    private final int width;
    private final float[] inputs;
    private final int[] labels;
    private final List<String> ids;
    private final List<Map<String, String>> metadata;
    private final DatasetInfo info;

    private InMemoryData(Builder b) {
        this.exampleShape = b.shape.clone();
        this.width = b.width;
        int n = b.ids.size();
        this.inputs = new float[n * width];
        for (int i = 0; i < n; i++) {
            System.arraycopy(b.rows.get(i), 0, inputs, i * width, width);
        }
        this.labels = b.classes.isEmpty() ? null : b.labels.stream().mapToInt(Integer::intValue).toArray();
        this.ids = List.copyOf(b.ids);
        this.metadata = List.copyOf(b.metadata);
        LinkedHashSet<String> keys = new LinkedHashSet<>();
        metadata.forEach(m -> keys.addAll(new TreeMap<>(m).keySet()));
        this.info = new DatasetInfo(n, exampleShape, b.classes, List.copyOf(keys));
    }

    /**
     * @param exampleShape the shape of one example, without the batch dimension
     * @return an empty builder
     */
    public static Builder builder(int... exampleShape) {
        return new Builder(exampleShape);
    }

    /**
     * Examples drawn from a seeded standard normal distribution, labelled by the arg-max of their first
     * {@code classes} values (so a model can learn them), with metadata {@code parity} = even or odd by index.
     *
     * @param seed    the seed
     * @param count   number of examples
     * @param width   values per example (at least {@code classes})
     * @param classes number of classes, named {@code c0, c1, ...}
     * @return the data set
     */
    public static InMemoryData gaussian(long seed, int count, int width, int classes) {
        if (classes < 1 || width < classes) {
            throw new IllegalArgumentException("need 1 <= classes <= width, got " + classes + " classes of width " + width);
        }
        Random rnd = new Random(seed);
        String[] names = new String[classes];
        for (int c = 0; c < classes; c++) {
            names[c] = "c" + c;
        }
        Builder b = builder(width).classes(names);
        for (int i = 0; i < count; i++) {
            float[] x = new float[width];
            int best = 0;
            for (int j = 0; j < width; j++) {
                x[j] = (float) rnd.nextGaussian();
                if (j < classes && x[j] > x[best]) {
                    best = j;
                }
            }
            b.add(x, best, Map.of("parity", i % 2 == 0 ? "even" : "odd"));
        }
        return b.build();
    }

    /** @return every example's values, row-major {@code [size * width]}, a copy */
    public float[] inputs() {
        return inputs.clone();
    }

    /** @return every example's label, a copy; null when the data have no classes */
    public int[] labels() {
        return labels == null ? null : labels.clone();
    }

    /** @return every example's metadata, in order */
    public List<Map<String, String>> metadata() {
        return metadata;
    }

    @Override
    public DatasetInfo info() {
        return info;
    }

    @Override
    public Iterator<Batch> batches(int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
        }
        int n = ids.size();
        return new Iterator<>() {
            int next;

            @Override
            public boolean hasNext() {
                return next < n;
            }

            @Override
            public Batch next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                int from = next;
                int to = Math.min(n, from + batchSize);
                next = to;
                int[] shape = new int[exampleShape.length + 1];
                shape[0] = to - from;
                System.arraycopy(exampleShape, 0, shape, 1, exampleShape.length);
                return new Batch(from, Tensor.ofFloats(Arrays.copyOfRange(inputs, from * width, to * width), shape),
                        labels == null ? null : Arrays.copyOfRange(labels, from, to), ids.subList(from, to),
                        metadata.subList(from, to));
            }
        };
    }

    @Override
    public String fingerprint() {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate(inputs.length * 4);
            for (float v : inputs) {
                b.putFloat(v);
            }
            md.update(b.array());
            md.update(Arrays.toString(labels).getBytes(StandardCharsets.UTF_8));
            md.update(ids.toString().getBytes(StandardCharsets.UTF_8));
            md.update(metadata.toString().getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Collects examples. */
    public static final class Builder {
        private final int[] shape;
        private final int width;
        private List<String> classes = List.of();
        private final List<float[]> rows = new ArrayList<>();
        private final List<Integer> labels = new ArrayList<>();
        private final List<String> ids = new ArrayList<>();
        private final List<Map<String, String>> metadata = new ArrayList<>();

        private Builder(int[] shape) {
            int w = 1;
            for (int d : shape) {
                if (d < 1) {
                    throw new IllegalArgumentException("example shape " + Arrays.toString(shape) + " has a dimension < 1");
                }
                w *= d;
            }
            this.shape = shape.clone();
            this.width = w;
        }

        /**
         * @param names class names, indexed by label; none for data without labels
         * @return this builder
         */
        public Builder classes(String... names) {
            this.classes = List.of(names);
            return this;
        }

        /**
         * Adds an example with id {@code e<index>}.
         *
         * @param values   the example, row-major, as many values as the example shape holds
         * @param label    its class index ({@code -1} when unknown; ignored when there are no classes)
         * @param metadata its metadata
         * @return this builder
         */
        public Builder add(float[] values, int label, Map<String, String> metadata) {
            return add("e" + ids.size(), values, label, metadata);
        }

        /**
         * @param id       the example's id
         * @param values   the example, row-major
         * @param label    its class index ({@code -1} when unknown)
         * @param metadata its metadata
         * @return this builder
         */
        public Builder add(String id, float[] values, int label, Map<String, String> metadata) {
            if (values.length != width) {
                throw new IllegalArgumentException("example '" + id + "' has " + values.length + " values, the shape "
                        + Arrays.toString(shape) + " holds " + width);
            }
            if (!classes.isEmpty() && (label < -1 || label >= classes.size())) {
                throw new IllegalArgumentException("example '" + id + "' has label " + label + ", classes are " + classes);
            }
            rows.add(values.clone());
            labels.add(label);
            ids.add(id);
            this.metadata.add(Map.copyOf(metadata));
            return this;
        }

        /** @return the data set */
        public InMemoryData build() {
            return new InMemoryData(this);
        }
    }
}
