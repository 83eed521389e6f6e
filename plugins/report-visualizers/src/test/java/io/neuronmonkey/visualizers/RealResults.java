package io.neuronmonkey.visualizers;

import io.neuronmonkey.api.ProgressReporter;
import io.neuronmonkey.api.analysis.ActivationBatch;
import io.neuronmonkey.api.analysis.AnalysisResult;
import io.neuronmonkey.api.analysis.AnalyzerContext;
import io.neuronmonkey.api.analysis.StreamingAnalyzer;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.model.LayerInfo;
import io.neuronmonkey.api.model.LoadedModel;
import io.neuronmonkey.api.tensor.Tensor;
import io.neuronmonkey.api.visual.RunSummary;
import io.neuronmonkey.api.visual.StepOutput;
import io.neuronmonkey.concepts.ScorecardAnalyzer;
import io.neuronmonkey.stats.ActivationBreakdownAnalyzer;
import io.neuronmonkey.stats.ActivationStatsAnalyzer;
import io.neuronmonkey.stats.CensusDiffAnalyzer;
import io.neuronmonkey.stats.TopActivationsAnalyzer;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Results written by the real analyzers of the stats-analyzers plugin on activations with known structure, so that
 * every visualizer test reads exactly what a run would give it. The data: 8x8 grey inputs; a conv layer [4, 4, 3]
 * whose channel 1 fires on examples carrying the metadata {@code watermark=yes} and whose channel 2 never fires
 * (dead); a dense Relu layer of 4 units; labels {@code a}/{@code b}.
 */
final class RealResults {

    static final LayerInfo CONV = new LayerInfo("conv", "Relu", new int[]{4, 4, 3}, LayerInfo.Role.HIDDEN);
    static final LayerInfo DENSE = new LayerInfo("dense", "Relu", new int[]{4}, LayerInfo.Role.HIDDEN);
    static final List<LayerInfo> LAYERS = List.of(CONV, DENSE);
    static final List<String> CLASSES = List.of("a", "b");
    /** The channel planted to track the watermark. */
    static final int WATERMARK_CHANNEL = 1;
    static final int EXAMPLES = 200;

    private RealResults() {
    }

    static List<ActivationBatch> batches(long seed, double watermarkShift) {
        Random r = new Random(seed);
        List<ActivationBatch> out = new ArrayList<>();
        int batch = 64;
        for (int done = 0; done < EXAMPLES; done += batch) {
            int b = Math.min(batch, EXAMPLES - done);
            float[] conv = new float[b * 48];
            float[] dense = new float[b * 4];
            float[] inputs = new float[b * 64];
            int[] labels = new int[b];
            List<String> ids = new ArrayList<>();
            List<Map<String, String>> meta = new ArrayList<>();
            for (int e = 0; e < b; e++) {
                int index = done + e;
                boolean mark = index % 3 == 0;
                for (int pos = 0; pos < 16; pos++) {
                    conv[e * 48 + pos * 3] = (float) Math.max(0, r.nextGaussian());
                    conv[e * 48 + pos * 3 + 1] = (float) Math.max(0, r.nextGaussian() * 0.3 + (mark ? watermarkShift : 0));
                    conv[e * 48 + pos * 3 + 2] = 0f;
                }
                for (int u = 0; u < 4; u++) {
                    dense[e * 4 + u] = (float) Math.max(0, r.nextGaussian() + (u == (index % 2) ? 1 : 0));
                }
                for (int px = 0; px < 64; px++) {
                    inputs[e * 64 + px] = (float) r.nextDouble();
                }
                if (mark) {
                    inputs[e * 64] = 1f;
                }
                labels[e] = index % 2;
                ids.add("ex-" + index);
                meta.add(Map.of("watermark", mark ? "yes" : "no", "texture", List.of("plain", "dots", "stripes").get(index % 3)));
            }
            Batch bt = new Batch(done, Tensor.ofFloats(inputs, b, 8, 8, 1), labels, ids, meta);
            out.add(new ActivationBatch(bt, Map.of(CONV.name(), Tensor.ofFloats(conv, b, 4, 4, 3),
                    DENSE.name(), Tensor.ofFloats(dense, b, 4))));
        }
        return out;
    }

    /** @return census, top examples and breakdown of the planted data, as three step outputs in that order */
    static List<StepOutput> quickstartLike() {
        List<ActivationBatch> data = batches(7, 2.5);
        AnalysisResult census = stream(new ActivationStatsAnalyzer(), ActivationStatsAnalyzerDefaults.params(), data);
        AnalysisResult tops = stream(new TopActivationsAnalyzer(),
                new TopActivationsAnalyzer.Params(4, 0, TopActivationsAnalyzer.Reduce.MAX, true, 0), data);
        AnalysisResult breakdown = stream(new ActivationBreakdownAnalyzer(),
                new ActivationBreakdownAnalyzer.Params(List.of("class", "watermark", "texture"), 12,
                        ActivationBreakdownAnalyzer.Reduce.MAX, 10), data);
        return List.of(output("census", "activation-stats", census), output("top-examples", "top-activations", tops),
                output("watermark-hunt", "activation-breakdown", breakdown));
    }

    /** @return the quickstart-like outputs and a scorecard (the real analyzer) of its top examples and breakdown */
    static List<StepOutput> withScorecard() {
        List<StepOutput> steps = new ArrayList<>(quickstartLike());
        Map<String, AnalysisResult> inputs = new LinkedHashMap<>();
        for (StepOutput s : steps) {
            if (!s.stepId().equals("census")) {
                inputs.put(s.stepId(), s.result().orElseThrow());
            }
        }
        AnalysisResult card = new ScorecardAnalyzer().analyze(new Ctx<>("scorecard", new ScorecardAnalyzer.Params("watermark",
                1.0, 0.02, 3, 0.5, 0.05), inputs));
        steps.add(output("scorecard", "scorecard", card));
        return steps;
    }

    /** @return two censuses of data that differ on the watermark channel and the census-diff of them */
    static List<StepOutput> compareLike() {
        AnalysisResult a = stream(new ActivationStatsAnalyzer(), ActivationStatsAnalyzerDefaults.params(), batches(7, 0.0));
        AnalysisResult b = stream(new ActivationStatsAnalyzer(), ActivationStatsAnalyzerDefaults.params(), batches(8, 2.5));
        Map<String, AnalysisResult> inputs = new LinkedHashMap<>();
        inputs.put("census-a", a);
        inputs.put("census-b", b);
        AnalysisResult diff = new CensusDiffAnalyzer().analyze(new Ctx<>("shift", new CensusDiffAnalyzer.Params(null, 8), inputs));
        return List.of(output("shift", "census-diff", diff), output("census-a", "activation-stats", a),
                output("census-b", "activation-stats", b));
    }

    static StepOutput output(String id, String extension, AnalysisResult r) {
        return new StepOutput(id, "analyzer", extension, "probe", Optional.of(r), List.of());
    }

    static RunSummary run() {
        return run(List.of());
    }

    static RunSummary run(List<io.neuronmonkey.api.result.Finding> findings) {
        Map<String, DatasetInfo> data = Map.of("probe", new DatasetInfo(EXAMPLES, new int[]{8, 8, 1}, CLASSES,
                List.of("watermark", "texture")));
        return new RunSummary("test-run", "experiment: test-run\n", "a test model", LAYERS, data,
                Map.of("experiment", "test-run", "seed", 42),
                List.of(new RunSummary.StepState("census", "activation-stats", "completed", 0.5, null),
                        new RunSummary.StepState("report", "html-report", "running", 0, null)), findings);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static <P extends Record> AnalysisResult stream(StreamingAnalyzer<P> analyzer, P params, List<ActivationBatch> data) {
        StreamingAnalyzer.Accumulator acc = analyzer.start(new Ctx<>("step", params, Map.of()));
        data.forEach(acc::accept);
        return acc.finish();
    }

    /** Default census params, as the YAML binder would give them. */
    static final class ActivationStatsAnalyzerDefaults {
        static ActivationStatsAnalyzer.Params params() {
            return new ActivationStatsAnalyzer.Params(ActivationStatsAnalyzer.Reduce.MEAN, 0.0, 16, 1.0, 0.02, 0.95, 0.01, 0.01);
        }
    }

    /** The analyzer context a run would give: the planted data's info, the two layers, the given inputs. */
    record Ctx<P extends Record>(String stepId, P params, Map<String, AnalysisResult> inputs) implements AnalyzerContext<P> {

        @Override
        public Optional<LoadedModel> model() {
            return Optional.empty();
        }

        @Override
        public Optional<Dataset> data() {
            DatasetInfo info = new DatasetInfo(EXAMPLES, new int[]{8, 8, 1}, CLASSES, List.of("watermark", "texture"));
            return Optional.of(new Dataset() {
                @Override
                public DatasetInfo info() {
                    return info;
                }

                @Override
                public Iterator<Batch> batches(int batchSize) {
                    return RealResults.batches(7, 2.5).stream().map(ActivationBatch::batch).iterator();
                }

                @Override
                public String fingerprint() {
                    return "planted-7";
                }

                @Override
                public void close() {
                }
            });
        }

        @Override
        public List<LayerInfo> layers() {
            return LAYERS;
        }

        @Override
        public int batchSize() {
            return 64;
        }

        @Override
        public Path workDir() {
            return Path.of(System.getProperty("java.io.tmpdir"));
        }

        @Override
        public Path resolve(String path) {
            return Path.of(path);
        }

        @Override
        public long seed() {
            return 42;
        }

        @Override
        public ProgressReporter progress() {
            return ProgressReporter.NONE;
        }
    }
}
