package io.neuronmonkey.text;

import io.neuronmonkey.api.DataException;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * One pass over the records of a text file, in file order. Each record is a map of column (field) name to value,
 * {@code null} where a record lacks a field.
 */
abstract class TextRecords implements AutoCloseable {

    /** The file read, for messages. */
    final Path file;

    /** The open reader. */
    final BufferedReader in;

    /** 1-based number of the last line read. */
    long line;

    /**
     * @param file the file to read as UTF-8
     * @param what what the file should be, for messages (e.g. {@code CSV file})
     */
    TextRecords(Path file, String what) {
        this.file = file;
        try {
            this.in = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new DataException("cannot read " + what + " " + file + ": " + e.getMessage(), e);
        }
    }

    /** @return the next record, or null at the end of the file */
    abstract Map<String, String> next();

    /** @return the 1-based line where the last record returned starts */
    abstract long recordLine();

    /** @return the columns of the file's header, or null when the format has none (every record names its own) */
    abstract List<String> header();

    /**
     * @return the next line without its line break (a leading byte-order mark removed), or null at the end
     */
    String readLine() {
        try {
            String s = in.readLine();
            if (s != null) {
                line++;
                if (line == 1 && s.startsWith("\uFEFF")) {
                    s = s.substring(1);
                }
            }
            return s;
        } catch (IOException e) {
            throw new DataException("cannot read " + file + " at line " + (line + 1) + ": " + e.getMessage(), e);
        }
    }

    @Override
    public void close() {
        try {
            in.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }

    /** Opens a pass over a file. */
    interface Format {

        /**
         * @param file the file
         * @return a pass from its first record
         */
        TextRecords open(Path file);

        /** @return true when example ids are {@code line-<line>} rather than {@code row-<index>} */
        boolean lineIds();
    }
}
