package io.neuronmonkey.runtime.config;

/**
 * One thing wrong with an experiment file: where (a YAML path like {@code steps[1].params.k} and its position) and
 * what, phrased as expected-versus-found.
 */
public record ConfigProblem(String path, Position position, String message) {

    @Override
    public String toString() {
        String where = position.toString();
        return (path.isEmpty() ? "(top)" : path) + (where.isEmpty() ? "" : " (" + where + ")") + " - " + message;
    }
}
