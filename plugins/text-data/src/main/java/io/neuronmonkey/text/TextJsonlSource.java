package io.neuronmonkey.text;

import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.DataSource;
import io.neuronmonkey.api.data.Dataset;
import org.pf4j.Extension;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Texts from a JSON Lines file: one JSON object a line with a text field, an optional label field and metadata
 * fields (by default every other field any line has; a line without one gets an empty value). A number or boolean
 * reads as its JSON spelling, an array or object as its JSON text. Ids are {@code row-<index>} (0-based, in file
 * order).
 * <p>
 * Batches follow the text conventions: token ids INT32 {@code [n, maxLength]} (right padding with the tokenizer's pad
 * id), {@code attention_mask} (and {@code token_type_ids} for Hugging Face tokenizers), per example its tokens with
 * offsets into the raw text and, with {@code lexicons}, a {@code lexicon} tag per token; with {@code tokenizer: none}
 * the raw text as a STRING {@code [n]} input (each example's tokens then hold its text and no token). Each example
 * keeps its raw text.
 * Longer examples are cut to {@code maxLength} tokens with one warning that counts them, or refused with
 * {@code truncate: false}.
 */
@Extension
@ExtensionName(value = "text-jsonl", description = "Texts from a JSON Lines file: a text field, optional label and metadata fields")
public class TextJsonlSource implements DataSource<TextJsonlSource.Params> {

    /**
     * Params of {@code text-jsonl}.
     *
     * @param path             the file
     * @param textColumn       the field holding the text
     * @param labelColumn      the field holding the label, or null
     * @param classes          class names in label order, or null
     * @param metadataColumns  fields kept as metadata, or null for every other
     * @param tokenizer        the tokenizer spec
     * @param maxLength        the sequence length
     * @param truncate         cut (true) or refuse (false) longer examples
     * @param lexicons         lexicon name to word-list file, or null
     * @param addSpecialTokens whether to add special tokens
     */
    public record Params(
            @Param(description = "path of the JSON Lines file, relative to the experiment file") String path,
            @Param(defaultValue = "text", description = "the field holding the text") String textColumn,
            @Param(description = "optional field holding the label") String labelColumn,
            @Param(description = "optional class names in label order; default: the sorted distinct labels; a label "
                    + "not listed is refused") List<String> classes,
            @Param(description = "Fields kept as example metadata; default: every field but the text and the label")
            List<String> metadataColumns,
            @Param(description = "word:PATH (a vocab.txt, one token per line, line number = id), hf:PATH or a path "
                    + "ending in tokenizer.json (a Hugging Face tokenizer: WordPiece, BPE, Unigram), or none (the raw "
                    + "text as a string input for graphs that tokenize); paths relative to the experiment file")
            String tokenizer,
            @Param(defaultValue = "128", description = "sequence length T of the token ids (right padding), "
                    + "1..65536") int maxLength,
            @Param(defaultValue = "true", description = "cut examples longer than maxLength tokens, with one warning "
                    + "that counts them; false: refuse the data, naming the first such example") boolean truncate,
            @Param(description = "per-token tags: lexicon name to a word-list file (one word a line, # comments); "
                    + "a token's 'lexicon' is the first listed lexicon holding its word (any case), else none")
            Map<String, String> lexicons,
            @Param(defaultValue = "true", description = "add the tokenizer's special tokens ([CLS] of a word "
                    + "vocabulary; [CLS] ... [SEP], <s> ... </s> as a tokenizer.json's post-processor says)")
            boolean addSpecialTokens) {

        /**
         * Validates every field at once.
         *
         * @param path             the file
         * @param textColumn       the field holding the text
         * @param labelColumn      the field holding the label, or null
         * @param classes          class names in label order, or null
         * @param metadataColumns  fields kept as metadata, or null for every other
         * @param tokenizer        the tokenizer spec
         * @param maxLength        the sequence length
         * @param truncate         cut (true) or refuse (false) longer examples
         * @param lexicons         lexicon name to word-list file, or null
         * @param addSpecialTokens whether to add special tokens
         */
        public Params {
            TextOptions.check(Violations.check(), path, labelColumn, classes, tokenizer, maxLength, lexicons)
                    .require(textColumn != null && !textColumn.isBlank(), "textColumn", "must name a column, found "
                            + (textColumn == null ? "nothing" : "'" + textColumn + "'"))
                    .require(labelColumn == null || !labelColumn.equals(textColumn), "labelColumn",
                            "must differ from textColumn '" + textColumn + "'")
                    .require(metadataColumns == null || metadataColumns.stream().allMatch(c -> c != null && !c.isBlank()),
                            "metadataColumns", "must be column names, found " + metadataColumns)
                    .throwIfAny();
        }

        /** @return the options every text file source shares */
        TextOptions options() {
            return new TextOptions(path, textColumn, labelColumn, classes, metadataColumns, tokenizer, maxLength, truncate,
                    lexicons, addSpecialTokens);
        }
    }

    /** Public no-arg constructor for PF4J. */
    public TextJsonlSource() {
    }

    @Override
    public Dataset open(DataContext<Params> ctx) {
        Params p = ctx.params();
        Path file = TextFiles.require(ctx, p.path(), "path");
        TextRecords.Format format = new TextRecords.Format() {
            @Override
            public TextRecords open(Path f) {
                return new JsonlTextRecords(f);
            }

            @Override
            public boolean lineIds() {
                return false;
            }
        };
        return TextFileDataset.open(ctx, file, p.options(), format, p.textColumn());
    }
}
