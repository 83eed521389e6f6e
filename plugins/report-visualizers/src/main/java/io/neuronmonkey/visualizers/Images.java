package io.neuronmonkey.visualizers;

import java.awt.image.BufferedImage;

/** Input-shaped maps as pictures: a diverging colour scale centred on 0 (red positive, blue negative). */
final class Images {

    private Images() {
    }

    /**
     * @param map   row-major {@code [h, w]} values
     * @param h     height
     * @param w     width
     * @param scale pixels per value (nearest neighbour)
     * @return the picture, scaled to the largest absolute value
     */
    static BufferedImage heatmap(float[] map, int h, int w, int scale) {
        double max = 0;
        for (float v : map) {
            if (Float.isFinite(v)) {
                max = Math.max(max, Math.abs(v));
            }
        }
        BufferedImage img = new BufferedImage(w * scale, h * scale, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float v = map[y * w + x];
                double t = max > 0 && Float.isFinite(v) ? v / max : 0;
                int fade = (int) Math.round(255 * (1 - Math.abs(t)));
                int rgb = t >= 0 ? (255 << 16) | (fade << 8) | fade : (fade << 16) | (fade << 8) | 255;
                for (int dy = 0; dy < scale; dy++) {
                    for (int dx = 0; dx < scale; dx++) {
                        img.setRGB(x * scale + dx, y * scale + dy, rgb);
                    }
                }
            }
        }
        return img;
    }

    /**
     * An attribution map laid over its input: the input in grey (its channels averaged, scaled to its own range), the
     * map's positive values in red and negative in blue, opacity growing with |value| relative to the map's largest.
     *
     * @param input the input, {@code h * w} grey values (channels already averaged)
     * @param map   the map, {@code h * w} values
     * @param h     height
     * @param w     width
     * @param scale pixels per value
     * @return the picture
     */
    static BufferedImage overlay(float[] input, float[] map, int h, int w, int scale) {
        double max = 0;
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        for (int k = 0; k < h * w; k++) {
            if (Float.isFinite(map[k])) {
                max = Math.max(max, Math.abs(map[k]));
            }
            if (Float.isFinite(input[k])) {
                lo = Math.min(lo, input[k]);
                hi = Math.max(hi, input[k]);
            }
        }
        BufferedImage img = new BufferedImage(w * scale, h * scale, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int k = y * w + x;
                double g = hi > lo && Float.isFinite(input[k]) ? (input[k] - lo) / (hi - lo) : 0;
                double grey = 40 + 120 * g;
                double t = max > 0 && Float.isFinite(map[k]) ? map[k] / max : 0;
                double a = Math.min(1, Math.abs(t) * 1.2);
                double r = grey * (1 - a) + (t >= 0 ? 255 : 30) * a;
                double gr = grey * (1 - a) + (t >= 0 ? 40 : 90) * a;
                double b = grey * (1 - a) + (t >= 0 ? 30 : 255) * a;
                int rgb = ((int) Math.round(r) << 16) | ((int) Math.round(gr) << 8) | (int) Math.round(b);
                for (int dy = 0; dy < scale; dy++) {
                    for (int dx = 0; dx < scale; dx++) {
                        img.setRGB(x * scale + dx, y * scale + dy, rgb);
                    }
                }
            }
        }
        return img;
    }
}
