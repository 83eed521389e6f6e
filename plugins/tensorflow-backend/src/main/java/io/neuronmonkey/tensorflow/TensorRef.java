package io.neuronmonkey.tensorflow;

/**
 * One output of a graph operation, named as TensorFlow writes it: {@code op} for output 0 or {@code op:index}.
 *
 * @param op    the operation name
 * @param index the output index, >= 0
 */
record TensorRef(String op, int index) {

    /**
     * @param name {@code op}, {@code op:index} or a control input {@code ^op}
     * @return the reference
     */
    static TensorRef parse(String name) {
        String n = name.startsWith("^") ? name.substring(1) : name;
        int colon = n.lastIndexOf(':');
        if (colon > 0 && colon < n.length() - 1 && n.substring(colon + 1).chars().allMatch(Character::isDigit)) {
            return new TensorRef(n.substring(0, colon), Integer.parseInt(n.substring(colon + 1)));
        }
        return new TensorRef(n, 0);
    }

    /** @return the layer name: the op name for output 0, {@code op:index} otherwise */
    String layerName() {
        return index == 0 ? op : op + ":" + index;
    }
}
