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
}
