package io.neuronmonkey.text;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Plain-text records: every non-blank line is one text, as written (line break removed), in column {@code text}. */
final class LineTextRecords extends TextRecords {

    /** The one column. */
    static final String COLUMN = "text";

    /** @param file the file */
    LineTextRecords(Path file) {
        super(file, "text file");
    }

    @Override
    List<String> header() {
        return List.of(COLUMN);
    }

    @Override
    long recordLine() {
        return line;
    }

    @Override
    Map<String, String> next() {
        String text;
        do {
            text = readLine();
            if (text == null) {
                return null;
            }
        } while (text.isBlank());
        return Map.of(COLUMN, text);
    }
}
