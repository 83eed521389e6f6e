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
import java.util.concurrent.ConcurrentHashMap;

/** Reads MNIST-style IDX image and label files, plain or gzip-compressed, streaming them once per pass. */
@Extension
@ExtensionName(value = "idx", description = "MNIST-style IDX image and label files, plain or gzip")
public class IdxSource implements DataSource<IdxSource.Params> {

    private static final int LABEL_CHUNK = 1 << 16;

    /**
     * Params of {@code idx}.
     *
     * @param images     path of the images file, required
     * @param labels     path of the labels file, or null
     * @param scale      factor applied to every pixel value
     * @param classNames label names, or null for {@code "0".."max label"}
     */
    public record Params(
            @Param(description = "path of an IDX images file [n, rows, cols] (e.g. t10k-images-idx3-ubyte.gz)")
            String images,
            @Param(description = "optional path of an IDX labels file [n] (e.g. t10k-labels-idx1-ubyte.gz)")
            String labels,
            @Param(defaultValue = "0.00392156862745098", description = "factor applied to every pixel value "
                    + "(default 1/255 maps bytes to [0, 1])") double scale,
            @Param(description = "optional label names, indexed by label; default \"0\"..max label")
            List<String> classNames) {

        /** Validates every field at once. */
        public Params {
            Violations.check()
                    .require(images != null && !images.isBlank(), "images", "must be the path of an IDX file, found "
                            + (images == null ? "nothing" : "'" + images + "'"))
                    .require(labels == null || !labels.isBlank(), "labels", "must be the path of an IDX file or "
                            + "absent, found ''")
                    .require(classNames == null || labels != null, "classNames", "needs labels: give params.labels")
                    .require(classNames == null || !classNames.isEmpty(), "classNames", "must not be empty")
                    .require(Double.isFinite(scale), "scale", "must be finite, found " + scale)
                    .throwIfAny();
            classNames = classNames == null ? null : List.copyOf(classNames);
        }
    }

    /** Public no-arg constructor for PF4J. */
    public IdxSource() {
    }

    @Override
    public Dataset open(DataContext<Params> ctx) {
        Params p = ctx.params();
        Path imageFile = DataFiles.require(ctx, p.images(), "images");
        Path labelFile = p.labels() == null ? null : DataFiles.require(ctx, p.labels(), "labels");
        IdxFile images = IdxFile.open(imageFile, "images");
        if (images.rank() < 2) {
            throw new DataException("IDX images file " + imageFile + " has rank " + images.rank() + " (is it a labels "
                    + "file?); expected [n, rows, cols] (magic 0x00000803)");
        }
        int[] shape = images.rank() == 3 ? new int[] {images.rowDims()[0], images.rowDims()[1], 1} : images.rowDims();
        List<String> classNames = List.of();
        IdxFile labels = null;
        if (labelFile != null) {
            labels = IdxFile.open(labelFile, "labels");
            if (labels.rank() != 1 || !labels.kind().integral) {
                throw new DataException("IDX labels file " + labelFile + " has rank " + labels.rank() + " and type "
                        + labels.kind().name().toLowerCase() + "; expected a rank-1 integer file (magic 0x00000801)");
            }
            if (labels.count() != images.count()) {
                throw new DataException("IDX files disagree: images file " + imageFile + " has " + images.count()
                        + " images but labels file " + labelFile + " has " + labels.count() + " labels");
            }
            LabelCheck check = new LabelCheck();
            try (IdxFile.Reader r = labels.reader()) {
                for (long from = 0; from < labels.count(); from += LABEL_CHUNK) {
                    int n = (int) Math.min(LABEL_CHUNK, labels.count() - from);
                    check.accept(r.ints(n), n, from, labelFile);
                }
            }
            classNames = check.classNames(p.classNames(), labelFile);
        }
        return new IdxDataset(images, labels, p.scale(), new DatasetInfo(images.count(), shape, classNames, List.of()));
    }

    /** Headers only; each pass opens its own streams, closed at its end or when the data set closes. */
    private static final class IdxDataset implements Dataset {

        private final IdxFile images;
        private final IdxFile labels;
        private final double scale;
        private final DatasetInfo info;
        private final Set<BatchCursor> open = ConcurrentHashMap.newKeySet();
        private volatile String fingerprint;

        IdxDataset(IdxFile images, IdxFile labels, double scale, DatasetInfo info) {
            this.images = images;
            this.labels = labels;
            this.scale = scale;
            this.info = info;
        }

        @Override
        public DatasetInfo info() {
            return info;
        }

        @Override
        public Iterator<Batch> batches(int batchSize) {
            int[] shape = info.exampleShape();
            IdxFile.Reader x = images.reader();
            IdxFile.Reader y;
            try {
                y = labels == null ? null : labels.reader();
            } catch (RuntimeException e) {
                x.close();
                throw e;
            }
            BatchCursor cursor = new BatchCursor(info.size(), batchSize) {
                @Override
                Batch read(long offset, int n) {
                    int[] s = new int[shape.length + 1];
                    s[0] = n;
                    System.arraycopy(shape, 0, s, 1, shape.length);
                    Tensor t = Tensor.ofFloats(x.floats(n, scale), s);
                    int[] l = y == null ? null : y.ints(n);
                    return new Batch(offset, t, l, new ExampleIds("", offset, n), Collections.nCopies(n, Map.of()));
                }

                @Override
                void done() {
                    x.close();
                    if (y != null) {
                        y.close();
                    }
                    open.remove(this);
                }
            };
            open.add(cursor);
            return cursor;
        }

        @Override
        public String fingerprint() {
            String f = fingerprint;
            if (f == null) {
                List<Path> files = new ArrayList<>(Arrays.asList(images.file()));
                if (labels != null) {
                    files.add(labels.file());
                }
                f = DataFiles.sha256Of(files);
                fingerprint = f;
            }
            return f;
        }

        @Override
        public void close() {
            for (BatchCursor c : List.copyOf(open)) {
                c.close();
            }
        }
    }
}
