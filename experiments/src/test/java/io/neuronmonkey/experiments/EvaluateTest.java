package io.neuronmonkey.experiments;

import com.fasterxml.jackson.databind.JsonNode;
import org.htmlunit.WebClient;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code evaluate} through the launcher on the very data the demo model's trainer evaluated it on (seed 7, 2000
 * examples of the held-out and of the decorrelated split): the counts must give back the accuracies recorded in the
 * model's {@code training.json}, from the logits and from the probabilities alike; and unlabelled data is refused
 * naming the data set.
 */
class EvaluateTest {

    @TempDir
    static Path work;
    static Path out;
    static Launcher.Result run;
    static RunFolder folder;
    static JsonNode training;

    @BeforeAll
    static void evaluateOnTheTrainersData() throws Exception {
        Path model = Launcher.ROOT.resolve("experiments/models/shapes-cnn");
        training = RunFolder.JSON.readTree(model.resolve("training.json").toFile());
        writeBlankNpy(work.resolve("blank.npy"), 3);
        Path yaml = Files.writeString(work.resolve("evaluate.yaml"), """
                experiment: evaluate-trainer-data
                seed: 7
                model: {backend: tensorflow, path: MODEL}
                data:
                  test: {source: synthetic-shapes, params: {split: test, count: 2000}}
                  decorrelated: {source: synthetic-shapes, params: {split: decorrelated, count: 2000}}
                  unlabelled: {source: npy, params: {inputs: blank.npy}}
                steps:
                  - {id: eval-test, analyzer: evaluate, data: test, layers: [logits]}
                  - {id: eval-decorrelated, analyzer: evaluate, data: decorrelated, layers: [probabilities]}
                  - {id: eval-decorrelated-logits, analyzer: evaluate, data: decorrelated, layers: [logits, probabilities],
                     params: {layer: logits, keys: [watermark], bins: 10}}
                  - {id: eval-unlabelled, analyzer: evaluate, data: unlabelled, layers: [logits]}
                  - {id: report, visualizer: html-report, inputs: [eval-test, eval-decorrelated, eval-decorrelated-logits]}
                """.replace("MODEL", model.toString()));
        out = work.resolve("run");
        run = Launcher.run(work, "run", yaml.toString(), "--out", out.toString(), "--no-cache");
        folder = new RunFolder(out);
    }

    /** A float32 .npy of n blank 28x28x1 images, without labels. */
    static void writeBlankNpy(Path file, int n) throws IOException {
        String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + n + ", 28, 28, 1), }";
        int len = 10 + header.length() + 1;
        header = header + " ".repeat((64 - len % 64) % 64) + "\n";
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(new byte[]{(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (byte) header.length(), 0});
        b.write(header.getBytes(StandardCharsets.US_ASCII));
        b.write(new byte[n * 28 * 28 * 4]);
        Files.write(file, b.toByteArray());
    }

    @Test
    void countsGiveBackTheAccuraciesTheTrainerRecorded() throws IOException {
        for (String split : new String[]{"test", "decorrelated"}) {
            JsonNode s = folder.result("eval-" + split).get("summary");
            double recorded = training.get("metrics").get("accuracy").get(split).asDouble();
            assertEquals(2000, s.get("examples").asInt(), split);
            assertEquals(Math.round(recorded * 2000), s.get("correct").asLong(), split + ": the trainer's " + recorded);
            JsonNode ci = s.get("accuracyInterval");
            assertTrue(ci.get("low").asDouble() <= recorded && recorded <= ci.get("high").asDouble(), split + " " + ci);
        }
        // the README's figures: 0.995 held-out, 0.967 where the watermark is independent of the label
        JsonNode held = folder.result("eval-test").get("summary").get("accuracyInterval");
        assertTrue(held.get("low").asDouble() < 0.995 && 0.995 < held.get("high").asDouble(), held.toString());
        JsonNode dec = folder.result("eval-decorrelated").get("summary");
        assertEquals(1934, dec.get("correct").asInt(), "0.967 of 2000");
        assertEquals("probabilities (as given)", dec.get("scores").asText(), "the Softmax layer is read as probabilities");
    }

    @Test
    void probabilitiesAndLogitsGiveTheSamePredictionsAndConfidences() throws IOException {
        JsonNode probs = folder.result("eval-decorrelated");
        JsonNode logits = folder.result("eval-decorrelated-logits");
        assertEquals("logits", logits.get("summary").get("layer").asText());
        assertEquals(probs.get("summary").get("correct"), logits.get("summary").get("correct"));
        float[] pa = folder.array("eval-decorrelated", probs.get("arrays").get("predictions"));
        float[] pb = folder.array("eval-decorrelated-logits", logits.get("arrays").get("predictions"));
        assertEquals(2000, pa.length);
        float[] ca = folder.array("eval-decorrelated", probs.get("arrays").get("confidence"));
        float[] cb = folder.array("eval-decorrelated-logits", logits.get("arrays").get("confidence"));
        for (int e = 0; e < pa.length; e++) {
            assertEquals(pa[e], pb[e], "prediction of example " + e);
            assertEquals(ca[e], cb[e], 2e-6, "softmax of the logits vs the model's own probabilities, example " + e);
        }
        assertEquals(10, folder.part("eval-decorrelated-logits", "calibration-bins").get("rows").get("labels").size());
        assertEquals(probs.get("summary").get("meanConfidence").asDouble(), logits.get("summary").get("meanConfidence").asDouble(), 1e-6);
    }

    @Test
    void unlabelledDataFailsItsStepNamingTheDataSetWhileTheOthersComplete() throws IOException {
        assertEquals(1, run.code(), "a step failed: " + run.all());
        String error = Files.readString(out.resolve("eval-unlabelled.failed/error.txt"));
        assertTrue(error.startsWith("step 'eval-unlabelled' failed: step 'eval-unlabelled' compares labels with predictions, "
                + "but data set 'unlabelled' has no labels"), error);
        JsonNode prov = RunFolder.JSON.readTree(out.resolve("provenance.json").toFile());
        for (JsonNode s : prov.get("steps")) {
            assertEquals(s.get("id").asText().equals("eval-unlabelled") ? "failed" : "completed", s.get("state").asText(), s.toString());
        }
        assertTrue(run.err().lines().noneMatch(l -> l.startsWith("accuracy on '")),
                "every labelled data set has an evaluate step: " + run.err());
    }

    @Test
    void reportShowsEveryEvaluationWithoutARenderingError() throws IOException {
        folder.assertValidAgainstSchemas();
        try (WebClient wc = new WebClient()) {
            folder.report(wc);
        }
        String html = Files.readString(out.resolve("report.html"), StandardCharsets.UTF_8);
        for (String step : new String[]{"eval-test", "eval-decorrelated", "eval-decorrelated-logits"}) {
            assertTrue(html.contains("id=\"part-" + step + "--confusion\""), step + " confusion matrix");
            assertTrue(html.contains("id=\"part-" + step + "--reliability\""), step + " reliability curve");
        }
        assertTrue(html.contains("accuracy 0.9670 (95% CI ["), "the decorrelated accuracy is a finding");
    }
}
