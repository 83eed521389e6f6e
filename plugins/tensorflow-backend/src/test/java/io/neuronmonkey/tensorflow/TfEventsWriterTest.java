package io.neuronmonkey.tensorflow;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.proto.Event;
import org.tensorflow.proto.HistogramProto;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The TensorBoard event file read back record by record. */
class TfEventsWriterTest {

    /** Reads every record, checking both framing CRCs against a bitwise CRC-32C. */
    static List<Event> read(Path file) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        List<Event> events = new ArrayList<>();
        while (b.hasRemaining()) {
            byte[] header = new byte[8];
            b.get(header);
            long length = ByteBuffer.wrap(header).order(ByteOrder.LITTLE_ENDIAN).getLong();
            assertEquals(masked(header), b.getInt(), "length CRC of record " + events.size());
            byte[] data = new byte[Math.toIntExact(length)];
            b.get(data);
            assertEquals(masked(data), b.getInt(), "data CRC of record " + events.size());
            events.add(Event.parseFrom(data));
        }
        return events;
    }

    /** Bitwise CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), rotated and offset as the framing stores it. */
    private static int masked(byte[] data) {
        int crc = 0xFFFFFFFF;
        for (byte x : data) {
            crc ^= x & 0xFF;
            for (int k = 0; k < 8; k++) {
                crc = (crc & 1) != 0 ? (crc >>> 1) ^ 0x82F63B78 : crc >>> 1;
            }
        }
        crc = ~crc;
        return Integer.rotateRight(crc, 15) + 0xa282ead8;
    }

    @Test
    void bitwiseCrcMatchesTheStandardCheckValue() {
        // CRC-32C("123456789") = 0xE3069283
        int unmasked = Integer.rotateLeft(masked("123456789".getBytes(StandardCharsets.US_ASCII)) - 0xa282ead8, 15);
        assertEquals(0xE3069283, unmasked);
    }

    @Test
    void writesFramedScalarsAndHistograms(@TempDir Path dir) throws IOException {
        Path file;
        try (TfEventsWriter w = TfEventsWriter.open(dir.resolve("tb"))) {
            w.scalar("loss", 3, 0.25);
            w.histogram("dense1/neuron_mean", 3, new float[] {0, 1, 1, 2, 3});
            w.histogram("flat", 4, new float[] {5, 5});
            file = w.file();
        }
        assertTrue(file.getFileName().toString().startsWith("events.out.tfevents."));
        List<Event> events = read(file);
        assertEquals(4, events.size());
        assertEquals("brain.Event:2", events.get(0).getFileVersion());
        assertEquals(3, events.get(1).getStep());
        assertEquals("loss", events.get(1).getSummary().getValue(0).getTag());
        assertEquals(0.25f, events.get(1).getSummary().getValue(0).getSimpleValue());

        HistogramProto h = events.get(2).getSummary().getValue(0).getHisto();
        assertEquals("dense1/neuron_mean", events.get(2).getSummary().getValue(0).getTag());
        assertEquals(5, h.getNum());
        assertEquals(7, h.getSum());
        assertEquals(15, h.getSumSquares());
        assertEquals(0, h.getMin());
        assertEquals(3, h.getMax());
        assertEquals(h.getBucketCount(), h.getBucketLimitCount());
        assertEquals(3, h.getBucketLimit(h.getBucketLimitCount() - 1));
        double total = 0;
        double below1 = 0;
        for (int i = 0; i < h.getBucketCount(); i++) {
            total += h.getBucket(i);
            // bucket i holds values in (limit[i-1], limit[i]]: the values < 1 are the single 0
            below1 += h.getBucketLimit(i) < 1 ? h.getBucket(i) : 0;
        }
        assertEquals(5, total);
        assertEquals(1, below1);

        HistogramProto flat = events.get(3).getSummary().getValue(0).getHisto();
        assertEquals(1, flat.getBucketCount());
        assertEquals(2, flat.getBucket(0));
        assertEquals(4, events.get(3).getStep());
    }
}
