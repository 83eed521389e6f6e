package io.neuronmonkey.visualizers;

import org.jfree.chart.renderer.PaintScale;

import java.awt.Color;
import java.awt.Paint;

/** The viridis colour map as a JFreeChart {@link PaintScale}: perceptually uniform, readable in grey and by most colour-blind readers. */
final class ViridisPaintScale implements PaintScale {

    private static final int[] STOPS = {
        0x440154, 0x482878, 0x3E4A89, 0x31688E, 0x26828E, 0x1F9E89, 0x35B779, 0x6DCD59, 0xB4DE2C, 0xFDE725,
    };
    /** Paint for missing (NaN) values. */
    static final Color MISSING = new Color(0xBB, 0xBB, 0xBB);

    private final double lower;
    private final double upper;

    ViridisPaintScale(double lower, double upper) {
        if (!(upper > lower)) {
            throw new IllegalArgumentException("upper bound " + upper + " must exceed lower bound " + lower);
        }
        this.lower = lower;
        this.upper = upper;
    }

    @Override
    public double getLowerBound() {
        return lower;
    }

    @Override
    public double getUpperBound() {
        return upper;
    }

    @Override
    public Paint getPaint(double value) {
        if (Double.isNaN(value)) {
            return MISSING;
        }
        double t = Math.max(0, Math.min(1, (value - lower) / (upper - lower))) * (STOPS.length - 1);
        int i = Math.min((int) t, STOPS.length - 2);
        double f = t - i;
        int a = STOPS[i];
        int b = STOPS[i + 1];
        return new Color(mix(a >> 16, b >> 16, f), mix(a >> 8, b >> 8, f), mix(a, b, f));
    }

    private static int mix(int a, int b, double f) {
        return (int) Math.round((a & 0xFF) * (1 - f) + (b & 0xFF) * f);
    }
}
