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
                if (m > LIBRARY_NODES) {
                    return newtonLegendre(m);
                }
                GaussIntegrator g = new GaussIntegratorFactory().legendre(m, 0, 1);
                for (int i = 0; i < m; i++) {
                    a[i] = g.getPoint(i);
                    w[i] = g.getWeight(i);
                }
            }
        }
        return new double[][] {a, w};
    }

    /**
     * Up to this many nodes the quadrature library gives the rule. It builds a rule of {@code m} nodes from every rule
     * below it, which costs of the order of {@code m^3}: minutes for the thousands of nodes that step doubling reaches.
     */
    static final int LIBRARY_NODES = 64;

    /**
     * Gauss-Legendre nodes and weights on [0, 1] by Newton's method on the Legendre polynomial (three-term recurrence),
     * each root started from its asymptotic estimate: of the order of {@code m^2} work.
     *
     * @param m the number of nodes, >= 1
     * @return {@code [alphas, weights]} in ascending order of alpha
     */
    static double[][] newtonLegendre(int m) {
        double[] a = new double[m];
        double[] w = new double[m];
        for (int i = 0; i < (m + 1) / 2; i++) {
            double x = Math.cos(Math.PI * (i + 0.75) / (m + 0.5));
            double dp = 0;
            for (int iter = 0; iter < 100; iter++) {
                double p0 = 1;
                double p1 = x;
                for (int k = 2; k <= m; k++) {
                    double p2 = ((2 * k - 1) * x * p1 - (k - 1) * p0) / k;
                    p0 = p1;
                    p1 = p2;
                }
                double pm = m == 1 ? x : p1;
                double pm1 = m == 1 ? 1 : p0;
                dp = m * (x * pm - pm1) / (x * x - 1);
                double dx = pm / dp;
                x -= dx;
                if (Math.abs(dx) < 1e-15) {
                    break;
                }
            }
            double weight = 2 / ((1 - x * x) * dp * dp);
            // x is the i-th largest root on [-1, 1]; map t = (1 + x) / 2 and halve the weight
            a[m - 1 - i] = (1 + x) / 2;
            w[m - 1 - i] = weight / 2;
            a[i] = (1 - x) / 2;
            w[i] = weight / 2;
        }
        return new double[][] {a, w};
    }
}
