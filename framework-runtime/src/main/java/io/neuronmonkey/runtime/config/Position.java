package io.neuronmonkey.runtime.config;

import org.snakeyaml.engine.v2.exceptions.Mark;
import org.snakeyaml.engine.v2.nodes.Node;

/** A 1-based line and column in a YAML file; {@link #UNKNOWN} where the parser gave none. */
public record Position(int line, int column) {

    public static final Position UNKNOWN = new Position(0, 0);
    /** The start of a file. */
    public static final Position START = new Position(1, 1);

    static Position of(Mark mark) {
        return mark == null ? UNKNOWN : new Position(mark.getLine() + 1, mark.getColumn() + 1);
    }

    static Position of(Node node) {
        return node == null ? UNKNOWN : node.getStartMark().map(Position::of).orElse(UNKNOWN);
    }

    @Override
    public String toString() {
        return this == UNKNOWN || line == 0 ? "" : "line " + line + ", col " + column;
    }
}
