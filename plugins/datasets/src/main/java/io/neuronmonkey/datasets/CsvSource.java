package io.neuronmonkey.datasets;

import io.neuronmonkey.api.DataException;
import io.neuronmonkey.api.ExtensionName;
import io.neuronmonkey.api.Param;
import io.neuronmonkey.api.Violations;
import io.neuronmonkey.api.data.Batch;
import io.neuronmonkey.api.data.DataContext;
import io.neuronmonkey.api.data.DataSource;
import io.neuronmonkey.api.data.Dataset;
import io.neuronmonkey.api.data.DatasetInfo;
import io.neuronmonkey.api.tensor.Tensor;
import org.pf4j.Extension;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads numeric feature rows from a CSV file, with an optional label column. The file is checked and counted once
 * when opened, then streamed line by line on every pass.
 */
@Extension
@ExtensionName(value = "csv", description = "Numeric feature rows from a CSV file, with an optional label column")
public class CsvSource implements DataSource<CsvSource.Params> {

    /**
     * Params of {@code csv}.
     *
     * @param file        path of the CSV file, required
     * @param labelColumn name of the label column (its 0-based number without a header), or null for no labels
     * @param header      whether the first line holds column names
     * @param delimiter   the one-character cell separator ({@code \t} or {@code tab} for a tab)
     * @param shape       reshape of each feature vector, or null for a flat vector
     * @param classNames  label names, or null (see {@link CsvSource})
     * @param allowNonFinite whether NaN and infinite cells are read rather than refused
     */
    public record Params(
            @Param(description = "path of the CSV file") String file,
            @Param(description = "optional label column: its header name (its 0-based number when header is false)")
            String labelColumn,
            @Param(defaultValue = "true", description = "whether the first line holds column names") boolean header,
            @Param(defaultValue = "','", description = "cell separator, one character (quote it in YAML: "
                    + "\",\" or ';'); '\\t' or tab for a tab")
            String delimiter,
            @Param(description = "optional shape of one example, e.g. [28, 28, 1]; its product must equal the "
                    + "number of feature columns") List<Integer> shape,
            @Param(description = "optional label names, indexed by label; default: the sorted distinct labels, or "
                    + "\"0\"..max for integer labels") List<String> classNames,
            @Param(defaultValue = "false", description = "read NaN and infinite cells (NaN, inf, -inf, Infinity) instead "
                    + "of refusing the file; the run then counts and reports them") boolean allowNonFinite) {

        /** Validates every field at once. */
        public Params {
            String d = delimiter == null ? null : delimiterOf(delimiter);
            Violations check = Violations.check()
                    .require(file != null && !file.isBlank(), "file", "must be the path of a CSV file, found "
                            + (file == null ? "nothing" : "'" + file + "'"))
                    .require(labelColumn == null || !labelColumn.isBlank(), "labelColumn", "must name a column or "
                            + "be absent, found ''")
                    .require(d != null && d.length() == 1 && !d.equals("\"") && !d.equals("\n") && !d.equals("\r"),
                            "delimiter", "must be one character other than a quote or line break ('\\t' or 'tab' "
                                    + "for a tab), found " + (delimiter == null ? "nothing" : "'" + delimiter + "'"))
                    .require(shape == null || !shape.isEmpty() && shape.stream().allMatch(s -> s != null && s >= 1),
                            "shape", "must be a non-empty list of dimensions >= 1, found " + shape)
                    .require(classNames == null || labelColumn != null, "classNames", "needs labelColumn")
                    .require(classNames == null || !classNames.isEmpty(), "classNames", "must not be empty");
            if (!header && labelColumn != null) {
                boolean number = labelColumn.chars().allMatch(Character::isDigit) && !labelColumn.isEmpty();
                check.require(number, "labelColumn", "must be a 0-based column number when header is false, found '"
                        + labelColumn + "'");
            }
            check.throwIfAny();
            delimiter = d;
            shape = shape == null ? null : List.copyOf(shape);
            classNames = classNames == null ? null : List.copyOf(classNames);
        }

        private static String delimiterOf(String d) {
            return switch (d) {
                case "\\t", "tab" -> "\t";
                default -> d;
            };
        }
    }

    /** Public no-arg constructor for PF4J. */
    public CsvSource() {
    }

    @Override
    public Dataset open(DataContext<Params> ctx) {
        Params p = ctx.params();
        Path file = DataFiles.require(ctx, p.file(), "file");
        return Layout.scan(file, p).dataset(file, p);
    }

    /** What one scan of the file found: columns, row count, label mapping. */
    private record Layout(List<String> columns, int labelIndex, long rows, Map<String, Integer> labelIds,
                          List<String> classNames, int[] exampleShape) {

        static Layout scan(Path file, Params p) {
            List<String> columns = null;
            int labelIndex = -1;
            long rows = 0;
            Map<String, Long> firstLine = new HashMap<>();
            boolean integerLabels = true;
            int maxLabel = -1;
            try (LineReader in = new LineReader(file, p)) {
                if (p.header()) {
                    List<String> names = in.next();
                    if (names == null) {
                        throw new DataException("CSV file " + file + " is empty; expected a header line");
                    }
                    columns = List.copyOf(names); // the reader reuses its list

                }
                List<String> cells;
                float[] scratch = null;
                while ((cells = in.next()) != null) {
                    if (columns == null) {
                        columns = new ArrayList<>();
                        for (int i = 0; i < cells.size(); i++) {
                            columns.add(Integer.toString(i));
                        }
                    }
                    if (scratch == null) {
                        labelIndex = labelIndex(file, p, columns);
                        scratch = new float[columns.size() - (labelIndex >= 0 ? 1 : 0)];
                    }
                    in.checkWidth(cells, columns);
                    in.parseFeatures(cells, columns, labelIndex, scratch, 0);
                    if (labelIndex >= 0) {
                        String label = cells.get(labelIndex);
                        if (firstLine.putIfAbsent(label, in.line()) == null && integerLabels) {
                            Integer v = parseInt(label);
                            integerLabels = v != null && v >= 0;
                            if (integerLabels) {
                                maxLabel = Math.max(maxLabel, v);
                            }
                        }
                    }
                    rows++;
                }
            }
            if (columns == null) {
                throw new DataException("CSV file " + file + " has no rows");
            }
            if (labelIndex < 0) {
                labelIndex = labelIndex(file, p, columns);
            }
            int features = columns.size() - (labelIndex >= 0 ? 1 : 0);
            int[] shape = exampleShape(file, p, features);
            Map<String, Integer> ids = new HashMap<>();
            List<String> names = List.of();
            if (labelIndex >= 0) {
                names = classNames(file, p, columns.get(labelIndex), firstLine, integerLabels, maxLabel, ids);
            }
            return new Layout(List.copyOf(columns), labelIndex, rows, ids, names, shape);
        }

        private static int labelIndex(Path file, Params p, List<String> columns) {
            if (p.labelColumn() == null) {
                return -1;
            }
            int i = p.header() ? columns.indexOf(p.labelColumn()) : parseIntOr(p.labelColumn(), -1);
            if (i < 0 || i >= columns.size()) {
                throw new DataException("label column '" + p.labelColumn() + "' (params.labelColumn) is not in " + file
                        + "; " + (p.header() ? "columns: " + String.join(", ", columns)
                        : "columns are numbered 0.." + (columns.size() - 1)));
            }
            return i;
        }

        private static int[] exampleShape(Path file, Params p, int features) {
            if (p.shape() == null) {
                return new int[] {features};
            }
            int[] s = p.shape().stream().mapToInt(Integer::intValue).toArray();
            long product = 1;
            for (int d : s) {
                product *= d;
            }
            if (product != features) {
                throw new DataException("params.shape " + p.shape() + " holds " + product + " values but " + file
                        + " has " + features + " feature columns");
            }
            return s;
        }

        private static List<String> classNames(Path file, Params p, String column, Map<String, Long> firstLine,
                                               boolean integerLabels, int maxLabel, Map<String, Integer> ids) {
            List<String> given = p.classNames();
            if (given != null) {
                for (Map.Entry<String, Long> e : firstLine.entrySet()) {
                    String v = e.getKey();
                    int i = given.indexOf(v);
                    if (i < 0) {
                        Integer n = parseInt(v);
                        i = n != null && n >= 0 && n < given.size() ? n : -1;
                    }
                    if (i < 0) {
                        throw new DataException("label '" + v + "' in " + file + " line " + e.getValue() + ", column '"
                                + column + "' is neither one of params.classNames " + given + " nor an index 0.."
                                + (given.size() - 1));
                    }
                    ids.put(v, i);
                }
                return given;
            }
            if (integerLabels) {
                for (String v : firstLine.keySet()) {
                    ids.put(v, parseInt(v));
                }
                return DataFiles.numberedClasses(maxLabel + 1);
            }
            List<String> sorted = List.copyOf(new TreeSet<>(firstLine.keySet()));
            for (int i = 0; i < sorted.size(); i++) {
                ids.put(sorted.get(i), i);
            }
            return sorted;
        }

        Dataset dataset(Path file, Params p) {
            return new CsvDataset(file, p, this);
        }
    }

    private static Integer parseInt(String s) {
        try {
            return Integer.valueOf(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static int parseIntOr(String s, int fallback) {
        Integer v = parseInt(s);
        return v == null ? fallback : v;
    }

    /** Line-by-line reader that splits cells (double quotes group, {@code ""} escapes a quote) and tracks lines. */
    private static final class LineReader implements AutoCloseable {

        private final Path file;
        private final char delim;
        private final boolean header;
        private final boolean allowNonFinite;
        private final BufferedReader in;
        private final List<String> cells = new ArrayList<>();
        private final StringBuilder cell = new StringBuilder();
        private long line;

        LineReader(Path file, Params p) {
            this.file = file;
            this.delim = p.delimiter().charAt(0);
            this.header = p.header();
            this.allowNonFinite = p.allowNonFinite();
            try {
                this.in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new DataException("cannot read CSV file " + file + ": " + e.getMessage(), e);
            }
        }

        /** @return the 1-based number of the line last read */
        long line() {
            return line;
        }

        /** @return the next non-blank line's cells, trimmed (a reused list), or null at the end */
        List<String> next() {
            String text;
            try {
                do {
                    text = in.readLine();
                    line++;
                    if (line == 1 && text != null && text.startsWith("\uFEFF")) {
                        text = text.substring(1);
                    }
                } while (text != null && text.isBlank());
            } catch (IOException e) {
                throw new DataException("cannot read CSV file " + file + " at line " + line + ": " + e.getMessage(), e);
            }
            return text == null ? null : split(text);
        }

        private List<String> split(String text) {
            cells.clear();
            cell.setLength(0);
            boolean quoted = false;
            boolean wasQuoted = false;
            for (int i = 0, n = text.length(); i < n; i++) {
                char c = text.charAt(i);
                if (quoted) {
                    if (c == '"') {
                        if (i + 1 < n && text.charAt(i + 1) == '"') {
                            cell.append('"');
                            i++;
                        } else {
                            quoted = false;
                        }
                    } else {
                        cell.append(c);
                    }
                } else if (c == delim) {
                    cells.add(wasQuoted ? cell.toString() : cell.toString().strip());
                    cell.setLength(0);
                    wasQuoted = false;
                } else if (c == '"' && cell.toString().isBlank()) {
                    cell.setLength(0);
                    quoted = true;
                    wasQuoted = true;
                } else {
                    cell.append(c);
                }
            }
            if (quoted) {
                throw new DataException("CSV file " + file + " line " + line + ": a quoted cell is not closed "
                        + "(cells spanning lines are not supported)");
            }
            cells.add(wasQuoted ? cell.toString() : cell.toString().strip());
            return cells;
        }

        void checkWidth(List<String> row, List<String> columns) {
            if (row.size() != columns.size()) {
                throw new DataException("CSV file " + file + " line " + line + " has " + row.size() + " cells; "
                        + "expected " + columns.size() + " like the " + (header ? "header" : "first row"));
            }
        }

        void parseFeatures(List<String> row, List<String> columns, int labelIndex, float[] out, int off) {
            int k = off;
            for (int c = 0, n = row.size(); c < n; c++) {
                if (c == labelIndex) {
                    continue;
                }
                String v = row.get(c);
                try {
                    float f = parse(v);
                    if (!allowNonFinite && !Float.isFinite(f)) {
                        boolean overflow = !v.toLowerCase(Locale.ROOT).matches("[+-]?(nan|inf|infinity)");
                        throw new DataException((overflow ? "value '" + v + "' overflows float32 (becomes infinite)"
                                : "non-finite value '" + v + "'") + " in " + file + " line " + line + ", column '"
                                + columns.get(c) + "'; feature cells must be finite numbers, or set params.allowNonFinite: "
                                + "true to read NaN and infinite values");
                    }
                    out[k++] = f;
                } catch (NumberFormatException e) {
                    throw new DataException("non-numeric value '" + v + "' in " + file + " line " + line
                            + ", column '" + columns.get(c) + "'; feature cells must be numbers"
                            + (labelIndex < 0 ? " (is it a label column? set params.labelColumn)" : ""));
                }
            }
        }

        /** A number, or one of NaN, inf, -inf, Infinity in any case (as NumPy and pandas write them). */
        private static float parse(String v) {
            return switch (v.toLowerCase(Locale.ROOT)) {
                case "nan", "+nan", "-nan" -> Float.NaN;
                case "inf", "+inf", "infinity", "+infinity" -> Float.POSITIVE_INFINITY;
                case "-inf", "-infinity" -> Float.NEGATIVE_INFINITY;
                default -> Float.parseFloat(v);
            };
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException ignored) {
                // nothing left to release
            }
        }
    }

    /** The checked layout; each pass opens its own reader, closed at its end or when the data set closes. */
    private static final class CsvDataset implements Dataset {

        private final Path file;
        private final Params params;
        private final Layout layout;
        private final DatasetInfo info;
        private final Set<BatchCursor> open = ConcurrentHashMap.newKeySet();
        private volatile String fingerprint;

        CsvDataset(Path file, Params params, Layout layout) {
            this.file = file;
            this.params = params;
            this.layout = layout;
            this.info = new DatasetInfo(layout.rows(), layout.exampleShape(), layout.classNames(), List.of());
        }

        @Override
        public DatasetInfo info() {
            return info;
        }

        @Override
        public Iterator<Batch> batches(int batchSize) {
            LineReader in = new LineReader(file, params);
            int[] shape = layout.exampleShape();
            int width = layout.columns().size() - (layout.labelIndex() >= 0 ? 1 : 0);
            BatchCursor cursor = new BatchCursor(layout.rows(), batchSize) {
                private boolean started;

                @Override
                Batch read(long offset, int n) {
                    if (!started && params.header()) {
                        in.next();
                    }
                    started = true;
                    float[] x = new float[n * width];
                    int[] y = layout.labelIndex() >= 0 ? new int[n] : null;
                    for (int i = 0; i < n; i++) {
                        List<String> cells = in.next();
                        if (cells == null) {
                            throw new DataException("CSV file " + file + " changed while open: it ends after "
                                    + (offset + i) + " of " + layout.rows() + " rows");
                        }
                        in.checkWidth(cells, layout.columns());
                        in.parseFeatures(cells, layout.columns(), layout.labelIndex(), x, i * width);
                        if (y != null) {
                            Integer id = layout.labelIds().get(cells.get(layout.labelIndex()));
                            if (id == null) {
                                throw new DataException("CSV file " + file + " changed while open: line " + in.line()
                                        + " has a label not seen when it was opened");
                            }
                            y[i] = id;
                        }
                    }
                    int[] s = new int[shape.length + 1];
                    s[0] = n;
                    System.arraycopy(shape, 0, s, 1, shape.length);
                    return new Batch(offset, Tensor.ofFloats(x, s), y, new ExampleIds("row-", offset, n),
                            Collections.nCopies(n, Map.of()));
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
                f = DataFiles.sha256Of(List.of(file));
                fingerprint = f;
            }
            return f;
        }

        @Override
        public void close() {
            for (BatchCursor c : List.copyOf(open)) {
                c.close();
            }
        }
    }
}
