package io.neuronmonkey.runtime.config;

import org.snakeyaml.engine.v2.nodes.Node;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Collects {@link ConfigProblem}s so that validation reports all of them at once. */
public final class Problems {

    private final List<ConfigProblem> list = new ArrayList<>();

    public void add(String path, Node node, String message) {
        list.add(new ConfigProblem(path, Position.of(node), message));
    }

    public void add(String path, Position position, String message) {
        list.add(new ConfigProblem(path, position, message));
    }

    public void addAll(List<ConfigProblem> problems) {
        list.addAll(problems);
    }

    public boolean isEmpty() {
        return list.isEmpty();
    }

    public int size() {
        return list.size();
    }

    public List<ConfigProblem> list() {
        return List.copyOf(list);
    }

    public void throwIfAny(Path file) {
        if (!list.isEmpty()) {
            throw new ConfigValidationException(file, list);
        }
    }
}
