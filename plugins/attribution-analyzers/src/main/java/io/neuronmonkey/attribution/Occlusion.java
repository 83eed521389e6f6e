package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * Occlusion: how much the target drops when a square window of the input is set to a constant. Gradient-free, so it
 * works with any backend.
 *
 * <p><b>Geometry.</b> Image examples ({@code [height, width, channels]}, channels last as fed) are covered by
 * {@code patch x patch} windows over all channels whose top-left corners step by {@code stride} along rows and
 * columns, starting at 0 and stopping once a window reaches the last row (column); a window that would pass the edge
 * is clipped to the image. Vector examples ({@code [d]}) are a {@code 1 x d} image of one channel: each window spans
 * {@code patch} consecutive features. For each window the difference {@code F(x) - F(occluded)} of the target is
 * recorded; a value of the map is the mean of the differences of the windows covering it (0 where none does, which
 * happens only when {@code stride > patch}), broadcast over the channels.
 *
 * <p><b>Batching.</b> The occluded copies of all examples of a batch are fed to the model in runs of at most
 * {@code chunkRows} rows, each copy written by bulk array copies and fills; memory stays bounded by the chunk.
 */
final class Occlusion implements AttributionMethod {

    /** Rows per model run unless another bound is given. */
    static final int DEFAULT_CHUNK_ROWS = 1024;

    private final int patch;
    private final int stride;
    private final float value;
    private final int chunkRows;

    /**
     * @param patch the window's side, >= 1
     * @param stride the step between windows, >= 1
     * @param value the value occluded inputs are set to (finite)
     * @throws IllegalArgumentException naming the bad setting
     */
    Occlusion(int patch, int stride, float value) {
        this(patch, stride, value, DEFAULT_CHUNK_ROWS);
    }

    /**
     * @param patch     the window's side, >= 1
     * @param stride    the step between windows, >= 1
     * @param value     the value occluded inputs are set to (finite)
     * @param chunkRows the most occluded copies per model run, >= 1
     * @throws IllegalArgumentException naming the bad setting
     */
    Occlusion(int patch, int stride, float value, int chunkRows) {
        if (patch < 1) {
            throw new IllegalArgumentException("occlusion patch must be >= 1, found " + patch);
        }
        if (stride < 1) {
            throw new IllegalArgumentException("occlusion stride must be >= 1, found " + stride);
        }
        if (!Float.isFinite(value)) {
            throw new IllegalArgumentException("occlusion value must be finite, found " + value);
        }
        if (chunkRows < 1) {
            throw new IllegalArgumentException("occlusion chunk must be >= 1 rows, found " + chunkRows);
        }
        this.patch = patch;
        this.stride = stride;
        this.value = value;
        this.chunkRows = chunkRows;
    }

    @Override
    public String name() {
        return "occlusion";
    }

    @Override
    public boolean needsGradients() {
        return false;
    }

    /**
     * @param size the image's extent along one axis
     * @return the windows' first indices along it: multiples of the stride until a window reaches the edge
     */
    int[] starts(int size) {
        int count = 1;
        while ((count - 1) * stride + patch < size) {
            count++;
        }
        int[] s = new int[count];
        for (int i = 0; i < count; i++) {
            s[i] = i * stride;
        }
        return s;
    }

    @Override
    public Tensor attribute(LoadedModel model, Batch batch, Target.Bound target, int[] targetRows) {
        Tensor in = batch.inputs();
        int[] shape = in.shape();
        int h;
        int w;
        int ch;
        if (shape.length == 4) {
            h = shape[1];
            w = shape[2];
            ch = shape[3];
        } else if (shape.length == 2) {
            h = 1;
            w = shape[1];
            ch = 1;
        } else {
            throw new AnalysisException("occlusion needs image examples [height, width, channels] or vectors [d];"
                    + " the batch is " + Arrays.toString(shape));
        }
        int n = batch.size();
        int rowSize = in.rowSize();
        float[] src = in.floats();
        List<String> layers = List.of(target.layer());
        float[] base = target.values(model.run(batch.modelInputs(), layers, List.of()), targetRows);

        int[] rowStarts = starts(h);
        int[] colStarts = starts(w);
        int windows = rowStarts.length * colStarts.length;
        int[] cover = new int[h * w];
        for (int r0 : rowStarts) {
            for (int c0 : colStarts) {
                for (int r = r0; r < Math.min(r0 + patch, h); r++) {
                    for (int c = c0; c < Math.min(c0 + patch, w); c++) {
                        cover[r * w + c]++;
                    }
                }
            }
        }

        double[] sums = new double[n * h * w];
        long total = (long) n * windows;
        for (long first = 0; first < total; first += chunkRows) {
            int rows = (int) Math.min(chunkRows, total - first);
            float[] buf = new float[rows * rowSize];
            int[] chunkTargets = new int[rows];
            int[] of = new int[rows];
            for (int i = 0; i < rows; i++) {
                long g = first + i;
                int e = (int) (g / windows);
                int win = (int) (g % windows);
                int r0 = rowStarts[win / colStarts.length];
                int c0 = colStarts[win % colStarts.length];
                int o = i * rowSize;
                System.arraycopy(src, e * rowSize, buf, o, rowSize);
                int c1 = Math.min(c0 + patch, w);
                for (int r = r0; r < Math.min(r0 + patch, h); r++) {
                    Arrays.fill(buf, o + (r * w + c0) * ch, o + (r * w + c1) * ch, value);
                }
                chunkTargets[i] = targetRows[e];
                of[i] = e;
            }
            int[] chunkShape = shape.clone();
            chunkShape[0] = rows;
            float[] f = target.values(model.run(TextAttribution.rowsOf(batch.modelInputs(), of, Tensor.ofFloats(buf, chunkShape)),
                    layers, List.of()), chunkTargets);
            for (int i = 0; i < rows; i++) {
                long g = first + i;
                int e = (int) (g / windows);
                int win = (int) (g % windows);
                int r0 = rowStarts[win / colStarts.length];
                int c0 = colStarts[win % colStarts.length];
                double d = (double) base[e] - f[i];
                int o = e * h * w;
                for (int r = r0; r < Math.min(r0 + patch, h); r++) {
                    for (int c = c0; c < Math.min(c0 + patch, w); c++) {
                        sums[o + r * w + c] += d;
                    }
                }
            }
        }

        float[] out = new float[n * rowSize];
        for (int e = 0; e < n; e++) {
            for (int p = 0; p < h * w; p++) {
                float m = cover[p] == 0 ? 0f : (float) (sums[e * h * w + p] / cover[p]);
                int o = e * rowSize + p * ch;
                Arrays.fill(out, o, o + ch, m);
            }
        }
        return Tensor.ofFloats(out, shape);
    }
}
