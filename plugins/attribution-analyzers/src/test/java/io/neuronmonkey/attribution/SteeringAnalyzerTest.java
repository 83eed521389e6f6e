package io.neuronmonkey.attribution;

import io.neuronmonkey.api.AnalysisException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.ExampleFilter;
import io.neuronmonkey.api.model.Intervention;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SteeringAnalyzerTest {

    @TempDir
    Path tmp;

    static SteeringAnalyzer.Params groups(String layer, List<Double> scales, Map<String, String> where, long limit) {
        return new SteeringAnalyzer.Params(layer, Map.of("watermark", "off"), Map.of("watermark", "on"), null, scales, where, limit, 4096);
    }

    /** Writes a .npy file by hand: magic, version, header padded to 64 bytes, little-endian values. */
    static Path npy(Path file, String descr, double[] values) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + values.length + ",), }";
        int pad = 64 - (10 + dict.length() + 1) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        int width = descr.equals("<f4") ? 4 : 8;
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + values.length * width).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        for (double v : values) {
            if (width == 4) {
                b.putFloat((float) v);
            } else {
                b.putDouble(v);
            }
        }
        Files.write(file, b.array());
        return file;
    }

    @Test
    void readsNpyVectorsAndRefusesOtherFiles() throws IOException {
        double[] v = {1.5, -2.25, 3e-3, 0};
        assertArrayEquals(new float[] {1.5f, -2.25f, 3e-3f, 0f}, NpyVector.read(npy(tmp.resolve("a.npy"), "<f4", v)));
        assertArrayEquals(new float[] {1.5f, -2.25f, 3e-3f, 0f}, NpyVector.read(npy(tmp.resolve("b.npy"), "<f8", v)));
        AnalysisException e = assertThrows(AnalysisException.class, () -> NpyVector.read(npy(tmp.resolve("c.npy"), "<i4", v)));
        assertTrue(e.getMessage().contains("<i4"), e.getMessage());
        Files.writeString(tmp.resolve("d.npy"), "not numpy");
        assertThrows(AnalysisException.class, () -> NpyVector.read(tmp.resolve("d.npy")));
    }

    @Test
    void scaleZeroIsThePlainRunAndTheDirectionIsTheMeanDifference() {
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 200)) {
            AnalysisResult r = run(m, d, groups("conv2", List.of(-1.0, 0.0, 1.0), Map.of("class", "!square"), 80));
            // naive direction: mean over positions and examples, per channel, of 'on' minus 'off'
            double[][] sum = new double[2][16];
            long[] count = new long[2];
            for (Iterator<Batch> it = d.batches(64); it.hasNext(); ) {
                Batch b = it.next();
                float[] v = m.run(b.inputs(), List.of("conv2")).get("conv2").floats();
                int per = v.length / b.size();
                for (int row = 0; row < b.size(); row++) {
                    int g = b.metadata().get(row).get("watermark").equals("on") ? 1 : 0;
                    count[g]++;
                    for (int i = 0; i < per; i++) {
                        sum[g][i % 16] += v[row * per + i] / (per / 16.0);
                    }
                }
            }
            float[] dir = r.part("conv2-steering-direction", NeuronTable.class).orElseThrow().column("direction").orElseThrow().values().floats();
            for (int j = 0; j < 16; j++) {
                assertEquals(sum[1][j] / count[1] - sum[0][j] / count[0], dir[j], 1e-4, "direction " + j);
            }
            // scale 0 equals the plain run exactly
            double[] plain = new double[4];
            long[] predicted = new long[4];
            double[] pr = new double[4];
            int n = 0;
            for (Iterator<Batch> it = new ExampleFilter(d, Map.of("class", "!square"), 80, "t").batches(64); it.hasNext(); ) {
                Batch b = it.next();
                float[] l = m.run(b.inputs(), List.of("logits")).get("logits").floats();
                for (int row = 0; row < b.size(); row++) {
                    RowBlocks.softmax(l, row, 4, pr);
                    for (int c = 0; c < 4; c++) {
                        plain[c] += pr[c];
                    }
                    predicted[RowBlocks.argmax(l, row, 4)]++;
                    n++;
                }
            }
            Series probs = r.part("steering", Series.class).orElseThrow();
            Series shares = r.part("steering-predictions", Series.class).orElseThrow();
            for (int c = 0; c < 4; c++) {
                assertEquals((float) (plain[c] / n), probs.curves().get(c).y().get(1), 0f, "class " + c);
                assertEquals((float) ((double) predicted[c] / n), shares.curves().get(c).y().get(1), 0f, "class " + c);
            }
            // scale 1 adds the direction at every position of conv2: the same as one manual steer of the whole batch
            double[] steered = new double[4];
            for (Iterator<Batch> it = new ExampleFilter(d, Map.of("class", "!square"), 80, "t").batches(80); it.hasNext(); ) {
                Batch b = it.next();
                float[] l = m.run(b.inputs(), List.of("logits"), List.of(Intervention.steer("conv2", dir))).get("logits").floats();
                for (int row = 0; row < b.size(); row++) {
                    RowBlocks.softmax(l, row, 4, pr);
                    for (int c = 0; c < 4; c++) {
                        steered[c] += pr[c] / n;
                    }
                }
            }
            for (int c = 0; c < 4; c++) {
                assertEquals(steered[c], probs.curves().get(c).y().get(2), 1e-5, "scale 1, class " + c);
            }
            System.out.println("steering conv2 off->on on non-squares: " + r.findings().get(0).claim() + "; share square at -1,0,1: "
                    + shares.curves().get(1).y().get(0) + ", " + shares.curves().get(1).y().get(1) + ", " + shares.curves().get(1).y().get(2));
        }
    }

    @Test
    void steeringADenseLayerByAKnownVectorEqualsAManualAdd() throws IOException {
        double[] v = new double[32];
        for (int j = 0; j < 32; j++) {
            v[j] = Math.sin(j) * 0.7;
        }
        npy(tmp.resolve("dir.npy"), "<f4", v);
        try (LoadedModel m = TestSupport.demoModel(); Dataset d = TestSupport.shapes("decorrelated", 90)) {
            AnalysisResult r = run(m, d, new SteeringAnalyzer.Params("dense1", null, null, "dir.npy", List.of(2.0, -0.5), Map.of(), 90, 100));
            for (int s = 0; s < 2; s++) {
                double scale = s == 0 ? 2.0 : -0.5;
                List<Intervention> ivs = new ArrayList<>();
                for (int j = 0; j < 32; j++) {
                    ivs.add(Intervention.add("dense1", (float) (scale * (float) v[j]), j));
                }
                double[] prob = new double[4];
                long[] predicted = new long[4];
                double[] pr = new double[4];
                for (Iterator<Batch> it = d.batches(45); it.hasNext(); ) {
                    Batch b = it.next();
                    Tensor out = m.run(b.inputs(), List.of("logits"), ivs).get("logits");
                    for (int row = 0; row < b.size(); row++) {
                        RowBlocks.softmax(out.floats(), row, 4, pr);
                        for (int c = 0; c < 4; c++) {
                            prob[c] += pr[c];
                        }
                        predicted[RowBlocks.argmax(out.floats(), row, 4)]++;
                    }
                }
                for (int c = 0; c < 4; c++) {
                    assertEquals(prob[c] / 90, r.part("steering", Series.class).orElseThrow().curves().get(c).y().get(s), 1e-5);
                    assertEquals(predicted[c] / 90.0, r.part("steering-predictions", Series.class).orElseThrow().curves().get(c).y().get(s), 1e-6);
                }
            }
            AnalysisException e = assertThrows(AnalysisException.class, () -> run(m, d,
                    new SteeringAnalyzer.Params("conv2", null, null, "dir.npy", List.of(1.0), Map.of(), 10, 100)));
            assertTrue(e.getMessage().contains("32 values") && e.getMessage().contains("16 neurons"), e.getMessage());
        }
        assertThrows(RuntimeException.class, () -> new SteeringAnalyzer.Params("conv2", Map.of("watermark", "on"), null, null, List.of(1.0), Map.of(), 10, 100));
        assertThrows(RuntimeException.class, () -> new SteeringAnalyzer.Params("conv2", null, null, null, List.of(1.0), Map.of(), 10, 100));
        assertThrows(RuntimeException.class, () -> new SteeringAnalyzer.Params("conv2", null, null, "x.npy", List.of(1.0, 1.0), Map.of(), 10, 100));
    }

    private AnalysisResult run(LoadedModel m, Dataset d, SteeringAnalyzer.Params p) {
        return new SteeringAnalyzer().analyze(new TestSupport.Context<>("st", p, m, d, List.of(), 64, tmp));
    }
}
