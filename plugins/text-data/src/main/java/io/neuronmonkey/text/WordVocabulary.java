package io.neuronmonkey.text;

import io.neuronmonkey.api.DataException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The built-in word-level tokenizer: a fixed list of tokens whose position is the id.
 * <p>
 * Words are the maximal runs of letters, digits and apostrophes of the text; everything else (spaces, punctuation,
 * symbols) separates words and is not a token. A word is looked up lower-cased ({@link Locale#ROOT}); a word not in
 * the vocabulary becomes {@link #UNK}. Each token's offsets are those of its word in the raw text. With special
 * tokens, {@link #CLS} (offsets -1) comes first when the vocabulary has it. Padding uses id 0, which the conventional
 * vocabulary gives to {@link #PAD}.
 * <p>
 * On disk a vocabulary is {@code vocab.txt}: UTF-8, one token per line, the 0-based line number is the id.
 */
public final class WordVocabulary implements TextTokenizer {

    /** The padding token, id 0 in the conventional layout. */
    public static final String PAD = "[PAD]";

    /** The unknown-word token, id 1 in the conventional layout. */
    public static final String UNK = "[UNK]";

    /** The sequence-start token, id 2 in the conventional layout. */
    public static final String CLS = "[CLS]";

    private final List<String> tokens;
    private final Map<String, Integer> ids;
    private final int unknown;
    private final int cls;

    private WordVocabulary(List<String> tokens, String source) {
        this.tokens = List.copyOf(tokens);
        this.ids = new HashMap<>(tokens.size() * 2);
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (t.isEmpty() || t.strip().length() != t.length() || t.indexOf('\n') >= 0 || t.indexOf('\r') >= 0) {
                throw new DataException(source + " line " + (i + 1) + ": a token must be non-empty without surrounding "
                        + "spaces or line breaks, found '" + t + "'");
            }
            Integer before = ids.putIfAbsent(t, i);
            if (before != null) {
                throw new DataException(source + " line " + (i + 1) + ": token '" + t + "' is already on line "
                        + (before + 1) + "; every token must be listed once");
            }
        }
        Integer u = ids.get(UNK);
        if (u == null) {
            throw new DataException(source + " has no " + UNK + " token; a word vocabulary lists " + PAD + ", " + UNK
                    + ", " + CLS + " on its first three lines, then one word a line");
        }
        this.unknown = u;
        this.cls = ids.getOrDefault(CLS, -1);
    }

    /**
     * @param words the words, in the order their ids should follow
     * @return the conventional vocabulary: {@code [PAD]}=0, {@code [UNK]}=1, {@code [CLS]}=2, then {@code words}
     * @throws DataException when a word repeats, is a special token or is not lower case
     */
    public static WordVocabulary of(List<String> words) {
        List<String> all = new ArrayList<>(words.size() + 3);
        all.add(PAD);
        all.add(UNK);
        all.add(CLS);
        for (String w : words) {
            if (!w.equals(w.toLowerCase(Locale.ROOT))) {
                throw new DataException("vocabulary word '" + w + "' is not lower case; words are looked up lower-cased");
            }
            all.add(w);
        }
        return new WordVocabulary(all, "the vocabulary");
    }

    /**
     * @param file a {@code vocab.txt}: one token per line, line number (from 0) = id
     * @return the vocabulary it lists
     * @throws DataException when the file cannot be read, a token repeats, or {@code [UNK]} is missing
     */
    public static WordVocabulary read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DataException("cannot read the word vocabulary " + file + ": " + e.getMessage(), e);
        }
        if (!lines.isEmpty() && lines.get(0).startsWith("\uFEFF")) {
            lines.set(0, lines.get(0).substring(1));
        }
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        return new WordVocabulary(lines, "word vocabulary " + file);
    }

    /**
     * Writes the vocabulary as {@code vocab.txt}: one token per line, line number = id.
     *
     * @param file where to write; its folder is created when missing
     * @return {@code file}
     * @throws DataException when the file cannot be written
     */
    public Path write(Path file) {
        try {
            Path parent = file.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.write(file, tokens, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DataException("cannot write the word vocabulary " + file + ": " + e.getMessage(), e);
        }
        return file;
    }

    /** @return every token, index = id */
    public List<String> tokens() {
        return tokens;
    }

    /** @return the number of tokens (the embedding table's row count) */
    public int size() {
        return tokens.size();
    }

    /**
     * @param token a token string, as listed
     * @return its id, or the id of {@code [UNK]} when it is not listed
     */
    public int id(String token) {
        return ids.getOrDefault(token, unknown);
    }

    /**
     * @param id a token id, 0..{@link #size()}-1
     * @return its token string
     */
    public String token(int id) {
        return tokens.get(id);
    }

    /** @return the id of {@code [UNK]} */
    public int unknownId() {
        return unknown;
    }

    /** @return the id of {@code [CLS]}, or -1 when the vocabulary has none */
    public int clsId() {
        return cls;
    }

    /**
     * @param text a raw text
     * @return the words of the text (runs of letters, digits and apostrophes) as {@code [start, end)} pairs
     */
    public static List<int[]> words(String text) {
        List<int[]> out = new ArrayList<>();
        int i = 0;
        int n = text.length();
        while (i < n) {
            int c = text.codePointAt(i);
            if (!isWordChar(c)) {
                i += Character.charCount(c);
                continue;
            }
            int start = i;
            while (i < n && isWordChar(c = text.codePointAt(i))) {
                i += Character.charCount(c);
            }
            out.add(new int[] {start, i});
        }
        return out;
    }

    /**
     * @param codePoint a Unicode code point
     * @return true for a letter, a digit or an apostrophe: the characters words are made of
     */
    static boolean isWordChar(int codePoint) {
        return Character.isLetterOrDigit(codePoint) || codePoint == '\'';
    }

    @Override
    public TextEncoding encode(String text, boolean addSpecialTokens) {
        List<int[]> words = words(text);
        boolean withCls = addSpecialTokens && cls >= 0;
        int n = words.size() + (withCls ? 1 : 0);
        int[] out = new int[n];
        int[] starts = new int[n];
        int[] ends = new int[n];
        List<String> strings = new ArrayList<>(n);
        int k = 0;
        if (withCls) {
            out[0] = cls;
            starts[0] = -1;
            ends[0] = -1;
            strings.add(CLS);
            k = 1;
        }
        for (int[] w : words) {
            String word = text.substring(w[0], w[1]).toLowerCase(Locale.ROOT);
            int id = id(word);
            out[k] = id;
            starts[k] = w[0];
            ends[k] = w[1];
            strings.add(id == unknown ? UNK : word);
            k++;
        }
        return new TextEncoding(out, null, strings, starts, ends);
    }

    @Override
    public boolean hasTypeIds() {
        return false;
    }

    @Override
    public int padId() {
        return 0;
    }
}
