package io.neuronmonkey.text;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.RunEnvironment;
import io.neuronmonkey.api.Violations;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What every text file source is told, whatever the format: where the file is, which columns hold the text, the
 * label and the metadata, how to tokenize, and how long a sequence may be.
 *
 * @param path             the file, relative to the experiment file
 * @param textColumn       the column (field) holding the text; ignored by {@code text-lines}
 * @param labelColumn      the column holding the label, or null for unlabelled data
 * @param classes          the class names in label order, or null for the sorted distinct labels
 * @param metadataColumns  the columns kept as metadata, or null for every column but the text and the label
 * @param tokenizer        {@code word:PATH}, {@code hf:PATH}, a path ending in {@code tokenizer.json}, or {@code none}
 * @param maxLength        the sequence length T
 * @param truncate         whether longer sequences are cut (with one warning) rather than refused
 * @param lexicons         lexicon name to word-list file, in priority order; empty for none
 * @param addSpecialTokens whether the tokenizer adds its special tokens
 */
record TextOptions(String path, String textColumn, String labelColumn, List<String> classes,
                   List<String> metadataColumns, String tokenizer, int maxLength, boolean truncate,
                   Map<String, String> lexicons, boolean addSpecialTokens) {

    /** The {@code tokenizer} value that delivers the raw text. */
    static final String NONE = "none";

    /** Defensive copies; validation happens in the sources' params records ({@link #check}). */
    TextOptions {
        classes = classes == null ? null : List.copyOf(classes);
        metadataColumns = metadataColumns == null ? null : List.copyOf(metadataColumns);
        lexicons = lexicons == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(lexicons));
    }

    /**
     * Records the violations of the fields every text source shares.
     *
     * @param v           the collector of the params record
     * @param path        the file
     * @param labelColumn the label column, or null
     * @param classes     the class names, or null
     * @param tokenizer   the tokenizer spec
     * @param maxLength   the sequence length
     * @param lexicons    the lexicons, or null
     * @return {@code v}
     */
    static Violations check(Violations v, String path, String labelColumn, List<String> classes, String tokenizer,
                            int maxLength, Map<String, String> lexicons) {
        v.require(path != null && !path.isBlank(), "path", "must be the path of the text file, found "
                        + (path == null ? "nothing" : "'" + path + "'"))
                .require(tokenizer != null && validTokenizer(tokenizer), "tokenizer", "must be word:PATH (a vocab.txt), "
                        + "hf:PATH or a path ending in tokenizer.json (a Hugging Face tokenizer), or none (the raw text "
                        + "as a string input), found " + (tokenizer == null ? "nothing" : "'" + tokenizer + "'"))
                .require(maxLength >= 1 && maxLength <= 65536, "maxLength", "must be in 1..65536, found " + maxLength)
                .require(classes == null || labelColumn != null, "classes", "needs labelColumn")
                .require(classes == null || !classes.isEmpty() && classes.stream().allMatch(c -> c != null && !c.isBlank())
                        && classes.stream().distinct().count() == classes.size(), "classes",
                        "must be distinct non-empty names, found " + classes)
                .require(labelColumn == null || !labelColumn.isBlank(), "labelColumn", "must name a column or be absent")
                .require(lexicons == null || lexicons.entrySet().stream().allMatch(e -> e.getKey() != null
                        && !e.getKey().isBlank() && !e.getKey().equals(Lexicons.NONE) && e.getValue() != null
                        && !e.getValue().isBlank()), "lexicons", "must map lexicon names (not 'none') to word-list "
                        + "files, found " + lexicons);
        return v;
    }

    private static boolean validTokenizer(String t) {
        return t.equals(NONE) || t.startsWith("word:") && t.length() > 5 || t.startsWith("hf:") && t.length() > 3
                || t.endsWith("tokenizer.json");
    }

    /** @return true when the raw text is delivered untokenized */
    boolean raw() {
        return tokenizer.equals(NONE);
    }

    /**
     * @param env resolves relative paths
     * @return the tokenizer the spec names; null for {@code none}
     * @throws DataException naming the file when it is missing or not a tokenizer of the kind named
     */
    TextTokenizer openTokenizer(RunEnvironment env) {
        if (raw()) {
            return null;
        }
        if (tokenizer.startsWith("word:")) {
            return WordVocabulary.read(TextFiles.require(env, tokenizer.substring(5), "tokenizer"));
        }
        String p = tokenizer.startsWith("hf:") ? tokenizer.substring(3) : tokenizer;
        return HuggingFaceTextTokenizer.load(env.resolve(p), maxLength, "tokenizer");
    }

    /**
     * @param env resolves relative paths
     * @return the lexicons, read from their word-list files (one word a line; blank lines and lines starting with
     *         {@code #} skipped)
     * @throws DataException naming the file and line of an entry that is not one word
     */
    Lexicons openLexicons(RunEnvironment env) {
        Map<String, List<String>> lists = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : lexicons.entrySet()) {
            Path file = TextFiles.require(env, e.getValue(), "lexicons." + e.getKey());
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException x) {
                throw new DataException("cannot read lexicon '" + e.getKey() + "' " + file + ": " + x.getMessage(), x);
            }
            List<String> words = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                String w = lines.get(i).strip();
                if (i == 0 && w.startsWith("\uFEFF")) {
                    w = w.substring(1);
                }
                if (w.isEmpty() || w.startsWith("#")) {
                    continue;
                }
                List<int[]> parts = WordVocabulary.words(w);
                if (parts.size() != 1 || parts.get(0)[0] != 0 || parts.get(0)[1] != w.length()) {
                    throw new DataException("lexicon '" + e.getKey() + "' " + file + " line " + (i + 1) + ": '" + w
                            + "' is not one word (letters, digits and apostrophes); lexicons tag single words");
                }
                words.add(w);
            }
            lists.put(e.getKey(), words);
        }
        return new Lexicons(lists);
    }
}
