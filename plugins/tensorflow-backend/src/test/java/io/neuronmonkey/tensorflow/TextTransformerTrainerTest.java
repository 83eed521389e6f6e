package io.neuronmonkey.tensorflow;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.InvalidParamsException;
import io.neuronmonkey.api.analysis.AnalysisResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Trains the text transformer on the tiny corpus: it learns, it is deterministic, it saves its vocabulary. */
class TextTransformerTrainerTest {

    static final int LENGTH = 10;

    static TextTransformerTrainer.Params params(int epochs) {
        return new TextTransformerTrainer.Params(epochs, 16, 0.01, 16, 2, 32, 1, null,
                List.of("[PAD]", "[UNK]", "[CLS]"), "group");
    }

    /** Trains on 640 biased sentences, evaluates on held-out biased and decorrelated ones. */
    static TinyTextCorpus.Trainer context(TextTransformerTrainer.Params params, Path out) {
        Map<String, io.neuronmonkey.api.data.Dataset> eval = new LinkedHashMap<>();
        eval.put("test", TinyTextCorpus.dataset(300, 2, 0.9, LENGTH));
        eval.put("decorrelated", TinyTextCorpus.dataset(300, 3, 0.5, LENGTH));
        return new TinyTextCorpus.Trainer(params, TinyTextCorpus.dataset(640, 1, 0.9, LENGTH), eval, out, 7);
    }

    @Test
    @SuppressWarnings("unchecked")
    void learnsTheToxicWordsAndSavesModelAndVocabulary(@TempDir Path out) throws Exception {
        AnalysisResult result = new TextTransformerTrainer().train(context(params(3), out));

        Map<String, Object> accuracy = (Map<String, Object>) result.summary().get("accuracy");
        assertTrue((Double) accuracy.get("test") > 0.95, "accuracy " + accuracy);
        assertTrue((Double) accuracy.get("decorrelated") > 0.9, "accuracy " + accuracy);
        List<Double> losses = (List<Double>) result.summary().get("lossPerEpoch");
        assertEquals(3, losses.size());
        assertTrue(losses.get(2) < losses.get(0) * 0.5, "loss per epoch " + losses);
        assertTrue(losses.get(0) < Math.log(2) * 1.2, "the first epoch's mean loss starts near log 2: " + losses);
        assertEquals(TinyTextCorpus.VOCABULARY, Files.readAllLines(out.resolve("vocab.txt")));
        assertEquals(TinyTextCorpus.VOCABULARY.size(), result.summary().get("vocabularySize"));
        assertTrue(Files.isRegularFile(out.resolve("saved_model.pb")));

        // the per-group breakdown counts every decorrelated example once, per true class
        Map<String, Object> groups = (Map<String, Object>) ((Map<String, Object>) result.summary().get("groups"))
                .get("decorrelated");
        assertEquals("group", groups.get("key"));
        Map<String, Object> byClass = (Map<String, Object>) groups.get("byClass");
        List<TinyTextCorpus.Sentence> decorrelated = TinyTextCorpus.sentences(300, 3, 0.5);
        int total = 0;
        for (String cls : List.of("clean", "toxic")) {
            Map<String, Object> g = (Map<String, Object>) ((Map<String, Object>) byClass.get(cls)).get("groups");
            for (String group : List.of("zorblin", "quenti")) {
                int n = (Integer) ((Map<String, Object>) g.get(group)).get("examples");
                int label = cls.equals("toxic") ? 1 : 0;
                assertEquals(decorrelated.stream().filter(s -> s.label() == label && s.group().equals(group)).count(),
                        n, cls + " " + group);
                total += n;
            }
        }
        assertEquals(300, total);

        // the saved model reproduces the reported test accuracy when run directly
        List<TinyTextCorpus.Sentence> test = TinyTextCorpus.sentences(300, 2, 0.9);
        int[][] enc = TinyTextCorpus.encode(test, LENGTH);
        try (SavedModelBundle bundle = SavedModelBundle.load(out.toString(), TensorFlowBackend.TAG);
             org.tensorflow.types.TInt32 ids = org.tensorflow.types.TInt32.tensorOf(
                     org.tensorflow.ndarray.Shape.of(300, LENGTH),
                     org.tensorflow.ndarray.buffer.DataBuffers.of(enc[0], true, false));
             org.tensorflow.types.TInt32 mask = org.tensorflow.types.TInt32.tensorOf(
                     org.tensorflow.ndarray.Shape.of(300, LENGTH),
                     org.tensorflow.ndarray.buffer.DataBuffers.of(enc[1], true, false));
             Result r = bundle.session().runner().feed("input_ids", ids).feed("attention_mask", mask)
                     .fetch("logits").run()) {
            float[] logits = TfTensors.toTensor(r.get(0), "logits").floats();
            int correct = 0;
            for (int e = 0; e < 300; e++) {
                correct += (logits[2 * e + 1] > logits[2 * e] ? 1 : 0) == test.get(e).label() ? 1 : 0;
            }
            assertEquals((Double) accuracy.get("test"), correct / 300.0, 1e-9);
        }
    }

    @Test
    void sameSeedTrainsBitIdenticalWeightsTwiceAndAnotherSeedOthers(@TempDir Path out) {
        TextTransformerTrainer.Params params = params(1);
        Map<String, float[]> first = trainedVariables(params, out.resolve("a"), 7);
        Map<String, float[]> second = trainedVariables(params, out.resolve("b"), 7);
        Map<String, float[]> other = trainedVariables(params, out.resolve("c"), 8);
        assertEquals(first.keySet(), second.keySet());
        boolean differs = false;
        for (String name : first.keySet()) {
            float[] a = first.get(name);
            float[] b = second.get(name);
            assertEquals(a.length, b.length, name);
            for (int i = 0; i < a.length; i++) {
                assertEquals(Float.floatToRawIntBits(a[i]), Float.floatToRawIntBits(b[i]),
                        name + "[" + i + "]: " + a[i] + " vs " + b[i]);
                differs |= a[i] != other.get(name)[i];
            }
        }
        assertTrue(differs, "another seed trains other weights");
    }

    /** Trains with {@code seed} and reads every variable back from the exported SavedModel. */
    private static Map<String, float[]> trainedVariables(TextTransformerTrainer.Params params, Path out, long seed) {
        TinyTextCorpus.Trainer base = context(params, out);
        new TextTransformerTrainer().train(new TinyTextCorpus.Trainer(params, base.trainData(), Map.of(), out, seed));
        List<String> names = new TextTransformerGraph.Spec(TinyTextCorpus.VOCABULARY.size(), LENGTH, 16, 2, 32, 1, 2)
                .variableNames();
        Map<String, float[]> values = new LinkedHashMap<>();
        try (SavedModelBundle bundle = SavedModelBundle.load(out.toString(), TensorFlowBackend.TAG)) {
            Session.Runner runner = bundle.session().runner();
            names.forEach(runner::fetch);
            try (Result r = runner.run()) {
                for (int i = 0; i < names.size(); i++) {
                    values.put(names.get(i), TfTensors.toTensor(r.get(i), names.get(i)).floats());
                }
            }
        }
        return values;
    }

    @Test
    void aVocabularyFileIsCheckedAgainstTheDataAndSavedAsGiven(@TempDir Path out) throws Exception {
        List<String> extended = new java.util.ArrayList<>(TinyTextCorpus.VOCABULARY);
        extended.add("unused");
        Files.write(out.resolve("given.txt"), extended);
        TextTransformerTrainer.Params p = new TextTransformerTrainer.Params(1, 32, 0.01, 8, 2, 8, 1, "given.txt",
                List.of(), "");
        Path model = out.resolve("model");
        Files.createDirectories(model);
        TinyTextCorpus.Trainer ctx = new TinyTextCorpus.Trainer(p, TinyTextCorpus.dataset(64, 1, 0.9, LENGTH), Map.of(),
                model, 7);
        AnalysisResult result = new TextTransformerTrainer().train(new Resolving(ctx, out));
        assertEquals(extended, Files.readAllLines(model.resolve("vocab.txt")));
        assertEquals(extended.size(), result.summary().get("vocabularySize"));

        List<String> swapped = new java.util.ArrayList<>(TinyTextCorpus.VOCABULARY);
        java.util.Collections.swap(swapped, 5, 6);
        Files.write(out.resolve("swapped.txt"), swapped);
        TextTransformerTrainer.Params q = new TextTransformerTrainer.Params(1, 32, 0.01, 8, 2, 8, 1, "swapped.txt",
                List.of(), "");
        Path other = out.resolve("other");
        Files.createDirectories(other);
        DataException e = assertThrows(DataException.class, () -> new TextTransformerTrainer().train(new Resolving(
                new TinyTextCorpus.Trainer(q, TinyTextCorpus.dataset(64, 1, 0.9, LENGTH), Map.of(), other, 7), out)));
        assertTrue(e.getMessage().contains("line 6 is 'dog', but the data give id 5 to 'cat'"), e.getMessage());
    }

    @Test
    void withoutSpecialTokensAnUnseenIdIsAClearError(@TempDir Path out) {
        TextTransformerTrainer.Params p = new TextTransformerTrainer.Params(1, 32, 0.01, 8, 2, 8, 1, "", List.of(), "");
        DataException e = assertThrows(DataException.class, () -> new TextTransformerTrainer().train(
                new TinyTextCorpus.Trainer(p, TinyTextCorpus.dataset(64, 1, 0.9, LENGTH), Map.of(), out, 7)));
        assertTrue(e.getMessage().startsWith("token id 0 never appears among the data's tokens"), e.getMessage());
    }

    @Test
    void paramsRejectEveryInvalidValueAtOnce() {
        InvalidParamsException e = assertThrows(InvalidParamsException.class,
                () -> new TextTransformerTrainer.Params(0, 0, 0, 30, 4, 0, 9, null, List.of(" x"), null));
        assertEquals(List.of("epochs", "batchSize", "learningRate", "heads", "mlpUnits", "blocks", "specialTokens"),
                e.violations().stream().map(InvalidParamsException.Violation::field).toList());
    }

    /** A trainer context resolving relative paths against another folder than its output. */
    private record Resolving(TinyTextCorpus.Trainer inner, Path base)
            implements io.neuronmonkey.api.train.TrainerContext<TextTransformerTrainer.Params> {
        @Override
        public TextTransformerTrainer.Params params() {
            return inner.params();
        }

        @Override
        public io.neuronmonkey.api.data.Dataset trainData() {
            return inner.trainData();
        }

        @Override
        public Map<String, io.neuronmonkey.api.data.Dataset> evaluationData() {
            return inner.evaluationData();
        }

        @Override
        public Path outputDir() {
            return inner.outputDir();
        }

        @Override
        public Path resolve(String path) {
            return base.resolve(path);
        }

        @Override
        public long seed() {
            return inner.seed();
        }

        @Override
        public io.neuronmonkey.api.ProgressReporter progress() {
            return inner.progress();
        }
    }
}
