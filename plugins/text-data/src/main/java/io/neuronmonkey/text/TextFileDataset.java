package io.neuronmonkey.text;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.data.Tokens;
import io.neuronmonkey.api.tensor.DType;
import io.neuronmonkey.api.tensor.Tensor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A text file read as a data set, whatever its format. The file is scanned once when opened (columns, labels,
 * metadata keys, row count, sequence lengths), then streamed record by record on every pass, tokenized batch by
 * batch; memory does not grow with the file. Examples longer than {@code maxLength} tokens are cut, with one warning
 * that counts them, or refused when {@code truncate} is false.
 */
final class TextFileDataset implements Dataset {

    private static final Logger LOG = LoggerFactory.getLogger(TextFileDataset.class);

    /** Texts tokenized together while the file is scanned. */
    private static final int SCAN_CHUNK = 256;

    private final Path file;
    private final TextOptions options;
    private final TextRecords.Format format;
    private final TextTokenizer tokenizer;
    private final Lexicons lexicons;
    private final List<Path> inputs;
    private final String textColumn;
    private final long rows;
    private final Map<String, Integer> labelIds;
    private final DatasetInfo info;
    private final int truncated;
    private final String warning;
    private final Set<TextBatchCursor> open = ConcurrentHashMap.newKeySet();
    private volatile String fingerprint;

    private TextFileDataset(Path file, TextOptions options, TextRecords.Format format, TextTokenizer tokenizer,
                            Lexicons lexicons, List<Path> inputs, String textColumn, Scan scan, String data) {
        this.file = file;
        this.options = options;
        this.format = format;
        this.tokenizer = tokenizer;
        this.lexicons = lexicons;
        this.inputs = inputs;
        this.textColumn = textColumn;
        this.rows = scan.rows;
        this.labelIds = scan.labelIds;
        this.truncated = scan.truncated;
        boolean raw = tokenizer == null;
        List<String> features = raw ? List.of() : tokenizer.hasTypeIds()
                ? List.of(Batch.ATTENTION_MASK, Batch.TOKEN_TYPE_IDS) : List.of(Batch.ATTENTION_MASK);
        this.info = new DatasetInfo(scan.rows, raw ? new int[0] : new int[] {options.maxLength()}, scan.classes,
                scan.metadataKeys, raw ? DType.STRING : DType.INT32, features,
                raw || lexicons.isEmpty() ? List.of() : List.of(Lexicons.KEY), true);
        if (scan.truncated > 0) {
            this.warning = "data '" + data + "': " + scan.truncated + " of " + scan.rows + " examples of " + file
                    + " have more than maxLength " + options.maxLength() + " tokens (the longest, " + scan.longestId
                    + ", has " + scan.longest + ") and were truncated to " + options.maxLength()
                    + "; raise maxLength, or set truncate: false to refuse them";
            LOG.warn(warning);
        } else {
            this.warning = null;
        }
    }

    /**
     * Opens a text file: reads the tokenizer and lexicons, scans the file and checks it.
     *
     * @param ctx        the source's context, for the data set's name and relative paths
     * @param file       the resolved file
     * @param options    what to read and how to tokenize
     * @param format     the file's format
     * @param textColumn the column holding the text
     * @return the data set
     * @throws DataException naming the file, the line and what was expected when anything does not fit
     */
    static TextFileDataset open(DataContext<?> ctx, Path file, TextOptions options, TextRecords.Format format,
                                String textColumn) {
        TextTokenizer tokenizer = options.openTokenizer(ctx);
        try {
            return open(ctx, file, options, format, textColumn, tokenizer);
        } catch (RuntimeException e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            throw e;
        }
    }

    private static TextFileDataset open(DataContext<?> ctx, Path file, TextOptions options, TextRecords.Format format,
                                        String textColumn, TextTokenizer tokenizer) {
        Lexicons lexicons = options.openLexicons(ctx);
        List<Path> inputs = new ArrayList<>();
        inputs.add(file);
        if (!options.raw()) {
            String t = options.tokenizer();
            String p = t.startsWith("word:") ? t.substring(5) : t.startsWith("hf:") ? t.substring(3) : t;
            Path resolved = ctx.resolve(p);
            inputs.add(java.nio.file.Files.isDirectory(resolved) ? resolved.resolve("tokenizer.json") : resolved);
        }
        options.lexicons().values().forEach(l -> inputs.add(ctx.resolve(l)));
        Scan scan = Scan.of(file, options, format, tokenizer, textColumn);
        return new TextFileDataset(file, options, format, tokenizer, lexicons, List.copyOf(inputs), textColumn, scan,
                ctx.name());
    }

    /** @return how many examples were cut to {@code maxLength} */
    int truncated() {
        return truncated;
    }

    /** @return the warning logged when examples were cut, or null */
    String warning() {
        return warning;
    }

    /** What one scan of the file found. */
    private static final class Scan {
        long rows;
        int truncated;
        int longest;
        String longestId;
        List<String> classes;
        List<String> metadataKeys;
        final Map<String, Integer> labelIds = new HashMap<>();

        static Scan of(Path file, TextOptions o, TextRecords.Format format, TextTokenizer tokenizer, String textColumn) {
            Scan s = new Scan();
            Map<String, Long> labels = new LinkedHashMap<>();
            Set<String> otherFields = new LinkedHashSet<>();
            List<String> texts = new ArrayList<>(SCAN_CHUNK);
            List<String> ids = new ArrayList<>(SCAN_CHUNK);
            List<Long> lines = new ArrayList<>(SCAN_CHUNK);
            List<String> header;
            try (TextRecords r = format.open(file)) {
                header = r.header();
                if (header != null) {
                    checkColumns(file, o, header, textColumn);
                }
                Map<String, String> rec;
                while ((rec = r.next()) != null) {
                    String id = id(format, s.rows, r.recordLine());
                    String text = text(file, rec, textColumn, r.recordLine());
                    if (o.labelColumn() != null) {
                        String label = label(file, o, rec, r.recordLine());
                        labels.putIfAbsent(label, r.recordLine());
                    }
                    if (header == null) {
                        rec.forEach((k, v) -> {
                            if (!k.equals(textColumn) && !k.equals(o.labelColumn())) {
                                otherFields.add(k);
                            }
                        });
                    }
                    if (tokenizer != null) {
                        texts.add(text);
                        ids.add(id);
                        lines.add(r.recordLine());
                        if (texts.size() == SCAN_CHUNK) {
                            s.lengths(file, o, tokenizer, texts, ids, lines);
                        }
                    }
                    s.rows++;
                }
            }
            if (!texts.isEmpty()) {
                s.lengths(file, o, tokenizer, texts, ids, lines);
            }
            if (s.rows == 0) {
                throw new DataException(file + " holds no examples");
            }
            if (o.labelColumn() == null) {
                s.classes = List.of();
            } else {
                s.classes = o.classes() != null ? o.classes() : List.copyOf(new TreeSet<>(labels.keySet()));
                for (int i = 0; i < s.classes.size(); i++) {
                    s.labelIds.put(s.classes.get(i), i);
                }
            }
            if (o.metadataColumns() != null) {
                s.metadataKeys = o.metadataColumns();
            } else if (header != null) {
                s.metadataKeys = header.stream().filter(c -> !c.equals(textColumn) && !c.equals(o.labelColumn()))
                        .toList();
            } else {
                s.metadataKeys = List.copyOf(otherFields);
            }
            return s;
        }

        /** Counts (or refuses) the texts longer than {@code maxLength} tokens, then empties the chunk. */
        private void lengths(Path file, TextOptions o, TextTokenizer tokenizer, List<String> texts, List<String> ids,
                             List<Long> lines) {
            List<TextEncoding> encodings = tokenizer.encodeAll(texts, o.addSpecialTokens());
            for (int i = 0; i < encodings.size(); i++) {
                int len = encodings.get(i).length();
                if (len > o.maxLength()) {
                    if (!o.truncate()) {
                        throw new DataException("example " + ids.get(i) + " (" + file + " line " + lines.get(i)
                                + ") has " + len + " tokens, more than maxLength " + o.maxLength()
                                + "; raise maxLength, or set truncate: true to cut such examples to "
                                + o.maxLength() + " tokens");
                    }
                    truncated++;
                    if (len > longest) {
                        longest = len;
                        longestId = ids.get(i);
                    }
                }
            }
            texts.clear();
            ids.clear();
            lines.clear();
        }

        private static void checkColumns(Path file, TextOptions o, List<String> header, String textColumn) {
            if (!header.contains(textColumn)) {
                throw new DataException("text column '" + textColumn + "' (params.textColumn) is not in " + file
                        + "; columns found: " + String.join(", ", header));
            }
            if (o.labelColumn() != null && !header.contains(o.labelColumn())) {
                throw new DataException("label column '" + o.labelColumn() + "' (params.labelColumn) is not in " + file
                        + "; columns found: " + String.join(", ", header));
            }
            if (o.metadataColumns() != null) {
                for (String m : o.metadataColumns()) {
                    if (!header.contains(m)) {
                        throw new DataException("metadata column '" + m + "' (params.metadataColumns) is not in " + file
                                + "; columns found: " + String.join(", ", header));
                    }
                }
            }
        }
    }

    private static String id(TextRecords.Format format, long index, long line) {
        return format.lineIds() ? "line-" + line : "row-" + index;
    }

    private static String text(Path file, Map<String, String> rec, String column, long line) {
        String text = rec.get(column);
        if (text == null) {
            throw new DataException(file + " line " + line + " has no text field '" + column + "' (params.textColumn); "
                    + "fields found: " + String.join(", ", rec.keySet()));
        }
        return text;
    }

    private static String label(Path file, TextOptions o, Map<String, String> rec, long line) {
        String label = rec.get(o.labelColumn());
        if (label == null) {
            throw new DataException(file + " line " + line + " has no label field '" + o.labelColumn()
                    + "' (params.labelColumn); fields found: " + String.join(", ", rec.keySet()));
        }
        if (o.classes() != null && !o.classes().contains(label)) {
            throw new DataException("label '" + label + "' in " + file + " line " + line + " is not one of "
                    + "params.classes " + o.classes());
        }
        return label;
    }

    @Override
    public DatasetInfo info() {
        return info;
    }

    @Override
    public java.util.Iterator<Batch> batches(int batchSize) {
        TextRecords in = format.open(file);
        List<String> metadataKeys = info.metadataKeys();
        int t = options.maxLength();
        TextBatchCursor cursor = new TextBatchCursor(rows, batchSize) {
            @Override
            Batch read(long offset, int n) {
                List<String> texts = new ArrayList<>(n);
                List<String> ids = new ArrayList<>(n);
                List<Map<String, String>> metadata = new ArrayList<>(n);
                int[] labels = options.labelColumn() == null ? null : new int[n];
                for (int i = 0; i < n; i++) {
                    Map<String, String> rec = in.next();
                    if (rec == null) {
                        throw new DataException(file + " changed while open: it ends after " + (offset + i) + " of "
                                + rows + " examples");
                    }
                    texts.add(text(file, rec, textColumn, in.recordLine()));
                    ids.add(id(format, offset + i, in.recordLine()));
                    if (labels != null) {
                        Integer y = labelIds.get(label(file, options, rec, in.recordLine()));
                        if (y == null) {
                            throw new DataException(file + " changed while open: line " + in.recordLine()
                                    + " has a label not seen when it was opened");
                        }
                        labels[i] = y;
                    }
                    Map<String, String> m = new LinkedHashMap<>();
                    for (String k : metadataKeys) {
                        String v = rec.get(k);
                        m.put(k, v == null ? "" : v);
                    }
                    metadata.add(m);
                }
                if (tokenizer == null) {
                    List<Tokens> tokens = new ArrayList<>(n);
                    for (String s : texts) {
                        tokens.add(new Tokens(s, List.of(), new int[0], new int[0], Map.of()));
                    }
                    return new Batch(offset, Tensor.ofStrings(texts.toArray(new String[0]), n), labels, ids, metadata,
                            Map.of(), tokens);
                }
                List<TextEncoding> encodings = new ArrayList<>(tokenizer.encodeAll(texts, options.addSpecialTokens()));
                for (int i = 0; i < n; i++) {
                    if (encodings.get(i).length() > t) {
                        encodings.set(i, tokenizer.truncate(texts.get(i), encodings.get(i), options.addSpecialTokens(), t));
                    }
                }
                return TextBatches.pack(offset, texts, encodings, tokenizer.hasTypeIds(), tokenizer.padId(), t,
                        lexicons, labels, ids, metadata);
            }

            @Override
            void done() {
                in.close();
                open.remove(this);
            }
        };
        open.add(cursor);
        return cursor;
    }

    @Override
    public String fingerprint() {
        String f = fingerprint;
        if (f == null) {
            String canonical = "\ntext-file\ntextColumn=" + textColumn + "\nlabelColumn=" + options.labelColumn()
                    + "\nclasses=" + options.classes() + "\nmetadataColumns=" + info.metadataKeys()
                    + "\ntokenizer=" + options.tokenizer() + "\nmaxLength=" + options.maxLength()
                    + "\ntruncate=" + options.truncate() + "\nlexicons=" + options.lexicons().keySet()
                    + "\naddSpecialTokens=" + options.addSpecialTokens() + "\n";
            f = TextFiles.sha256Of(inputs, canonical);
            fingerprint = f;
        }
        return f;
    }

    /** Ends every open pass and frees the tokenizer. */
    @Override
    public void close() {
        for (TextBatchCursor c : List.copyOf(open)) {
            c.close();
        }
        if (tokenizer != null) {
            tokenizer.close();
        }
    }
}
