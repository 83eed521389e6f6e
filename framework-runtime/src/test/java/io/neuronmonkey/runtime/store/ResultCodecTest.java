package io.neuronmonkey.runtime.store;

import io.neuronmonkey.api.OutputException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.result.ExampleSet;
import io.neuronmonkey.api.result.Finding;
import io.neuronmonkey.api.result.InputMaps;
import io.neuronmonkey.api.result.Interval;
import io.neuronmonkey.api.result.Matrix;
import io.neuronmonkey.api.result.NdArray;
import io.neuronmonkey.api.result.NeuronRef;
import io.neuronmonkey.api.result.NeuronTable;
import io.neuronmonkey.api.result.Ranking;
import io.neuronmonkey.api.result.Series;
import io.neuronmonkey.api.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResultCodecTest {

    @TempDir
    Path dir;

    /** One part of every kind, with intervals, NaN and infinities where the vocabulary allows them. */
    static AnalysisResult everyKind() {
        float[] mean = {0.5f, Float.NaN, 2f};
        NeuronTable table = new NeuronTable("l1-stats", "l1: stats", "l1", 3, List.of(
                NeuronTable.Column.of("mean", "activation", mean),
                new NeuronTable.Column("rate", "fraction", "firing rate", NdArray.perNeuron(new float[]{0.1f, 0, 1}),
                        NdArray.perNeuron(new float[]{0.05f, 0, 0.9f}), NdArray.perNeuron(new float[]{0.2f, 0.1f, 1}))),
                List.of(new NeuronTable.Tag("dead", "never fires", List.of(1))), "a table");
        Ranking ranking = new Ranking("r", "ranked", "Cohen's d", List.of(
                new Ranking.Entry(new NeuronRef("l1", 2), 4.5, new Interval(4.1, 4.9, 0.95, "normal"), 1e-300, 0.0, "on vs off"),
                new Ranking.Entry(new NeuronRef("l1", 0), Double.NEGATIVE_INFINITY, null, null, null, "")), "");
        ExampleSet examples = new ExampleSet("l1-top", "top", "l1", "top", "max", List.of(new ExampleSet.NeuronExamples(2,
                List.of(new ExampleSet.Example(1, 17, "ex-17", 3.25, 1, Map.of("watermark", "on", "size", 3), new int[]{0, 1},
                        new int[]{0, 2, 3, 5}), new ExampleSet.Example(2, 4, "ex-4", 2.5, 0, Map.of(), new int[]{3}, null,
                        new ExampleSet.TextContext(List.of("[CLS]", " the", " vile", " ending"),
                                new float[]{0.5f, Float.NaN, 2.5f, -1f}, 2, 0))))),
                NdArray.of(Tensor.ofFloats(new float[]{1, 2, 3, Float.NaN}, 1, 1, 2, 2), "neuron", "rank", "height", "width"),
                List.of("a", "b"));
        Matrix matrix = new Matrix("l1-hist", "hist", Matrix.Axis.neurons(3), new Matrix.Axis("bin", List.of("[0, 1)", "[1, 2)"),
                new double[]{0, 1, 2}), NdArray.of(Tensor.ofFloats(new float[]{1, 2, 3, 4, 5, 6}, 3, 2), "neuron", "bin"),
                "examples", "l1", "");
        Series series = new Series("curve", "ablation", "neurons removed", "accuracy", List.of(
                new Series.Curve("top first", NdArray.of(Tensor.ofFloats(new float[]{0, 1, 2}, 3), "point"),
                        NdArray.of(Tensor.ofFloats(new float[]{0.9f, 0.7f, 0.4f}, 3), "point"),
                        NdArray.of(Tensor.ofFloats(new float[]{0.85f, 0.65f, 0.35f}, 3), "point"),
                        NdArray.of(Tensor.ofFloats(new float[]{0.95f, 0.75f, 0.45f}, 3), "point")),
                Series.Curve.of("random", new float[]{0, 1, 2}, new float[]{0.9f, 0.88f, 0.85f})), "");
        InputMaps maps = new InputMaps("ig", "integrated gradients", "logit 1", List.of("ex-1"),
                NdArray.of(Tensor.ofFloats(new float[]{0.1f, -0.2f, 0.3f, 0}, 1, 2, 2, 1), "example", "height", "width", "channel"),
                null, "64 steps");
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("examples", 40);
        summary.put("note", "method");
        return AnalysisResult.builder().put("examples", 40).put("note", "method")
                .part(table).part(ranking).part(examples).part(matrix).part(series).part(maps)
                .finding(new Finding("f1", Finding.Severity.NOTABLE, "l1 #2 tracks the watermark",
                        new Finding.Strength("Cohen's d", 4.5, new Interval(4.1, 4.9, 0.95, "normal"), 0.0),
                        List.of(new NeuronRef("l1", 2)), List.of("r", "l1-stats")))
                .finding(new Finding("f2", Finding.Severity.WARNING, "l1 has NaN", null, List.of(), List.of()))
                .array("extra", Tensor.ofInts(new int[]{1, 2}, 2))
                .build();
    }

    @Test
    void everyPartKindReadsBackAsWrittenAndWritingAgainGivesTheSameFiles() throws IOException {
        Path a = Files.createDirectories(dir.resolve("a"));
        Path b = Files.createDirectories(dir.resolve("b"));
        AnalysisResult r = everyKind();
        ResultCodec.write(r, a, Map.of("step", "s", "analyzer", "x"));
        AnalysisResult back = ResultCodec.read(a);
        ResultCodec.write(back, b, Map.of("step", "s", "analyzer", "x"));
        try (Stream<Path> files = Files.list(a)) {
            List<Path> all = files.sorted().toList();
            assertEquals(1 + 14, all.size(), "result.json and one .npy per array: " + all);
            for (Path f : all) {
                assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(b.resolve(f.getFileName())), f.getFileName().toString());
            }
        }
        // and the values themselves, field by field where NaN and infinities travel as strings
        assertEquals(6, back.parts().size());
        NeuronTable t = back.part("l1-stats", NeuronTable.class).orElseThrow();
        assertTrue(Float.isNaN(t.columns().get(0).values().floats()[1]));
        assertArrayEquals(new float[]{0.05f, 0, 0.9f}, t.columns().get(1).low().floats());
        assertEquals(List.of(1), t.tags().get(0).neurons());
        Ranking rk = back.part("r", Ranking.class).orElseThrow();
        assertEquals(Double.NEGATIVE_INFINITY, rk.entries().get(1).score());
        assertEquals(1e-300, rk.entries().get(0).p());
        assertEquals(4.1, rk.entries().get(0).interval().low());
        assertNull(rk.entries().get(1).interval());
        ExampleSet.Example e = back.part("l1-top", ExampleSet.class).orElseThrow().neurons().get(0).examples().get(0);
        assertEquals(17, e.index());
        assertEquals(3, e.metadata().get("size"), "metadata numbers stay numbers");
        assertArrayEquals(new int[]{0, 2, 3, 5}, e.region());
        assertNull(e.text(), "an image example has no text context");
        ExampleSet.TextContext text = back.part("l1-top", ExampleSet.class).orElseThrow().neurons().get(0).examples().get(1).text();
        assertEquals(List.of("[CLS]", " the", " vile", " ending"), text.pieces());
        assertArrayEquals(new float[]{0.5f, Float.NaN, 2.5f, -1f}, text.values());
        assertEquals("vile", text.token());
        assertArrayEquals(new double[]{0, 1, 2}, back.part("l1-hist", Matrix.class).orElseThrow().cols().edges());
        assertEquals(0.35f, back.part("curve", Series.class).orElseThrow().curves().get(0).low().floats()[2]);
        assertEquals(List.of("example", "height", "width", "channel"), back.part("ig", InputMaps.class).orElseThrow().maps().dims());
        assertEquals(List.of("r", "l1-stats"), back.findings().get(0).evidence());
        assertEquals(Finding.Severity.WARNING, back.findings().get(1).severity());
        assertArrayEquals(new int[]{1, 2}, back.arrays().get("extra").ints());
        assertEquals(40, back.summary().get("examples"));
    }

    @Test
    void resultsOfAnEarlierSchemaAreRefusedSayingSo() throws IOException {
        Files.writeString(dir.resolve("result.json"), "{\"step\": \"census\", \"summary\": {\"examples\": 3}}");
        OutputException e = assertThrows(OutputException.class, () -> ResultCodec.read(dir));
        assertTrue(e.getMessage().contains("earlier NeuronMonkey") && e.getMessage().contains("schema 2"), e.getMessage());

        Files.writeString(dir.resolve("result.json"), "{\"schemaVersion\": 3, \"summary\": {}}");
        e = assertThrows(OutputException.class, () -> ResultCodec.read(dir));
        assertTrue(e.getMessage().contains("schema 3") && e.getMessage().contains("reads schema 2 only"), e.getMessage());
    }

    @Test
    void malformedPartsAndForeignFileNamesAreRefusedNamingTheFile() throws IOException {
        Files.writeString(dir.resolve("result.json"), "{\"schemaVersion\": 2, \"parts\": [{\"kind\": \"pie-chart\", \"id\": \"p\"}]}");
        OutputException e = assertThrows(OutputException.class, () -> ResultCodec.read(dir));
        assertTrue(e.getMessage().contains("pie-chart") && e.getMessage().contains("neuron-table"), e.getMessage());

        Files.writeString(dir.resolve("result.json"), "{\"schemaVersion\": 2, \"arrays\": {\"x\": {\"file\": \"../../etc/passwd\","
                + " \"shape\": [1], \"dtype\": \"float32\", \"dims\": [\"d0\"]}}}");
        e = assertThrows(OutputException.class, () -> ResultCodec.read(dir));
        assertTrue(e.getMessage().contains("plain file name"), e.getMessage());

        Files.writeString(dir.resolve("result.json"), "{\"schemaVersion\": 2, \"parts\": [{\"kind\": \"ranking\", \"id\": \"r\","
                + " \"title\": \"t\", \"score\": \"s\", \"entries\": [{\"layer\": \"l\", \"neuron\": 0, \"score\": \"lots\"}]}]}");
        e = assertThrows(OutputException.class, () -> ResultCodec.read(dir));
        assertTrue(e.getMessage().startsWith("malformed result " + dir.resolve("result.json")) && e.getMessage().contains("\"lots\""),
                e.getMessage());
    }

    @Test
    void findingsMustCitePartsOfTheirOwnResult() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AnalysisResult.builder()
                .finding(new Finding("f", Finding.Severity.INFO, "claim", null, List.of(), List.of("nowhere"))).build());
        assertTrue(e.getMessage().contains("'nowhere'"), e.getMessage());
        assertTrue(Arrays.asList(e.getMessage().split(" ")).contains("cites"), e.getMessage());
    }
}
