package io.neuronmonkey.onnx;

import io.neuronmonkey.api.model.LayerInfo;

/** Moves between the delivered channels-last layout and a model's channels-first one. */
final class Layouts {

    private Layouts() {
    }

    /** @return {@code [C, d1, ..., dk]} as {@code [d1, ..., dk, C]} */
    static int[] firstToLast(int[] shape) {
        if (shape.length < 2) {
            return shape.clone();
        }
        int[] out = new int[shape.length];
        System.arraycopy(shape, 1, out, 0, shape.length - 1);
        out[shape.length - 1] = shape[0];
        return out;
    }

    /** @return {@code first} followed by {@code rest} */
    static int[] prepend(int first, int[] rest) {
        int[] out = new int[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    /**
     * Moves channels-last rows ({@code [n, outer..., inner..., C]}) to the model's layout ({@code [n, outer..., C,
     * inner...]}, the channels at {@code info.channelAxis()}).
     *
     * @param last rows in the delivered layout
     * @param n    rows
     * @param info the layer
     * @return a new array in the model's layout
     */
    static float[] toModelLayout(float[] last, int n, LayerInfo info) {
        int[] model = info.modelShape();
        int ca = info.channelAxis();
        int c = model[ca];
        int outer = 1;
        for (int d = 0; d < ca; d++) {
            outer *= model[d];
        }
        int inner = 1;
        for (int d = ca + 1; d < model.length; d++) {
            inner *= model[d];
        }
        float[] out = new float[last.length];
        int row = outer * c * inner;
        for (int r = 0; r < n; r++) {
            int base = r * row;
            for (int o = 0; o < outer; o++) {
                for (int k = 0; k < c; k++) {
                    int dst = base + (o * c + k) * inner;
                    int src = base + o * inner * c + k;
                    for (int i = 0; i < inner; i++) {
                        out[dst + i] = last[src + i * c];
                    }
                }
            }
        }
        return out;
    }
}
