package io.neuronmonkey.runtime.config;

import io.neuronmonkey.api.ConfigException;

import java.nio.file.Path;
import java.util.List;

/** Every problem found in one experiment file, reported together. */
public final class ConfigValidationException extends ConfigException {

    private final Path file;
    private final List<ConfigProblem> problems;

    public ConfigValidationException(Path file, List<ConfigProblem> problems) {
        super(format(file, problems));
        this.file = file;
        this.problems = List.copyOf(problems);
    }

    public Path file() {
        return file;
    }

    public List<ConfigProblem> problems() {
        return problems;
    }

    private static String format(Path file, List<ConfigProblem> problems) {
        StringBuilder sb = new StringBuilder();
        sb.append(file).append(": ").append(problems.size()).append(problems.size() == 1 ? " error" : " errors");
        for (ConfigProblem p : problems) {
            sb.append(System.lineSeparator()).append("  ").append(p);
        }
        return sb.toString();
    }
}
