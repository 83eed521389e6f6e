package io.neuronmonkey.attribution;

import org.apache.commons.math3.analysis.integration.gauss.GaussIntegrator;
import org.apache.commons.math3.analysis.integration.gauss.GaussIntegratorFactory;

import java.util.Locale;
import java.util.Optional;

/**
 * How integrated gradients approximates the path integral over {@code alpha} in [0, 1]: the points where the gradient
 * is taken and their weights (the weights sum to 1, so a constant gradient is integrated exactly by every rule).
 */
enum PathRule {
    /** Left Riemann sum: {@code alpha = i / m}, i = 0..m-1. */
    LEFT("left"),
    /** Right Riemann sum: {@code alpha = i / m}, i = 1..m. */
    RIGHT("right"),
    /** Midpoint Riemann sum: {@code alpha = (i + 0.5) / m}. */
    MIDDLE("middle"),
    /** Trapezoid rule on {@code m} equally spaced points including both ends (m >= 2). */
    TRAPEZOID("trapezoid"),
    /** Gauss-Legendre quadrature with {@code m} nodes, mapped to [0, 1]. */
    GAUSS_LEGENDRE("gauss-legendre");

    /** The forms a rule may take, for messages. */
    static final String FORMS = "left, right, middle, trapezoid, gauss-legendre";

    private final String spec;

    PathRule(String spec) {
        this.spec = spec;
    }

    /**
     * @param s a rule as written in YAML
     * @return the rule, or empty when it is none of {@link #FORMS}
     */
    static Optional<PathRule> parse(String s) {
        if (s == null) {
            return Optional.empty();
        }
        String t = s.trim().toLowerCase(Locale.ROOT);
        for (PathRule r : values()) {
            if (r.spec.equals(t)) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    /** @return the rule as written in YAML */
    String spec() {
        return spec;
    }

    /**
     * @param m the number of points (gradient evaluations), >= 1 (>= 2 for the trapezoid)
     * @return {@code [alphas, weights]}, each of length m
     */
    double[][] points(int m) {
        double[] a = new double[m];
        double[] w = new double[m];
        switch (this) {
            case LEFT, RIGHT, MIDDLE -> {
                double shift = this == LEFT ? 0 : this == RIGHT ? 1 : 0.5;
                for (int i = 0; i < m; i++) {
                    a[i] = (i + shift) / m;
                    w[i] = 1.0 / m;
                }
            }
            case TRAPEZOID -> {
                if (m < 2) {
                    throw new IllegalArgumentException("the trapezoid rule needs at least 2 steps, found " + m);
                }
                for (int i = 0; i < m; i++) {
                    a[i] = (double) i / (m - 1);
                    w[i] = (i == 0 || i == m - 1 ? 0.5 : 1.0) / (m - 1);
                }
            }
            default -> {
                GaussIntegrator g = new GaussIntegratorFactory().legendre(m, 0, 1);
                for (int i = 0; i < m; i++) {
                    a[i] = g.getPoint(i);
                    w[i] = g.getWeight(i);
                }
            }
        }
        return new double[][] {a, w};
    }
}
