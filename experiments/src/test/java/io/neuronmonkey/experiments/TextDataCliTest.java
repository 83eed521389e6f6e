package io.neuronmonkey.experiments;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The text-data plugin through the real launcher: its sources are listed, and a Hugging Face tokenizer loads inside
 * the plugin's class loader, its native library extracted into an empty cache folder.
 */
class TextDataCliTest {

    @TempDir
    Path work;

    /** A WordPiece tokenizer.json: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 the=4 cat=5 play=6 ##ing=7 ##s=8 .=9 dog=10. */
    private static final String TOKENIZER = """
            {"version": "1.0", "truncation": null, "padding": null,
             "added_tokens": [
               {"id": 0, "content": "[PAD]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 1, "content": "[UNK]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 2, "content": "[CLS]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
               {"id": 3, "content": "[SEP]", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true}],
             "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true, "strip_accents": null, "lowercase": true},
             "pre_tokenizer": {"type": "BertPreTokenizer"},
             "post_processor": {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
               "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                        {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
               "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
             "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
             "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
               "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "the": 4, "cat": 5, "play": 6, "##ing": 7, "##s": 8, ".": 9, "dog": 10}}}
            """;

    @Test
    void pluginsListsTheTextSources() throws Exception {
        Launcher.Result r = Launcher.run(work, "plugins");
        assertEquals(0, r.code(), r.all());
        for (String name : new String[] {"text-data", "synthetic-text", "text-csv", "text-jsonl", "text-lines"}) {
            assertTrue(r.out().contains(name), name + " missing:\n" + r.out());
        }
    }

    @Test
    void aHuggingFaceTokenizerLoadsInsideThePluginIntoAnEmptyCache() throws Exception {
        Files.writeString(work.resolve("tokenizer.json"), TOKENIZER);
        Files.writeString(work.resolve("reviews.csv"), "text,label\n\"The cats playing.\",clean\n\"The dog, the cat.\",toxic\n");
        String model = Launcher.ROOT.resolve("experiments/models/shapes-cnn").toString();
        Path experiment = Files.writeString(work.resolve("text.yaml"), """
                experiment: text-data-cli
                seed: 1
                model: {backend: tensorflow, path: MODEL}
                data:
                  probe:
                    source: text-csv
                    params: {path: reviews.csv, labelColumn: label, tokenizer: hf:tokenizer.json, maxLength: 4}
                steps:
                  - {id: evaluate, analyzer: evaluate, data: probe, layers: [logits]}
                """.replace("MODEL", model));
        Path cache = work.resolve("djl-cache");
        Launcher.Result r = Launcher.run(work, Map.of("NEURONMONKEY_JAVA_OPTS", "-DDJL_CACHE_DIR=" + cache), "run",
                experiment.toString());
        // the demo CNN takes images: the run stops at the mismatch, after the data were opened and tokenized
        assertNotEquals(0, r.code(), r.all());
        assertTrue(r.all().contains("data 'probe' delivers INT32 examples but the model's input 'images' takes FLOAT32"),
                r.all());
        assertFalse(r.all().contains("could not be loaded"), r.all());
        String warning = "2 of 2 examples of " + work.resolve("reviews.csv") + " have more than maxLength 4 tokens";
        assertEquals(1, r.err().split(java.util.regex.Pattern.quote(warning), -1).length - 1,
                "one warning counts the truncated examples:\n" + r.err());
        try (Stream<Path> files = Files.walk(cache)) {
            assertEquals(1, files.filter(f -> f.getFileName().toString().startsWith("libtokenizers.")).count(),
                    "the native library was extracted into the given cache");
        }
    }
}
