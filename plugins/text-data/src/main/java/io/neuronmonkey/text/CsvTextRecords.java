package io.neuronmonkey.text;

import io.neuronmonkey.api.DataException;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * CSV or TSV records under a header row. Cells are separated by one delimiter character; a cell in double quotes may
 * hold delimiters and line breaks, and {@code ""} inside it is one quote. Unquoted cells are trimmed, blank lines
 * skipped. Every record must have as many cells as the header.
 */
final class CsvTextRecords extends TextRecords {

    private final char delimiter;
    private final List<String> header;
    private final StringBuilder cell = new StringBuilder();
    private long recordLine;

    /**
     * @param file      the file
     * @param delimiter the cell separator
     */
    CsvTextRecords(Path file, char delimiter) {
        super(file, "CSV file");
        this.delimiter = delimiter;
        List<String> names = cells();
        if (names == null) {
            close();
            throw new DataException("CSV file " + file + " is empty; expected a header row naming the columns");
        }
        Set<String> seen = new HashSet<>();
        for (String n : names) {
            if (!seen.add(n)) {
                close();
                throw new DataException("CSV file " + file + ": the header names column '" + n + "' twice");
            }
        }
        this.header = List.copyOf(names);
    }

    /**
     * @param path      the file name
     * @param delimiter the delimiter as given, or null
     * @return the delimiter given ({@code \t} or {@code tab} for a tab), else a tab for {@code .tsv} and {@code .tab}
     *         files and a comma otherwise
     */
    static char delimiter(String path, String delimiter) {
        if (delimiter == null) {
            String lower = path.toLowerCase(java.util.Locale.ROOT);
            return lower.endsWith(".tsv") || lower.endsWith(".tab") ? '\t' : ',';
        }
        return delimiter.equals("\\t") || delimiter.equalsIgnoreCase("tab") ? '\t' : delimiter.charAt(0);
    }

    /**
     * @param delimiter a delimiter as given
     * @return true when it is one usable character (or a tab's spelling)
     */
    static boolean validDelimiter(String delimiter) {
        if (delimiter.equals("\\t") || delimiter.equalsIgnoreCase("tab")) {
            return true;
        }
        return delimiter.length() == 1 && "\"\r\n".indexOf(delimiter.charAt(0)) < 0;
    }

    @Override
    List<String> header() {
        return header;
    }

    @Override
    long recordLine() {
        return recordLine;
    }

    @Override
    Map<String, String> next() {
        List<String> row = cells();
        if (row == null) {
            return null;
        }
        if (row.size() != header.size()) {
            throw new DataException("CSV file " + file + " line " + recordLine + " has " + row.size() + " cells; the "
                    + "header has " + header.size() + " (" + String.join(", ", header) + ")"
                    + (delimiter == '\t' ? "" : "; quote cells that hold the delimiter '" + delimiter + "'"));
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < row.size(); i++) {
            out.put(header.get(i), row.get(i));
        }
        return out;
    }

    /** @return the cells of the next non-blank record, or null at the end */
    private List<String> cells() {
        String text;
        do {
            text = readLine();
            if (text == null) {
                return null;
            }
        } while (text.isBlank());
        recordLine = line;
        List<String> out = new ArrayList<>();
        cell.setLength(0);
        boolean quoted = false;
        boolean wasQuoted = false;
        int i = 0;
        while (true) {
            if (i >= text.length()) {
                if (!quoted) {
                    break;
                }
                String more = readLine();
                if (more == null) {
                    throw new DataException("CSV file " + file + " line " + recordLine + ": a quoted cell is not closed "
                            + "before the end of the file");
                }
                cell.append('\n');
                text = more;
                i = 0;
                continue;
            }
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"') {
                    if (i + 1 < text.length() && text.charAt(i + 1) == '"') {
                        cell.append('"');
                        i++;
                    } else {
                        quoted = false;
                    }
                } else {
                    cell.append(c);
                }
            } else if (c == delimiter) {
                out.add(wasQuoted ? cell.toString() : cell.toString().strip());
                cell.setLength(0);
                wasQuoted = false;
            } else if (c == '"' && cell.toString().isBlank()) {
                cell.setLength(0);
                quoted = true;
                wasQuoted = true;
            } else {
                cell.append(c);
            }
            i++;
        }
        out.add(wasQuoted ? cell.toString() : cell.toString().strip());
        return out;
    }
}
