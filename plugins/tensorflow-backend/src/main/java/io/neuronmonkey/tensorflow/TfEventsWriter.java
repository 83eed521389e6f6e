package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.OutputException;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.HistogramProto;
import org.tensorflow.proto.Summary;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * Writes a TensorBoard event file ({@code events.out.tfevents.<seconds>.neuronmonkey}): one {@link Event} proto per
 * record, framed as TensorBoard reads them: little-endian uint64 length, masked CRC-32C of the length, the bytes,
 * masked CRC-32C of the bytes. The first record names the file version; scalars and histograms follow.
 */
final class TfEventsWriter implements AutoCloseable {

    /** Added to a rotated CRC-32C so that a CRC of data holding CRCs stays well distributed. */
    private static final int MASK_DELTA = 0xa282ead8;
    private static final int HISTOGRAM_BUCKETS = 30;

    private final Path file;
    private final OutputStream out;

    private TfEventsWriter(Path file, OutputStream out) {
        this.file = file;
        this.out = out;
    }

    /**
     * Creates the folder and a new event file in it, and writes the version record.
     *
     * @param dir the log folder ({@code tensorboard --logdir DIR})
     * @return the writer
     */
    static TfEventsWriter open(Path dir) {
        long now = System.currentTimeMillis();
        Path file = dir.resolve("events.out.tfevents." + now / 1000 + ".neuronmonkey");
        try {
            Files.createDirectories(dir);
            TfEventsWriter w = new TfEventsWriter(file, new BufferedOutputStream(Files.newOutputStream(file)));
            w.write(Event.newBuilder().setWallTime(now / 1000.0).setFileVersion("brain.Event:2").build());
            return w;
        } catch (IOException e) {
            throw new OutputException("cannot create the TensorBoard event file " + file + ": " + e.getMessage(), e);
        }
    }

    /** @return the event file */
    Path file() {
        return file;
    }

    /**
     * Writes one scalar.
     *
     * @param tag   the curve's name, e.g. {@code dense1/dead_fraction}
     * @param step  the training step
     * @param value the value
     */
    void scalar(String tag, long step, double value) {
        write(event(step, Summary.Value.newBuilder().setTag(tag).setSimpleValue((float) value).build()));
    }

    /**
     * Writes a histogram of {@code values} in {@value #HISTOGRAM_BUCKETS} equal-width buckets between their minimum
     * and maximum.
     *
     * @param tag    the histogram's name
     * @param step   the training step
     * @param values the values, non-empty
     */
    void histogram(String tag, long step, float[] values) {
        write(event(step, Summary.Value.newBuilder().setTag(tag).setHisto(histogram(values)).build()));
    }

    /**
     * @param values values, non-empty
     * @return their histogram: count, sum, sum of squares, extremes, and bucket counts with right edges
     */
    static HistogramProto histogram(float[] values) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        double sum = 0;
        double squares = 0;
        for (float v : values) {
            min = Math.min(min, v);
            max = Math.max(max, v);
            sum += v;
            squares += (double) v * v;
        }
        HistogramProto.Builder h = HistogramProto.newBuilder().setMin(min).setMax(max).setNum(values.length)
                .setSum(sum).setSumSquares(squares);
        double width = (max - min) / HISTOGRAM_BUCKETS;
        if (width == 0) {
            return h.addBucketLimit(max).addBucket(values.length).build();
        }
        double[] counts = new double[HISTOGRAM_BUCKETS];
        for (float v : values) {
            counts[Math.min(HISTOGRAM_BUCKETS - 1, (int) ((v - min) / width))]++;
        }
        for (int b = 0; b < HISTOGRAM_BUCKETS; b++) {
            h.addBucketLimit(b == HISTOGRAM_BUCKETS - 1 ? max : min + (b + 1) * width).addBucket(counts[b]);
        }
        return h.build();
    }

    private static Event event(long step, Summary.Value value) {
        return Event.newBuilder().setWallTime(System.currentTimeMillis() / 1000.0).setStep(step)
                .setSummary(Summary.newBuilder().addValue(value)).build();
    }

    private void write(Event event) {
        byte[] data = event.toByteArray();
        ByteBuffer header = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(data.length);
        header.putInt(maskedCrc(header.array(), 0, 8));
        try {
            out.write(header.array());
            out.write(data);
            out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(maskedCrc(data, 0, data.length))
                    .array());
        } catch (IOException e) {
            throw new OutputException("cannot write the TensorBoard event file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param bytes  data
     * @param offset first byte
     * @param length number of bytes
     * @return the CRC-32C of the bytes, rotated right by 15 bits plus {@link #MASK_DELTA}, as record framing stores it
     */
    static int maskedCrc(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        int c = (int) crc.getValue();
        return ((c >>> 15) | (c << 17)) + MASK_DELTA;
    }

    /** Flushes records written so far, so that a running TensorBoard sees them. */
    void flush() {
        try {
            out.flush();
        } catch (IOException e) {
            throw new OutputException("cannot write the TensorBoard event file " + file + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            out.close();
        } catch (IOException e) {
            throw new OutputException("cannot close the TensorBoard event file " + file + ": " + e.getMessage(), e);
        }
    }
}
