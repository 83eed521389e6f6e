package io.neuronmonkey.dynamics;

import io.neuronmonkey.api.AnalysisException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The checkpoints of a series folder: its subfolders whose name ends in a number (epoch_01, ckpt-3), by number. */
final class Checkpoints {

    private static final Pattern NUMBERED = Pattern.compile(".*?(\\d+)$");

    private Checkpoints() {
    }

    /**
     * One checkpoint.
     *
     * @param name   the folder's name
     * @param step   the number its name ends in
     * @param folder the folder
     */
    record Checkpoint(String name, long step, Path folder) {
    }

    /**
     * @param series the series folder
     * @param field  the param naming it (for messages)
     * @return its checkpoints ordered by number, at least two
     */
    static List<Checkpoint> list(Path series, String field) {
        if (!Files.isDirectory(series)) {
            throw new AnalysisException(field + ": " + series + " is not a folder; give the folder holding the"
                    + " checkpoints (epoch_01, epoch_02, ... or ckpt-1, ckpt-2, ...)");
        }
        List<Checkpoint> out;
        try (Stream<Path> s = Files.list(series)) {
            out = s.filter(Files::isDirectory).map(p -> {
                Matcher m = NUMBERED.matcher(p.getFileName().toString());
                return m.matches() ? new Checkpoint(p.getFileName().toString(), Long.parseLong(m.group(1)), p) : null;
            }).filter(c -> c != null).sorted(Comparator.comparingLong(Checkpoint::step)
                    .thenComparing(Checkpoint::name)).toList();
        } catch (IOException | NumberFormatException e) {
            throw new AnalysisException(field + ": cannot list " + series + ": " + e.getMessage(), e);
        }
        if (out.size() < 2) {
            throw new AnalysisException(field + ": " + series + " holds " + out.size() + " checkpoint folder(s) whose"
                    + " name ends in a number; a series needs at least 2 (epoch_01, epoch_02, ...)");
        }
        return out;
    }
}
